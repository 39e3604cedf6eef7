package watchdog

import (
	"errors"
	"sync"
	"time"

	"github.com/gocrm/gocrm/stonith"
)

// FakeOpener is an in-memory watchdog for tests. It is safe for concurrent use.
type FakeOpener struct {
	mu      sync.Mutex
	clock   stonith.Clock
	OpenErr error // returned by Open when set
	devs    []*FakeDev
}

// NewFakeOpener returns a fake whose expiry is judged by clock.
func NewFakeOpener(clock stonith.Clock) *FakeOpener { return &FakeOpener{clock: clock} }

// Open implements Opener.
func (o *FakeOpener) Open(path string) (Dev, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.OpenErr != nil {
		return nil, o.OpenErr
	}
	d := &FakeDev{o: o, Path: path, lastFeed: o.clock.Now(), timeout: 60 * time.Second}
	o.devs = append(o.devs, d)
	return d, nil
}

// Devs returns every device opened so far.
func (o *FakeOpener) Devs() []*FakeDev {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*FakeDev(nil), o.devs...)
}

// WouldReset reports whether any opened watchdog has expired at the
// clock's current time (left armed and unfed past its timeout).
func (o *FakeOpener) WouldReset() bool {
	for _, d := range o.Devs() {
		if d.Expired() {
			return true
		}
	}
	return false
}

// FakeDev is one opened fake watchdog.
type FakeDev struct {
	o          *FakeOpener
	Path       string
	lastFeed   time.Time
	timeout    time.Duration
	keepalives int
	closed     bool
	disarmed   bool
}

// ErrClosed is returned by operations on a closed fake device.
var ErrClosed = errors.New("watchdog device closed")

// Keepalive implements Dev.
func (d *FakeDev) Keepalive() error {
	d.o.mu.Lock()
	defer d.o.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	d.keepalives++
	d.lastFeed = d.o.clock.Now()
	return nil
}

// SetTimeout implements Dev (whole seconds, as Linux drivers use).
func (d *FakeDev) SetTimeout(t time.Duration) (time.Duration, error) {
	d.o.mu.Lock()
	defer d.o.mu.Unlock()
	if d.closed {
		return 0, ErrClosed
	}
	d.timeout = t.Round(time.Second)
	d.lastFeed = d.o.clock.Now() // setting the timeout also pings on Linux
	return d.timeout, nil
}

// MagicClose implements Dev.
func (d *FakeDev) MagicClose() error {
	d.o.mu.Lock()
	defer d.o.mu.Unlock()
	d.closed, d.disarmed = true, true
	return nil
}

// Close implements Dev (stays armed).
func (d *FakeDev) Close() error {
	d.o.mu.Lock()
	defer d.o.mu.Unlock()
	d.closed = true
	return nil
}

// Keepalives returns the number of feeds.
func (d *FakeDev) Keepalives() int {
	d.o.mu.Lock()
	defer d.o.mu.Unlock()
	return d.keepalives
}

// Timeout returns the current timeout.
func (d *FakeDev) Timeout() time.Duration {
	d.o.mu.Lock()
	defer d.o.mu.Unlock()
	return d.timeout
}

// State returns whether the device is closed and whether it was disarmed.
func (d *FakeDev) State() (closed, disarmed bool) {
	d.o.mu.Lock()
	defer d.o.mu.Unlock()
	return d.closed, d.disarmed
}

// Expired reports whether the watchdog would have reset the machine by now.
func (d *FakeDev) Expired() bool {
	d.o.mu.Lock()
	defer d.o.mu.Unlock()
	return !d.disarmed && !d.o.clock.Now().Before(d.lastFeed.Add(d.timeout))
}
