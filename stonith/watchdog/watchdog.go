// Package watchdog is the self-fencing device plugin: a node fences itself
// by letting its hardware (or softdog) watchdog expire, like SBD's
// watchdog-only mode. While armed, Run feeds the watchdog; Fence of the
// local node stops feeding and closes the device without the magic close,
// so the kernel resets the machine when the timeout runs out. Stopping Run
// through its context disarms cleanly (magic close).
//
// The device sits behind the Opener/Dev interfaces: LinuxOpener drives
// /dev/watchdog with the Linux watchdog ioctls, FakeOpener is an in-memory
// watchdog for tests that reports whether it "would have reset".
package watchdog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fsm"
)

// Type is the registry key of the plugin.
const Type = "watchdog"

// Defaults of the plugin parameters.
const (
	DefaultPath    = "/dev/watchdog"
	DefaultTimeout = 10 * time.Second
	// FenceTimeout is the watchdog timeout set just before a self-fence
	// close, so the reset comes quickly.
	FenceTimeout = time.Second
)

// Dev is an opened watchdog device. Implementations need not be safe for
// concurrent use: the plugin serialises calls.
type Dev interface {
	// Keepalive feeds the watchdog.
	Keepalive() error
	// SetTimeout sets the timeout and returns the one the device applied.
	SetTimeout(d time.Duration) (time.Duration, error)
	// MagicClose disarms the watchdog ("V" then close).
	MagicClose() error
	// Close closes without the magic character: the watchdog stays armed
	// and resets the machine when it expires.
	Close() error
}

// Opener opens a watchdog device by path.
type Opener interface {
	Open(path string) (Dev, error)
}

// Deps are the plugin's dependencies.
type Deps struct {
	Node   string // local node name: the only target this device fences
	Opener Opener
	Clock  stonith.Clock // times keepalives (RealClock if nil)
}

// ErrNotArmed is returned by Monitor while Run is not feeding the watchdog.
var ErrNotArmed = errors.New("watchdog not armed")

// Register adds the "watchdog" plugin to reg.
func Register(reg *stonith.Registry, deps Deps) error {
	if deps.Node == "" || deps.Opener == nil {
		return errors.New("register watchdog fence plugin: Node and Opener are required")
	}
	if deps.Clock == nil {
		deps.Clock = stonith.RealClock{}
	}
	return reg.Register(stonith.Plugin{
		Type:        Type,
		Strict:      true,
		SelfFencing: true,
		MetaData:    func(context.Context, string) (stonith.MetaData, error) { return metaData(), nil },
		New: func(_ context.Context, cfg stonith.Config) (stonith.Device, error) {
			return New(cfg.ID, cfg.Params.Get("device"), cfg.Params.Get("timeout"), deps)
		},
	})
}

func metaData() stonith.MetaData {
	return stonith.MetaData{
		Name:      Type,
		ShortDesc: "Self-fencing through the local watchdog device",
		Params: []stonith.ParamSpec{
			{Name: "device", Type: "string", Default: DefaultPath, ShortDesc: "watchdog device path"},
			{Name: "timeout", Type: "time", Default: "10s", ShortDesc: "watchdog timeout while armed"},
		},
		Actions: []string{"reboot", "off", "status", "list", "monitor", "metadata"},
	}
}

// Device is a watchdog self-fencing device. It is safe for concurrent use.
type Device struct {
	id      string
	path    string
	timeout time.Duration
	deps    Deps

	mu      sync.Mutex
	dev     Dev           // open while armed or after a fence
	running bool          // Run is feeding
	fence   chan struct{} // closed by Fence to stop Run's loop
	fenced  bool
}

// New returns a watchdog device (path and timeout may be empty for defaults).
func New(id, path, timeout string, deps Deps) (*Device, error) {
	if deps.Clock == nil {
		deps.Clock = stonith.RealClock{}
	}
	d := &Device{id: id, path: path, timeout: DefaultTimeout, deps: deps, fence: make(chan struct{})}
	if d.path == "" {
		d.path = DefaultPath
	}
	if timeout != "" {
		t, err := fsm.ParseDuration(timeout)
		if err != nil || t < time.Second {
			return nil, &fsm.ParamError{Device: id, Param: "timeout", Msg: fmt.Sprintf("%q is not a duration of at least 1s", timeout)}
		}
		d.timeout = t
	}
	return d, nil
}

// Run arms the watchdog and feeds it every third of its timeout until ctx
// ends (then it disarms with the magic close and returns nil) or the node
// fences itself (then it returns without disarming). Run is meant to be
// called once, on a goroutine owned by the daemon.
func (d *Device) Run(ctx context.Context) error {
	d.mu.Lock()
	if d.running || d.fenced {
		d.mu.Unlock()
		return fmt.Errorf("watchdog %s: already running or fenced", d.path)
	}
	dev, err := d.deps.Opener.Open(d.path)
	if err != nil {
		d.mu.Unlock()
		return fmt.Errorf("open watchdog %s: %w", d.path, err)
	}
	if _, err := dev.SetTimeout(d.timeout); err != nil {
		_ = dev.MagicClose()
		d.mu.Unlock()
		return fmt.Errorf("set watchdog %s timeout %v: %w", d.path, d.timeout, err)
	}
	d.dev, d.running = dev, true
	fence := d.fence
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.running = false
		d.mu.Unlock()
	}()
	for {
		d.mu.Lock()
		if d.fenced {
			d.mu.Unlock()
			return nil
		}
		err := dev.Keepalive()
		d.mu.Unlock()
		if err != nil {
			return fmt.Errorf("watchdog %s keepalive: %w", d.path, err)
		}
		t := d.deps.Clock.NewTimer(d.timeout / 3)
		select {
		case <-t.C():
		case <-fence:
			t.Stop()
			return nil
		case <-ctx.Done():
			t.Stop()
			d.mu.Lock()
			defer d.mu.Unlock()
			if d.fenced {
				return nil
			}
			d.dev = nil
			if err := dev.MagicClose(); err != nil {
				return fmt.Errorf("watchdog %s disarm: %w", d.path, err)
			}
			return nil
		}
	}
}

// Fence implements stonith.Device: for the local node, reboot and off stop
// feeding, shorten the timeout and close without the magic character.
// The machine resets when the watchdog expires; Fence returns once the
// watchdog is left armed and unfed.
func (d *Device) Fence(_ context.Context, target string, action stonith.Action) error {
	if target != d.deps.Node {
		return fmt.Errorf("watchdog on %s cannot fence %s: %w", d.deps.Node, target, stonith.ErrCannotFence)
	}
	if action != stonith.ActionReboot && action != stonith.ActionOff {
		return fmt.Errorf("watchdog %s: %w", action, stonith.ErrNotSupported)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fenced {
		return nil
	}
	dev := d.dev
	if dev == nil {
		var err error
		if dev, err = d.deps.Opener.Open(d.path); err != nil {
			return fmt.Errorf("self-fence: open watchdog %s: %w", d.path, err)
		}
	}
	d.fenced = true
	close(d.fence)
	_, terr := dev.SetTimeout(FenceTimeout)
	if err := dev.Close(); err != nil {
		return fmt.Errorf("self-fence: close watchdog %s: %w", d.path, err)
	}
	_ = terr // a driver refusing a shorter timeout still resets after the armed one
	return nil
}

// Status implements stonith.Device: the local node is on (it is running
// this code); other nodes are unknown to a watchdog.
func (d *Device) Status(_ context.Context, target string) (stonith.PowerState, error) {
	if target != d.deps.Node {
		return stonith.PowerUnknown, fmt.Errorf("watchdog status %s: %w", target, stonith.ErrCannotFence)
	}
	return stonith.PowerOn, nil
}

// List implements stonith.Device: only the local node.
func (d *Device) List(context.Context) ([]string, error) { return []string{d.deps.Node}, nil }

// Monitor implements stonith.Device: fails unless Run is feeding the watchdog.
func (d *Device) Monitor(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.running {
		return fmt.Errorf("watchdog %s: %w", d.path, ErrNotArmed)
	}
	return nil
}

// MetaData implements stonith.Device.
func (d *Device) MetaData(context.Context) (stonith.MetaData, error) { return metaData(), nil }
