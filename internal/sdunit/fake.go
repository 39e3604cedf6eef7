package sdunit

import (
	"context"
	"fmt"
	"sync"
)

// Fake is an in-memory stand-in for Client in tests. Units must be added
// with AddUnit; unknown units report LoadState "not-found" and job calls on
// them fail. It is safe for concurrent use.
type Fake struct {
	mu        sync.Mutex
	units     map[string]string // unit -> ActiveState
	startRes  map[string]string // unit -> forced start job result
	stopLeave map[string]string // unit -> ActiveState a stop job leaves
	calls     []string
	err       error
}

// NewFake returns a fake without units.
func NewFake() *Fake {
	return &Fake{units: map[string]string{}, startRes: map[string]string{}, stopLeave: map[string]string{}}
}

// AddUnit makes unit known and inactive.
func (f *Fake) AddUnit(unit string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.units[unit] = "inactive"
}

// SetActiveState forces a known unit's ActiveState (e.g. "failed" for a crash).
func (f *Fake) SetActiveState(unit, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.units[unit]; ok {
		f.units[unit] = state
	}
}

// FailStart makes start jobs of unit finish with result (e.g. "failed") and
// leave the unit failed; "" restores normal starts.
func (f *Fake) FailStart(unit, result string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.startRes[unit] = result
}

// StopLeaves makes stop jobs of unit leave it in ActiveState state (e.g.
// "deactivating", to model a slow stop) instead of "inactive"; "" restores
// normal stops.
func (f *Fake) StopLeaves(unit, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopLeave[unit] = state
}

// SetError makes every call fail with err (nil clears it).
func (f *Fake) SetError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// Calls returns the job calls made so far, as "start x.service",
// "stop x.service", "reload x.service".
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *Fake) job(ctx context.Context, op, unit string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+unit)
	if f.err != nil {
		return "", f.err
	}
	active, ok := f.units[unit]
	if !ok {
		return "", fmt.Errorf("unit %s not found", unit)
	}
	switch op {
	case "start":
		if r := f.startRes[unit]; r != "" {
			f.units[unit] = "failed"
			return r, nil
		}
		f.units[unit] = "active"
	case "stop":
		f.units[unit] = "inactive"
		if st := f.stopLeave[unit]; st != "" {
			f.units[unit] = st
		}
	case "reload":
		if active != "active" {
			return "failed", nil
		}
	}
	return "done", nil
}

// StartUnit activates unit (or fails it, see FailStart).
func (f *Fake) StartUnit(ctx context.Context, unit string) (string, error) {
	return f.job(ctx, "start", unit)
}

// StopUnit deactivates unit (see StopLeaves).
func (f *Fake) StopUnit(ctx context.Context, unit string) (string, error) {
	return f.job(ctx, "stop", unit)
}

// ReloadUnit reloads an active unit; reloading any other unit fails with
// job result "failed".
func (f *Fake) ReloadUnit(ctx context.Context, unit string) (string, error) {
	return f.job(ctx, "reload", unit)
}

// UnitState reports the unit's state.
func (f *Fake) UnitState(ctx context.Context, unit string) (UnitState, error) {
	if err := ctx.Err(); err != nil {
		return UnitState{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return UnitState{}, f.err
	}
	st, ok := f.units[unit]
	if !ok {
		return UnitState{LoadState: "not-found", ActiveState: "inactive", SubState: "dead"}, nil
	}
	return UnitState{LoadState: "loaded", ActiveState: st}, nil
}

// manager is the method set both Client and Fake provide.
type manager interface {
	StartUnit(ctx context.Context, unit string) (string, error)
	StopUnit(ctx context.Context, unit string) (string, error)
	ReloadUnit(ctx context.Context, unit string) (string, error)
	UnitState(ctx context.Context, unit string) (UnitState, error)
}

var (
	_ manager = (*Client)(nil)
	_ manager = (*Fake)(nil)
)
