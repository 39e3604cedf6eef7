package transition

import (
	"time"

	"github.com/gocrm/gocrm/crm/scheduler"
)

// FromSchedule builds the Graph of a scheduler transition: one Action per
// graph action (same id), with inputs restricted to in-graph actions.
// Orderings that pass through actions outside the graph are followed
// transitively, so a -> (optional b) -> c still orders a before c.
// timeout gives each real action its in-flight budget (nil: default).
func FromSchedule(t *scheduler.Transition, id, batchLimit int, timeout func(*scheduler.Action) time.Duration) Graph {
	graph := t.GraphActions()
	inGraph := make(map[*scheduler.Action]bool, len(graph))
	for _, a := range graph {
		inGraph[a] = true
	}
	g := Graph{ID: id, BatchLimit: batchLimit}
	for _, a := range graph {
		act := Action{ID: a.ID, Pseudo: a.Pseudo}
		seen := map[*scheduler.Action]bool{a: true}
		var walk func(x *scheduler.Action)
		walk = func(x *scheduler.Action) {
			for _, in := range x.Inputs() {
				if seen[in] {
					continue
				}
				seen[in] = true
				if inGraph[in] {
					act.Inputs = append(act.Inputs, in.ID)
				} else {
					walk(in)
				}
			}
		}
		walk(a)
		if timeout != nil && !a.Pseudo {
			act.Timeout = timeout(a)
		}
		g.Actions = append(g.Actions, act)
	}
	return g
}
