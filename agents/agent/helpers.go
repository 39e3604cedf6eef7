package agent

import (
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"time"
)

// Helpers shared by the built-in agents. All are pure functions of their
// arguments (Sleep also of ctx and the wall clock) and safe for concurrent
// use.

// Log returns e.Logger, or a logger that discards everything when it is nil.
func (e Env) Log() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

var cloneSuffix = regexp.MustCompile(`:[0-9]+$`)

// FileInstance returns the call's instance name reduced to one file-name
// component, for agents that keep per-instance files: the clone suffix
// (":N") is dropped for anonymous clones (meta globally_unique=false), so
// their instances on one node share files, and directory parts are
// stripped so the name cannot escape a directory. A name with nothing left
// (such as "" or "..") yields "/"; callers choose a substitute.
func (c Call) FileInstance() string {
	inst := c.Resource
	if c.Meta["globally_unique"] == "false" {
		inst = cloneSuffix.ReplaceAllString(inst, "")
	}
	return filepath.Base(filepath.Clean("/" + inst))
}

// Sleep waits for d or until ctx ends, whichever comes first, and reports
// whether the whole of d elapsed. It leaves no timer running.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
