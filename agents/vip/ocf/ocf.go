// Package ocf holds the small vocabulary shared by gocrm's built-in network
// agents (agents/vip, agents/ipvs, agents/lvsrs): OCF exit codes, the
// sentinel errors that map onto them, parameter errors that name the
// offending parameter and the parsers that produce them (Bool, Int,
// UnicastIP, Configured), an injectable clock, owned background goroutines
// (Job), the agents' logger convention, and the OCF meta-data XML renderer.
//
// It imports no kernel or network package, so it is safe for the LRM and
// for pure code to import. Everything here is immutable or safe for
// concurrent use.
package ocf

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// OCF exit codes (the subset the agents return).
const (
	RCSuccess          = 0 // action succeeded; for monitor: running
	RCErrGeneric       = 1 // generic failure (e.g. a duplicated address)
	RCErrArgs          = 2 // invalid parameters
	RCErrUnimplemented = 3 // action not supported
	RCErrPerm          = 4 // insufficient privileges
	RCErrInstalled     = 5 // a required kernel facility or tool is missing
	RCErrConfigured    = 6 // the configuration does not fit this host
	RCNotRunning       = 7 // monitor: cleanly stopped
)

// Sentinel errors; agents wrap them with context and the LRM maps them to
// exit codes with ExitCode.
var (
	ErrInvalidParam  = errors.New("invalid parameter")
	ErrNotInstalled  = errors.New("not installed")
	ErrNotConfigured = errors.New("not configured")
	ErrNotRunning    = errors.New("not running")
	ErrPermission    = errors.New("permission denied")
	ErrUnimplemented = errors.New("action not implemented")
	ErrDuplicate     = errors.New("address is in use by another host")
)

// ExitCode maps an action's error onto an OCF exit code: nil is success,
// wrapped sentinels map to their codes, anything else is a generic error.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return RCSuccess
	case errors.Is(err, ErrInvalidParam):
		return RCErrArgs
	case errors.Is(err, ErrNotInstalled):
		return RCErrInstalled
	case errors.Is(err, ErrNotConfigured):
		return RCErrConfigured
	case errors.Is(err, ErrNotRunning):
		return RCNotRunning
	case errors.Is(err, ErrPermission):
		return RCErrPerm
	case errors.Is(err, ErrUnimplemented):
		return RCErrUnimplemented
	default:
		return RCErrGeneric
	}
}

// ParamError reports a bad parameter value. It unwraps to Kind (by default
// ErrInvalidParam) so ExitCode yields rc 2, or rc 6 for host mismatches.
type ParamError struct {
	Param  string // parameter name as written in the CIB
	Value  string // offending value (may be empty when missing)
	Reason string // human-readable reason
	Kind   error  // ErrInvalidParam (default) or ErrNotConfigured
}

// Error renders `parameter "ip": "10.0.0.300": not a valid IP address`.
func (e *ParamError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("parameter %q: %s", e.Param, e.Reason)
	}
	return fmt.Sprintf("parameter %q: %q: %s", e.Param, e.Value, e.Reason)
}

// Unwrap returns the sentinel classifying the error.
func (e *ParamError) Unwrap() error {
	if e.Kind == nil {
		return ErrInvalidParam
	}
	return e.Kind
}

// Invalid builds a ParamError for an invalid value (rc 2).
func Invalid(param, value, format string, args ...any) error {
	return &ParamError{Param: param, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// Unconfigured builds a ParamError for a value that does not fit the host
// (rc 6), e.g. a network device that does not exist.
func Unconfigured(param, value, format string, args ...any) error {
	return &ParamError{Param: param, Value: value, Reason: fmt.Sprintf(format, args...), Kind: ErrNotConfigured}
}

// CheckKnown returns an error naming the first parameter not in known.
// Keys with the CRM_meta_ prefix (Pacemaker meta attributes) are ignored.
func CheckKnown(params map[string]string, known []ParamSpec) error {
	names := make(map[string]bool, len(known))
	for _, p := range known {
		names[p.Name] = true
		for _, a := range p.Aliases {
			names[a] = true
		}
	}
	for k := range params {
		if strings.HasPrefix(k, "CRM_meta_") || names[k] {
			continue
		}
		return Invalid(k, "", "unknown parameter")
	}
	return nil
}

// AgentLogger returns l tagged with the agent's name ("agent" attribute),
// or a logger that discards everything when l is nil.
func AgentLogger(l *slog.Logger, agent string) *slog.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return l.With("agent", agent)
}

// Clock is the time source of agents and checker loops; tests inject a
// fake. Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
