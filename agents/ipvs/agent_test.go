package ipvs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vip/ocf"
)

func fakeAgent(t *testing.T) (*Agent, *Fake) {
	t.Helper()
	f := NewFake()
	return New(Deps{Open: func() (IPVS, error) { return f, nil }}), f
}

func TestValidateErrors(t *testing.T) {
	cases := []struct {
		p     map[string]string
		param string
	}{
		{map[string]string{"port": "80"}, "vip"},
		{map[string]string{"vip": "10.0.0.300", "port": "80"}, "vip"},
		{map[string]string{"vip": "10.0.0.1"}, "port"},
		{map[string]string{"vip": "10.0.0.1", "port": "70000"}, "port"},
		{map[string]string{"vip": "10.0.0.1", "port": "0"}, "port"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "scheduler": "fastest"}, "scheduler"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "protocol": "icmp"}, "protocol"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "forward": "teleport"}, "forward"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "real_servers": "10.0.0.2:99999"}, "real_servers"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "real_servers": "10.0.0.2:80 weight=-1"}, "real_servers"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "real_servers": "10.0.0.2 10.0.0.3"}, "real_servers"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "real_servers": "fd00::2"}, "real_servers"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "real_servers": "10.0.0.2; 10.0.0.2"}, "real_servers"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "persistence_granularity": "24"}, "persistence_granularity"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "ops": "true"}, "ops"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "check": "ping"}, "check"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "check": "misc"}, "misc_path"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "check_status": "200-99"}, "check_status"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "check_digest": "xyz"}, "check_digest"},
		{map[string]string{"vip": "10.0.0.1", "fwmark": "1"}, "vip"},
		{map[string]string{"fwmark": "1", "family": "ipx"}, "family"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "sched_flags": "flag-9"}, "sched_flags"},
		{map[string]string{"vip": "10.0.0.1", "port": "80", "colour": "red"}, "colour"},
	}
	for _, tc := range cases {
		a, f := fakeAgent(t)
		err := a.Validate(tc.p)
		var pe *ocf.ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param || ocf.ExitCode(err) != ocf.RCErrArgs {
			t.Errorf("%v: got %v, want a parameter error naming %q", tc.p, err, tc.param)
		}
		if len(f.Ops) != 0 {
			t.Errorf("%v: validation touched the table: %v", tc.p, f.Ops)
		}
	}
}

func TestNotInstalled(t *testing.T) {
	a := New(Deps{Open: func() (IPVS, error) {
		return nil, fmt.Errorf("kernel has no IPVS: %w", ocf.ErrNotInstalled)
	}})
	if err := a.Validate(map[string]string{"vip": "10.0.0.1", "port": "80"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); ocf.ExitCode(err) != ocf.RCErrInstalled {
		t.Fatalf("start: %v", err)
	}
	if rc, err := a.Monitor(context.Background()); rc != ocf.RCErrInstalled || !strings.Contains(err.Error(), "no IPVS") {
		t.Fatalf("monitor: %d %v", rc, err)
	}
}

func TestReconcileLeavesForeignServices(t *testing.T) {
	ctx := context.Background()
	a, f := fakeAgent(t)
	foreign := Service{Key: Key{Family: 4, Protocol: ProtoTCP, Addr: netip.MustParseAddr("10.0.0.9"), Port: 443}, Scheduler: "rr", Netmask: 0xffffffff}
	if err := f.NewService(foreign); err != nil {
		t.Fatal(err)
	}
	_ = f.NewDestination(foreign.Key, Destination{Addr: netip.MustParseAddr("10.0.1.9"), Port: 443, Weight: 1})
	if err := a.Validate(map[string]string{
		"vip": "10.0.0.1", "port": "80", "scheduler": "wrr", "persistent": "300", "persistence_granularity": "255.255.255.0",
		"forward": "dr", "real_servers": "10.0.1.1:80 weight=3; 10.0.1.2:80 forward=nat; 10.0.1.3:8080 weight=0",
	}); err != nil {
		t.Fatal(err)
	}
	if rc, _ := a.Monitor(ctx); rc != ocf.RCNotRunning {
		t.Fatalf("monitor before start: %d", rc)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if rc, err := a.Monitor(ctx); rc != ocf.RCSuccess {
		t.Fatalf("monitor: %d %v", rc, err)
	}
	key := a.Config().Service.Key
	ds, _ := f.Destinations(key)
	if len(ds) != 3 {
		t.Fatalf("dests %+v", ds)
	}
	// Second start is a no-op.
	n := len(f.Ops)
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if len(f.Ops) != n {
		t.Fatalf("idempotent start changed the table: %v", f.Ops[n:])
	}
	// Reconfigure: scheduler, weights, one server gone, one new.
	if err := a.Validate(map[string]string{
		"vip": "10.0.0.1", "port": "80", "scheduler": "lc", "forward": "dr",
		"real_servers": "10.0.1.1:80 weight=5; 10.0.1.4:80",
	}); err != nil {
		t.Fatal(err)
	}
	if rc, _ := a.Monitor(ctx); rc != ocf.RCErrGeneric {
		t.Fatalf("drifted service not reported: %d", rc)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := List(&b, f, FormatDefault); err != nil {
		t.Fatal(err)
	}
	want := `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.1:80 lc
  -> 10.0.1.1:80                  Route   5      0          0         
  -> 10.0.1.4:80                  Route   1      0          0         
TCP  10.0.0.9:443 rr
  -> 10.0.1.9:443                 Masq    1      0          0         
`
	if b.String() != want {
		t.Fatalf("List:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	svcs, _ := f.Services()
	if len(svcs) != 1 || svcs[0].Key != foreign.Key {
		t.Fatalf("after stop: %+v", svcs)
	}
}

func TestListFormats(t *testing.T) {
	f := NewFake()
	v6 := Service{Key: Key{Family: 6, Protocol: ProtoUDP, Addr: netip.MustParseAddr("fd00::1"), Port: 53}, Scheduler: "sh",
		Flags: FlagPersistent | FlagSched1 | FlagSched2, Timeout: 60, Netmask: 64}
	fw := Service{Key: Key{Family: 4, FWMark: 7}, Scheduler: "mh", Flags: FlagSched2, Netmask: 0xffffffff}
	sctp := Service{Key: Key{Family: 4, Protocol: ProtoSCTP, Addr: netip.MustParseAddr("192.168.1.1"), Port: 3868}, Scheduler: "rr",
		Flags: FlagPersistent, Timeout: 300, Netmask: 0xffffff00}
	udp := Service{Key: Key{Family: 4, Protocol: ProtoUDP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 53}, Scheduler: "wlc", Flags: FlagOnePacket, Netmask: 0xffffffff}
	for _, s := range []Service{v6, fw, sctp, udp} {
		if err := f.NewService(s); err != nil {
			t.Fatal(err)
		}
	}
	_ = f.NewDestination(v6.Key, Destination{Addr: netip.MustParseAddr("fd00::20"), Port: 53, Weight: 2, Forward: ForwardTUN})
	_ = f.NewDestination(udp.Key, Destination{Addr: netip.MustParseAddr("10.0.0.3"), Port: 53, Weight: 1})
	_ = f.NewDestination(udp.Key, Destination{Addr: netip.MustParseAddr("10.0.0.2"), Port: 53, Weight: 1})
	dk := DestKey{netip.MustParseAddr("10.0.0.2"), 53}
	f.SetStats(udp.Key, nil, Stats{Conns: 12, InPkts: 123456789, OutPkts: 5, InBytes: 98765432100, OutBytes: 1, CPS: 3, InPPS: 4, OutPPS: 5, InBPS: 600, OutBPS: 700}, 0, 0)
	f.SetStats(udp.Key, &dk, Stats{Conns: 12, InPkts: 120, CPS: 1, InPPS: 2, OutPPS: 3, InBPS: 400, OutBPS: 123456789012}, 7, 8)

	var b bytes.Buffer
	if err := List(&b, f, FormatDefault); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	// ipvsadm sorts by fwmark, then family, protocol, address, port.
	wantOrder := []string{"UDP  10.0.0.1:53", "SCTP 192.168.1.1:3868", "UDP  [fd00::1]:53", "FWM  7"}
	last := -1
	for _, w := range wantOrder {
		i := strings.Index(got, w)
		if i < 0 || i < last {
			t.Fatalf("order: %q before previous entry in\n%s", w, got)
		}
		last = i
	}
	for _, line := range []string{
		"UDP  10.0.0.1:53 wlc ops\n",
		"  -> 10.0.0.2:53                  Masq    1      7          8         \n",
		"UDP  [fd00::1]:53 sh (sh-fallback,sh-port) persistent 60 mask 64\n",
		"  -> [fd00::20]:53                Tunnel  2      0          0         \n",
		"SCTP 192.168.1.1:3868 rr persistent 300 mask 255.255.255.0\n",
		"FWM  7 mh (mh-port)\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("default listing lacks %q:\n%s", line, got)
		}
	}

	b.Reset()
	if err := List(&b, f, FormatStats); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n",
		"UDP  10.0.0.1:53                        12  123456K        5   98765M        1\n",
		"  -> 10.0.0.2:53                        12      120        0        0        0\n",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("stats listing lacks %q:\n%s", line, b.String())
		}
	}
	b.Reset()
	if err := List(&b, f, FormatRate); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n",
		"UDP  10.0.0.1:53                         3        4        5      600      700\n",
		"  -> 10.0.0.2:53                         1        2        3      400     123G\n",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("rate listing lacks %q:\n%s", line, b.String())
		}
	}
}

func TestSortWrapsLikeIpvsadm(t *testing.T) {
	// ipvsadm compares addresses by unsigned subtraction into int: 10.x
	// (0x0a...) minus 192.168.x (0xc0a8...) wraps positive, so 192.168.x
	// lists first.
	ds := []Destination{{Addr: netip.MustParseAddr("10.0.0.1")}, {Addr: netip.MustParseAddr("192.168.0.1")}}
	SortDestinations(ds)
	if ds[0].Addr.String() != "192.168.0.1" {
		t.Fatalf("order %v", ds)
	}
	ds = []Destination{{Addr: netip.MustParseAddr("10.0.0.9"), Port: 2}, {Addr: netip.MustParseAddr("10.0.0.9"), Port: 1}, {Addr: netip.MustParseAddr("10.0.0.1")}}
	SortDestinations(ds)
	if ds[0].Addr.String() != "10.0.0.1" || ds[1].Port != 1 {
		t.Fatalf("order %v", ds)
	}
}

func TestLargeNum(t *testing.T) {
	for in, want := range map[uint64]string{
		0: "        0", 99999999: " 99999999", 100000000: "  100000K", 999999999: "  999999K",
		1000000000: "    1000M", 99999999999: "   99999M", 100000000000: "     100G", 100000000000000: "     100T",
	} {
		if got := largeNum(in); got != want {
			t.Errorf("largeNum(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestFwmarkAndMetaData(t *testing.T) {
	ctx := context.Background()
	a, f := fakeAgent(t)
	if err := a.Validate(map[string]string{"fwmark": "42", "family": "inet6", "scheduler": "sh", "sched_flags": "sh-port",
		"persistent": "30", "persistence_granularity": "64", "real_servers": "[fd00::5]:80 forward=tun"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	svcs, _ := f.Services()
	if len(svcs) != 1 || svcs[0].FWMark != 42 || svcs[0].Family != 6 || svcs[0].Netmask != 64 || svcs[0].Flags != FlagPersistent|FlagSched2 {
		t.Fatalf("service %+v", svcs)
	}
	md := a.MetaData()
	if !strings.Contains(md, `<resource-agent name="lvs"`) || !strings.Contains(md, `name="real_servers"`) {
		t.Fatal("meta-data incomplete")
	}
}

func TestMonitorResumesChecksAfterRestart(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	params := map[string]string{"vip": "10.0.0.1", "port": "80", "check": "misc", "misc_path": "/bin/false",
		"real_servers": "10.0.1.1:80", "delay_loop": "1"}
	a1 := New(Deps{Open: func() (IPVS, error) { return f, nil }})
	if err := a1.Validate(params); err != nil {
		t.Fatal(err)
	}
	if err := a1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	a1.Close() // the process "dies": kernel service stays, checks stop
	a2 := New(Deps{Open: func() (IPVS, error) { return f, nil }})
	if err := a2.Validate(params); err != nil {
		t.Fatal(err)
	}
	if a2.Checks() != nil {
		t.Fatal("checks before monitor")
	}
	if rc, err := a2.Monitor(ctx); rc != ocf.RCSuccess {
		t.Fatalf("monitor %d %v", rc, err)
	}
	if a2.Checks() == nil {
		t.Fatal("monitor did not resume health checks")
	}
	// /bin/false fails: the resumed checker takes the server out.
	k := a2.Config().Service.Key
	deadline := time.Now().Add(5 * time.Second)
	for {
		ds, _ := f.Destinations(k)
		if len(ds) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("failed server still installed: %+v", ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := a2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}
