package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Partitions for two-node tests.
//
// A sandbox runs every node on 127.0.0.1, so a partition cannot be made by
// address, and by port alone it would also cut a node off from itself (the
// DC calls its own node RPC). Instead the test runs the whole sandbox in a
// private network namespace (nothing outside it is touched) and starts every
// crmd through a wrapper that puts it into its own cgroup v2 (one per node,
// created by the test). A partition is then a set of iptables rules in that
// namespace: packets sent by node A's sockets (cgroup match) to any of node
// B's ports (gossip UDP+TCP, raft, node RPC) are dropped, and the reverse.
// Healing flushes the namespace's OUTPUT chain. Needs root, ip, iptables
// (Debian package "iptables") and a writable cgroup v2 hierarchy; the tests
// skip otherwise.

// pairNet is the namespace, cgroups and crmd wrapper of one two-node test.
type pairNet struct {
	t       *testing.T
	ns      string
	cgroot  string // this test's cgroup directory
	cgrel   string // the same, relative to the cgroup v2 mount (for -m cgroup --path)
	wrapper string // crmd wrapper script
	real    string // the real crmd binary
}

// cgroup2Mount returns the mount point of the cgroup v2 hierarchy.
func cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[2] == "cgroup2" {
			return fields[1], nil
		}
	}
	return "", fmt.Errorf("no cgroup2 mount in /proc/mounts")
}

func runCmd(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// requirePairNet skips unless the partition machinery can work here, and
// sets it up (torn down by t.Cleanup, registered first so that it runs after
// the sandbox teardown).
func requirePairNet(t *testing.T, realCrmd string, nodes []string) *pairNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("two-node partition tests need root (network namespace, iptables, cgroups)")
	}
	for _, b := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("two-node partition tests need %s in PATH (apt-get install iproute2 iptables)", b)
		}
	}
	mnt, err := cgroup2Mount()
	if err != nil {
		t.Skipf("two-node partition tests need cgroup v2: %v", err)
	}
	p := &pairNet{t: t, ns: fmt.Sprintf("gocrm-2n-%d", os.Getpid()), real: realCrmd}
	p.cgrel = "/" + p.ns
	p.cgroot = filepath.Join(mnt, p.ns)
	if err := os.Mkdir(p.cgroot, 0o755); err != nil {
		t.Skipf("cannot create a cgroup under %s: %v", mnt, err)
	}
	t.Cleanup(p.teardown)
	for _, n := range nodes {
		if err := os.Mkdir(filepath.Join(p.cgroot, n), 0o755); err != nil {
			t.Fatalf("cgroup for %s: %v", n, err)
		}
	}
	if err := runCmd("ip", "netns", "add", p.ns); err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	if err := runCmd("ip", "netns", "exec", p.ns, "ip", "link", "set", "lo", "up"); err != nil {
		t.Fatal(err)
	}
	// Probe the iptables cgroup match once (kernel support).
	probe := []string{"netns", "exec", p.ns, "iptables", "-A", "OUTPUT", "-o", "lo", "-m", "cgroup", "--path", p.cgrel + "/" + nodes[0], "-p", "udp", "--dport", "9", "-j", "DROP"}
	if err := runCmd("ip", probe...); err != nil {
		t.Skipf("iptables cgroup match unavailable: %v", err)
	}
	p.heal()
	// The wrapper joins the node's cgroup, then execs crmd inside the
	// namespace (ip netns exec keeps the pid; argv[0] stays a path named
	// crmd, as the sandbox checks). It does the cgroup step first: ip netns
	// exec remounts /sys.
	ipBin, err := exec.LookPath("ip")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p.wrapper = filepath.Join(dir, "crmd")
	script := fmt.Sprintf(`#!/bin/sh
node=""
prev=""
for a in "$@"; do
	if [ "$prev" = "--name" ]; then node="$a"; fi
	prev="$a"
done
echo $$ > %q/"$node"/cgroup.procs || exit 111
exec %q netns exec %q %q "$@"
`, p.cgroot, ipBin, p.ns, realCrmd)
	if err := os.WriteFile(p.wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pairNet) teardown() {
	if p.ns != "" {
		_ = runCmd("ip", "netns", "del", p.ns)
	}
	// Processes still in the cgroups were already stopped by the sandbox
	// teardown; rmdir fails (and is reported) otherwise.
	entries, _ := os.ReadDir(p.cgroot)
	for _, e := range entries {
		if e.IsDir() {
			if err := os.Remove(filepath.Join(p.cgroot, e.Name())); err != nil {
				p.t.Errorf("remove cgroup: %v", err)
			}
		}
	}
	if err := os.Remove(p.cgroot); err != nil && !os.IsNotExist(err) {
		p.t.Errorf("remove cgroup: %v", err)
	}
}

// crm runs crm with CRMD set to the wrapper (for the sandbox commands
// that start crmd processes: they run in the namespace and their cgroup).
func (p *pairNet) crm(c *sandboxCluster, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.crmBin, args...)
	cmd.Env = append(os.Environ(), "CRMD="+p.wrapper, "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("crm %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// sandboxPorts reads the gossip port of every node from sandbox.json (raft
// and node RPC use the next two).
func sandboxPorts(dir string) (map[string]int, error) {
	b, err := os.ReadFile(filepath.Join(dir, "sandbox.json"))
	if err != nil {
		return nil, err
	}
	var st struct {
		Nodes []struct {
			Name string `json:"name"`
			Port int    `json:"port"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, n := range st.Nodes {
		out[n.Name] = n.Port
	}
	return out, nil
}

// partition drops all traffic between a and b (both directions, every
// port of the peer, TCP and UDP).
func (p *pairNet) partition(ports map[string]int, a, b string) {
	p.t.Helper()
	for _, dir := range [][2]string{{a, b}, {b, a}} {
		from, to := dir[0], dir[1]
		base := ports[to]
		dports := fmt.Sprintf("%d,%d,%d", base, base+1, base+2)
		for _, proto := range []string{"tcp", "udp"} {
			if err := runCmd("ip", "netns", "exec", p.ns, "iptables", "-A", "OUTPUT", "-o", "lo",
				"-m", "cgroup", "--path", p.cgrel+"/"+from, "-p", proto, "-m", "multiport", "--dports", dports, "-j", "DROP"); err != nil {
				p.t.Fatal(err)
			}
		}
	}
}

// heal removes every partition rule.
func (p *pairNet) heal() {
	p.t.Helper()
	if err := runCmd("ip", "netns", "exec", p.ns, "iptables", "-F", "OUTPUT"); err != nil {
		p.t.Fatal(err)
	}
}

// pidOf returns the pid in node's pid file when it is a live crmd of this
// sandbox (0 otherwise). The sandbox starts the wrapper, which execs crmd,
// so the recorded pid is crmd's.
func (p *pairNet) pidOf(c *sandboxCluster, node string) int {
	b, err := os.ReadFile(filepath.Join(c.dir, node, "crmd.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || !alive(pid) || !c.isOurs(pid, node) {
		return 0
	}
	return pid
}

// logSince returns the lines of node's log written at or after since
// that contain every one of subs.
func logSince(c *sandboxCluster, node string, since time.Time, subs ...string) []string {
	f, err := os.Open(c.logFile(node))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		ok := true
		for _, s := range subs {
			if !strings.Contains(line, s) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, parseLogfmt(line)["time"])
		if err == nil && !ts.Before(since) {
			out = append(out, line)
		}
	}
	return out
}
