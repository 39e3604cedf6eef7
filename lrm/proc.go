package lrm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
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

// DefaultWaitDelay is how long the executor waits for an agent's output
// pipes to reach end-of-file after the agent itself exited: none. The
// result is reported when the agent exits, as Pacemaker's executor does;
// what the agent wrote before exiting is already in the pipes and is
// taken without waiting. A background helper that inherited the pipes
// (IPaddr2's send_arp, a daemon started without redirection) therefore
// never delays the result: waiting for it used to add 100 ms to every
// IPaddr2 start (measured in test/netlab).
const DefaultWaitDelay = 0

// ProcOptions are the process settings shared by the script executors.
type ProcOptions struct {
	// Path is the PATH of agent processes (DefaultPath if empty).
	Path string
	// OutputLimit bounds captured stdout and stderr, each (DefaultOutputLimit if 0).
	OutputLimit int
	// WaitDelay is how long to keep waiting, after the agent exited, for
	// its output pipes to reach end-of-file (output written later by a
	// background child that inherited them); 0 (DefaultWaitDelay) takes
	// what is in the pipes at exit and returns at once.
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
// SIGKILLed. It returns when the agent exits (see DefaultWaitDelay), not
// when the last holder of its output pipes closes them.
func runProcess(ctx context.Context, opts ProcOptions, path string, args, env []string) procOutcome {
	limit := opts.OutputLimit
	if limit <= 0 {
		limit = DefaultOutputLimit
	}
	var out procOutcome
	stdout, wOut, err := newPipeCapture(limit)
	if err != nil {
		out.startErr = fmt.Errorf("stdout pipe: %w", err)
		return out
	}
	stderr, wErr, err := newPipeCapture(limit)
	if err != nil {
		stdout.abandon()
		_ = wOut.Close()
		out.startErr = fmt.Errorf("stderr pipe: %w", err)
		return out
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = "/"
	// *os.File writers: the child gets the pipes directly and Wait
	// returns when it exits; our readers drain the read ends.
	cmd.Stdout, cmd.Stderr = wOut, wErr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Negative pid: the whole process group, so grandchildren die too.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}

	err = cmd.Start()
	// Our copies of the write ends: only the agent (and its children)
	// hold them now, so the readers see EOF when those are gone.
	_ = wOut.Close()
	_ = wErr.Close()
	if err != nil {
		stdout.abandon()
		stderr.abandon()
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
	go stdout.run()
	go stderr.run()
	err = cmd.Wait()
	out.stdout, out.stderr = stdout.finish(opts.WaitDelay), stderr.finish(opts.WaitDelay)
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
	out.exitCode = ps.ExitCode()
	return out
}

// maxDrain bounds what finish reads from a pipe after the agent exited
// (a background child may keep writing).
const maxDrain = 4 * DefaultOutputLimit

// pipeCapture collects one output stream of an agent: run copies the
// pipe into a bounded buffer while the agent runs (so a chatty agent
// never blocks on a full pipe); finish, called once the agent exited,
// stops run and takes what is still buffered in the pipe without waiting
// for end-of-file. run is started by runProcess and always ends in
// finish (or abandon, when run was never started).
type pipeCapture struct {
	r    *os.File
	buf  *boundedBuffer
	done chan struct{} // closed when run returns
}

func newPipeCapture(limit int) (*pipeCapture, *os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	return &pipeCapture{r: r, buf: &boundedBuffer{max: limit}, done: make(chan struct{})}, w, nil
}

// run reads until end-of-file, an error, or finish's read deadline.
func (c *pipeCapture) run() {
	defer close(c.done)
	b := make([]byte, 32<<10)
	for {
		n, err := c.r.Read(b)
		if n > 0 {
			_, _ = c.buf.Write(b[:n])
		}
		if err != nil {
			return
		}
	}
}

// finish ends the capture after the agent exited: it waits at most wait
// for end-of-file, then stops run (a read deadline leaves unread data in
// the pipe), reads what the pipe still holds without blocking, closes
// the read end and returns the captured text.
func (c *pipeCapture) finish(wait time.Duration) string {
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-c.done:
		case <-t.C:
		}
		t.Stop()
	}
	_ = c.r.SetReadDeadline(time.Now())
	<-c.done
	if err := c.r.SetReadDeadline(time.Time{}); err == nil {
		if rc, err := c.r.SyscallConn(); err == nil {
			b := make([]byte, 32<<10)
			total := 0
			_ = rc.Read(func(fd uintptr) bool {
				for total < maxDrain {
					n, err := syscall.Read(int(fd), b)
					if n > 0 {
						_, _ = c.buf.Write(b[:n])
						total += n
						continue
					}
					if errors.Is(err, syscall.EINTR) {
						continue
					}
					break // EOF, EAGAIN (empty, still held open) or an error
				}
				return true // never wait for more
			})
		}
	}
	_ = c.r.Close()
	return c.buf.String()
}

// abandon closes a capture whose run was never started.
func (c *pipeCapture) abandon() {
	_ = c.r.Close()
	close(c.done)
}

// exitReason returns the last exit reason line of stderr (lines of any
// length: a bufio.Scanner would stop at a line over 64 KiB).
func exitReason(stderr string) string {
	var reason string
	for line := range strings.Lines(stderr) {
		if r, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), exitReasonPrefix); ok {
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
