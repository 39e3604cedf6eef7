package cib

import (
	"fmt"
	"sort"
	"strings"
)

// Lint finds constraints that are valid XML but cannot do what their author
// meant: dead ones (a resource constrained against itself, a location for a
// node that is not configured, a zero score that has no effect) and
// conflicting ones (+INFINITY and -INFINITY for the same resource and node
// or the same pair of resources; mandatory orders that form a loop). Each
// finding names the constraint ids. Lint is pure and safe for concurrent
// use on a configuration nobody modifies.
func Lint(c *Configuration) []string {
	var out []string
	nodes := map[string]bool{}
	for _, n := range c.Nodes {
		nodes[n.Uname] = true
	}
	type key = lintKey
	locScore := map[key][]string{}   // rsc,node -> "id=score"
	colocScore := map[key][]string{} // dependent,primary -> "id=score"
	orderEdges := map[string][]string{}
	orderID := map[key]string{}
	for _, con := range c.Constraints {
		switch x := con.(type) {
		case *Location:
			if x.Node != "" && len(nodes) > 0 && !nodes[x.Node] {
				out = append(out, fmt.Sprintf("location %s: node %s is not configured: the constraint never applies", x.ID, x.Node))
			}
			if x.Node != "" && x.Rsc != "" && x.Score != "" {
				if v, err := ParseScore(x.Score); err == nil {
					if v == 0 {
						out = append(out, fmt.Sprintf("location %s: score 0 has no effect", x.ID))
					}
					k := key{x.Rsc + roleSuffix(x.Role), x.Node}
					locScore[k] = append(locScore[k], x.ID+"="+ScoreString(v))
				}
			}
		case *Colocation:
			if x.Rsc != "" && x.Rsc == x.WithRsc {
				out = append(out, fmt.Sprintf("colocation %s: %s is colocated with itself: the constraint never applies", x.ID, x.Rsc))
			}
			if x.Rsc != "" && x.WithRsc != "" {
				if v, err := ParseScore(x.Score); err == nil {
					if v == 0 {
						out = append(out, fmt.Sprintf("colocation %s: score 0 has no effect", x.ID))
					}
					k := key{x.Rsc + roleSuffix(x.RscRole), x.WithRsc + roleSuffix(x.WithRscRole)}
					colocScore[k] = append(colocScore[k], x.ID+"="+ScoreString(v))
				}
			}
		case *Order:
			if x.First != "" && x.First == x.Then && (x.FirstAction == x.ThenAction || x.FirstAction == "" && x.ThenAction == "") {
				out = append(out, fmt.Sprintf("order %s: %s is ordered after itself: the constraint never applies", x.ID, x.First))
			}
			if x.First != "" && x.Then != "" && x.First != x.Then && mandatoryOrder(x) &&
				(x.FirstAction == "" || x.FirstAction == "start") && (x.ThenAction == "" || x.ThenAction == "start") {
				orderEdges[x.First] = append(orderEdges[x.First], x.Then)
				orderID[key{x.First, x.Then}] = x.ID
			}
		}
	}
	out = append(out, conflicts("location", locScore)...)
	out = append(out, conflicts("colocation", colocScore)...)
	// Mandatory start orders that loop can never be satisfied.
	seen := map[string]bool{}
	var firsts []string
	for f := range orderEdges {
		firsts = append(firsts, f)
	}
	sort.Strings(firsts)
	for _, f := range firsts {
		for _, t := range orderEdges[f] {
			if f < t && contains(orderEdges[t], f) && !seen[f+"\x00"+t] {
				seen[f+"\x00"+t] = true
				out = append(out, fmt.Sprintf("orders %s and %s: %s and %s must each start before the other: neither can start",
					orderID[key{f, t}], orderID[key{t, f}], f, t))
			}
		}
	}
	return out
}

type lintKey struct{ a, b string }

func roleSuffix(role string) string {
	if role == "" || role == "Started" {
		return ""
	}
	return ":" + role
}

func mandatoryOrder(o *Order) bool {
	if o.Kind != "" {
		return strings.EqualFold(o.Kind, "Mandatory")
	}
	if o.Score != "" {
		v, err := ParseScore(o.Score)
		return err == nil && v > 0
	}
	return true
}

// conflicts reports keys that have both a +INFINITY and a -INFINITY score.
func conflicts(kind string, m map[lintKey][]string) []string {
	var out []string
	for k, ids := range m {
		pos, neg := "", ""
		for _, s := range ids {
			id, v, _ := strings.Cut(s, "=")
			switch v {
			case "INFINITY":
				pos = id
			case "-INFINITY":
				neg = id
			}
		}
		if pos != "" && neg != "" {
			if kind == "location" {
				out = append(out, fmt.Sprintf("locations %s and %s conflict: %s is both required on and banned from %s", pos, neg, k.a, k.b))
			} else {
				out = append(out, fmt.Sprintf("colocations %s and %s conflict: %s must both run with and never run with %s", pos, neg, k.a, k.b))
			}
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
