package fsm

import (
	"errors"
	"fmt"
	"time"
)

// ErrNoStep is returned by Operation.Report when no step is outstanding.
var ErrNoStep = errors.New("no device action outstanding")

// ErrExhausted is recorded (in Record.Error) when every level failed in
// every allowed attempt.
var ErrExhausted = errors.New("all fencing levels failed")

// NextKind tells the driver what to do next.
type NextKind int

// Kinds of Next.
const (
	NextWait     NextKind = iota + 1 // wait until Next.Until, then call Next again
	NextRun                          // run Next.Step, then call Report
	NextFinished                     // the operation is over; see Record
)

// Next is the instruction returned by Operation.Next.
type Next struct {
	Kind    NextKind
	Until   time.Time // NextWait
	Step    Step      // NextRun
	Attempt int       // NextRun: 1-based plan attempt
	Level   int       // NextRun: the level's index
	Try     int       // NextRun: 1-based try of this step in this attempt
}

// StepResult is the outcome of one device action.
type StepResult struct {
	Err error // nil on success; must already be free of secrets
}

// Operation is the pure state machine of one fencing operation. It holds
// no goroutines and reads no clock: the driver passes the current time to
// every call. An Operation is not safe for concurrent use; its driver owns
// it.
//
// Life cycle: NewOperation; then loop { n := op.Next(now); switch n.Kind
// { wait until n.Until | run n.Step and op.Report(now, result) | stop } }.
type Operation struct {
	plan     Plan
	maxAtt   int
	rec      Record
	delayEnd time.Time

	attempt, level, step, try int
	outstanding               bool
	done                      []string // devices of the current level that succeeded
	lastErr                   error
	log                       []Event
}

// Event is one entry of an operation's trace (for logs and tests).
type Event struct {
	At      time.Time
	Attempt int
	Level   int
	Step    Step
	Try     int
	Err     error
}

// NewOperation starts an operation for req following plan at time now. The
// history record starts in the pending state.
func NewOperation(plan Plan, req Request, opts Options, now time.Time) *Operation {
	maxAtt := opts.MaxAttempts
	if maxAtt < 1 {
		maxAtt = 1
	}
	return &Operation{
		plan:     plan,
		maxAtt:   maxAtt,
		delayEnd: now.Add(plan.Delay),
		attempt:  1,
		try:      1,
		rec: Record{ID: req.ID, Target: plan.Target, Action: plan.Action, Origin: req.Origin,
			Client: req.Client, State: StatePending, Created: now},
	}
}

// Plan returns the plan being executed.
func (o *Operation) Plan() Plan { return o.plan }

// Record returns the current history record.
func (o *Operation) Record() Record {
	r := o.rec
	r.Devices = append([]string(nil), r.Devices...)
	return r
}

// Events returns the trace of reported step results.
func (o *Operation) Events() []Event { return append([]Event(nil), o.log...) }

// Finished reports whether the operation reached done or failed.
func (o *Operation) Finished() bool { return o.rec.State != StatePending }

// Next returns what the driver must do at time now. While a step is
// outstanding it returns that step again.
func (o *Operation) Next(now time.Time) Next {
	if o.Finished() {
		return Next{Kind: NextFinished}
	}
	if now.Before(o.delayEnd) {
		return Next{Kind: NextWait, Until: o.delayEnd}
	}
	o.outstanding = true
	lvl := o.plan.Levels[o.level]
	return Next{Kind: NextRun, Step: lvl.Steps[o.step], Attempt: o.attempt, Level: lvl.Index, Try: o.try}
}

// Report records the result of the outstanding step at time now and
// advances the plan: on success to the next step (or to done when the
// level completed); on failure of a required step to another try, the next
// level, the next attempt, or failed when stonith-max-attempts is reached.
func (o *Operation) Report(now time.Time, res StepResult) error {
	if !o.outstanding || o.Finished() {
		return ErrNoStep
	}
	o.outstanding = false
	lvl := o.plan.Levels[o.level]
	st := lvl.Steps[o.step]
	o.log = append(o.log, Event{At: now, Attempt: o.attempt, Level: lvl.Index, Step: st, Try: o.try, Err: res.Err})
	o.rec.Delegate = st.Executor
	o.rec.Attempts = o.attempt
	if res.Err == nil || !st.Required {
		if res.Err == nil && st.Required {
			o.done = append(o.done, st.Device)
		}
		o.step++
		o.try = 1
		if o.step == len(lvl.Steps) {
			o.rec.State, o.rec.Completed, o.rec.Devices = StateDone, now, dedupe(o.done)
		}
		return nil
	}
	o.lastErr = res.Err
	if o.try < st.Tries {
		o.try++
		return nil
	}
	o.step, o.try, o.done = 0, 1, nil
	o.level++
	if o.level < len(o.plan.Levels) {
		return nil
	}
	o.level = 0
	o.attempt++
	if o.attempt <= o.maxAtt {
		return nil
	}
	o.attempt = o.maxAtt
	o.rec.State, o.rec.Completed = StateFailed, now
	o.rec.Error = fmt.Sprintf("%v after %d attempt(s); last error: %v", ErrExhausted, o.maxAtt, o.lastErr)
	return nil
}

// Cancel ends a pending operation as failed (e.g. the requester went away
// or the cluster shut down) with reason as its error.
func (o *Operation) Cancel(now time.Time, reason string) {
	if o.Finished() {
		return
	}
	o.outstanding = false
	o.rec.State, o.rec.Completed, o.rec.Error = StateFailed, now, "cancelled: "+reason
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
