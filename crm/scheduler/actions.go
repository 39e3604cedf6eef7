package scheduler

import (
	"strconv"

	"github.com/gocrm/gocrm/cib"
)

// Action is one step of the transition.
type Action struct {
	ID       int
	Rsc      *Resource // nil for node actions (fencing)
	Task     string    // start, stop, monitor, promote, demote, running, stopped, promoted, demoted, stonith, ...
	Node     *Node
	Interval int64
	Pseudo   bool
	Optional bool
	Runnable bool
	Reason   string
	// FenceAction is reboot, off or on for stonith actions.
	FenceAction string
	// Needs: nothing, quorum, fencing.
	needs string
	// orphanClear marks the clearing of an orphan's fail count.
	orphanClear bool
	// unpacked marks an action Pacemaker creates while unpacking the
	// status (clearing an expired fail count).
	unpacked bool
	// early marks an action created by the checks of the resource's
	// history against its definition, before probes and other actions.
	early bool
	// StoppedRole marks a recurring monitor configured for the Stopped
	// role (op role="Stopped"): it runs where the resource must not, and
	// succeeds when the agent reports "not running" (rc 7).
	StoppedRole bool

	before []*edge // orderings where this action is "then"
	after  []*edge // orderings where this action is "first"
	// printAlways puts an optional action in the graph anyway.
	printAlways bool
	// adoptable marks a node-less action created before assignment.
	adoptable bool
	// requiredBefore > 0 marks a one-or-more pseudo action: it is runnable
	// once that many of its inputs are runnable.
	requiredBefore int
	// key overrides the operation key (notification actions).
	key string
	// roleCancel marks the cancel of a recurring operation for another
	// role, which does not wait for the resource's stops.
	roleCancel bool
	// NotifyMeta holds, for clone notifications, the meta data the runtime
	// passes to the agent as OCF_RESKEY_CRM_meta_<name>: notify_type,
	// notify_operation, notify_key_type, notify_key_operation and the
	// notify_<list>_resource / notify_<list>_uname lists (start, stop,
	// promote, demote, active, inactive, promoted, unpromoted, master,
	// slave, all, available; " " when empty). The clone's start, stop,
	// promote and demote actions carry the lists too. Nil otherwise.
	NotifyMeta map[string]string
}

type edge struct {
	first, then *Action
	flags       int
}

// Early reports whether a was created while checking the resource's
// history against its definition (parameter and digest checks), which
// Pacemaker does after unpacking the status and before scheduling probes.
func (a *Action) Early() bool { return a.early }

// Key returns the Pacemaker operation key (rsc_task_interval).
func (a *Action) Key() string {
	if a.key != "" {
		return a.key
	}
	if a.Rsc == nil {
		return a.Task
	}
	return a.Rsc.ID + "_" + a.Task + "_" + strconv.FormatInt(a.Interval, 10)
}

func (a *Action) String() string {
	n := ""
	if a.Node != nil {
		n = " on " + a.Node.Name
	}
	return a.Key() + n
}

func actionMapKey(task string, n *Node, interval int64) string {
	k := task + "_" + strconv.FormatInt(interval, 10)
	if n != nil {
		k += "@" + n.Name
	}
	return k
}

// newAction finds or creates an action for r.
func (cl *Cluster) action(r *Resource, task string, n *Node, interval int64, optional bool) *Action {
	k := actionMapKey(task, n, interval)
	if a, ok := r.actions[k]; ok {
		if !optional && a.Optional {
			a.Optional = false
		}
		return a
	}
	if n != nil {
		// An action created before assignment without a node is adopted
		// by the first request for a node, as Pacemaker does.
		if a, ok := r.actions[actionMapKey(task, nil, interval)]; ok && a.adoptable {
			delete(r.actions, actionMapKey(task, nil, interval))
			a.Node = n
			a.adoptable = false
			r.actions[k] = a
			if !optional {
				a.Optional = false
			}
			a.Runnable = true
			cl.updateRunnable(a)
			return a
		}
	}
	a := &Action{ID: cl.nextActionID, Rsc: r, Task: task, Node: n, Interval: interval, Optional: optional, Runnable: true}
	cl.nextActionID++
	r.actions[k] = a
	r.actionList = append(r.actionList, a)
	cl.Actions = append(cl.Actions, a)
	if r.Kind != cib.KindPrimitive {
		a.Pseudo = true
	}
	if r.Kind == cib.KindPrimitive {
		cl.updateRunnable(a)
	}
	return a
}

func (cl *Cluster) findAction(r *Resource, task string, n *Node) *Action {
	if r == nil {
		return nil
	}
	if a := r.actions[actionMapKey(task, n, 0)]; a != nil {
		return a
	}
	return nil
}

func (cl *Cluster) findActions(r *Resource, task string) []*Action {
	var out []*Action
	for _, a := range r.actionList {
		if a.Task == task && a.Interval == 0 && a.key == "" {
			out = append(out, a)
		}
	}
	return out
}

func (a *Action) setReason(reason string, overwrite bool) {
	if a.Reason == "" || overwrite {
		a.Reason = reason
	}
}

// updateRunnable applies node and quorum checks to a new primitive action.
func (cl *Cluster) updateRunnable(a *Action) {
	r := a.Rsc
	switch a.Task {
	case "start", "promote":
		a.needs = r.Requires
	default:
		a.needs = "nothing"
	}
	if a.Pseudo {
		return
	}
	if a.Node == nil {
		a.Runnable = false
		return
	}
	if !a.Node.Online || a.Node.Unclean || (a.Node.Pending && a.Task != "stop") {
		a.Runnable = false
		return
	}
	if !r.Managed && a.Interval == 0 && a.Task != "stop" && a.Task != "monitor" && a.Task != "cancel" {
		// Non-recurring actions of unmanaged resources are forced optional;
		// they stay runnable so they do not block other resources.
		a.Optional = true
	}
	if a.needs == "nothing" {
		return
	}
	if !cl.HaveQuorum {
		switch cl.NoQuorumPolicy {
		case "stop", "demote":
			a.Runnable = false
			a.setReason("no quorum", true)
		case "freeze":
			cur := r.Role
			if cur == RoleStarted && r.NextRole == RoleUnpromoted {
				cur = RoleUnpromoted // a running promotable instance is unpromoted
			}
			if !r.Active() || roleRank(r.NextRole) > roleRank(cur) {
				a.Runnable = false
				a.setReason("quorum freeze", true)
			}
		case "suicide":
			a.Runnable = false
			a.setReason("no quorum", true)
		}
	}
}

// flag changes with reasons, as Pacemaker's pe_action_set_flag_reason.
func implyRequired(a, by *Action) bool {
	if !a.Optional {
		return false
	}
	a.Optional = false
	if by != nil && by.Rsc != a.Rsc {
		a.setReason(reasonText("required", by), false)
	}
	return true
}

func implyUnrunnable(a, by *Action) bool {
	if !a.Runnable {
		return false
	}
	a.Runnable = false
	if by != nil && by.Rsc != a.Rsc {
		a.setReason(reasonText("unrunnable", by), false)
	}
	return true
}

func reasonText(change string, by *Action) string {
	if by.Rsc == nil {
		return change + " " + by.Task
	}
	return change + " " + by.Rsc.ID + " " + by.Task
}

func (cl *Cluster) order(first, then *Action, flags int) {
	if first == nil || then == nil || first == then {
		return
	}
	for _, e := range first.after {
		if e.then == then {
			e.flags |= flags
			return
		}
	}
	e := &edge{first: first, then: then, flags: flags}
	first.after = append(first.after, e)
	then.before = append(then.before, e)
}

// ---- per-resource action creation ----

func (cl *Cluster) createActions(r *Resource) {
	switch r.Kind {
	case cib.KindGroup:
		cl.createCollectiveActions(r)
	case cib.KindClone:
		cl.createCollectiveActions(r)
	default:
		cl.createPrimitiveActions(r)
	}
}

func (cl *Cluster) createCollectiveActions(r *Resource) {
	for _, c := range r.Children {
		cl.createActions(c)
	}
	// Pseudo actions: start/running, stop/stopped (+ promote/demote for promotable).
	anyStart, anyStop := false, false
	startRunnable := false
	anyStartRunnable := false
	for _, p := range r.Primitives() {
		for _, a := range p.actionList {
			if a.Interval != 0 {
				continue
			}
			switch a.Task {
			case "start":
				if !a.Optional {
					anyStart = true
				}
				if a.Runnable {
					anyStartRunnable = true
				}
			case "stop":
				if !a.Optional {
					anyStop = true
				}
			}
		}
	}
	startRunnable = anyStartRunnable || !anyStart
	start := cl.action(r, "start", nil, 0, !anyStart)
	running := cl.action(r, "running", nil, 0, !anyStart)
	stop := cl.action(r, "stop", nil, 0, !anyStop)
	stopped := cl.action(r, "stopped", nil, 0, !anyStop)
	_ = startRunnable
	for _, a := range []*Action{start, running, stop, stopped} {
		a.Pseudo = true
	}
	if (r.IsClone() && r.Promotable) || promotableGroupInstance(r) {
		anyPromote, anyDemote := false, false
		for _, p := range r.Primitives() {
			for _, a := range p.actionList {
				if a.Task == "promote" && !a.Optional {
					anyPromote = true
				}
				if a.Task == "demote" && !a.Optional {
					anyDemote = true
				}
			}
		}
		for _, t := range []string{"promote", "promoted"} {
			cl.action(r, t, nil, 0, !anyPromote).Pseudo = true
		}
		for _, t := range []string{"demote", "demoted"} {
			cl.action(r, t, nil, 0, !anyDemote).Pseudo = true
		}
	}
	if notifiesAsClone(r) {
		cl.createNotifyBoundaries(r)
	}
}

func (cl *Cluster) createPrimitiveActions(r *Resource) {
	if r.NextRole == RoleUnknown {
		if r.Assigned != nil {
			r.NextRole = RoleStarted
		} else {
			r.NextRole = RoleStopped
		}
	}
	if r.Assigned == nil {
		r.NextRole = RoleStopped
	}
	if r.NextRole == RoleStarted && r.Parent != nil && r.Top().Promotable {
		r.NextRole = RoleUnpromoted
	}
	current := r.activeNode()
	needStop, needPromote, moving := false, false, false
	if current != nil && r.Assigned != nil && current != r.Assigned && roleRank(r.NextRole) >= roleRank(RoleStarted) {
		moving, needStop = true, true
	}
	clean := 0
	for _, n := range r.RunningOn {
		if n.Online && !n.Unclean {
			clean++
		}
	}
	if clean > 1 && r.MultipleActive != "block" {
		needStop = true
	}
	// multiple-active=stop_unexpected: the copy on the node the resource is
	// assigned to keeps running (its start is a pseudo action); only the
	// others stop.
	r.stopUnexpected = clean > 1 && r.MultipleActive == "stop_unexpected" &&
		roleRank(r.NextRole) > roleRank(RoleStopped) && r.Assigned != nil && r.runsOn(r.Assigned)
	if r.startPending && r.Assigned != nil {
		// The start already in progress is in the graph, so that what
		// must follow it waits for it.
		cl.action(r, "start", r.Assigned, 0, true).printAlways = true
	}
	role := r.Role
	if role == RoleStarted && r.Parent != nil && r.Top().Promotable {
		role = RoleUnpromoted
	}
	if !moving {
		switch {
		case r.Failed && r.Managed:
			if r.onFail == "demote" {
				if r.NextRole == RolePromoted {
					needPromote = true
				}
			} else {
				needStop = true
			}
		case r.Blocked:
			needStop = true
		}
	}
	if current != nil && r.forceStopOn[current.Name] {
		needStop = true
	}
	// Bring down to stopped on current node(s).
	cur := role
	for cur != RoleStopped {
		next := stepDown(cur)
		cl.transition(r, cur, next, current, !needStop)
		cur = next
	}
	// Bring back up to the current role on the next node.
	if roleRank(role) <= roleRank(r.NextRole) && !r.Blocked {
		cur = RoleStopped
		for cur != role {
			next := stepUp(cur, role)
			req := needStop
			if next == RolePromoted && needPromote {
				req = true
			}
			cl.transition(r, cur, next, r.Assigned, !req)
			cur = next
		}
	}
	// Then to the next role.
	cur = role
	for cur != r.NextRole {
		next := roleToward(cur, r.NextRole)
		if next == cur {
			break
		}
		cl.transition(r, cur, next, r.Assigned, false)
		cur = next
	}
	cl.createRecurring(r)
}

// roleToward returns the role that comes right after from on the way to
// the target role, as Pacemaker's role matrix has it: a promoted resource
// is demoted first, and an unpromoted one reaches Started only through
// Stopped. (An unknown target role steps down one role; from an unknown
// role the target is reached at once.)
func roleToward(from, to string) string {
	switch to {
	case RoleStopped, RoleStarted, RoleUnpromoted, RolePromoted:
	default:
		return stepDown(from)
	}
	switch from {
	case RoleStopped:
		if to == RoleUnpromoted || to == RolePromoted {
			return RoleUnpromoted
		}
		return to
	case RoleStarted:
		return to
	case RoleUnpromoted:
		if to == RoleStarted {
			return RoleStopped
		}
		return to
	case RolePromoted:
		if to == RolePromoted {
			return to
		}
		return RoleUnpromoted
	}
	return to
}

func stepDown(role string) string {
	switch role {
	case RolePromoted:
		return RoleUnpromoted
	}
	return RoleStopped
}

func stepUp(from, to string) string {
	switch from {
	case RoleStopped:
		if to == RoleStarted {
			return RoleStarted
		}
		return RoleUnpromoted
	case RoleStarted:
		if to == RolePromoted {
			return RoleUnpromoted
		}
		return to
	case RoleUnpromoted:
		if to == RolePromoted {
			return RolePromoted
		}
		return to
	}
	return to
}

// transition creates the action taking r from one role to an adjacent one.
func (cl *Cluster) transition(r *Resource, from, to string, n *Node, optional bool) {
	switch {
	case to == RoleStopped:
		for _, node := range r.RunningOn {
			if r.stopUnexpected && node == r.Assigned {
				continue
			}
			st := cl.action(r, "stop", node, 0, optional)
			if r.Assigned == nil {
				st.setReason("node availability", true)
			}
			if !r.Managed {
				st.Runnable = false
				st.Optional = true
			}
		}
	case from == RoleStopped:
		if n == nil {
			return
		}
		st := cl.action(r, "start", n, 0, true)
		if st.Runnable && !optional && r.Managed {
			// (An unmanaged resource's start stays optional.)
			st.Optional = false
		}
		cl.orderVsUnfence(r, n, st, ordImpliesThen)
		if r.stopUnexpected && n == r.Assigned {
			st.Pseudo = true
			st.setReason("being multiply active", true)
		}
	case to == RolePromoted:
		if n != nil {
			cl.action(r, "promote", n, 0, optional)
		}
	case from == RolePromoted:
		// Pacemaker demotes on every node the resource is active on.
		if len(r.RunningOn) == 0 && n != nil {
			cl.action(r, "demote", n, 0, optional)
		}
		for _, node := range r.RunningOn {
			cl.action(r, "demote", node, 0, optional)
		}
	}
}

// createRecurring schedules r's recurring operations: those for the role it
// will have on its assigned node, and those for the Stopped role on every
// other node. Blocked resources and resources in maintenance get none.
func (cl *Cluster) createRecurring(r *Resource) {
	if r.Blocked || cl.MaintenanceMode || isTrue(r.Meta["maintenance"]) {
		return
	}
	cl.createActiveRecurring(r)
	cl.createStoppedRecurring(r)
}

// createActiveRecurring schedules recurring monitors for the next role on
// the assigned node.
func (cl *Cluster) createActiveRecurring(r *Resource) {
	if r.Assigned == nil {
		return
	}
	start := cl.findAction(r, "start", r.Assigned)
	moving := start != nil && !start.Optional
	for _, op := range r.Ops {
		if op.Name != "monitor" || op.Interval == 0 || !op.Enabled || duplicateOp(r, op) {
			continue
		}
		role := op.Role
		if role == "" {
			if r.NextRole == RolePromoted {
				cl.cancelForRole(r, op)
				continue
			}
		} else if role == RoleStopped {
			continue
		} else if role != r.NextRole && !(role == RoleUnpromoted && r.NextRole == RoleStarted) {
			cl.cancelForRole(r, op)
			continue
		}
		optional := !moving && recurringActiveOn(r, r.Assigned, op.Name, op.Interval)
		if r.NextRole == RolePromoted || role == RolePromoted {
			if p := cl.findAction(r, "promote", r.Assigned); p != nil && !p.Optional {
				optional = false
			}
		}
		if role == RoleUnpromoted || (role == "" && r.Parent != nil && r.Top().Promotable) {
			if d := cl.findAction(r, "demote", r.Assigned); d != nil && !d.Optional {
				optional = false
			}
		}
		m := cl.action(r, "monitor", r.Assigned, op.Interval, optional)
		if !r.Managed {
			// An unmanaged resource's monitor is not ordered after its
			// start; it takes the start's runnability as it is now.
			if start != nil && !start.Runnable {
				m.Runnable = false
			}
			continue
		}
		if start != nil {
			cl.order(start, m, ordImpliesThen|ordRunnableLeft)
		}
		// A monitor for the new role waits for the role change.
		switch {
		case r.NextRole == RolePromoted:
			for _, p := range cl.findActions(r, "promote") {
				cl.order(p, m, ordOptional|ordRunnableLeft)
			}
		case r.Role == RolePromoted:
			for _, d := range cl.findActions(r, "demote") {
				cl.order(d, m, ordOptional|ordRunnableLeft)
			}
		}
	}
}

func (cl *Cluster) createProbes() {
	siblings := map[probeGroupKey]*probeGroup{}
	for _, r := range cl.primitives {
		if r.Orphan || r.container != nil {
			// A resource inside a container is not probed: it can only
			// run where its container does.
			continue
		}
		var pg *probeGroup
		if ca := cloneAncestor(r); ca != nil {
			k := probeGroupKey{ca, r.BaseID}
			if pg = siblings[k]; pg == nil {
				pg = newProbeGroup(ca, r.BaseID)
				siblings[k] = pg
			}
		}
		for _, n := range cl.Nodes {
			if !n.Online || n.Unclean || r.knownOn[n.Name] || r.discoverNever[n.Name] {
				continue
			}
			// For anonymous clones, probe once per node using a single instance.
			if pg != nil && pg.probedOn(r, n) {
				continue
			}
			p := cl.action(r, "monitor", n, 0, false)
			// A probe on a pending node cannot run yet.
			p.Runnable = !n.Pending
			cl.orderVsUnfence(r, n, p, ordOptional)
			if pg != nil {
				pg.probed[n.Name] = true
			}
			// A resource starts (anywhere) only after its probes; one that
			// cannot be probed does not start unless already active.
			flags := ordOptional
			if !p.Runnable {
				top := r
				if ca := cloneAncestor(r); ca != nil {
					top = ca
				}
				if !top.Active() {
					flags |= ordRunnableLeft
				}
			}
			for _, start := range cl.findActions(r, "start") {
				cl.order(p, start, flags)
			}
			if stop := cl.findAction(r, "stop", n); stop != nil {
				cl.order(p, stop, ordOptional)
			}
		}
	}
}

type probeGroupKey struct {
	clone *Resource
	base  string
}

// probeGroup summarises, for one clone and one primitive base ID, which
// nodes already know or probe the resource through some instance and
// where instances are assigned, so that each node is probed once.
type probeGroup struct {
	known    map[string]bool
	probed   map[string]bool
	assigned map[string]int
}

func newProbeGroup(clone *Resource, base string) *probeGroup {
	pg := &probeGroup{known: map[string]bool{}, probed: map[string]bool{}, assigned: map[string]int{}}
	for _, inst := range clone.Children {
		for _, p := range inst.Primitives() {
			if p.BaseID != base {
				continue
			}
			for n, ok := range p.knownOn {
				if ok {
					pg.known[n] = true
				}
			}
			for _, a := range p.actions {
				if a.Task == "monitor" && a.Interval == 0 && a.Node != nil {
					pg.probed[a.Node.Name] = true
				}
			}
			if p.Assigned != nil {
				pg.assigned[p.Assigned.Name]++
			}
		}
	}
	return pg
}

// probedOn reports whether another instance covers r's probe on n: one
// knows its state there, already probes there, or will run there.
func (pg *probeGroup) probedOn(r *Resource, n *Node) bool {
	if pg.known[n.Name] || pg.probed[n.Name] {
		return true
	}
	return r.Assigned != n && pg.assigned[n.Name] > 0
}

// Inputs returns the actions that must complete before a (its orderings),
// considering only orderings between actions that are both in the graph.
func (a *Action) Inputs() []*Action {
	var out []*Action
	for _, e := range a.before {
		out = append(out, e.first)
	}
	return out
}

// InGraph reports whether the action is part of the executable transition
// graph: required and runnable.
func (a *Action) InGraph() bool { return (!a.Optional || a.printAlways) && a.Runnable }

// GraphActions returns the actions of the transition graph in creation order.
func (t *Transition) GraphActions() []*Action {
	var out []*Action
	for _, a := range t.Actions {
		if a.InGraph() {
			out = append(out, a)
		}
	}
	return out
}
