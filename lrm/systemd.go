package lrm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/internal/sdunit"
)

// UnitState is the part of a systemd unit's state the executor needs.
type UnitState = sdunit.UnitState

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
// API is unreachable). It is sdunit.ErrNoSystemd, so errors.Is matches the
// errors of every systemd client in gocrm.
var ErrNoSystemd = sdunit.ErrNoSystemd

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

// UnitName returns the systemd unit name for an agent type: the type
// itself when it names a unit type, otherwise type + ".service".
func UnitName(typ string) string { return sdunit.UnitName(typ) }

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
		if !agent.Sleep(ctx, e.poll()) {
			return e.failure(ctx, ctx.Err())
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
			if !agent.Sleep(ctx, e.poll()) {
				return e.failure(ctx, ctx.Err())
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

// FakeSystemd is an in-memory SystemdManager for tests (see sdunit.Fake).
// Units must be added with AddUnit; unknown units report LoadState
// "not-found". It is safe for concurrent use.
type FakeSystemd = sdunit.Fake

// NewFakeSystemd returns an empty fake.
func NewFakeSystemd() *FakeSystemd { return sdunit.NewFake() }
