// Package agent defines the interface of gocrm's built-in Go resource agents
// and a registry of them keyed by class:provider:type (e.g. ocf:gocrm:Dummy).
//
// It plays the role of the OCF resource-agent API in Pacemaker's design:
// the local resource manager (package lrm, Pacemaker's pacemaker-execd)
// calls an Agent in-process instead of executing a script. Results use the
// OCF exit codes (RC) so that built-in and script agents are interchangeable
// for the scheduler.
package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// RC is an OCF resource-agent exit code (OCF Resource Agent API 1.1 plus
// the extra codes Pacemaker synthesises internally).
type RC int

// OCF exit codes defined by the OCF resource agent API.
const (
	OK               RC = 0 // OCF_SUCCESS
	ErrGeneric       RC = 1 // OCF_ERR_GENERIC: soft error, may be recovered locally
	ErrArgs          RC = 2 // OCF_ERR_ARGS: bad parameters on this node
	Unimplemented    RC = 3 // OCF_ERR_UNIMPLEMENTED: action not supported
	ErrPerm          RC = 4 // OCF_ERR_PERM: insufficient privilege
	NotInstalled     RC = 5 // OCF_ERR_INSTALLED: software missing on this node
	NotConfigured    RC = 6 // OCF_ERR_CONFIGURED: configuration invalid everywhere
	NotRunning       RC = 7 // OCF_NOT_RUNNING: cleanly stopped
	RunningPromoted  RC = 8 // OCF_RUNNING_PROMOTED (formerly RUNNING_MASTER)
	FailedPromoted   RC = 9 // OCF_FAILED_PROMOTED (formerly FAILED_MASTER)
	Degraded         RC = 190
	DegradedPromoted RC = 191
)

// Codes Pacemaker synthesises itself; agents must not return them. They
// appear in results only when the executor could not obtain a real exit
// code (see lrm.ExecStatus for the accompanying operation status).
const (
	Pending     RC = 196 // operation still in progress (recorded for pending ops)
	Cancelled   RC = 197 // operation cancelled before it completed
	Timeout     RC = 198 // legacy code for a timed-out operation
	OtherError  RC = 199 // any other executor-side failure
	SignalError RC = 194 // agent killed by a signal
)

var rcNames = map[RC]string{
	OK: "ok", ErrGeneric: "error", ErrArgs: "invalid parameter",
	Unimplemented: "unimplemented feature", ErrPerm: "insufficient privileges",
	NotInstalled: "not installed", NotConfigured: "not configured",
	NotRunning: "not running", RunningPromoted: "promoted",
	FailedPromoted: "promoted (failed)", Degraded: "OCF_DEGRADED",
	DegradedPromoted: "promoted (degraded)", Pending: "pending",
	Cancelled: "cancelled", Timeout: "timeout", OtherError: "other error",
	SignalError: "killed by signal",
}

// String returns the human-readable name Pacemaker uses for the code.
func (rc RC) String() string {
	if s, ok := rcNames[rc]; ok {
		return s
	}
	return "rc " + strconv.Itoa(int(rc))
}

// Call carries everything an agent action needs. It is the in-process
// equivalent of the OCF environment.
type Call struct {
	// Resource is the resource instance name (OCF_RESOURCE_INSTANCE),
	// including any clone suffix ("web:1").
	Resource string
	// Params are the instance attributes (OCF_RESKEY_<name>).
	Params map[string]string
	// Meta are the meta attributes Pacemaker passes as
	// OCF_RESKEY_CRM_meta_<name>, keyed without the prefix and with '-'
	// replaced by '_' (timeout, interval, clone_max, notify_type, ...).
	Meta map[string]string
	// Interval is the recurring interval; 0 for one-shot actions and probes.
	Interval time.Duration
	// Timeout is the action timeout; ctx carries the same deadline.
	Timeout time.Duration
}

// Param returns the parameter name or def when unset or empty.
func (c Call) Param(name, def string) string {
	if v, ok := c.Params[name]; ok && v != "" {
		return v
	}
	return def
}

// IsProbe reports whether a monitor call is a probe (interval 0).
func (c Call) IsProbe() bool { return c.Interval == 0 }

// Result is the outcome of an agent action.
type Result struct {
	RC RC
	// Reason is a short exit reason (OCF "ocf-exit-reason:"), empty on success.
	Reason string
	// Output is free-form output; for MetaData it is the XML document.
	Output string
}

// Agent is a built-in resource agent. Methods may be called concurrently
// for different resources; the LRM never calls two methods for the same
// resource concurrently. Every method must return promptly once ctx is done
// (the LRM cannot kill a goroutine): the LRM reports a timeout if ctx's
// deadline passed before the method returned.
type Agent interface {
	Start(ctx context.Context, c Call) Result
	Stop(ctx context.Context, c Call) Result
	// Monitor returns OK when running, NotRunning when cleanly stopped,
	// RunningPromoted/FailedPromoted for promotable resources, an error
	// code otherwise. c.IsProbe() distinguishes probes.
	Monitor(ctx context.Context, c Call) Result
	Promote(ctx context.Context, c Call) Result
	Demote(ctx context.Context, c Call) Result
	Reload(ctx context.Context, c Call) Result
	// Notify receives clone notifications; the notify_* variables are in c.Meta.
	Notify(ctx context.Context, c Call) Result
	// MetaData returns the OCF meta-data XML in Result.Output.
	MetaData(ctx context.Context) Result
	// Validate checks c.Params (validate-all).
	Validate(ctx context.Context, c Call) Result
}

// Unsupported can be embedded in an Agent to answer Unimplemented to the
// optional actions (promote, demote, reload, notify).
type Unsupported struct{}

// Promote reports Unimplemented.
func (Unsupported) Promote(context.Context, Call) Result { return Result{RC: Unimplemented} }

// Demote reports Unimplemented.
func (Unsupported) Demote(context.Context, Call) Result { return Result{RC: Unimplemented} }

// Reload reports Unimplemented.
func (Unsupported) Reload(context.Context, Call) Result { return Result{RC: Unimplemented} }

// Notify reports Unimplemented.
func (Unsupported) Notify(context.Context, Call) Result { return Result{RC: Unimplemented} }

// Sentinel errors an agent implementation can wrap; FromError maps them to
// OCF exit codes.
var (
	ErrNotInstalled  = errors.New("not installed")
	ErrNotConfigured = errors.New("not configured")
	ErrNotRunning    = errors.New("not running")
	ErrInvalidParam  = errors.New("invalid parameter")
	ErrPermission    = errors.New("insufficient privileges")
	ErrUnimplemented = errors.New("unimplemented")
)

// FromError converts an error returned by agent internals into a Result:
// nil is OK, wrapped sentinels map to their OCF code, anything else is
// ErrGeneric. The error text becomes the exit reason.
func FromError(err error) Result {
	if err == nil {
		return Result{RC: OK}
	}
	rc := ErrGeneric
	switch {
	case errors.Is(err, ErrNotInstalled):
		rc = NotInstalled
	case errors.Is(err, ErrNotConfigured):
		rc = NotConfigured
	case errors.Is(err, ErrNotRunning):
		rc = NotRunning
	case errors.Is(err, ErrInvalidParam):
		rc = ErrArgs
	case errors.Is(err, ErrPermission):
		rc = ErrPerm
	case errors.Is(err, ErrUnimplemented):
		rc = Unimplemented
	}
	return Result{RC: rc, Reason: err.Error()}
}

// Failf returns a Result with the given code and a formatted exit reason.
func Failf(rc RC, format string, args ...any) Result {
	return Result{RC: rc, Reason: fmt.Sprintf(format, args...)}
}
