package scheduler

import (
	"sort"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

// Clone notifications (meta notify=true).
//
// For each clone task (start, stop, promote, demote) a notifying clone gets
// four pseudo actions bracketing the task:
//
//	CLONE_pre_notify_TASK_0 -> [instance notify actions] -> CLONE_confirmed-pre_notify_TASK_0
//	  -> CLONE_TASK_0 ... CLONE_DONE_0
//	  -> CLONE_post_notify_DONE_0 -> [instance notify actions] -> CLONE_confirmed-post_notify_DONE_0
//
// The boundaries are created with the clone's own pseudo actions, before
// flag propagation, required when some instance already performs the task
// then; post-notifications also follow the clone's "done" action. Phases
// chain: confirmed post-stop before pre-start, and for promotable clones
// confirmed post-demote before pre-stop, pre-start and pre-promote, and
// confirmed post-stop and post-start before pre-promote. An ordering whose
// first resource is a notifying clone waits for the confirmed
// post-notifications of the task (childDone).
//
// After propagation, createNotifications collects which instances start,
// stop, promote and demote, makes a task's four boundaries required when
// any does, and creates the instances' notify actions: instances active
// now hear of stops and demotes (a stopping instance not of its own stop
// afterwards), instances active next hear of starts and promotes (a
// starting instance not before its own start); nodes being fenced and
// offline nodes hear nothing. Each notify action copies its boundary's
// optional flag and carries the notification meta data (Action.NotifyMeta)
// the runtime hands to the agent; an instance's recurring monitors wait for
// its post-notifications. A stop implied by fencing also notifies the
// survivors right after the fencing (notifyAfterFencing).

// notifyTasks lists the notified tasks in the order Pacemaker expands them,
// with each task's completion pseudo action.
var notifyTasks = []struct{ task, done string }{
	{"start", "running"},
	{"stop", "stopped"},
	{"promote", "promoted"},
	{"demote", "demoted"},
}

// notifyOps is one task's notification boundary of a clone.
type notifyOps struct {
	task, done              string
	pre, preDone            *Action
	post, postDone          *Action
	action, complete        *Action // the clone's TASK and DONE pseudo actions
	keys                    map[string]string
	start, stop, prom, demo []notifyEntry
}

// notifyEntry is an instance and the node of one of its actions or roles.
type notifyEntry struct {
	rsc  *Resource
	node *Node
}

// notifiesAsClone reports whether r is a clone whose notifications are
// scheduled: a top-level clone with notify=true.
func notifiesAsClone(r *Resource) bool {
	return r != nil && r.IsClone() && r.Notify && r.Parent == nil
}

// notifyKey is the operation key of a notification action:
// RSC_TYPE_notify_TASK_0.
func notifyKey(rscID, typ, task string) string {
	return rscID + "_" + typ + "_notify_" + task + "_0"
}

// newNotifyAction creates a notification action of r with a fixed key. It
// is kept out of r's action map (several share a task and node), but
// listed with r's actions.
func (cl *Cluster) newNotifyAction(r *Resource, key, task string, n *Node, optional, pseudo bool) *Action {
	a := &Action{ID: cl.nextActionID, Rsc: r, Task: task, Node: n, Optional: optional, Runnable: true, Pseudo: pseudo, key: key}
	cl.nextActionID++
	r.actionList = append(r.actionList, a)
	cl.Actions = append(cl.Actions, a)
	return a
}

// createNotifyBoundaries creates the notification pseudo actions of a
// notifying clone and their orderings. It runs when the clone's own pseudo
// actions exist, before orderings are applied.
func (cl *Cluster) createNotifyBoundaries(r *Resource) {
	if !notifiesAsClone(r) {
		return
	}
	if cl.notifs == nil {
		cl.notifs = map[*Resource]map[string]*notifyOps{}
	}
	ops := map[string]*notifyOps{}
	cl.notifs[r] = ops
	// Whether some instance really performs each task: a required start,
	// promote or demote must also be runnable.
	busy := map[string]bool{}
	for _, p := range r.Primitives() {
		for _, a := range p.actionList {
			if a.Interval != 0 || a.Optional || a.key != "" {
				continue
			}
			switch a.Task {
			case "start", "promote", "demote":
				if a.Runnable {
					busy[a.Task] = true
				}
			case "stop":
				// Stops count even when blocked (a stop implied by
				// fencing still needs its notifications), but not those
				// of unmanaged instances, which Pacemaker keeps optional.
				if p.Managed {
					busy[a.Task] = true
				}
			}
		}
	}
	for _, t := range notifyTasks {
		if (t.task == "promote" || t.task == "demote") && !r.Promotable {
			continue
		}
		act, done := cl.findAction(r, t.task, nil), cl.findAction(r, t.done, nil)
		if act == nil || done == nil {
			continue
		}
		opt := !busy[t.task]
		n := &notifyOps{task: t.task, done: t.done, action: act, complete: done}
		n.pre = cl.newNotifyAction(r, notifyKey(r.ID, "pre", t.task), "notify", nil, opt, true)
		n.preDone = cl.newNotifyAction(r, notifyKey(r.ID, "confirmed-pre", t.task), "notified", nil, opt, true)
		n.post = cl.newNotifyAction(r, notifyKey(r.ID, "post", t.done), "notify", nil, opt, true)
		n.postDone = cl.newNotifyAction(r, notifyKey(r.ID, "confirmed-post", t.done), "notified", nil, opt, true)
		for _, x := range []struct {
			a         *Action
			typ, kopr string
		}{{n.pre, "pre", t.task}, {n.preDone, "confirmed-pre", t.task}, {n.post, "post", t.done}, {n.postDone, "confirmed-post", t.done}} {
			ntype := "pre"
			if strings.HasSuffix(x.typ, "post") {
				ntype = "post"
			}
			x.a.NotifyMeta = map[string]string{
				"notify_type": ntype, "notify_operation": t.task,
				"notify_key_type": x.typ, "notify_key_operation": x.kopr,
			}
		}
		cl.order(n.pre, n.preDone, ordOptional)
		cl.order(n.preDone, act, ordOptional)
		cl.order(done, n.post, ordImpliesThen|ordRunnableLeft)
		cl.order(n.post, n.postDone, ordImpliesThen|ordRunnableLeft)
		cl.order(n.preDone, n.post, ordOptional)
		ops[t.task] = n
	}
	link := func(from, to string) {
		if a, b := ops[from], ops[to]; a != nil && b != nil {
			cl.order(a.postDone, b.pre, ordOptional)
		}
	}
	link("stop", "start")
	if r.Promotable {
		link("stop", "promote")
		link("start", "promote")
		link("demote", "promote")
		link("demote", "start")
		link("demote", "stop")
	}
}

// notifyDone returns the action that stands for a notifying clone's task
// being complete when the clone is the first resource of an ordering: the
// confirmation of the task's post-notifications.
func (cl *Cluster) notifyDone(r *Resource, task string) *Action {
	if !notifiesAsClone(r) {
		return nil
	}
	if n := cl.notifs[r][task]; n != nil {
		return n.postDone
	}
	return nil
}

// createNotifications creates the instances' notify actions of every
// notifying clone, once flags have been propagated.
func (cl *Cluster) createNotifications() {
	for _, r := range cl.Resources {
		ops := cl.notifs[r]
		if ops == nil {
			continue
		}
		for _, t := range notifyTasks {
			n := ops[t.task]
			if n == nil {
				continue
			}
			// The pre-notifications of a task no instance can perform
			// cannot be sent either.
			if !n.action.Runnable {
				n.pre.Runnable, n.preDone.Runnable = false, false
			}
			cl.collectNotifyData(r, n)
			for _, inst := range r.Children {
				for _, p := range inst.Primitives() {
					cl.createInstanceNotifications(p, n)
				}
			}
		}
	}
}

// collectNotifyData records which instances perform the task and the
// notification meta data shared by every notify action of the task.
func (cl *Cluster) collectNotifyData(r *Resource, n *notifyOps) {
	var active, inactive, promoted, unpromoted []notifyEntry
	for _, p := range r.Primitives() {
		var node *Node
		if len(p.RunningOn) > 0 {
			node = p.RunningOn[0]
		}
		e := notifyEntry{p, node}
		role := p.Role
		switch {
		case !p.Active() || role == RoleStopped:
			inactive = append(inactive, e)
		case role == RolePromoted:
			promoted = append(promoted, e)
			active = append(active, e)
		case role == RoleUnpromoted || (role == RoleStarted && r.Promotable):
			unpromoted = append(unpromoted, e)
			active = append(active, e)
		default:
			active = append(active, e)
		}
		for _, a := range p.actionList {
			if a.Optional || a.Node == nil || a.Interval != 0 || a.key != "" {
				continue
			}
			if !a.Runnable && !(a.Task == "stop" && a.Node.Unclean) {
				continue
			}
			e := notifyEntry{p, a.Node}
			switch a.Task {
			case "start":
				n.start = append(n.start, e)
			case "stop":
				n.stop = append(n.stop, e)
			case "promote":
				n.prom = append(n.prom, e)
			case "demote":
				n.demo = append(n.demo, e)
			}
		}
	}
	keys := map[string]string{}
	set := func(name string, list []notifyEntry, withUname bool) {
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].rsc.ID != list[j].rsc.ID {
				return list[i].rsc.ID < list[j].rsc.ID
			}
			return nodeName(list[i].node) < nodeName(list[j].node)
		})
		var ids, unames []string
		for _, e := range list {
			ids = append(ids, e.rsc.ID)
			if e.node != nil {
				unames = append(unames, e.node.Name)
			}
		}
		keys["notify_"+name+"_resource"] = joinOrBlank(ids)
		if withUname {
			keys["notify_"+name+"_uname"] = joinOrBlank(unames)
		}
	}
	set("start", n.start, true)
	set("stop", n.stop, true)
	set("promote", n.prom, true)
	set("demote", n.demo, true)
	set("active", active, true)
	set("inactive", inactive, false)
	set("promoted", promoted, true)
	set("unpromoted", unpromoted, true)
	// The legacy names of the promoted and unpromoted lists.
	keys["notify_master_resource"] = keys["notify_promoted_resource"]
	keys["notify_master_uname"] = keys["notify_promoted_uname"]
	keys["notify_slave_resource"] = keys["notify_unpromoted_resource"]
	keys["notify_slave_uname"] = keys["notify_unpromoted_uname"]
	var all, avail []string
	for _, node := range cl.Nodes {
		all = append(all, node.Name)
		if _, ok := r.allowed[node.Name]; ok {
			avail = append(avail, node.Name)
		}
	}
	keys["notify_all_uname"] = joinOrBlank(all)
	keys["notify_available_uname"] = joinOrBlank(avail)
	n.keys = keys
	// Notifications become required once some instance really performs
	// the task, whatever the boundaries' flags were at creation.
	required := false
	switch n.task {
	case "start":
		required = len(n.start) > 0
	case "stop":
		required = len(n.stop) > 0
	case "promote":
		required = len(n.prom) > 0
	case "demote":
		required = len(n.demo) > 0
	}
	if required {
		for _, a := range []*Action{n.pre, n.preDone, n.post, n.postDone} {
			a.Optional = false
		}
	}
}

func joinOrBlank(list []string) string {
	if len(list) == 0 {
		return " "
	}
	return strings.Join(list, " ")
}

// createInstanceNotifications creates primitive instance p's notify
// actions for one task: instances active now hear about stops and
// demotes (not the post-stop notification when they stop themselves),
// instances active next hear about starts and promotes (not the
// pre-start notification when they start themselves).
func (cl *Cluster) createInstanceNotifications(p *Resource, n *notifyOps) {
	// The task's own actions carry the notification data too.
	for _, a := range p.actionList {
		if a.Optional || a.Node == nil || a.key != "" || a.Interval != 0 {
			continue
		}
		switch a.Task {
		case "start", "stop", "promote", "demote":
			if a.NotifyMeta == nil {
				a.NotifyMeta = map[string]string{}
			}
			for k, v := range n.keys {
				a.NotifyMeta[k] = v
			}
		}
	}
	switch n.task {
	case "start":
		if len(n.start) == 0 {
			return
		}
	case "promote":
		if len(n.prom) == 0 {
			return
		}
	case "demote":
		if len(n.demo) == 0 {
			return
		}
	}
	if (n.task == "stop" || n.task == "demote") && p.Role != RoleStopped && p.Active() {
		var stop *Action
		for _, a := range p.actionList {
			if a.Task == "stop" && a.Interval == 0 && a.key == "" {
				stop = a
				break
			}
		}
		for _, node := range p.RunningOn {
			// A stop implied by fencing: the victim hears nothing.
			if stop != nil && stop.Pseudo && node.Unclean {
				continue
			}
			cl.instanceNotify(p, node, n.pre, n.preDone, n)
			if n.task == "demote" || stop == nil || stop.Optional {
				cl.postNotify(p, node, n)
			}
		}
	}
	if (n.task == "start" || n.task == "promote") && p.NextRole != RoleStopped && p.Assigned != nil {
		start := cl.findAction(p, "start", p.Assigned)
		if start == nil {
			for _, a := range p.actionList {
				if a.Task == "start" && a.Interval == 0 {
					start = a
					break
				}
			}
		}
		if n.task != "start" || start == nil || start.Optional {
			cl.instanceNotify(p, p.Assigned, n.pre, n.preDone, n)
		}
		cl.postNotify(p, p.Assigned, n)
	}
}

// postNotify creates p's post-notification on node and orders p's
// recurring operations after the post-notifications are confirmed.
func (cl *Cluster) postNotify(p *Resource, node *Node, n *notifyOps) {
	cl.instanceNotify(p, node, n.post, n.postDone, n)
	if n.postDone == nil {
		return
	}
	for _, a := range p.actionList {
		if a.Interval > 0 && a.Task != "cancel" {
			cl.order(n.postDone, a, ordOptional)
		}
	}
}

// instanceNotify creates p's notify action on node between a boundary op
// and its confirmation.
func (cl *Cluster) instanceNotify(p *Resource, node *Node, op, confirm *Action, n *notifyOps) *Action {
	if op == nil || confirm == nil || node == nil || !node.Online || !op.Runnable {
		return nil
	}
	typ, task := op.NotifyMeta["notify_type"], op.NotifyMeta["notify_operation"]
	key := notifyKey(p.ID, typ, task)
	// An instance's notification of one kind on one node is a single
	// action, even when two boundaries share it (the notifications after
	// fencing and the clone's own post-stop notifications).
	a := cl.notifyActs[key+"@"+node.Name]
	if a == nil {
		a = cl.newNotifyAction(p, key, "notify", node, op.Optional, false)
		if cl.notifyActs == nil {
			cl.notifyActs = map[string]*Action{}
		}
		cl.notifyActs[key+"@"+node.Name] = a
		a.NotifyMeta = make(map[string]string, len(op.NotifyMeta)+len(n.keys))
	} else if !op.Optional {
		a.Optional = false
	}
	for k, v := range op.NotifyMeta {
		a.NotifyMeta[k] = v
	}
	for k, v := range n.keys {
		a.NotifyMeta[k] = v
	}
	cl.order(op, a, ordOptional)
	cl.order(a, confirm, ordOptional)
	return a
}

// isNotification reports whether a is a notification action (boundary or
// instance notify), which flag propagation between a collective and its
// children leaves alone.
func (a *Action) isNotification() bool { return a.key != "" }

// collectiveNotify is a guard for code that maps a collective action to
// its children's actions of the same task.
func collectiveNotify(a *Action) bool {
	return a != nil && a.isNotification() && a.Rsc != nil && a.Rsc.Kind != cib.KindPrimitive
}

// notifyAfterFencing gives the instances of a notifying clone a
// post-stop notification as soon as node n is fenced, when r, an instance
// primitive active there, has a stop implied by fence f: the survivors
// learn of the stop without waiting for the rest of the clone's stops.
// Pseudo actions INSTANCE_post_notify_stonith_0 and
// INSTANCE_confirmed-post_notify_stonith_0 bracket the notifications.
func (cl *Cluster) notifyAfterFencing(r *Resource, n *Node, f *Action) {
	top := r.Top()
	if r.Kind != cib.KindPrimitive || !notifiesAsClone(top) {
		return
	}
	for _, stop := range cl.findActions(r, "stop") {
		if stop.Node != n {
			continue
		}
		ops := &notifyOps{task: "stop", done: "stonith", complete: f}
		ops.post = cl.newNotifyAction(r, notifyKey(r.ID, "post", "stonith"), "notify", nil, f.Optional, true)
		ops.postDone = cl.newNotifyAction(r, notifyKey(r.ID, "confirmed-post", "stonith"), "notified", nil, f.Optional, true)
		ops.post.NotifyMeta = map[string]string{"notify_type": "post", "notify_operation": "stop",
			"notify_key_type": "post", "notify_key_operation": "stonith"}
		ops.postDone.NotifyMeta = map[string]string{"notify_type": "post", "notify_operation": "stop",
			"notify_key_type": "confirmed-post", "notify_key_operation": "stonith"}
		cl.order(f, ops.post, ordImpliesThen)
		cl.order(ops.post, ops.postDone, ordImpliesThen)
		ops.keys = map[string]string{"notify_stop_resource": r.ID, "notify_stop_uname": n.Name}
		for _, p := range top.Primitives() {
			if p.Role == RoleStopped || !p.Active() {
				continue
			}
			var pstop *Action
			for _, a := range p.actionList {
				if a.Task == "stop" && a.Interval == 0 && a.key == "" {
					pstop = a
					break
				}
			}
			for _, node := range p.RunningOn {
				if pstop != nil && pstop.Pseudo && node.Unclean {
					continue
				}
				if pstop == nil || pstop.Optional {
					cl.postNotify(p, node, ops)
				}
			}
		}
	}
}

// notifySourceOptional is a clone's completion action's optional flag as
// seen by its post-notifications: summarised over the instances' actions,
// where those of unmanaged instances count as optional (Pacemaker keeps
// every non-recurring action of an unmanaged resource optional; we keep
// their stops required only to report them blocked).
func notifySourceOptional(done *Action) bool {
	task := done.Task
	if t, ok := doneToTask[task]; ok {
		task = t
	}
	for _, p := range done.Rsc.Primitives() {
		if !p.Managed {
			continue
		}
		for _, a := range p.actionList {
			if a.Task == task && a.Interval == 0 && !a.Optional && !a.isNotification() {
				return false
			}
		}
	}
	return true
}
