package simulate

import (
	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

// StatusText returns the crm_mon-style "Node List" and "Full List of
// Resources" item lines (bulleted and indented, without the section titles;
// a blank line separates the two lists) for an unpacked cluster, as the
// "Current cluster status" block shows them, pending operations included.
// It only reads cl and c; calls on unshared values are safe concurrently.
func StatusText(cl *scheduler.Cluster, c *cib.CIB) []string {
	return fancyLines(renderStatus(cl, c, true))
}

// StatusElements returns crm_mon's <nodes> and (when any resource is shown)
// <resources> elements for an unpacked cluster. It only reads cl and c.
func StatusElements(cl *scheduler.Cluster, c *cib.CIB) []*cib.Element {
	return statusXML("cluster_status", cl, c).Children
}

// InstanceCounts returns the number of configured primitive instances and
// how many of them are disabled and blocked, as crm_mon's summary counts
// them.
func InstanceCounts(cl *scheduler.Cluster) (instances, disabled, blocked int) {
	var r Result
	countInstances(cl.Resources, &r)
	return r.Instances, r.Disabled, r.Blocked
}

// ExitText returns Pacemaker's text for an OCF exit code ("error",
// "not running", ...; "unknown" for others).
func ExitText(rc int) string { return exitText(rc) }
