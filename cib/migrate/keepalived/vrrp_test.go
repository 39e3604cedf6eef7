package keepalived

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

const fullVRRP = `
global_defs {
    router_id lb1
    notification_email {
        ops@example.com
        noc@example.com
    }
    notification_email_from lb1@example.com
    smtp_server 192.0.2.25 2525
    smtp_connect_timeout 10
    vrrp_version 3
    vrrp_mcast_group4 224.0.0.19
    vrrp_garp_master_delay 2
    vrrp_garp_master_repeat 3
    vrrp_garp_master_refresh 60
    vrrp_garp_master_refresh_repeat 2
    vrrp_garp_interval 0.001
    vrrp_gna_interval 0.000010
    vrrp_higher_prio_send_advert true
    vrrp_lower_prio_no_advert off
    vrrp_skip_check_adv_addr
    vrrp_startup_delay 5.5
    vrrp_down_timer_adverts 4
    vrrp_min_garp no
    max_auto_priority
    script_user keepalived_script users
    enable_script_security
    notify_fifo /run/keepalived.fifo
    vrrp_notify_fifo /run/vrrp.fifo
    vrrp_notify_fifo_script "/usr/local/bin/fifo-reader" nobody
    lvs_sync_daemon eth1 inst VI_1 id 5
    lvs_flush
    lvs_flush_on_stop VS
    lvs_timeouts tcp 7200 tcpfin 120 udp 300
    dynamic_interfaces allow_if_changes
}

vrrp_script chk_http {
    script "/usr/bin/curl -sf http://127.0.0.1/"
    interval 2
    timeout 2
    weight -20 reverse
    rise 3
    fall 2
    user nobody nogroup
    init_fail
}

vrrp_script chk_tcp {
    script "</dev/tcp/127.0.0.1/80"
}

track_file tf_maint {
    file "/var/run/maint"
    weight -10 reverse
    init_file 0 overwrite
}

vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.25
    nopreempt
    preempt_delay 30
    unicast_src_ip 10.99.0.1
    unicast_ttl 64
    unicast_peer {
        10.99.0.2
        10.99.0.3
    }
    check_unicast_src
    unicast_fault_no_peer
    virtual_ipaddress {
        10.99.0.50/24 brd 10.99.0.255 dev eth0 label eth0:vip scope global
        10.99.0.51 dev eth1 scope link no_track
        10.99.0.52/24 brd +
        10.99.0.53/32 peer 10.99.0.254 home -nodad noprefixroute preferred_lft 0
    }
    virtual_ipaddress_excluded {
        2001:db8::50/64 dev eth0
    }
    virtual_routes {
        src 10.99.0.50 192.168.10.0/24 via 10.99.0.254 dev eth0 table 100 metric 5
        to 192.168.20.0/24 dev eth1 scope link no_track protocol static mtu lock 1400
        blackhole 192.168.30.0/24 no_track
        default via 10.99.0.254 dev eth0
    }
    virtual_rules {
        from 10.99.0.50 table 100 priority 1000
        to 192.168.0.0/16 lookup main no_track preference 1001
    }
    track_interface {
        eth1
        eth2 weight -30
        eth3 weight 10 reverse
    }
    track_script {
        chk_http
        chk_tcp weight 5 no_reverse
    }
    track_file {
        tf_maint weight -1
    }
    notify_master "/etc/keepalived/notify.sh master"
    notify_backup /etc/keepalived/notify.sh
    notify_fault "/etc/keepalived/notify.sh fault" root
    notify_stop "/etc/keepalived/notify.sh stop"
    notify /etc/keepalived/notify-all.sh
    notify_master_rx_lower_pri /bin/true
    notify_priority_changes
    smtp_alert
    garp_master_delay 1
    garp_master_repeat 2
    garp_master_refresh 30
    garp_master_refresh_repeat 1
    garp_lower_prio_delay 0
    garp_lower_prio_repeat 1
    use_vmac vrrp51 02:00:5e:00:01:33
    vmac_xmit_base
    dont_track_primary
    no_accept
    higher_prio_send_advert false
    down_timer_adverts 5
    promote_secondaries
}
`

func TestFullVRRP(t *testing.T) {
	cfg := mustParse(t, fullVRRP)
	noWarnings(t, cfg)
	g := cfg.Global
	ms := time.Millisecond
	checks := []check{
		{"router_id", g.RouterID.V, "lb1"},
		{"emails", fmt.Sprintln(g.NotificationEmail[0].V, g.NotificationEmail[1].V, g.NotificationEmail[1].Pos.Line), "ops@example.com noc@example.com 6\n"},
		{"smtp_server", g.SMTPServer.V, "192.0.2.25 2525"},
		{"smtp_connect_timeout", g.SMTPConnectTimeout.V, 10 * time.Second},
		{"vrrp_version", g.VRRPVersion.V, 3},
		{"mcast4", g.VRRPMcastGroup4.V.String(), "224.0.0.19"},
		{"mcast6 default", g.VRRPMcastGroup6.V.String() + fmt.Sprint(g.VRRPMcastGroup6.Set), "ff02::12false"},
		{"garp delay", g.VRRPGarpMasterDelay.V, 2 * time.Second},
		{"garp repeat", g.VRRPGarpMasterRepeat.V, 3},
		{"garp refresh", g.VRRPGarpMasterRefresh.V, time.Minute},
		{"garp refresh repeat", g.VRRPGarpMasterRefreshRepeat.V, 2},
		{"garp lower prio delay follows master", g.VRRPGarpLowerPrioDelay.V, 2 * time.Second},
		{"garp interval", g.VRRPGarpInterval.V, ms},
		{"gna interval", g.VRRPGnaInterval.V, 10 * time.Microsecond},
		{"higher prio send advert", g.VRRPHigherPrioSendAdvert.V, true},
		{"lower prio no advert", g.VRRPLowerPrioNoAdvert.V && g.VRRPLowerPrioNoAdvert.Set, false},
		{"skip check adv addr", g.VRRPSkipCheckAdvAddr.V, true},
		{"startup delay", g.VRRPStartupDelay.V, 5500 * ms},
		{"down timer adverts", g.VRRPDownTimerAdverts.V, 4},
		{"min garp", g.VRRPMinGarp.Set && !g.VRRPMinGarp.V, true},
		{"max auto priority", g.MaxAutoPriority.V, -1},
		{"script user", g.ScriptUser.V + "/" + g.ScriptGroup.V, "keepalived_script/users"},
		{"script security", g.EnableScriptSecurity.V, true},
		{"notify fifo", g.NotifyFifo.V.Script, "/run/keepalived.fifo"},
		{"vrrp notify fifo script", g.VRRPNotifyFifoScript.V, Command{Script: "/usr/local/bin/fifo-reader", User: "nobody"}},
		{"lvs sync daemon", strings.Join(g.LVSSyncDaemon.V, " "), "eth1 inst VI_1 id 5"},
		{"lvs flush", g.LVSFlush.V, true},
		{"lvs flush on stop", g.LVSFlushOnStop.V, "VS"},
		{"lvs timeouts", fmt.Sprint(g.LVSTimeouts.V), "map[tcp:2h0m0s tcpfin:2m0s udp:5m0s]"},
		{"dynamic interfaces", g.DynamicInterfaces.V, true},
	}
	s := cfg.Script("chk_http")
	checks = append(checks, []check{
		{"script", s.Script.V, "/usr/bin/curl -sf http://127.0.0.1/"},
		{"script interval", s.Interval.V, 2 * time.Second},
		{"script timeout", s.Timeout.V, 2 * time.Second},
		{"script weight", fmt.Sprint(s.Weight.V, s.Reverse), "-20 true"},
		{"script rise/fall", fmt.Sprint(s.Rise.V, s.Fall.V), "3 2"},
		{"script user", s.User.V + ":" + s.Group.V, "nobody:nogroup"},
		{"script init_fail", s.InitFail.V, true},
	}...)
	tf := cfg.TrackFile("tf_maint")
	checks = append(checks, []check{
		{"track file", tf.File.V, "/var/run/maint"},
		{"track file weight", fmt.Sprint(tf.Weight.V, tf.Reverse), "-10 true"},
		{"track file init", tf.InitFile.V, InitFile{Value: 0, Overwrite: true}},
	}...)
	v := cfg.Instance("VI_1")
	checks = append(checks, []check{
		{"state", v.State.V, StateBackup},
		{"interface", v.Interface.V, "eth0"},
		{"vrid", v.VirtualRouterID.V, 51},
		{"priority", v.Priority.V, 150},
		{"advert_int", v.AdvertInt.V, 250 * ms},
		{"advert_int seconds", v.AdvertIntSeconds(), 0.25},
		{"version from global", fmt.Sprint(v.Version.V, v.Version.Set), "3 false"},
		{"nopreempt", v.Nopreempt.V, true},
		{"preempt_delay", v.PreemptDelay.V, 30 * time.Second},
		{"unicast_src_ip", v.UnicastSrcIP.V.String(), "10.99.0.1"},
		{"unicast_ttl", v.UnicastTTL.V, 64},
		{"peers", fmt.Sprint(v.UnicastPeers[0].Addr, v.UnicastPeers[1].Addr), "10.99.0.2 10.99.0.3"},
		{"check_unicast_src", v.CheckUnicastSrc.V, true},
		{"unicast_fault_no_peer", v.UnicastFaultNoPeer.V, true},
		{"mcast dst from global", v.McastDstIP.V.String(), "224.0.0.19"},
		{"excluded", v.VirtualIPAddressesExcluded[0].Prefix.String(), "2001:db8::50/64"},
		{"notify_master", v.NotifyMaster.V.Script, "/etc/keepalived/notify.sh master"},
		{"notify_backup", v.NotifyBackup.V.Script, "/etc/keepalived/notify.sh"},
		{"notify_fault user", v.NotifyFault.V.User, "root"},
		{"notify_stop", v.NotifyStop.V.Script, "/etc/keepalived/notify.sh stop"},
		{"notify", v.Notify.V.Script, "/etc/keepalived/notify-all.sh"},
		{"notify rx lower", v.NotifyMasterRxLowerPri.V.Script, "/bin/true"},
		{"notify_priority_changes", v.NotifyPriorityChanges.V, true},
		{"smtp_alert", v.SMTPAlert.V, true},
		{"garp_master_delay", v.GarpMasterDelay.V, time.Second},
		{"garp_master_repeat", v.GarpMasterRepeat.V, 2},
		{"garp_master_refresh", v.GarpMasterRefresh.V, 30 * time.Second},
		{"garp_master_refresh_repeat", v.GarpMasterRefreshRepeat.V, 1},
		{"garp_lower_prio_delay", fmt.Sprint(v.GarpLowerPrioDelay.V, v.GarpLowerPrioDelay.Set), "0s true"},
		{"garp_lower_prio_repeat", v.GarpLowerPrioRepeat.V, 1},
		{"use_vmac", fmt.Sprintln(v.UseVMAC.V.Enabled, v.UseVMAC.V.Name, v.UseVMAC.V.MAC), "true vrrp51 02:00:5e:00:01:33\n"},
		{"vmac_xmit_base", v.VMACXmitBase.V, true},
		{"dont_track_primary", v.DontTrackPrimary.V, true},
		{"no_accept", fmt.Sprint(v.Accept.V, v.Accept.Set), "false true"},
		{"higher_prio_send_advert overrides global", fmt.Sprint(v.HigherPrioSendAdvert.V, v.HigherPrioSendAdvert.Set), "false true"},
		{"down_timer_adverts", v.DownTimerAdverts.V, 5},
		{"promote_secondaries", v.PromoteSecondaries.V, true},
		{"skip_check_adv_addr from global", v.SkipCheckAdvAddr.V, true},
	}...)
	runChecks(t, checks)

	// Addresses.
	want := []struct {
		prefix, brd, dev, label, scope string
		noTrack                        bool
	}{
		{"10.99.0.50/24", "10.99.0.255", "eth0", "eth0:vip", "global", false},
		{"10.99.0.51/32", "invalid IP", "eth1", "", "link", true},
		{"10.99.0.52/24", "10.99.0.255", "", "", "", false},
		{"10.99.0.53/32", "invalid IP", "", "", "", false},
	}
	if len(v.VirtualIPAddresses) != len(want) {
		t.Fatalf("VIPs = %d", len(v.VirtualIPAddresses))
	}
	for i, w := range want {
		a := v.VirtualIPAddresses[i]
		got := []string{a.Prefix.String(), a.Broadcast.String(), a.Dev, a.Label, a.Scope, fmt.Sprint(a.NoTrack)}
		exp := []string{w.prefix, w.brd, w.dev, w.label, w.scope, fmt.Sprint(w.noTrack)}
		if strings.Join(got, ",") != strings.Join(exp, ",") {
			t.Errorf("VIP %d = %v, want %v", i, got, exp)
		}
	}
	a := v.VirtualIPAddresses[3]
	if a.Peer.String() != "10.99.0.254/32" || !a.Home || !a.NoDAD || !a.NoPrefixRoute || a.PreferredLft != "0" {
		t.Errorf("VIP 3 flags = %+v", a)
	}

	// Routes.
	r := v.VirtualRoutes
	if len(r) != 4 {
		t.Fatalf("routes = %d", len(r))
	}
	if r[0].Src.String() != "10.99.0.50" || r[0].Dest.String() != "192.168.10.0/24" || r[0].Via.String() != "10.99.0.254" ||
		r[0].Dev != "eth0" || r[0].Table != "100" || r[0].Metric.V != 5 {
		t.Errorf("route 0 = %+v", r[0])
	}
	if r[1].Dest.String() != "192.168.20.0/24" || r[1].Scope != "link" || !r[1].NoTrack || r[1].Options["protocol"] != "static" || r[1].Options["mtu"] != "lock 1400" {
		t.Errorf("route 1 = %+v", r[1])
	}
	if r[2].Type != "blackhole" || r[2].Dest.String() != "192.168.30.0/24" {
		t.Errorf("route 2 = %+v", r[2])
	}
	if r[3].Dest.String() != "0.0.0.0/0" || r[3].Via.String() != "10.99.0.254" {
		t.Errorf("route 3 = %+v", r[3])
	}
	// Rules.
	if ru := v.VirtualRules; len(ru) != 2 || ru[0].From.String() != "10.99.0.50/32" || ru[0].Table != "100" || ru[0].Preference.V != 1000 ||
		ru[1].To.String() != "192.168.0.0/16" || ru[1].Table != "main" || !ru[1].NoTrack {
		t.Errorf("rules = %+v %+v", ru[0], ru[1])
	}
	// Tracking.
	ti := v.TrackInterfaces
	if len(ti) != 3 || ti[0].Name != "eth1" || ti[0].Weight.Set || ti[1].Weight.V != -30 || ti[2].Weight.V != 10 || !ti[2].Reverse {
		t.Errorf("track_interface = %+v", ti)
	}
	ts := v.TrackScripts
	if len(ts) != 2 || ts[0].Name != "chk_http" || ts[0].Weight.Set || ts[1].Name != "chk_tcp" || ts[1].Weight.V != 5 || ts[1].Reverse {
		t.Errorf("track_script = %+v", ts)
	}
	if tfr := v.TrackFiles; len(tfr) != 1 || tfr[0].Name != "tf_maint" || tfr[0].Weight.V != -1 {
		t.Errorf("track_file = %+v", tfr)
	}
}

func TestInstanceDefaults(t *testing.T) {
	cfg := mustParse(t, instSrc(""))
	noWarnings(t, cfg)
	v := cfg.Instances[0]
	if v.State.V != StateBackup || v.Priority.V != 100 || v.AdvertInt.V != time.Second || v.Version.V != 2 ||
		v.Nopreempt.V || v.PreemptDelay.V != 0 || !v.Accept.V || v.UnicastTTL.V != 255 ||
		v.McastDstIP.V != netip.MustParseAddr("224.0.0.18") || v.GarpMasterDelay.V != 5*time.Second ||
		v.GarpMasterRepeat.V != 5 || v.GarpMasterRefresh.V != 0 || v.GarpMasterRefreshRepeat.V != 1 ||
		v.GarpLowerPrioDelay.V != 5*time.Second || v.GarpLowerPrioRepeat.V != 5 || v.DownTimerAdverts.V != 3 ||
		v.HigherPrioSendAdvert.V || v.UseVMAC.V.Enabled {
		t.Errorf("defaults: %+v", v)
	}
	for _, set := range []bool{v.State.Set, v.Priority.Set, v.AdvertInt.Set, v.Version.Set, v.Accept.Set} {
		if set {
			t.Errorf("a default is marked Set")
		}
	}

	// state MASTER without priority means 255 (address owner).
	v = mustParse(t, instSrc("state MASTER")).Instances[0]
	if v.Priority.V != 255 || v.Priority.Set {
		t.Errorf("MASTER priority = %d", v.Priority.V)
	}
	// priority 255 without state means MASTER.
	v = mustParse(t, instSrc("priority 255")).Instances[0]
	if v.State.V != StateMaster {
		t.Errorf("prio 255 state = %v", v.State.V)
	}
	// vrrp_strict: no accept by default.
	v = mustParse(t, "global_defs {\n vrrp_strict\n}\n"+instSrc("")).Instances[0]
	if v.Accept.V || !v.StrictMode.V {
		t.Errorf("strict: accept %v strict %v", v.Accept.V, v.StrictMode.V)
	}
	// Global GARP settings reach instances; lower-prio values follow them.
	v = mustParse(t, "global_defs {\n vrrp_garp_master_delay 1\n vrrp_garp_master_repeat 2\n vrrp_garp_lower_prio_repeat 7\n}\n"+instSrc("")).Instances[0]
	if v.GarpMasterDelay.V != time.Second || v.GarpMasterRepeat.V != 2 || v.GarpLowerPrioDelay.V != time.Second || v.GarpLowerPrioRepeat.V != 7 {
		t.Errorf("garp: %v %v %v %v", v.GarpMasterDelay.V, v.GarpMasterRepeat.V, v.GarpLowerPrioDelay.V, v.GarpLowerPrioRepeat.V)
	}
}

func TestInstanceAdjustments(t *testing.T) {
	// IPv6 VIPs force version 3 (silently when nothing asked for 2).
	cfg := mustParse(t, strings.Replace(instSrc(""), "10.99.0.50/24", "2001:db8::1/64", 1))
	noWarnings(t, cfg)
	if v := cfg.Instances[0]; v.Version.V != 3 || v.McastDstIP.V.String() != "ff02::12" {
		t.Errorf("v6: version %d mcast %s", v.Version.V, v.McastDstIP.V)
	}
	cfg = wantWarn(t, strings.Replace(instSrc("version 2"), "10.99.0.50/24", "2001:db8::1", 1), "need VRRP version 3")
	if cfg.Instances[0].Version.V != 3 {
		t.Errorf("version not forced")
	}
	// v2 fractional advert_int is rounded with a warning.
	cfg = wantWarn(t, instSrc("advert_int 1.6"), "advert_int: VRRPv2 needs whole seconds; 1.6s rounded to 2s")
	if cfg.Instances[0].AdvertInt.V != 2*time.Second {
		t.Errorf("advert_int = %v", cfg.Instances[0].AdvertInt.V)
	}
	cfg = wantWarn(t, instSrc("version 3\nadvert_int 0.015"), "10 ms units")
	if cfg.Instances[0].AdvertInt.V != 20*time.Millisecond {
		t.Errorf("advert_int = %v", cfg.Instances[0].AdvertInt.V)
	}
	wantErr(t, instSrc("version 3\nadvert_int 41"), ErrRange, "advert_int", "exceeds 40.95s")
	// nopreempt with state MASTER is reset to BACKUP.
	cfg = wantWarn(t, instSrc("state MASTER\npriority 100\nnopreempt"), "nopreempt needs initial state BACKUP")
	if cfg.Instances[0].State.V != StateBackup {
		t.Errorf("state not reset")
	}
	// "preempt" re-enables preemption.
	if v := mustParse(t, instSrc("nopreempt\npreempt")).Instances[0]; v.Nopreempt.V {
		t.Errorf("preempt did not re-enable")
	}
	wantWarn(t, instSrc("version 3\nauthentication {\n auth_type PASS\n auth_pass x\n}"), "not supported with VRRP version 3")
	wantWarn(t, "global_defs { vrrp_strict }\n"+instSrc("authentication {\n auth_type PASS\n auth_pass x\n}\nunicast_peer { 10.99.0.9 }"),
		"authentication: not allowed in strict mode", "unicast_peer: unicast is not allowed in strict mode")
}

func TestAuthentication(t *testing.T) {
	cfg := wantWarn(t, instSrc("authentication {\n auth_type PASS\n auth_pass s3cr3t-pass\n}"), "only the first 8 are used")
	a := cfg.Instances[0].Authentication
	if a.Type.V != AuthPass || a.Pass.V.Reveal() != "s3cr3t-pass" {
		t.Errorf("auth = %v %q", a.Type.V, a.Pass.V.Reveal())
	}
	// The password never shows up when printed or in warnings.
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%+v", *a), fmt.Sprintf("%#v", *a), fmt.Sprint(cfg.Warnings)} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("secret leaked: %s", s)
		}
	}
	cfg = mustParse(t, instSrc("authentication {\n auth_type AH\n auth_pass 1111\n}"))
	if cfg.Instances[0].Authentication.Type.V != AuthAH {
		t.Errorf("AH not parsed")
	}
	wantErr(t, instSrc("authentication {\n auth_type MD5\n}"), ErrValue, `keepalived.conf:9: vrrp_instance VI_1: authentication: auth_type: invalid value: "MD5" is not PASS or AH`)
	wantErr(t, instSrc("authentication {\n auth_type PASS\n}"), ErrMissing, "auth_pass is required")
	wantErr(t, instSrc("authentication {\n auth_pass x\n}"), ErrMissing, "auth_type is required")
}

func TestSyncGroup(t *testing.T) {
	src := instSrc("") + strings.NewReplacer("VI_1", "VI_2", "51", "52").Replace(instSrc("")) + `
vrrp_script chk { script /bin/true }
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
    track_script { chk weight 0 }
    track_interface { eth9 }
    notify_master "/bin/g master"
    notify_backup "/bin/g backup"
    notify_fault "/bin/g fault"
    notify_stop "/bin/g stop"
    notify /bin/g
    smtp_alert
    sync_group_tracking_weight
    global_tracking
}
`
	cfg := wantWarn(t, strings.Replace(src, "vrrp_script chk { script /bin/true }", "global_defs { enable_script_security }\nvrrp_script chk {\n script /bin/true\n}", 1),
		"global_tracking: deprecated")
	g := cfg.SyncGroups[0]
	if len(g.Group) != 2 || g.Group[1].V != "VI_2" || g.NotifyMaster.V.Script != "/bin/g master" || g.NotifyStop.V.Script != "/bin/g stop" ||
		g.Notify.V.Script != "/bin/g" || !g.SMTPAlert.V || !g.SyncGroupTrackingWeight.V || len(g.TrackScripts) != 1 ||
		!g.TrackScripts[0].Weight.Set || g.TrackInterfaces[0].Name != "eth9" {
		t.Errorf("group = %+v", g)
	}
}

func TestVRRPValueErrors(t *testing.T) {
	cases := []struct {
		name, body string
		sentinel   error
		sub        string
	}{
		{"vrid 0", "virtual_router_id 0", ErrRange, "virtual_router_id: value out of range: 0 not in 1..255"},
		{"vrid 256", "virtual_router_id 256", ErrRange, "virtual_router_id: value out of range: 256 not in 1..255"},
		{"vrid text", "virtual_router_id abc", ErrValue, `virtual_router_id: invalid value: "abc" is not an integer`},
		{"priority 0", "priority 0", ErrRange, "priority: value out of range"},
		{"priority 300", "priority 300", ErrRange, "priority: value out of range: 300 not in 1..255"},
		{"priority missing", "priority", ErrMissing, "priority: missing required value: expects a value"},
		{"advert_int bad", "advert_int 1.2.3", ErrValue, "advert_int: invalid value"},
		{"advert_int too precise", "advert_int 0.1234567", ErrValue, "up to 6 decimals"},
		{"advert_int 0", "advert_int 0", ErrRange, "advert_int: value out of range"},
		{"advert_int negative", "advert_int -1", ErrValue, "advert_int"},
		{"state", "state PRIMARY", ErrValue, `state: invalid value: "PRIMARY" is not MASTER or BACKUP`},
		{"version", "version 4", ErrRange, "version"},
		{"preempt_delay", "preempt_delay 1001", ErrRange, "preempt_delay"},
		{"vip", "virtual_ipaddress {\n 10.0.0.300\n}", ErrValue, `keepalived.conf:9: vrrp_instance VI_1: virtual_ipaddress: 10.0.0.300: invalid value: "10.0.0.300" is not an IP address`},
		{"vip prefix", "virtual_ipaddress {\n 10.0.0.3/33\n}", ErrRange, "prefix length 33"},
		{"vip dev missing", "virtual_ipaddress {\n 10.0.0.3 dev\n}", ErrMissing, "dev needs a value"},
		{"vip scope", "virtual_ipaddress {\n 10.0.0.3 scope planet\n}", ErrValue, "is not a scope"},
		{"vip brd family", "virtual_ipaddress {\n 10.0.0.3 brd ::1\n}", ErrValue, "different families"},
		{"vip label", "virtual_ipaddress {\n 10.0.0.3 label abcdefghijklmnopq\n}", ErrValue, "longer than 15"},
		{"peer", "unicast_peer {\n 10.0.0.x\n}", ErrValue, `unicast_peer: 10.0.0.x: invalid value`},
		{"peer ttl", "unicast_peer {\n 10.0.0.1 min_ttl 300\n}", ErrRange, "300 not in 0..255"},
		{"src ip", "unicast_src_ip fe80::1%eth0", ErrValue, "unicast_src_ip"},
		{"mcast dst", "mcast_dst_ip 10.0.0.1", ErrValue, "not a multicast address"},
		{"interface long", "interface abcdefghijklmnop", ErrValue, "interface: invalid value"},
		{"track weight", "track_interface {\n eth1 weight 254\n}", ErrRange, "254 not in -253..253"},
		{"track weight missing", "track_script {\n s weight\n}", ErrMissing, "weight needs a value"},
		{"track file weight", "track_file {\n f weight -255\n}", ErrRange, "-255 not in -254..254"},
		{"bool", "smtp_alert maybe", ErrValue, `"maybe" is not a boolean`},
		{"use_vmac mac", "use_vmac vrrp1 00:11:22:33:44:zz", ErrValue, "not a MAC address"},
		{"route", "virtual_routes {\n 10.0.0.0/8 via 10.0.0.x\n}", ErrValue, "invalid value"},
		{"route family", "virtual_routes {\n 10.0.0.0/8 via 2001:db8::1\n}", ErrValue, "different families"},
		{"route no dest", "virtual_routes {\n via 10.0.0.1\n}", ErrMissing, "no destination"},
		{"notify empty", `notify_master ""`, ErrMissing, "empty script"},
		{"block where value expected", "virtual_ipaddress 10.0.0.1", ErrSyntax, "virtual_ipaddress: syntax error: expects a { } block"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, instSrc(c.body), c.sentinel, "keepalived.conf:", c.sub) })
	}
}

func TestVRRPMissingRequired(t *testing.T) {
	wantErr(t, "vrrp_instance X {\n interface eth0\n}\n", ErrMissing, "keepalived.conf:1: vrrp_instance X: virtual_router_id: missing required value")
	wantErr(t, "vrrp_instance X {\n virtual_router_id 4\n}\n", ErrMissing, "keepalived.conf:1: vrrp_instance X: interface: missing required value")
	// interface may be omitted with unicast peers.
	mustParse(t, "vrrp_instance X {\n virtual_router_id 4\n unicast_peer { 10.0.0.2 }\n virtual_ipaddress { 10.0.0.1 }\n}\n")
	wantErr(t, "vrrp_script s {\n interval 2\n}\n", ErrMissing, "keepalived.conf:1: vrrp_script s: missing required value: script is required")
	wantErr(t, "track_file f {\n weight 2\n}\n", ErrMissing, "track_file f: missing required value: file is required")
}

func TestValidateVRRP(t *testing.T) {
	two := instSrc("") + strings.NewReplacer("VI_1", "VI_2").Replace(instSrc(""))
	wantErr(t, two, ErrDuplicate, "keepalived.conf:", "vrrp_instance VI_2: virtual_router_id", `VRID 51 on "eth0" already used by vrrp_instance VI_1`)
	// Same VRID on another interface or family is fine.
	mustParse(t, instSrc("")+strings.NewReplacer("VI_1", "VI_2", "eth0", "eth1").Replace(instSrc("")))
	mustParse(t, instSrc("")+strings.NewReplacer("VI_1", "VI_2", "10.99.0.50/24", "2001:db8::5").Replace(instSrc("")))
	wantErr(t, instSrc("")+strings.Replace(instSrc(""), "51", "52", 1), ErrDuplicate, "vrrp_instance VI_1: duplicate definition: also defined at keepalived.conf:2")
	wantErr(t, instSrc("track_script {\n missing\n}"), ErrReference, `keepalived.conf:9: vrrp_instance VI_1: track_script: undefined reference: no vrrp_script named "missing"`)
	wantErr(t, instSrc("track_file {\n nofile\n}"), ErrReference, `no track_file named "nofile"`)
	wantErr(t, instSrc("")+"vrrp_sync_group G {\n group {\n VI_1\n VI_9\n }\n}\n", ErrReference, `keepalived.conf:13: vrrp_sync_group G: group: undefined reference: no vrrp_instance named "VI_9"`)
	wantErr(t, instSrc("")+"vrrp_sync_group G {\n group { VI_1 }\n}\nvrrp_sync_group H {\n group { VI_1 }\n}\n", ErrConflict, `instance "VI_1" is already in sync group "G"`)
	wantErr(t, instSrc("")+"vrrp_sync_group G {\n group { VI_1 VI_1 }\n}\n", ErrDuplicate, "listed twice")
	wantWarn(t, instSrc("")+"vrrp_sync_group G {\n group { VI_1 }\n}\n", "sync group has only one instance")
	wantErr(t, strings.Replace(instSrc(""), "10.99.0.50/24", "10.99.0.50/24\n 2001:db8::1", 1), ErrConflict, "virtual_ipaddress", "use virtual_ipaddress_excluded")
	wantErr(t, instSrc("unicast_peer {\n 2001:db8::2\n}"), ErrConflict, "unicast_peer", "different families")
	wantErr(t, instSrc("unicast_src_ip 2001:db8::2"), ErrConflict, "unicast_src_ip")
	wantWarn(t, "vrrp_instance E {\n interface eth0\n virtual_router_id 3\n}\n", "no virtual_ipaddress")
}
