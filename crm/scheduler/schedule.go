package scheduler

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
)

// Transition is the scheduler's result.
type Transition struct {
	Cluster *Cluster
	Actions []*Action
	// Summary is the Transition Summary, one line per entry without the
	// leading "* ", in Pacemaker's order.
	Summary []string
	// Explanation is set when Options.Explain named a resource.
	Explanation *Explanation
}

// Options tune a Schedule run without changing its result.
type Options struct {
	// NoScores skips recording allocation and promotion score lines
	// (Cluster.Scores returns nothing); large CIBs schedule faster.
	NoScores bool
	// Explain names a resource whose placement to explain: the
	// Transition's Explanation records every score contribution.
	Explain string
}

// Schedule runs the whole pipeline on a CIB, recording score lines.
func Schedule(c *cib.CIB, now time.Time) (*Transition, error) {
	return ScheduleWith(c, now, Options{})
}

// ScheduleWith runs the whole pipeline on a CIB with opts. It is pure
// and safe to call concurrently on distinct or read-only CIBs.
func ScheduleWith(c *cib.CIB, now time.Time, opts Options) (*Transition, error) {
	cl, err := Unpack(c, now)
	if err != nil {
		return nil, err
	}
	return ScheduleCluster(cl, opts)
}

// ScheduleCluster schedules a cluster freshly returned by Unpack (the
// work of ScheduleWith after unpacking). It takes cl over: scheduling
// changes its resources and nodes, so cl must not be scheduled twice nor
// read as the unpacked status afterwards.
func ScheduleCluster(cl *Cluster, opts Options) (*Transition, error) {
	cl.noScores = opts.NoScores
	if opts.Explain != "" {
		if err := cl.startExplain(opts.Explain); err != nil {
			return nil, err
		}
	}
	if err := cl.unpackConstraints(); err != nil {
		return nil, err
	}
	if cl.StonithEnabled && !cl.HasStonithRsc {
		// Fencing enabled but no device: every resource becomes unmanaged.
		for _, r := range cl.byID {
			r.Managed = false
		}
	}
	for _, p := range cl.primitives {
		if p.container != nil {
			cl.addColocation("resource-with-container", p, p.container, cib.Infinity, "", "", "", "")
		}
	}
	cl.applyNodeCriteria()
	for _, r := range cl.Resources {
		cl.expandGroups(r)
	}
	cl.note("group membership")
	for _, r := range cl.Resources {
		cl.setProvisional(r)
	}
	for _, r := range cl.Resources {
		cl.assign(r, nil)
	}
	cl.Sanitized = true
	for _, p := range cl.primitives {
		cl.expiredFailcountClears(p)
	}
	cl.checkDefinitions()
	for _, p := range cl.primitives {
		cl.earlyDefinitionActions(p)
	}
	cl.unfenceForProbes()
	for _, r := range cl.Resources {
		cl.createActions(r)
	}
	for _, p := range cl.primitives {
		cl.definitionActions(p)
	}
	cl.createProbes()
	cl.orphanFailcountClears()
	cl.orderStoppedRecurring()
	cl.internalOrderings()
	cl.unfencingOrderings()
	cl.userOrderings()
	cl.orderThenProbes()
	cl.antiColocationOrderings()
	cl.relaxedOrderings()
	cl.scheduleFencing()
	cl.propagate()
	cl.createNotifications()
	t := &Transition{Cluster: cl, Actions: cl.Actions}
	t.Summary = cl.summary()
	if cl.explain != nil {
		t.Explanation = cl.finishExplain(t)
	}
	return t, nil
}

func (cl *Cluster) internalOrderings() {
	// A resource starts after its container and stops before it; these
	// come first, as the members' own constraints precede their group's.
	for _, p := range cl.primitives {
		if p.container == nil {
			continue
		}
		for _, f := range childDone(cl, p.container, "start") {
			for _, t := range childAction(cl, p, "start") {
				cl.order(f, t, ordImpliesThen|ordRunnableLeft)
			}
		}
		for _, f := range childDone(cl, p, "stop") {
			for _, t := range childAction(cl, p.container, "stop") {
				cl.order(f, t, ordImpliesFirst)
			}
		}
	}
	for _, r := range cl.primitives {
		for _, n := range cl.Nodes {
			stop := cl.findAction(r, "stop", n)
			if stop == nil {
				continue
			}
			for _, a := range cl.findActions(r, "start") {
				cl.order(stop, a, ordOptional|ordImpliesThen|ordRestart)
			}
			// Every demote precedes every stop (a multiply active
			// promoted resource demotes everywhere before stopping).
			for _, d := range cl.findActions(r, "demote") {
				cl.order(d, stop, ordImpliesFirst)
			}
		}
		for _, st := range cl.findActions(r, "start") {
			for _, p := range cl.findActions(r, "promote") {
				cl.order(st, p, ordRunnableLeft|ordImpliesThen)
			}
		}
		for _, d := range cl.findActions(r, "demote") {
			for _, p := range cl.findActions(r, "promote") {
				cl.order(d, p, ordOptional)
			}
		}
	}
	var walk func(r *Resource)
	walk = func(r *Resource) {
		for _, c := range r.Children {
			walk(c)
		}
		if r.Kind == cib.KindPrimitive {
			return
		}
		start, running := cl.findAction(r, "start", nil), cl.findAction(r, "running", nil)
		stop, stopped := cl.findAction(r, "stop", nil), cl.findAction(r, "stopped", nil)
		cl.order(stopped, start, ordOptional)
		cl.order(start, running, ordRunnableLeft)
		cl.order(stop, stopped, ordRunnableLeft)
		var prev, lastActive *Resource
		for i, c := range r.Children {
			cStart, cStop := childAction(cl, c, "start"), childAction(cl, c, "stop")
			cRunning, cStopped := childDone(cl, c, "start"), childDone(cl, c, "stop")
			if r.Kind == cib.KindClone {
				for _, a := range cStart {
					cl.order(start, a, ordRunnableLeft|ordImpliesFirstPrinted)
				}
				for _, a := range cRunning {
					cl.order(a, running, ordImpliesThenPrinted)
				}
				for _, a := range cStop {
					cl.order(stop, a, ordImpliesFirstPrinted)
				}
				for _, a := range cStopped {
					cl.order(a, stopped, ordImpliesThenPrinted)
				}
				if r.Ordered && prev != nil {
					for _, f := range childDone(cl, prev, "start") {
						for _, t := range cStart {
							cl.order(f, t, ordOptional)
						}
					}
				}
			} else {
				ordered := r.Meta["ordered"] == "" || isTrue(r.Meta["ordered"])
				stoppedFlags := ordImpliesThenPrinted
				if i == 0 && ordered {
					stoppedFlags = ordImpliesThen
				}
				startFlags := ordImpliesFirstPrinted
				if !ordered {
					startFlags = ordImpliesThen | ordRunnableLeft | ordImpliesFirstPrinted
				}
				for _, a := range cStart {
					cl.order(start, a, startFlags)
				}
				for _, a := range cStop {
					cl.order(stop, a, ordImpliesFirstPrinted)
				}
				for _, a := range cStopped {
					cl.order(a, stopped, stoppedFlags)
				}
				for _, a := range cRunning {
					cl.order(a, running, ordRunnableLeft|ordImpliesThen|ordImpliesThenPrinted)
				}
				if prev != nil && ordered {
					for _, f := range childDone(cl, prev, "start") {
						for _, t := range cStart {
							cl.order(f, t, ordImpliesThen|ordRunnableLeft)
						}
					}
					for _, f := range cStop {
						for _, t := range childAction(cl, prev, "stop") {
							cl.order(f, t, ordOptional|ordRestart)
						}
					}
				}
				if len(c.RunningOn) > 0 {
					// A partially active group stops in sequence: past
					// the inactive members, a member stops before the
					// last active one before it.
					if ordered && prev != nil && len(prev.RunningOn) == 0 && lastActive != nil {
						for _, f := range cStop {
							for _, t := range childAction(cl, lastActive, "stop") {
								cl.order(f, t, ordOptional)
							}
						}
					}
					lastActive = c
				}
			}
			if r.Kind == cib.KindClone && r.Promotable {
				pr, prd := cl.findAction(r, "promote", nil), cl.findAction(r, "promoted", nil)
				de, ded := cl.findAction(r, "demote", nil), cl.findAction(r, "demoted", nil)
				// A group instance's own promote pseudo actions stand
				// between the clone's and its members' (see below).
				targets := c.Primitives()
				if promotableGroupInstance(c) {
					targets = []*Resource{c}
				}
				for _, p := range targets {
					for _, a := range childAction(cl, p, "promote") {
						cl.order(pr, a, ordRunnableLeft)
					}
					for _, a := range childDone(cl, p, "promote") {
						cl.order(a, prd, 0)
					}
					for _, a := range childAction(cl, p, "demote") {
						cl.order(de, a, 0)
					}
					for _, a := range childDone(cl, p, "demote") {
						cl.order(a, ded, 0)
					}
				}
				cl.order(stopped, pr, ordOptional)
				cl.order(ded, start, ordOptional)
				cl.order(running, pr, ordOptional)
				cl.order(ded, stop, ordOptional)
				cl.order(ded, pr, ordOptional)
				cl.order(pr, prd, ordRunnableLeft)
				cl.order(de, ded, ordRunnableLeft)
			}
			prev = c
		}
		if promotableGroupInstance(r) {
			pr, prd := cl.findAction(r, "promote", nil), cl.findAction(r, "promoted", nil)
			de, ded := cl.findAction(r, "demote", nil), cl.findAction(r, "demoted", nil)
			for _, p := range r.Primitives() {
				for _, a := range cl.findActions(p, "promote") {
					cl.order(pr, a, ordRunnableLeft)
					cl.order(a, prd, 0)
				}
				for _, a := range cl.findActions(p, "demote") {
					cl.order(de, a, 0)
					cl.order(a, ded, 0)
				}
			}
			cl.order(pr, prd, ordRunnableLeft)
			cl.order(de, ded, ordRunnableLeft)
		}
	}
	for _, r := range cl.Resources {
		walk(r)
	}
}

// childAction returns the actions representing task for a child resource:
// its own pseudo action for collectives, its real actions for primitives.
func childAction(cl *Cluster, r *Resource, task string) []*Action {
	if r.Kind != cib.KindPrimitive {
		if a := cl.findAction(r, task, nil); a != nil {
			return []*Action{a}
		}
		return nil
	}
	return cl.findActions(r, task)
}

// childDone returns the "done" actions (running/stopped) of a child.
func childDone(cl *Cluster, r *Resource, task string) []*Action {
	if a := cl.notifyDone(r, task); a != nil {
		return []*Action{a}
	}
	if r.Kind != cib.KindPrimitive {
		done := map[string]string{"start": "running", "stop": "stopped", "promote": "promoted", "demote": "demoted"}[task]
		if a := cl.findAction(r, done, nil); a != nil {
			return []*Action{a}
		}
		return nil
	}
	return childAction(cl, r, task)
}

func (cl *Cluster) userOrderings() {
	// Interleaved clone orderings may inhibit instances; settle those first,
	// since one inhibition can cascade along a chain of clones.
	for changed := true; changed; {
		changed = false
		for _, o := range cl.orders {
			if interleaved(o) {
				if cl.interleaveInhibit(o) {
					changed = true
				}
			}
		}
	}
	for _, o := range cl.orders {
		firsts := childDone(cl, o.first, o.firstAction)
		thens := childAction(cl, o.then, o.thenAction)
		if interleaved(o) {
			cl.interleave(o)
			// The clones' own actions stay ordered too (a graph edge
			// only: flags travel between the paired instances).
			for _, f := range firsts {
				for _, t := range thens {
					cl.order(f, t, ordOptional)
				}
			}
			continue
		}
		if len(firsts) == 0 && len(thens) > 0 && o.first.Kind == cib.KindPrimitive && (o.firstAction == "start" || o.firstAction == "promote") {
			// Pacemaker creates the missing first action (unrunnable, no node).
			a := cl.action(o.first, o.firstAction, nil, 0, true)
			a.Runnable = false
			cl.orderAfterOwnStops(a)
			firsts = []*Action{a}
		}
		if len(firsts) == 0 || len(thens) == 0 {
			continue
		}
		for _, f := range firsts {
			for _, t := range thens {
				cl.order(f, t, o.flags)
			}
		}
	}
}

// orderAfterOwnStops gives a start created for an ordering the restart
// orderings every start has: after the resource's stops, required when
// they are (so a stopping resource's start is required yet unrunnable, and
// its dependents are stopped "due to required X start").
func (cl *Cluster) orderAfterOwnStops(a *Action) {
	if a.Task != "start" {
		return
	}
	for _, st := range cl.findActions(a.Rsc, "stop") {
		cl.order(st, a, ordOptional|ordImpliesThen|ordRestart)
	}
}

func (cl *Cluster) relaxedOrderings() {
	for _, ro := range cl.relaxed {
		p := &Action{ID: cl.nextActionID, Task: ro.name, Pseudo: true, Optional: true, Runnable: false, requiredBefore: ro.required}
		cl.nextActionID++
		cl.Actions = append(cl.Actions, p)
		for _, f := range ro.firsts {
			fas := childAction(cl, f, ro.firstAction)
			if len(fas) == 0 && f.Kind == cib.KindPrimitive {
				a := cl.action(f, ro.firstAction, nil, 0, true)
				a.Runnable = false
				cl.orderAfterOwnStops(a)
				fas = []*Action{a}
			}
			for _, a := range fas {
				cl.order(a, p, ordOneOrMore|ordImpliesThenPrinted)
			}
		}
		for _, t := range ro.thens {
			for _, a := range childAction(cl, t, ro.thenAction) {
				cl.order(p, a, ro.flags)
			}
		}
	}
}

// interleave orders clone instances pairwise on the same node. A "then"
// instance with no compatible "first" instance on its node is inhibited from
// running when the ordering is mandatory, as Pacemaker does.
func (cl *Cluster) interleave(o *ordering) {
	current := o.firstAction == "stop" || o.firstAction == "demote"
	nodeOf := func(r *Resource) *Node {
		if current {
			return instanceNode(r)
		}
		return r.assignedNode()
	}
	for _, ti := range o.then.Children {
		tn := nodeOf(ti)
		var match *Resource
		if tn != nil {
			for _, fi := range o.first.Children {
				if nodeOf(fi) == tn {
					match = fi
					break
				}
			}
		}
		if match == nil {
			continue
		}
		for _, f := range childDone(cl, match, o.firstAction) {
			for _, t := range childAction(cl, ti, o.thenAction) {
				cl.order(f, t, o.flags)
			}
		}
	}
}

// interleaveInhibit inhibits "then" instances without a compatible "first"
// instance on their node. It reports whether anything changed.
func (cl *Cluster) interleaveInhibit(o *ordering) bool {
	if o.firstAction == "stop" || o.firstAction == "demote" || o.flags&(ordRunnableLeft|ordImpliesThen) == 0 {
		return false
	}
	changed := false
	for _, ti := range o.then.Children {
		tn := ti.assignedNode()
		if tn == nil {
			continue
		}
		found := false
		for _, fi := range o.first.Children {
			if fi.assignedNode() == tn {
				found = true
				break
			}
		}
		if !found {
			cl.inhibit(ti, cl.findAction(o.then, o.thenAction, nil))
			changed = true
		}
	}
	return changed
}

// inhibit unassigns a resource after actions were created: it will not
// start, and stops where it runs. Pacemaker unassigns an instance when it
// first updates the "then" clone's action of the interleaved ordering,
// so until the propagation reaches at (if not nil), the instance's
// actions keep their flags (see applyInhibitions).
func (cl *Cluster) inhibit(r *Resource, at *Action) {
	for _, p := range r.Primitives() {
		if p.Assigned != nil {
			p.Assigned.numAssigned--
		}
		p.Assigned = nil
		p.NextRole = RoleStopped
	}
	if r.Kind != cib.KindPrimitive {
		r.Assigned = nil
		r.NextRole = RoleStopped
	}
	if at == nil {
		cl.inhibitActions(r)
		return
	}
	if cl.inhibited == nil {
		cl.inhibited = map[*Action][]*Resource{}
	}
	cl.inhibited[at] = append(cl.inhibited[at], r)
}

// applyInhibitions changes the actions of the instances inhibited at a
// (all of them if a is nil), once.
func (cl *Cluster) applyInhibitions(a *Action) {
	if a != nil {
		for _, r := range cl.inhibited[a] {
			cl.inhibitActions(r)
		}
		delete(cl.inhibited, a)
		return
	}
	for _, at := range cl.Actions {
		if len(cl.inhibited[at]) > 0 {
			cl.applyInhibitions(at)
		}
	}
}

// inhibitActions makes an unassigned resource's starts unrunnable and its
// stops required.
func (cl *Cluster) inhibitActions(r *Resource) {
	for _, p := range r.Primitives() {
		for _, a := range p.actionList {
			switch a.Task {
			case "start", "promote":
				a.Optional = true
				a.Runnable = false
			case "stop":
				// No reason: Pacemaker's interleaved ordering makes the
				// start unrunnable, and the restart then requires the stop.
				a.Optional = false
			}
			if a.Interval > 0 {
				a.Optional = true
				a.Runnable = false
			}
		}
	}
}

// canFence reports whether node n can be fenced.
func (cl *Cluster) canFence(n *Node) bool {
	if !cl.StonithEnabled || !cl.HasStonithRsc {
		return false
	}
	if cl.HaveQuorum || cl.NoQuorumPolicy == "ignore" {
		return true
	}
	return n.Online
}

func (cl *Cluster) scheduleFencing() {
	anyManaged := false
	for _, r := range cl.primitives {
		if r.Managed {
			anyManaged = true
		}
	}
	var fences []*Action
	var dcFence *Action
	for _, n := range cl.Nodes {
		if !n.Unclean {
			continue
		}
		if !cl.canFence(n) || !anyManaged {
			continue
		}
		reason := n.UncleanReason
		if reason == "" || n.Unseen {
			reason = "node is unclean"
		}
		f := &Action{ID: cl.nextActionID, Task: "stonith", Node: n, Runnable: true, FenceAction: cl.StonithAction, Reason: reason}
		cl.nextActionID++
		cl.Actions = append(cl.Actions, f)
		n.Fenced = true
		// Stops on the fenced node become pseudo actions implied by the fence.
		for _, r := range n.Running {
			needsFencing := r.Requires == "fencing" || r.Requires == "unfencing"
			// A multiply-active resource that stays where it also runs
			// cleanly keeps the victim's stop optional: the fence ends it.
			stays := r.Assigned != nil && r.Assigned != n && r.Assigned.Online && !r.Assigned.Unclean && r.runsOn(r.Assigned)
			for _, a := range r.actionList {
				if a.Node == n && (a.Task == "stop" || a.Task == "demote") {
					a.Pseudo = true
					a.Runnable = true
					if !stays {
						a.Optional = false
					}
					if needsFencing {
						cl.order(f, a, ordImpliesThen)
						if top := r.Top(); a.Task == "stop" && top != r {
							// The fence also precedes the stop of the
							// resource's top-level collective.
							cl.order(f, cl.findAction(top, "stop", nil), ordOptional)
						}
					}
				}
			}
			cl.notifyAfterFencing(r, n, f)
		}
		// Starts of resources that require fencing wait for every fence;
		// those that ran on the victim also need it to happen.
		for _, r := range cl.primitives {
			if r.Requires == "fencing" || r.Requires == "unfencing" {
				flags := ordOptional
				for _, rn := range r.RunningOn {
					if rn == n {
						flags = ordImpliesThen
					}
				}
				for _, a := range cl.findActions(r, "start") {
					cl.order(f, a, flags)
				}
			}
		}
		if n.IsDC {
			dcFence = f
		} else {
			fences = append(fences, f)
		}
	}
	// Clean shutdowns of online nodes, after every stop on them.
	var dcDown *Action
	for _, n := range cl.Nodes {
		if !n.Online || !n.Shutdown || n.Unclean {
			continue
		}
		d := &Action{ID: cl.nextActionID, Task: "do_shutdown", Node: n, Runnable: true}
		cl.nextActionID++
		cl.Actions = append(cl.Actions, d)
		for _, r := range n.Running {
			if cl.MaintenanceMode || isTrue(r.Meta["maintenance"]) || n.Maintenance || (!r.Managed && !r.Blocked) {
				// Resources in maintenance, or unmanaged but not
				// blocked, are left alone and do not hold the shutdown.
				continue
			}
			for _, a := range r.actionList {
				if a.Node == n && a.Task == "stop" {
					cl.order(a, d, ordOptional|ordRunnableLeft)
				}
			}
		}
		if n.IsDC {
			dcDown = d
		}
	}
	if dcDown != nil {
		for _, f := range fences {
			cl.order(f, dcDown, ordOptional)
		}
	}
	if !cl.ConcurrentFencing {
		for i := 1; i < len(fences); i++ {
			cl.order(fences[i-1], fences[i], ordOptional)
		}
	}
	if dcFence != nil {
		for _, f := range fences {
			cl.order(f, dcFence, ordOptional)
		}
		fences = append(fences, dcFence)
	}
	// Unclean nodes that cannot be fenced: stops there cannot run, and
	// replacements needing fencing are blocked.
	for _, n := range cl.Nodes {
		if !n.Unclean || n.Fenced {
			continue
		}
		for _, r := range n.Running {
			for _, a := range r.actionList {
				if a.Node == n && a.Task == "stop" {
					a.Runnable = false
				}
			}
			if r.Requires == "fencing" {
				for _, a := range cl.findActions(r, "start") {
					if a.Runnable {
						a.Runnable = false
					}
				}
			}
		}
	}
	cl.fencing = fences
}

// propagate applies ordering flag rules until nothing changes.
func (cl *Cluster) propagate() {
	for _, a := range cl.Actions {
		if a.requiredBefore > 0 {
			a.Runnable = true
		}
	}
	// Pacemaker's order: every action, newest first (Pacemaker prepends
	// each new action to its list), pulls flags from the actions ordered
	// before it (most recent ordering first); a change is pushed on
	// depth-first.
	cl.refreshOneOrMore()
	for i := len(cl.Actions) - 1; i >= 0; i-- {
		cl.updateAction(cl.Actions[i], 0)
	}
	cl.applyInhibitions(nil)
	// Settle anything the depth-first pass left (collective summaries,
	// deep chains): first more passes of the same kind until the flags
	// stop changing, then edge by edge.
	for iter := 0; iter < 100; iter++ {
		before := cl.flagSnapshot()
		cl.refreshOneOrMore()
		cl.refreshCollective()
		for i := len(cl.Actions) - 1; i >= 0; i-- {
			cl.updateAction(cl.Actions[i], 0)
		}
		if cl.flagSnapshot() == before {
			break
		}
	}
	for iter := 0; iter < 1000; iter++ {
		changed := cl.refreshOneOrMore()
		for _, a := range cl.Actions {
			for _, e := range a.after {
				if cl.updateEdge(e) {
					changed = true
				}
			}
		}
		if cl.refreshCollective() {
			changed = true
		}
		if cl.blockColocated() {
			changed = true
		}
		if !changed {
			break
		}
	}
}

// flagSnapshot encodes every action's optional and runnable flags, to
// tell whether a propagation pass changed any.
func (cl *Cluster) flagSnapshot() string {
	b := make([]byte, 0, len(cl.Actions))
	for _, a := range cl.Actions {
		x := byte('a')
		if a.Optional {
			x++
		}
		if a.Runnable {
			x += 2
		}
		b = append(b, x)
	}
	return string(b)
}

// blockColocated makes the starts of mandatory colocation dependents
// unrunnable when their primary cannot start anywhere ("colocation with X").
func (cl *Cluster) blockColocated() bool {
	changed := false
	for _, a := range cl.Actions {
		if a.Runnable || a.Rsc == nil || a.Rsc.Kind != cib.KindPrimitive || (a.Task != "start" && a.Task != "promote") {
			continue
		}
		top := a.Rsc.Top()
		blocked := true
		for _, c := range top.Children {
			var ca *Action
			if c.Kind == cib.KindPrimitive {
				for _, x := range cl.findActions(c, a.Task) {
					ca = x
					break
				}
			} else {
				ca = cl.findAction(c, a.Task, nil)
			}
			if ca == nil || ca.Runnable {
				blocked = false
				break
			}
		}
		if !blocked {
			continue
		}
		for _, co := range top.withThis {
			if co.score < cib.Infinity {
				continue
			}
			if a.Task != "start" && co.primRole != RolePromoted {
				continue
			}
			task := "start"
			if co.depRole == RolePromoted {
				task = "promote"
			}
			for _, p := range co.dependent.Primitives() {
				for _, da := range cl.findActions(p, task) {
					if da.Runnable {
						da.Runnable = false
						da.setReason("colocation with "+a.Rsc.ID, false)
						changed = true
					}
				}
			}
		}
	}
	return changed
}

func (cl *Cluster) updateAction(a *Action, depth int) {
	// Updates recurse only on changes, which are finite, but a flag one
	// rule restores and another clears again could recurse forever.
	if depth > 5000 {
		return
	}
	// Pacemaker's order (pcmk__update_action_for_orderings): the
	// orderings into a, most recent first, except that unfencing goes
	// before the rest (a start waiting for its node's unfencing names it
	// as the reason even when another ordering also requires the start).
	// A changed first action is followed at once (see pullEdge); if an
	// ordering changed a itself, a is updated again and then the actions
	// ordered after it, most recent ordering first.
	if len(cl.inhibited[a]) > 0 {
		cl.applyInhibitions(a)
	}
	changed := false
	if cl.Unfencing {
		for i := len(a.before) - 1; i >= 0; i-- {
			if e := a.before[i]; isUnfence(e.first) && cl.pullEdge(a, e, depth) {
				changed = true
			}
		}
	}
	for i := len(a.before) - 1; i >= 0; i-- {
		if e := a.before[i]; (!cl.Unfencing || !isUnfence(e.first)) && cl.pullEdge(a, e, depth) {
			changed = true
		}
	}
	if changed {
		cl.updateAction(a, depth+1)
		cl.updateAfter(a, depth+1)
	}
}

// updateAfter updates the actions ordered after a, most recent ordering
// first.
func (cl *Cluster) updateAfter(a *Action, depth int) {
	for i := len(a.after) - 1; i >= 0; i-- {
		cl.updateAction(a.after[i].then, depth)
	}
}

func isUnfence(a *Action) bool { return a.Task == "stonith" && a.FenceAction == "on" }

// pullEdge applies one ordering into its "then" action a and reports
// whether the ordering changed a (or, for a collective a, one of its
// children's actions). Flags a collective action only takes from its
// children's (summariseCollective) are no change. A changed member or
// instance action is updated at once, as Pacemaker does so that
// "X_stop then X_start" reaches cloned groups; a changed first action
// has the actions ordered after it updated, then itself.
func (cl *Cluster) pullEdge(a *Action, e *edge, depth int) bool {
	f := e.first
	if f.Rsc != nil && f.Rsc.Kind != cib.KindPrimitive {
		cl.summariseCollective(f)
	}
	fOpt, fRun := f.Optional, f.Runnable
	if a.Rsc != nil && a.Rsc.Kind != cib.KindPrimitive {
		// A collective "then" is summarised from its children too
		// (a clone's "promoted" is required once an instance's
		// promote is), as Pacemaker's flags for an ordering are.
		cl.summariseCollective(a)
	}
	aOpt, aRun := a.Optional, a.Runnable
	cl.applyEdge(f, a, e.flags)
	changed := a.Optional != aOpt || a.Runnable != aRun
	if changed && a.Rsc != nil && a.Rsc.Parent != nil {
		cl.updateAction(a, depth+1)
	}
	if a.Rsc != nil && a.Rsc.Kind != cib.KindPrimitive && cl.pushToChildren(f, a, e.flags, depth) {
		changed = true
	}
	if f.Optional != fOpt || f.Runnable != fRun {
		cl.updateAfter(f, depth+1)
		cl.updateAction(f, depth+1)
	}
	return changed
}

// pushToChildren applies an ordering whose "then" is a collective action to
// the matching action of each child, with the same first action, and
// reports whether one changed. A changed child action is updated at once;
// for a clone, the actions ordered after it are updated next.
func (cl *Cluster) pushToChildren(f, t *Action, flags int, depth int) bool {
	anyChanged := false
	cl.eachChildAction(f, t, flags, func(c *Resource, ca *Action, cf int) {
		opt, run := ca.Optional, ca.Runnable
		if cl.applyToChild(f, ca, cf) {
			cl.applyToChild(f, ca, cf)
		}
		changed := ca.Optional != opt || ca.Runnable != run
		if changed {
			cl.updateAction(ca, depth+1)
		}
		if c.Kind != cib.KindPrimitive && cl.pushToChildren(f, ca, flags, depth+1) {
			changed = true
		}
		if changed {
			anyChanged = true
			if t.Rsc.Kind == cib.KindClone {
				cl.updateAfter(ca, depth+1)
			}
		}
	})
	return anyChanged
}

func (cl *Cluster) updateEdge(e *edge) bool {
	changed := cl.applyEdge(e.first, e.then, e.flags)
	if changed {
		// One rule may enable another on the same edge (a restart making
		// the stop required, which then requires the start).
		cl.applyEdge(e.first, e.then, e.flags)
	}
	// Orderings whose "then" is a collective resource also apply, with the
	// same first action, to each child's matching action.
	if t := e.then; t.Rsc != nil && t.Rsc.Kind != cib.KindPrimitive {
		if cl.applyToChildren(e.first, t, e.flags) {
			changed = true
		}
	}
	return changed
}

// applyToChildren applies an ordering whose "then" is a collective action
// to the matching action of each child, with the same first action, and
// reports whether one changed (the settling pass follows the changes).
func (cl *Cluster) applyToChildren(f, t *Action, flags int) bool {
	changed := false
	cl.eachChildAction(f, t, flags, func(c *Resource, ca *Action, cf int) {
		if cl.applyToChild(f, ca, cf) {
			changed = true
		}
		if c.Kind != cib.KindPrimitive && cl.applyToChildren(f, ca, flags) {
			changed = true
		}
	})
	return changed
}

// eachChildAction calls fn, child by child, with the action of child c
// of collective action t's resource that an ordering from f into t also
// applies to, and the flags it applies with there. A primitive child's
// action is its first one of t's task that the ordering reaches (see
// instanceFlags; a group member's is the member's own, wherever f runs),
// a collective child's its own pseudo action. A clone instance's
// unrunnable action is left out; the printing flags are t's own and do
// not reach the children. A collective notification reaches no child.
// Each child's action is looked up after fn has returned for the one
// before, so fn may change the actions.
func (cl *Cluster) eachChildAction(f, t *Action, flags int, fn func(c *Resource, ca *Action, cf int)) {
	if collectiveNotify(t) {
		return
	}
	for _, c := range t.Rsc.Children {
		var ca *Action
		cf := flags
		if c.Kind == cib.KindPrimitive {
			for _, x := range cl.findActions(c, t.Task) {
				if cf = instanceFlags(f, t, x, flags); cf == 0 {
					continue
				}
				ca = x
				break
			}
		} else {
			ca = cl.findAction(c, t.Task, nil)
		}
		if ca == nil || (t.Rsc.Kind == cib.KindClone && !ca.Runnable) {
			continue
		}
		fn(c, ca, cf&^(ordImpliesThenPrinted|ordImpliesFirstPrinted))
	}
}

// applyToChild applies the ordering from f to ca, a child's action found
// by eachChildAction: the child gets the first action's cluster-wide
// flags (see optionalFor).
func (cl *Cluster) applyToChild(f, ca *Action, cf int) bool {
	cl.clusterWideFlags = true
	defer func() { cl.clusterWideFlags = false }()
	return cl.applyEdge(f, ca, cf)
}

func (cl *Cluster) applyEdge(f, t *Action, flags int) bool {
	e := &edge{first: f, then: t, flags: flags}
	changed := false
	// A collective first action is summarised from its children, whether
	// or not their latest changes have reached it yet (Pacemaker derives
	// the flags of an ordering's first action that way). As the first
	// action of an ordering, a clone's action is runnable while one of its
	// instances' actions is, even if an ordering made the clone action
	// itself unrunnable.
	if f.Rsc != nil && f.Rsc.Kind != cib.KindPrimitive {
		if _, anyRunnable := cl.summariseCollective(f); anyRunnable && !f.Runnable && f.Rsc.Kind == cib.KindClone {
			f.Runnable = true
			defer func() { f.Runnable = false }()
		}
	}
	if flags&ordThenCancelsFirst != 0 && !f.Optional && t.Rsc != nil && t.Task == "reload-agent" {
		// A required stop makes the reload pointless.
		if !t.Optional {
			t.Optional = true
			t.Rsc.reload = false
			changed = true
		}
	}
	// Pacemaker's order of the ordering types: implies-then, restart,
	// implies-first, runnable-left, asymmetric, then the printing flags.
	if e.flags&ordImpliesThen != 0 && t.Optional && !cl.optionalFor(f, t) {
		if implyRequired(t, f) {
			changed = true
		}
	}
	if e.flags&ordRestart != 0 && t.Rsc != nil && f.Rsc != nil {
		restart := (!t.Optional) || (!t.Runnable && t.Rsc.Managed && f.Rsc == t.Rsc)
		if restart {
			if f.Runnable && f.Optional {
				implyRequired(f, t)
				changed = true
			}
			if !t.Optional && f.Optional {
				implyRequired(f, t)
				changed = true
			}
			if !f.Optional && !f.Runnable && t.Runnable {
				implyUnrunnable(t, f)
				changed = true
			}
		}
	}
	if e.flags&ordImpliesFirst != 0 && !cl.optionalFor(t, f) && f.Optional && !summaryOnly(f) {
		if implyRequired(f, t) {
			changed = true
		}
	}
	if e.flags&ordRunnableLeft != 0 && t.Runnable && !f.Runnable {
		if implyUnrunnable(t, f) {
			changed = true
		}
	}
	if flags&ordAsymmetric != 0 && t.Rsc != nil && !f.Runnable && t.Runnable {
		r := t.Rsc
		irrelevant := false
		if !r.Active() && t.Task == "stop" {
			irrelevant = true
		}
		if r.Kind == cib.KindPrimitive && r.Active() && t.Task == "start" && t.Optional && len(r.RunningOn) == 1 && r.RunningOn[0] == t.Node {
			irrelevant = true
		}
		if !irrelevant {
			implyUnrunnable(t, f)
			changed = true
		}
	}
	if e.flags&ordImpliesThenPrinted != 0 && !f.Optional && f.Runnable && !t.printAlways {
		t.printAlways = true
		changed = true
	}
	if e.flags&ordImpliesFirstPrinted != 0 && !t.Optional && !f.printAlways {
		f.printAlways = true
		changed = true
	}
	if e.flags&(ordImpliesThen|ordImpliesFirst|ordRestart) != 0 && !f.Runnable && t.Runnable && f.Rsc != nil && !f.Rsc.Managed && f.Rsc.Blocked && f.Task == "stop" {
		// A blocked stop of an unmanaged resource blocks what must follow
		// it (Pacemaker gives no reason for this one).
		t.Runnable = false
		changed = true
	}
	return changed
}

// ---- Transition Summary ----

func nodeName(n *Node) string {
	if n == nil {
		return ""
	}
	return n.Name
}

func (cl *Cluster) summary() []string {
	var out []string
	// Node actions print newest first, as Pacemaker's action list is kept.
	for i := len(cl.Actions) - 1; i >= 0; i-- {
		f := cl.Actions[i]
		if f.Rsc == nil && f.Task == "stonith" && !f.Optional {
			out = append(out, fmt.Sprintf("Fence (%s) %s '%s'", f.FenceAction, f.Node.Name, f.Reason))
		}
	}
	var walk func(r *Resource)
	walk = func(r *Resource) {
		if r.Kind != cib.KindPrimitive {
			kids := r.Children
			if r.IsClone() {
				kids = append([]*Resource(nil), kids...)
				sort.SliceStable(kids, func(i, j int) bool { return kids[i].instanceNum < kids[j].instanceNum })
			}
			for _, c := range kids {
				walk(c)
			}
			return
		}
		out = append(out, cl.rscSummary(r)...)
	}
	for _, r := range cl.Resources {
		walk(r)
	}
	return out
}

func (cl *Cluster) rscSummary(r *Resource) []string {
	current := r.activeNode()
	next := r.Assigned
	if !r.Managed || (current == nil && next == nil) {
		return nil
	}
	moving := current != nil && next != nil && current != next
	start := cl.findAction(r, "start", next)
	var startNode *Node
	if start != nil && start.Runnable {
		startNode = current
	}
	stop := cl.findAction(r, "stop", startNode)
	if startNode == nil && stop == nil && current != nil {
		stop = cl.findAction(r, "stop", current)
	}
	promote := cl.findAction(r, "promote", next)
	demote := cl.findAction(r, "demote", next)
	if demote == nil && current != nil {
		demote = cl.findAction(r, "demote", current)
	}
	role, nextRole := r.Role, r.NextRole
	if role == RoleStarted && r.Parent != nil && r.Top().Promotable {
		role = RoleUnpromoted
	}
	item := func(change string, origin, dest *Node, a, source *Action) string {
		return cl.actionItem(change, r, role, nextRole, origin, dest, a, source)
	}
	if role == nextRole {
		if next == nil {
			return nil
		}
		switch {
		case r.reload && (start == nil || start.Optional):
			return []string{item("Reload", current, next, start, nil)}
		case start == nil || start.Optional:
			if demote != nil && promote != nil && !demote.Optional && !promote.Optional {
				return []string{item("Re-promote", current, next, promote, demote)}
			}
			return nil
		case !start.Runnable:
			src := start
			if stop != nil && stop.Reason != "" {
				src = stop
			}
			if stop == nil {
				return nil
			}
			return []string{item("Stop", current, nil, stop, src)}
		case moving && current != nil:
			if r.Failed {
				return []string{item("Recover", current, next, stop, nil)}
			}
			return []string{item("Move", current, next, stop, nil)}
		case r.stopUnexpected:
			return []string{item("Recover", r.Assigned, nil, start, start)}
		case r.Failed && r.onFail != "demote":
			return []string{item("Recover", current, nil, stop, nil)}
		default:
			return []string{item("Restart", current, next, start, nil)}
		}
	}
	if stop != nil && (nextRole == RoleStopped || (start != nil && !start.Runnable)) {
		var lines []string
		for _, n := range r.RunningOn {
			so := cl.findAction(r, "stop", n)
			if so == nil {
				continue
			}
			src := start
			if so.Reason != "" || start == nil {
				src = so
			}
			lines = append(lines, item("Stop", n, nil, so, src))
		}
		return lines
	}
	switch {
	case stop != nil && r.Failed && r.onFail != "demote":
		return []string{item("Recover", current, next, stop, start)}
	case moving:
		return []string{item("Move", current, next, stop, nil)}
	case stop != nil && !stop.Optional:
		return []string{item("Restart", current, next, start, nil)}
	case role == RolePromoted:
		if demote == nil {
			return nil
		}
		return []string{item("Demote", current, next, demote, nil)}
	case nextRole == RolePromoted:
		if promote == nil {
			return nil
		}
		return []string{item("Promote", current, next, promote, nil)}
	case role == RoleStopped && roleRank(nextRole) > roleRank(RoleStopped):
		if start == nil {
			return nil
		}
		return []string{item("Start", current, next, start, nil)}
	}
	return nil
}

func (cl *Cluster) actionItem(change string, r *Resource, role, nextRole string, origin, dest *Node, a, source *Action) string {
	if source == nil {
		source = a
	}
	needRole := roleRank(role) > roleRank(RoleStarted) || roleRank(nextRole) > roleRank(RoleUnpromoted)
	sameHost := origin != nil && dest != nil && origin == dest
	sameRole := role == nextRole
	var details string
	switch {
	case needRole && origin == nil:
		details = fmt.Sprintf("%s -> %s %s", role, nextRole, nodeName(dest))
	case origin == nil:
		details = nodeName(dest)
	case needRole && dest == nil:
		details = fmt.Sprintf("%s %s", role, nodeName(origin))
	case dest == nil:
		details = nodeName(origin)
	case needRole && sameRole && sameHost:
		details = fmt.Sprintf("%s %s", role, nodeName(origin))
	case sameRole && sameHost:
		details = nodeName(origin)
	case needRole && sameRole:
		details = fmt.Sprintf("%s -> %s %s", nodeName(origin), nodeName(dest), role)
	case sameRole:
		details = fmt.Sprintf("%s -> %s", nodeName(origin), nodeName(dest))
	case sameHost:
		details = fmt.Sprintf("%s -> %s %s", role, nextRole, nodeName(origin))
	default:
		details = fmt.Sprintf("%s %s -> %s %s", role, nodeName(origin), nextRole, nodeName(dest))
	}
	reason := ""
	runnable := a == nil || a.Runnable
	switch {
	case source != nil && source.Reason != "" && !runnable:
		reason = "  due to " + source.Reason + " (blocked)"
	case source != nil && source.Reason != "":
		reason = "  due to " + source.Reason
	case !runnable:
		reason = "  blocked"
	}
	return strings.TrimRight(fmt.Sprintf("%-8s   %-5s   ( %s )%s", change, r.ID, details, reason), " ")
}

// groupOrderingRunnable reports whether a group's action counts as
// runnable for an ordering, as Pacemaker derives a group action's flags
// from its members rather than from the action itself: a group's start
// (stop, promote, demote) is runnable unless some member lacks the action
// (a stop or demote never is), while its "running" ("stopped", ...) is
// runnable only if every member's action is.
func (cl *Cluster) groupOrderingRunnable(ga *Action) bool {
	task := ga.Task
	if t, ok := doneToTask[task]; ok {
		task = t
	}
	for _, m := range ga.Rsc.Children {
		ma := cl.firstChildAction(m, task)
		if ma == nil {
			if task != "stop" && task != "demote" {
				return false
			}
			continue
		}
		if task != ga.Task && !ma.Runnable {
			return false
		}
	}
	return true
}

// firstChildAction returns a child's first action for task: a primitive's
// first real one, a collective's own pseudo action.
func (cl *Cluster) firstChildAction(c *Resource, task string) *Action {
	if c.Kind != cib.KindPrimitive {
		return cl.findAction(c, task, nil)
	}
	for _, x := range cl.findActions(c, task) {
		return x
	}
	return nil
}

var doneToTask = map[string]string{"running": "start", "stopped": "stop", "promoted": "promote", "demoted": "demote"}

// refreshCollective recomputes group/clone pseudo-action flags from their
// children (see summariseCollective).
func (cl *Cluster) refreshCollective() bool {
	changed := false
	for _, a := range cl.Actions {
		if a.Rsc == nil || a.Rsc.Kind == cib.KindPrimitive {
			continue
		}
		if ch, _ := cl.summariseCollective(a); ch {
			changed = true
		}
	}
	return changed
}

// summariseCollective derives collective action a's flags from its
// children's actions of the same task (start for running, ...), as
// Pacemaker derives a collective action's flags: a becomes required once
// a child's action is, a clone's action unrunnable once none of its
// instances' actions is runnable, and a group's completion action
// (running, ...) unrunnable once a member's action is missing or
// unrunnable. It reports whether a changed and whether some child's
// action is runnable. Notifications are not summarised.
func (cl *Cluster) summariseCollective(a *Action) (changed, anyRunnable bool) {
	if a.isNotification() {
		return false, false
	}
	r := a.Rsc
	task := a.Task
	if t, ok := doneToTask[task]; ok {
		task = t
	}
	for _, c := range r.Children {
		var ca *Action
		if c.Kind == cib.KindPrimitive {
			for _, x := range cl.findActions(c, task) {
				ca = x
				break
			}
		} else {
			ca = cl.findAction(c, a.Task, nil)
			if ca == nil {
				ca = cl.findAction(c, task, nil)
			}
			if ca == nil && (task == "promote" || task == "demote") {
				// Group instances of promotable clones have no promote
				// pseudo actions: look at their members.
				for _, p := range c.Primitives() {
					for _, x := range cl.findActions(p, task) {
						if a.Optional && !x.Optional {
							a.Optional = false
							changed = true
						}
						if x.Runnable {
							anyRunnable = true
						}
					}
				}
				continue
			}
		}
		if ca == nil {
			// A member that will not start makes the group's "running"
			// unrunnable; the group's start itself stays runnable (the
			// members before it still start, after the group's inputs).
			if r.Kind == cib.KindGroup && task != "stop" && task != "demote" && task != a.Task && a.Runnable {
				a.Runnable = false
				changed = true
			}
			continue
		}
		if a.Optional && !ca.Optional {
			a.Optional = false
			changed = true
		}
		if r.Kind == cib.KindClone && c.Kind == cib.KindGroup {
			if cl.groupOrderingRunnable(ca) {
				anyRunnable = true
			}
		} else if ca.Runnable {
			anyRunnable = true
		}
		if r.Kind == cib.KindGroup && task != a.Task && a.Runnable && !ca.Runnable {
			a.Runnable = false
			changed = true
		}
	}
	if r.Kind == cib.KindClone && !anyRunnable && a.Runnable {
		a.Runnable = false
		changed = true
	}
	return changed, anyRunnable
}

// refreshOneOrMore makes a one-or-more pseudo action unrunnable once fewer
// than its required inputs are runnable.
func (cl *Cluster) refreshOneOrMore() bool {
	changed := false
	for _, a := range cl.Actions {
		if a.requiredBefore == 0 || !a.Runnable {
			continue
		}
		n := 0
		for _, e := range a.before {
			if e.flags&ordOneOrMore != 0 && e.first.Runnable {
				n++
			}
		}
		if n < a.requiredBefore {
			a.Runnable = false
			changed = true
		}
	}
	return changed
}

// optionalFor is a first action's optional flag as seen by then: a clone's
// pseudo action ordered before an action on a node is summarised over the
// instances on that node only (Pacemaker's action_flags_for_ordering).
func (cl *Cluster) optionalFor(f, t *Action) bool {
	if t.isNotification() && !f.isNotification() && f.Rsc != nil && f.Rsc.IsClone() {
		return notifySourceOptional(f)
	}
	if cl.clusterWideFlags || f.Rsc == nil || !f.Rsc.IsClone() || t.Node == nil || (t.Rsc != nil && t.Rsc.Top() == f.Rsc) {
		return f.Optional
	}
	task := f.Task
	if x, ok := doneToTask[task]; ok {
		task = x
	}
	for _, inst := range f.Rsc.Children {
		for _, p := range inst.Primitives() {
			for _, a := range p.actionList {
				if a.Task == task && a.Interval == 0 && a.Node == t.Node && !a.Optional {
					return false
				}
			}
		}
	}
	return true
}

// antiColocationOrderings orders, for each -INFINITY colocation, the
// primary's stop before the dependent's start on the same node, so that the
// two never run together even briefly.
func (cl *Cluster) antiColocationOrderings() {
	top := func(r *Resource) *Resource {
		if r.Parent != nil && r.Parent.Kind == cib.KindGroup {
			return r.Parent
		}
		return r
	}
	// loses lists the actions that make a resource lose a role, gains
	// those that make it gain one.
	loses := func(role string) []string {
		switch role {
		case RolePromoted:
			return []string{"demote"}
		case RoleUnpromoted:
			return []string{"stop", "promote"}
		}
		return []string{"stop"}
	}
	gains := func(role string) []string {
		switch role {
		case RolePromoted:
			return []string{"promote"}
		case RoleUnpromoted:
			return []string{"start", "demote"}
		}
		return []string{"start"}
	}
	for _, co := range cl.colocations {
		if co.score > -cib.Infinity || co.id == "group:internal_colocation" {
			continue
		}
		a, b := top(co.dependent), top(co.primary)
		pairs := [][2]*Resource{{a, b}, {b, a}}
		roles := [][2]string{{co.depRole, co.primRole}, {co.primRole, co.depRole}}
		for i, p := range pairs {
			for _, ft := range loses(roles[i][0]) {
				for _, tt := range gains(roles[i][1]) {
					for _, f := range childDone(cl, p[0], ft) {
						for _, t := range childAction(cl, p[1], tt) {
							if f.Node != nil && t.Node != nil && f.Node != t.Node {
								continue
							}
							cl.order(f, t, ordOptional)
						}
					}
				}
			}
		}
	}
}

// orderThenProbes orders, for every "first start then start" ordering
// between primitives, the then-resource's probes before the first
// resource's stop on the same node: the then-resource's state there must be
// known before its dependency goes away (Pacemaker's order_then_probes).
func (cl *Cluster) orderThenProbes() {
	type pair struct{ f, t *Resource }
	seen := map[pair]bool{}
	for _, a := range cl.Actions {
		if a.Rsc == nil || a.Rsc.Kind != cib.KindPrimitive || a.Task != "start" {
			continue
		}
		for _, e := range a.after {
			t := e.then
			if t.Rsc == nil || t.Rsc.Kind != cib.KindPrimitive || t.Task != "start" || t.Rsc == a.Rsc || e.flags&ordImpliesThen == 0 {
				continue
			}
			k := pair{a.Rsc, t.Rsc}
			if seen[k] {
				continue
			}
			seen[k] = true
			for _, probe := range t.Rsc.actionList {
				if probe.Task != "monitor" || probe.Interval != 0 || probe.Node == nil {
					continue
				}
				for _, st := range a.Rsc.actionList {
					if st.Task == "stop" && st.Node == probe.Node {
						cl.order(probe, st, ordOptional)
					}
				}
			}
		}
	}
}

// runsOn reports whether r is active on n.
func (r *Resource) runsOn(n *Node) bool {
	for _, x := range r.RunningOn {
		if x == n {
			return true
		}
	}
	return false
}
