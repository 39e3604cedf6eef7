package httpd

import (
	"context"

	"github.com/gocrm/gocrm/internal/sdunit"
)

// UnitState is the part of a systemd unit's state the agent needs
// (LoadState and ActiveState; SubState is not looked at).
type UnitState = sdunit.UnitState

// Systemd is the agent's view of systemd's D-Bus API. StartUnit and
// StopUnit block until systemd reports the job result ("done", "canceled",
// "timeout", "failed", "dependency", "skipped") or ctx ends.
// Implementations must be safe for concurrent use.
type Systemd interface {
	StartUnit(ctx context.Context, unit string) (string, error)
	StopUnit(ctx context.Context, unit string) (string, error)
	UnitState(ctx context.Context, unit string) (UnitState, error)
}

// ErrNoSystemd means systemd is not the running init system or its D-Bus
// API cannot be reached. It is sdunit.ErrNoSystemd (and lrm.ErrNoSystemd).
var ErrNoSystemd = sdunit.ErrNoSystemd

// DBusSystemd talks to systemd over the system bus (see sdunit.Client). Its
// zero value connects on first use, so registering the agent on a host
// without systemd costs nothing, and reconnects after a connection
// failure. Safe for concurrent use; Close releases the connection.
type DBusSystemd = sdunit.Client

// FakeSystemd is an in-memory Systemd for tests (see sdunit.Fake): units
// must be added with AddUnit (unknown units are "not-found"). Safe for
// concurrent use.
type FakeSystemd = sdunit.Fake

// NewFakeSystemd returns a fake without units.
func NewFakeSystemd() *FakeSystemd { return sdunit.NewFake() }

var (
	_ Systemd = (*DBusSystemd)(nil)
	_ Systemd = (*FakeSystemd)(nil)
)
