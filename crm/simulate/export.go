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
// Unlike crm_simulate's XML, a primitive with a pending operation reports
// the pending role (Starting, Stopping, ...) and a clone's failed flag is
// its own, not its instances'.
func StatusElements(cl *scheduler.Cluster, c *cib.CIB) []*cib.Element {
	root := statusXML("cluster_status", cl, c)
	s := &statusRenderer{cl: cl, facts: gatherFacts(c)}
	if ns := root.Child("nodes"); ns != nil {
		for _, e := range ns.Children {
			n := cl.NodeByName(e.Get("name"))
			if n == nil || !n.Online {
				continue
			}
			if fs := n.Attrs["#feature-set"]; fs != "" && e.Has("feature_set") {
				e.Set("feature_set", fs)
			}
		}
	}
	if rs := root.Child("resources"); rs != nil {
		i := 0
		for _, r := range cl.Resources {
			if r.Orphan && !active(r, true) {
				continue
			}
			if i < len(rs.Children) {
				s.monFixup(r, rs.Children[i])
			}
			i++
		}
	}
	return root.Children
}

// monFixup applies crm_mon's differences from crm_simulate to e, the
// element rendered for r.
func (s *statusRenderer) monFixup(r *scheduler.Resource, e *cib.Element) {
	target := s.targetRole(r)
	switch r.Kind {
	case cib.KindClone:
		e.Set("failed", boolStr(r.Failed))
		if target != "" && !e.Has("target_role") {
			e.Set("target_role", target)
		}
	case cib.KindPrimitive:
		if t, _ := s.pendingFor(r); pendingState(t) != "" {
			e.Set("role", pendingState(t))
		}
		if target != "" && !e.Has("target_role") {
			// crm_mon places it right after role.
			for i, a := range e.Attrs {
				if a.Name == "role" {
					e.Attrs = append(e.Attrs[:i+1], append([]cib.Attr{{Name: "target_role", Value: target}}, e.Attrs[i+1:]...)...)
					break
				}
			}
		}
		if n := s.lockNode(r); n != nil {
			e.Set("locked_to", n.Name)
		}
		for _, ne := range e.Children {
			if n := s.cl.NodeByName(ne.Get("name")); n != nil {
				ne.Set("cached", boolStr(n.Online))
			}
		}
		return
	}
	for i, ch := range r.Children {
		if i < len(e.Children) {
			s.monFixup(ch, e.Children[i])
		}
	}
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

// targetRole is the resource's effective target-role meta attribute,
// resource defaults included ("" when unset).
func (s *statusRenderer) targetRole(r *scheduler.Resource) string {
	if v := r.Meta["target-role"]; v != "" {
		return v
	}
	for _, set := range s.cl.CIB.Config.RscDefaults {
		if len(set.Rules) > 0 {
			continue
		}
		for _, p := range set.Pairs {
			if p.Name == "target-role" {
				return p.Value
			}
		}
	}
	return ""
}
