package guard

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Client is the daemon's side of the guard connection. It is safe for
// concurrent use; Hold and Release never block for long (each write has a
// deadline). After a write failure the client is dead: it logs once,
// stops the guard it spawned (a guard that cannot follow must not act
// later) and every further call returns ErrClosed.
type Client struct {
	log  *slog.Logger
	conn net.Conn

	mu     sync.Mutex
	closed bool

	// Set by Spawn: the guard process and its reaper.
	proc   *os.Process
	reaped chan struct{}
}

// writeTimeout bounds one message write (the guard reads continuously;
// the socket buffer holds thousands of messages).
const writeTimeout = time.Second

// NewClient greets a guard on conn: it waits up to timeout for the
// guard's hello. On failure conn is closed.
func NewClient(conn net.Conn, timeout time.Duration, log *slog.Logger) (*Client, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("vip guard hello: %w", err)
	}
	m, err := ReadFrame(conn)
	if err == nil && (m.Kind != KindHello || m.Version != protoVersion) {
		err = fmt.Errorf("got %v version %d, want hello version %d: %w", m.Kind, m.Version, protoVersion, ErrProtocol)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("vip guard hello: %w", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	return &Client{log: log, conn: conn}, nil
}

// Hold tells the guard what the instance owns now (replacing what it held
// for the instance before).
func (c *Client) Hold(h Holding) error {
	return c.send(Message{Kind: KindHold, Hold: h})
}

// Release tells the guard the instance's addresses are gone.
func (c *Client) Release(instance string) error {
	return c.send(Message{Kind: KindRelease, Instance: instance})
}

func (c *Client) send(m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := WriteFrame(c.conn, m); err != nil {
		c.log.Error("VIP guard lost: a crash of this daemon would now leave its VIPs until their lifetime ends", "err", err)
		c.closed = true
		c.conn.Close()
		c.kill()
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return nil
}

// Close says bye (the guard exits without touching anything), closes the
// connection and, for a spawned guard, waits (bounded) for it to exit.
// Closing twice is harmless.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.reap(0)
		return nil
	}
	c.closed = true
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	err := WriteFrame(c.conn, Message{Kind: KindBye})
	c.conn.Close()
	if err != nil {
		c.kill()
		return fmt.Errorf("vip guard bye: %w", err)
	}
	c.reap(2 * time.Second)
	return nil
}

// kill stops the spawned guard by its pid and reaps it.
func (c *Client) kill() {
	if c.proc == nil {
		return
	}
	_ = c.proc.Kill()
	c.reap(2 * time.Second)
}

// reap waits up to d for the spawned guard to exit, then kills it.
func (c *Client) reap(d time.Duration) {
	if c.proc == nil {
		return
	}
	select {
	case <-c.reaped:
		return
	case <-time.After(d):
	}
	c.log.Warn("VIP guard did not exit; killing it", "pid", c.proc.Pid)
	_ = c.proc.Kill()
	<-c.reaped
}

// SpawnConfig says how to start the guard process.
type SpawnConfig struct {
	// Path is the executable (default /proc/self/exe: this very binary,
	// even if its file was replaced since).
	Path string
	// Args are the arguments that make the binary run the guard (e.g.
	// []string{"vip-guard"}); the connection is passed as fd 3.
	Args []string
	// Env are extra environment variables for the guard (on top of this
	// process's environment).
	Env []string
	// Stderr receives the guard's log (nil: /dev/null).
	Stderr *os.File
	// ReadyTimeout bounds the wait for the guard's hello (default 5 s).
	ReadyTimeout time.Duration
	Logger       *slog.Logger
}

// Spawn starts the guard process in its own session (so signals sent to
// the daemon's process group or terminal do not reach it), connected by a
// socket pair, and waits for its hello. The Client owns the process:
// Close (or a failed write) ends and reaps it; if this process dies
// instead, the guard sees end-of-file and acts.
func Spawn(cfg SpawnConfig) (*Client, error) {
	if cfg.Path == "" {
		cfg.Path = "/proc/self/exe"
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("vip guard socket pair: %w", err)
	}
	mine := os.NewFile(uintptr(fds[0]), "vip-guard-daemon")
	theirs := os.NewFile(uintptr(fds[1]), "vip-guard")
	conn, err := net.FileConn(mine) // dups the fd
	mine.Close()
	if err != nil {
		theirs.Close()
		return nil, fmt.Errorf("vip guard socket: %w", err)
	}
	cmd := exec.Command(cfg.Path, cfg.Args...)
	if len(os.Args) > 0 && os.Args[0] != "" {
		cmd.Args[0] = os.Args[0] // ps shows "crmd vip-guard", not /proc/self/exe
	}
	cmd.ExtraFiles = []*os.File{theirs}
	if len(cfg.Env) > 0 {
		cmd.Env = append(os.Environ(), cfg.Env...)
	}
	if cfg.Stderr != nil {
		cmd.Stderr = cfg.Stderr
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	// Our copy of the guard's end must go, or the guard would never see
	// end-of-file.
	theirs.Close()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("start vip guard %s: %w", cfg.Path, err)
	}
	reaped := make(chan struct{})
	go func() { // owned by the Client: ends when the guard exits
		_ = cmd.Wait()
		close(reaped)
	}()
	c, err := NewClient(conn, cfg.ReadyTimeout, cfg.Logger)
	if err != nil {
		_ = cmd.Process.Kill()
		<-reaped
		return nil, err
	}
	c.proc, c.reaped = cmd.Process, reaped
	cfg.Logger.Info("VIP guard started", "pid", cmd.Process.Pid)
	return c, nil
}

// ErrNotGuardConn is returned by ConnFromFD when fd 3 is not a socket.
var ErrNotGuardConn = errors.New("vip guard: fd 3 is not the daemon's socket")

// ConnFromFD returns the guard's end of the connection passed by Spawn as
// fd 3 (call it in the guard process).
func ConnFromFD() (net.Conn, error) {
	f := os.NewFile(3, "vip-guard")
	if f == nil {
		return nil, ErrNotGuardConn
	}
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotGuardConn, err)
	}
	return c, nil
}
