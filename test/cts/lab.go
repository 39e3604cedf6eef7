package cts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/crm/sandbox"
	"github.com/gocrm/gocrm/test/cts/invariant"
)

// Errors of the lab.
var (
	// ErrNeedRoot is returned when network namespaces are asked for
	// without root.
	ErrNeedRoot = errors.New("network namespaces need root")
	// ErrNodeDown is returned when acting on a node whose crmd is not
	// running.
	ErrNodeDown = errors.New("node is not running")
)

// subnet is the address range used inside the lab's namespaces only.
const (
	subnetPrefix = "10.99.0."
	vipAddr      = subnetPrefix + "100"
	nodeNIC      = "eth0"
	dataTmpfs    = "64m"
)

// labNode is one crmd of the lab.
type labNode struct {
	name    string
	arbiter bool
	port    int
	ip      string // netns mode: its address in 10.99.0.0/24
	ns      string // netns mode: its namespace

	// guarded by Lab.mu
	pid     int
	exited  chan struct{}
	frozen  bool
	mounted bool
	started time.Time
	lossy   bool   // iptables loss rules installed
	mac     string // netns mode: its NIC's MAC address
}

// Lab is a 3-node + arbiter cluster of real crmd processes, each in its own
// network namespace (root) or all on 127.0.0.1. Its directory is a sandbox
// directory (crm/sandbox layout, sandbox.json) so that the crmds' sandbox
// fence device can find and kill them.
//
// Concurrency: the methods may be called from several goroutines (the
// campaign and its sampler); process bookkeeping is guarded by mu. The
// reaper goroutines (one per started crmd) end when their process exits.
type Lab struct {
	cfg    LabConfig
	log    *slog.Logger
	sb     *sandbox.Sandbox
	nodes  []*labNode
	hub    string // netns mode: namespace holding the bridge
	netns  bool
	prefix string
	// hasNetem: tc netem works (the kernel has sch_netem).
	hasNetem bool

	mu     sync.Mutex
	events []invariant.Event // node deaths seen by the reapers
	wg     sync.WaitGroup
}

// LabConfig configures a Lab.
type LabConfig struct {
	// Dir is the (new) lab directory.
	Dir string
	// CRMD and CRM are the binaries.
	CRMD, CRM string
	// Netns runs every node in its own network namespace (needs root);
	// otherwise all listen on 127.0.0.1. Partitions are ip rules, loss and
	// delay tc netem (when the kernel has it).
	Netns bool
	// Tmpfs mounts a small tmpfs on every node's data directory (root) so
	// that a disk-full fault can be injected.
	Tmpfs bool
	// Plant is passed as GOCRM_CTS_PLANT to every crmd ("" = none).
	Plant string
	// Lease is crmd's --quorum-lease.
	Lease time.Duration
	// TwoNode makes a two-node-mode pair (n1, n2) instead of three nodes
	// and an arbiter.
	TwoNode bool
	Logger  *slog.Logger
}

// NewLab creates the lab directory, namespaces and mounts (nothing runs
// yet). On error whatever was created is removed.
func NewLab(cfg LabConfig) (l *Lab, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if (cfg.Netns || cfg.Tmpfs) && os.Geteuid() != 0 {
		return nil, ErrNeedRoot
	}
	nodes := 4
	if cfg.TwoNode {
		nodes = 2
	}
	sb, err := sandbox.Create(sandbox.Config{Dir: cfg.Dir, Nodes: nodes, CRMD: cfg.CRMD, ClusterName: "cts", TwoNodeMode: cfg.TwoNode, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	l = &Lab{cfg: cfg, log: cfg.Logger, sb: sb, netns: cfg.Netns, prefix: fmt.Sprintf("cts%d", os.Getpid())}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	for i, n := range sb.State().Nodes {
		ln := &labNode{name: n.Name, port: n.Port, arbiter: i == 3 && !cfg.TwoNode}
		if cfg.Netns {
			ln.ip = subnetPrefix + strconv.Itoa(11+i)
			ln.ns = fmt.Sprintf("%s-%s", l.prefix, n.Name)
		}
		l.nodes = append(l.nodes, ln)
	}
	if cfg.Netns {
		if err := l.setupNetns(); err != nil {
			return nil, err
		}
	}
	if cfg.Tmpfs {
		for _, n := range l.nodes {
			dir := l.dataDir(n.name)
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+dataTmpfs+",mode=0700", "cts-"+n.name, dir).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("lab: mount tmpfs on %s: %w: %s", dir, err, out)
			}
			n.mounted = true
		}
	}
	return l, nil
}

// run runs a command (ip, tc) and returns its error with its output.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// staleNetns matches the namespaces of a lab ("cts<pid>-hub", "cts<pid>-nK").
var staleNetns = regexp.MustCompile(`^cts([0-9]+)-(hub|n[0-9]+)$`)

// sweepStale deletes lab namespaces left behind by a campaign process that
// no longer exists (one killed with SIGKILL cannot clean up after itself).
func (l *Lab) sweepStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m := staleNetns.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		if pid, _ := strconv.Atoi(m[1]); pid == os.Getpid() || processExists(pid) {
			continue
		}
		l.log.Warn("lab: deleting a namespace left by a dead campaign", "netns", f[0])
		_ = run("ip", "netns", "del", f[0])
	}
}

func processExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

func (l *Lab) setupNetns() error {
	l.sweepStale()
	l.hub = l.prefix + "-hub"
	steps := [][]string{
		{"ip", "netns", "add", l.hub},
		{"ip", "-n", l.hub, "link", "set", "lo", "up"},
		{"ip", "-n", l.hub, "link", "add", "br0", "type", "bridge"},
		{"ip", "-n", l.hub, "link", "set", "br0", "up"},
		// The observer's address, for ARP probes of the VIP.
		{"ip", "-n", l.hub, "addr", "add", hubAddr + "/24", "dev", "br0"},
	}
	for i, n := range l.nodes {
		veth := "v" + strconv.Itoa(i+1)
		steps = append(steps,
			[]string{"ip", "netns", "add", n.ns},
			[]string{"ip", "-n", n.ns, "link", "set", "lo", "up"},
			[]string{"ip", "-n", l.hub, "link", "add", veth, "type", "veth", "peer", "name", nodeNIC, "netns", n.ns},
			[]string{"ip", "-n", l.hub, "link", "set", veth, "master", "br0", "up"},
			[]string{"ip", "-n", n.ns, "addr", "add", n.ip + "/24", "dev", nodeNIC},
			[]string{"ip", "-n", n.ns, "link", "set", nodeNIC, "up"},
			// Partitions are "from PEER blackhole" rules; they must come
			// before the local table, which is moved behind them.
			[]string{"ip", "-n", n.ns, "rule", "add", "from", "all", "lookup", "local", "prio", "1000"},
			[]string{"ip", "-n", n.ns, "rule", "del", "prio", "0"},
		)
	}
	for _, s := range steps {
		if err := run(s[0], s[1:]...); err != nil {
			return fmt.Errorf("lab: netns setup: %w", err)
		}
	}
	for _, n := range l.nodes {
		out, err := runOut("ip", "-n", n.ns, "-o", "link", "show", nodeNIC)
		if err != nil {
			return fmt.Errorf("lab: netns setup: %w", err)
		}
		f := strings.Fields(out)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "link/ether" {
				n.mac = f[i+1]
			}
		}
	}
	// tc netem needs the sch_netem kernel module.
	n := l.nodes[0]
	if err := run("tc", "-n", n.ns, "qdisc", "add", "dev", nodeNIC, "root", "netem", "delay", "1ms"); err != nil {
		l.log.Warn("lab: no tc netem here: loss/delay faults disabled", "err", err)
	} else {
		l.hasNetem = true
		_ = run("tc", "-n", n.ns, "qdisc", "del", "dev", nodeNIC, "root")
	}
	return nil
}

// HasNetem reports whether tc netem works in the lab's namespaces.
func (l *Lab) HasNetem() bool { return l.hasNetem }

// Dir returns the lab directory.
func (l *Lab) Dir() string { return l.sb.Dir() }

// Netns reports whether the nodes run in network namespaces.
func (l *Lab) Netns() bool { return l.netns }

// Names returns every node name; Members those that may run resources.
func (l *Lab) Names() []string {
	out := make([]string, len(l.nodes))
	for i, n := range l.nodes {
		out[i] = n.name
	}
	return out
}

// Members returns the non-arbiter node names.
func (l *Lab) Members() []string {
	var out []string
	for _, n := range l.nodes {
		if !n.arbiter {
			out = append(out, n.name)
		}
	}
	return out
}

// Arbiter returns the arbiter's name ("" for a two-node pair).
func (l *Lab) Arbiter() string {
	for _, n := range l.nodes {
		if n.arbiter {
			return n.name
		}
	}
	return ""
}

// TwoNode reports whether the lab is a two-node-mode pair.
func (l *Lab) TwoNode() bool { return l.cfg.TwoNode }

func (l *Lab) node(name string) *labNode {
	for _, n := range l.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

func (l *Lab) dataDir(name string) string { return filepath.Join(l.sb.NodeDir(name), "data") }

// Socket returns a node's control socket.
func (l *Lab) Socket(name string) string { return l.sb.Socket(name) }

// LogFile returns a node's log.
func (l *Lab) LogFile(name string) string { return l.sb.LogFile(name) }

func (l *Lab) args(n *labNode) ([]string, error) {
	if !l.netns {
		args, err := l.sb.Args(n.name)
		if err != nil {
			return nil, err
		}
		if n.arbiter {
			args = append(args, "--arbiter")
		}
		return append(args, "--quorum-lease", l.cfg.Lease.String()), nil
	}
	args := []string{
		"--name", n.name,
		"--cluster-name", l.sb.State().ClusterName,
		"--data-dir", l.dataDir(n.name),
		"--bind", net.JoinHostPort(n.ip, strconv.Itoa(n.port)),
		"--bootstrap-expect", strconv.Itoa(len(l.nodes)),
		"--socket", l.sb.Socket(n.name),
		"--keyfile", l.sb.KeyFile(),
		"--quorum-lease", l.cfg.Lease.String(),
	}
	// Mutual TLS with the sandbox's certificates (as sandbox.Args adds).
	args = append(args, l.sb.TLSArgs(n.name)...)
	for _, o := range l.nodes {
		if o != n {
			args = append(args, "--join", net.JoinHostPort(o.ip, strconv.Itoa(o.port)))
		}
	}
	if n.arbiter {
		args = append(args, "--arbiter")
	}
	return args, nil
}

// wipeVolatile emulates a reboot of a node: what its resources left in
// memory-backed state (Dummy state files, the VIP address) is gone.
func (l *Lab) wipeVolatile(n *labNode) {
	lrm := filepath.Join(l.dataDir(n.name), "lrm")
	_ = filepath.WalkDir(lrm, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".state") {
			_ = os.Remove(p)
		}
		return nil
	})
	if l.netns {
		_ = run("ip", "-n", n.ns, "addr", "del", vipAddr+"/24", "dev", nodeNIC)
	}
}

// Start boots a node: its volatile state is wiped and its crmd started.
func (l *Lab) Start(name string) error {
	n := l.node(name)
	if n == nil {
		return fmt.Errorf("lab: unknown node %s", name)
	}
	l.mu.Lock()
	running := n.exited != nil
	l.mu.Unlock()
	if running {
		return fmt.Errorf("lab: start %s: already running", name)
	}
	l.wipeVolatile(n)
	_ = os.Remove(filepath.Join(l.dataDir(n.name), fillFile))
	args, err := l.args(n)
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(l.sb.LogFile(name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("lab: start %s: %w", name, err)
	}
	defer logf.Close()
	_ = os.Remove(l.sb.Socket(name))
	var cmd *exec.Cmd
	if l.netns {
		// nsenter enters the namespace and execs crmd (same pid).
		cmd = exec.Command("nsenter", append([]string{"--net=/run/netns/" + n.ns, "--", l.cfg.CRMD}, args...)...)
	} else {
		cmd = exec.Command(l.cfg.CRMD, args...)
	}
	cmd.Dir = l.sb.NodeDir(name)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), sandbox.EnvDir+"="+l.sb.Dir(), clockFileEnv+"="+l.clockFile(name))
	if l.cfg.Plant != "" {
		cmd.Env = append(cmd.Env, "GOCRM_CTS_PLANT="+l.cfg.Plant)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("lab: start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	if err := os.WriteFile(l.sb.PIDFile(name), []byte(strconv.Itoa(pid)+"\n"), 0o640); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("lab: start %s: pid file: %w", name, err)
	}
	done := make(chan struct{})
	l.mu.Lock()
	n.pid, n.exited, n.frozen, n.started = pid, done, false, time.Now()
	l.mu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		_ = cmd.Wait()
		at := time.Now()
		// Power-off: the dead node's kernel answers no more ARP for the
		// VIP (its other volatile state is wiped when it boots).
		if l.netns {
			_ = run("ip", "-n", n.ns, "addr", "del", vipAddr+"/24", "dev", nodeNIC)
			// Its services (the web server) go down with it.
			l.killNamespace(n)
		}
		l.mu.Lock()
		l.events = append(l.events, invariant.Event{At: at, Kind: invariant.NodeDown, Node: name, Why: "crmd exited: " + cmd.ProcessState.String()})
		if n.exited == done {
			// Under the lock, before the node can be started again: a
			// later incarnation's pid file must not be removed.
			if b, err := os.ReadFile(l.sb.PIDFile(name)); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(pid) {
				_ = os.Remove(l.sb.PIDFile(name))
			}
			n.exited, n.pid, n.frozen = nil, 0, false
		}
		l.mu.Unlock()
		close(done)
	}()
	return nil
}

// FixPIDFiles rewrites the pid file of every running node whose file is
// missing or stale (the sandbox fence device removes the file of a node it
// killed, which can race with the node's restart); without it the device
// would find nothing to kill.
func (l *Lab) FixPIDFiles() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.nodes {
		if n.pid == 0 {
			continue
		}
		want := strconv.Itoa(n.pid)
		if b, err := os.ReadFile(l.sb.PIDFile(n.name)); err != nil || strings.TrimSpace(string(b)) != want {
			l.log.Warn("lab: restoring a pid file", "node", n.name, "pid", n.pid)
			_ = os.WriteFile(l.sb.PIDFile(n.name), []byte(want+"\n"), 0o640)
		}
	}
}

// Running reports whether a node's crmd process exists (frozen or not).
func (l *Lab) Running(name string) bool {
	n := l.node(name)
	l.mu.Lock()
	defer l.mu.Unlock()
	return n != nil && n.exited != nil
}

// Frozen reports whether a node's crmd is SIGSTOPped by the lab.
func (l *Lab) Frozen(name string) bool {
	n := l.node(name)
	l.mu.Lock()
	defer l.mu.Unlock()
	return n != nil && n.exited != nil && n.frozen
}

// PID returns a running node's crmd pid (0 if none).
func (l *Lab) PID(name string) int {
	n := l.node(name)
	l.mu.Lock()
	defer l.mu.Unlock()
	if n == nil {
		return 0
	}
	return n.pid
}

// Exited returns a channel closed when the node's current crmd exits (nil
// when it does not run).
func (l *Lab) Exited(name string) <-chan struct{} {
	n := l.node(name)
	l.mu.Lock()
	defer l.mu.Unlock()
	if n == nil || n.exited == nil {
		return nil
	}
	return n.exited
}

func (l *Lab) signal(name string, sig syscall.Signal) error {
	n := l.node(name)
	l.mu.Lock()
	pid := n.pid
	l.mu.Unlock()
	if pid == 0 {
		return fmt.Errorf("%w: %s", ErrNodeDown, name)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("lab: %s %s (pid %d): %w", sig, name, pid, err)
	}
	return nil
}

// Kill SIGKILLs a node's crmd and waits until it is gone.
func (l *Lab) Kill(name string) error {
	ch := l.Exited(name)
	if ch == nil {
		return nil
	}
	if err := l.signal(name, syscall.SIGKILL); err != nil {
		return err
	}
	// SIGKILL is final once sent: the node is down from now on (the
	// reaper may notice later on a loaded machine).
	l.mu.Lock()
	l.events = append(l.events, invariant.Event{At: time.Now(), Kind: invariant.NodeDown, Node: name, Why: "SIGKILL by the harness"})
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("lab: %s did not exit after SIGKILL", name)
	}
}

// Freeze SIGSTOPs a node's crmd; Thaw SIGCONTs it.
func (l *Lab) Freeze(name string) error {
	if err := l.signal(name, syscall.SIGSTOP); err != nil {
		return err
	}
	n := l.node(name)
	l.mu.Lock()
	n.frozen = true
	l.mu.Unlock()
	return nil
}

// Thaw resumes a frozen node (no-op when it is gone).
func (l *Lab) Thaw(name string) error {
	n := l.node(name)
	l.mu.Lock()
	was := n.frozen
	n.frozen = false
	l.mu.Unlock()
	if !was {
		return nil
	}
	err := l.signal(name, syscall.SIGCONT)
	if errors.Is(err, ErrNodeDown) {
		return nil
	}
	return err
}

// TakeEvents returns and forgets the node deaths seen so far.
func (l *Lab) TakeEvents() []invariant.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.events
	l.events = nil
	return evs
}

// ---- network faults (netns mode) ----

// Block makes node `to` drop every IP packet from node `from` (one way):
// an ip rule "from FROM blackhole" in to's namespace.
func (l *Lab) Block(from, to string) error {
	f, t := l.node(from), l.node(to)
	if !l.netns || f == nil || t == nil {
		return errors.New("lab: partitions need netns mode")
	}
	return run("ip", "-n", t.ns, "rule", "add", "from", f.ip, "prio", blockPrio, "blackhole")
}

// blockPrio is the ip rule priority of partition rules (before the local
// table, moved to 1000 at setup).
const blockPrio = "100"

// Heal removes every partition filter and netem qdisc.
func (l *Lab) Heal() {
	if !l.netns {
		return
	}
	for _, n := range l.nodes {
		for i := 0; i < 8; i++ {
			if run("ip", "-n", n.ns, "rule", "del", "prio", blockPrio) != nil {
				break
			}
		}
		if l.hasNetem {
			_ = run("tc", "-n", n.ns, "qdisc", "del", "dev", nodeNIC, "root")
		}
		l.mu.Lock()
		lossy := n.lossy
		n.lossy = false
		l.mu.Unlock()
		if lossy {
			for _, chain := range []string{"INPUT", "OUTPUT"} {
				if err := run("ip", "netns", "exec", n.ns, "iptables", "-w", "-F", chain); err != nil {
					l.log.Warn("lab: removing packet loss", "node", n.name, "err", err)
				}
			}
		}
	}
}

// Netem adds loss and delay to a node's outgoing packets.
func (l *Lab) Netem(name string, delay time.Duration, lossPct int) error {
	n := l.node(name)
	if !l.netns || n == nil {
		return errors.New("lab: netem needs netns mode")
	}
	return run("tc", "-n", n.ns, "qdisc", "add", "dev", nodeNIC, "root", "netem",
		"delay", fmt.Sprintf("%dms", delay.Milliseconds()), fmt.Sprintf("%dms", delay.Milliseconds()/4),
		"loss", fmt.Sprintf("%d%%", lossPct))
}

// ---- disk faults (tmpfs mode) ----

const fillFile = "cts-fill"

// FillDisk fills the tmpfs under a node's data directory.
func (l *Lab) FillDisk(name string) error {
	n := l.node(name)
	if n == nil || !n.mounted {
		return errors.New("lab: disk faults need the tmpfs data directories")
	}
	f, err := os.OpenFile(filepath.Join(l.dataDir(name), fillFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("lab: fill %s: %w", name, err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := 0; i < 256; i++ {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return fmt.Errorf("lab: fill %s: %w", name, err)
		}
	}
	return fmt.Errorf("lab: fill %s: no ENOSPC after 256 MiB", name)
}

// FreeDisk removes the fill file.
func (l *Lab) FreeDisk(name string) {
	_ = os.Remove(filepath.Join(l.dataDir(name), fillFile))
}

// ---- observation of real state ----

// Active returns the resources really active on a node: Dummy state files
// under its data directory and the VIP among its local addresses. A node
// whose crmd is gone counts as powered off and runs nothing.
func (l *Lab) Active(name string, resources []string) []string {
	n := l.node(name)
	l.mu.Lock()
	pid := n.pid
	l.mu.Unlock()
	if pid == 0 || !procAlive(pid) {
		return nil
	}
	var out []string
	var fib string
	for _, r := range resources {
		if r == webRsc {
			if l.webPID(name) != 0 {
				out = append(out, r)
			}
			continue
		}
		if r == "vip" {
			if fib == "" {
				b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/fib_trie", pid))
				fib = string(b)
			}
			if hasLocal(fib, vipAddr) {
				out = append(out, r)
			}
			continue
		}
		if _, err := os.Stat(l.dummyState(name, r)); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// procAlive reports whether pid exists and has not exited: a killed crmd
// is a zombie until its reaper collects it, and already powered off.
func procAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] != 'Z' && b[i+2] != 'X'
}

// hasLocal reports whether /proc/net/fib_trie text lists ip as a local
// (/32 host LOCAL) address.
func hasLocal(fib, ip string) bool {
	lines := strings.Split(fib, "\n")
	for i, ln := range lines {
		if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(ln), "|--")) == ip && i+1 < len(lines) &&
			strings.Contains(lines[i+1], "host LOCAL") {
			return true
		}
	}
	return false
}

// RemoveState deletes a Dummy's state file on a node (its monitor then
// fails), for the VIP removes the address, for the web server kills it.
func (l *Lab) RemoveState(name, rsc string) error {
	n := l.node(name)
	switch rsc {
	case "vip":
		return run("ip", "-n", n.ns, "addr", "del", vipAddr+"/24", "dev", nodeNIC)
	case webRsc:
		pid := l.webPID(name)
		if pid == 0 {
			return fmt.Errorf("lab: no web server runs on %s", name)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			return fmt.Errorf("lab: kill the web server on %s: %w", name, err)
		}
		// SIGKILL is asynchronous: wait until the process is gone (a
		// zombie), so that an observation right after sees it dead.
		for i := 0; i < 100 && procAlive(pid); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		return nil
	}
	return os.Remove(l.dummyState(name, rsc))
}

// Crm runs the crm binary against a node's socket.
func (l *Lab) Crm(ctx context.Context, node string, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.cfg.CRM, args...)
	cmd.Env = append(os.Environ(), "CRM_SOCKET="+l.Socket(node), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("crm %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// Close kills every crmd the lab started, then removes mounts, namespaces
// and the lab directory. Safe to call more than once.
func (l *Lab) Close() {
	for _, n := range l.nodes {
		_ = l.Thaw(n.name)
		_ = l.Kill(n.name)
	}
	l.wg.Wait()
	for _, n := range l.nodes {
		if n.mounted {
			if err := run("umount", l.dataDir(n.name)); err != nil {
				_ = run("umount", "-l", l.dataDir(n.name))
			}
			n.mounted = false
		}
	}
	if l.netns {
		for _, n := range l.nodes {
			_ = run("ip", "netns", "del", n.ns)
		}
		if l.hub != "" {
			_ = run("ip", "netns", "del", l.hub)
		}
	}
	if l.sb != nil {
		if err := l.sb.Purge(); err != nil {
			l.log.Warn("lab: purge", "err", err)
		}
	}
}

// dummyState is the state file of Dummy rsc on a node (the LRM keeps
// built-in agents' state under <data>/lrm/agents/<provider>-<type>).
func (l *Lab) dummyState(node, rsc string) string {
	return filepath.Join(l.dataDir(node), "lrm", "agents", "gocrm-Dummy", "Dummy-"+rsc+".state")
}
