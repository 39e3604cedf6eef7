package lrm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// innerEnv marks the re-executed test binary running inside the namespace.
const innerEnv = "GOCRM_LRM_REAL_AGENTS_INNER"

const debianOCFRoot = "/usr/lib/ocf"

// TestRealDebianAgents runs unmodified Debian resource-agents (IPaddr2,
// Filesystem on tmpfs, Dummy) through the LRM's OCF executor: start →
// monitor (running) → stop → monitor (not running). It needs root and the
// resource-agents package; the agents run inside a throwaway network
// namespace (own veth interface 10.99.7.1/24, own mount namespace from
// `ip netns exec`), so nothing on the host is touched.
func TestRealDebianAgents(t *testing.T) {
	if os.Getenv(innerEnv) != "" {
		t.Skip("outer test only")
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (network namespace, IPaddr2, mount)")
	}
	if _, err := os.Stat(filepath.Join(debianOCFRoot, "resource.d/heartbeat/IPaddr2")); err != nil {
		t.Skipf("skipping: resource-agents not installed (%v); apt-get install resource-agents", err)
	}
	ipBin, err := exec.LookPath("ip")
	if err != nil {
		t.Skipf("skipping: iproute2 not installed: %v", err)
	}
	ns := fmt.Sprintf("gocrm-lrm-%d", os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command(ipBin, "netns", "delete", ns).Run() })
	run("-n", ns, "link", "set", "lo", "up")
	// A veth pair inside the namespace (the dummy module may be absent).
	run("-n", ns, "link", "add", "d0", "type", "veth", "peer", "name", "d1")
	run("-n", ns, "link", "set", "d1", "up")
	run("-n", ns, "link", "set", "d0", "up")
	run("-n", ns, "addr", "add", "10.99.7.1/24", "dev", "d0")

	cmd := exec.Command(ipBin, "netns", "exec", ns, os.Args[0], "-test.run", "^TestRealDebianAgentsInside$", "-test.v")
	cmd.Env = append(os.Environ(), innerEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("inside %s:\n%s", ns, out)
	if err != nil {
		t.Fatalf("agents inside the namespace: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: TestRealDebianAgentsInside") {
		t.Fatal("the inner test did not run")
	}
}

// TestRealDebianAgentsInside is the half of TestRealDebianAgents that runs
// in the namespace.
func TestRealDebianAgentsInside(t *testing.T) {
	if os.Getenv(innerEnv) == "" {
		t.Skip("runs inside TestRealDebianAgents' namespace only")
	}
	e := &OCFExecutor{Root: debianOCFRoot, RscTmp: t.TempDir()}
	mnt := t.TempDir()
	cases := []struct {
		typ    string
		params map[string]string
		check  func() error
	}{
		{"IPaddr2", map[string]string{"ip": "10.99.7.50", "cidr_netmask": "24", "nic": "d0"}, func() error {
			out, err := exec.Command("ip", "-4", "addr", "show", "dev", "d0").CombinedOutput()
			if err != nil {
				return err
			}
			if !strings.Contains(string(out), "10.99.7.50/24") {
				return fmt.Errorf("10.99.7.50 not on d0:\n%s", out)
			}
			return nil
		}},
		{"Filesystem", map[string]string{"device": "tmpfs", "fstype": "tmpfs", "directory": mnt}, func() error {
			data, err := os.ReadFile("/proc/self/mounts")
			if err != nil {
				return err
			}
			if !strings.Contains(string(data), " "+mnt+" tmpfs ") {
				return fmt.Errorf("%s is not a tmpfs mount", mnt)
			}
			return nil
		}},
		{"Dummy", map[string]string{"state": filepath.Join(t.TempDir(), "dummy.state")}, nil},
	}
	for _, c := range cases {
		rsc := Resource{ID: "real-" + strings.ToLower(c.typ), Agent: agent.Key{Class: "ocf", Provider: "heartbeat", Type: c.typ}}
		step := func(op string, want agent.RC) {
			t.Helper()
			start := time.Now()
			r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: op, Params: c.params, Timeout: 30 * time.Second})
			t.Logf("%s %s: rc=%d status=%v in %v", c.typ, op, r.RC, r.Status, time.Since(start).Round(time.Millisecond))
			if r.RC != want {
				t.Fatalf("%s %s: rc %d, want %d (reason %q, stderr %q)", c.typ, op, r.RC, want, r.Reason, r.Stderr)
			}
		}
		step(OpMonitor, agent.NotRunning) // probe: not running yet
		step(OpStart, agent.OK)
		step(OpMonitor, agent.OK)
		if c.check != nil {
			if err := c.check(); err != nil {
				t.Errorf("%s after start: %v", c.typ, err)
			}
		}
		step(OpStop, agent.OK)
		step(OpMonitor, agent.NotRunning)
	}
}
