package scheduler

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
)

// Contribution is one step that changed a resource's score on a node while
// the scheduler built its placement: From and To are the node's score
// before and after the step (Present* false means the node was not in the
// resource's allowed list yet, or was removed from it).
type Contribution struct {
	Node        string
	From, To    int
	FromPresent bool
	Reason      string
}

// Delta renders the change as Pacemaker-style score arithmetic: "+100",
// "-INFINITY", "=0" (first score), or "100 -> 50" when saturation makes a
// plain difference misleading.
func (c Contribution) Delta() string {
	if !c.FromPresent {
		return "=" + cib.ScoreString(c.To)
	}
	if c.To == cib.Infinity || c.To == -cib.Infinity || c.From == cib.Infinity || c.From == -cib.Infinity {
		if cib.AddScores(c.From, c.To-c.From) == c.To && c.From != cib.Infinity && c.From != -cib.Infinity {
			return signed(c.To - c.From)
		}
		return cib.ScoreString(c.From) + " -> " + cib.ScoreString(c.To)
	}
	return signed(c.To - c.From)
}

func signed(d int) string {
	if d >= cib.Infinity {
		return "+INFINITY"
	}
	if d <= -cib.Infinity {
		return "-INFINITY"
	}
	if d >= 0 {
		return "+" + fmt.Sprint(d)
	}
	return fmt.Sprint(d)
}

// NodeExplanation is a resource's final standing on one node.
type NodeExplanation struct {
	Node string
	// Score is the allocation score (as crm_simulate -s prints it).
	Score int
	// Scored is false when the node never entered the allowed list (an
	// asymmetric cluster without a location constraint for it).
	Scored bool
	// Unavailable says why the node cannot run resources at all (standby,
	// offline, unclean, maintenance, pending, shutting down), "" if it can.
	Unavailable string
	// Steps are the contributions to Score, in the order applied.
	Steps []Contribution
}

// ActionReason is one planned action of the resource and why.
type ActionReason struct {
	Action   string // e.g. "start rsc1 on node2", "monitor=10000 rsc1 on node2"
	Reason   string // the scheduler's reason, "" when implied by placement
	Runnable bool
}

// Explanation tells why the scheduler placed a resource where it did. It is
// produced by the scheduler's own pipeline (ScheduleWith with
// Options.Explain), not by a re-implementation.
type Explanation struct {
	Resource string
	// Primitives lists, for a collective resource, the explained members
	// (clone instances, group members) in order; a primitive explains itself.
	Primitives []PrimitiveExplanation
	// Summary are the Transition Summary lines about the resource.
	Summary []string
	// Quorum is "" with quorum, else the no-quorum-policy in effect.
	Quorum string
}

// PrimitiveExplanation is the explanation for one primitive.
type PrimitiveExplanation struct {
	ID       string
	Current  []string // nodes it is active on now
	Assigned string   // "" when it will be stopped
	NextRole string
	Nodes    []NodeExplanation
	Actions  []ActionReason
}

// explainer records the score history of the explained primitives.
type explainer struct {
	target  string
	rscs    []*Resource
	snap    map[*Resource]map[string]int
	contrib map[*Resource][]Contribution
}

func (cl *Cluster) startExplain(id string) error {
	r := cl.byID[id]
	if r == nil {
		// A clone's base ID names its instances too.
		for _, c := range cl.Resources {
			if c.BaseID == id || strings.TrimSuffix(c.ID, ":0") == id {
				r = c
				break
			}
		}
	}
	if r == nil {
		return fmt.Errorf("explain %q: %w", id, ErrUnknownResource)
	}
	ex := &explainer{target: id, snap: map[*Resource]map[string]int{}, contrib: map[*Resource][]Contribution{}}
	if r.Kind == cib.KindPrimitive {
		ex.rscs = []*Resource{r}
	} else {
		ex.rscs = r.Primitives()
	}
	for _, p := range ex.rscs {
		ex.snap[p] = map[string]int{}
	}
	cl.explain = ex
	return nil
}

// note attributes every score change of an explained primitive since the
// previous note to reason. It costs nothing when not explaining.
func (cl *Cluster) note(reason string) {
	if cl.explain == nil {
		return
	}
	for _, p := range cl.explain.rscs {
		cl.noteRsc(p, reason)
	}
}

// noteFor is note with a reason built only when explaining.
func (cl *Cluster) noteFor(reason func() string) {
	if cl.explain == nil {
		return
	}
	cl.note(reason())
}

func (cl *Cluster) noteRsc(p *Resource, reason string) {
	ex := cl.explain
	old := ex.snap[p]
	for _, n := range cl.Nodes {
		was, had := old[n.Name]
		now, has := p.allowed[n.Name]
		if had == has && was == now {
			continue
		}
		if !has {
			delete(old, n.Name)
			continue
		}
		ex.contrib[p] = append(ex.contrib[p], Contribution{Node: n.Name, From: was, To: now, FromPresent: had, Reason: reason})
		old[n.Name] = now
	}
}

// unavailableReason says why n cannot run resources, "" if it can.
func unavailableReason(n *Node) string {
	switch {
	case n.Unclean:
		r := "unclean"
		if n.UncleanReason != "" {
			r += " (" + n.UncleanReason + ")"
		}
		return r
	case !n.Online:
		return "offline"
	case n.Pending:
		return "pending (not yet joined)"
	case n.Standby && n.StandbyOnFail:
		return "standby (on-fail=standby)"
	case n.Standby:
		return "standby"
	case n.Maintenance:
		return "maintenance"
	case n.Shutdown:
		return "shutting down"
	}
	return ""
}

func (cl *Cluster) finishExplain(t *Transition) *Explanation {
	ex := cl.explain
	out := &Explanation{Resource: ex.target}
	if !cl.HaveQuorum {
		out.Quorum = cl.NoQuorumPolicy
	}
	for _, p := range ex.rscs {
		pe := PrimitiveExplanation{ID: p.ID, NextRole: p.NextRole}
		for _, n := range p.RunningOn {
			pe.Current = append(pe.Current, n.Name)
		}
		if p.Assigned != nil {
			pe.Assigned = p.Assigned.Name
		}
		for _, n := range cl.Nodes {
			s, ok := p.allowed[n.Name]
			ne := NodeExplanation{Node: n.Name, Score: s, Scored: ok, Unavailable: unavailableReason(n)}
			if !ok {
				ne.Score = -cib.Infinity
			}
			for _, c := range ex.contrib[p] {
				if c.Node == n.Name {
					ne.Steps = append(ne.Steps, c)
				}
			}
			pe.Nodes = append(pe.Nodes, ne)
		}
		for _, a := range p.actionList {
			if !a.InGraph() && !(!a.Runnable && !a.Optional) {
				continue
			}
			ar := ActionReason{Action: describeAction(a), Reason: a.Reason, Runnable: a.Runnable}
			pe.Actions = append(pe.Actions, ar)
		}
		out.Primitives = append(out.Primitives, pe)
	}
	ids := map[string]bool{ex.target: true}
	for _, p := range ex.rscs {
		ids[p.ID] = true
		for q := p.Parent; q != nil; q = q.Parent {
			ids[q.ID] = true
		}
	}
	for _, line := range t.Summary {
		f := strings.Fields(line)
		if len(f) >= 2 && ids[f[1]] {
			out.Summary = append(out.Summary, line)
		}
	}
	return out
}

func describeAction(a *Action) string {
	task := a.Task
	if a.Task == "monitor" && a.Interval == 0 {
		task = "probe"
	} else if a.Interval > 0 {
		task = fmt.Sprintf("%s=%d", a.Task, a.Interval)
	}
	s := task + " " + a.Rsc.ID
	if a.Node != nil {
		s += " on " + a.Node.Name
	}
	return s
}

// Explain schedules c and explains the placement and actions of resource
// id (a primitive, group, clone or clone instance) through the same
// pipeline as ScheduleWith. It is pure.
func Explain(c *cib.CIB, now time.Time, id string) (*Explanation, *Transition, error) {
	t, err := ScheduleWith(c, now, Options{NoScores: true, Explain: id})
	if err != nil {
		return nil, nil, err
	}
	return t.Explanation, t, nil
}

// WriteText renders the explanation for humans; node limits the output to
// one node when not "".
func (e *Explanation) WriteText(w *strings.Builder, node string) {
	fmt.Fprintf(w, "Resource %s\n", e.Resource)
	if e.Quorum != "" {
		fmt.Fprintf(w, "  Cluster has no quorum: no-quorum-policy=%s applies\n", e.Quorum)
	}
	for _, p := range e.Primitives {
		if len(e.Primitives) > 1 || p.ID != e.Resource {
			fmt.Fprintf(w, "\n%s\n", p.ID)
		}
		cur := "stopped"
		if len(p.Current) > 0 {
			cur = "active on " + strings.Join(p.Current, ", ")
		}
		next := "stopped"
		if p.Assigned != "" {
			next = p.Assigned
			if p.NextRole != "" && p.NextRole != RoleStarted {
				next += " (" + p.NextRole + ")"
			}
		}
		fmt.Fprintf(w, "  now:  %s\n  next: %s\n", cur, next)
		nodes := append([]NodeExplanation(nil), p.Nodes...)
		sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].Score > nodes[j].Score })
		fmt.Fprintln(w, "  scores:")
		for _, n := range nodes {
			if node != "" && n.Node != node {
				continue
			}
			score := cib.ScoreString(n.Score)
			if !n.Scored {
				score = "-INFINITY (not allowed: no location constraint in an asymmetric cluster)"
			}
			mark := ""
			if n.Node == p.Assigned {
				mark = "  <- chosen"
			}
			fmt.Fprintf(w, "    %s: %s%s\n", n.Node, score, mark)
			for _, s := range n.Steps {
				fmt.Fprintf(w, "      %-14s %s\n", s.Delta(), s.Reason)
			}
			if n.Unavailable != "" {
				fmt.Fprintf(w, "      %-14s node is %s: cannot run resources\n", "(unavailable)", n.Unavailable)
			}
		}
		if len(p.Actions) > 0 {
			fmt.Fprintln(w, "  actions:")
			for _, a := range p.Actions {
				line := "    " + a.Action
				if a.Reason != "" {
					line += ": " + a.Reason
				}
				if !a.Runnable {
					line += " (blocked)"
				}
				fmt.Fprintln(w, line)
			}
		}
	}
	if len(e.Summary) > 0 {
		fmt.Fprintln(w, "\nTransition Summary:")
		for _, l := range e.Summary {
			fmt.Fprintf(w, "  * %s\n", l)
		}
	}
}
