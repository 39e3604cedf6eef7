package scheduler

import "github.com/gocrm/gocrm/cib"

// duplicateOp reports whether r defines another operation with op's name
// and interval: Pacemaker rejects such a pair as a configuration error and
// schedules neither of them as a recurring operation.
func duplicateOp(r *Resource, op *Op) bool {
	for _, o := range r.Ops {
		if o != op && o.Name == op.Name && o.Interval == op.Interval {
			return true
		}
	}
	return false
}

// promotableGroupInstance reports whether r is a group instance of a
// promotable clone: it gets promote, promoted, demote and demoted pseudo
// actions between the clone's and its members'.
func promotableGroupInstance(r *Resource) bool {
	return r.Kind == cib.KindGroup && r.Parent != nil && r.Parent.IsClone() && r.Parent.Promotable
}

// cancelForRole cancels recurring operation op of r on its node when the
// resource keeps running there (no restart) in a role op is not for (a role-less or
// Unpromoted monitor of an instance being promoted, a Promoted monitor of
// one being demoted) and the operation is active now.
func (cl *Cluster) cancelForRole(r *Resource, op *Op) {
	n := r.Assigned
	if n == nil || !r.runsOn(n) || !recurringSinceStart(r, n, op.Interval) {
		return
	}
	if st := cl.findAction(r, "start", n); st != nil && !st.Optional {
		return // restarting: the stop ends the monitor
	}
	for _, o := range r.Ops {
		if o != op && o.Name == op.Name && o.Interval == op.Interval && o.Role == r.NextRole {
			return // another definition with this interval runs in the new role
		}
	}
	if m := r.actions[actionMapKey("monitor", n, op.Interval)]; m != nil {
		// A monitor rescheduled for a definition change becomes the
		// cancel (same key), as Pacemaker's cancel takes its place.
		delete(r.actions, actionMapKey("monitor", n, op.Interval))
		m.Task, m.Optional, m.roleCancel = "cancel", false, true
		r.actions[actionMapKey("cancel", n, op.Interval)] = m
		return
	}
	cl.action(r, "cancel", n, op.Interval, false).roleCancel = true
}

// recurringSinceStart reports whether r's history on n shows a recurring
// monitor with this interval started after r's last start there (an older
// one ended with the restart).
func recurringSinceStart(r *Resource, n *Node, interval int64) bool {
	ops := r.opHistory[n.Name]
	from := 0
	for i, o := range ops {
		if (o.Operation == "start" || o.Operation == "migrate_from") && o.OpStatus == execDone {
			from = i
		}
	}
	for _, o := range ops[from:] {
		if o.Operation == "monitor" && o.Interval == interval && o.OpStatus != execCancelled {
			return true
		}
	}
	return false
}
