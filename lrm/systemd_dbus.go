package lrm

import (
	"context"

	"github.com/gocrm/gocrm/internal/sdunit"
)

// SystemdRunDir exists when systemd is the running init system
// (sd_booted(3) checks the same path).
const SystemdRunDir = sdunit.RunDir

// DBusSystemd is the real SystemdManager over the system bus (see
// sdunit.Client: it reconnects after a lost connection). Its methods are
// safe for concurrent use; Close releases the connection.
type DBusSystemd = sdunit.Client

// NewDBusSystemd connects to systemd over D-Bus. It returns ErrNoSystemd
// (without trying D-Bus) when SystemdRunDir does not exist.
func NewDBusSystemd(ctx context.Context) (*DBusSystemd, error) { return sdunit.Dial(ctx) }

var _ SystemdManager = (*DBusSystemd)(nil)
var _ SystemdManager = (*FakeSystemd)(nil)
