package httpd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
)

// UnitState is the part of a systemd unit's state the agent needs.
type UnitState struct {
	LoadState   string // "loaded", "not-found", "masked", ...
	ActiveState string // "active", "reloading", "inactive", "failed", "activating", "deactivating"
}

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
// API cannot be reached.
var ErrNoSystemd = errors.New("systemd is not running")

var unitSuffixes = []string{".service", ".socket", ".target", ".mount", ".timer", ".path", ".slice", ".scope"}

// unitName appends ".service" to names without a unit type suffix.
func unitName(s string) string {
	for _, suf := range unitSuffixes {
		if strings.HasSuffix(s, suf) {
			return s
		}
	}
	return s + ".service"
}

// DBusSystemd talks to systemd over the system bus. It connects on first
// use (so registering the agent on a host without systemd costs nothing)
// and reconnects after a connection failure. Safe for concurrent use;
// Close releases the connection.
type DBusSystemd struct {
	mu   sync.Mutex
	conn *sdbus.Conn
}

func (d *DBusSystemd) connect(ctx context.Context) (*sdbus.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil && d.conn.Connected() {
		return d.conn, nil
	}
	if d.conn != nil {
		d.conn.Close()
		d.conn = nil
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNoSystemd
		}
		return nil, fmt.Errorf("check /run/systemd/system: %w", err)
	}
	conn, err := sdbus.NewSystemConnectionContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to systemd over D-Bus: %w: %w", ErrNoSystemd, err)
	}
	d.conn = conn
	return conn, nil
}

// Close closes the connection, if any.
func (d *DBusSystemd) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		d.conn.Close()
		d.conn = nil
	}
}

func (d *DBusSystemd) job(ctx context.Context, what, unit string, stop bool) (string, error) {
	conn, err := d.connect(ctx)
	if err != nil {
		return "", err
	}
	f := conn.StartUnitContext
	if stop {
		f = conn.StopUnitContext
	}
	// Buffered: go-systemd's dispatcher must never block on us, even
	// after we stopped waiting because ctx ended.
	ch := make(chan string, 1)
	if _, err := f(ctx, unit, "replace", ch); err != nil {
		return "", fmt.Errorf("systemd %s %s: %w", what, unit, err)
	}
	select {
	case res := <-ch:
		return res, nil
	case <-ctx.Done():
		return "", fmt.Errorf("systemd %s %s: waiting for the job: %w", what, unit, ctx.Err())
	}
}

// StartUnit starts unit (job mode "replace") and waits for the job result.
func (d *DBusSystemd) StartUnit(ctx context.Context, unit string) (string, error) {
	return d.job(ctx, "start", unit, false)
}

// StopUnit stops unit (job mode "replace") and waits for the job result.
func (d *DBusSystemd) StopUnit(ctx context.Context, unit string) (string, error) {
	return d.job(ctx, "stop", unit, true)
}

// UnitState reads the unit's load and active state.
func (d *DBusSystemd) UnitState(ctx context.Context, unit string) (UnitState, error) {
	conn, err := d.connect(ctx)
	if err != nil {
		return UnitState{}, err
	}
	st, err := conn.ListUnitsByNamesContext(ctx, []string{unit})
	if err != nil {
		return UnitState{}, fmt.Errorf("systemd unit state %s: %w", unit, err)
	}
	if len(st) == 0 {
		return UnitState{LoadState: "not-found", ActiveState: "inactive"}, nil
	}
	return UnitState{LoadState: st[0].LoadState, ActiveState: st[0].ActiveState}, nil
}

// FakeSystemd is an in-memory Systemd for tests: units must be added with
// AddUnit (unknown units are "not-found"). Safe for concurrent use.
type FakeSystemd struct {
	mu        sync.Mutex
	units     map[string]string // unit -> ActiveState
	startRes  map[string]string // forced start job results
	stopLeave map[string]string // ActiveState a stop job leaves
	calls     []string
	err       error
}

// NewFakeSystemd returns a fake without units.
func NewFakeSystemd() *FakeSystemd {
	return &FakeSystemd{units: map[string]string{}, startRes: map[string]string{}, stopLeave: map[string]string{}}
}

// AddUnit makes unit known and inactive.
func (f *FakeSystemd) AddUnit(unit string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.units[unit] = "inactive"
}

// SetActiveState forces a known unit's ActiveState (e.g. "failed" for a crash).
func (f *FakeSystemd) SetActiveState(unit, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.units[unit]; ok {
		f.units[unit] = state
	}
}

// FailStart makes start jobs of unit end with result (and the unit failed).
func (f *FakeSystemd) FailStart(unit, result string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.startRes[unit] = result
}

// StopLeaves makes stop jobs leave unit in state (e.g. "deactivating").
func (f *FakeSystemd) StopLeaves(unit, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopLeave[unit] = state
}

// SetError makes every call fail with err (nil clears it).
func (f *FakeSystemd) SetError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// Calls lists the job calls so far ("start x.service", "stop x.service").
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
	if _, ok := f.units[unit]; !ok {
		return "", fmt.Errorf("unit %s not found", unit)
	}
	if op == "start" {
		if r := f.startRes[unit]; r != "" {
			f.units[unit] = "failed"
			return r, nil
		}
		f.units[unit] = "active"
		return "done", nil
	}
	f.units[unit] = "inactive"
	if st := f.stopLeave[unit]; st != "" {
		f.units[unit] = st
	}
	return "done", nil
}

// StartUnit activates unit (or fails it, see FailStart).
func (f *FakeSystemd) StartUnit(ctx context.Context, unit string) (string, error) {
	return f.job(ctx, "start", unit)
}

// StopUnit deactivates unit.
func (f *FakeSystemd) StopUnit(ctx context.Context, unit string) (string, error) {
	return f.job(ctx, "stop", unit)
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
	st, ok := f.units[unit]
	if !ok {
		return UnitState{LoadState: "not-found", ActiveState: "inactive"}, nil
	}
	return UnitState{LoadState: "loaded", ActiveState: st}, nil
}

var (
	_ Systemd = (*DBusSystemd)(nil)
	_ Systemd = (*FakeSystemd)(nil)
)
