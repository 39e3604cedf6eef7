package scheduler

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

// infinityHack marks a positive score that a negative colocation would make
// negative while merging dependents' preferences (Pacemaker's INFINITY_HACK).
const infinityHack = cib.Infinity * -100

func (r *Resource) addScore(n string, s int) {
	old, ok := r.allowed[n]
	if !ok {
		r.allowed[n] = s
		return
	}
	r.allowed[n] = cib.AddScores(old, s)
}

// location applies a score to r and, for collective resources, to every
// descendant (as Pacemaker pushes group/clone locations to children).
func (r *Resource) location(n string, s int) {
	r.addScore(n, s)
	children := r.Children
	if r.Kind == cib.KindGroup && len(children) > 0 && (r.Meta["collocated"] == "" || isTrue(r.Meta["collocated"])) {
		// A (collocated) group's location applies through its first
		// member; the others follow it by colocation.
		children = children[:1]
	}
	for _, c := range children {
		c.location(n, s)
	}
}

func (cl *Cluster) applyNodeCriteria() {
	// Symmetric default.
	var all func(r *Resource)
	all = func(r *Resource) {
		if cl.SymmetricCluster {
			for _, n := range cl.Nodes {
				r.addScore(n.Name, n.BaseScore)
			}
		}
		for _, c := range r.Children {
			all(c)
		}
	}
	for _, r := range cl.Resources {
		all(r)
	}
	cl.note("symmetric-cluster: every node starts at its base score (0 unless the node has a score)")
	cl.applyNodeHealth()
	cl.applyShutdownLocks()
	cl.noteFor(func() string { return "node health (node-health-strategy=" + cl.Options["node-health-strategy"] + ")" })
	// Location constraints.
	for _, l := range cl.locations {
		if l.role != "" && l.role != RolePromoted && l.role != RoleUnpromoted {
			continue
		}
		if l.role != "" {
			continue // role-specific: used for promotion scores
		}
		names := make([]string, 0, len(l.scores))
		for n := range l.scores {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			l.rsc.location(n, l.scores[n])
		}
		cl.noteFor(func() string { return "location constraint " + l.id })
		if l.discovery == "never" || l.discovery == "exclusive" {
			for _, n := range cl.Nodes {
				if _, ok := l.scores[n.Name]; !ok && l.discovery == "exclusive" {
					for _, p := range l.rsc.Primitives() {
						p.discoverNever[n.Name] = true
					}
					// Exclusive discovery: only the listed nodes may run it.
					l.rsc.location(n.Name, -cib.Infinity)
				}
			}
			cl.noteFor(func() string { return "resource-discovery=exclusive in " + l.id + ": other nodes banned" })
			if l.discovery == "never" {
				for n := range l.scores {
					for _, p := range l.rsc.Primitives() {
						p.discoverNever[n] = true
					}
				}
			}
		}
	}
	for _, r := range cl.byID {
		for _, n := range r.hardBanned {
			r.location(n, -cib.Infinity)
		}
	}
	cl.note("banned: active there while not allowed to be (not-installed agent or failed probe)")
	// Stickiness, failure thresholds, stop failures.
	fillers := map[*Resource][]*Resource{}
	for _, f := range cl.primitives {
		if f.container != nil {
			fillers[f.container] = append(fillers[f.container], f)
		}
	}
	for _, p := range cl.primitives {
		for _, n := range p.notManagedOn {
			p.addScore(n, cib.Infinity)
		}
		cl.note("unmanaged resource stays where it is active")
		if p.stopOnly {
			for _, n := range cl.Nodes {
				p.allowed[n.Name] = -cib.Infinity
			}
			cl.note("multiple-active=stop_only: active on several nodes, stopped everywhere")
		}
		if p.Orphan {
			if cl.StopOrphanResources || p.Parent != nil {
				for _, n := range cl.Nodes {
					p.allowed[n.Name] = -cib.Infinity
				}
				cl.note("orphan: no longer configured, stop-orphan-resources=true")
			} else {
				p.Managed = false
			}
		}
		if p.Managed && p.Stickiness > 0 && len(p.RunningOn) == 1 {
			n := p.RunningOn[0]
			_, explicit := p.allowed[n.Name]
			if cl.SymmetricCluster || explicit {
				p.addScore(n.Name, p.Stickiness)
				cl.noteFor(func() string { return "resource-stickiness=" + cib.ScoreString(p.Stickiness) + ": active here" })
			}
		}
		for _, n := range cl.Nodes {
			if p.stopFailed["ban:"+n.Name] || p.stopFailed["fatal"] {
				p.addScore(n.Name, -cib.Infinity)
				cl.note("stop failed: resource banned from the node")
			}
			fc := cl.FailCount(p, n)
			for _, f := range fillers[p] {
				fc = cib.AddScores(fc, cl.FailCount(f, n))
			}
			if fc > 0 && p.MigrationThreshold > 0 && fc >= p.MigrationThreshold && !p.failureIgnored {
				target := p
				if clone := cloneAncestor(p); clone != nil {
					target = clone
				}
				target.location(n.Name, -cib.Infinity)
				cl.noteFor(func() string {
					return fmt.Sprintf("fail count %s of %s reached migration-threshold=%s", cib.ScoreString(fc), p.ID, cib.ScoreString(p.MigrationThreshold))
				})
			}
		}
	}
}

func cloneAncestor(r *Resource) *Resource {
	for p := r.Parent; p != nil; p = p.Parent {
		if p.IsClone() {
			return p
		}
	}
	return nil
}

// expandGroupColocations moves "group with X" to "first member with X" and adds
// the internal member colocations.
func (cl *Cluster) expandGroups(r *Resource) {
	for _, c := range r.Children {
		cl.expandGroups(c)
	}
	if r.Kind != cib.KindGroup || len(r.Children) == 0 {
		return
	}
	first := r.Children[0]
	for _, co := range r.thisWith {
		if co.score >= cib.Infinity {
			// A mandatory colocation binds every member, not only
			// through the first (which may be unable to move).
			for _, m := range r.Children[1:] {
				cp := *co
				cp.dependent = m
				cp.excludeOnly = true
				m.thisWith = append(m.thisWith, &cp)
			}
		}
		if co.group == nil {
			co.group = r
		}
		co.dependent = first
		first.thisWith = append(first.thisWith, co)
	}
	r.thisWith = nil
	// "R with group": every member carries R's influence.
	for _, m := range r.Children {
		m.withThis = append(m.withThis, r.withThis...)
	}
	if r.Meta["collocated"] != "" && !isTrue(r.Meta["collocated"]) {
		return
	}
	for i := 1; i < len(r.Children); i++ {
		cl.addColocation("group:internal_colocation", r.Children[i], r.Children[i-1], cib.Infinity, "", "", "", "")
	}
}

// colocationReason names a colocation for explanations.
func colocationReason(co *colocation, rel string, other *Resource) string {
	id := co.id
	if strings.HasPrefix(id, "group:") {
		id = "group member order"
	} else if id == "resource-with-container" {
		id = "container"
	}
	return fmt.Sprintf("colocation %s (%s %s, score %s)", id, rel, other.ID, cib.ScoreString(co.score))
}

func available(n *Node, score int, considerScore bool) bool {
	if n == nil || !n.Available() {
		return false
	}
	if considerScore && score < 0 {
		return false
	}
	return true
}

// assignedNode returns where a (possibly collective) resource is assigned.
func (r *Resource) assignedNode() *Node {
	switch r.Kind {
	case cib.KindPrimitive:
		return r.Assigned
	case cib.KindGroup:
		if len(r.Children) > 0 {
			return r.Children[0].Assigned
		}
	}
	return r.Assigned
}

func (cl *Cluster) setProvisional(r *Resource) {
	r.provisional = true
	for _, c := range r.Children {
		cl.setProvisional(c)
	}
}

func (cl *Cluster) assign(r *Resource, prefer *Node) *Node {
	switch r.Kind {
	case cib.KindGroup:
		return cl.assignGroup(r, prefer)
	case cib.KindClone:
		cl.assignClone(r)
		return nil
	}
	return cl.assignPrimitive(r, prefer)
}

func (cl *Cluster) assignGroup(r *Resource, prefer *Node) *Node {
	if r.Parent != nil && !r.Parent.assigning {
		cl.assign(r.Parent, prefer)
		return r.assignedNode()
	}
	if !r.provisional {
		return r.assignedNode()
	}
	if r.assigning {
		return nil
	}
	r.assigning = true
	if !cl.noScores && !allOrphans(r) {
		cl.recordScoresAs(r, "pcmk__group_assign")
		for _, c := range r.Children {
			cl.recordScoresAs(c, "pcmk__group_assign")
		}
	}
	var first *Node
	for i, c := range r.Children {
		n := cl.assignPrimitive(c, prefer)
		if i == 0 {
			first = n
		}
	}
	r.assigning = false
	r.provisional = false
	if len(r.Children) > 0 {
		r.NextRole = r.Children[0].NextRole
	}
	r.Assigned = first
	return first
}

// colocationMatch applies colocation co ("dep with primary") to dep's
// node scores once the primary is placed.
func (cl *Cluster) colocationMatch(dep *Resource, co *colocation) {
	prim := co.primary
	if co.depRole != "" && co.depRole != dep.NextRole && !(co.depRole == RoleUnpromoted && dep.NextRole == RoleUnknown) &&
		!(prim.IsClone() && prim.Promotable && co.primRole != "") {
		// Role-specific colocations act on promotion, not placement,
		// except with a role of a promotable clone: Pacemaker then
		// weighs the nodes of the primary's instances in that role.
		return
	}
	if prim.IsClone() {
		cl.colocationWithClone(dep, co)
		return
	}
	if prim.provisional {
		return
	}
	if co.primRole != "" && co.primRole != prim.NextRole {
		return
	}
	cl.colocationWithNode(dep, co, prim.assignedNode())
}

// colocationWithNode applies colocation co of dep with a primary assigned
// to pn (nil: not assigned): a finite score is added where the node
// attribute matches pn's, an INFINITY one bans every other node; with no
// primary node, every node loses the score (an anti-colocation does
// nothing). The change is dropped when it leaves dep no available node,
// unless the score is infinite.
func (cl *Cluster) colocationWithNode(dep *Resource, co *colocation, pn *Node) {
	attr := co.nodeAttr
	if attr == "" {
		attr = "#uname"
	}
	var value string
	if pn != nil {
		value = pn.Attrs[attr]
	} else if co.score < 0 {
		return
	}
	work := copyScores(dep.allowed)
	for _, n := range cl.Nodes {
		s, ok := work[n.Name]
		if !ok {
			continue
		}
		if pn == nil {
			work[n.Name] = cib.AddScores(-co.score, s)
		} else if strings.EqualFold(n.Attrs[attr], value) && n.Attrs[attr] != "" || n == pn {
			if co.score < cib.Infinity {
				work[n.Name] = cib.AddScores(co.score, s)
			}
		} else if co.score >= cib.Infinity {
			work[n.Name] = cib.AddScores(-cib.Infinity, s)
		}
	}
	if co.score <= -cib.Infinity || co.score >= cib.Infinity || cl.anyAvailable(work) {
		dep.allowed = work
	}
}

// colocationWithClone applies "R with clone": R may run where an instance is.
func (cl *Cluster) colocationWithClone(dep *Resource, co *colocation) {
	clone := co.primary
	if clone.provisional {
		return
	}
	if peer, ok := cl.interleavePeer(dep, co); ok {
		// Interleaved clones pair instances: the dependent instance is
		// colocated with one compatible primary instance only.
		var pn *Node
		if peer != nil {
			pn = peer.assignedNode()
		} else if co.score < cib.Infinity {
			return
		}
		if pn == nil {
			// A mandatory colocation without a compatible instance keeps
			// the dependent instance stopped.
			work := copyScores(dep.allowed)
			for name := range work {
				work[name] = -cib.Infinity
			}
			dep.allowed = work
			return
		}
		cl.colocationWithNode(dep, co, pn)
		return
	}
	if co.primRole == "" && co.score > -cib.Infinity && co.score < cib.Infinity {
		// A finite colocation applies instance by instance, as with a
		// primitive: an inactive instance takes its score back
		// everywhere.
		for _, inst := range clone.Children {
			cl.colocationWithNode(dep, co, inst.assignedNode())
		}
		return
	}
	if co.primRole != "" && co.depRole == RolePromoted && co.score >= cib.Infinity {
		// Mandatory "promoted with role": decided when promoting.
		return
	}
	nodes := map[string]bool{}
	weight := map[string]int{}
	for _, inst := range clone.Children {
		if co.score >= cib.Infinity && anyBlocked(inst) {
			// A blocked instance (failed with on-fail=block) stays where
			// it is but does not attract mandatory dependents.
			continue
		}
		if n := inst.assignedNode(); n != nil {
			if co.primRole != "" {
				if inst.NextRole != co.primRole {
					continue
				}
				// A mandatory role colocation also carries the instance's
				// own allocation score on its node to the dependent.
				src := inst
				if inst.Kind == cib.KindGroup && len(inst.Children) > 0 {
					src = inst.Children[0]
				}
				weight[n.Name] = cib.AddScores(weight[n.Name], src.allowed[n.Name])
			}
			nodes[n.Name] = true
		}
	}
	work := copyScores(dep.allowed)
	if co.score >= cib.Infinity {
		// Pacemaker's exclusion also lists the primary's nodes the
		// dependent had no score for, banned.
		for name := range nodes {
			if _, ok := work[name]; !ok {
				work[name] = -cib.Infinity
			}
		}
	}
	for name, s := range work {
		if nodes[name] {
			if co.score < cib.Infinity {
				work[name] = cib.AddScores(co.score, s)
			} else if w := weight[name]; w != 0 && !co.excludeOnly {
				work[name] = cib.AddScores(w, s)
			}
		} else if co.score >= cib.Infinity {
			work[name] = cib.AddScores(-cib.Infinity, s)
		}
	}
	// A mandatory change stands even when it leaves no node usable,
	// except for a dependent limited to the promoted role.
	if (co.score <= -cib.Infinity || co.score >= cib.Infinity) && co.depRole != RolePromoted || cl.anyAvailable(work) {
		dep.allowed = work
	}
}

// interleavePeer reports whether colocation co of dep (an instance of a
// clone) with a clone pairs instances, as Pacemaker does when the
// dependent clone has interleave=true and both clones allow as many
// instances per node (a role-specific colocation with a promotable clone
// is handled by role instead). The peer is the primary instance assigned
// to the first of dep's allowed nodes, best score first, that holds one
// (nil: none).
func (cl *Cluster) interleavePeer(dep *Resource, co *colocation) (*Resource, bool) {
	clone := co.primary
	depClone := cloneAncestor(dep)
	if depClone == nil || depClone == clone || !depClone.Interleave || depClone.CloneNodeMax != clone.CloneNodeMax {
		return nil, false
	}
	if clone.Promotable && co.primRole != "" {
		return nil, false
	}
	for _, n := range cl.sortedNodesFrom(dep.allowed, nil) {
		for _, pi := range clone.Children {
			if pi.assignedNode() == n {
				return pi, true
			}
		}
	}
	return nil, true
}

// anyBlocked reports whether r or one of its descendants is blocked.
func anyBlocked(r *Resource) bool {
	if r.Blocked {
		return true
	}
	for _, c := range r.Children {
		if anyBlocked(c) {
			return true
		}
	}
	return false
}

func copyScores(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (cl *Cluster) anyAvailable(m map[string]int) bool {
	for name, s := range m {
		if n := cl.nodeByName[name]; available(n, s, true) {
			return true
		}
	}
	return false
}

// bestScoreMatching returns r's best score on an available node whose attr
// equals value.
func (cl *Cluster) bestScoreMatching(r *Resource, attr, value string) int {
	best := -cib.Infinity
	for name, s := range r.allowed {
		n := cl.nodeByName[name]
		if n == nil || !available(n, 0, false) {
			continue
		}
		if s > best && strings.EqualFold(n.Attrs[attr], value) {
			best = s
		}
	}
	return best
}

// addColocatedScores merges r's (a dependent's) preferences into nodes,
// scaled by factor, recursing along "with this" colocations.
func (cl *Cluster) addColocatedScores(r *Resource, nodes map[string]int, attr string, factor float64, onlyPositive, rollback bool, merging map[*Resource]bool) map[string]int {
	if merging[r] {
		return nodes
	}
	merging[r] = true
	defer delete(merging, r)
	src := r
	if r.Kind == cib.KindGroup && len(r.Children) > 0 {
		src = r.Children[0]
	}
	if attr == "" {
		attr = "#uname"
	}
	work := copyScores(nodes)
	for _, n := range cl.Nodes {
		cur, ok := work[n.Name]
		if !ok {
			continue
		}
		score := cl.bestScoreMatching(src, attr, n.Attrs[attr])
		if factor < 0 && score < 0 {
			continue
		}
		if cur == infinityHack {
			// Already marked unusable by this merge.
			continue
		}
		wf := factor * float64(score)
		var w int
		if wf < 0 {
			w = int(wf - 0.5)
		} else {
			w = int(wf + 0.5)
		}
		if w == 0 && score != 0 {
			if factor > 0 {
				w = 1
			} else if factor < 0 {
				w = -1
			}
		}
		ns := cib.AddScores(w, cur)
		if onlyPositive && ns < 0 && cur > 0 {
			work[n.Name] = infinityHack
			continue
		}
		if onlyPositive && ns < 0 && cur == 0 {
			continue
		}
		work[n.Name] = ns
	}
	if cl.anyAvailable(work) {
		sortColocations(src.withThis, false)
		for _, co := range src.withThis {
			if !cl.hasInfluence(co) {
				continue
			}
			if co.primary.Kind == cib.KindGroup && co.primary != r {
				// "X with group" is copied onto every member; along a
				// member chain it counts once, at the top.
				continue
			}
			// Pacemaker scales nested preferences by the colocation score
			// alone, keeping only the sign of the outer factor.
			mult := 1.0
			if factor < 0 {
				mult = -1
			}
			of := mult * float64(co.score) / float64(cib.Infinity)
			work = cl.addColocatedScores(co.dependent, work, co.nodeAttr, of, onlyPositive, true, merging)
		}
	} else if rollback {
		return nodes
	}
	if onlyPositive {
		for k, v := range work {
			if v == infinityHack {
				work[k] = 1
			}
		}
	}
	return work
}

func (cl *Cluster) hasInfluence(co *colocation) bool {
	return co.influence || !co.primary.Active()
}

func (cl *Cluster) assignPrimitive(r *Resource, prefer *Node) *Node {
	if r.Parent != nil && !r.Parent.assigning {
		cl.assign(r.Parent, prefer)
		return r.Assigned
	}
	if !r.provisional {
		return r.Assigned
	}
	if r.assigning {
		return nil
	}
	r.assigning = true
	sortColocations(r.thisWith, true)
	for _, co := range r.thisWith {
		cl.assign(co.primary, nil)
		cl.note("(placing colocation primaries)")
		cl.colocationMatch(r, co)
		cl.noteFor(func() string { return colocationReason(co, "with", co.primary) })
	}
	sortColocations(r.withThis, false)
	for _, co := range r.withThis {
		if !cl.hasInfluence(co) {
			continue
		}
		r.allowed = cl.addColocatedScores(co.dependent, r.allowed, co.nodeAttr, float64(co.score)/float64(cib.Infinity), false, true, map[*Resource]bool{})
		cl.noteFor(func() string {
			return colocationReason(co, "dependent", co.dependent) + fmt.Sprintf(": its preferences scaled by %g", float64(co.score)/float64(cib.Infinity))
		})
	}
	if r.NextRole == RoleStopped || r.TargetRole == RoleStopped {
		for k := range r.allowed {
			r.allowed[k] = -cib.Infinity
		}
		r.NextRole = RoleStopped
		cl.note("target-role=Stopped")
	}
	cl.recordScores(r)
	switch {
	case !r.Managed:
		// An unmanaged resource stays where it is: on the first node it
		// is active on when it is active on several.
		var cur *Node
		if len(r.RunningOn) > 0 {
			cur = r.RunningOn[0]
		}
		r.NextRole = r.Role
		cl.finalize(r, cur, true)
	case cl.StopAllResources:
		cl.finalize(r, nil, true)
	default:
		cl.assignBest(r, prefer)
	}
	r.assigning = false
	return r.Assigned
}

func (cl *Cluster) sortedNodes(r *Resource) []*Node {
	return cl.sortedNodesFrom(r.allowed, r.CurrentNode())
}

// sortedNodesFrom orders the nodes of a score table as Pacemaker does when
// choosing among them: best score first (unavailable nodes last), then
// fewer assigned resources, then the preferred node cur (may be nil), then
// by name.
func (cl *Cluster) sortedNodesFrom(allowed map[string]int, cur *Node) []*Node {
	type cand struct {
		n   *Node
		eff int
	}
	cands := make([]cand, 0, len(allowed))
	for name, score := range allowed {
		if n := cl.nodeByName[name]; n != nil {
			if !available(n, 0, false) {
				score = -cib.Infinity
			}
			cands = append(cands, cand{n, score})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.eff != b.eff {
			return a.eff > b.eff
		}
		if a.n.numAssigned != b.n.numAssigned {
			return a.n.numAssigned < b.n.numAssigned
		}
		if cur != nil && (a.n == cur) != (b.n == cur) {
			return a.n == cur
		}
		return a.n.Name < b.n.Name
	})
	out := make([]*Node, len(cands))
	for i, c := range cands {
		out[i] = c.n
	}
	return out
}

func (cl *Cluster) assignBest(r *Resource, prefer *Node) {
	nodes := cl.sortedNodes(r)
	var chosen *Node
	if prefer != nil && len(nodes) > 0 {
		best := nodes[0]
		bestScore := r.allowed[best.Name]
		if !available(best, 0, false) {
			bestScore = -cib.Infinity
		}
		if s, ok := r.allowed[prefer.Name]; ok && s >= bestScore && s >= 0 && available(prefer, s, true) {
			chosen = prefer
		}
	}
	if chosen == nil && len(nodes) > 0 {
		chosen = nodes[0]
		if r.allowed[chosen.Name] > 0 && available(chosen, 0, false) {
			if cur := r.CurrentNode(); cur != nil && available(cur, 0, false) {
				for _, n := range nodes[1:] {
					if r.allowed[n.Name] != r.allowed[chosen.Name] {
						break
					}
					if n == cur {
						chosen = n
					}
				}
			}
		}
	}
	cl.finalize(r, chosen, false)
}

func (cl *Cluster) finalize(r *Resource, chosen *Node, force bool) {
	if !force && chosen != nil {
		if r.allowed[chosen.Name] < 0 || !available(chosen, 0, false) {
			chosen = nil
		}
		if _, ok := r.allowed[chosen.nameOrEmpty()]; chosen != nil && !ok {
			chosen = nil
		}
	}
	r.provisional = false
	if chosen == nil {
		r.NextRole = RoleStopped
		r.Assigned = nil
		return
	}
	r.Assigned = chosen
	chosen.numAssigned++
	if r.NextRole == RoleUnknown {
		r.NextRole = RoleStarted
	}
}

func (n *Node) nameOrEmpty() string {
	if n == nil {
		return ""
	}
	return n.Name
}

func (cl *Cluster) deallocate(r *Resource) {
	if r.Assigned != nil {
		r.Assigned.numAssigned--
	}
	r.Assigned = nil
	r.provisional = true
	r.NextRole = RoleUnknown
}

// ---- clones ----

func (cl *Cluster) assignClone(c *Resource) {
	if !c.provisional || c.assigning {
		return
	}
	c.assigning = true
	sortColocations(c.thisWith, true)
	for _, co := range c.thisWith {
		cl.assign(co.primary, nil)
	}
	// Dependents' preferences are merged in Pacemaker's order of the
	// "with this" list: by dependent priority, kind and id.
	sortColocations(c.withThis, false)
	for _, co := range c.withThis {
		if !cl.hasInfluence(co) {
			continue
		}
		c.allowed = cl.addColocatedScores(co.dependent, c.allowed, co.nodeAttr, float64(co.score)/float64(cib.Infinity), true, true, map[*Resource]bool{})
	}
	for _, inst := range c.Children {
		inst.orderPriority = inst.Priority
	}
	if c.Promotable {
		cl.addPromotionScores(c)
	}
	insts := append([]*Resource(nil), c.Children...)
	sort.SliceStable(insts, func(i, j int) bool { return cl.cmpInstance(c, insts[i], insts[j]) })
	if !cl.noScores {
		var show func(r *Resource)
		show = func(r *Resource) {
			if r.Orphan || allOrphans(r) {
				return
			}
			cl.recordScoresAs(r, "pcmk__clone_allocate")
			for _, ch := range r.Children {
				show(ch)
			}
		}
		show(c)
	}
	cl.distribute(c, insts)
	if c.Promotable {
		cl.setInstanceRoles(c)
	}
	c.assigning = false
	c.provisional = false
}

func instanceNode(r *Resource) *Node {
	var nodes []*Node
	for _, p := range r.Primitives() {
		for _, n := range p.RunningOn {
			found := false
			for _, x := range nodes {
				if x == n {
					found = true
				}
			}
			if !found {
				nodes = append(nodes, n)
			}
		}
	}
	if len(nodes) == 1 {
		return nodes[0]
	}
	return nil
}

func instanceFailed(r *Resource) bool {
	for _, p := range r.Primitives() {
		if p.Failed {
			return true
		}
	}
	return false
}

func (cl *Cluster) cmpInstance(c *Resource, a, b *Resource) bool {
	na, nb := instanceNode(a), instanceNode(b)
	class := func(n *Node) int {
		switch {
		case n == nil:
			return 2
		case c.allowed[n.Name] < 0:
			// Active where the clone may no longer run: after inactive ones.
			return 3
		case !available(n, 0, false):
			return 1
		}
		return 0
	}
	// Instances active where the clone may no longer run go last; then
	// the higher priority (for promotable clones, the best promotion
	// score) goes first.
	if da, db := class(na) == 3, class(nb) == 3; da != db {
		return db
	}
	if a.orderPriority != b.orderPriority {
		return a.orderPriority > b.orderPriority
	}
	if ka, kb := class(na), class(nb); ka != kb {
		return ka < kb
	}
	if na != nil && nb != nil {
		ca, cb := available(na, 0, false), available(nb, 0, false)
		if ca != cb {
			return ca
		}
	}
	fa, fb := instanceFailed(a), instanceFailed(b)
	if fa != fb {
		return !fa
	}
	if na != nil && nb != nil {
		sa, sb := cl.colocatedScoreOn(c, na), cl.colocatedScoreOn(c, nb)
		if sa != sb {
			return sa > sb
		}
	}
	return a.instanceNum < b.instanceNum
}

// colocatedScoreOn is the tie-breaker Pacemaker uses when ordering active
// clone instances: starting from zero on the instance's current node, the
// clone's own colocations ("this with" at full factor, then the influential
// "with this" ones, non-negative only) are merged in without rolling back
// a merge that leaves the node unusable (such a node ends at 1). The clone's
// location and stickiness scores do not take part.
func (cl *Cluster) colocatedScoreOn(c *Resource, n *Node) int {
	nodes := map[string]int{n.Name: 0}
	for _, co := range c.thisWith {
		if co.score == 0 {
			continue
		}
		nodes = cl.addColocatedScores(co.primary, nodes, co.nodeAttr, float64(co.score)/float64(cib.Infinity), false, false, map[*Resource]bool{})
	}
	for _, co := range c.withThis {
		if !cl.hasInfluence(co) {
			continue
		}
		nodes = cl.addColocatedScores(co.dependent, nodes, co.nodeAttr, float64(co.score)/float64(cib.Infinity), true, false, map[*Resource]bool{})
	}
	return nodes[n.Name]
}

func (cl *Cluster) distribute(c *Resource, insts []*Resource) {
	count := map[string]int{}
	availNodes := 0
	for name := range c.allowed {
		if n := cl.nodeByName[name]; available(n, 0, false) {
			availNodes++
		}
	}
	max := c.CloneMax
	allColoc := max < availNodes
	loopMax := 1
	if availNodes > 0 {
		loopMax = max / availNodes
	}
	if loopMax < 1 {
		loopMax = 1
	}
	allocated := 0
	for _, inst := range insts {
		if allocated >= max {
			break
		}
		cur := instanceNode(inst)
		if cur == nil || !inst.provisional || instanceFailed(inst) {
			continue
		}
		if !available(cur, c.allowed[cur.Name], true) {
			continue
		}
		if count[cur.Name] >= loopMax {
			continue
		}
		if cl.assignInstance(c, inst, cur, allColoc, count) {
			allocated++
		}
	}
	for _, inst := range insts {
		if !inst.provisional {
			continue
		}
		if allocated >= max {
			cl.banInstance(inst)
			continue
		}
		if cl.assignInstance(c, inst, nil, allColoc, count) {
			allocated++
		}
	}
}

func (cl *Cluster) banInstance(inst *Resource) {
	inst.location("", 0)
	for _, p := range append([]*Resource{inst}, inst.Primitives()...) {
		for k := range p.allowed {
			p.allowed[k] = -cib.Infinity
		}
	}
	cl.note("clone-max instances already placed: this instance stays stopped")
	cl.assignDirect(inst, nil)
}

// assignDirect assigns an instance (primitive or group) while the clone is
// marked assigning.
func (cl *Cluster) assignDirect(inst *Resource, prefer *Node) *Node {
	if inst.Kind == cib.KindGroup {
		return cl.assignGroup(inst, prefer)
	}
	return cl.assignPrimitive(inst, prefer)
}

func (cl *Cluster) assignInstance(c, inst *Resource, prefer *Node, allColoc bool, count map[string]int) bool {
	if !inst.provisional {
		return inst.assignedNode() != nil
	}
	// Inherit the clone's colocations.
	target := inst
	if inst.Kind == cib.KindGroup && len(inst.Children) > 0 {
		target = inst.Children[0]
	}
	for _, co := range c.thisWith {
		if allColoc || co.score < 0 || co.score >= cib.Infinity {
			cp := *co
			cp.dependent = target
			if co.primary.IsClone() && c.Interleave {
				// interleaved: colocate with the peer instance on the same node
				cp.primary = co.primary
			}
			target.thisWith = append(target.thisWith, &cp)
		}
	}
	for _, co := range c.withThis {
		if !(co.influence || !inst.Active()) {
			continue
		}
		if allColoc || co.score < 0 {
			cp := *co
			cp.primary = target
			target.withThis = append(target.withThis, &cp)
			if target != inst {
				// "X with group": every member carries X's influence.
				for _, m := range inst.Children[1:] {
					cm := *co
					cm.primary = inst
					m.withThis = append(m.withThis, &cm)
				}
			}
		}
	}
	if prefer != nil {
		if s, ok := inst.allowed[prefer.Name]; !ok || s < 0 {
			return false
		}
	}
	// Ban full nodes and nodes the clone does not allow.
	limit := c.CloneNodeMax
	for _, p := range append([]*Resource{inst}, inst.Primitives()...) {
		for name := range p.allowed {
			n := cl.nodeByName[name]
			cs, ok := c.allowed[name]
			if !available(n, 0, false) || !ok || cs < 0 || count[name] >= limit || p.Orphan {
				p.allowed[name] = -cib.Infinity
			}
		}
	}
	cl.noteFor(func() string {
		return "clone " + c.ID + ": node unavailable, banned for the clone, or already holds clone-node-max=" + fmt.Sprint(limit) + " instances"
	})
	backup := map[*Resource]map[string]int{}
	for _, p := range append([]*Resource{inst}, inst.Primitives()...) {
		backup[p] = copyScores(p.allowed)
	}
	chosen := cl.assignDirect(inst, prefer)
	if chosen != nil && prefer != nil && chosen != prefer {
		for p, m := range backup {
			p.allowed = m
			if p.Kind == cib.KindPrimitive || p.Kind == cib.KindGroup {
				cl.deallocate(p)
			}
		}
		cl.setProvisional(inst)
		return false
	}
	if chosen != nil {
		count[chosen.Name]++
	}
	return chosen != nil
}

// promotionAttr returns an instance's promotion score on a node from the
// master-<rsc> node attributes (summed over a group instance's members),
// and whether any was set.
func (cl *Cluster) promotionAttr(inst *Resource, n *Node) (int, bool) {
	if inst.Kind == cib.KindGroup {
		total, any := 0, false
		for _, m := range inst.Children {
			if v, ok := cl.promotionAttr(m, n); ok {
				total = cib.AddScores(total, v)
				any = true
			}
		}
		return total, any
	}
	if !cl.promotionScoreApplies(inst, n) {
		return 0, false
	}
	name := inst.ID
	if inst.cloneName != "" {
		name = inst.cloneName
	}
	if v, ok := n.Attrs["master-"+name]; ok {
		return cib.Score(v), true
	}
	if v, ok := n.Attrs["master-"+inst.BaseID]; ok {
		return cib.Score(v), true
	}
	return 0, false
}

// promotionScoreApplies reports whether an instance member's promotion
// score on n counts, as Pacemaker decides it: for an anonymous clone, the
// score counts when this instance is the one active on n, or when none is
// active there but some instance was probed there; otherwise it counts
// when the instance has been probed on n or has been probed nowhere.
func (cl *Cluster) promotionScoreApplies(inst *Resource, n *Node) bool {
	c := cloneAncestor(inst)
	if c != nil && !c.GloballyUnique {
		var active *Resource
		probed := false
		for _, other := range c.Children {
			for _, p := range other.Primitives() {
				if p.BaseID != inst.BaseID {
					continue
				}
				if p.knownOn[n.Name] {
					probed = true
				}
				for _, rn := range p.RunningOn {
					if rn == n && active == nil {
						active = p
					}
				}
			}
		}
		if active == inst || active == nil && probed {
			return true
		}
	}
	return len(inst.knownOn) == 0 || inst.knownOn[n.Name]
}

// addPromotionScores adds positive promotion scores to the instances'
// placement scores, so promotable instances go where they can be promoted.
// As in Pacemaker, only the instance's own table changes: a cloned group's
// members keep theirs.
func (cl *Cluster) addPromotionScores(c *Resource) {
	for _, inst := range c.Children {
		for _, n := range cl.Nodes {
			sc, ok := inst.allowed[n.Name]
			if !ok || !available(n, 0, false) {
				continue
			}
			v, ok := cl.promotionAttr(inst, n)
			if ok && v > 0 {
				inst.allowed[n.Name] = cib.AddScores(sc, v)
			}
			if v > inst.orderPriority {
				inst.orderPriority = v
			}
		}
	}
}

// setInstanceRoles promotes up to promoted-max instances by promotion
// priority: the promotion score on the assigned node (or -1 without one),
// role-Promoted location constraints, and colocations involving the
// promoted role.
func (cl *Cluster) setInstanceRoles(c *Resource) {
	type cand struct {
		inst     *Resource
		node     *Node
		priority int
	}
	var cands []cand
	for _, inst := range c.Children {
		n := inst.assignedNode()
		if n == nil {
			if !cl.noScores {
				cl.scores = append(cl.scores, ScoreLine{Kind: "promotion", Rsc: inst.ID, Node: "none", Score: 0, Func: "pcmk__set_instance_roles"})
			}
			continue
		}
		prio := -1
		if v, ok := cl.promotionAttr(inst, n); ok {
			prio = v
		}
		if inst.TargetRole == RoleUnpromoted || inst.TargetRole == RoleStarted && isTrue(inst.Meta["target-role-unpromoted"]) {
			prio = -cib.Infinity
		}
		// A role already fixed by assignment (an unmanaged or blocked
		// instance keeps its current role) decides outright: Unpromoted
		// cannot be promoted, Promoted sorts first.
		fixed := instanceNextRole(inst)
		if fixed == RoleUnpromoted {
			prio = -cib.Infinity
		}
		for _, l := range cl.locations {
			if l.role == RolePromoted && (l.rsc == c || l.rsc == inst) {
				if sc, ok := l.scores[n.Name]; ok {
					prio = cib.AddScores(prio, sc)
				}
			}
		}
		for _, co := range c.thisWith {
			if co.depRole != RolePromoted {
				continue
			}
			match := false
			if co.primary.IsClone() {
				// Only a role-specific colocation with a promotable clone
				// looks for a compatible instance; with any other clone
				// the priority is left alone.
				if !co.primary.Promotable || co.primRole == "" {
					continue
				}
				for _, pi := range co.primary.Children {
					if pi.assignedNode() == n && (pi.NextRole == co.primRole || co.primRole == RoleStarted) {
						match = true
					}
				}
			} else {
				// With a group, a mandatory colocation looks at its last
				// member (the whole group must be up), an optional one at
				// its first. A primary assigned nowhere leaves the
				// priority alone.
				prim := co.primary
				if prim.Kind == cib.KindGroup && len(prim.Children) > 0 {
					prim = prim.Children[0]
					if co.score >= cib.Infinity {
						prim = co.primary.Children[len(co.primary.Children)-1]
					}
				}
				pn := prim.assignedNode()
				if pn == nil {
					continue
				}
				match = pn == n && (co.primRole == "" || prim.NextRole == co.primRole || co.primRole == RoleStarted)
			}
			switch {
			case match:
				prio = cib.AddScores(prio, co.score)
			case !match && co.score >= cib.Infinity:
				prio = -cib.Infinity
			}
		}
		if fixed == RolePromoted {
			prio = cib.Infinity
		}
		cands = append(cands, cand{inst, n, prio})
	}
	// As Pacemaker: each non-negative priority is added to the clone's own
	// score for its instance's node (its locations and its dependents'
	// preferences); the preferences of resources colocated with the
	// promoted role are merged in (only where they keep a score positive),
	// and the node's score becomes the instance's promotion score.
	weights := copyScores(c.allowed)
	for _, cd := range cands {
		if cd.priority >= 0 && cd.inst.Managed {
			weights[cd.node.Name] = cib.AddScores(weights[cd.node.Name], cd.priority)
		}
	}
	// The clone's own promoted-role colocations come first: the primary's
	// node scores, scaled, merged in (an optional one is dropped if it
	// leaves no node usable).
	for _, co := range c.thisWith {
		if co.depRole != RolePromoted {
			continue
		}
		weights = cl.addColocatedScores(co.primary, weights, co.nodeAttr, float64(co.score)/float64(cib.Infinity), false, co.score < cib.Infinity, map[*Resource]bool{c: true})
	}
	for _, co := range c.withThis {
		if co.primRole != RolePromoted || !cl.hasInfluence(co) {
			continue
		}
		weights = cl.addColocatedScores(co.dependent, weights, co.nodeAttr, float64(co.score)/float64(cib.Infinity), true, true, map[*Resource]bool{})
	}
	// Pacemaker works on the clone's own table: later merges of this
	// clone's scores see the promotion weights.
	c.allowed = weights
	for i, cd := range cands {
		if cd.priority >= 0 && cd.inst.Managed {
			cands[i].priority = weights[cd.node.Name]
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].priority != cands[j].priority {
			return cands[i].priority > cands[j].priority
		}
		ri, rj := cands[i].inst.Role == RolePromoted, cands[j].inst.Role == RolePromoted
		if ri != rj {
			return ri
		}
		return cands[i].inst.instanceNum < cands[j].inst.instanceNum
	})
	promoted := 0
	perNode := map[string]int{}
	for _, cd := range cands {
		role := RoleUnpromoted
		if cd.priority >= 0 && promoted < c.PromotedMax && perNode[cd.node.Name] < c.PromotedNodeMax && c.TargetRole != RoleUnpromoted &&
			// Without quorum under no-quorum-policy=freeze nothing new
			// is promoted.
			(cl.HaveQuorum || cl.NoQuorumPolicy != "freeze" || cd.inst.Role == RolePromoted) {
			promoted++
			perNode[cd.node.Name]++
			role = RolePromoted
		}
		cd.inst.NextRole = role
		for _, p := range cd.inst.Primitives() {
			if p.Assigned != nil {
				p.NextRole = role
			}
		}
		if cl.noScores {
			continue
		}
		cl.scores = append(cl.scores, ScoreLine{Kind: "promotion", Rsc: cd.inst.ID, Node: cd.node.Name, Score: cd.priority, Func: "pcmk__set_instance_roles"})
	}
}

// instanceNextRole is the role an instance was given by assignment, before
// promotion is decided (a group instance's is its first member's).
// An unmanaged instance keeps its current role, which Pacemaker takes as
// unpromoted when a monitor rather than a start found it active.
func instanceNextRole(inst *Resource) string {
	r := inst
	if inst.Kind == cib.KindGroup && len(inst.Children) > 0 {
		r = inst.Children[0]
	}
	if !r.Managed && r.NextRole == RoleStarted {
		if cur := r.CurrentNode(); cur != nil && r.activeByMonitor[cur.Name] {
			return RoleUnpromoted
		}
	}
	return r.NextRole
}

// ScoreLine is one allocation score, as crm_simulate -s prints it.
type ScoreLine struct {
	Kind  string // "allocation" or "promotion"
	Rsc   string
	Node  string
	Score int
	Func  string
}

func (cl *Cluster) recordScores(r *Resource) {
	if cl.noScores {
		return
	}
	if r.Orphan {
		return // orphans are not shown
	}
	cl.recordScoresAs(r, "pcmk__primitive_assign")
}

// recordScoresAs records r's current allowed scores as printed by fn.
func (cl *Cluster) recordScoresAs(r *Resource, fn string) {
	for _, n := range cl.Nodes {
		s, ok := r.allowed[n.Name]
		if !ok {
			continue
		}
		cl.scores = append(cl.scores, ScoreLine{Kind: "allocation", Rsc: r.ID, Node: n.Name, Score: s, Func: fn})
	}
}

// Scores returns the allocation scores recorded while assigning.
func (cl *Cluster) Scores() []ScoreLine { return cl.scores }

// applyNodeHealth turns #health-* node attributes into location scores
// according to node-health-strategy.
func (cl *Cluster) applyNodeHealth() {
	strategy := cl.Options["node-health-strategy"]
	red, yellow, green := cib.Score(cl.Options["node-health-red"]), cib.Score(cl.Options["node-health-yellow"]), cib.Score(cl.Options["node-health-green"])
	switch strategy {
	case "", "none":
		return
	case "migrate-on-red":
		red, yellow, green = -cib.Infinity, 0, 0
	case "only-green":
		red, yellow, green = -cib.Infinity, -cib.Infinity, 0
	}
	base := 0
	if strategy == "progressive" {
		base = cib.Score(cl.Options["node-health-base"])
	}
	for _, n := range cl.Nodes {
		health := base
		names := make([]string, 0)
		for k := range n.Attrs {
			if strings.HasPrefix(k, "#health") {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			v := n.Attrs[k]
			var sc int
			switch strings.ToLower(v) {
			case "red":
				sc = red
			case "yellow":
				sc = yellow
			case "green":
				sc = green
			default:
				sc = cib.Score(v)
			}
			health = cib.AddScores(health, sc)
		}
		if health == 0 {
			continue
		}
		for _, r := range cl.Resources {
			if health < 0 && isTrue(r.Meta["allow-unhealthy-nodes"]) {
				continue
			}
			r.location(n.Name, health)
		}
	}
}

// allOrphans reports whether r is a collective resource whose primitives
// are all orphans (an instance kept only for its history).
func allOrphans(r *Resource) bool {
	if r.Kind == cib.KindPrimitive || len(r.Children) == 0 {
		return false
	}
	for _, p := range r.Primitives() {
		if !p.Orphan {
			return false
		}
	}
	return true
}

// applyShutdownLocks locks resources to a cleanly shutting-down node (or
// keeps the lock found in their history) when shutdown-lock is enabled:
// a locked resource is banned from every other node, so it stops and waits
// for its node instead of moving. Fence devices and clone instances are
// never locked.
func (cl *Cluster) applyShutdownLocks() {
	if !cl.shutdownLock {
		return
	}
	for _, p := range cl.primitives {
		if p.IsStonith || cloneAncestor(p) != nil {
			p.lockNode = nil
			continue
		}
		if p.lockNode != nil {
			if len(p.RunningOn) > 0 {
				// Started elsewhere although locked: leave it alone.
				p.lockNode = nil
			}
		} else if len(p.RunningOn) == 1 {
			n := p.RunningOn[0]
			if n.Shutdown && !n.Unclean {
				p.lockNode = n
				p.lockTime = cl.Now.Unix()
				if v, err := strconv.ParseInt(n.Attrs["shutdown"], 10, 64); err == nil && v > 0 {
					p.lockTime = v
				}
			}
		}
		if p.lockNode == nil {
			continue
		}
		for _, n := range cl.Nodes {
			if n != p.lockNode {
				p.addScore(n.Name, -cib.Infinity)
			}
		}
		cl.noteFor(func() string { return "shutdown-lock: locked to " + p.lockNode.Name + " while it is shut down" })
	}
}
