package daemon

// ---- CTS clock-jump hook (TEST ONLY) ------------------------------------
//
// The CTS fault campaign (test/cts) jumps one node's wall clock by an hour
// forward or backward without touching the host clock. With
// GOCRM_CTS_CLOCK_FILE=PATH in crmd's environment, the daemon's wall clock
// (the DC's Wall clock given to the scheduler, the execution dates and
// last-rc-change the recorder writes from the LRM's results, last-failure,
// the shutdown request, the scheduler runs behind the control socket) is the host time plus the offset written
// in PATH as a Go duration ("1h", "-1h", "0s"; missing or empty file = 0).
// PATH is re-read at most every clockReread. The hook is compiled in but
// refused (logged, ignored) unless GOCRM_SANDBOX_DIR is set too, i.e.
// unless crmd runs in a sandbox test cluster, like the planted-bug hook
// in crm/dc/ctsplant.go.
//
// Durations and timeouts keep using the monotonic clock: the LRM, the DC's
// engine (dc.Config.Now), the quorum lease and membership never see the
// offset. Only wall times are offset; note that time.Add shifts Go's
// monotonic reading too, so these times must never be subtracted from
// each other across an offset change.

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gocrm/gocrm/internal/clock"
)

const (
	ctsClockEnv        = "GOCRM_CTS_CLOCK_FILE"
	ctsClockSandboxEnv = "GOCRM_SANDBOX_DIR"
	// clockReread bounds how often the offset file is read.
	clockReread = 100 * time.Millisecond
)

// wallClock is the daemon's wall clock: the host clock, or (CTS) the host
// clock plus an offset read from a file. Safe for concurrent use.
type wallClock struct {
	path string // "" = host clock only
	log  *slog.Logger

	mu     sync.Mutex
	offset time.Duration
	readAt time.Time // monotonic; zero = never read
}

var _ clock.Clock = (*wallClock)(nil)

// newWallClock returns the daemon's wall clock, honouring the CTS hook
// only inside a sandbox cluster.
func newWallClock(log *slog.Logger) *wallClock {
	return newWallClockEnv(log, os.Getenv(ctsClockEnv), os.Getenv(ctsClockSandboxEnv))
}

func newWallClockEnv(log *slog.Logger, path, sandboxDir string) *wallClock {
	c := &wallClock{log: log}
	if path == "" {
		return c
	}
	if sandboxDir == "" {
		log.Error("refusing the CTS clock hook outside a sandbox cluster", "env", ctsClockEnv, "value", path)
		return c
	}
	log.Warn("CTS CLOCK HOOK ACTIVE: wall clock = host clock + offset from file (test only)", "file", path)
	c.path = path
	return c
}

// Now returns the wall time (with the monotonic reading of time.Now).
func (c *wallClock) Now() time.Time {
	now := time.Now()
	if c == nil || c.path == "" {
		return now
	}
	return now.Add(c.currentOffset(now))
}

// NewTimer returns a runtime timer: durations are never offset.
func (c *wallClock) NewTimer(d time.Duration) clock.Timer { return clock.Real{}.NewTimer(d) }

// currentOffset returns the offset, re-reading the file when the last read
// is older than clockReread. An unreadable file keeps the last offset; a
// missing one means no offset.
func (c *wallClock) currentOffset(now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.readAt.IsZero() && now.Sub(c.readAt) < clockReread {
		return c.offset
	}
	c.readAt = now
	off, err := readClockOffset(c.path)
	if err != nil {
		c.log.Warn("CTS clock hook: offset file unreadable; keeping the last offset", "file", c.path, "err", err)
		return c.offset
	}
	if off != c.offset {
		c.log.Warn("CTS clock hook: wall clock offset changed (test only)", "from", c.offset, "to", off)
		c.offset = off
	}
	return c.offset
}

// readClockOffset parses the offset file (missing or blank = 0).
func readClockOffset(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// shift moves a host-clock time (an LRM execution date) onto this wall
// clock; the zero time stays zero.
func (c *wallClock) shift(t time.Time) time.Time {
	if t.IsZero() || c == nil || c.path == "" {
		return t
	}
	return t.Add(c.currentOffset(time.Now()))
}

// now is the daemon's wall time (see wallClock).
func (d *Daemon) now() time.Time { return d.clk.Now() }

// ---- end of CTS clock-jump hook -------------------------------------------
