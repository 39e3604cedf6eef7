package vip

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vip/ocf"
)

var mac1 = net.HardwareAddr{2, 0x99, 0, 0, 0, 0x11}

func newTest(t *testing.T) (*Agent, *FakeAddrLinker, *FakeNeighbour, *ocf.FakeClock) {
	t.Helper()
	f := NewFakeAddrLinker(
		Link{Name: "lo", Index: 1, Up: true, Loopback: true},
		Link{Name: "eth0", Index: 2, Up: true, HardwareAddr: mac1},
	)
	if err := f.AddrReplace(Link{Index: 2}, Addr{Prefix: netip.MustParsePrefix("10.99.0.11/24"), ValidLft: Forever, PreferredLft: Forever}); err != nil {
		t.Fatal(err)
	}
	if err := f.AddrReplace(Link{Index: 2}, Addr{Prefix: netip.MustParsePrefix("fd99::11/64"), ValidLft: Forever, PreferredLft: Forever}); err != nil {
		t.Fatal(err)
	}
	n := NewFakeNeighbour()
	clk := ocf.NewFakeClock(time.Unix(1000, 0))
	return New(Deps{Addrs: f, Neigh: n, Clock: clk}), f, n, clk
}

func TestValidateErrors(t *testing.T) {
	a, _, _, _ := newTest(t)
	cases := []struct {
		params map[string]string
		param  string
		rc     int
	}{
		{map[string]string{}, "ip", ocf.RCErrArgs},
		{map[string]string{"ip": "10.0.0.300"}, "ip", ocf.RCErrArgs},
		{map[string]string{"ip": "224.0.0.1"}, "ip", ocf.RCErrArgs},
		{map[string]string{"ip": "10.99.0.50", "cidr_netmask": "33"}, "cidr_netmask", ocf.RCErrArgs},
		{map[string]string{"ip": "10.99.0.50", "cidr_netmask": "255.0.255.0"}, "cidr_netmask", ocf.RCErrArgs},
		{map[string]string{"ip": "10.99.0.50", "nic": "eth0/x"}, "nic", ocf.RCErrArgs},
		{map[string]string{"ip": "10.99.0.50", "nic": "nosuch0"}, "nic", ocf.RCErrConfigured},
		{map[string]string{"ip": "192.0.2.1"}, "nic", ocf.RCErrConfigured},
		{map[string]string{"ip": "10.99.0.50", "nic": "eth0", "label": "averyverylonglabel"}, "label", ocf.RCErrArgs},
		{map[string]string{"ip": "fd99::50", "label": "x"}, "label", ocf.RCErrArgs},
		{map[string]string{"ip": "10.99.0.50", "arp_count": "-1"}, "arp_count", ocf.RCErrArgs},
		{map[string]string{"ip": "10.99.0.50", "broadcast": "fd99::1"}, "broadcast", ocf.RCErrArgs},
		{map[string]string{"ip": "10.99.0.50", "valid_lft": "10", "preferred_lft": "20"}, "preferred_lft", ocf.RCErrArgs},
		{map[string]string{"ip": "10.99.0.50", "valid_lft": "0"}, "valid_lft", ocf.RCErrArgs},
		{map[string]string{"ip": "10.99.0.50", "arp_bg": "maybe"}, "arp_bg", ocf.RCErrArgs},
		{map[string]string{"ip": "10.99.0.50", "bogus": "1"}, "bogus", ocf.RCErrArgs},
		{map[string]string{"ip": "10.99.0.50", "mac": "01:00:5e:00:00:01"}, "mac", ocf.RCErrArgs},
	}
	for _, tc := range cases {
		err := a.Validate(tc.params)
		if err == nil {
			t.Errorf("%v: no error", tc.params)
			continue
		}
		var pe *ocf.ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param {
			t.Errorf("%v: error %q does not name %q", tc.params, err, tc.param)
		}
		if rc := ocf.ExitCode(err); rc != tc.rc {
			t.Errorf("%v: rc %d, want %d (%v)", tc.params, rc, tc.rc, err)
		}
	}
	// Nothing was touched.
	if a.Config() != nil {
		t.Fatal("failed Validate recorded a config")
	}
	if _, err := a.Monitor(context.Background()); !errors.Is(err, ocf.ErrNotConfigured) {
		t.Fatalf("monitor before validate: %v", err)
	}
}

func TestValidateDerivesNicAndPrefix(t *testing.T) {
	a, _, _, _ := newTest(t)
	if err := a.Validate(map[string]string{"ip": "10.99.0.50", "label": "vip1", "CRM_meta_timeout": "20000"}); err != nil {
		t.Fatal(err)
	}
	c := a.Config()
	if c.Nic != "eth0" || c.PrefixLen != 24 || c.Label() != "eth0:vip1" {
		t.Fatalf("got nic %q prefix %d label %q", c.Nic, c.PrefixLen, c.Label())
	}
	if got := c.Addr().Broadcast; got != netip.MustParseAddr("10.99.0.255") {
		t.Fatalf("broadcast %v", got)
	}
	if err := a.Validate(map[string]string{"ip": "fd99::50"}); err != nil {
		t.Fatal(err)
	}
	if c := a.Config(); c.Nic != "eth0" || c.PrefixLen != 64 {
		t.Fatalf("v6: nic %q prefix %d", c.Nic, c.PrefixLen)
	}
	if err := a.Validate(map[string]string{"ip": "10.99.0.50", "nic": "eth0", "cidr_netmask": "255.255.255.0", "broadcast": "none"}); err != nil {
		t.Fatal(err)
	}
	if c := a.Config(); c.PrefixLen != 24 || c.Addr().Broadcast.IsValid() {
		t.Fatalf("dotted mask/none broadcast: %+v", c.Addr())
	}
}

func TestStartStopMonitorIdempotent(t *testing.T) {
	ctx := context.Background()
	a, f, n, _ := newTest(t)
	if err := a.Validate(map[string]string{"ip": "10.99.0.50", "cidr_netmask": "24", "nic": "eth0", "label": "vip", "arp_bg": "false", "arp_interval": "0"}); err != nil {
		t.Fatal(err)
	}
	if rc, err := a.Monitor(ctx); rc != ocf.RCNotRunning || err != nil {
		t.Fatalf("monitor before start: %d %v", rc, err)
	}
	for i := 0; i < 2; i++ {
		if err := a.Start(ctx); err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
	}
	var vips []Addr
	for _, x := range f.Snapshot("eth0") {
		if x.Prefix.Addr() == netip.MustParseAddr("10.99.0.50") {
			vips = append(vips, x)
		}
	}
	if len(vips) != 1 || vips[0].Label != "eth0:vip" || vips[0].Prefix.Bits() != 24 {
		t.Fatalf("after two starts: %+v", vips)
	}
	if got := len(n.Announced()); got != 10 {
		t.Fatalf("announcements: %d, want 2x5", got)
	}
	if rc, err := a.Monitor(ctx); rc != ocf.RCSuccess || err != nil {
		t.Fatalf("monitor: %d %v", rc, err)
	}
	if n.Probes() != 1 {
		t.Fatalf("probes: %d", n.Probes())
	}
	n.SetConflict(netip.MustParseAddr("10.99.0.50"), net.HardwareAddr{2, 0, 0, 0, 0, 9})
	rc, err := a.Monitor(ctx)
	if rc != ocf.RCErrGeneric || !errors.Is(err, ocf.ErrDuplicate) || !strings.Contains(err.Error(), "02:00:00:00:00:09") {
		t.Fatalf("duplicate: %d %v", rc, err)
	}
	n.SetConflict(netip.MustParseAddr("10.99.0.50"), nil)
	for i := 0; i < 2; i++ {
		if err := a.Stop(ctx); err != nil {
			t.Fatalf("stop %d: %v", i, err)
		}
	}
	if rc, _ := a.Monitor(ctx); rc != ocf.RCNotRunning {
		t.Fatalf("monitor after stop: %d", rc)
	}
	if len(f.Snapshot("eth0")) != 2 {
		t.Fatalf("stop removed foreign addresses: %+v", f.Snapshot("eth0"))
	}
}

func TestIPaddr2CompatParams(t *testing.T) {
	a, f, _, _ := newTest(t)
	if err := a.Validate(map[string]string{"ip": "10.99.0.50", "lvs_support": "true", "flush_routes": "true", "noprefixroute": "true", "arp_count": "0"}); err != nil {
		t.Fatal(err)
	}
	if got := a.Config().Ignored; len(got) != 2 {
		t.Fatalf("ignored %v", got)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, x := range f.Snapshot("eth0") {
		if x.Prefix.Addr() == netip.MustParseAddr("10.99.0.50") && x.Flags&FlagNoPrefixRoute == 0 {
			t.Fatalf("noprefixroute not applied: %+v", x)
		}
	}
}

func TestStartReplacesStalePrefix(t *testing.T) {
	ctx := context.Background()
	a, f, _, _ := newTest(t)
	_ = f.AddrReplace(Link{Index: 2}, Addr{Prefix: netip.MustParsePrefix("10.99.0.50/32"), ValidLft: Forever, PreferredLft: Forever})
	if err := a.Validate(map[string]string{"ip": "10.99.0.50", "cidr_netmask": "24", "nic": "eth0", "arp_count": "0"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range f.Snapshot("eth0") {
		if x.Prefix.Addr() == netip.MustParseAddr("10.99.0.50") {
			n++
			if x.Prefix.Bits() != 24 {
				t.Fatalf("stale copy kept: %v", x.Prefix)
			}
		}
	}
	if n != 1 {
		t.Fatalf("copies: %d", n)
	}
}

func TestBackgroundBurstUsesClock(t *testing.T) {
	ctx := context.Background()
	a, _, n, clk := newTest(t)
	n.Sent = make(chan Announcement, 100)
	if err := a.Validate(map[string]string{"ip": "10.99.0.50", "nic": "eth0", "arp_count": "3", "arp_interval": "500", "arp_repeat_delay": "5"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-n.Sent // first one is synchronous
	if len(n.Sent) != 0 {
		t.Fatal("background sent without clock advance")
	}
	for i := 0; i < 2; i++ {
		clk.BlockUntil(1)
		clk.Advance(500 * time.Millisecond)
		<-n.Sent
	}
	clk.BlockUntil(1)
	clk.Advance(5 * time.Second) // repeat burst: first one immediately
	<-n.Sent
	clk.BlockUntil(1)
	// Stop cancels the pending background burst.
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(n.Announced()); got != 4 {
		t.Fatalf("announcements %d, want 4", got)
	}
}

func TestIPv6DAD(t *testing.T) {
	ctx := context.Background()
	a, f, n, _ := newTest(t)
	if err := a.Validate(map[string]string{"ip": "fd99::50", "nic": "eth0", "arp_bg": "false", "arp_count": "2", "arp_interval": "0"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := n.Announced(); len(got) != 2 || got[0].IP != netip.MustParseAddr("fd99::50") {
		t.Fatalf("NA: %+v", got)
	}
	if n.Probes() != 0 {
		t.Fatal("IPv6 must not ARP-probe")
	}
	f.SetFlags("eth0", netip.MustParseAddr("fd99::50"), FlagDADFailed)
	if rc, err := a.Monitor(ctx); rc != ocf.RCErrGeneric || !errors.Is(err, ocf.ErrDuplicate) {
		t.Fatalf("dadfailed monitor: %d %v", rc, err)
	}
	f.ReplaceFlags = FlagDADFailed
	if err := a.Start(ctx); !errors.Is(err, ocf.ErrDuplicate) {
		t.Fatalf("start with DAD failure: %v", err)
	}
}

func TestIPv6DADWaitsForTentative(t *testing.T) {
	ctx := context.Background()
	a, f, _, clk := newTest(t)
	f.ReplaceFlags = FlagTentative
	if err := a.Validate(map[string]string{"ip": "fd99::50", "nic": "eth0", "arp_count": "0", "dad_timeout": "1000"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- a.Start(ctx) }()
	for i := 0; i < 5; i++ {
		clk.BlockUntil(1)
		select {
		case err := <-done:
			t.Fatalf("start returned while tentative: %v", err)
		default:
		}
		if i == 2 {
			f.SetFlags("eth0", netip.MustParseAddr("fd99::50"), 0) // DAD completes
		}
		clk.Advance(100 * time.Millisecond)
		if i == 2 {
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRefreshLifetime(t *testing.T) {
	ctx := context.Background()
	a, f, _, _ := newTest(t)
	if err := a.Validate(map[string]string{"ip": "10.99.0.50", "nic": "eth0", "valid_lft": "30", "arp_count": "0"}); err != nil {
		t.Fatal(err)
	}
	if got := a.RefreshInterval(); got != 10*time.Second {
		t.Fatalf("interval %v", got)
	}
	if err := a.RefreshLifetime(ctx); !errors.Is(err, ocf.ErrNotRunning) {
		t.Fatalf("refresh of absent address: %v", err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	before := f.Calls["replace"]
	if err := a.RefreshLifetime(ctx); err != nil {
		t.Fatal(err)
	}
	if f.Calls["replace"] != before+1 {
		t.Fatal("refresh did not re-apply the address")
	}
	for _, x := range f.Snapshot("eth0") {
		if x.Prefix.Addr() == netip.MustParseAddr("10.99.0.50") && (x.ValidLft != 30 || x.PreferredLft != 30) {
			t.Fatalf("lifetimes %d/%d", x.ValidLft, x.PreferredLft)
		}
	}
}

func TestStopErrorsPropagate(t *testing.T) {
	ctx := context.Background()
	a, f, _, _ := newTest(t)
	if err := a.Validate(map[string]string{"ip": "10.99.0.50", "nic": "eth0", "arp_count": "0"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	f.Err = errors.New("netlink: operation not permitted")
	if err := a.Stop(ctx); err == nil || ocf.ExitCode(err) != ocf.RCErrGeneric {
		t.Fatalf("stop with failing kernel: %v", err)
	}
}

func TestMetaData(t *testing.T) {
	a, _, _, _ := newTest(t)
	md := a.MetaData()
	for _, want := range []string{`<resource-agent name="IPaddr2"`, `<parameter name="ip" unique="1" required="1">`, `name="cidr_netmask"`, `name="preferred_lft"`, `<action name="monitor"`} {
		if !strings.Contains(md, want) {
			t.Errorf("meta-data lacks %s", want)
		}
	}
}

func TestUnsolicitedNAChecksum(t *testing.T) {
	f, err := UnsolicitedNA(mac1, netip.MustParseAddr("fd99::50"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 14+40+32 {
		t.Fatalf("len %d", len(f))
	}
	ip6 := f[14:54]
	icmp := f[54:]
	var src, dst [16]byte
	copy(src[:], ip6[8:24])
	copy(dst[:], ip6[24:40])
	// A correct checksum makes the sum over the whole message verify to 0.
	if c := icmpv6Checksum(src, dst, icmp); c != 0 {
		t.Fatalf("checksum does not verify: %#x", c)
	}
	if icmp[0] != 136 || icmp[4] != 0x20 || ip6[7] != 255 {
		t.Fatalf("type/flags/hop limit: %d %#x %d", icmp[0], icmp[4], ip6[7])
	}
	if _, err := UnsolicitedNA(mac1, netip.MustParseAddr("10.0.0.1")); err == nil {
		t.Fatal("IPv4 accepted")
	}
}

func TestConflict(t *testing.T) {
	other := net.HardwareAddr{2, 0, 0, 0, 0, 7}
	ip := netip.MustParseAddr("10.99.0.50")
	frames, err := GratuitousARP(other, ip)
	if err != nil {
		t.Fatal(err)
	}
	if got := Conflict(frames[0], mac1, ip); got.String() != other.String() {
		t.Fatalf("conflict from other host not seen: %v", got)
	}
	if got := Conflict(frames[0], other, ip); got != nil {
		t.Fatal("own frame reported as conflict")
	}
	if got := Conflict(frames[0], mac1, netip.MustParseAddr("10.99.0.51")); got != nil {
		t.Fatal("other address reported as conflict")
	}
}
