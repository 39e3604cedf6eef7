package lrm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// UnitState is the part of a systemd unit's state the executor needs.
type UnitState struct {
	LoadState   string // "loaded", "not-found", "masked", ...
	ActiveState string // "active", "reloading", "inactive", "failed", "activating", "deactivating"
	SubState    string
}

// SystemdManager is the consumer-side view of systemd's D-Bus API.
// Job methods block until systemd reports the job result ("done",
// "canceled", "timeout", "failed", "dependency", "skipped") or ctx ends.
// Implementations must be safe for concurrent use.
type SystemdManager interface {
	StartUnit(ctx context.Context, unit string) (string, error)
	StopUnit(ctx context.Context, unit string) (string, error)
	ReloadUnit(ctx context.Context, unit string) (string, error)
	UnitState(ctx context.Context, unit string) (UnitState, error)
}

// ErrNoSystemd means systemd is not the running init system (or its D-Bus
// API is unreachable).
var ErrNoSystemd = errors.New("systemd is not running")

// SystemdExecutor runs actions of class systemd (and "service" when systemd
// is present) through a SystemdManager. Unit names without a type suffix
// get ".service". Monitor maps ActiveState as Pacemaker does: active and
// reloading are OK, activating and deactivating are polled until they
// settle or the timeout expires, everything else is NotRunning.
//
// A SystemdExecutor is safe for concurrent use.
type SystemdExecutor struct {
	Manager SystemdManager
	// PollInterval is the re-check period for transitional states (default 200ms).
	PollInterval time.Duration
}

var unitSuffixes = []string{".service", ".socket", ".target", ".mount", ".timer", ".path", ".slice", ".scope", ".device", ".swap", ".automount"}

// UnitName returns the systemd unit name for an agent type.
func UnitName(typ string) string {
	for _, s := range unitSuffixes {
		if strings.HasSuffix(typ, s) {
			return typ
		}
	}
	return typ + ".service"
}

func (e *SystemdExecutor) poll() time.Duration {
	if e.PollInterval <= 0 {
		return 200 * time.Millisecond
	}
	return e.PollInterval
}

// Exec runs the action.
func (e *SystemdExecutor) Exec(ctx context.Context, a Action) Result {
	if e.Manager == nil {
		return Result{RC: agent.NotInstalled, Status: StatusNotConnected, Reason: ErrNoSystemd.Error()}
	}
	unit := UnitName(a.Rsc.Agent.Type)
	if strings.ContainsAny(unit, "/\x00") {
		return Result{RC: agent.NotInstalled, Status: StatusNotInstalled, Reason: fmt.Sprintf("invalid unit name %q", unit)}
	}
	switch a.Op {
	case OpMetaData:
		return Result{RC: agent.OK, Status: StatusDone, Output: classMetaData(unit, "systemd", "systemd unit file for "+unit, "")}
	case OpMonitor:
		return e.monitor(ctx, unit)
	case OpValidate:
		st, err := e.Manager.UnitState(ctx, unit)
		if err != nil {
			return e.failure(ctx, err)
		}
		if st.LoadState == "not-found" {
			return Result{RC: agent.NotInstalled, Status: StatusNotInstalled, Reason: "unit " + unit + " not found"}
		}
		return Result{RC: agent.OK, Status: StatusDone}
	case OpStart, OpStop, OpReload:
	default:
		return Result{RC: agent.Unimplemented, Status: StatusNotSupported,
			Reason: fmt.Sprintf("systemd units do not support %q", a.Op)}
	}
	st, err := e.Manager.UnitState(ctx, unit)
	if err != nil {
		return e.failure(ctx, err)
	}
	if st.LoadState == "not-found" {
		if a.Op == OpStop {
			// Stopping a unit that does not exist has nothing to do.
			return Result{RC: agent.OK, Status: StatusDone}
		}
		return Result{RC: agent.NotInstalled, Status: StatusNotInstalled, Reason: "unit " + unit + " not found"}
	}
	var job string
	switch a.Op {
	case OpStart:
		job, err = e.Manager.StartUnit(ctx, unit)
	case OpStop:
		job, err = e.Manager.StopUnit(ctx, unit)
	case OpReload:
		job, err = e.Manager.ReloadUnit(ctx, unit)
	}
	if err != nil {
		return e.failure(ctx, err)
	}
	if job != "done" {
		return Result{RC: agent.ErrGeneric, Status: StatusDone,
			Reason: fmt.Sprintf("systemd %s job for %s finished with result %q", a.Op, unit, job)}
	}
	if a.Op == OpStart {
		// Like Pacemaker, a start only succeeds once the unit is active.
		r := e.monitor(ctx, unit)
		if r.RC == agent.NotRunning {
			r.RC, r.Reason = agent.ErrGeneric, "unit "+unit+" is not active after start"
		}
		return r
	}
	if a.Op == OpStop {
		// Like Pacemaker, a stop only succeeds once the unit is down.
		return e.waitInactive(ctx, unit)
	}
	return Result{RC: agent.OK, Status: StatusDone}
}

// waitInactive polls until the unit is neither active nor in transition.
func (e *SystemdExecutor) waitInactive(ctx context.Context, unit string) Result {
	for {
		st, err := e.Manager.UnitState(ctx, unit)
		if err != nil {
			return e.failure(ctx, err)
		}
		switch st.ActiveState {
		case "active", "reloading", "activating", "deactivating":
		default:
			return Result{RC: agent.OK, Status: StatusDone}
		}
		t := time.NewTimer(e.poll())
		select {
		case <-ctx.Done():
			t.Stop()
			return e.failure(ctx, ctx.Err())
		case <-t.C:
		}
	}
}

func (e *SystemdExecutor) monitor(ctx context.Context, unit string) Result {
	for {
		st, err := e.Manager.UnitState(ctx, unit)
		if err != nil {
			return e.failure(ctx, err)
		}
		switch st.ActiveState {
		case "active", "reloading":
			return Result{RC: agent.OK, Status: StatusDone}
		case "activating", "deactivating":
			t := time.NewTimer(e.poll())
			select {
			case <-ctx.Done():
				t.Stop()
				return e.failure(ctx, ctx.Err())
			case <-t.C:
			}
		default:
			return Result{RC: agent.NotRunning, Status: StatusDone}
		}
	}
}

func (e *SystemdExecutor) failure(ctx context.Context, err error) Result {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return Result{RC: agent.ErrGeneric, Status: StatusTimeout, Reason: "systemd action timed out"}
	case ctx.Err() != nil:
		return Result{RC: agent.Cancelled, Status: StatusCancelled, Reason: "action cancelled"}
	case errors.Is(err, ErrNoSystemd):
		return Result{RC: agent.NotInstalled, Status: StatusNotConnected, Reason: err.Error()}
	default:
		return Result{RC: agent.ErrGeneric, Status: StatusError, Reason: err.Error()}
	}
}

// FakeSystemd is an in-memory SystemdManager for tests. Units must be
// added with AddUnit; unknown units report LoadState "not-found". It is safe
// for concurrent use.
type FakeSystemd struct {
	mu        sync.Mutex
	units     map[string]*fakeUnit
	calls     []string
	jobResult map[string]string // unit -> forced start job result
	stopState map[string]string // unit -> ActiveState a stop job leaves
	err       error
}

type fakeUnit struct {
	active  string
	reloads int
}

// NewFakeSystemd returns an empty fake.
func NewFakeSystemd() *FakeSystemd {
	return &FakeSystemd{units: make(map[string]*fakeUnit), jobResult: make(map[string]string), stopState: make(map[string]string)}
}

// AddUnit makes unit known (inactive).
func (f *FakeSystemd) AddUnit(unit string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.units[unit] = &fakeUnit{active: "inactive"}
}

// SetActiveState forces a unit's ActiveState (e.g. "failed").
func (f *FakeSystemd) SetActiveState(unit, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.units[unit]; ok {
		u.active = state
	}
}

// FailStart makes start jobs of unit finish with result (e.g. "failed").
func (f *FakeSystemd) FailStart(unit, result string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobResult[unit] = result
}

// StopLeaves makes stop jobs of unit leave it in ActiveState state (e.g.
// "deactivating", to model a slow stop) instead of "inactive".
func (f *FakeSystemd) StopLeaves(unit, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopState[unit] = state
}

// SetError makes every call fail with err (nil clears it).
func (f *FakeSystemd) SetError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// Calls returns the job calls made so far, as "start x.service" etc.
func (f *FakeSystemd) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *FakeSystemd) job(ctx context.Context, op, unit string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+unit)
	if f.err != nil {
		return "", f.err
	}
	u, ok := f.units[unit]
	if !ok {
		return "", fmt.Errorf("unit %s not found", unit)
	}
	switch op {
	case "start":
		if r := f.jobResult[unit]; r != "" {
			u.active = "failed"
			return r, nil
		}
		u.active = "active"
	case "stop":
		u.active = "inactive"
		if st := f.stopState[unit]; st != "" {
			u.active = st
		}
	case "reload":
		if u.active != "active" {
			return "failed", nil
		}
		u.reloads++
	}
	return "done", nil
}

// StartUnit activates the unit (or fails it, see FailStart).
func (f *FakeSystemd) StartUnit(ctx context.Context, unit string) (string, error) {
	return f.job(ctx, "start", unit)
}

// StopUnit deactivates the unit.
func (f *FakeSystemd) StopUnit(ctx context.Context, unit string) (string, error) {
	return f.job(ctx, "stop", unit)
}

// ReloadUnit reloads an active unit.
func (f *FakeSystemd) ReloadUnit(ctx context.Context, unit string) (string, error) {
	return f.job(ctx, "reload", unit)
}

// UnitState reports the unit's state.
func (f *FakeSystemd) UnitState(ctx context.Context, unit string) (UnitState, error) {
	if err := ctx.Err(); err != nil {
		return UnitState{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return UnitState{}, f.err
	}
	u, ok := f.units[unit]
	if !ok {
		return UnitState{LoadState: "not-found", ActiveState: "inactive", SubState: "dead"}, nil
	}
	return UnitState{LoadState: "loaded", ActiveState: u.active}, nil
}
