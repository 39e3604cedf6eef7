package daemon

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gocrm/gocrm/cib/store"
)

// failuresToKeep returns this node's fail-count-* and last-failure-*
// transient attributes when it re-announces itself while this crmd keeps
// running (quorum regained, marked offline by a DC): clearing the node's
// status must not forget failures, or a resource banned here by a failed
// start (fail-count INFINITY) would be tried again every time. On the first
// announcement of a crmd process nothing is kept: like Pacemaker's attribute
// manager, a restarted node starts with no failures.
func (d *Daemon) failuresToKeep() []store.Command {
	select {
	case <-d.joined:
	default:
		return nil
	}
	ns := nodeStateOf(d.store.Current(), d.cfg.Name)
	if ns == nil {
		return nil
	}
	var out []store.Command
	for _, s := range ns.Transient {
		for _, p := range s.Pairs {
			if strings.HasPrefix(p.Name, "fail-count-") || strings.HasPrefix(p.Name, "last-failure-") {
				out = append(out, store.Command{Op: store.OpSetNodeAttr, Node: d.cfg.Name, Name: p.Name, Value: p.Value, Transient: true})
			}
		}
	}
	// last-failure first: whoever sees a fail-count sees its time.
	sort.SliceStable(out, func(i, j int) bool {
		return strings.HasPrefix(out[i].Name, "last-failure-") && !strings.HasPrefix(out[j].Name, "last-failure-")
	})
	return out
}

// restoreFailures writes back what failuresToKeep returned, while the node
// is still recorded offline (so the DC cannot place anything here before
// the failures are back).
func (d *Daemon) restoreFailures(ctx context.Context, keep []store.Command) error {
	for _, c := range keep {
		if _, err := d.raft.Apply(ctx, c.Encode()); err != nil {
			return fmt.Errorf("restore %s: %w", c.Name, err)
		}
	}
	if len(keep) > 0 {
		d.log.Info("re-announcing with the failure counts kept", "attributes", len(keep))
	}
	return nil
}
