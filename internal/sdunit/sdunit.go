// Package sdunit is gocrm's one client of systemd's D-Bus API for starting,
// stopping, reloading and inspecting units, with an in-memory fake for
// tests. Two consumers use it, each through an interface it declares
// itself: the LRM's systemd executor (lrm.SystemdManager, for resources of
// class systemd/service) and the built-in httpd agent (httpd.Systemd, for
// its unit mode).
//
// The package holds no global state. Client and Fake are safe for
// concurrent use; job methods block until systemd reports the job result or
// the caller's context ends, and start no goroutine that outlives the call.
package sdunit

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

// RunDir exists when systemd is the running init system (sd_booted(3)
// checks the same path).
const RunDir = "/run/systemd/system"

// ErrNoSystemd means systemd is not the running init system or its D-Bus
// API cannot be reached.
var ErrNoSystemd = errors.New("systemd is not running")

// UnitState is the part of a systemd unit's state gocrm looks at.
type UnitState struct {
	LoadState   string // "loaded", "not-found", "masked", ...
	ActiveState string // "active", "reloading", "inactive", "failed", "activating", "deactivating"
	SubState    string // unit-type specific ("running", "dead", ...); informational
}

var unitSuffixes = []string{".service", ".socket", ".target", ".mount", ".timer", ".path", ".slice", ".scope", ".device", ".swap", ".automount"}

// UnitName returns the unit name for name: name itself when it ends in a
// unit type suffix, otherwise name + ".service".
func UnitName(name string) string {
	for _, s := range unitSuffixes {
		if strings.HasSuffix(name, s) {
			return name
		}
	}
	return name + ".service"
}

// Client talks to systemd over the system bus. The zero value is ready to
// use: it connects on first use (so a host without systemd pays nothing
// until a unit is actually managed) and reconnects after the connection
// was lost. Dial connects eagerly instead. A Client is safe for concurrent
// use; Close releases the connection (a later call connects again).
type Client struct {
	mu   sync.Mutex
	conn *sdbus.Conn
}

// Dial returns a connected Client. It fails with ErrNoSystemd, without
// trying D-Bus, when RunDir does not exist.
func Dial(ctx context.Context) (*Client, error) {
	c := &Client{}
	if _, err := c.connect(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) connect(ctx context.Context) (*sdbus.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil && c.conn.Connected() {
		return c.conn, nil
	}
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
	if _, err := os.Stat(RunDir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNoSystemd
		}
		return nil, fmt.Errorf("check %s: %w", RunDir, err)
	}
	conn, err := sdbus.NewSystemConnectionContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to systemd over D-Bus: %w: %w", ErrNoSystemd, err)
	}
	c.conn = conn
	return conn, nil
}

// Close closes the connection, if any.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

type jobFunc func(ctx context.Context, name, mode string, ch chan<- string) (int, error)

// job queues a job (mode "replace") with the method pick selects and waits
// for its result.
func (c *Client) job(ctx context.Context, what, unit string, pick func(*sdbus.Conn) jobFunc) (string, error) {
	conn, err := c.connect(ctx)
	if err != nil {
		return "", err
	}
	// Buffered: go-systemd's dispatcher must never block on us, even
	// after we stopped waiting because ctx ended.
	ch := make(chan string, 1)
	if _, err := pick(conn)(ctx, unit, "replace", ch); err != nil {
		return "", fmt.Errorf("systemd %s %s: %w", what, unit, err)
	}
	select {
	case res := <-ch:
		return res, nil
	case <-ctx.Done():
		return "", fmt.Errorf("systemd %s %s: waiting for the job: %w", what, unit, ctx.Err())
	}
}

// StartUnit starts unit (job mode "replace") and waits for the job result:
// "done" on success, otherwise "canceled", "timeout", "failed",
// "dependency" or "skipped".
func (c *Client) StartUnit(ctx context.Context, unit string) (string, error) {
	return c.job(ctx, "start", unit, func(conn *sdbus.Conn) jobFunc { return conn.StartUnitContext })
}

// StopUnit stops unit (job mode "replace") and waits for the job result.
func (c *Client) StopUnit(ctx context.Context, unit string) (string, error) {
	return c.job(ctx, "stop", unit, func(conn *sdbus.Conn) jobFunc { return conn.StopUnitContext })
}

// ReloadUnit reloads unit (job mode "replace") and waits for the job result.
func (c *Client) ReloadUnit(ctx context.Context, unit string) (string, error) {
	return c.job(ctx, "reload", unit, func(conn *sdbus.Conn) jobFunc { return conn.ReloadUnitContext })
}

// UnitState reads the unit's load, active and sub state without loading
// the unit; a unit systemd does not know is "not-found" and "inactive".
func (c *Client) UnitState(ctx context.Context, unit string) (UnitState, error) {
	conn, err := c.connect(ctx)
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
	return UnitState{LoadState: st[0].LoadState, ActiveState: st[0].ActiveState, SubState: st[0].SubState}, nil
}
