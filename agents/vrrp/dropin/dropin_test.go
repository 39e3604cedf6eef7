package dropin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/ipvs"
	"github.com/gocrm/gocrm/agents/vrrp/dataplane"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
	"github.com/gocrm/gocrm/cib/migrate/keepalived"
)

func TestParseArgs(t *testing.T) {
	o, err := ParseArgs([]string{"-nlD", "-f", "/x.conf", "--config-id=high", "-p/tmp/p", "-P"})
	if err != nil {
		t.Fatal(err)
	}
	if o.File != "/x.conf" || o.ConfigID != "high" || !o.Debug || !o.OnlyVRRP || !slices.Equal(o.PidFiles, []string{"/tmp/p"}) {
		t.Fatalf("%+v", o)
	}
	o, err = ParseArgs([]string{"--use-file", "a", "-t"})
	if err != nil || o.File != "a" || !o.Test {
		t.Fatalf("%+v %v", o, err)
	}
	o, err = ParseArgs([]string{"--vip-lifetime", "4s"})
	if err != nil || o.VIPLifetime != 4*time.Second {
		t.Fatalf("%+v %v", o, err)
	}
	if o, _ = ParseArgs([]string{"--vip-lifetime=forever"}); o.VIPLifetime >= 0 {
		t.Fatalf("forever: %v", o.VIPLifetime)
	}
	for _, bad := range [][]string{{"--vip-lifetime", "10ms"}, {"-x"}, {"-f"}, {"--nope"}, {"stray"}, {"-P", "-C"}, {"--dont-fork=1"}} {
		if _, err := ParseArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

const conf = `global_defs {
    router_id n1
    vrrp_garp_master_delay 2
    vrrp_notify_fifo /run/ka.fifo
    script_user root
    enable_script_security
}
vrrp_script chk {
    script "/bin/check arg"
    interval 2
    weight -20
    fall 3
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    unicast_src_ip 10.99.0.11
    unicast_peer {
        10.99.0.12
    }
    track_script {
        chk
    }
    virtual_ipaddress {
        10.99.0.50/24 dev eth0 label eth0:1
    }
    virtual_ipaddress_excluded {
        fd99::50/64
    }
    notify "/bin/notify arg"
    notify_master /bin/master
}
vrrp_instance VI_2 {
    interface eth1
    virtual_router_id 52
    version 3
    advert_int 0.1
    nopreempt
    virtual_ipaddress {
        fd99::60
    }
}
vrrp_instance VI_3 {
    interface eth0
    virtual_router_id 53
    virtual_ipaddress {
        10.99.0.70
    }
}
vrrp_sync_group G {
    group {
        VI_2
        VI_3
    }
    notify /bin/group
}
virtual_server 10.99.0.50 80 {
    delay_loop 6
    lb_algo rr
    lb_kind DR
    persistence_timeout 50
    protocol TCP
    real_server 10.99.0.21 80 {
        weight 2
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            connect_timeout 3
        }
    }
    real_server 10.99.0.22 80 {
        HTTP_GET {
            url {
                path /health
            }
        }
    }
}
`

func parse(t *testing.T, src string) *keepalived.Config {
	t.Helper()
	kc, err := keepalived.Parse("keepalived.conf", []byte(src), keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.Validate(); err != nil {
		t.Fatal(err)
	}
	return kc
}

func TestVRRPConfig(t *testing.T) {
	kc := parse(t, conf)
	vc, notes := VRRPConfig(kc)
	if err := dataplane.Check(vc); err != nil {
		t.Fatal(err)
	}
	if len(vc.Units) != 2 {
		t.Fatalf("units %d", len(vc.Units))
	}
	g, vi1 := vc.Units[0], vc.Units[1]
	if !g.Group || g.Name != "G" || len(g.Instances) != 2 || strings.Join(g.Notify.Any, " ") != "/bin/group" {
		t.Fatalf("group %+v", g)
	}
	in := vi1.Instances[0]
	r := in.Router
	if r.FSM.Name != "VI_1" || r.FSM.VRID != 51 || r.FSM.Priority != 100 || r.FSM.Version != 2 || !r.FSM.InitialMaster ||
		r.FSM.AdvertInterval != time.Second || r.FSM.GARP.MasterDelay != 2*time.Second {
		t.Fatalf("fsm %+v", r.FSM)
	}
	if r.AuthType != packet.AuthPass || r.AuthPass != "secret" || r.FSM.PrimaryAddr.String() != "10.99.0.11" ||
		len(r.UnicastPeers) != 1 || r.UnicastPeers[0].String() != "10.99.0.12" {
		t.Fatalf("router %+v", r)
	}
	if len(r.VIPs) != 1 || r.VIPs[0].String() != "10.99.0.50" || len(in.Addresses) != 2 ||
		in.Addresses[0].Label != "eth0:1" || in.Addresses[1].Prefix.String() != "fd99::50/64" {
		t.Fatalf("addresses %+v %+v", r.VIPs, in.Addresses)
	}
	// The VRRP interface is tracked implicitly; chk with its weight.
	if len(r.FSM.TrackInterfaces) != 1 || r.FSM.TrackInterfaces[0].Name != "eth0" ||
		len(r.FSM.TrackScripts) != 1 || r.FSM.TrackScripts[0].Weight != -20 || r.FSM.TrackScripts[0].Fall != 3 {
		t.Fatalf("tracking %+v %+v", r.FSM.TrackInterfaces, r.FSM.TrackScripts)
	}
	if strings.Join(in.Notify.Any, " ") != "/bin/notify arg" || strings.Join(in.Notify.Master, " ") != "/bin/master" {
		t.Fatalf("notify %+v", in.Notify)
	}
	if len(vc.Scripts) != 1 || vc.Scripts[0].Command != "/bin/check arg" || vc.Scripts[0].Interval != 2*time.Second {
		t.Fatalf("scripts %+v", vc.Scripts)
	}
	if vc.NotifyFIFO != "/run/ka.fifo" {
		t.Fatalf("fifo %q", vc.NotifyFIFO)
	}
	vi2 := g.Instances[0]
	if !vi2.Router.IPv6 || vi2.Router.FSM.Version != 3 || vi2.Router.FSM.AdvertInterval != 100*time.Millisecond || !vi2.Router.FSM.NoPreempt {
		t.Fatalf("VI_2 %+v", vi2.Router)
	}
	_ = notes
}

func TestVRRPConfigNotices(t *testing.T) {
	kc := parse(t, `vrrp_instance V {
    interface eth0
    virtual_router_id 9
    use_vmac
    virtual_ipaddress {
        10.99.0.50/24 scope link
    }
}
vrrp_instance EMPTY {
    interface eth0
    virtual_router_id 10
}
`)
	vc, notes := VRRPConfig(kc)
	var all []string
	for _, n := range notes {
		all = append(all, n.String())
	}
	s := strings.Join(all, "\n")
	for _, want := range []string{"use_vmac", "scope link", "EMPTY: no virtual_ipaddress"} {
		if !strings.Contains(s, want) {
			t.Errorf("no notice about %q in:\n%s", want, s)
		}
	}
	if !strings.Contains(s, "keepalived.conf:") {
		t.Errorf("notices lack file:line:\n%s", s)
	}
	if len(vc.Units) != 1 {
		t.Fatalf("units %+v", vc.Units)
	}
}

func TestLVSParams(t *testing.T) {
	kc := parse(t, conf)
	p, _, err := LVSParams(kc, kc.VirtualServers[0])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"vip": "10.99.0.50", "port": "80", "protocol": "tcp", "scheduler": "rr", "forward": "dr",
		"persistent": "50", "check": "http", "check_url": "/health", "check_status": "200", "delay_loop": "6", "connect_timeout": "3"}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q", k, p[k], v)
		}
	}
	if p["real_servers"] != "10.99.0.21:80 weight=2 forward=dr;10.99.0.22:80 weight=1 forward=dr" {
		t.Errorf("real_servers %q", p["real_servers"])
	}
	cfg, err := ipvs.ParseParams(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.RealServers) != 2 || cfg.Check.Type != "http" {
		t.Fatalf("%+v", cfg)
	}
}

// Every keepalived sample that declares VRRP or LVS blocks converts into
// configurations the dataplane and the IPVS agent accept.
func TestSamplesConvert(t *testing.T) {
	files, _ := filepath.Glob("/usr/share/doc/keepalived/samples/keepalived.conf.*")
	if len(files) == 0 {
		t.Skip("keepalived samples not installed (/usr/share/doc/keepalived/samples)")
	}
	for _, f := range files {
		kc, err := keepalived.Load(os.DirFS("/"), strings.TrimPrefix(f, "/"), keepalived.Options{Root: "/", ConfigID: "high"})
		if err != nil {
			continue // the importer's own tests cover samples with errors
		}
		vc, _ := VRRPConfig(kc)
		if err := dataplane.Check(vc); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		for _, vs := range kc.VirtualServers {
			p, _, err := LVSParams(kc, vs)
			if err != nil {
				continue // virtual_server groups are reported, not run
			}
			if _, err := ipvs.ParseParams(p); err != nil {
				t.Errorf("%s: %s: %v (%v)", f, vs.Pos, err, p)
			}
		}
	}
}

func TestMainConfigTest(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	os.WriteFile(good, []byte(conf), 0o644)
	warn := filepath.Join(dir, "warn.conf")
	os.WriteFile(warn, []byte("global_defs {\n  no_such_keyword 1\n}\n"+conf), 0o644)
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("vrrp_instance X {\n  priority 999\n"), 0o644)
	ctx := context.Background()
	for _, c := range []struct {
		args []string
		rc   int
		err  string
	}{
		{[]string{"-t", "-f", good}, ExitOK, ""},
		{[]string{"-t", "-f", warn}, ExitWarnings, "warn.conf:2"},
		{[]string{"-t", "-f", bad}, ExitError, "bad.conf:"},
		{[]string{"-t", "-f", filepath.Join(dir, "missing.conf")}, ExitError, "missing.conf"},
		{[]string{"-Z"}, ExitError, "unknown option -Z"},
	} {
		var out, errb bytes.Buffer
		rc := Main(ctx, c.args, &out, &errb)
		if rc != c.rc || !strings.Contains(errb.String(), c.err) {
			t.Errorf("%q: rc %d stderr %q, want rc %d containing %q", c.args, rc, errb.String(), c.rc, c.err)
		}
	}
}

// Main with a cancelled context and no VRRP or IPVS work returns at once.
func TestMainNothingToRun(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "k.conf")
	os.WriteFile(f, []byte("global_defs {\n router_id x\n}\n"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if rc := Main(ctx, []string{"-f", f, "-p", filepath.Join(dir, "pid")}, &out, &errb); rc != ExitOK {
		t.Fatalf("rc %d: %s", rc, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "pid")); !os.IsNotExist(err) {
		t.Error("pid file left behind")
	}
}

// An instance on a missing interface is a start failure, reported clearly.
func TestMainMissingInterface(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "k.conf")
	os.WriteFile(f, []byte("vrrp_instance V {\n interface gkv-nope0\n virtual_router_id 5\n virtual_ipaddress {\n  10.99.9.9/24\n }\n}\n"), 0o644)
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- Main(context.Background(), []string{"-f", f}, &out, &errb) }()
	select {
	case rc := <-done:
		if rc != ExitError || !strings.Contains(errb.String(), "gkv-nope0") {
			t.Fatalf("rc %d, stderr:\n%s", rc, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not return")
	}
}
