package scheduler

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

type location struct {
	id        string
	rsc       *Resource
	role      string
	scores    map[string]int // node -> score
	discovery string
}

type colocation struct {
	id        string
	dependent *Resource
	primary   *Resource
	score     int
	depRole   string
	primRole  string
	nodeAttr  string
	influence bool
	// excludeOnly marks a group's mandatory colocation as applied to a
	// member other than the first: it only bans the member from nodes
	// where the primary is not (the first member carries the rest).
	excludeOnly bool
	// group is the group a "group with X" colocation was written for,
	// once it is moved to the group's first member (nil otherwise).
	group *Resource
}

// ordering flags
const (
	ordMandatory = 1 << iota
	ordOptional
	ordSerialize
	ordImpliesThen
	ordImpliesFirst
	ordRunnableLeft
	ordOneOrMore
	ordAsymmetric
	ordRestart
	ordThenCancelsFirst
	ordImpliesThenPrinted
	ordImpliesFirstPrinted
)

// relaxedOrder is an ordering through a "one-or-more" pseudo action: the
// then actions may run once `required` of the first actions are runnable
// (clone-min, or the deprecated require-all=false).
type relaxedOrder struct {
	name        string
	firsts      []*Resource
	firstAction string
	thens       []*Resource
	thenAction  string
	required    int
	flags       int
}

type ordering struct {
	id          string
	first       *Resource
	firstAction string
	then        *Resource
	thenAction  string
	flags       int
}

func normRole(r string) string {
	r = cib.NormalizeRole(r)
	if r == RoleStarted || r == "" {
		return ""
	}
	return r
}

// expandTargets maps a constraint target id to resources (tags expand).
func (cl *Cluster) expandTargets(id string) []*Resource {
	if r := cl.byID[id]; r != nil {
		return []*Resource{r}
	}
	if t := cl.Index.Resources[id]; t != nil && t.Kind == cib.KindTemplate {
		var out []*Resource
		for _, p := range cl.primitives {
			if p.Def != nil && p.Def.Template == id {
				out = append(out, p)
			}
		}
		return out
	}
	if t := cl.Index.Tags[id]; t != nil {
		var out []*Resource
		for _, ref := range t.Refs {
			out = append(out, cl.expandTargets(ref)...)
		}
		return out
	}
	return nil
}

func (cl *Cluster) unpackConstraints() error {
	for _, con := range cl.CIB.Config.Constraints {
		switch c := con.(type) {
		case *cib.Location:
			if err := cl.unpackLocation(c); err != nil {
				return err
			}
		case *cib.Colocation:
			cl.unpackColocation(c)
		case *cib.Order:
			cl.unpackOrder(c)
		case *cib.RawConstraint:
			if c.El.Name == "rsc_ticket" {
				return fmt.Errorf("constraint %q: tickets (rsc_ticket): %w", c.El.Get("id"), ErrUnsupported)
			}
		}
	}
	return nil
}

func (cl *Cluster) unpackLocation(c *cib.Location) error {
	var targets []*Resource
	if c.Rsc != "" {
		targets = cl.expandTargets(c.Rsc)
	}
	for _, s := range c.Sets {
		for _, ref := range s.Refs {
			targets = append(targets, cl.expandTargets(ref)...)
		}
	}
	var re *regexp.Regexp
	if c.RscPattern != "" {
		pattern, invert := c.RscPattern, false
		if strings.HasPrefix(pattern, "!") {
			pattern, invert = pattern[1:], true
		}
		var err error
		re, err = regexp.Compile(pattern)
		if err != nil {
			return fmt.Errorf("rsc_location %q: rsc-pattern: %w", c.ID, err)
		}
		for _, r := range cl.Resources {
			if re.MatchString(r.ID) != invert {
				targets = append(targets, r)
			}
		}
	}
	for _, r := range targets {
		loc := &location{id: c.ID, rsc: r, role: normRole(c.Role), scores: map[string]int{}, discovery: c.ResourceDiscovery}
		if c.Node != "" {
			if n := cl.nodeByName[c.Node]; n != nil {
				loc.scores[n.Name] = cib.Score(c.Score)
			}
		}
		for _, rule := range c.Rules {
			rule = cl.Index.ResolveRule(rule)
			role := normRole(rule.Role)
			if role != "" {
				loc.role = role
			}
			for _, n := range cl.Nodes {
				ctx := &cib.RuleContext{Now: cl.Now, Index: cl.Index, NodeAttrs: n.Attrs, Params: cl.paramsOn(r, n), Meta: r.Meta,
					RscClass: r.Class, RscProv: r.Provider, RscType: r.Type}
				if !cib.EvalRule(&cib.Rule{Exprs: rule.Exprs, BooleanOp: rule.BooleanOp}, ctx) {
					continue
				}
				score := 0
				switch {
				case rule.Score != "":
					score = cib.Score(rule.Score)
				case rule.ScoreAttribute != "":
					v, ok := n.Attrs[rule.ScoreAttribute]
					if !ok {
						score = -cib.Infinity
					} else {
						score = cib.Score(v)
					}
				case c.Score != "":
					score = cib.Score(c.Score)
				}
				if old, ok := loc.scores[n.Name]; ok {
					score = cib.AddScores(old, score)
				}
				loc.scores[n.Name] = score
			}
		}
		cl.locations = append(cl.locations, loc)
	}
	return nil
}

func (cl *Cluster) addColocation(id string, dep, prim *Resource, score int, depRole, primRole, attr, influence string) {
	if dep == nil || prim == nil || dep == prim {
		return
	}
	inf := dep.Critical
	if influence != "" {
		inf = isTrue(influence)
	}
	co := &colocation{id: id, dependent: dep, primary: prim, score: score, depRole: normRole(depRole), primRole: normRole(primRole), nodeAttr: attr, influence: inf}
	cl.colocations = append(cl.colocations, co)
	dep.thisWith = append(dep.thisWith, co)
	prim.withThis = append(prim.withThis, co)
}

func (cl *Cluster) unpackColocation(c *cib.Colocation) {
	score := cib.Score(c.Score)
	if len(c.Sets) == 0 {
		if cl.byID[c.Rsc] == nil && cl.byID[c.WithRsc] == nil {
			// Both sides are tags or templates: Pacemaker 2.1.5 turns
			// each into a set and then applies nothing between them.
			return
		}
		for _, d := range cl.expandTargets(c.Rsc) {
			for _, p := range cl.expandTargets(c.WithRsc) {
				cl.addColocation(c.ID, d, p, score, c.RscRole, c.WithRscRole, c.NodeAttribute, c.Influence)
			}
		}
		return
	}
	// Resource sets.
	var prev []*Resource
	var prevSet *cib.ResourceSet
	for _, s := range c.Sets {
		var members []*Resource
		for _, ref := range s.Refs {
			members = append(members, cl.expandTargets(ref)...)
		}
		setScore := score
		if s.Score != "" {
			setScore = cib.Score(s.Score)
		}
		if s.Sequential == "" || isTrue(s.Sequential) {
			if setScore < 0 {
				// Anti-colocation: every member against every other.
				for i := 0; i < len(members); i++ {
					for j := i + 1; j < len(members); j++ {
						cl.addColocation(c.ID, members[j], members[i], setScore, s.Role, s.Role, c.NodeAttribute, c.Influence)
					}
				}
			} else if strings.EqualFold(s.Ordering, "listed") {
				// Each member with the next one.
				for i := 0; i+1 < len(members); i++ {
					cl.addColocation(c.ID, members[i], members[i+1], setScore, s.Role, s.Role, c.NodeAttribute, c.Influence)
				}
			} else {
				// Each member with the previous one.
				for i := 1; i < len(members); i++ {
					cl.addColocation(c.ID, members[i], members[i-1], setScore, s.Role, s.Role, c.NodeAttribute, c.Influence)
				}
			}
		}
		if prevSet != nil {
			// Between sets: the first member of this set with the last of the previous... Pacemaker:
			// every member of the earlier set is colocated with the later set's resources.
			if len(members) > 0 && len(prev) > 0 {
				if isTrue(orDefault(prevSet.Sequential, "true")) && isTrue(orDefault(s.Sequential, "true")) {
					cl.addColocation(c.ID, prev[0], members[len(members)-1], score, prevSet.Role, s.Role, c.NodeAttribute, c.Influence)
				} else {
					for _, d := range prev {
						for _, p := range members {
							cl.addColocation(c.ID, d, p, score, prevSet.Role, s.Role, c.NodeAttribute, c.Influence)
						}
					}
				}
			}
		}
		prev, prevSet = members, s
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (cl *Cluster) addOrder(id string, first *Resource, fa string, then *Resource, ta string, flags int) {
	if first == nil || then == nil {
		return
	}
	cl.orders = append(cl.orders, &ordering{id: id, first: first, firstAction: fa, then: then, thenAction: ta, flags: flags})
}

func orderFlags(kind string, score string) int {
	switch kind {
	case "Optional":
		return ordOptional
	case "Serialize":
		return ordSerialize
	case "":
		if score != "" && cib.Score(score) == 0 {
			return ordOptional
		}
	}
	return ordMandatory
}

// restartType reports whether r has the deprecated meta attribute
// restart-type=restart.
func restartType(r *Resource) bool {
	return strings.EqualFold(r.Meta["restart-type"], "restart")
}

func inverseAction(a string) string {
	switch a {
	case "start":
		return "stop"
	case "stop":
		return "start"
	case "promote":
		return "demote"
	case "demote":
		return "promote"
	}
	return a
}

func (cl *Cluster) orderPair(id string, first *Resource, fa string, then *Resource, ta string, kind, score string, symmetrical bool) {
	flags := orderFlags(kind, score)
	fwd := flags
	if flags&ordMandatory != 0 {
		if symmetrical {
			fwd |= ordImpliesThen
			if fa == "start" || fa == "promote" {
				fwd |= ordRunnableLeft
			}
		} else {
			fwd = ordAsymmetric
		}
	}
	// The deprecated restart-type=restart meta attribute upgrades an
	// optional ordering: the resource restarts with the one it follows.
	if kind == "Optional" && restartType(then) {
		fwd |= ordImpliesThen
	}
	cl.addOrder(id, first, fa, then, ta, fwd)
	if symmetrical && flags&ordSerialize == 0 {
		inv := flags
		if flags&ordMandatory != 0 {
			inv |= ordImpliesFirst
		}
		if kind == "Optional" && restartType(first) {
			inv |= ordImpliesFirst
		}
		cl.addOrder(id, then, inverseAction(ta), first, inverseAction(fa), inv)
	}
}

func (cl *Cluster) unpackOrder(c *cib.Order) {
	kind := c.Kind
	symmetrical := true
	if c.Symmetrical != "" {
		symmetrical = isTrue(c.Symmetrical)
	} else if kind == "Serialize" {
		symmetrical = false
	}
	if len(c.Sets) == 0 {
		fa := orDefault(c.FirstAction, "start")
		ta := orDefault(c.ThenAction, fa)
		for _, f := range cl.expandTargets(c.First) {
			for _, t := range cl.expandTargets(c.Then) {
				required := 0
				if f.IsClone() {
					required = f.CloneMin
					if c.RequireAll != "" && !isTrue(c.RequireAll) {
						required = 1
					}
				}
				if required > 0 && fa == "start" {
					flags := orderFlags(kind, c.Score)
					fwd := flags
					if flags&ordMandatory != 0 {
						if symmetrical {
							fwd |= ordImpliesThen | ordRunnableLeft
						} else {
							fwd = ordAsymmetric
						}
					}
					cl.relaxed = append(cl.relaxed, &relaxedOrder{name: "clone-one-or-more:" + c.ID, firsts: f.Children, firstAction: fa,
						thens: []*Resource{t}, thenAction: ta, required: required, flags: fwd | ordRunnableLeft})
					if symmetrical && flags&ordSerialize == 0 {
						// The inverse only orders the stops.
						cl.addOrder(c.ID, t, inverseAction(ta), f, inverseAction(fa), ordOptional)
					}
					continue
				}
				cl.orderPair(c.ID, f, fa, t, ta, kind, c.Score, symmetrical)
			}
		}
		return
	}
	type setInfo struct {
		members    []*Resource
		action     string
		sequential bool
		requireAll bool
		id         string
	}
	var sets []setInfo
	for _, s := range c.Sets {
		si := setInfo{id: s.ID, action: orDefault(s.Action, "start"), sequential: isTrue(orDefault(s.Sequential, "true")), requireAll: isTrue(orDefault(s.RequireAll, "true"))}
		for _, ref := range s.Refs {
			si.members = append(si.members, cl.expandTargets(ref)...)
		}
		sk := kind
		if s.Kind != "" {
			sk = s.Kind
		}
		if si.sequential {
			for i := 1; i < len(si.members); i++ {
				cl.orderPair(c.ID, si.members[i-1], si.action, si.members[i], si.action, sk, c.Score, symmetrical)
			}
		}
		sets = append(sets, si)
	}
	for i := 1; i < len(sets); i++ {
		a, b := sets[i-1], sets[i]
		if len(a.members) == 0 || len(b.members) == 0 {
			continue
		}
		if !a.requireAll {
			flags := orderFlags(kind, c.Score)
			fwd := flags
			if flags&ordMandatory != 0 {
				fwd |= ordImpliesThen | ordRunnableLeft
			}
			cl.relaxed = append(cl.relaxed, &relaxedOrder{name: "one-or-more:" + a.id, firsts: a.members, firstAction: a.action,
				thens: b.members, thenAction: b.action, required: 1, flags: fwd | ordRunnableLeft})
			continue
		}
		firsts := a.members
		if a.sequential {
			firsts = a.members[len(a.members)-1:]
		}
		thens := b.members
		if b.sequential {
			thens = b.members[:1]
		}
		for _, f := range firsts {
			for _, t := range thens {
				cl.orderPair(c.ID, f, a.action, t, b.action, kind, c.Score, symmetrical)
			}
		}
	}
}

// sortColocations orders a resource's "this with" list as Pacemaker does:
// by primary priority, then clones before groups before primitives, then id.
func sortColocations(list []*colocation, primary bool) {
	kindRank := func(r *Resource) int {
		switch r.Kind {
		case cib.KindClone:
			return 0
		case cib.KindGroup:
			return 1
		}
		return 2
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].primary, list[j].primary
		if !primary {
			a, b = list[i].dependent, list[j].dependent
			// A group's colocation sorts as the group's.
			if g := list[i].group; g != nil {
				a = g
			}
			if g := list[j].group; g != nil {
				b = g
			}
		}
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		if kindRank(a) != kindRank(b) {
			return kindRank(a) < kindRank(b)
		}
		return strings.Compare(a.ID, b.ID) < 0
	})
}

// paramsOn evaluates a primitive's instance attributes for a node (their
// rules may test node attributes).
func (cl *Cluster) paramsOn(r *Resource, n *Node) map[string]string {
	if r.Def == nil || r.Kind != cib.KindPrimitive {
		return r.Params
	}
	hasRules := false
	for _, s := range r.Def.Instance {
		if len(s.Rules) > 0 {
			hasRules = true
		}
	}
	if !hasRules {
		return r.Params
	}
	ctx := &cib.RuleContext{Now: cl.Now, Index: cl.Index, NodeAttrs: n.Attrs, RscClass: r.Class, RscProv: r.Provider, RscType: r.Type}
	return cib.UnpackNVSets(r.Def.Instance, ctx, "", nil)
}
