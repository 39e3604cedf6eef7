// Package vrrp holds gocrm's VRRP system tests: our keepalived drop-in
// (agents/vrrp/dropin, built from test/vrrp/cmd/gocrm-keepalived) and real
// keepalived in throwaway network namespaces, plus failover.impl for
// ../shared/tools/keepalived-failover.sh (see bench/vrrp.sh). Everything
// needs root and skips otherwise.
package vrrp

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrm/gocrm/internal/testbin"
)

// bins holds the drop-in test binary, built once per test binary run.
var bins = &testbin.Set{Prefix: "vrrp", Pkgs: []string{"./test/vrrp/cmd/gocrm-keepalived"}}

func TestMain(m *testing.M) {
	os.Exit(bins.Run(m))
}

// daemon builds (once) the drop-in test binary.
func daemon(t *testing.T) string {
	t.Helper()
	return filepath.Join(bins.Dir(t), "gocrm-keepalived")
}

func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
}

// lab is two namespaces joined by a veth pair (eth0 in both), with
// 10.99.<net>.1 and .2.
type lab struct {
	ns   [2]string
	addr [2]string
	net  string
	v6   bool
}

var labSeq int

func newLab(t *testing.T, net int) *lab { return newLabFamily(t, net, false) }

// newLabFamily builds the lab; with v6 the nodes get fd99:NET::1 and ::2
// (DAD off so link-local sources are usable at once).
func newLabFamily(t *testing.T, net int, v6 bool) *lab {
	t.Helper()
	labSeq++
	l := &lab{net: fmt.Sprintf("10.99.%d", net), v6: v6}
	var ends [2]testbin.VethEnd
	for i := range 2 {
		l.ns[i] = fmt.Sprintf("gkv%d-%d%c", os.Getpid()%100000, labSeq, 'a'+i)
		l.addr[i] = fmt.Sprintf("%s.%d", l.net, i+1)
		testbin.Netns(t, l.ns[i])
		plen := "/24"
		if v6 {
			l.addr[i] = fmt.Sprintf("fd99:%d::%d", net, i+1)
			plen = "/64"
			testbin.NoDAD(t, l.ns[i])
		}
		ends[i] = testbin.VethEnd{NS: l.ns[i], Name: "eth0", Addr: l.addr[i] + plen}
	}
	testbin.Veth(t, ends[0], ends[1])
	return l
}

func (l *lab) vip() string {
	if l.v6 {
		return strings.TrimSuffix(l.addr[0], "1") + "50"
	}
	return l.net + ".50"
}

func (l *lab) vipPrefix() string {
	if l.v6 {
		return l.vip() + "/64"
	}
	return l.vip() + "/24"
}

func (l *lab) hasVIP(i int) bool {
	fam, word := "-4", "inet "
	if l.v6 {
		fam, word = "-6", "inet6 "
	}
	out, _ := exec.Command("ip", "-n", l.ns[i], fam, "addr", "show", "dev", "eth0").Output()
	return bytes.Contains(out, []byte(word+l.vip()+"/"))
}

// proc is a daemon we started (and the only kind of process we signal).
type proc struct {
	cmd  *exec.Cmd
	log  *testbin.SyncBuffer // stdout and stderr
	done chan struct{}
}

func start(t *testing.T, ns string, argv ...string) *proc {
	t.Helper()
	p := &proc{log: &testbin.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("log of %s:\n%s", strings.Join(argv, " "), p.log.String())
		}
	})
	return p
}

func (p *proc) signal(s syscall.Signal) {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(s)
	}
}

func (p *proc) stop(t *testing.T, s syscall.Signal, within time.Duration) {
	t.Helper()
	p.signal(s)
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("daemon did not exit within %v after %v", within, s)
	}
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) time.Duration {
	t.Helper()
	return testbin.WaitFor(t, d, 10*time.Millisecond, what, cond)
}

// instanceConf is one side's keepalived.conf.
type instanceConf struct {
	Version  int
	Advert   string
	Prio     int
	Auth     bool
	Unicast  bool
	Src, Dst string
	VIP      string
}

func (c instanceConf) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n    router_id r%d\n}\n", c.Prio)
	fmt.Fprintf(&b, "vrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 77\n")
	fmt.Fprintf(&b, "    priority %d\n    version %d\n    advert_int %s\n", c.Prio, c.Version, c.Advert)
	if c.Auth {
		b.WriteString("    authentication {\n        auth_type PASS\n        auth_pass s3cret\n    }\n")
	}
	if c.Unicast {
		fmt.Fprintf(&b, "    unicast_src_ip %s\n    unicast_peer {\n        %s\n    }\n", c.Src, c.Dst)
	}
	fmt.Fprintf(&b, "    virtual_ipaddress {\n        %s dev eth0\n    }\n}\n", c.VIP)
	return b.String()
}

func writeConf(t *testing.T, name string, c instanceConf) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(c.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
