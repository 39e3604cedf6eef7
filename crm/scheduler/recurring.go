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

// createStoppedRecurring schedules r's recurring operations configured for
// the Stopped role (op role="Stopped") on every node except the one r is
// assigned to, where such an operation still running is cancelled. One
// already active on a node (in its history since the resource last started
// or stopped there) stays optional, unless a stop there comes first; on an
// unavailable node it cannot run. Anonymous clone instances have none, as
// in Pacemaker.
func (cl *Cluster) createStoppedRecurring(r *Resource) {
	if r.Parent != nil && r.Top().IsClone() && !r.Top().GloballyUnique {
		return
	}
	for _, op := range r.Ops {
		if op.Role != RoleStopped || op.Interval == 0 || !op.Enabled || duplicateOp(r, op) {
			continue
		}
		for _, n := range cl.Nodes {
			if n == r.Assigned {
				cl.cancelStoppedOn(r, n, op)
				continue
			}
			m := cl.action(r, op.Name, n, op.Interval, recurringActiveOn(r, n, op.Name, op.Interval))
			m.StoppedRole = true
			if !n.Online || n.Unclean {
				m.Runnable = false
			}
			cl.stoppedRecurring = append(cl.stoppedRecurring, m)
		}
	}
}

// cancelStoppedOn cancels a Stopped-role recurring operation still active on
// n, where r will run; r's start there waits for the cancel.
func (cl *Cluster) cancelStoppedOn(r *Resource, n *Node, op *Op) {
	if !recurringActiveOn(r, n, op.Name, op.Interval) {
		return
	}
	c := cl.action(r, "cancel", n, op.Interval, false)
	c.roleCancel = true
	if r.NextRole == RoleStarted || r.NextRole == RoleUnpromoted {
		if st := cl.findAction(r, "start", n); st != nil {
			cl.order(c, st, ordRunnableLeft)
		}
	}
}

// recurringActiveOn reports whether r's history on n (an online node) shows
// the recurring operation task/interval as active: recorded, not pending,
// and not older than r's last start or stop there.
func recurringActiveOn(r *Resource, n *Node, task string, interval int64) bool {
	return recurringActiveIndex(r, n, task, interval) >= 0
}

// recurringActiveIndex is recurringActiveOn giving the position (in call
// order) of the first history entry that shows the operation active, or -1.
func recurringActiveIndex(r *Resource, n *Node, task string, interval int64) int {
	if !n.Online {
		return -1
	}
	ops := r.opHistory[n.Name]
	start, stop := -1, -1
	for i, o := range ops {
		switch o.Operation {
		case "start", "migrate_from", "promote", "demote":
			start = i
		case "stop":
			if o.OpStatus == execDone {
				stop = i
			}
		}
	}
	for i, o := range ops {
		if start < stop && i <= stop || i < start {
			continue
		}
		if o.Operation == task && o.Interval == interval && o.OpStatus != execPending {
			return i
		}
	}
	return -1
}

// orderStoppedRecurring orders each Stopped-role recurring operation after
// r's probes and stops on its node: it must not run before the resource is
// known to be inactive there. A required stop makes it required (unless r
// is unmanaged), an unrunnable stop makes it unrunnable.
func (cl *Cluster) orderStoppedRecurring() {
	for _, m := range cl.stoppedRecurring {
		r, n := m.Rsc, m.Node
		if r.Managed {
			if p := r.actions[actionMapKey("monitor", n, 0)]; p != nil {
				cl.order(p, m, ordRunnableLeft)
			}
		}
		st := cl.findAction(r, "stop", n)
		if st == nil {
			continue
		}
		if !st.Optional && !m.Optional && !r.Managed {
			m.Optional = true
		}
		if !st.Runnable {
			m.Runnable = false
		}
		if r.Managed {
			cl.order(st, m, ordImpliesThen|ordRunnableLeft)
		}
	}
}

// HistoryIndex gives, for an action ActiveInHistory reports, the position
// in call order of the history entry it comes from (Pacemaker creates those
// actions in that order), or -1.
func (a *Action) HistoryIndex() int {
	if a.Rsc == nil || a.Node == nil || a.Interval == 0 {
		return -1
	}
	task := a.Task
	if task == "cancel" {
		task = "monitor"
	}
	return recurringActiveIndex(a.Rsc, a.Node, task, a.Interval)
}

// ActiveInHistory reports whether a is a recurring operation that its node's
// history shows active (see recurringActiveOn): Pacemaker creates such
// actions while unpacking the status, before any other.
// A cancel of such an operation is that same action (same operation key),
// turned into a cancel.
func (a *Action) ActiveInHistory() bool {
	if a.Rsc == nil || a.Node == nil || a.Interval == 0 {
		return false
	}
	task := a.Task
	if task == "cancel" {
		task = "monitor"
	}
	return recurringActiveOn(a.Rsc, a.Node, task, a.Interval)
}

// FromUnpack reports whether Pacemaker creates a while unpacking the status:
// a recurring operation active in the history (see ActiveInHistory), the
// clearing of an expired fail count, or the stop of a resource on a node
// where it failed and is to be recovered (not the stops of other active
// copies, which scheduling adds later).
func (a *Action) FromUnpack() bool {
	return a.unpacked || a.ActiveInHistory() ||
		(a.Task == "stop" && a.Rsc != nil && a.Node != nil && a.Rsc.unpackStopOn[a.Node.Name])
}

// markUnpackStop records that unpacking n's history creates r's stop there.
func (r *Resource) markUnpackStop(n *Node) {
	if r.unpackStopOn == nil {
		r.unpackStopOn = map[string]bool{}
	}
	r.unpackStopOn[n.Name] = true
}
