// Package netnslab builds throwaway network namespaces joined by a veth
// pair for privileged tests of the network agents. Addresses live in
// 10.99.0.0/16 inside the namespaces only; nothing is attached to the
// caller's namespace, so no traffic can leave. Tests that cannot create
// namespaces (not root, no ip(8)) are skipped with the reason.
//
// A Lab is used by one test goroutine; its fields are read-only after New.
package netnslab

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// Lab is two namespaces A and B joined by veth "va" (in A) <-> "vb" (in B).
type Lab struct {
	NameA, NameB string
	A, B         netns.NsHandle
}

// Run executes ip(8) (or another command) inside namespace name.
func Run(name string, args ...string) (string, error) {
	full := append([]string{"netns", "exec", name}, args...)
	out, err := exec.Command("ip", full...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %w: %s", strings.Join(full, " "), err, out)
	}
	return string(out), nil
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// New creates the lab with addrA/addrB (e.g. "10.99.7.1/24") on va/vb and
// registers teardown with t.Cleanup. It skips the test when namespaces
// cannot be created.
func New(t *testing.T, tag, addrA, addrB string) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("netns test needs root (creates network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("netns test needs ip(8) from iproute2")
	}
	l := &Lab{
		NameA: fmt.Sprintf("gocrm-%s-a-%d", tag, os.Getpid()),
		NameB: fmt.Sprintf("gocrm-%s-b-%d", tag, os.Getpid()),
	}
	if err := ip("netns", "add", l.NameA); err != nil {
		t.Skipf("cannot create network namespaces: %v", err)
	}
	t.Cleanup(func() { _ = ip("netns", "del", l.NameA) })
	if err := ip("netns", "add", l.NameB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ip("netns", "del", l.NameB) })
	steps := [][]string{
		{"-n", l.NameA, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", l.NameB},
		{"-n", l.NameA, "link", "set", "lo", "up"},
		{"-n", l.NameB, "link", "set", "lo", "up"},
		{"-n", l.NameA, "link", "set", "va", "address", "02:99:00:00:00:0a"},
		{"-n", l.NameB, "link", "set", "vb", "address", "02:99:00:00:00:0b"},
		{"-n", l.NameA, "addr", "add", addrA, "dev", "va"},
		{"-n", l.NameB, "addr", "add", addrB, "dev", "vb"},
		{"-n", l.NameA, "link", "set", "va", "up"},
		{"-n", l.NameB, "link", "set", "vb", "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			t.Fatal(err)
		}
	}
	// No IPv6 DAD delays inside the lab.
	for _, n := range []string{l.NameA, l.NameB} {
		_, _ = Run(n, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	}
	var err error
	if l.A, err = netns.GetFromName(l.NameA); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.A.Close() })
	if l.B, err = netns.GetFromName(l.NameB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.B.Close() })
	return l
}
