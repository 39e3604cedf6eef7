package scheduler

import (
	"sort"
	"strconv"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

// OCF return codes.
const (
	rcOK              = 0
	rcNotRunning      = 7
	rcRunningPromoted = 8
	rcFailedPromoted  = 9
	rcNotInstalled    = 5
	rcNotConfigured   = 6
)

// Operation statuses (op-status).
const (
	execPending      = -1
	execDone         = 0
	execCancelled    = 1
	execTimeout      = 2
	execNotSupported = 3
	execError        = 4
	execErrorHard    = 5
	execErrorFatal   = 6
	execNotInstalled = 7
	execNotConnected = 8
	execInvalid      = 9
)

func (cl *Cluster) fence(n *Node, reason string) {
	if !n.Unclean || n.UncleanReason == "" {
		n.UncleanReason = reason
	}
	n.Unclean = true
}

func (cl *Cluster) unpackStatus() error {
	states := map[string]*cib.NodeState{}
	for _, ns := range cl.CIB.Status.Nodes {
		n := cl.nodeByID[ns.ID]
		if n == nil && ns.Uname != "" {
			n = cl.nodeByName[ns.Uname]
		}
		if n == nil {
			continue
		}
		states[n.Name] = ns
		// transient attributes
		ctx := &cib.RuleContext{Now: cl.Now, Index: cl.Index, NodeAttrs: n.Attrs}
		trans := cib.UnpackNVSets(ns.Transient, ctx, "", nil)
		for k, v := range trans {
			n.Attrs[k] = v
		}
		if isTrue(n.Attrs["standby"]) {
			n.Standby = true
		}
		if isTrue(n.Attrs["maintenance"]) {
			n.Maintenance = true
		}
		n.Unseen = false
		n.Unclean = false
		cl.determineOnline(n, ns)
	}
	// Quorum-less clusters fence nothing unless allowed; handled at fencing time.
	// Resource histories: online nodes first, then the rest.
	// Resource histories in node_state order. Without fencing, only online
	// nodes' histories count.
	var order []*cib.NodeState
	for _, ns := range cl.CIB.Status.Nodes {
		n := cl.stateNode(ns)
		if n == nil {
			continue
		}
		if cl.StonithEnabled || n.Online {
			order = append(order, ns)
		}
	}
	var hist []historyEntry
	for _, ns := range order {
		n := cl.stateNode(ns)
		for _, lr := range ns.Resources {
			cl.unpackLRMResource(n, lr, &hist)
		}
	}
	fileHistories(hist)
	if !cl.HaveQuorum && cl.NoQuorumPolicy == "suicide" && cl.StonithEnabled && isTrue(cl.CIB.GetAttr("no-quorum-panic")) {
		for _, n := range cl.Nodes {
			if n.Online {
				cl.fence(n, "cluster does not have quorum")
			}
		}
	}
	return nil
}

func (cl *Cluster) stateNode(ns *cib.NodeState) *Node {
	n := cl.nodeByID[ns.ID]
	if n == nil && ns.Uname != "" {
		n = cl.nodeByName[ns.Uname]
	}
	return n
}

func boolish(s string) bool {
	if isTrue(s) {
		return true
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return true
	}
	return false
}

func (cl *Cluster) determineOnline(n *Node, ns *cib.NodeState) {
	shutdown := n.Attrs["shutdown"]
	n.Shutdown = shutdown != "" && shutdown != "0"
	exp := ns.Expected
	n.ExpectedUp = !n.Shutdown && exp == "member"
	inCluster := boolish(ns.InCCM)
	hasInCCM := false
	for _, a := range ns.Attrs {
		if a.Name == "in_ccm" {
			hasInCCM = true
		}
	}
	crmdOnline := strings.EqualFold(ns.Crmd, "online") || boolish(ns.Crmd) && ns.Crmd != "offline"
	join := ns.Join
	online := false
	if !cl.StonithEnabled {
		switch {
		case !inCluster:
		case crmdOnline:
			if join == "member" {
				online = true
			} else {
				n.Pending = join == "pending"
			}
		case !n.ExpectedUp:
		default:
			cl.fence(n, "peer is unexpectedly down")
		}
	} else {
		terminate := n.Attrs["terminate"]
		doTerminate := isTrue(terminate) || (terminate != "" && terminate[0] != '0' && isDigit(terminate[0]))
		online = inCluster
		if exp == "" {
			exp = "down"
		}
		switch {
		case n.Shutdown:
			online = crmdOnline
		case !hasInCCM:
			cl.fence(n, "peer has not been seen by the cluster")
		case join == "nack" || join == "banned":
			cl.fence(n, "peer failed Pacemaker membership criteria")
		case !doTerminate && exp == "down":
			if inCluster || crmdOnline {
				n.Standby, n.Pending = true, true
			}
		case doTerminate && join == "down" && !inCluster && !crmdOnline:
			online = false
		case !inCluster:
			cl.fence(n, "peer is no longer part of the cluster")
		case !crmdOnline:
			cl.fence(n, "peer process is no longer available")
		case doTerminate:
			cl.fence(n, "termination was requested")
		case join == "member":
		case join == "pending" || join == "down":
			n.Standby, n.Pending = true, true
		default:
			cl.fence(n, "peer was in an unknown state")
		}
	}
	n.Online = online
}

// transition-key: action:transition:target_rc:uuid
func targetRC(op *cib.LRMOp) int {
	k := op.TransitionKey
	if k == "" {
		if m := op.TransitionMagic; m != "" {
			if i := strings.Index(m, ";"); i >= 0 {
				k = m[i+1:]
			}
		}
	}
	// The third colon-separated field, without splitting the whole key.
	i := strings.IndexByte(k, ':')
	if i < 0 {
		return -1
	}
	rest := k[i+1:]
	j := strings.IndexByte(rest, ':')
	if j < 0 {
		return -1
	}
	field := rest[j+1:]
	if e := strings.IndexByte(field, ':'); e >= 0 {
		field = field[:e]
	}
	if v, err := strconv.Atoi(field); err == nil {
		return v
	}
	return -1
}

// findInstance maps an lrm_resource id to the resource it describes,
// creating orphans as needed.
func (cl *Cluster) findInstance(n *Node, lr *cib.LRMResource) *Resource {
	id := lr.ID
	if r := cl.byID[id]; r != nil && r.Kind == cib.KindPrimitive && (r.Parent == nil || !r.Parent.IsClone() && (r.Parent.Parent == nil || !r.Parent.Parent.IsClone())) {
		return r
	}
	base := id
	if i := strings.LastIndex(id, ":"); i >= 0 {
		base = id[:i]
	}
	def := cl.Index.Resources[base]
	if def == nil || def.Kind != cib.KindPrimitive {
		return cl.orphan(lr, base)
	}
	// Find the clone ancestor (the outermost clone above the primitives
	// with this base id; every instance has the same one).
	clone := cl.cloneOfBase(base)
	if clone == nil {
		if r := cl.byID[base]; r != nil {
			return r
		}
		return cl.orphan(lr, base)
	}
	return cl.findAnonymous(clone, base, n)
}

func instanceMember(inst *Resource, base string) *Resource {
	for _, p := range inst.Primitives() {
		if p.BaseID == base {
			return p
		}
	}
	return nil
}

func (cl *Cluster) findAnonymous(clone *Resource, base string, n *Node) *Resource {
	var inactive, found *Resource
	skipInactive := false
	for _, inst := range clone.Children {
		var locs []*Node
		for _, p := range inst.Primitives() {
			for _, rn := range p.RunningOn {
				dup := false
				for _, x := range locs {
					if x == rn {
						dup = true
					}
				}
				if !dup {
					locs = append(locs, rn)
				}
			}
		}
		if len(locs) > 0 {
			if locs[0] == n {
				if m := instanceMember(inst, base); m != nil {
					if len(m.RunningOn) > 0 {
						skipInactive = true
					} else {
						found = m
						break
					}
				}
			}
			continue
		}
		if !skipInactive && inactive == nil {
			inactive = instanceMember(inst, base)
		}
	}
	rsc := found
	if rsc == nil && !skipInactive && inactive != nil {
		rsc = inactive
	}
	if rsc != nil && rsc.Requires != "fencing" && (!n.Online || n.Unclean) && clone.CloneMax < len(cl.Nodes) {
		rsc = nil
	}
	if rsc != nil {
		return rsc
	}
	if err := cl.addInstance(clone); err != nil {
		return nil
	}
	inst := clone.Children[len(clone.Children)-1]
	for _, p := range inst.Primitives() {
		p.Orphan = true
	}
	return instanceMember(inst, base)
}

func (cl *Cluster) orphan(lr *cib.LRMResource, id string) *Resource {
	if r := cl.byID[lr.ID]; r != nil && r.Orphan {
		return r
	}
	r := &Resource{ID: lr.ID, BaseID: id, Kind: cib.KindPrimitive, Class: lr.Class, Provider: lr.Provider, Type: lr.Type, Role: RoleStopped, NextRole: RoleUnknown,
		Orphan: true, Managed: !cl.MaintenanceMode, Meta: map[string]string{}, Params: map[string]string{},
		knownOn: map[string]bool{}, failNodes: map[string]bool{}, lastFailure: map[string]*cib.LRMOp{}, opHistory: map[string][]*cib.LRMOp{},
		stopFailed: map[string]bool{}, allowed: map[string]int{}, actions: map[string]*Action{}, discoverNever: map[string]bool{},
		MigrationThreshold: cib.Infinity, TargetRole: RoleStarted, MultipleActive: "stop_start", Critical: true, Requires: "quorum"}
	if cl.StonithEnabled {
		r.Requires = "fencing"
	}
	r.IsStonith = r.Class == "stonith"
	if r.IsStonith {
		r.Requires = "nothing"
	}
	cl.register(r)
	cl.Resources = append(cl.Resources, r)
	return r
}

func (cl *Cluster) onFailFor(r *Resource, op *cib.LRMOp) string {
	for _, d := range r.Ops {
		if d.Name == op.Operation && d.Interval == op.Interval && d.OnFail != "" {
			return d.OnFail
		}
	}
	if r.container != nil {
		// Even a failed stop only restarts the container.
		return "restart-container"
	}
	if op.Operation == "stop" {
		if cl.StonithEnabled {
			return "fence"
		}
		return "block"
	}
	return "restart"
}

var onFailRank = map[string]int{"ignore": 0, "": 1, "restart": 2, "demote": 2, "restart-container": 2, "stop": 3, "standby": 4, "block": 5, "fence": 6}

// sameAsLastFailure reports whether op succeeded where the same recurring
// operation last failed on n: that clears the past failure.
func (cl *Cluster) sameAsLastFailure(r *Resource, n *Node, op *cib.LRMOp) bool {
	lf := r.lastFailure[n.Name]
	return lf != nil && op.Interval > 0 && lf.Operation == op.Operation && lf.Interval == op.Interval
}

// historyLess orders a resource's operation history as Pacemaker sorts
// it: by call id; an operation and its last_failure entry share one, and
// then the later last-rc-change is the newer result. A pending operation
// (call id -1) is placed by the transitions that recorded the two
// operations (transition-magic): after the other one when both come from
// the same transition or from different controllers, else in transition
// order (transition -1, a shutdown's, last).
func historyLess(a, b *cib.LRMOp) bool {
	switch {
	case a.CallID == -1 && b.CallID == -1:
		return false
	case a.CallID >= 0 && a.CallID < b.CallID:
		return true
	case b.CallID >= 0 && a.CallID > b.CallID:
		return false
	case b.CallID >= 0 && a.CallID == b.CallID:
		return a.LastRCChange >= 0 && a.LastRCChange < b.LastRCChange
	}
	aUUID, aID, aOK := magicTransition(a)
	bUUID, bID, bOK := magicTransition(b)
	switch {
	case !aOK || !bOK:
		return false
	case aUUID != bUUID || aID == bID:
		return b.CallID == -1
	case aID >= 0 && aID < bID, bID == -1:
		return true
	}
	return false
}

// magicTransition decodes the controller uuid and transition number from
// an operation's transition-magic ("status:rc;action:transition:rc:uuid").
func magicTransition(op *cib.LRMOp) (uuid string, id int, ok bool) {
	m := op.TransitionMagic
	i := strings.IndexByte(m, ';')
	if i < 0 {
		return "", 0, false
	}
	f := strings.Split(m[i+1:], ":")
	if len(f) < 4 {
		return "", 0, false
	}
	id, err := strconv.Atoi(f[1])
	if err != nil {
		return "", 0, false
	}
	return f[3], id, true
}

// sortedHistory returns ops in history order. The result is read only: it
// is ops itself when already in order (the common case; up to the length
// sort.SliceStable insertion-sorts in one block, where "no adjacent pair
// out of order" means it would move nothing), else a sorted copy.
func sortedHistory(ops []*cib.LRMOp) []*cib.LRMOp {
	if len(ops) == 0 {
		return nil
	}
	if len(ops) <= 20 {
		inOrder := true
		for i := 1; i < len(ops); i++ {
			if historyLess(ops[i], ops[i-1]) {
				inOrder = false
				break
			}
		}
		if inOrder {
			return ops[:len(ops):len(ops)]
		}
	}
	out := append([]*cib.LRMOp(nil), ops...)
	sort.SliceStable(out, func(i, j int) bool { return historyLess(out[i], out[j]) })
	return out
}

// historyEntry is a resource's operation history on a node, as unpacked.
// Unpacking goes node by node; the histories are filed into the
// resources' per-node maps (opHistory, knownOn) afterwards, resource by
// resource, which touches each map once instead of once per node (nothing
// reads those maps while the status is unpacked).
type historyEntry struct {
	r     *Resource
	node  string
	ops   []*cib.LRMOp
	known bool
}

// fileHistories files the histories into the resources' maps, keeping
// their order for each resource (a later entry for the same node wins, as
// when written directly). Maps still empty are sized for all their
// entries at once.
func fileHistories(hist []historyEntry) {
	if len(hist) == 0 {
		return
	}
	// A stable counting sort by resource (in order of first appearance).
	group := make(map[*Resource]int32, len(hist)/8)
	of := make([]int32, len(hist))
	var count []int32
	for i, h := range hist {
		g, ok := group[h.r]
		if !ok {
			g = int32(len(count))
			group[h.r] = g
			count = append(count, 0)
		}
		of[i] = g
		count[g]++
	}
	start := make([]int32, len(count)+1)
	for g, c := range count {
		start[g+1] = start[g] + c
	}
	next := append([]int32(nil), start[:len(count)]...)
	sorted := make([]int32, len(hist))
	for i, g := range of {
		sorted[next[g]] = int32(i)
		next[g]++
	}
	for g := range count {
		idx := sorted[start[g]:start[g+1]]
		r := hist[idx[0]].r
		if len(r.opHistory) == 0 {
			r.opHistory = make(map[string][]*cib.LRMOp, len(idx))
		}
		if len(r.knownOn) == 0 {
			r.knownOn = make(map[string]bool, len(idx))
		}
		for _, i := range idx {
			h := &hist[i]
			r.opHistory[h.node] = h.ops
			if h.known {
				r.knownOn[h.node] = true
			}
		}
	}
}

func (cl *Cluster) unpackLRMResource(n *Node, lr *cib.LRMResource, hist *[]historyEntry) {
	r := cl.findInstance(n, lr)
	if r == nil {
		return
	}
	// The history id this instance was last found under (Pacemaker's
	// clone_name), used for its promotion attributes.
	if lr.ID != r.ID {
		r.cloneName = lr.ID
		r.lastCloneName = lr.ID
	} else {
		r.cloneName = ""
	}
	ops := sortedHistory(lr.Ops)
	*hist = append(*hist, historyEntry{r: r, node: n.Name, ops: ops})
	entry := len(*hist) - 1
	// A shutdown lock recorded in the history keeps the resource on n
	// until n returns or the lock expires (then the history is deleted).
	if cl.shutdownLock {
		for _, a := range lr.Attrs {
			if a.Name != "shutdown-lock" {
				continue
			}
			at, err := strconv.ParseInt(a.Value, 10, 64)
			if err != nil || at == 0 {
				break
			}
			if cl.shutdownLockLimit > 0 && cl.Now.Unix() > at+cl.shutdownLockLimit {
				r.lockExpiredOn = append(r.lockExpiredOn, n)
			} else {
				r.lockNode, r.lockTime = n, at
			}
		}
	}
	// History recorded for another agent (class, provider or type changed):
	// Pacemaker deletes it and clears the fail count, so it does not count.
	if !r.Orphan && n.Online && lr.Type != "" && (lr.Type != r.Type || lr.Class != r.Class || lr.Provider != r.Provider) {
		if r.agentChanged == nil {
			r.agentChanged = map[string]bool{}
		}
		r.agentChanged[n.Name] = true
		if r.IsStonith {
			// A fence device running with another agent restarts there
			// (and its node is unfenced again).
			if r.forceStopOn == nil {
				r.forceStopOn = map[string]bool{}
			}
			r.forceStopOn[n.Name] = true
		}
	}
	known := false
	role := RoleUnknown
	// byMonitor: the resource was found active by a monitor rather than
	// started (Pacemaker then takes a promotable instance as unpromoted).
	byMonitor := false
	onFail := ""
	failed := false
	for _, op := range ops {
		// A probe's result is the state, never a failure, so it cannot
		// expire either.
		probeResult := op.Operation == "monitor" && op.Interval == 0 && (op.OpStatus == execDone || op.OpStatus == execError) &&
			(op.RCCode == rcNotRunning || op.RCCode == rcOK || op.RCCode == rcRunningPromoted)
		if probeResult || !(op.OpStatus != execPending && op.RCCode != targetRCOrDefault(op) && cl.failureExpired(r, n, op)) {
			known = true
		}
		if op.OpStatus == execPending {
			switch op.Operation {
			case "start", "migrate_from":
				role = RoleStarted
			case "promote":
				role = RolePromoted
			case "demote":
				role = RoleUnpromoted
			case "stop":
				if role == RoleUnknown {
					role = RoleStarted
				}
			}
			r.PendingOp = op.Operation
			if op.Operation == "start" {
				r.startPending = true
			}
			continue
		}
		target := targetRC(op)
		if target < 0 {
			target = rcOK
			if op.Operation == "monitor" && op.Interval == 0 {
				target = rcNotRunning
			}
		}
		rc := op.RCCode
		isProbe := op.Operation == "monitor" && op.Interval == 0
		success := false
		switch {
		case op.OpStatus == execCancelled:
			continue
		case op.OpStatus == execDone || op.OpStatus == execError:
			if rc == target {
				success = true
			} else if isProbe && (rc == rcNotRunning || rc == rcOK || rc == rcRunningPromoted) {
				// A probe's actual result is the state, whatever was expected.
				success = true
			} else if op.Operation == "monitor" && op.Interval > 0 && rc == rcNotRunning && target == rcOK {
				success = false
			}
		case op.OpStatus == execNotInstalled || op.OpStatus == execNotSupported:
			success = false
		}
		if op.OpStatus == execDone && rc == target {
			success = true
		}
		if !success && cl.failureExpired(r, n, op) {
			if cl.FailCount(r, n) > 0 || cl.rawFailCount(r, n) > 0 {
				r.expiredOn = appendNode(r.expiredOn, n)
			}
			continue
		}
		if isProbe && rc == rcNotInstalled && op.OpStatus != execTimeout {
			// Not installed on this node: treat as stopped, never run here.
			role = RoleStopped
			r.discoverNever[n.Name] = true
			r.hardBan(n)
			continue
		}
		if success {
			clear := false
			op := op
			if rc == rcNotRunning && op.Operation != "monitor" {
				// "Not running" as the expected result, whatever the
				// operation, leaves the resource stopped there.
				op = &cib.LRMOp{Operation: "stop"}
			}
			if op.Operation != "monitor" {
				byMonitor = false
			}
			switch op.Operation {
			case "start", "migrate_from":
				role, clear = RoleStarted, true
			case "stop", "migrate_to":
				role, clear = RoleStopped, true
			case "promote":
				role, clear = RolePromoted, true
			case "demote":
				role, clear = RoleUnpromoted, true
			case "monitor":
				switch rc {
				case rcNotRunning:
					role = RoleStopped
					clear = true
				case rcRunningPromoted:
					role = RolePromoted
					clear = cl.sameAsLastFailure(r, n, op)
				default:
					clear = cl.sameAsLastFailure(r, n, op)
					if role == RoleUnknown || role == RoleStopped || isProbe {
						if role == RoleUnknown || role == RoleStopped {
							byMonitor = true
						}
						if isProbe || role != RolePromoted {
							role = RoleStarted
						}
					}
				}
			}
			if clear {
				switch onFail {
				case "stop", "fence", "standby":
				default:
					onFail = ""
					failed = false
				}
			}
			continue
		}
		// Failure.
		if cl.failureExpired(r, n, op) {
			continue
		}
		if !r.Managed && op.Operation == "monitor" && rc == rcNotRunning {
			// An unmanaged resource found not running is cleanly stopped.
			role = RoleStopped
			continue
		}
		switch rc {
		case 2, 4, 5: // invalid param, insufficient privileges, not installed
			r.hardBan(n)
		case 6: // not configured: fatal everywhere
			r.stopFailed["fatal"] = true
		}
		if op.Operation == "stop" && rc >= 2 && rc <= 5 && !cl.canFence(n) {
			// A stop that failed hard where fencing cannot recover it
			// leaves nothing to try: the resource is blocked.
			r.Managed = false
			r.Blocked = true
		}
		of := cl.onFailFor(r, op)
		r.failNodes[n.Name] = true
		r.lastFailure[n.Name] = op
		if of == "ignore" && op.OpStatus == execNotInstalled {
			// A missing agent cannot be ignored: the failure counts.
			of = ""
		}
		restartContainer := of == "restart-container" && op.Operation == "stop" && (onFail == "" || onFail == "ignore")
		if restartContainer {
			// A failed stop inside a container counts as a success; the
			// container is restarted instead.
			onFail = of
			failed = true
			r.containerFailureIgnored = true
		}
		if of == "ignore" || restartContainer {
			r.failureIgnored = true
			// Pretend the operation succeeded with its expected result.
			switch op.Operation {
			case "start", "migrate_from":
				role = RoleStarted
			case "stop":
				role = RoleStopped
			case "promote":
				role = RolePromoted
			case "demote":
				role = RoleUnpromoted
			case "monitor":
				if roleRank(role) < roleRank(RoleStarted) && target != rcNotRunning {
					role = RoleStarted
				}
			}
			continue
		}
		if onFailRank[of] >= onFailRank[onFail] {
			onFail = of
		}
		failed = true
		switch op.Operation {
		case "stop":
			r.stopFailed[n.Name] = true
			role = RoleStarted
		case "promote":
			role = RolePromoted
		case "demote":
			switch {
			case of == "block":
				role = RolePromoted
			case rc == rcNotRunning:
				role = RoleStopped
			default:
				// Recovery stops it anyway; staying promoted would loop.
				role = RoleUnpromoted
			}
		case "monitor":
			if rc == rcFailedPromoted || rc == rcRunningPromoted {
				role = RolePromoted
			} else if roleRank(role) < roleRank(RoleStarted) {
				role = RoleStarted
			}
		default:
			if roleRank(role) < roleRank(RoleStarted) {
				role = RoleStarted
			}
		}
		if isProbe && rc == rcNotRunning {
			role = RoleStopped
		}
	}
	if known {
		(*hist)[entry].known = true
	}
	if role == RoleUnknown {
		role = RoleStopped
	}
	if failed && r.stopFailed[n.Name] {
		// A failed stop bans the node, even when fencing resolves it.
		r.allowedBan(n)
	}
	if n.Unclean {
		// The node will be fenced: whatever failed there is resolved by it.
		failed = false
		onFail = ""
	}
	if failed {
		r.onFail = onFail
		switch onFail {
		case "fence":
			if cl.StonithEnabled {
				cl.fence(n, r.ID+" failed there")
			}
			r.Failed = true
		case "block":
			r.Failed = true
			r.Blocked = true
			r.Managed = false
		case "standby":
			n.StandbyOnFail = true
			n.Standby = true
			r.Failed = true
		case "stop":
			// Failed while it is still active; once stopped it shows as
			// Stopped, but stays stopped.
			if roleRank(role) > roleRank(RoleStopped) {
				r.Failed = true
			}
			r.NextRole = RoleStopped
		case "restart-container":
			r.Failed = true
			if c := r.container; c != nil {
				if c.forceStopOn == nil {
					c.forceStopOn = map[string]bool{}
				}
				c.forceStopOn[n.Name] = true
				c.markUnpackStop(n)
			} else if roleRank(role) > roleRank(RoleStopped) {
				r.markUnpackStop(n)
			}
		default:
			r.Failed = true
			// Recovery (restart, migrate): Pacemaker creates the stop on
			// this node while unpacking, when the history leaves the
			// resource active here.
			if roleRank(role) > roleRank(RoleStopped) {
				r.markUnpackStop(n)
			}
		}
	}
	if roleRank(role) > roleRank(RoleStopped) {
		if !n.Online && !n.Unclean && !n.Maintenance && r.Managed {
			if cl.StonithEnabled {
				cl.fence(n, r.ID+" is thought to be active there")
			} else {
				return
			}
		}
		r.addRunning(n)
		if byMonitor && role == RoleStarted {
			if r.activeByMonitor == nil {
				r.activeByMonitor = map[string]bool{}
			}
			r.activeByMonitor[n.Name] = true
		}
		if lr.ID != r.ID {
			r.activeCloneName = lr.ID
		}
		if roleRank(role) > roleRank(r.Role) {
			r.Role = role
		}
		cl.unpackRecurring(r, n, ops)
	}
}

// unpackRecurring creates optional actions for the recurring operations
// active since the last start, as Pacemaker does while unpacking (they
// keep these early ids if they are scheduled again).
func (cl *Cluster) unpackRecurring(r *Resource, n *Node, ops []*cib.LRMOp) {
	if !n.Online || isTrue(r.Meta["maintenance"]) || cl.MaintenanceMode {
		return
	}
	start := -1
	for i, op := range ops {
		if (op.Operation == "start" || op.Operation == "migrate_from") && op.OpStatus == execDone {
			start = i
		}
	}
	if start < 0 {
		return
	}
	for i := len(ops) - 1; i > start; i-- {
		op := ops[i]
		if op.Interval == 0 || op.OpStatus == execPending || op.OpStatus == execCancelled || op.Operation != "monitor" {
			continue
		}
		cl.action(r, "monitor", n, op.Interval, true)
	}
}

func (r *Resource) allowedBan(n *Node) {
	if r.stopFailed == nil {
		r.stopFailed = map[string]bool{}
	}
	r.stopFailed["ban:"+n.Name] = true
}

// hardBan bans the resource (for anonymous clone instances: the whole clone)
// from a node after a hard error.
func (r *Resource) hardBan(n *Node) {
	if ca := cloneAncestor(r); ca != nil {
		for _, p := range ca.Primitives() {
			if p.BaseID == r.BaseID {
				p.allowedBan(n)
			}
		}
		ca.hardBanned = append(ca.hardBanned, n.Name)
		return
	}
	r.allowedBan(n)
}

func (r *Resource) addRunning(n *Node) {
	for _, x := range r.RunningOn {
		if x == n {
			return
		}
	}
	r.RunningOn = append(r.RunningOn, n)
	n.Running = append(n.Running, r)
	if n.Maintenance {
		r.Managed = false
	}
	if !r.Managed {
		r.notManagedOn = append(r.notManagedOn, n.Name)
		return
	}
	if len(r.RunningOn) > 1 {
		switch r.MultipleActive {
		case "stop_only":
			r.stopOnly = true
		case "block":
			r.Managed = false
			r.Blocked = true
			if p := r.Parent; p != nil && p.Kind == cib.KindGroup && p.MultipleActive == "block" {
				for _, c := range p.Children {
					c.Managed = false
					c.Blocked = true
				}
			}
		}
	}
}

// failureExpired reports whether a failed op is older than failure-timeout.
func (cl *Cluster) failureExpired(r *Resource, n *Node, op *cib.LRMOp) bool {
	if r.FailureTimeout <= 0 {
		return false
	}
	if cl.onFailFor(r, op) == "block" {
		// A failure that blocks the resource waits for an administrator.
		return false
	}
	last := op.LastRCChange
	if last == 0 {
		last = op.LastRun
	}
	if last == 0 {
		return false
	}
	if cl.Now.Unix() < last+r.FailureTimeout {
		return false
	}
	// Only expire if the fail-count has also expired (no newer failure).
	lf := cl.lastFailureTime(r, n)
	if lf > 0 && cl.Now.Unix() < lf+r.FailureTimeout {
		return false
	}
	return true
}

// failAttrMatches reports whether a transient attribute names a fail-count or
// last-failure for resource r.
func failAttrMatches(attr, prefix, base string) bool {
	if !strings.HasPrefix(attr, prefix) {
		return false
	}
	rest := attr[len(prefix):]
	if rest == base {
		return true
	}
	if strings.HasPrefix(rest, base+"#") {
		return true
	}
	// instance-suffixed names of anonymous clones
	if strings.HasPrefix(rest, base+":") {
		tail := rest[len(base)+1:]
		if i := strings.Index(tail, "#"); i >= 0 {
			tail = tail[:i]
		}
		_, err := strconv.Atoi(tail)
		return err == nil
	}
	return false
}

func (cl *Cluster) lastFailureTime(r *Resource, n *Node) int64 {
	var last int64
	for k, v := range n.Attrs {
		if failAttrMatches(k, "last-failure-", r.BaseID) {
			t, _ := strconv.ParseInt(v, 10, 64)
			if t > last {
				last = t
			}
		}
	}
	return last
}

// FailCount returns the effective fail-count of r on n (expired failures
// ignored).
func (cl *Cluster) FailCount(r *Resource, n *Node) int {
	if r.agentChanged[n.Name] {
		return 0
	}
	total := 0
	for k, v := range n.Attrs {
		if failAttrMatches(k, "fail-count-", r.BaseID) {
			total = cib.AddScores(total, cib.Score(v))
		}
	}
	if total > 0 && r.FailureTimeout > 0 {
		lf := cl.lastFailureTime(r, n)
		if lf > 0 && cl.Now.Unix() >= lf+r.FailureTimeout {
			return 0
		}
	}
	return total
}

func targetRCOrDefault(op *cib.LRMOp) int {
	t := targetRC(op)
	if t < 0 {
		t = rcOK
		if op.Operation == "monitor" && op.Interval == 0 {
			t = rcNotRunning
		}
	}
	return t
}

func appendNode(list []*Node, n *Node) []*Node {
	for _, x := range list {
		if x == n {
			return list
		}
	}
	return append(list, n)
}

// rawFailCount is the fail-count of r on n ignoring failure-timeout.
func (cl *Cluster) rawFailCount(r *Resource, n *Node) int {
	total := 0
	for k, v := range n.Attrs {
		if failAttrMatches(k, "fail-count-", r.BaseID) {
			total = cib.AddScores(total, cib.Score(v))
		}
	}
	return total
}

// cloneOfBase returns the outermost clone above the primitives whose base
// id is base, or nil. The index is built once, on first use.
func (cl *Cluster) cloneOfBase(base string) *Resource {
	if cl.baseClone == nil {
		cl.baseClone = map[string]*Resource{}
		for _, r := range cl.byID {
			if r.Kind != cib.KindPrimitive {
				continue
			}
			if _, done := cl.baseClone[r.BaseID]; done {
				continue
			}
			var clone *Resource
			for p := r.Parent; p != nil; p = p.Parent {
				if p.IsClone() {
					clone = p
				}
			}
			cl.baseClone[r.BaseID] = clone
		}
	}
	return cl.baseClone[base]
}
