package testbin

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runTimeout bounds one command of Run: ip(8) and sysctl answer at once,
// so a command still running after it is stuck.
const runTimeout = 60 * time.Second

// Run runs a command that must succeed and returns its combined output;
// otherwise it fails t with the command line and the output. Call it from
// the test's goroutine.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Netns creates the network namespace name with its loopback up, and
// deletes it when t's test ends (t.Cleanup; processes the test started in
// it must be stopped by cleanups registered later, which run first). It
// needs root and ip(8): callers skip with a clear message before.
// Namespace names are global: include the test process's pid.
func Netns(t testing.TB, name string) {
	t.Helper()
	Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	Run(t, "ip", "-n", name, "link", "set", "lo", "up")
}

// NoDAD turns IPv6 duplicate address detection off in namespace ns, for
// interfaces created afterwards, so that their addresses (link-local
// ones included) are usable at once.
func NoDAD(t testing.TB, ns string) {
	t.Helper()
	Run(t, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0")
}

// VethEnd is one end of a veth pair made by Veth.
type VethEnd struct {
	NS     string // the namespace holding this end
	Name   string // the interface name
	MAC    string // its hardware address ("": the kernel picks one)
	Addr   string // an address with prefix length ("": none)
	Master string // a bridge in NS to enslave this end to ("": none)
}

// Veth creates a veth pair between a and b (both in namespaces the test
// created: deleting them deletes the pair), gives each end its address
// or bridge, and brings both up.
func Veth(t testing.TB, a, b VethEnd) {
	t.Helper()
	args := []string{"-n", a.NS, "link", "add", a.Name}
	if a.MAC != "" {
		args = append(args, "address", a.MAC)
	}
	args = append(args, "type", "veth", "peer", "name", b.Name)
	if b.MAC != "" {
		args = append(args, "address", b.MAC)
	}
	Run(t, "ip", append(args, "netns", b.NS)...)
	for _, e := range []VethEnd{a, b} {
		if e.Addr != "" {
			Run(t, "ip", "-n", e.NS, "addr", "add", e.Addr, "dev", e.Name)
		}
		if e.Master != "" {
			Run(t, "ip", "-n", e.NS, "link", "set", e.Name, "master", e.Master, "up")
		} else {
			Run(t, "ip", "-n", e.NS, "link", "set", e.Name, "up")
		}
	}
}
