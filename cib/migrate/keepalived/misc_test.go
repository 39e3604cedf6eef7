package keepalived

import (
	"strings"
	"testing"
	"time"
)

func TestStaticBlocksAndRules(t *testing.T) {
	cfg := wantWarn(t, `
net_namespace blue
instance lb-a
use_pid_dir
static_ipaddress {
    192.168.200.16 dev eth0 scope link
    2001:db8::16/64 dev eth1 scope 253 brd - autojoin mngtmpaddr nodad use_vmac preferred_lft forever
}
static_routes {
    src 192.168.100.1 192.168.209.0/24 via 192.168.200.254 dev eth0
    default via inet6 2001:db8::1 dev eth1 onlink pref high
    unreachable 10.9.0.0/16 metric 7
    10.8.0.0/16 nexthop via 10.0.0.1 dev eth0 weight 1 nexthop via 10.0.0.2
    10.7.0.0/16 dev eth0 wibble
}
static_rules {
    from 192.168.100.0/24 table 1
    from all to 10.0.0.0/8 lookup 5 pref 100 not iif eth0 fwmark 0x10 l3mdev
    to 10.1.0.0/16 prohibit
    frob
}
`, "use_pid_dir: keepalived option not supported", "multipath 'nexthop' routes are not supported",
		`unknown route option "wibble"`, `unknown rule option "frob"`)
	if cfg.NetNamespace.V != "blue" || cfg.InstanceName.V != "lb-a" {
		t.Errorf("namespace %q instance %q", cfg.NetNamespace.V, cfg.InstanceName.V)
	}
	a := cfg.StaticAddresses
	if len(a) != 2 || a[0].Scope != "link" || a[1].Scope != "253" || a[1].Broadcast.IsValid() || !a[1].AutoJoin || !a[1].MngTmpAddr ||
		!a[1].NoDAD || !a[1].UseVMAC || a[1].PreferredLft != "forever" {
		t.Errorf("static addresses %+v %+v", a[0], a[1])
	}
	r := cfg.StaticRoutes
	if len(r) != 5 {
		t.Fatalf("routes = %d", len(r))
	}
	if r[1].Dest.String() != "::/0" || r[1].Via.String() != "2001:db8::1" || r[1].Options["pref"] != "high" {
		t.Errorf("v6 default route %+v", r[1])
	}
	if _, ok := r[1].Options["onlink"]; !ok {
		t.Errorf("onlink lost")
	}
	if r[2].Type != "unreachable" || r[2].Metric.V != 7 {
		t.Errorf("unreachable route %+v", r[2])
	}
	if !strings.HasPrefix(r[3].Options["nexthop"], "via 10.0.0.1 dev eth0") {
		t.Errorf("nexthop %q", r[3].Options["nexthop"])
	}
	if len(cfg.StaticRules) != 4 {
		t.Errorf("rules = %d", len(cfg.StaticRules))
	}
}

func TestRules(t *testing.T) {
	cfg := mustParse(t, `
static_rules {
    from 192.168.100.0/24 table 1
    from all to 10.0.0.0/8 lookup 5 pref 100 not iif eth0 fwmark 0x10 l3mdev
    to 10.1.0.0/16 prohibit
}
`)
	ru := cfg.StaticRules
	if len(ru) != 3 {
		t.Fatalf("rules = %d", len(ru))
	}
	if ru[1].From.IsValid() || ru[1].To.String() != "10.0.0.0/8" || ru[1].Table != "5" || ru[1].Preference.V != 100 || !ru[1].Not ||
		ru[1].Options["iif"] != "eth0" || ru[1].Options["fwmark"] != "0x10" {
		t.Errorf("rule 1 = %+v", ru[1])
	}
	if _, ok := ru[1].Options["l3mdev"]; !ok || ru[2].Options["type"] != "prohibit" {
		t.Errorf("rule options %v %v", ru[1].Options, ru[2].Options)
	}
	for _, c := range []errCase{
		{"from 10.0.0.0/8 to 2001:db8::/32 table 2", ErrValue, "different families"},
		{"from", ErrMissing, "from needs a value"},
		{"table", ErrMissing, "table needs a value"},
		{"pref x", ErrValue, "pref: invalid value"},
		{"iif", ErrMissing, "iif needs a value"},
	} {
		wantErr(t, "static_rules {\n"+c.body+"\n}\n", c.sentinel, c.sub)
	}
}

func TestRealServerOptions(t *testing.T) {
	cfg := mustParse(t, `
virtual_server 10.0.0.1 80 {
    lb_kind DR
    real_server 10.0.1.1 8080 {
        weight 0
        lb_kind TUN
        inhibit_on_failure off
        alpha
        connect_timeout 1.5
        retry 2
        delay_before_retry 0.25
        warmup 4
        delay_loop 9
        virtualhost rs.example.com
        smtp_alert yes
        HTTP_GET {
            url {
                path /x
                regex "^OK"
                regex_no_match
                regex_options caseless multiline
                regex_min_offset 1
                regex_max_offset 100
            }
            bind_if eth0
            bind_port 4000
            fwmark 9
            alpha false
            log_all_failures
            fast_recovery
        }
    }
}
`)
	rs := cfg.VirtualServers[0].RealServers[0]
	if rs.Weight.V != 0 || !rs.Weight.Set || rs.LVSMethod.V != LBTUN || rs.InhibitOnFailure.V || !rs.Alpha.V ||
		rs.ConnectTimeout.V != 1500*time.Millisecond || rs.Retry.V != 2 || rs.DelayBeforeRetry.V != 250*time.Millisecond ||
		rs.Warmup.V != 4*time.Second || rs.DelayLoop.V != 9*time.Second || rs.Virtualhost.V != "rs.example.com" || !rs.SMTPAlert.V {
		t.Errorf("rs = %+v", rs)
	}
	c := rs.Checkers[0]
	// Checker inherits the real server's values, not the defaults.
	if c.ConnectTimeout.V != 1500*time.Millisecond || c.Retry.V != 2 || c.DelayBeforeRetry.V != 250*time.Millisecond ||
		c.Warmup.V != 4*time.Second || c.DelayLoop.V != 9*time.Second || c.Virtualhost.V != "rs.example.com" || c.Alpha.V {
		t.Errorf("checker inheritance: %+v", c)
	}
	if c.BindIf.V != "eth0" || c.BindPort.V != 4000 || c.Fwmark.V != 9 || !c.LogAllFailures.V || !c.FastRecovery.V {
		t.Errorf("checker options: %+v", c)
	}
	u := c.URLs[0]
	if u.Regex.V != "^OK" || !u.RegexNoMatch.V || u.RegexOptions.V != "caseless multiline" || u.RegexMinOffset.V != 1 || u.RegexMaxOffset.V != 100 {
		t.Errorf("url = %+v", u)
	}
	if len(u.StatusCodes) != 0 {
		t.Errorf("status codes = %v", u.StatusCodes)
	}
}

func TestGlobalErrors(t *testing.T) {
	for _, c := range []errCase{
		{"vrrp_version 4", ErrRange, "global_defs: vrrp_version: value out of range"},
		{"vrrp_mcast_group4 10.0.0.1", ErrValue, "not an IPv4 multicast address"},
		{"vrrp_mcast_group6 ff02::12x", ErrValue, "vrrp_mcast_group6"},
		{"vrrp_mcast_group6 224.0.0.18", ErrValue, "not an IPv6 multicast address"},
		{"vrrp_garp_interval 2", ErrRange, "vrrp_garp_interval"},
		{"vrrp_down_timer_adverts 0", ErrRange, "vrrp_down_timer_adverts"},
		{"vrrp_strict maybe", ErrValue, "not a boolean"},
		{"max_auto_priority 100", ErrRange, "max_auto_priority"},
		{"lvs_flush_on_stop ALL", ErrValue, `"ALL" is not VS`},
		{"lvs_timeouts tcp", ErrMissing, "expects at least 2 values"},
		{"lvs_timeouts icmp 5", ErrValue, `unknown timeout "icmp"`},
		{"lvs_timeouts tcp 5 udp", ErrMissing, "udp needs a value"},
		{"lvs_timeouts tcp x", ErrValue, "lvs_timeouts: invalid value"},
		{"lvs_sync_daemon eth0/1", ErrValue, "not a valid interface name"},
		{"router_id", ErrMissing, "router_id: missing required value"},
		{"notify_fifo", ErrMissing, "notify_fifo"},
		{"script_user", ErrMissing, "script_user"},
		{"smtp_connect_timeout -3", ErrValue, "smtp_connect_timeout"},
	} {
		wantErr(t, "global_defs {\n"+c.body+"\n}\n", c.sentinel, "keepalived.conf:2: ", c.sub)
	}
	cfg := wantWarn(t, "global_defs {\n router_id a b\n dynamic_interfaces sometimes\n}\nglobal_defs {\n vrrp_version 3\n}\n",
		`router_id: extra arguments "b" ignored`, `dynamic_interfaces: unknown option "sometimes"`, "second global_defs block")
	if cfg.Global.RouterID.V != "a" || cfg.Global.VRRPVersion.V != 3 || cfg.Global.Pos.Line != 1 {
		t.Errorf("merged globals: %+v", cfg.Global)
	}
}

func TestMiscWarnings(t *testing.T) {
	wantWarn(t, instSrc("nopreempt extra\nvirtual_router_id 51 {\n}"), `nopreempt: extra arguments "extra" ignored`, "virtual_router_id: unexpected { } block ignored")
	wantWarn(t, instSrc("track_interface {\n eth1 weight 2 sideways\n}"), `unknown option "sideways"`)
	wantWarn(t, instSrc("track_interface {\n eth1\n eth1 weight 2\n}\ntrack_script {\n s\n s\n}")+"vrrp_script s {\n script /bin/true\n}\n",
		`track_interface: eth1: duplicate entry "eth1" ignored`, `track_script: s: duplicate entry "s" ignored`)
	wantWarn(t, instSrc("use_vmac vrrp.51 00:00:5e:00:01:33"), "standard VRRP MAC")
	wantWarn(t, "virtual_server 10.0.0.1 80 {\n lb_kind DR\n real_server 10.0.0.2 8080 {\n TCP_CHECK { }\n }\n}\n", "port 8080 differs from the virtual server's 80")
	wantWarn(t, "virtual_server 10.0.0.1 80 {\n protocol TCP\n ops\n real_server 10.0.0.2 80 {\n TCP_CHECK { }\n }\n}\n", "one-packet scheduling requires protocol UDP")
	wantWarn(t, "static_rules {\n from 10.0.0.0/8 table 5\n}\n", "rule has no preference")
	cfg0 := mustParse(t, "virtual_server 10.0.0.1 {\n persistence_timeout 60\n real_server 10.0.0.2 {\n TCP_CHECK { connect_port 80 }\n }\n}\n")
	if vs := cfg0.VirtualServers[0]; vs.Port.Set || vs.PersistenceTimeout.V != time.Minute {
		t.Errorf("portless persistent vs %+v", vs)
	}
	wantWarn(t, instSrc("state MASTER\npriority 100\npreempt_delay 5"), "preempt_delay has no effect with initial state MASTER")
	wantWarn(t, "vrrp_sync_group G {\n group {\n }\n}\n", "sync group has no member instances")
	wantWarn(t, "vrrp_script s {\n script /bin/true\n weight 2 sideways\n bogus\n}\n", `weight: unknown option "sideways"`, "bogus: unknown keyword", "SECURITY VIOLATION")
	wantWarn(t, "track_file f {\n file /x\n weight 2 sideways\n frob\n}\n", `unknown option "sideways"`, "frob: unknown keyword")
	wantErr(t, "track_file f {\n file /x\n init_file x\n}\n", ErrValue, "not an integer or 'overwrite'")
	cfg := mustParse(t, "track_file f {\n file /x\n}\nvrrp_track_file g {\n file /y\n init_file 5\n}\n")
	if f := cfg.TrackFile("f"); f.Weight.V != 1 || f.Weight.Set {
		t.Errorf("track_file weight default %+v", f.Weight)
	}
	if g := cfg.TrackFile("g"); g.InitFile.V.Value != 5 || g.InitFile.V.Overwrite {
		t.Errorf("init_file %+v", g.InitFile)
	}
	s := mustParse(t, "global_defs {\n script_user runner grp\n enable_script_security\n}\nvrrp_script s {\n script /bin/true\n timeout 0\n}\n").Script("s")
	if s.User.V != "runner" || s.Group.V != "grp" || s.User.Set || s.Timeout.V != time.Second || s.Interval.V != time.Second || s.Rise.V != 1 || s.Fall.V != 1 {
		t.Errorf("script defaults %+v", s)
	}
}
