// Package transition is gocrm's graph executor, the role of Pacemaker's
// transition engine (controld_te_*): given the actions of one transition and
// their ordering inputs, it decides which actions may be dispatched now
// (respecting the batch limit), tracks the actions in flight with
// per-action timeouts, records confirmations and failures, and stops
// dispatching when the transition is aborted because the CIB changed in a
// way that needs a new plan.
//
// The package is pure: no goroutines, no I/O, no wall clock. Every method
// that depends on time takes "now" from the caller (the DC loop injects the
// wall clock at that boundary; tests use a fake one).
//
// Concurrency: an Engine is not safe for concurrent use; the DC loop owns it.
package transition

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Sentinel errors.
var (
	// ErrGraph is wrapped by New for an invalid graph (duplicate ids,
	// unknown inputs, ordering loops are reported as never-runnable
	// actions, not as errors).
	ErrGraph = errors.New("invalid transition graph")
	// ErrUnknownAction is returned when confirming an action id that is not
	// in the graph.
	ErrUnknownAction = errors.New("unknown action")
	// ErrNotInFlight is returned when confirming an action that was not
	// dispatched (or was already confirmed or timed out).
	ErrNotInFlight = errors.New("action not in flight")
)

// Action is one graph node as the engine sees it.
type Action struct {
	// ID is unique within the graph.
	ID int
	// Inputs are the ids of the actions that must complete successfully
	// before this one may run.
	Inputs []int
	// Pseudo actions have no executor: they complete as soon as they are
	// ready and do not count toward the batch limit.
	Pseudo bool
	// Timeout bounds the time the action may stay in flight; zero means
	// Graph.DefaultTimeout.
	Timeout time.Duration
}

// Graph is one transition.
type Graph struct {
	// ID is the transition number (for logs and transition keys).
	ID      int
	Actions []Action
	// BatchLimit caps the number of non-pseudo actions in flight
	// (Pacemaker's batch-limit); zero or negative means unlimited.
	BatchLimit int
	// DefaultTimeout applies to actions without their own (default 20 s).
	DefaultTimeout time.Duration
}

// State is the execution state of one action.
type State int

// Action states.
const (
	Pending   State = iota // waiting for its inputs (or for dispatch)
	InFlight               // dispatched, no confirmation yet
	Confirmed              // completed successfully
	Failed                 // completed with an unexpected result
	TimedOut               // no confirmation within its timeout
)

func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case InFlight:
		return "in-flight"
	case Confirmed:
		return "confirmed"
	case Failed:
		return "failed"
	case TimedOut:
		return "timed-out"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

type node struct {
	act      Action
	state    State
	deadline time.Time
}

// Engine executes one Graph.
type Engine struct {
	g        Graph
	nodes    map[int]*node
	order    []int // dispatch order: graph order
	inFlight int
	aborted  bool
	reason   string
}

// New validates g and returns an engine with every action pending.
func New(g Graph) (*Engine, error) {
	if g.DefaultTimeout <= 0 {
		g.DefaultTimeout = 20 * time.Second
	}
	e := &Engine{g: g, nodes: make(map[int]*node, len(g.Actions))}
	for _, a := range g.Actions {
		if _, dup := e.nodes[a.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate action id %d", ErrGraph, a.ID)
		}
		a.Inputs = append([]int(nil), a.Inputs...)
		e.nodes[a.ID] = &node{act: a}
		e.order = append(e.order, a.ID)
	}
	for _, a := range g.Actions {
		for _, in := range a.Inputs {
			if _, ok := e.nodes[in]; !ok {
				return nil, fmt.Errorf("%w: action %d has unknown input %d", ErrGraph, a.ID, in)
			}
		}
	}
	return e, nil
}

// ID returns the transition number.
func (e *Engine) ID() int { return e.g.ID }

// ready reports whether every input of n is confirmed.
func (e *Engine) ready(n *node) bool {
	for _, in := range n.act.Inputs {
		if e.nodes[in].state != Confirmed {
			return false
		}
	}
	return true
}

// Dispatch returns the actions to start now, in graph order, and marks
// them in flight with their deadline (now + timeout). Pseudo actions that
// become ready are confirmed internally (repeatedly, so chains of pseudo
// actions collapse) and never returned. Nothing is dispatched once the
// transition is aborted; at most BatchLimit real actions are in flight.
func (e *Engine) Dispatch(now time.Time) []int {
	if e.aborted {
		return nil
	}
	var out []int
	for progress := true; progress; {
		progress = false
		for _, id := range e.order {
			n := e.nodes[id]
			if n.state != Pending || !e.ready(n) {
				continue
			}
			if n.act.Pseudo {
				n.state = Confirmed
				progress = true
				continue
			}
			if e.g.BatchLimit > 0 && e.inFlight >= e.g.BatchLimit {
				continue
			}
			n.state = InFlight
			t := n.act.Timeout
			if t <= 0 {
				t = e.g.DefaultTimeout
			}
			n.deadline = now.Add(t)
			e.inFlight++
			out = append(out, id)
		}
	}
	return out
}

// Confirm records the outcome of an in-flight action. A failure aborts the
// transition (the scheduler must re-plan with the recorded result).
func (e *Engine) Confirm(id int, ok bool) error {
	n, found := e.nodes[id]
	if !found {
		return fmt.Errorf("%w: %d", ErrUnknownAction, id)
	}
	if n.state != InFlight {
		return fmt.Errorf("%w: action %d is %s", ErrNotInFlight, id, n.state)
	}
	e.inFlight--
	if ok {
		n.state = Confirmed
		return nil
	}
	n.state = Failed
	e.abort(fmt.Sprintf("action %d failed", id))
	return nil
}

// Expire marks every in-flight action whose deadline is at or before now
// as timed out, aborts the transition if any did, and returns their ids.
func (e *Engine) Expire(now time.Time) []int {
	var out []int
	for _, id := range e.order {
		n := e.nodes[id]
		if n.state == InFlight && !now.Before(n.deadline) {
			n.state = TimedOut
			e.inFlight--
			out = append(out, id)
		}
	}
	if len(out) > 0 {
		e.abort(fmt.Sprintf("%d action(s) timed out", len(out)))
	}
	return out
}

// NextDeadline returns the earliest deadline of an in-flight action.
func (e *Engine) NextDeadline() (time.Time, bool) {
	var best time.Time
	found := false
	for _, n := range e.nodes {
		if n.state == InFlight && (!found || n.deadline.Before(best)) {
			best, found = n.deadline, true
		}
	}
	return best, found
}

// Abort stops dispatching new actions; actions in flight may still be
// confirmed. The first reason is kept.
func (e *Engine) Abort(reason string) { e.abort(reason) }

func (e *Engine) abort(reason string) {
	if !e.aborted {
		e.aborted, e.reason = true, reason
	}
}

// Aborted reports whether the transition was aborted, and why.
func (e *Engine) Aborted() (bool, string) { return e.aborted, e.reason }

// State returns the state of action id.
func (e *Engine) State(id int) (State, bool) {
	n, ok := e.nodes[id]
	if !ok {
		return 0, false
	}
	return n.state, true
}

// InFlight returns the ids of the actions in flight, sorted.
func (e *Engine) InFlight() []int {
	var out []int
	for id, n := range e.nodes {
		if n.state == InFlight {
			out = append(out, id)
		}
	}
	sort.Ints(out)
	return out
}

// Done reports whether the transition is over: nothing is in flight and
// nothing more can be dispatched (everything confirmed, the transition
// aborted, or the remaining actions blocked behind failures or loops).
// Call Dispatch first so that pseudo actions have been collapsed.
func (e *Engine) Done() bool {
	if e.inFlight > 0 {
		return false
	}
	if e.aborted {
		return true
	}
	for _, id := range e.order {
		n := e.nodes[id]
		if n.state == Pending && e.ready(n) && (e.g.BatchLimit <= 0 || e.inFlight < e.g.BatchLimit) {
			return false
		}
	}
	return true
}

// Summary counts actions by state.
type Summary struct {
	Total, Pending, InFlight, Confirmed, Failed, TimedOut int
	Aborted                                               bool
	Reason                                                string
}

// Complete reports whether every action was confirmed.
func (s Summary) Complete() bool { return s.Confirmed == s.Total }

// Summary returns the per-state counts.
func (e *Engine) Summary() Summary {
	s := Summary{Total: len(e.nodes), Aborted: e.aborted, Reason: e.reason}
	for _, n := range e.nodes {
		switch n.state {
		case Pending:
			s.Pending++
		case InFlight:
			s.InFlight++
		case Confirmed:
			s.Confirmed++
		case Failed:
			s.Failed++
		case TimedOut:
			s.TimedOut++
		}
	}
	return s
}
