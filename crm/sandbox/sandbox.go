// Package sandbox runs a test cluster of several crmd processes on
// 127.0.0.1 under one directory: `crm sandbox up|start|stop|down`.
//
// Layout of a sandbox directory DIR:
//
//	DIR/sandbox.json     node names, ports, crmd binary, what was created
//	DIR/cluster.key      gossip key (mode 0600)
//	DIR/pki/             cluster CA and node certificates (mTLS, see pki.go)
//	DIR/nK/crmd.pid      pid of node nK's crmd (written when started)
//	DIR/nK/crmd.sock     nK's control socket
//	DIR/nK/crmd.log      nK's log (appended)
//	DIR/nK/data          nK's state directory
//
// Every node gets three consecutive free ports (gossip, raft, node RPC).
// The crmd processes run in their own process group so that they outlive
// the `crm` command that started them; stopping a node only ever signals
// the pid recorded in its pid file after checking that this process is a
// crmd started with that node's --name.
//
// Concurrency: a Sandbox may be used from one goroutine at a time. The
// reaper goroutines started by Start are owned by the Sandbox; each ends
// when its crmd process exits.
package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/internal/atomicfile"
	"github.com/gocrm/gocrm/membership"
)

// Sentinel errors.
var (
	// ErrNotSandbox is returned when DIR holds no sandbox.json.
	ErrNotSandbox = errors.New("not a sandbox directory")
	// ErrUnknownNode names a node the sandbox does not have.
	ErrUnknownNode = errors.New("unknown sandbox node")
	// ErrNotOurs is returned when a pid file's process is not the crmd the
	// sandbox started for that node (nothing is signalled).
	ErrNotOurs = errors.New("process is not this sandbox's crmd")
	// ErrRunning is returned when starting a node that already runs.
	ErrRunning = errors.New("node already running")
	// ErrExists is returned by Up when DIR already holds a sandbox.
	ErrExists = errors.New("sandbox already exists")
)

// StateFile is the name of the sandbox description in DIR.
const StateFile = "sandbox.json"

// EnvDir is set in every crmd's environment to the sandbox directory so
// that the daemon can fence sandbox nodes (see NewKiller).
const EnvDir = "GOCRM_SANDBOX_DIR"

// Node is one sandbox node.
type Node struct {
	Name string `json:"name"`
	// Port is the gossip port; raft uses Port+1, node RPC Port+2.
	Port int `json:"port"`
}

// State is the persisted description of a sandbox.
type State struct {
	ClusterName string `json:"cluster_name"`
	CRMD        string `json:"crmd"`
	Host        string `json:"host"`
	Nodes       []Node `json:"nodes"`
	// Created lists the paths Up created (removed by Purge, deepest first).
	Created []string `json:"created"`
}

// Config configures Up.
type Config struct {
	Dir   string
	Nodes int
	// CRMD is the crmd binary (absolute path).
	CRMD string
	// ClusterName defaults to "sandbox".
	ClusterName string
	// ExtraArgs are appended to every crmd command line.
	ExtraArgs []string
	// TwoNodeMode (Nodes must be 2) configures two-node-mode with
	// asymmetric fence delays (see twonode.go); NoFenceDevice leaves the
	// fence device out, so that the mode is refused (tests).
	TwoNodeMode   bool
	NoFenceDevice bool
	Logger        *slog.Logger
}

// Sandbox is an opened sandbox directory.
type Sandbox struct {
	dir   string
	st    State
	log   *slog.Logger
	extra []string
	// exited is closed by the reaper when a process this Sandbox started
	// exits, keyed by node.
	exited map[string]chan struct{}
}

// Dir returns the sandbox directory.
func (s *Sandbox) Dir() string { return s.dir }

// State returns a copy of the sandbox description.
func (s *Sandbox) State() State {
	st := s.st
	st.Nodes = append([]Node(nil), s.st.Nodes...)
	st.Created = append([]string(nil), s.st.Created...)
	return st
}

// NodeDir returns DIR/NAME.
func (s *Sandbox) NodeDir(name string) string { return filepath.Join(s.dir, name) }

// Socket returns the control socket of a node.
func (s *Sandbox) Socket(name string) string { return filepath.Join(s.dir, name, "crmd.sock") }

// PIDFile returns the pid file of a node.
func (s *Sandbox) PIDFile(name string) string { return filepath.Join(s.dir, name, "crmd.pid") }

// LogFile returns the log file of a node.
func (s *Sandbox) LogFile(name string) string { return filepath.Join(s.dir, name, "crmd.log") }

// KeyFile returns the cluster key file.
func (s *Sandbox) KeyFile() string { return filepath.Join(s.dir, "cluster.key") }

// Nodes returns the node names in order.
func (s *Sandbox) Nodes() []string {
	out := make([]string, len(s.st.Nodes))
	for i, n := range s.st.Nodes {
		out[i] = n.Name
	}
	return out
}

func (s *Sandbox) node(name string) (Node, error) {
	for _, n := range s.st.Nodes {
		if n.Name == name {
			return n, nil
		}
	}
	return Node{}, fmt.Errorf("%w: %s", ErrUnknownNode, name)
}

// Create writes a new sandbox directory (key, node directories, state)
// without starting anything.
func Create(cfg Config) (*Sandbox, error) {
	if cfg.Nodes < 1 {
		return nil, fmt.Errorf("sandbox: need at least one node, got %d", cfg.Nodes)
	}
	if cfg.CRMD == "" {
		return nil, errors.New("sandbox: no crmd binary given")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("sandbox dir: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, StateFile)); err == nil {
		return nil, fmt.Errorf("%w in %s", ErrExists, dir)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := cfg.ClusterName
	if name == "" {
		name = "sandbox"
	}
	s := &Sandbox{dir: dir, log: log, extra: cfg.ExtraArgs, exited: map[string]chan struct{}{},
		st: State{ClusterName: name, CRMD: cfg.CRMD, Host: "127.0.0.1"}}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sandbox dir: %w", err)
		}
		s.st.Created = append(s.st.Created, dir)
	}
	ports, err := freePortBlocks(s.st.Host, cfg.Nodes)
	if err != nil {
		return nil, err
	}
	for i := 0; i < cfg.Nodes; i++ {
		n := Node{Name: "n" + strconv.Itoa(i+1), Port: ports[i]}
		s.st.Nodes = append(s.st.Nodes, n)
		nd := s.NodeDir(n.Name)
		if _, err := os.Stat(nd); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(filepath.Join(nd, "data"), 0o750); err != nil {
				return nil, fmt.Errorf("node dir: %w", err)
			}
			s.st.Created = append(s.st.Created, nd)
		} else if err := os.MkdirAll(filepath.Join(nd, "data"), 0o750); err != nil {
			return nil, fmt.Errorf("node dir: %w", err)
		}
	}
	if err := writeKey(s.KeyFile()); err != nil {
		return nil, err
	}
	s.st.Created = append(s.st.Created, s.KeyFile())
	if err := s.createPKI(); err != nil {
		return nil, err
	}
	s.st.Created = append(s.st.Created, filepath.Join(dir, StateFile))
	if err := s.save(); err != nil {
		return nil, err
	}
	return s, nil
}

// Open loads an existing sandbox.
func Open(dir string, logger *slog.Logger) (*Sandbox, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(abs, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotSandbox, abs)
	}
	if err != nil {
		return nil, fmt.Errorf("read sandbox state: %w", err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(abs, StateFile), err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sandbox{dir: abs, st: st, log: logger, exited: map[string]chan struct{}{}}, nil
}

func (s *Sandbox) save() error {
	data, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(s.dir, StateFile), append(data, '\n'), 0o640); err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	return nil
}

// writeKey writes a new random gossip key with mode 0600 (never
// overwriting an existing file).
func writeKey(path string) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("random key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	if _, err := fmt.Fprintf(f, "# gocrm sandbox gossip key\n%s\n", membership.EncodeKey(key)); err != nil {
		f.Close()
		return fmt.Errorf("key file: %w", err)
	}
	return f.Close()
}

// freePortBlocks finds n blocks of three consecutive ports free for TCP
// (all three) and UDP (the first) on host.
func freePortBlocks(host string, n int) ([]int, error) {
	var held []interface{ Close() error }
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	var out []int
	for tries := 0; len(out) < n && tries < 200; tries++ {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("find free port: %w", err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		block := []interface{ Close() error }{l}
		ok := base+2 < 65536
		for k := 1; ok && k <= 2; k++ {
			lk, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(base+k)))
			if err != nil {
				ok = false
				break
			}
			block = append(block, lk)
		}
		if ok {
			u, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(base)))
			if err != nil {
				ok = false
			} else {
				block = append(block, u)
			}
		}
		if !ok {
			for _, c := range block {
				_ = c.Close()
			}
			continue
		}
		held = append(held, block...)
		out = append(out, base)
	}
	if len(out) < n {
		return nil, errors.New("find free ports: no free port blocks")
	}
	return out, nil
}

// Args returns the crmd command line (without the binary) of a node.
func (s *Sandbox) Args(name string) ([]string, error) {
	n, err := s.node(name)
	if err != nil {
		return nil, err
	}
	args := []string{
		"--name", n.Name,
		"--cluster-name", s.st.ClusterName,
		"--data-dir", filepath.Join(s.NodeDir(n.Name), "data"),
		"--bind", net.JoinHostPort(s.st.Host, strconv.Itoa(n.Port)),
		"--bootstrap-expect", strconv.Itoa(len(s.st.Nodes)),
		"--socket", s.Socket(n.Name),
		"--keyfile", s.KeyFile(),
	}
	args = append(args, s.TLSArgs(n.Name)...)
	for _, o := range s.st.Nodes {
		if o.Name != n.Name {
			args = append(args, "--join", net.JoinHostPort(s.st.Host, strconv.Itoa(o.Port)))
		}
	}
	return append(args, s.extra...), nil
}

// Start starts a node's crmd in its own process group, logging to its log
// file, and records its pid.
func (s *Sandbox) Start(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	args, err := s.Args(name)
	if err != nil {
		return err
	}
	if pid, ok := s.runningPID(name); ok {
		return fmt.Errorf("%w: %s (pid %d)", ErrRunning, name, pid)
	}
	logf, err := os.OpenFile(s.LogFile(name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	defer logf.Close()
	_ = os.Remove(s.Socket(name)) // a stale socket from a killed crmd
	cmd := exec.Command(s.st.CRMD, args...)
	cmd.Dir = s.NodeDir(name)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), EnvDir+"="+s.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	if err := os.WriteFile(s.PIDFile(name), []byte(strconv.Itoa(pid)+"\n"), 0o640); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("start %s: pid file: %w", name, err)
	}
	done := make(chan struct{})
	s.exited[name] = done
	go func() {
		// Reap the child when it exits (this process may outlive it).
		_ = cmd.Wait()
		close(done)
	}()
	s.log.Info("sandbox node started", "node", name, "pid", pid)
	return nil
}

// readPID returns the pid recorded for a node.
func (s *Sandbox) readPID(name string) (int, bool) {
	data, err := os.ReadFile(s.PIDFile(name))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// runningPID returns the node's pid if its pid file names a live crmd
// started for that node.
func (s *Sandbox) runningPID(name string) (int, bool) {
	pid, ok := s.readPID(name)
	if !ok {
		return 0, false
	}
	if err := s.verify(pid, name); err != nil {
		return 0, false
	}
	return pid, true
}

// verify checks that pid is a live (not zombie) crmd of this sandbox with
// --name name.
func (s *Sandbox) verify(pid int, name string) error {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return fmt.Errorf("%w: pid %d is gone", ErrNotOurs, pid)
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X') {
		return fmt.Errorf("%w: pid %d has exited", ErrNotOurs, pid)
	}
	// Right after exec (and while exiting) the command line reads empty
	// for a moment: retry briefly.
	var raw []byte
	for try := 0; ; try++ {
		raw, err = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			return fmt.Errorf("%w: pid %d: %v", ErrNotOurs, pid, err)
		}
		if len(raw) > 0 || try >= 40 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	if len(argv) == 0 || filepath.Base(argv[0]) != filepath.Base(s.st.CRMD) {
		return fmt.Errorf("%w: pid %d runs %q", ErrNotOurs, pid, argv[0])
	}
	hasName, hasSocket := false, false
	for i, a := range argv {
		next := ""
		if i+1 < len(argv) {
			next = argv[i+1]
		}
		if (a == "--name" && next == name) || a == "--name="+name {
			hasName = true
		}
		if (a == "--socket" && next == s.Socket(name)) || a == "--socket="+s.Socket(name) {
			hasSocket = true
		}
	}
	if !hasName || !hasSocket {
		return fmt.Errorf("%w: pid %d is not crmd --name %s of %s", ErrNotOurs, pid, name, s.dir)
	}
	return nil
}

// Running reports whether a node's crmd runs.
func (s *Sandbox) Running(name string) bool {
	_, ok := s.runningPID(name)
	return ok
}

// PID returns the verified pid of a running node.
func (s *Sandbox) PID(name string) (int, error) {
	if _, err := s.node(name); err != nil {
		return 0, err
	}
	pid, ok := s.readPID(name)
	if !ok {
		return 0, fmt.Errorf("%s: no pid file", name)
	}
	if err := s.verify(pid, name); err != nil {
		return 0, err
	}
	return pid, nil
}

// signal sends sig to the node's verified crmd and waits up to wait for
// it to exit. It returns false if the node was not running.
func (s *Sandbox) signal(ctx context.Context, name string, sig syscall.Signal, wait time.Duration) (bool, error) {
	if _, err := s.node(name); err != nil {
		return false, err
	}
	pid, ok := s.readPID(name)
	if !ok {
		return false, nil
	}
	if err := s.verify(pid, name); err != nil {
		if errors.Is(err, ErrNotOurs) && !processExists(pid) {
			_ = os.Remove(s.PIDFile(name))
			return false, nil
		}
		return false, err
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return false, fmt.Errorf("signal %s (pid %d): %w", name, pid, err)
	}
	deadline := time.Now().Add(wait)
	for {
		if s.verify(pid, name) != nil {
			if done, ok := s.exited[name]; ok {
				select {
				case <-done:
				case <-time.After(time.Second):
				}
			}
			_ = os.Remove(s.PIDFile(name))
			return true, nil
		}
		if time.Now().After(deadline) {
			return true, fmt.Errorf("%s (pid %d) still running %s after %s", name, pid, sig, wait)
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func processExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// Stop stops a node cleanly (SIGTERM), killing it after timeout. Stopping
// a node that does not run is not an error.
func (s *Sandbox) Stop(ctx context.Context, name string, timeout time.Duration) error {
	_, err := s.signal(ctx, name, syscall.SIGTERM, timeout)
	if err != nil && !errors.Is(err, ErrNotOurs) && !errors.Is(err, ErrUnknownNode) && ctx.Err() == nil {
		s.log.Warn("sandbox node did not stop; killing it", "node", name, "err", err)
		_, err = s.signal(ctx, name, syscall.SIGKILL, 5*time.Second)
	}
	return err
}

// Kill kills a node's crmd at once (SIGKILL, no clean shutdown).
func (s *Sandbox) Kill(ctx context.Context, name string) error {
	_, err := s.signal(ctx, name, syscall.SIGKILL, 5*time.Second)
	return err
}

// Down stops every running node (SIGTERM, then SIGKILL after timeout).
func (s *Sandbox) Down(ctx context.Context, timeout time.Duration) error {
	var errs []error
	for _, n := range s.st.Nodes {
		if err := s.Stop(ctx, n.Name, timeout); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Purge removes what Create made (node directories with their data and
// logs, the key, the state file and DIR itself if Create made it). Nodes
// must be stopped first.
func (s *Sandbox) Purge() error {
	for _, n := range s.st.Nodes {
		if s.Running(n.Name) {
			return fmt.Errorf("purge: %w: %s", ErrRunning, n.Name)
		}
	}
	var errs []error
	for i := len(s.st.Created) - 1; i >= 0; i-- {
		p := s.st.Created[i]
		if !strings.HasPrefix(p, s.dir) {
			continue
		}
		var err error
		if p == s.dir {
			// Only if empty: files Up did not create stay.
			if err = os.Remove(p); errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
				err = nil
			}
		} else {
			err = os.RemoveAll(p)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
