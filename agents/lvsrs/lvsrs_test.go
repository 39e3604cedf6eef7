package lvsrs

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vip/netnslab"
	"github.com/gocrm/gocrm/agents/vip/ocf"
)

func sysctls() map[string]string {
	m := map[string]string{}
	for _, d := range []string{"all", "lo", "eth0"} {
		m[key(d, "arp_ignore")] = "0"
		m[key(d, "arp_announce")] = "0"
	}
	return m
}

func newFake(t *testing.T) (*Agent, *vip.FakeAddrLinker, *FakeSysctl) {
	t.Helper()
	f := vip.NewFakeAddrLinker(vip.Link{Name: "lo", Index: 1, Up: true, Loopback: true}, vip.Link{Name: "eth0", Index: 2, Up: true})
	_ = f.AddrReplace(vip.Link{Index: 1}, vip.Addr{Prefix: netip.MustParsePrefix("127.0.0.1/8")})
	s := NewFakeSysctl(sysctls())
	return New(Deps{Addrs: f, Sysctl: s, Memory: NewMemory()}), f, s
}

func TestValidate(t *testing.T) {
	a, _, _ := newFake(t)
	for _, tc := range []struct {
		p     map[string]string
		param string
		rc    int
	}{
		{map[string]string{}, "ip", ocf.RCErrArgs},
		{map[string]string{"ip": "300.1.1.1"}, "ip", ocf.RCErrArgs},
		{map[string]string{"ip": "127.0.0.5"}, "ip", ocf.RCErrArgs},
		{map[string]string{"ip": "10.0.0.1", "arp_ignore": "9"}, "arp_ignore", ocf.RCErrArgs},
		{map[string]string{"ip": "10.0.0.1", "arp_announce": "x"}, "arp_announce", ocf.RCErrArgs},
		{map[string]string{"ip": "10.0.0.1", "nic": "dummy9"}, "nic", ocf.RCErrConfigured},
		{map[string]string{"ip": "10.0.0.1", "arp_interfaces": "lo eth7"}, "arp_interfaces", ocf.RCErrConfigured},
		{map[string]string{"ip": "fd00::1", "label": "x"}, "label", ocf.RCErrArgs},
	} {
		err := a.Validate(tc.p)
		var pe *ocf.ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param || ocf.ExitCode(err) != tc.rc {
			t.Errorf("%v: %v (rc %d), want param %q rc %d", tc.p, err, ocf.ExitCode(err), tc.param, tc.rc)
		}
	}
}

func TestStartStopRestores(t *testing.T) {
	ctx := context.Background()
	a, f, s := newFake(t)
	_ = s.Set(key("eth0", "arp_announce"), "1") // pre-existing admin setting
	if err := a.Validate(map[string]string{"ip": "10.0.0.50", "label": "vip", "arp_interfaces": "lo eth0"}); err != nil {
		t.Fatal(err)
	}
	if rc, _ := a.Monitor(ctx); rc != ocf.RCNotRunning {
		t.Fatalf("monitor before start: %d", rc)
	}
	for i := 0; i < 2; i++ {
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"all", "lo", "eth0"} {
		if v, _ := s.Get(key(d, "arp_ignore")); v != "1" {
			t.Fatalf("%s arp_ignore %s", d, v)
		}
		if v, _ := s.Get(key(d, "arp_announce")); v != "2" {
			t.Fatalf("%s arp_announce %s", d, v)
		}
	}
	var vips []vip.Addr
	for _, x := range f.Snapshot("lo") {
		if x.Prefix.Addr() == netip.MustParseAddr("10.0.0.50") {
			vips = append(vips, x)
		}
	}
	if len(vips) != 1 || vips[0].Prefix.Bits() != 32 || vips[0].Label != "lo:vip" {
		t.Fatalf("VIP on lo: %+v", vips)
	}
	if rc, err := a.Monitor(ctx); rc != ocf.RCSuccess {
		t.Fatalf("monitor: %d %v", rc, err)
	}
	// An admin resets arp_ignore: the VIP would now be answered by ARP.
	_ = s.Set(key("all", "arp_ignore"), "0")
	_ = s.Set(key("lo", "arp_ignore"), "0")
	if rc, err := a.Monitor(ctx); rc != ocf.RCErrGeneric || !strings.Contains(err.Error(), "arp_ignore") {
		t.Fatalf("monitor with arp_ignore 0: %d %v", rc, err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := a.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := s.Get(key("eth0", "arp_announce")); v != "1" {
		t.Fatalf("eth0 arp_announce restored to %s, want 1", v)
	}
	if v, _ := s.Get(key("all", "arp_ignore")); v != "0" {
		t.Fatalf("all arp_ignore %s", v)
	}
	if rc, _ := a.Monitor(ctx); rc != ocf.RCNotRunning {
		t.Fatalf("monitor after stop: %d", rc)
	}
}

func TestSharedSysctlsKeptForOtherVIPs(t *testing.T) {
	ctx := context.Background()
	_, f, s := newFake(t)
	mem := NewMemory()
	a1 := New(Deps{Addrs: f, Sysctl: s, Memory: mem})
	a2 := New(Deps{Addrs: f, Sysctl: s, Memory: mem})
	if err := a1.Validate(map[string]string{"ip": "10.0.0.50"}); err != nil {
		t.Fatal(err)
	}
	if err := a2.Validate(map[string]string{"ip": "10.0.0.51"}); err != nil {
		t.Fatal(err)
	}
	if err := a1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(key("lo", "arp_ignore")); v != "1" {
		t.Fatal("sysctls restored while another VIP is still on lo")
	}
	if rc, _ := a2.Monitor(ctx); rc != ocf.RCSuccess {
		t.Fatalf("second VIP monitor: %d", rc)
	}
	if err := a2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(key("lo", "arp_ignore")); v != "0" {
		t.Fatalf("last VIP stopped but arp_ignore %s", v)
	}
}

func TestIPv6NoSysctls(t *testing.T) {
	ctx := context.Background()
	a, f, s := newFake(t)
	if err := a.Validate(map[string]string{"ip": "fd00::50"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(key("lo", "arp_ignore")); v != "0" {
		t.Fatal("IPv6 VIP changed ARP sysctls")
	}
	if got := f.Snapshot("lo"); len(got) != 2 || got[1].Prefix.Bits() != 128 {
		t.Fatalf("lo: %+v", got)
	}
	if rc, _ := a.Monitor(ctx); rc != ocf.RCSuccess {
		t.Fatalf("monitor %d", rc)
	}
	if !strings.Contains(a.MetaData(), `name="lvs-realserver"`) {
		t.Fatal("meta-data")
	}
}

// TestNetnsNoARPForVIP: in namespace A the VIP sits on lo; B probes for it
// over the veth. Without the agent's sysctls A answers (Linux answers ARP
// for any local address), with them it stays silent; stop restores.
func TestNetnsNoARPForVIP(t *testing.T) {
	lab := netnslab.New(t, "lvsrs", "10.99.30.1/24", "10.99.30.2/24")
	ctx := context.Background()
	nlA, err := vip.NewNetlinkAt(lab.A)
	if err != nil {
		t.Fatal(err)
	}
	defer nlA.Close()
	nlB, err := vip.NewNetlinkAt(lab.B)
	if err != nil {
		t.Fatal(err)
	}
	defer nlB.Close()
	vb, err := nlB.LinkByName("vb")
	if err != nil {
		t.Fatal(err)
	}
	probe := func() net.HardwareAddr {
		t.Helper()
		mac, err := vip.NewRawNeighbourAt(lab.B).Probe(ctx, vb, netip.MustParseAddr("10.99.30.50"), 300*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		return mac
	}
	sc := NewProcSysctlAt(lab.A)

	// Negative control: VIP on lo, default sysctls -> A answers ARP.
	lo, err := nlA.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	ctl := vip.Addr{Prefix: netip.MustParsePrefix("10.99.30.50/32"), ValidLft: vip.Forever, PreferredLft: vip.Forever}
	if err := nlA.AddrReplace(lo, ctl); err != nil {
		t.Fatal(err)
	}
	if mac := probe(); mac.String() != "02:99:00:00:00:0a" {
		t.Fatalf("control: expected A to answer ARP for a VIP on lo with arp_ignore=0, got %v", mac)
	}
	if err := nlA.AddrDel(lo, ctl); err != nil {
		t.Fatal(err)
	}

	a := New(Deps{Addrs: nlA, Sysctl: sc, Memory: NewMemory()})
	if err := a.Validate(map[string]string{"ip": "10.99.30.50", "arp_interfaces": "lo va"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if rc, err := a.Monitor(ctx); rc != ocf.RCSuccess {
		t.Fatalf("monitor: %d %v", rc, err)
	}
	for _, k := range []string{key("all", "arp_ignore"), key("va", "arp_ignore")} {
		if v, _ := sc.Get(k); v != "1" {
			t.Fatalf("%s = %s in netns", k, v)
		}
	}
	if mac := probe(); mac != nil {
		t.Fatalf("real server answered ARP for the VIP (from %v)", mac)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := sc.Get(key("all", "arp_ignore")); v != "0" {
		t.Fatalf("arp_ignore not restored: %s", v)
	}
	if rc, _ := a.Monitor(ctx); rc != ocf.RCNotRunning {
		t.Fatalf("monitor after stop: %d", rc)
	}
}
