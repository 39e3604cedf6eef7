package cluster

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrm/gocrm/internal/testbin"
)

// bins holds crmd and crm built once per test binary run (see TestMain).
var bins = &testbin.Set{Prefix: "cluster"}

func TestMain(m *testing.M) {
	os.Exit(bins.Run(m))
}

// requireSandbox skips the test when a sandbox cluster cannot run here and
// returns the directory holding the freshly built crm and crmd.
func requireSandbox(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping sandbox cluster test in -short mode (starts 3 crmd processes, ~20 s)")
	}
	if runtime.GOOS != "linux" {
		t.Skipf("sandbox clusters need Linux /proc, not %s", runtime.GOOS)
	}
	return bins.Dir(t)
}

// sandboxCluster is a 3-node sandbox started by one test.
type sandboxCluster struct {
	t      *testing.T
	crmBin string
	crmd   string
	dir    string
	nodes  []string
	// frozen records the crmd processes this test SIGSTOPped (killed on
	// cleanup if they still exist).
	frozen []frozenNode
}

type frozenNode struct {
	node string
	pid  int
}

// startSandbox starts an n-node sandbox in a fresh temporary directory and
// registers its teardown.
func startSandbox(t *testing.T, n int) *sandboxCluster {
	t.Helper()
	bin := requireSandbox(t)
	c := &sandboxCluster{
		t:      t,
		crmBin: filepath.Join(bin, "crm"),
		crmd:   filepath.Join(bin, "crmd"),
		// A short private path: unix socket paths are limited to 108 bytes.
		dir: filepath.Join(t.TempDir(), "sb"),
	}
	for i := 1; i <= n; i++ {
		c.nodes = append(c.nodes, fmt.Sprintf("n%d", i))
	}
	t.Cleanup(c.teardown)
	out, err := c.run("", 90*time.Second, "sandbox", "up", "--nodes", strconv.Itoa(n), "--dir", c.dir, "--timeout", "60s")
	if err != nil {
		c.dumpLogs()
		t.Fatalf("crm sandbox up: %v\n%s", err, out)
	}
	t.Logf("sandbox up:\n%s", strings.TrimSpace(out))
	return c
}

func (c *sandboxCluster) teardown() {
	// A frozen crmd that was not fenced is killed (as the fence device
	// would have): resumed, it would wait a minute for the DC to
	// acknowledge its shutdown. Only our own, still verified, pid.
	for _, fz := range c.frozen {
		if alive(fz.pid) && c.isOurs(fz.pid, fz.node) {
			_ = syscall.Kill(fz.pid, syscall.SIGKILL)
		}
	}
	if c.t.Failed() {
		c.dumpLogs()
	}
	// Remember the pids before "down" removes the pid files, to make sure
	// none of our crmd processes outlives the test.
	var started []frozenNode
	for _, n := range c.nodes {
		if b, err := os.ReadFile(filepath.Join(c.dir, n, "crmd.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && c.isOurs(pid, n) {
				started = append(started, frozenNode{node: n, pid: pid})
			}
		}
	}
	if out, err := c.run("", 60*time.Second, "sandbox", "down", "--dir", c.dir, "--purge"); err != nil {
		c.t.Errorf("crm sandbox down: %v\n%s", err, out)
	}
	for _, p := range started {
		if alive(p.pid) && c.isOurs(p.pid, p.node) {
			c.t.Errorf("crmd of %s (pid %d) still runs after crm sandbox down; killing it", p.node, p.pid)
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
	}
}

// dumpLogs prints the tail of every node's log.
func (c *sandboxCluster) dumpLogs() {
	for _, n := range c.nodes {
		testbin.LogTail(c.t, n+" crmd.log", c.logFile(n), 40)
	}
}

func (c *sandboxCluster) socket(node string) string {
	return filepath.Join(c.dir, node, "crmd.sock")
}

func (c *sandboxCluster) logFile(node string) string {
	return filepath.Join(c.dir, node, "crmd.log")
}

// run executes crm with args against node's socket ("" for none).
func (c *sandboxCluster) run(node string, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.crmBin, args...)
	env := append(os.Environ(), "CRMD="+c.crmd, "LC_ALL=C")
	if node != "" {
		env = append(env, "CRM_SOCKET="+c.socket(node))
	}
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("crm %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), nil
}

// crm runs a crm command that must succeed.
func (c *sandboxCluster) crm(node string, args ...string) string {
	c.t.Helper()
	out, err := c.run(node, 15*time.Second, args...)
	if err != nil {
		c.t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// load applies crm configure statements through node.
func (c *sandboxCluster) load(node, statements string) {
	c.t.Helper()
	f := filepath.Join(c.t.TempDir(), "update.crm")
	if err := os.WriteFile(f, []byte(statements), 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.crm(node, "configure", "load", "update", f)
}

// pid returns the pid the sandbox recorded for node's crmd, after checking
// that this process is a crmd of this sandbox.
func (c *sandboxCluster) pid(node string) int {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, node, "crmd.pid"))
	if err != nil {
		c.t.Fatalf("pid file of %s: %v", node, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		c.t.Fatalf("pid file of %s: %v", node, err)
	}
	if !c.isOurs(pid, node) {
		c.t.Fatalf("pid %d of %s is not this sandbox's crmd", pid, node)
	}
	return pid
}

// isOurs reports whether pid is the crmd binary this test built, serving
// node's socket of this sandbox.
func (c *sandboxCluster) isOurs(pid int, node string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	argv := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	return len(argv) > 0 && argv[0] == c.crmd && slices.Contains(argv, c.socket(node))
}

// freeze SIGSTOPs node's crmd.
func (c *sandboxCluster) freeze(node string) (int, time.Time) {
	c.t.Helper()
	pid := c.pid(node)
	c.frozen = append(c.frozen, frozenNode{node: node, pid: pid})
	at := time.Now()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		c.t.Fatalf("SIGSTOP %s (pid %d): %v", node, pid, err)
	}
	return pid, at
}

// procState is the state letter of /proc/PID/stat ("" when the process is
// gone): R, S, T (stopped), Z (zombie), ...
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	return string(b[i+2])
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	s := procState(pid)
	return s != "" && s != "Z" && s != "X"
}

// statusXML is the part of `crm status --output-as=xml` the tests read.
type statusXML struct {
	testbin.CrmStatus
	Resources []struct {
		ID    string `xml:"id,attr"`
		Role  string `xml:"role,attr"`
		Nodes []struct {
			Name string `xml:"name,attr"`
		} `xml:"node"`
	} `xml:"resources>resource"`
	History []struct {
		Name      string `xml:"name,attr"`
		Resources []struct {
			ID  string `xml:"id,attr"`
			Ops []struct {
				Task     string `xml:"task,attr"`
				Interval string `xml:"interval,attr"`
				RC       string `xml:"rc,attr"`
			} `xml:"operation_history"`
		} `xml:"resource_history"`
	} `xml:"node_history>node"`
}

// hasRecurringMonitor reports whether node's operation history shows a
// successful recurring monitor of rsc.
func (s *statusXML) hasRecurringMonitor(node, rsc string) bool {
	for _, n := range s.History {
		if n.Name != node {
			continue
		}
		for _, r := range n.Resources {
			if r.ID != rsc {
				continue
			}
			for _, op := range r.Ops {
				if op.Task == "monitor" && op.Interval != "" && op.Interval != "0" && op.RC == "0" {
					return true
				}
			}
		}
	}
	return false
}

// running lists the nodes status shows rsc active on.
func (s *statusXML) running(rsc string) []string {
	var out []string
	for _, r := range s.Resources {
		if r.ID == rsc {
			for _, n := range r.Nodes {
				out = append(out, n.Name)
			}
		}
	}
	return out
}

func (s *statusXML) unclean(node string) bool {
	for _, n := range s.Nodes {
		if n.Name == node {
			return n.Unclean == "true"
		}
	}
	return false
}

// status reads the cluster status through node.
func (c *sandboxCluster) status(node string) (*statusXML, error) {
	out, err := c.run(node, 5*time.Second, "status", "--output-as=xml")
	if err != nil {
		return nil, err
	}
	var s statusXML
	if err := xml.Unmarshal([]byte(out), &s); err != nil {
		return nil, fmt.Errorf("parse crm status xml: %w\n%s", err, out)
	}
	return &s, nil
}

// waitFor polls cond every 100 ms until it returns true or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	_, ok := testbin.Poll(timeout, 100*time.Millisecond, cond)
	return ok
}

// logEvent is one line of a crmd log (slog text format).
type logEvent struct {
	node   string // whose log
	at     time.Time
	fields map[string]string
}

// readLogs parses the logfmt lines of every node's log.
func (c *sandboxCluster) readLogs() ([]logEvent, error) {
	var evs []logEvent
	for _, n := range c.nodes {
		err := testbin.EachLine(c.logFile(n), func(line string) {
			fields := parseLogfmt(line)
			if ts, err := time.Parse(time.RFC3339Nano, fields["time"]); err == nil {
				evs = append(evs, logEvent{node: n, at: ts, fields: fields})
			}
		})
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s log: %w", n, err)
		}
	}
	return evs, nil
}

// parseLogfmt splits a crmd log line into its key=value pairs (the first
// of repeated keys wins: the logging node).
var parseLogfmt = testbin.ParseLogfmt

// firstEvent returns the first event at or after since matching all of
// want (empty value: the key must be present).
func firstEvent(evs []logEvent, since time.Time, want map[string]string, exclude func(logEvent) bool) (logEvent, bool) {
	var best logEvent
	found := false
	for _, e := range evs {
		if e.at.Before(since) || (exclude != nil && exclude(e)) {
			continue
		}
		ok := true
		for k, v := range want {
			got, has := e.fields[k]
			if !has || (v != "" && got != v) {
				ok = false
				break
			}
		}
		if ok && (!found || e.at.Before(best.at)) {
			best, found = e, true
		}
	}
	return best, found
}

// countEvents counts the events at or after since matching want.
func countEvents(evs []logEvent, since time.Time, want map[string]string, exclude func(logEvent) bool) int {
	n := 0
	for _, e := range evs {
		if e.at.Before(since) || (exclude != nil && exclude(e)) {
			continue
		}
		ok := true
		for k, v := range want {
			if got, has := e.fields[k]; !has || (v != "" && got != v) {
				ok = false
				break
			}
		}
		if ok {
			n++
		}
	}
	return n
}
