package ipvsvm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/ipvs"
	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vip/ocf"
)

// requireIPVS skips without kernel IPVS, opens the table and empties it.
func requireIPVS(t *testing.T) *ipvs.Kernel {
	t.Helper()
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		t.Skipf("kernel has no IPVS (%v); run test/ipvsvm/run.sh", err)
	}
	k, err := ipvs.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	flush(t, k)
	return k
}

func flush(t *testing.T, k *ipvs.Kernel) {
	t.Helper()
	svcs, err := k.Services()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs {
		if err := k.DelService(s.Key); err != nil {
			t.Fatal(err)
		}
	}
}

func agentFor(k *ipvs.Kernel) *ipvs.Agent {
	return ipvs.New(ipvs.Deps{Open: func() (ipvs.IPVS, error) { return k, nil }})
}

func TestKernelInfo(t *testing.T) {
	k := requireIPVS(t)
	inf, err := k.Info()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("IPVS %s, connection table size %d", inf.VersionString(), inf.ConnSize)
	if inf.VersionString() != "1.2.1" || inf.ConnSize == 0 {
		t.Fatalf("info %+v", inf)
	}
}

type svcCase struct {
	name   string
	params map[string]string
}

var cases = []svcCase{
	{"nat-wlc", map[string]string{"vip": "10.99.50.1", "port": "80", "forward": "nat",
		"real_servers": "10.99.51.1:8080 weight=3; 10.99.51.2:8080; 10.99.51.3:8080 weight=0"}},
	{"dr-rr-persist", map[string]string{"vip": "10.99.50.2", "port": "443", "scheduler": "rr", "forward": "dr",
		"persistent": "300", "persistence_granularity": "255.255.255.0", "real_servers": "10.99.51.1; 10.99.51.2 weight=2"}},
	{"tun-wrr", map[string]string{"vip": "10.99.50.3", "port": "25", "scheduler": "wrr", "forward": "tun",
		"real_servers": "10.99.52.1 weight=5; 10.99.52.2 weight=1 forward=dr; 10.99.52.3 forward=nat"}},
	{"udp-sh-ops", map[string]string{"vip": "10.99.50.4", "port": "53", "protocol": "udp", "scheduler": "sh",
		"sched_flags": "sh-fallback,sh-port", "ops": "true", "forward": "dr", "real_servers": "10.99.53.1; 10.99.53.2"}},
	{"sctp-lc", map[string]string{"vip": "10.99.50.5", "port": "3868", "protocol": "sctp", "scheduler": "lc",
		"real_servers": "10.99.54.1:3868 uthreshold=100 lthreshold=10"}},
	{"fwmark-mh", map[string]string{"fwmark": "7", "scheduler": "mh", "sched_flags": "mh-port", "forward": "dr",
		"real_servers": "10.99.55.1:80; 10.99.55.2:80"}},
	{"v6-sed", map[string]string{"vip": "fd99:50::1", "port": "80", "scheduler": "sed", "forward": "dr",
		"persistent": "60", "persistence_granularity": "64", "real_servers": "[fd99:51::1]:80 weight=2; [fd99:51::2]:80"}},
	{"v6-fwmark-nq", map[string]string{"fwmark": "8", "family": "inet6", "scheduler": "nq", "forward": "tun",
		"real_servers": "[fd99:52::1]"}},
	{"lblc", map[string]string{"vip": "10.99.50.6", "port": "80", "scheduler": "lblc", "real_servers": "10.99.56.1:80"}},
	{"lblcr", map[string]string{"vip": "10.99.50.7", "port": "80", "scheduler": "lblcr", "real_servers": "10.99.56.1:80"}},
	{"dh", map[string]string{"vip": "10.99.50.8", "port": "80", "scheduler": "dh", "real_servers": "10.99.56.1:80"}},
	{"fo", map[string]string{"vip": "10.99.50.9", "port": "80", "scheduler": "fo", "real_servers": "10.99.56.1:80 weight=2; 10.99.56.2:80"}},
	{"ovf", map[string]string{"vip": "10.99.50.10", "port": "80", "scheduler": "ovf", "real_servers": "10.99.56.1:80"}},
	{"wlc-192", map[string]string{"vip": "192.168.99.1", "port": "80", "scheduler": "wlc", "real_servers": "192.168.99.3:80; 10.99.56.9:80"}},
}

// TestKernelServices creates services with every forwarding method and
// many schedulers through the agent, re-reads the kernel, changes and
// removes them, and re-reads again.
func TestKernelServices(t *testing.T) {
	ctx := context.Background()
	k := requireIPVS(t)
	agents := map[string]*ipvs.Agent{}
	for _, c := range cases {
		a := agentFor(k)
		if err := a.Validate(c.params); err != nil {
			t.Fatalf("%s: validate: %v", c.name, err)
		}
		if rc, err := a.Monitor(ctx); rc != ocf.RCNotRunning {
			t.Fatalf("%s: monitor before start: %d %v", c.name, rc, err)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatalf("%s: start: %v", c.name, err)
		}
		agents[c.name] = a
	}
	svcs, err := k.Services()
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != len(cases) {
		t.Fatalf("kernel has %d services, want %d", len(svcs), len(cases))
	}
	for _, c := range cases {
		a := agents[c.name]
		want := a.Config()
		var got *ipvs.Service
		for i := range svcs {
			if svcs[i].Key == want.Service.Key {
				got = &svcs[i]
			}
		}
		if got == nil {
			t.Fatalf("%s: service %s not in kernel", c.name, want.Service.Key)
		}
		if got.Scheduler != want.Service.Scheduler || got.Flags != want.Service.Flags || got.Timeout != want.Service.Timeout || got.Netmask != want.Service.Netmask {
			t.Errorf("%s: kernel %+v, want %+v", c.name, *got, want.Service)
		}
		ds, err := k.Destinations(want.Service.Key)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != len(want.RealServers) {
			t.Fatalf("%s: %d destinations, want %d", c.name, len(ds), len(want.RealServers))
		}
		for _, rs := range want.RealServers {
			found := false
			for _, d := range ds {
				if d.Addr == rs.Addr && d.Port == rs.Port {
					found = true
					if d.Weight != rs.Weight || d.Forward != rs.Forward || d.UThreshold != rs.UThreshold || d.LThreshold != rs.LThreshold {
						t.Errorf("%s: dest %+v, want %+v", c.name, d, rs)
					}
				}
			}
			if !found {
				t.Errorf("%s: dest %s missing", c.name, rs)
			}
		}
		if rc, err := a.Monitor(ctx); rc != ocf.RCSuccess {
			t.Errorf("%s: monitor: %d %v", c.name, rc, err)
		}
	}
	var b bytes.Buffer
	if err := ipvs.List(&b, k, ipvs.FormatDefault); err != nil {
		t.Fatal(err)
	}
	t.Logf("ipvsadm -Ln equivalent:\n%s", b.String())

	// Change: new scheduler, persistence, weights and membership.
	a := agents["nat-wlc"]
	if err := a.Validate(map[string]string{"vip": "10.99.50.1", "port": "80", "forward": "nat", "scheduler": "rr",
		"persistent": "120", "real_servers": "10.99.51.1:8080 weight=7; 10.99.51.4:8080 forward=dr"}); err != nil {
		t.Fatal(err)
	}
	if rc, _ := a.Monitor(ctx); rc != ocf.RCErrGeneric {
		t.Fatalf("drift not detected: rc %d", rc)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	key := a.Config().Service.Key
	svcs, _ = k.Services()
	for _, s := range svcs {
		if s.Key == key && (s.Scheduler != "rr" || s.Flags != ipvs.FlagPersistent || s.Timeout != 120) {
			t.Fatalf("update not applied: %+v", s)
		}
	}
	ds, _ := k.Destinations(key)
	got := map[string]string{}
	for _, d := range ds {
		got[ipvs.AddrPort(d.Addr, d.Port)] = fmt.Sprintf("%d/%s", d.Weight, d.Forward)
	}
	if len(got) != 2 || got["10.99.51.1:8080"] != "7/Masq" || got["10.99.51.4:8080"] != "1/Route" {
		t.Fatalf("destinations after change: %v", got)
	}

	// Stop removes only the agent's own service.
	for i, c := range cases {
		if err := agents[c.name].Stop(ctx); err != nil {
			t.Fatalf("%s: stop: %v", c.name, err)
		}
		if err := agents[c.name].Stop(ctx); err != nil {
			t.Fatalf("%s: second stop: %v", c.name, err)
		}
		svcs, _ := k.Services()
		if len(svcs) != len(cases)-i-1 {
			t.Fatalf("after stopping %s: %d services left, want %d", c.name, len(svcs), len(cases)-i-1)
		}
		if rc, _ := agents[c.name].Monitor(ctx); rc != ocf.RCNotRunning {
			t.Fatalf("%s: monitor after stop: %d", c.name, rc)
		}
	}
}

func TestKernelErrors(t *testing.T) {
	k := requireIPVS(t)
	key := ipvs.Key{Family: 4, Protocol: ipvs.ProtoTCP, Addr: netip.MustParseAddr("10.99.60.1"), Port: 80}
	if err := k.DelService(key); !errors.Is(err, ipvs.ErrNoService) {
		t.Fatalf("delete missing service: %v", err)
	}
	svc := ipvs.Service{Key: key, Scheduler: "rr", Netmask: 0xffffffff}
	if err := k.NewService(svc); err != nil {
		t.Fatal(err)
	}
	if err := k.NewService(svc); !errors.Is(err, ipvs.ErrExists) {
		t.Fatalf("duplicate service: %v", err)
	}
	bad := ipvs.Service{Key: ipvs.Key{Family: 4, Protocol: ipvs.ProtoTCP, Addr: netip.MustParseAddr("10.99.60.2"), Port: 80}, Scheduler: "nosuch", Netmask: 0xffffffff}
	if err := k.NewService(bad); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("unknown scheduler: %v", err)
	}
	d := ipvs.DestKey{Addr: netip.MustParseAddr("10.99.61.1"), Port: 80}
	if err := k.DelDestination(key, d); !errors.Is(err, ipvs.ErrNoDestination) {
		t.Fatalf("delete missing destination: %v", err)
	}
	if err := k.UpdateDestination(key, ipvs.Destination{Addr: d.Addr, Port: d.Port, Weight: 1}); !errors.Is(err, ipvs.ErrNoDestination) {
		t.Fatalf("update missing destination: %v", err)
	}
	flush(t, k)
}

// TestListMatchesIpvsadm compares List with the real ipvsadm when run.sh
// provides it (IPVSADM_DIR: ipvsadm, its libraries and the dynamic loader).
func TestListMatchesIpvsadm(t *testing.T) {
	ctx := context.Background()
	dir := os.Getenv("IPVSADM_DIR")
	if dir == "" {
		t.Skip("IPVSADM_DIR not set (run.sh bundles ipvsadm when the host has it)")
	}
	k := requireIPVS(t)
	for _, c := range cases {
		a := agentFor(k)
		if err := a.Validate(c.params); err != nil {
			t.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	traffic(t, k)
	for _, f := range []struct {
		format ipvs.Format
		args   []string
	}{
		{ipvs.FormatDefault, []string{"-Ln"}},
		{ipvs.FormatStats, []string{"-Ln", "--stats"}},
		{ipvs.FormatRate, []string{"-Ln", "--rate"}},
	} {
		ipvsadm := func() string {
			args := append([]string{"--library-path", dir, filepath.Join(dir, "ipvsadm")}, f.args...)
			out, err := exec.Command(filepath.Join(dir, "ld.so"), args...).CombinedOutput()
			if err != nil {
				t.Fatalf("ipvsadm %v: %v\n%s", f.args, err, out)
			}
			return string(out)
		}
		// Counters and rate estimates may tick between the two reads:
		// accept a match with the ipvsadm run before or after List.
		out := ipvsadm()
		var b bytes.Buffer
		if err := ipvs.List(&b, k, f.format); err != nil {
			t.Fatal(err)
		}
		if after := ipvsadm(); b.String() == after {
			out = after
		}
		if b.String() != string(out) {
			t.Errorf("ipvsadm %v differs:\n%s", f.args, lineDiff(string(out), b.String()))
		} else {
			t.Logf("ipvsadm %v: identical (%d lines)", f.args, strings.Count(string(out), "\n"))
		}
	}
	flush(t, k)
}

// traffic adds 10.99.70.1 to lo, serves TCP on it and sends connections
// through a local IPVS service so counters and connection columns are
// non-zero (the kernel turns the local real server into "Local").
func traffic(t *testing.T, k *ipvs.Kernel) {
	t.Helper()
	nl, err := vip.NewNetlink()
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	lo, err := nl.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := nl.AddrReplace(lo, vip.Addr{Prefix: netip.MustParsePrefix("10.99.70.1/32"), ValidLft: vip.Forever, PreferredLft: vip.Forever}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "0.0.0.0:8081")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, c)
			_, _ = c.Write([]byte("bye"))
			c.Close()
		}
	}()
	a := agentFor(k)
	if err := a.Validate(map[string]string{"vip": "10.99.70.1", "port": "8081", "scheduler": "rr", "forward": "dr",
		"real_servers": "10.99.70.1:8081 weight=2"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		c, err := net.DialTimeout("tcp", "10.99.70.1:8081", 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte(strings.Repeat("x", 1000*(i+1))))
		_ = c.(*net.TCPConn).CloseWrite()
		_, _ = io.ReadAll(c)
		c.Close()
	}
	// The kernel folds per-CPU counters into the reported ones from its
	// rate estimator (every 2 s): wait for them.
	key := a.Config().Service.Key
	var st ipvs.Stats
	for deadline := time.Now().Add(6 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		svcs, _ := k.Services()
		for _, s := range svcs {
			if s.Key == key {
				st = s.Stats
			}
		}
		if st.Conns == 5 && st.InPPS > 0 {
			break
		}
	}
	t.Logf("traffic: %+v", st)
	if st.Conns != 5 || st.InBytes < 15000 {
		t.Errorf("service counters %+v, want 5 connections and >= 15000 bytes in", st)
	}
	ds, _ := k.Destinations(key)
	if len(ds) != 1 || ds[0].InactiveConns+ds[0].ActiveConns != 5 || ds[0].Stats.Conns != 5 {
		t.Errorf("destination after traffic: %+v", ds)
	}
}

// lineDiff lists the lines that differ (q = ipvsadm, l = List).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var x, y string
		if i < len(w) {
			x = w[i]
		}
		if i < len(g) {
			y = g[i]
		}
		if x != y {
			fmt.Fprintf(&b, "%3d q %q\n    l %q\n", i+1, x, y)
		}
	}
	return b.String()
}

// TestKernelHealthCheck runs TCP_CHECK against two local real servers and
// watches the kernel table: a dead server goes to weight 0
// (inhibit_on_failure), is restored when it comes back, and Stop removes
// the service.
func TestKernelHealthCheck(t *testing.T) {
	ctx := context.Background()
	k := requireIPVS(t)
	nl, err := vip.NewNetlink()
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	lo, err := nl.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"10.99.71.1/32", "10.99.71.2/32"} {
		if err := nl.AddrReplace(lo, vip.Addr{Prefix: netip.MustParsePrefix(p), ValidLft: vip.Forever, PreferredLft: vip.Forever}); err != nil {
			t.Fatal(err)
		}
	}
	listen := func(addr string) net.Listener {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		return ln
	}
	ln1 := listen("10.99.71.1:9000")
	ln2 := listen("10.99.71.2:9000")
	defer ln2.Close()

	a := agentFor(k)
	if err := a.Validate(map[string]string{"vip": "10.99.71.100", "port": "9000", "scheduler": "wrr", "forward": "dr",
		"check": "tcp", "delay_loop": "1", "connect_timeout": "1", "retry": "0", "inhibit_on_failure": "true",
		"real_servers": "10.99.71.1:9000 weight=4; 10.99.71.2:9000 weight=2"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	key := a.Config().Service.Key
	wait := func(want string, what string) {
		t.Helper()
		start := time.Now()
		for {
			ds, err := k.Destinations(key)
			if err != nil {
				t.Fatal(err)
			}
			ipvs.SortDestinations(ds)
			var got []string
			for _, d := range ds {
				got = append(got, fmt.Sprintf("%s=%d", ipvs.AddrPort(d.Addr, d.Port), d.Weight))
			}
			if strings.Join(got, " ") == want {
				t.Logf("%s after %v: %s", what, time.Since(start).Round(10*time.Millisecond), want)
				return
			}
			if time.Since(start) > 8*time.Second {
				t.Fatalf("%s: kernel has %v, want %s", what, got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait("10.99.71.1:9000=4 10.99.71.2:9000=2", "started")
	ln1.Close()
	wait("10.99.71.1:9000=0 10.99.71.2:9000=2", "dead server inhibited")
	ln1 = listen("10.99.71.1:9000")
	defer ln1.Close()
	wait("10.99.71.1:9000=4 10.99.71.2:9000=2", "revived server restored")
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if svcs, _ := k.Services(); len(svcs) != 0 {
		t.Fatalf("after stop: %+v", svcs)
	}
}
