// Package track is the I/O shell around the VRRP state machine's tracked
// objects: it runs vrrp_script health checks (interval, timeout; exit 0 =
// OK) and polls track_file values, turning each outcome into an fsm event.
// The rise/fall and weight logic lives in the pure fsm package.
//
// Concurrency: RunScript and WatchFile block until their context is
// cancelled; the caller runs each in a goroutine it owns and waits for it.
// They call emit from that goroutine only. A Tracker may be shared by
// several such goroutines.
package track

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gocrm/gocrm/agents/vrrp/fsm"
)

// ErrConfig is wrapped by invalid script or file definitions.
var ErrConfig = errors.New("vrrp track: invalid configuration")

// Runner runs one check command; a nil error means success.
type Runner interface {
	Run(ctx context.Context, argv []string) error
}

// ExecRunner runs commands with os/exec (no shell), killing them when the
// context ends.
type ExecRunner struct{}

// Run implements Runner.
func (ExecRunner) Run(ctx context.Context, argv []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("run check: empty command: %w", ErrConfig)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = time.Second // do not hang on children keeping the pipes open
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("run %s: %w", argv[0], ctx.Err())
		}
		return fmt.Errorf("run %s: %w", argv[0], err)
	}
	return nil
}

// Script is a vrrp_script.
type Script struct {
	Name string
	// Command is keepalived's `script` value: a path or "cmd args", split
	// on blanks with single/double quotes grouping words.
	Command  string
	Interval time.Duration // default 1 s
	Timeout  time.Duration // default: the interval
}

// File is a track_file, polled every Interval (default 1 s).
type File struct {
	Name     string
	Path     string
	Interval time.Duration
}

// Tracker runs scripts and watches files.
type Tracker struct {
	Runner Runner
	Logger *slog.Logger
	// Now is the clock stamped on events (default time.Now).
	Now func() time.Time
	// ReadFile reads track files (default os.ReadFile).
	ReadFile func(string) ([]byte, error)
}

func (t *Tracker) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Tracker) log() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// SplitCommand splits a keepalived script line into argv.
func SplitCommand(s string) ([]string, error) {
	var argv []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case unicode.IsSpace(r):
			if inWord {
				argv = append(argv, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("script %q: unterminated quote: %w", s, ErrConfig)
	}
	if inWord {
		argv = append(argv, cur.String())
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("script %q: empty command: %w", s, ErrConfig)
	}
	return argv, nil
}

// RunScript runs s at once and then every interval until ctx ends, calling
// emit with each result (a run exceeding the timeout is killed and counts
// as a failure). It returns ctx's error, or a configuration error at once.
func (t *Tracker) RunScript(ctx context.Context, s Script, emit func(fsm.ScriptResult)) error {
	argv, err := SplitCommand(s.Command)
	if err != nil {
		return fmt.Errorf("vrrp_script %s: %w", s.Name, err)
	}
	if t.Runner == nil {
		return fmt.Errorf("vrrp_script %s: no runner: %w", s.Name, ErrConfig)
	}
	interval := s.Interval
	if interval <= 0 {
		interval = time.Second
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = interval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		err := t.Runner.Run(rctx, argv)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			t.log().Debug("vrrp_script failed", "script", s.Name, "err", err)
		}
		emit(fsm.ScriptResult{At: t.now(), Name: s.Name, OK: err == nil})
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// ReadValue reads a track_file's integer: the first word of the file; a
// missing, empty or unparsable file reads as 0 (logged).
func (t *Tracker) ReadValue(path string) int {
	read := t.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	b, err := read(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.log().Warn("track_file unreadable, using 0", "path", path, "err", err)
		}
		return 0
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0
	}
	v, err := strconv.Atoi(string(f[0]))
	if err != nil {
		t.log().Warn("track_file does not hold an integer, using 0", "path", path, "content", string(f[0]))
		return 0
	}
	return v
}

// WatchFile polls f every interval until ctx ends, calling emit with the
// first value and with every change.
func (t *Tracker) WatchFile(ctx context.Context, f File, emit func(fsm.FileValue)) error {
	if f.Path == "" {
		return fmt.Errorf("track_file %s: no file: %w", f.Name, ErrConfig)
	}
	interval := f.Interval
	if interval <= 0 {
		interval = time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	first, last := true, 0
	for {
		if v := t.ReadValue(f.Path); first || v != last {
			first, last = false, v
			emit(fsm.FileValue{At: t.now(), Name: f.Name, Value: v})
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
