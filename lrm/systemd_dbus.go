package lrm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
)

// SystemdRunDir exists when systemd is the running init system
// (sd_booted(3) checks the same path).
const SystemdRunDir = "/run/systemd/system"

// DBusSystemd is the real SystemdManager over the system bus. Its methods
// are safe for concurrent use; Close releases the connection.
type DBusSystemd struct {
	conn *sdbus.Conn
}

// NewDBusSystemd connects to systemd over D-Bus. It returns ErrNoSystemd
// (without trying D-Bus) when SystemdRunDir does not exist.
func NewDBusSystemd(ctx context.Context) (*DBusSystemd, error) {
	if _, err := os.Stat(SystemdRunDir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNoSystemd
		}
		return nil, fmt.Errorf("check %s: %w", SystemdRunDir, err)
	}
	conn, err := sdbus.NewSystemConnectionContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to systemd over D-Bus: %w: %w", ErrNoSystemd, err)
	}
	return &DBusSystemd{conn: conn}, nil
}

// Close closes the D-Bus connection.
func (d *DBusSystemd) Close() { d.conn.Close() }

type jobFunc func(ctx context.Context, name, mode string, ch chan<- string) (int, error)

func (d *DBusSystemd) job(ctx context.Context, what, unit string, f jobFunc) (string, error) {
	// Buffered: go-systemd's dispatcher must never block on us, even when
	// we gave up waiting because ctx ended.
	ch := make(chan string, 1)
	if _, err := f(ctx, unit, "replace", ch); err != nil {
		return "", fmt.Errorf("systemd %s %s: %w", what, unit, err)
	}
	select {
	case res := <-ch:
		return res, nil
	case <-ctx.Done():
		return "", fmt.Errorf("systemd %s %s: %w", what, unit, ctx.Err())
	}
}

// StartUnit starts unit with job mode "replace" and waits for the job.
func (d *DBusSystemd) StartUnit(ctx context.Context, unit string) (string, error) {
	return d.job(ctx, "start", unit, d.conn.StartUnitContext)
}

// StopUnit stops unit with job mode "replace" and waits for the job.
func (d *DBusSystemd) StopUnit(ctx context.Context, unit string) (string, error) {
	return d.job(ctx, "stop", unit, d.conn.StopUnitContext)
}

// ReloadUnit reloads unit with job mode "replace" and waits for the job.
func (d *DBusSystemd) ReloadUnit(ctx context.Context, unit string) (string, error) {
	return d.job(ctx, "reload", unit, d.conn.ReloadUnitContext)
}

// UnitState reads the unit's load and active state without loading it.
func (d *DBusSystemd) UnitState(ctx context.Context, unit string) (UnitState, error) {
	st, err := d.conn.ListUnitsByNamesContext(ctx, []string{unit})
	if err != nil {
		return UnitState{}, fmt.Errorf("systemd unit state %s: %w", unit, err)
	}
	if len(st) == 0 {
		return UnitState{LoadState: "not-found", ActiveState: "inactive"}, nil
	}
	return UnitState{LoadState: st[0].LoadState, ActiveState: st[0].ActiveState, SubState: st[0].SubState}, nil
}

var _ SystemdManager = (*DBusSystemd)(nil)
var _ SystemdManager = (*FakeSystemd)(nil)
