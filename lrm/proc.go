package lrm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// DefaultPath is the PATH given to script agents unless configured otherwise.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// DefaultOutputLimit bounds the captured stdout and stderr of a script
// agent (each); the rest is discarded and a truncation marker appended.
const DefaultOutputLimit = 256 << 10

// DefaultWaitDelay bounds how long the executor keeps reading a script's
// output after the script itself exited: an orphaned daemon may hold the
// pipes open forever, and a background helper (IPaddr2's send_arp) holds
// them for about a second, which must not delay the action's result. What
// the script wrote before exiting is already in the pipe and is read well
// within this bound.
const DefaultWaitDelay = 100 * time.Millisecond

// ProcOptions are the process settings shared by the script executors.
type ProcOptions struct {
	// Path is the PATH of agent processes (DefaultPath if empty).
	Path string
	// OutputLimit bounds captured stdout and stderr, each (DefaultOutputLimit if 0).
	OutputLimit int
	// WaitDelay bounds output reading after the agent exited (DefaultWaitDelay if 0).
	WaitDelay time.Duration
}

func (o ProcOptions) path() string {
	if o.Path == "" {
		return DefaultPath
	}
	return o.Path
}

// boundedBuffer keeps the first max bytes written and counts the rest. It
// always accepts writes so a chatty agent is never blocked or failed.
type boundedBuffer struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	dropped int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - len(b.buf)
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		b.buf = append(b.buf, p[:room]...)
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return string(b.buf) + fmt.Sprintf("\n[output truncated: %d bytes dropped]", b.dropped)
	}
	return string(b.buf)
}

// procOutcome is what runProcess observed.
type procOutcome struct {
	exitCode int // valid when err == nil && !signaled && !timedOut && !cancelled
	signaled bool
	signal   syscall.Signal
	timedOut bool
	canceled bool
	startErr error // the process could not be started
	stdout   string
	stderr   string
	reason   string // last "ocf-exit-reason:" line of stderr
}

// exitReasonPrefix marks an exit reason on an agent's stderr (OCF_EXIT_REASON_PREFIX).
const exitReasonPrefix = "ocf-exit-reason:"

// runProcess runs path with args and exactly env (no inheritance, no
// shell) in its own process group; when ctx is done the whole group is
// SIGKILLed.
func runProcess(ctx context.Context, opts ProcOptions, path string, args, env []string) procOutcome {
	limit := opts.OutputLimit
	if limit <= 0 {
		limit = DefaultOutputLimit
	}
	wait := opts.WaitDelay
	if wait <= 0 {
		wait = DefaultWaitDelay
	}
	var stdout, stderr = &boundedBuffer{max: limit}, &boundedBuffer{max: limit}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Negative pid: the whole process group, so grandchildren die too.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = wait

	var out procOutcome
	if err := cmd.Start(); err != nil {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			out.timedOut = true
		case ctx.Err() != nil:
			out.canceled = true
		default:
			out.startErr = err
		}
		return out
	}
	err := cmd.Wait()
	out.stdout, out.stderr = stdout.String(), stderr.String()
	out.reason = exitReason(out.stderr)
	if ctxErr := ctx.Err(); ctxErr != nil {
		// Kill again: members that were forked while the first kill was
		// in flight must not survive the action.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			out.timedOut = true
		} else {
			out.canceled = true
		}
		return out
	}
	ps := cmd.ProcessState
	if ps == nil {
		out.startErr = err
		return out
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		out.signaled, out.signal = true, ws.Signal()
		return out
	}
	// exec.ErrWaitDelay (pipes held by an orphan) is not an agent failure.
	out.exitCode = ps.ExitCode()
	return out
}

func exitReason(stderr string) string {
	var reason string
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		if r, ok := strings.CutPrefix(sc.Text(), exitReasonPrefix); ok {
			reason = strings.TrimSpace(r)
		}
	}
	return reason
}

// outcomeResult converts a process outcome into a Result; code maps the
// exit code (OCF or LSB rules).
func outcomeResult(o procOutcome, code func(int) agent.RC) Result {
	r := Result{Output: o.stdout, Stderr: o.stderr, Reason: o.reason}
	switch {
	case o.startErr != nil:
		r.Reason = o.startErr.Error()
		switch {
		case errors.Is(o.startErr, fs.ErrNotExist), errors.Is(o.startErr, syscall.EISDIR):
			r.RC, r.Status = agent.NotInstalled, StatusNotInstalled
		case errors.Is(o.startErr, fs.ErrPermission), errors.Is(o.startErr, syscall.EACCES):
			r.RC, r.Status = agent.ErrPerm, StatusError
		default:
			r.RC, r.Status = agent.ErrGeneric, StatusError
		}
	case o.timedOut:
		r.RC, r.Status = agent.ErrGeneric, StatusTimeout
		if r.Reason == "" {
			r.Reason = "process did not exit within the timeout; process group killed"
		}
	case o.canceled:
		r.RC, r.Status = agent.Cancelled, StatusCancelled
		r.Reason = "action cancelled; process group killed"
	case o.signaled:
		r.RC, r.Status = agent.ErrGeneric, StatusError
		r.Reason = fmt.Sprintf("agent terminated by signal %d (%v)", int(o.signal), o.signal)
	default:
		r.RC, r.Status = code(o.exitCode), StatusDone
		if r.RC == agent.ErrGeneric && o.exitCode != 1 && r.Reason == "" {
			r.Reason = fmt.Sprintf("agent exited with unexpected code %d", o.exitCode)
		}
	}
	return r
}

// safeName reports whether s can be used as a single path element.
func safeName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00") && filepath.Base(s) == s
}

// validEnvName reports whether name can be part of an environment variable name.
func validEnvName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "=\x00")
}
