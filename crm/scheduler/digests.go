package scheduler

import (
	"errors"
	"strings"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/digest"
)

// checkDefinitions compares the recorded operation digests of every active
// resource with its current definition, as Pacemaker's check_actions does:
// a changed definition restarts (or reloads) the resource, reschedules a
// changed recurring monitor, cancels recurring operations that are no
// longer configured, and clears the fail count of a changed operation.
func (cl *Cluster) checkDefinitions() {
	cfg := digest.Config{CIB: &cl.CIB.Config, Index: cl.Index, Now: cl.Now}
	opts := digest.Options{Sanitized: cl.Sanitized, CIBFeatureSet: cl.CIB.GetAttr("crm_feature_set")}
	cl.deleteOtherAgentHistory()
	for _, r := range cl.primitives {
		if r.Orphan {
			cl.deleteOrphanHistory(r)
			continue
		}
		if r.Def == nil {
			continue
		}
		if !r.Managed {
			cl.maintenanceCancels(r)
			if cl.MaintenanceMode || isTrue(r.Meta["maintenance"]) {
				continue
			}
		}
		for _, n := range r.RunningOn {
			if !r.Managed && n.Maintenance {
				continue // maintenanceCancels did it
			}
			if !historyCheckedOn(n) {
				continue
			}
			ops := r.opHistory[n.Name]
			start := 0
			for i, op := range ops {
				if (op.Operation == "start" || op.Operation == "migrate_from") && (op.OpStatus == execDone || op.OpStatus == execPending) {
					start = i
				}
			}
			changed := false
			for _, op := range ops[start:] {
				if op.OpStatus == execCancelled || (op.OpStatus == execPending && op.Operation != "start") {
					continue
				}
				if op.Interval == 0 && op.Operation != "monitor" && op.Operation != "start" && op.Operation != "promote" && op.Operation != "migrate_from" {
					continue
				}
				in, err := digest.FromCIB(cfg, digest.NodeAttrs(n.Attrs), r.BaseID, op.Operation, op.Interval)
				if errors.Is(err, digest.ErrOrphanOp) {
					if cl.StopOrphanActions {
						r.cancels = append(r.cancels, cancelOp{node: n, interval: op.Interval, task: op.Operation})
						r.early = append(r.early, earlyAction{task: "cancel", node: n, interval: op.Interval})
					}
					continue
				}
				if err != nil {
					continue
				}
				act, _ := digest.Check(in, digest.RecordedFromLRMOp(op), opts)
				if op.Interval > 0 && opFailed(op) && cl.failureExpired(r, n, op) {
					// An expired failure of a recurring operation is
					// rescheduled, as Pacemaker does by invalidating the
					// operation's restart digest.
					act = digest.Reschedule
				}
				opChanged := true
				switch act {
				case digest.ForceRestart:
					r.defChange = true
					r.early = append(r.early, earlyAction{task: "start"})
					if r.IsStonith {
						r.early = append(r.early, earlyAction{task: "unfence", node: n, reason: "Device parameters changed"})
					}
				case digest.Reload:
					if r.startPending {
						// A definition changed while the start was
						// pending: a full restart instead of a reload.
						r.early = append(r.early, earlyAction{task: "stop", node: n})
						break
					}
					r.reload = true
					r.early = append(r.early, earlyAction{task: "reload-agent", node: n})
				case digest.Reschedule:
					r.reschedule = append(r.reschedule, op.Interval)
					r.rescheduleOn = append(r.rescheduleOn, rescheduleOp{node: n, interval: op.Interval})
					r.early = append(r.early, earlyAction{task: "monitor", node: n, interval: op.Interval})
				default:
					opChanged = false
				}
				if opChanged {
					changed = true
					if cl.FailCount(r, n) > 0 {
						r.early = append(r.early, earlyAction{task: "clear_failcount", node: n})
					}
				}
			}
			if changed && cl.FailCount(r, n) > 0 {
				r.clearFailcount = append(r.clearFailcount, n)
			}
		}
	}
}

// historyCheckedOn reports whether Pacemaker checks the resource histories
// recorded on n against the configuration: only on nodes that can run
// resources, or are in maintenance.
func historyCheckedOn(n *Node) bool {
	return n.Maintenance || (n.Online && !n.Shutdown && !n.Unclean && !n.Standby)
}

type cancelOp struct {
	node     *Node
	interval int64
	task     string
}

// earlyDefinitionActions creates, before the resource's normal actions (so
// with older ids, as in Pacemaker), the actions the definition check
// decided: a node-less required start, rescheduled monitors, cancels and
// fail-count clearing.
func (cl *Cluster) earlyDefinitionActions(r *Resource) {
	if r.defChange {
		r.reload = false
	}
	// In the order Pacemaker creates them while checking each history entry.
	first := len(r.actionList)
	defer func() {
		for _, a := range r.actionList[first:] {
			a.early = true
		}
	}()
	for _, e := range r.early {
		switch e.task {
		case "start":
			st := cl.action(r, "start", nil, 0, false)
			st.adoptable = true
			st.setReason("resource definition change", true)
		case "stop":
			cl.action(r, "stop", e.node, 0, false)
		case "reload-agent":
			if r.reload {
				cl.action(r, "reload-agent", e.node, 0, false)
			}
		case "monitor":
			// Optional until the resource is known to stay on that node.
			cl.action(r, "monitor", e.node, e.interval, true)
		case "cancel":
			// The cancel takes over the recurring monitor's action (same
			// key), keeping its id, as Pacemaker's cancel actions do.
			mk := actionMapKey("monitor", e.node, e.interval)
			if m, ok := r.actions[mk]; ok {
				delete(r.actions, mk)
				m.Task = "cancel"
				m.Optional = false
				r.actions[actionMapKey("cancel", e.node, e.interval)] = m
			} else {
				cl.action(r, "cancel", e.node, e.interval, false)
			}
		case "clear_failcount":
			cl.action(r, "clear_failcount", e.node, 0, false)
		case "delete":
			cl.action(r, "delete", e.node, 0, false)
		case "unfence":
			cl.triggerUnfencing(e.node, e.reason)
		}
	}
	for _, c := range r.cancels {
		cl.action(r, "cancel", c.node, c.interval, false)
	}
	for _, n := range r.lockExpiredOn {
		// The DC deletes the history itself, even for an offline node.
		cl.action(r, "lrm_delete", n, 0, false).Runnable = true
	}
	for _, n := range cl.Nodes {
		if r.agentChanged[n.Name] && historyCheckedOn(n) {
			if r.IsStonith {
				cl.triggerUnfencing(n, "Device definition changed")
			}
			if r.runsOn(n) {
				// The restart's stop comes first, then the clean-up.
				cl.action(r, "stop", n, 0, false)
			}
			cl.action(r, "delete", n, 0, false)
			if cl.rawFailCount(r, n) > 0 {
				// Found while unpacking the history, before the
				// deletion.
				cl.action(r, "clear_failcount", n, 0, false).unpacked = true
			}
		}
	}
	for _, n := range r.clearFailcount {
		cl.action(r, "clear_failcount", n, 0, false)
	}
	for _, n := range r.expiredOn {
		cl.action(r, "clear_failcount", n, 0, false)
	}
}

// definitionActions adds the actions decided by checkDefinitions once the
// resource's normal actions exist.
func (cl *Cluster) definitionActions(r *Resource) {
	// A history deletion comes after the resource's stops and before its
	// starts, wherever they are (Pacemaker orders them resource-wide).
	for _, d := range cl.findActions(r, "delete") {
		for _, st := range cl.findActions(r, "stop") {
			cl.order(st, d, ordOptional)
		}
		for _, st := range cl.findActions(r, "start") {
			cl.order(d, st, ordOptional)
		}
	}
	if r.defChange {
		if st := cl.findAction(r, "start", nil); st != nil && st.Node == nil {
			// The resource is not starting anywhere: drop the request.
			st.Optional = true
			st.Runnable = false
		}
		r.reload = false
	}
	if r.reload && r.Assigned != nil && len(r.RunningOn) == 1 && r.RunningOn[0] == r.Assigned {
		rl := cl.action(r, "reload-agent", r.Assigned, 0, false)
		rl.Optional = false
		for _, a := range r.actionList {
			if a.Task == "monitor" && a.Interval > 0 && a.Node == r.Assigned {
				cl.order(rl, a, ordOptional)
			}
		}
		if st := cl.findAction(r, "stop", r.Assigned); st != nil {
			// A required stop cancels the reload.
			cl.order(st, rl, ordOptional|ordThenCancelsFirst)
		}
	} else {
		r.reload = false
		for _, a := range r.actionList {
			if a.Task == "reload-agent" {
				a.Optional = true
			}
		}
	}
	for _, iv := range r.reschedule {
		if r.Assigned == nil {
			continue
		}
		for _, a := range r.actionList {
			if a.Task == "monitor" && a.Interval == iv && a.Node == r.Assigned {
				a.Optional = false
			}
		}
	}
	// A cancel waits for the resource's stops (Pacemaker's CancelXmlOp).
	for _, a := range r.actionList {
		if a.Task != "cancel" || a.roleCancel {
			continue
		}
		for _, st := range cl.findActions(r, "stop") {
			cl.order(st, a, ordOptional)
		}
	}
}

type earlyAction struct {
	task     string
	node     *Node
	interval int64
	reason   string
}

type rescheduleOp struct {
	node     *Node
	interval int64
}

var _ = cib.Infinity

// maintenanceCancels cancels the recurring operations of resources in
// maintenance (cluster, node or resource level).
func (cl *Cluster) maintenanceCancels(r *Resource) {
	maint := cl.MaintenanceMode || isTrue(r.Meta["maintenance"])
	for _, n := range r.RunningOn {
		if !maint && !n.Maintenance {
			continue
		}
		if !historyCheckedOn(n) {
			continue
		}
		ops := r.opHistory[n.Name]
		start := 0
		for i, op := range ops {
			if (op.Operation == "start" || op.Operation == "migrate_from") && op.OpStatus == execDone {
				start = i
			}
		}
		for _, op := range ops[start:] {
			if op.Interval > 0 && op.OpStatus != execCancelled && op.OpStatus != execPending {
				r.cancels = append(r.cancels, cancelOp{node: n, interval: op.Interval, task: op.Operation})
			}
		}
	}
}

// opFailed reports whether a completed history entry records a failure: an
// execution error, timeout or other non-done status, or an unexpected rc.
func opFailed(op *cib.LRMOp) bool {
	return op.OpStatus != execDone || op.RCCode != targetRCOrDefault(op)
}

// expiredFailcountClears schedules clear_failcount on each online node where
// r's fail count has expired (failure-timeout passed since its last failure)
// but is still recorded, found while walking the node's history as Pacemaker
// does: an entry at least failure-timeout old triggers it.
func (cl *Cluster) expiredFailcountClears(r *Resource) {
	cl.changedFailureClears(r)
	if r.FailureTimeout <= 0 {
		return
	}
	for _, n := range cl.Nodes {
		if !n.Online || cl.rawFailCount(r, n) <= 0 || cl.FailCount(r, n) > 0 {
			continue
		}
		blocked := false
		for _, op := range r.opHistory[n.Name] {
			if opFailed(op) && cl.onFailFor(r, op) == "block" {
				blocked = true // on-fail=block: failure-timeout does not apply
			}
		}
		if blocked {
			continue
		}
		for _, op := range r.opHistory[n.Name] {
			last := op.LastRCChange
			if last == 0 {
				last = op.LastRun
			}
			if last > 0 && cl.Now.Unix() >= last+r.FailureTimeout {
				cl.action(r, "clear_failcount", n, 0, false).unpacked = true
				break
			}
		}
	}
}

// orphanFailcountClears clears the fail counts of orphaned resources (no
// longer configured) on every online node, before they stop, as Pacemaker
// does when stop-orphan-resources is set.
func (cl *Cluster) orphanFailcountClears() {
	if !cl.StopOrphanResources {
		return
	}
	for _, r := range cl.primitives {
		if !r.Orphan || r.Parent != nil {
			continue
		}
		for _, n := range cl.Nodes {
			if !n.Online || cl.FailCount(r, n) == 0 {
				continue
			}
			c := cl.action(r, "clear_failcount", n, 0, false)
			c.orphanClear = true
			for _, st := range cl.findActions(r, "stop") {
				cl.order(c, st, ordOptional)
			}
		}
	}
}

// OrphanClear reports whether a clears the fail count of an orphaned
// resource, which Pacemaker schedules after probes and before the
// resources' own actions.
func (a *Action) OrphanClear() bool { return a.orphanClear }

// deleteOrphanHistory schedules the deletion of an orphaned resource's
// history (lrm_delete) on every node that can run resources and has some,
// after any stop there, as Pacemaker's definition checks do. Orphaned
// instances of anonymous clones and failed orphans keep theirs.
func (cl *Cluster) deleteOrphanHistory(r *Resource) {
	if top := r.Top(); top != r && top.IsClone() && !top.GloballyUnique {
		return
	}
	if r.Failed {
		return
	}
	for _, n := range cl.Nodes {
		if _, ok := r.opHistory[n.Name]; !ok {
			continue
		}
		if !n.Maintenance && (!n.Online || n.Shutdown || n.Unclean || n.Standby) {
			continue
		}
		r.early = append(r.early, earlyAction{task: "delete", node: n})
	}
}

// changedFailureClears schedules clear_failcount on each online node whose
// recorded last failure of a start or monitor was for other parameters than
// the resource has now, as Pacemaker does while unpacking the status (the
// failure no longer says anything about the current definition).
func (cl *Cluster) changedFailureClears(r *Resource) {
	if r.Orphan || r.Def == nil {
		return
	}
	cfg := digest.Config{CIB: &cl.CIB.Config, Index: cl.Index, Now: cl.Now}
	opts := digest.Options{Sanitized: cl.Sanitized, CIBFeatureSet: cl.CIB.GetAttr("crm_feature_set")}
	for _, n := range cl.Nodes {
		if !n.Online {
			continue
		}
		for _, op := range r.opHistory[n.Name] {
			if !strings.HasSuffix(op.ID, "_last_failure_0") || (op.Operation != "start" && op.Operation != "monitor") {
				continue
			}
			if cl.failureExpired(r, n, op) {
				continue // expired: handled by expiredFailcountClears
			}
			in, err := digest.FromCIB(cfg, digest.NodeAttrs(n.Attrs), r.BaseID, op.Operation, op.Interval)
			if err != nil {
				continue
			}
			switch digest.Compare(in, digest.RecordedFromLRMOp(op), opts).Result {
			case digest.Mismatch, digest.Restart:
				cl.action(r, "clear_failcount", n, 0, false).unpacked = true
			}
		}
	}
}

// deleteOtherAgentHistory deletes, on nodes that can run resources, a
// history entry recorded for another agent (class, provider or type) by a
// resource that is not active there. Like Pacemaker's definition check, it
// finds the resource by the entry's id: the resource's own id, or the
// history id an anonymous clone instance was last found under.
func (cl *Cluster) deleteOtherAgentHistory() {
	byHistoryID := map[string][]*Resource{}
	for _, r := range cl.primitives {
		if r.Orphan {
			continue
		}
		byHistoryID[r.ID] = append(byHistoryID[r.ID], r)
		if r.cloneName != "" && r.cloneName != r.ID {
			byHistoryID[r.cloneName] = append(byHistoryID[r.cloneName], r)
		}
	}
	for _, ns := range cl.CIB.Status.Nodes {
		n := cl.stateNode(ns)
		if n == nil || (!n.Maintenance && (!n.Online || n.Shutdown || n.Unclean || n.Standby)) {
			continue
		}
		for _, lr := range ns.Resources {
			if len(lr.Ops) == 0 || lr.Type == "" {
				continue
			}
			for _, r := range byHistoryID[lr.ID] {
				if r.runsOn(n) {
					continue
				}
				if lr.Type != r.Type || lr.Class != r.Class || lr.Provider != r.Provider {
					r.early = append(r.early, earlyAction{task: "delete", node: n})
				}
			}
		}
	}
}
