package simulate

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

// graphOrder returns the in-graph actions in the order Pacemaker's graph
// lists its synapses: top-level resources in scheduling order, each
// resource's own actions newest first (groups before their members, clones
// after their instances), then the actions without a resource, newest first.
func graphOrder(t *scheduler.Transition) []*scheduler.Action {
	graph := t.GraphActions()
	byRsc := map[*scheduler.Resource][]*scheduler.Action{}
	var rest []*scheduler.Action
	for _, a := range graph {
		if a.Rsc != nil {
			byRsc[a.Rsc] = append(byRsc[a.Rsc], a)
		} else {
			rest = append(rest, a)
		}
	}
	// Pacemaker creates some actions while unpacking the status (see
	// Action.FromUnpack), then probes, then every other action; each
	// resource lists its actions newest first.
	// While unpacking a node's history it clears expired fail counts (entry
	// by entry), then creates the recurring operations the history shows
	// active, then the stop of a resource that failed there and is to be
	// recovered (a failed resource's stops on other nodes, as when it is
	// active on several, come later, with scheduling): within that phase,
	// actions follow the nodes' order, and on one node that order.
	// The checks of each history entry against the definition come next,
	// then probes, the clearing of orphans' fail counts, then everything
	// else.
	phase := func(a *scheduler.Action) int {
		switch {
		case a.Pseudo:
			return 4
		case a.Task == "monitor" && a.Interval == 0:
			return 2
		case a.FromUnpack():
			return 0
		case a.Early():
			return 1
		case a.OrphanClear():
			return 3
		}
		return 4
	}
	nodeIndex := map[*scheduler.Node]int{}
	if t.Cluster != nil {
		for i, n := range t.Cluster.Nodes {
			nodeIndex[n] = i
		}
	}
	unpackRank := func(a *scheduler.Action) int {
		rank := 3 * nodeIndex[a.Node]
		switch a.Task {
		case "clear_failcount": // while unpacking each history entry
		case "stop": // after the resource's whole history
			rank += 2
		default: // recurring operations, after the entries
			rank++
		}
		return rank
	}
	newestFirst := func(list []*scheduler.Action) []*scheduler.Action {
		out := append([]*scheduler.Action(nil), list...)
		sort.SliceStable(out, func(i, j int) bool {
			pi, pj := phase(out[i]), phase(out[j])
			if pi != pj {
				return pi > pj
			}
			if pi == 0 {
				if ri, rj := unpackRank(out[i]), unpackRank(out[j]); ri != rj {
					return ri > rj
				}
				if hi, hj := out[i].HistoryIndex(), out[j].HistoryIndex(); hi != hj {
					return hi > hj
				}
			}
			return out[i].ID > out[j].ID
		})
		return out
	}
	var order []*scheduler.Action
	visited := map[*scheduler.Resource]bool{}
	var visit func(r *scheduler.Resource)
	visit = func(r *scheduler.Resource) {
		if visited[r] {
			return
		}
		visited[r] = true
		if r.IsClone() {
			for _, c := range r.Children {
				visit(c)
			}
			order = append(order, newestFirst(byRsc[r])...)
			return
		}
		order = append(order, newestFirst(byRsc[r])...)
		for _, c := range r.Children {
			visit(c)
		}
	}
	if t.Cluster != nil {
		for _, r := range t.Cluster.Resources {
			visit(r)
		}
	}
	// Resources not reachable from the top-level list (defensive).
	var leftovers []*scheduler.Action
	for r, list := range byRsc {
		if !visited[r] {
			leftovers = append(leftovers, list...)
		}
	}
	order = append(order, newestFirst(leftovers)...)
	return append(order, newestFirst(rest)...)
}

// graphInputs returns the in-graph actions a must wait for: its direct
// inputs that are in the graph (as Pacemaker's graph lists them; an ordering
// through an action outside the graph does not carry over).
func graphInputs(a *scheduler.Action, inGraph map[*scheduler.Action]bool) []*scheduler.Action {
	var out []*scheduler.Action
	seen := map[*scheduler.Action]bool{a: true}
	walk := func(x *scheduler.Action) {
		for _, in := range x.Inputs() {
			if seen[in] {
				continue
			}
			seen[in] = true
			if inGraph[in] {
				out = append(out, in)
			}
		}
	}
	walk(a)
	return out
}

// executeGraph simulates Pacemaker's graph executor: passes over the synapse
// list fire every action whose inputs have completed; a fired action
// completes at once, so later synapses of the same pass may fire too.
// Actions that can never fire (ordering loops) are left out.
func executeGraph(t *scheduler.Transition) []*scheduler.Action {
	order := graphOrder(t)
	inGraph := make(map[*scheduler.Action]bool, len(order))
	for _, a := range order {
		inGraph[a] = true
	}
	inputs := make(map[*scheduler.Action][]*scheduler.Action, len(order))
	for _, a := range order {
		inputs[a] = graphInputs(a, inGraph)
	}
	done := make(map[*scheduler.Action]bool, len(order))
	var fired []*scheduler.Action
	for progress := true; progress; {
		progress = false
		for _, a := range order {
			if done[a] {
				continue
			}
			ready := true
			for _, in := range inputs[a] {
				if !done[in] {
					ready = false
					break
				}
			}
			if ready {
				done[a] = true
				fired = append(fired, a)
				progress = true
			}
		}
	}
	return fired
}

// isFencing reports whether a is a fencing action.
func isFencing(a *scheduler.Action) bool { return a.Task == "stonith" && !a.Pseudo }

// clusterTasks are node-level actions run by the controller itself.
var clusterTasks = map[string]bool{"do_shutdown": true, "shutdown": true, "clear_failcount": true, "lrm_delete": true}

// Action kinds of an executed graph action.
const (
	KindPseudo   = "pseudo"
	KindResource = "resource"
	KindFencing  = "fencing"
	KindCluster  = "cluster"
)

// Executed is one action fired by the simulated graph executor.
type Executed struct {
	Kind string
	// Name is the pseudo action key, the resource name, or the fencing
	// target; Rsc is the resource of cluster actions (clear_failcount).
	Name, Rsc string
	// Op is the operation (start, monitor, ...), fencing action or
	// cluster task.
	Op       string
	Node     string
	Interval int64
}

// String renders the "Executing Cluster Transition" entry (without "* ").
func (x Executed) String() string {
	switch x.Kind {
	case KindPseudo:
		return "Pseudo action:   " + x.Name
	case KindFencing:
		return fmt.Sprintf("Fencing %s (%s)", x.Name, x.Op)
	case KindCluster:
		if x.Rsc != "" {
			return fmt.Sprintf("Cluster action:  %s for %s on %s", x.Op, x.Rsc, x.Node)
		}
		return fmt.Sprintf("Cluster action:  %s on %s", x.Op, x.Node)
	}
	op := x.Op
	if x.Interval > 0 {
		op += "=" + strconv.FormatInt(x.Interval, 10)
	}
	return fmt.Sprintf("Resource action: %-15s %s on %s", x.Name, op, x.Node)
}

// describe turns a fired graph action into its Executed record.
func describe(a *scheduler.Action) Executed {
	node := ""
	if a.Node != nil {
		node = a.Node.Name
	}
	switch {
	case a.Pseudo:
		return Executed{Kind: KindPseudo, Name: pseudoKey(a)}
	case isFencing(a):
		act := a.FenceAction
		if act == "" {
			act = "reboot"
		}
		return Executed{Kind: KindFencing, Name: node, Op: act, Node: node}
	case clusterTasks[a.Task]:
		task := a.Task
		if task == "shutdown" {
			task = "do_shutdown"
		}
		x := Executed{Kind: KindCluster, Op: task, Node: node}
		if a.Rsc != nil {
			x.Rsc = a.Rsc.ID
			if isAnonymousInstance(a.Rsc) {
				x.Rsc = a.Rsc.BaseID
			}
		}
		return x
	case a.Rsc != nil:
		return Executed{Kind: KindResource, Name: shownName(a.Rsc), Op: a.Task, Node: node, Interval: a.Interval}
	}
	return Executed{Kind: KindPseudo, Name: a.Key()}
}

// isAnonymousInstance reports whether r belongs to an anonymous clone.
func isAnonymousInstance(r *scheduler.Resource) bool {
	for p := r.Parent; p != nil; p = p.Parent {
		if p.IsClone() {
			return !p.GloballyUnique
		}
	}
	return false
}

// baseNamed reports whether an instance of r's clone (orphans included)
// was last found under the bare base id of r (a history entry "web" rather
// than "web:N"): the executor then knows every instance by that name.
func baseNamed(r *scheduler.Resource) bool {
	for _, p := range r.Top().Primitives() {
		if p.BaseID == r.BaseID && p.CloneName() == r.BaseID {
			return true
		}
	}
	return false
}

// shownName is the resource name the simulated executor shows for an
// action of r. An orphan instance of an anonymous clone is named by the
// history entry it was created for; other instances by their base id when
// an instance was last found under that bare id (the executor knows that
// name), else by the history id the instance was found active under, else
// by the instance id. History entries that leave their instance stopped
// never name it.
func shownName(r *scheduler.Resource) string {
	if !isAnonymousInstance(r) {
		return r.ID
	}
	// An orphan instance is named by the history entry it was created for,
	// so the action reaches that entry's instance on the node.
	if cn := r.ActiveCloneName(); r.Orphan && cn != "" {
		return cn
	}
	if baseNamed(r) {
		return r.BaseID
	}
	// Else the history id the instance was found active under (on
	// whichever node, so also for its start elsewhere); an entry that
	// leaves it stopped does not name it.
	if cn := r.ActiveCloneName(); cn != "" {
		return cn
	}
	return r.ID
}

// pseudoKey is the operation key of a pseudo action: active anonymous
// instances are keyed by the history id they were found active under.
func pseudoKey(a *scheduler.Action) string {
	r := a.Rsc
	if r == nil || r.Kind != cib.KindPrimitive || !isAnonymousInstance(r) || len(r.RunningOn) == 0 {
		return a.Key()
	}
	id := r.ID
	if cn := r.ActiveCloneName(); cn != "" {
		id = cn
	}
	if a.Task == "notify" && a.NotifyMeta != nil {
		return id + "_" + a.NotifyMeta["notify_type"] + "_notify_" + a.NotifyMeta["notify_operation"] + "_0"
	}
	return id + "_" + a.Task + "_" + strconv.FormatInt(a.Interval, 10)
}

// targetRC returns the result the simulation records for a resource action.
func targetRC(a *scheduler.Action) int {
	if a.Task != "monitor" {
		return 0
	}
	if a.Interval == 0 || a.StoppedRole {
		return 7
	}
	promoted, other := false, false
	for _, op := range a.Rsc.Ops {
		if op.Name == "monitor" && op.Interval == a.Interval {
			if op.Role == scheduler.RolePromoted {
				promoted = true
			} else {
				other = true
			}
		}
	}
	if promoted && (!other || a.Rsc.NextRole == scheduler.RolePromoted) {
		return 8
	}
	return 0
}

// statusEditor applies simulated results to a private copy of a CIB status.
type statusEditor struct {
	cib *cib.CIB
	now time.Time
}

// copyForSimulation returns a CIB sharing c's configuration with a status
// section that may be modified without affecting c.
func copyForSimulation(c *cib.CIB) *cib.CIB {
	out := *c
	out.Attrs = append([]cib.Attr(nil), c.Attrs...)
	out.Status.Nodes = make([]*cib.NodeState, len(c.Status.Nodes))
	for i, ns := range c.Status.Nodes {
		n := *ns
		n.Attrs = append([]cib.Attr(nil), ns.Attrs...)
		n.Resources = make([]*cib.LRMResource, len(ns.Resources))
		for j, lr := range ns.Resources {
			l := *lr
			l.Ops = append([]*cib.LRMOp(nil), lr.Ops...)
			n.Resources[j] = &l
		}
		out.Status.Nodes[i] = &n
	}
	return &out
}

func setAttr(attrs []cib.Attr, name, value string) []cib.Attr {
	for i := range attrs {
		if attrs[i].Name == name {
			attrs[i].Value = value
			return attrs
		}
	}
	return append(attrs, cib.Attr{Name: name, Value: value})
}

func (e *statusEditor) nodeState(n *scheduler.Node) *cib.NodeState {
	for _, ns := range e.cib.Status.Nodes {
		if ns.ID == n.ID || (ns.Uname != "" && ns.Uname == n.Name) {
			return ns
		}
	}
	ns := &cib.NodeState{ID: n.ID, Uname: n.Name, Attrs: []cib.Attr{{Name: "id", Value: n.ID}, {Name: "uname", Value: n.Name}}}
	e.cib.Status.Nodes = append(e.cib.Status.Nodes, ns)
	return ns
}

// fence marks a node cleanly down and clears its history and transient
// attributes, as the controller does after a successful fencing.
func (e *statusEditor) fence(n *scheduler.Node, action string) {
	if action == "on" {
		return
	}
	ns := e.nodeState(n)
	ns.InCCM, ns.Crmd, ns.Join, ns.Expected = "false", "offline", "down", "down"
	ns.Attrs = setAttr(ns.Attrs, "in_ccm", "false")
	ns.Attrs = setAttr(ns.Attrs, "crmd", "offline")
	ns.Attrs = setAttr(ns.Attrs, "join", "down")
	ns.Attrs = setAttr(ns.Attrs, "expected", "down")
	ns.Resources = nil
	ns.Transient = nil
}

// lrmResource finds the history entry of primitive r on ns under the
// first of ids present there, or creates one under ids[0].
func lrmResource(ns *cib.NodeState, r *scheduler.Resource, ids ...string) *cib.LRMResource {
	for _, id := range ids {
		for _, lr := range ns.Resources {
			if lr.ID == id {
				return lr
			}
		}
	}
	id := ids[0]
	lr := &cib.LRMResource{ID: id, Class: r.Class, Provider: r.Provider, Type: r.Type}
	lr.Attrs = []cib.Attr{{Name: "id", Value: id}, {Name: "class", Value: r.Class}}
	if r.Provider != "" {
		lr.Attrs = append(lr.Attrs, cib.Attr{Name: "provider", Value: r.Provider})
	}
	lr.Attrs = append(lr.Attrs, cib.Attr{Name: "type", Value: r.Type})
	ns.HasLRM = true
	ns.Resources = append(ns.Resources, lr)
	return lr
}

// injectEntry finds or creates the history entry on ns that an action of
// anonymous instance r is recorded in: the entry under the name the
// executor shows (see shownName), else, unless that is the bare base id, the one
// under the graph's long id (the history id the instance was found active
// under, or its instance id), else a new entry under the shown name.
func injectEntry(ns *cib.NodeState, r *scheduler.Resource) *cib.LRMResource {
	shown := shownName(r)
	if shown == r.BaseID {
		return lrmResource(ns, r, shown)
	}
	long := r.ID
	if cn := r.ActiveCloneName(); cn != "" {
		long = cn
	}
	return lrmResource(ns, r, shown, long)
}

// record applies a resource action's simulated result.
func (e *statusEditor) record(a *scheduler.Action, transition int) {
	if a.Rsc == nil || a.Node == nil {
		return
	}
	switch a.Task {
	case "notify", "cancel", "reload-agent", "reload":
		return
	}
	ns := e.nodeState(a.Node)
	if a.Task == "delete" || a.Task == "lrm_delete" {
		kept := ns.Resources[:0:0]
		for _, lr := range ns.Resources {
			if lr.ID != a.Rsc.ID && !(lr.ID == a.Rsc.BaseID && isAnonymousInstance(a.Rsc)) {
				kept = append(kept, lr)
			}
		}
		ns.Resources = kept
		return
	}
	var lr *cib.LRMResource
	if isAnonymousInstance(a.Rsc) {
		lr = injectEntry(ns, a.Rsc)
	} else {
		lr = lrmResource(ns, a.Rsc, a.Rsc.ID)
	}
	rc := targetRC(a)
	callID := 0
	for _, op := range lr.Ops {
		if op.CallID > callID {
			callID = op.CallID
		}
	}
	callID++
	id := a.Rsc.ID + "_last_0"
	if a.Task == "monitor" && a.Interval > 0 {
		id = a.Rsc.ID + "_monitor_" + strconv.FormatInt(a.Interval, 10)
	}
	key := fmt.Sprintf("%d:%d:%d:%s", a.ID, transition, rc, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
	magic := fmt.Sprintf("0:%d;%s", rc, key)
	ts := strconv.FormatInt(e.now.Unix(), 10)
	op := &cib.LRMOp{
		ID: id, Operation: a.Task, OperationKey: a.Key(), Interval: a.Interval, OpStatus: 0, RCCode: rc, CallID: callID,
		TransitionKey: key, TransitionMagic: magic, LastRCChange: e.now.Unix(), LastRun: e.now.Unix(), OnNode: a.Node.Name,
	}
	op.Attrs = []cib.Attr{
		{Name: "id", Value: id}, {Name: "operation_key", Value: op.OperationKey}, {Name: "operation", Value: a.Task},
		{Name: "crm-debug-origin", Value: "crm_simulate"}, {Name: "crm_feature_set", Value: "3.16.1"},
		{Name: "transition-key", Value: key}, {Name: "transition-magic", Value: magic},
		{Name: "exit-reason", Value: ""}, {Name: "on_node", Value: a.Node.Name},
		{Name: "call-id", Value: strconv.Itoa(callID)}, {Name: "rc-code", Value: strconv.Itoa(rc)},
		{Name: "op-status", Value: "0"}, {Name: "interval", Value: strconv.FormatInt(a.Interval, 10)},
		{Name: "last-rc-change", Value: ts}, {Name: "last-run", Value: ts},
		{Name: "exec-time", Value: "0"}, {Name: "queue-time", Value: "0"},
	}
	for i, old := range lr.Ops {
		if old.ID == id {
			lr.Ops[i] = op
			return
		}
	}
	lr.Ops = append(lr.Ops, op)
}
