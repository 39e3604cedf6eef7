package interop

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/internal/pcapfile"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
	"github.com/gocrm/gocrm/agents/vrrp/router"
	"github.com/gocrm/gocrm/internal/testbin"
)

var (
	n1   = netip.MustParseAddr("10.99.0.11")
	n2   = netip.MustParseAddr("10.99.0.12")
	n1LL = netip.MustParseAddr("fe80::99:ff:fe00:11")
	vip  = netip.MustParseAddr("10.99.0.50")
	vip2 = netip.MustParseAddr("10.99.0.51")
)

// lab is two namespaces joined by a veth pair: keepalived in A (va,
// 10.99.0.11, 02:99:00:00:00:11), capture and injection in B (vb,
// 10.99.0.12, 02:99:00:00:00:12).
type lab struct {
	t      *testing.T
	a, b   string
	dir    string
	cancel context.CancelFunc
	ctx    context.Context
}

func need(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("interop with keepalived skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("interop with keepalived needs root (network namespaces)")
	}
	for _, bin := range []string{"ip", "keepalived", "tcpdump", "python3"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("interop with keepalived needs %s: %v", bin, err)
		}
	}
}

func (l *lab) run(args ...string) string {
	l.t.Helper()
	out, err := exec.CommandContext(l.ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func newLab(t *testing.T) *lab {
	need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	id := fmt.Sprintf("%d%d", os.Getpid()%100000, time.Now().UnixNano()%1000)
	l := &lab{t: t, a: "vrrpitA" + id, b: "vrrpitB" + id, dir: t.TempDir(), ctx: ctx, cancel: cancel}
	t.Cleanup(cancel)
	for _, ns := range []string{l.a, l.b} {
		testbin.Netns(t, ns)
		testbin.NoDAD(t, ns)
	}
	testbin.Veth(t, testbin.VethEnd{NS: l.a, Name: "va", MAC: "02:99:00:00:00:11", Addr: "10.99.0.11/24"},
		testbin.VethEnd{NS: l.b, Name: "vb", MAC: "02:99:00:00:00:12", Addr: "10.99.0.12/24"})
	return l
}

// syncBuf is an output buffer safe for a process writer and a test reader.
type syncBuf = testbin.SyncBuffer

// start runs a command in namespace ns; it is stopped with SIGTERM when
// the test ends (or by stop).
func (l *lab) start(ns string, args ...string) (*exec.Cmd, *syncBuf) {
	l.t.Helper()
	out := &syncBuf{}
	cmd := exec.CommandContext(l.ctx, "ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("start %v: %v", args, err)
	}
	var once sync.Once
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		})
	}
	l.t.Cleanup(stop)
	return cmd, out
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	testbin.WaitFor(t, d, 20*time.Millisecond, what, cond)
}

func (l *lab) keepalived(instance string) *syncBuf {
	l.t.Helper()
	conf := filepath.Join(l.dir, "keepalived.conf")
	text := "global_defs {\n router_id interop\n}\nvrrp_instance VI_1 {\n interface va\n virtual_router_id 51\n" + instance + "}\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		l.t.Fatal(err)
	}
	_, out := l.start(l.a, "keepalived", "-n", "-l", "-D", "-G", "-P", "-f", conf,
		"-p", filepath.Join(l.dir, "k.pid"), "-r", filepath.Join(l.dir, "v.pid"), "-c", filepath.Join(l.dir, "c.pid"))
	return out
}

// capture runs tcpdump on vb until n VRRP/AH packets arrived, with start
// launched once tcpdump listens.
func (l *lab) capture(n int, start func()) []pcapfile.Record {
	l.t.Helper()
	file := filepath.Join(l.dir, "cap.pcap")
	cmd, out := l.start(l.b, "tcpdump", "-i", "vb", "-U", "-n", "-w", file, "-c", fmt.Sprint(n),
		"ip proto 112 or ip proto 51 or ip6 proto 112")
	waitFor(l.t, "tcpdump to listen", 10*time.Second, func() bool { return strings.Contains(out.String(), "listening on") })
	start()
	waitFor(l.t, fmt.Sprintf("%d packets", n), 15*time.Second, func() bool { return cmd.ProcessState != nil || countRecords(file) >= n })
	waitFor(l.t, "tcpdump to exit", 5*time.Second, func() bool { return cmd.ProcessState != nil })
	b, err := os.ReadFile(file)
	if err != nil {
		l.t.Fatal(err)
	}
	f, err := pcapfile.Parse(b)
	if err != nil {
		l.t.Fatal(err)
	}
	return f.Records
}

func countRecords(file string) int {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	f, err := pcapfile.Parse(b)
	if err != nil {
		return 0
	}
	return len(f.Records)
}

// ourSends returns the first n datagrams our router sends as owner.
func ourSends(t *testing.T, c router.Config, n int) []router.Datagram {
	r, err := router.New(c)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	sends := r.Step(fsm.Start{At: now}).Sends
	for len(sends) < n {
		sends = append(sends, r.Step(fsm.TimerExpired{At: r.Instance().Deadline()}).Sends...)
	}
	return sends[:n]
}

// TestKeepalivedSendsWhatWeSend: keepalived (owner, priority 255) and our
// router configured alike emit byte-identical adverts (IP ID and AH
// sequence included), and our Checker accepts keepalived's.
func TestKeepalivedSendsWhatWeSend(t *testing.T) {
	need(t)
	base := func(version uint8, iv time.Duration) router.Config {
		return router.Config{FSM: fsm.Config{Name: "VI_1", VRID: 51, Version: version, Priority: 255,
			AdvertInterval: iv, PrimaryAddr: n1}, VIPs: []netip.Addr{vip}}
	}
	// with returns c changed by edit.
	with := func(c router.Config, edit func(*router.Config)) router.Config {
		edit(&c)
		return c
	}
	cases := []struct {
		name    string
		conf    string
		cfg     router.Config
		n       int
		ipv6    bool
		checker packet.CheckConfig
	}{
		{name: "v2 none", conf: " priority 255\n advert_int 1\n virtual_ipaddress {\n  10.99.0.50/24\n }\n",
			cfg: base(2, time.Second), n: 3,
			checker: packet.CheckConfig{Version: 2, VRID: 51, Interval: 1, VIPs: []netip.Addr{vip}}},
		{name: "v2 PASS", conf: " priority 255\n advert_int 1\n authentication {\n  auth_type PASS\n  auth_pass 1111\n }\n virtual_ipaddress {\n  10.99.0.50/24\n }\n",
			cfg: with(base(2, time.Second), func(c *router.Config) { c.AuthType, c.AuthPass = packet.AuthPass, "1111" }), n: 2,
			checker: packet.CheckConfig{Version: 2, VRID: 51, Interval: 1, VIPs: []netip.Addr{vip}, AuthType: packet.AuthPass, AuthPass: "1111"}},
		{name: "v2 AH", conf: " priority 255\n advert_int 1\n authentication {\n  auth_type AH\n  auth_pass 1111\n }\n virtual_ipaddress {\n  10.99.0.50/24\n }\n",
			cfg: with(base(2, time.Second), func(c *router.Config) { c.AuthType, c.AuthPass = packet.AuthAH, "1111" }), n: 3,
			checker: packet.CheckConfig{Version: 2, VRID: 51, Interval: 1, VIPs: []netip.Addr{vip}, AuthType: packet.AuthAH, AuthPass: "1111"}},
		{name: "v3 0.05s two VIPs", conf: " version 3\n priority 255\n advert_int 0.05\n virtual_ipaddress {\n  10.99.0.50/24\n  10.99.0.51/24\n }\n",
			cfg: with(base(3, 50*time.Millisecond), func(c *router.Config) { c.VIPs = []netip.Addr{vip, vip2} }), n: 6,
			checker: packet.CheckConfig{Version: 3, VRID: 51, VIPs: []netip.Addr{vip, vip2}}},
		{name: "v3 unicast", conf: " version 3\n priority 255\n advert_int 0.1\n unicast_peer {\n  10.99.0.12\n }\n virtual_ipaddress {\n  10.99.0.50/24\n }\n",
			cfg: with(base(3, 100*time.Millisecond), func(c *router.Config) { c.UnicastPeers = []netip.Addr{n2} }), n: 3,
			checker: packet.CheckConfig{Version: 3, VRID: 51, VIPs: []netip.Addr{vip}, Unicast: true, CheckUnicastSource: true, Peers: []netip.Addr{n1}}},
		{name: "v3 IPv6", conf: " version 3\n priority 255\n advert_int 0.1\n virtual_ipaddress {\n  fe80::50/64\n  fd99::50/64\n }\n",
			cfg: router.Config{FSM: fsm.Config{Name: "VI_1", VRID: 51, Version: 3, Priority: 255, AdvertInterval: 100 * time.Millisecond,
				PrimaryAddr: n1LL}, IPv6: true, VIPs: []netip.Addr{netip.MustParseAddr("fe80::50"), netip.MustParseAddr("fd99::50")}},
			n: 3, ipv6: true,
			checker: packet.CheckConfig{Version: 3, IPv6: true, VRID: 51, VIPs: []netip.Addr{netip.MustParseAddr("fe80::50"), netip.MustParseAddr("fd99::50")}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLab(t)
			var klog *syncBuf
			recs := l.capture(c.n, func() { klog = l.keepalived(c.conf) })
			if len(recs) < c.n {
				t.Fatalf("captured %d packets, want %d; keepalived said:\n%s", len(recs), c.n, klog)
			}
			want := ourSends(t, c.cfg, c.n)
			ch, err := packet.NewChecker(c.checker)
			if err != nil {
				t.Fatal(err)
			}
			for i, rec := range recs[:c.n] {
				ip := rec.Data[14:]
				if _, err := ch.Receive(ip); err != nil {
					t.Errorf("packet %d rejected by our checker: %v\n%x", i+1, err, ip)
				}
				got, ours := ip, want[i].IP
				if c.ipv6 { // the kernel's flow label is not reproducible
					got = append([]byte(nil), ip...)
					got[1] &^= 0x0f
					got[2], got[3] = 0, 0
				}
				if !bytes.Equal(got, ours) {
					t.Errorf("packet %d differs\n keepalived %x\n ours       %x", i+1, got, ours)
				}
			}
		})
	}
}

// startPeer makes our side of the adverts tests (VRID 51 version 2,
// priority 200 on n2, auth with password 1111) and starts it at time 0,
// which it returns.
func startPeer(t *testing.T, auth packet.AuthType) (*router.Router, time.Time) {
	t.Helper()
	r, err := router.New(router.Config{FSM: fsm.Config{Name: "VI_1", VRID: 51, Version: 2, Priority: 200,
		AdvertInterval: time.Second, PrimaryAddr: n2}, VIPs: []netip.Addr{vip},
		AuthType: auth, AuthPass: "1111"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	r.Step(fsm.Start{At: now})
	return r, now
}

// TestKeepalivedAcceptsOurAdverts: a keepalived backup (priority 100,
// PASS) stays BACKUP while it hears our priority-200 adverts (it would take
// over after 3.6 s otherwise), and takes over within about its skew time
// (0.61 s) when we send priority 0.
func TestKeepalivedAcceptsOurAdverts(t *testing.T) {
	l := newLab(t)
	r, _ := startPeer(t, packet.AuthPass)
	var sends []router.Datagram
	sends = append(sends, r.Step(fsm.TimerExpired{At: r.Instance().Deadline()}).Sends...)
	for len(sends) < 7 {
		sends = append(sends, r.Step(fsm.TimerExpired{At: r.Instance().Deadline()}).Sends...)
	}
	stop := r.Step(fsm.Shutdown{At: r.Instance().Deadline()}).Sends
	if len(stop) != 1 {
		t.Fatalf("shutdown sent %d adverts", len(stop))
	}

	inject := func(d router.Datagram) {
		frame := packet.EthernetFrame(packet.MAC{0x01, 0x00, 0x5e, 0, 0, 0x12}, packet.MAC{0x02, 0x99, 0, 0, 0, 0x12}, packet.EtherTypeIPv4, d.IP)
		l.run("ip", "netns", "exec", l.b, "python3", "-c",
			"import socket,sys,binascii\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\ns.bind(('vb',0))\ns.send(binascii.unhexlify(sys.argv[1]))",
			hex.EncodeToString(frame))
	}
	klog := l.keepalived(" state BACKUP\n priority 100\n advert_int 1\n authentication {\n  auth_type PASS\n  auth_pass 1111\n }\n virtual_ipaddress {\n  10.99.0.50/24\n }\n")
	waitFor(t, "keepalived BACKUP", 10*time.Second, func() bool { return strings.Contains(klog.String(), "Entering BACKUP STATE") })
	for _, d := range sends {
		inject(d)
		time.Sleep(time.Second)
	}
	if s := klog.String(); strings.Contains(s, "Entering MASTER STATE") || strings.Contains(s, "invalid") {
		t.Fatalf("keepalived did not accept our adverts:\n%s", s)
	}
	start := time.Now()
	inject(stop[0])
	waitFor(t, "keepalived MASTER after our priority-0 advert", 3*time.Second, func() bool {
		return strings.Contains(klog.String(), "Entering MASTER STATE")
	})
	took := time.Since(start)
	t.Logf("keepalived took over %v after our priority-0 advert (skew 0.609 s)", took.Round(time.Millisecond))
	if took > 1500*time.Millisecond {
		t.Fatalf("takeover after %v: the priority-0 advert was not honoured", took)
	}
}

// TestKeepalivedAHTakeover: keepalived (AH, priority 100) is master; our
// priority-200 router hears one of its adverts, preempts, and keepalived
// accepts our AH adverts and yields. keepalived shares one sequence counter
// between sending and its replay check, so this only works because our
// numbering continues above the sequence numbers we heard.
func TestKeepalivedAHTakeover(t *testing.T) {
	l := newLab(t)
	klog := l.keepalived(" state BACKUP\n priority 100\n advert_int 1\n authentication {\n  auth_type AH\n  auth_pass 1111\n }\n virtual_ipaddress {\n  10.99.0.50/24\n }\n")
	waitFor(t, "keepalived MASTER", 10*time.Second, func() bool { return strings.Contains(klog.String(), "Entering MASTER STATE") })
	time.Sleep(1500 * time.Millisecond)
	recs := l.capture(1, func() {})
	if len(recs) != 1 {
		t.Fatalf("captured %d adverts", len(recs))
	}
	r, now := startPeer(t, packet.AuthAH)
	if o := r.Receive(now, recs[0].Data[14:]); o.Err != nil {
		t.Fatalf("keepalived's AH advert rejected: %v", o.Err)
	}
	seen, _ := packet.Decode(recs[0].Data[14:])
	o := r.Step(fsm.TimerExpired{At: r.Instance().Deadline()})
	if r.Instance().State() != fsm.Master || len(o.Sends) != 1 {
		t.Fatalf("our router did not preempt: %v", r.Instance().State())
	}
	ours, _ := packet.Decode(o.Sends[0].IP)
	if ours.AH.Seq != seen.AH.Seq+1 {
		t.Fatalf("our sequence %d after hearing %d", ours.AH.Seq, seen.AH.Seq)
	}
	frame := packet.EthernetFrame(packet.MAC{0x01, 0x00, 0x5e, 0, 0, 0x12}, packet.MAC{0x02, 0x99, 0, 0, 0, 0x12}, packet.EtherTypeIPv4, o.Sends[0].IP)
	l.run("ip", "netns", "exec", l.b, "python3", "-c",
		"import socket,sys,binascii\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\ns.bind(('vb',0))\ns.send(binascii.unhexlify(sys.argv[1]))",
		hex.EncodeToString(frame))
	waitFor(t, "keepalived to yield to our AH advert", 3*time.Second, func() bool {
		return strings.Contains(klog.String(), "Entering BACKUP STATE") &&
			strings.LastIndex(klog.String(), "Entering BACKUP STATE") > strings.LastIndex(klog.String(), "Entering MASTER STATE")
	})
	if s := klog.String(); strings.Contains(s, "already processed") || strings.Contains(s, "invalid") {
		t.Fatalf("keepalived complained:\n%s", s)
	}
}
