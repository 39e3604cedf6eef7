package keepalived

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestCommentsAndQuotes(t *testing.T) {
	cfg := mustParse(t, `
! bang comment
# hash comment
global_defs {   # trailing comment
   router_id  lb-1 ! another
}
vrrp_script chk {
    script "/bin/check --flag 'a b' # not a comment"   # comment
    weight -4 reverse
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress { 10.0.0.1 }
    track_script { chk }
    notify_master "/usr/bin/notify master" root wheel
}
`)
	if got := cfg.Global.RouterID.V; got != "lb-1" {
		t.Errorf("router_id = %q", got)
	}
	s := cfg.Script("chk")
	if s == nil || s.Script.V != "/bin/check --flag 'a b' # not a comment" {
		t.Fatalf("script = %+v", s)
	}
	if s.Weight.V != -4 || !s.Reverse {
		t.Errorf("weight = %d reverse=%v", s.Weight.V, s.Reverse)
	}
	v := cfg.Instance("VI_1")
	if v.Interface.V != "eth0" {
		t.Errorf("interface = %q", v.Interface.V)
	}
	if n := v.NotifyMaster.V; n.Script != "/usr/bin/notify master" || n.User != "root" || n.Group != "wheel" {
		t.Errorf("notify_master = %+v", n)
	}
	if got := v.NotifyMaster.V.Argv(); strings.Join(got, "|") != "/usr/bin/notify|master" {
		t.Errorf("argv = %q", got)
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string]string{
		`a b  c`:              "a|b|c",
		`sh -c 'echo "x y"'`:  `sh|-c|echo "x y"`,
		`x "a b" c\ d`:        "x|a b|c d",
		`  `:                  "",
		`''`:                  "",
		`cmd ''`:              "cmd|",
		`/bin/check_haproxy`:  "/bin/check_haproxy",
		`"</dev/tcp/1.2.3.4"`: "</dev/tcp/1.2.3.4",
	} {
		if got := strings.Join(SplitCommand(in), "|"); got != want {
			t.Errorf("SplitCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBraceStyles(t *testing.T) {
	cfg := mustParse(t, `
vrrp_instance VI_1
{
    interface eth0
    virtual_router_id 51
    virtual_ipaddress { 10.0.0.1 10.0.0.9 }
    unicast_peer {
        10.0.0.2
        10.0.0.3 min_ttl 254 max_ttl 255
    }
}
vrrp_sync_group G { group { VI_1 } }
`)
	v := cfg.Instance("VI_1")
	if v == nil || v.VirtualRouterID.V != 51 {
		t.Fatalf("instance = %+v", v)
	}
	// "{ 10.0.0.1 10.0.0.9 }" on one line: first word is the address, the
	// second an unknown option.
	if len(v.VirtualIPAddresses) != 1 {
		t.Errorf("VIPs = %d", len(v.VirtualIPAddresses))
	}
	if len(v.UnicastPeers) != 2 || v.UnicastPeers[1].MinTTL.V != 254 || v.UnicastPeers[1].MaxTTL.V != 255 || !v.CheckUnicastSrc.V {
		t.Errorf("peers = %+v", v.UnicastPeers)
	}
	if g := cfg.SyncGroups; len(g) != 1 || len(g[0].Group) != 1 || g[0].Group[0].V != "VI_1" {
		t.Errorf("sync groups = %+v", g)
	}
	found := false
	for _, w := range cfg.Warnings {
		if strings.Contains(w.String(), `unknown address option "10.0.0.9"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning for the second word: %v", cfg.Warnings)
	}
}

func TestPositions(t *testing.T) {
	cfg := mustParse(t, "global_defs {\n  router_id x\n}\n\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 9\n  priority 42\n  virtual_ipaddress {\n    10.1.1.1\n  }\n}\n")
	v := cfg.Instance("VI_1")
	checks := []struct {
		name string
		pos  Pos
		line int
	}{
		{"router_id", cfg.Global.RouterID.Pos, 2},
		{"instance", v.Pos, 5},
		{"interface", v.Interface.Pos, 6},
		{"vrid", v.VirtualRouterID.Pos, 7},
		{"priority", v.Priority.Pos, 8},
		{"vip", v.VirtualIPAddresses[0].Pos, 10},
	}
	for _, c := range checks {
		if c.pos.File != "keepalived.conf" || c.pos.Line != c.line {
			t.Errorf("%s at %s, want keepalived.conf:%d", c.name, c.pos, c.line)
		}
	}
	if v.AdvertInt.Set || v.AdvertInt.Pos.IsValid() {
		t.Errorf("default advert_int has a position: %+v", v.AdvertInt)
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct {
		name, src string
		sentinel  error
		subs      []string
	}{
		{"unclosed", "global_defs {\n router_id x\n", ErrSyntax, []string{"keepalived.conf:1:", "never closed"}},
		{"extra close", "global_defs {\n}\n}\n", ErrSyntax, []string{"keepalived.conf:3:", "unbalanced '}'"}},
		{"lonely brace", "{\n}\n", ErrSyntax, []string{"keepalived.conf:1:", "without a keyword"}},
		{"unterminated quote", "global_defs {\n router_id \"abc\n}\n", ErrSyntax, []string{"keepalived.conf:2:", "unterminated"}},
		{"deep nesting", strings.Repeat("a {\n", 40) + strings.Repeat("}\n", 40), ErrLimit, []string{"nested more than"}},
		{"block expected", "vrrp_instance VI_1\n", ErrSyntax, []string{"vrrp_instance: syntax error: expects a { } block"}},
		{"no name", "vrrp_instance {\n}\n", ErrMissing, []string{"expects a name"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.src, c.sentinel, c.subs...) })
	}
}

func TestUnknownKeywordsWarn(t *testing.T) {
	cfg := wantWarn(t, `
global_defs {
    router_id x
    frobnicate 1
    enable_snmp_vrrp
}
mystery_block {
    a b c
}
`+instSrc("    bogus_option 3\n    track_process { p }"),
		"keepalived.conf:4: global_defs: frobnicate: unknown keyword",
		"keepalived.conf:5: global_defs: enable_snmp_vrrp: keepalived option not supported by gocrm",
		"keepalived.conf:7: mystery_block: unknown keyword",
		"vrrp_instance VI_1: bogus_option: unknown keyword",
		"vrrp_instance VI_1: track_process: keepalived option not supported")
	if cfg.Global.RouterID.V != "x" {
		t.Errorf("router_id lost")
	}
}

func TestConditionalLines(t *testing.T) {
	src := `
@high  $PRIO=170
@low   $PRIO=85
@^high $ROLE=notHigh
@high  $ROLE=high
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
@high state MASTER
    priority $PRIO
    virtual_ipaddress { 10.1.0.254/32 }
    notify "/bin/n $ROLE"
}
`
	for id, want := range map[string]struct {
		prio  int
		state State
		role  string
	}{
		"high": {170, StateMaster, "high"},
		"low":  {85, StateBackup, "notHigh"},
	} {
		cfg := mustParse(t, src, Options{ConfigID: id})
		v := cfg.Instance("VI_1")
		if v.Priority.V != want.prio || v.State.V != want.state || v.Notify.V.Script != "/bin/n "+want.role {
			t.Errorf("id %s: prio %d state %v notify %q", id, v.Priority.V, v.State.V, v.Notify.V.Script)
		}
	}
	// No id: "priority $PRIO" stays literal and is a bad number.
	wantErr(t, src, ErrValue, `keepalived.conf:10: vrrp_instance VI_1: priority: invalid value: "$PRIO" is not an integer`)
}

func TestParameters(t *testing.T) {
	cfg := mustParse(t, `
$IF=eth1
$BASE=10.0.0
$VIP=${BASE}.100/24 dev $IF
$INST=vrrp_instance VI_$N { \
    interface $IF \
    virtual_router_id $N \
    virtual_ipaddress { $VIP } \
}
$N=7
$INST
$N=8
$INST
vrrp_script s {
    script "/bin/echo $HOME $1"
}
`)
	if len(cfg.Instances) != 2 {
		t.Fatalf("instances = %d", len(cfg.Instances))
	}
	// $N inside $INST was undefined when $INST was defined, so it is
	// substituted when $INST is used.
	for i, name := range []string{"VI_7", "VI_8"} {
		v := cfg.Instances[i]
		if v.Name != name || v.VirtualRouterID.V != 7+i || v.Interface.V != "eth1" {
			t.Errorf("instance %d = %s vrid %d if %s", i, v.Name, v.VirtualRouterID.V, v.Interface.V)
		}
		a := v.VirtualIPAddresses[0]
		if a.Prefix.String() != "10.0.0.100/24" || a.Dev != "eth1" {
			t.Errorf("vip = %+v", a)
		}
		if v.Pos.Line != 11+2*i {
			t.Errorf("instance %s at %s", name, v.Pos)
		}
	}
	if got := cfg.Script("s").Script.V; got != "/bin/echo $HOME $1" {
		t.Errorf("undefined parameters must stay literal: %q", got)
	}
}

func TestParameterExpansionLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("$A0=xxxxxxxxxxxxxxxx\n")
	for i := 1; i < 40; i++ {
		b.WriteString("$A" + strconv.Itoa(i) + "=$A" + strconv.Itoa(i-1) + "$A" + strconv.Itoa(i-1) + "\n")
	}
	b.WriteString("global_defs { router_id $A39 }\n")
	_, err := parseSrc(t, b.String())
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("err = %v, want ErrLimit", err)
	}
}

func TestSequenceUnsupported(t *testing.T) {
	wantWarn(t, "~SEQ(i,1,3) $X=$i\n", "keepalived.conf:1: ~SEQ: keepalived sequence/list expansion is not supported")
}
