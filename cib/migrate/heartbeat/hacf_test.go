package heartbeat

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const baseCF = "bcast eth0\nnode n1 n2\nauto_failback on\n"

func TestParseHBTime(t *testing.T) {
	good := map[string]time.Duration{
		"2": 2 * time.Second, "1.5": 1500 * time.Millisecond, "500ms": 500 * time.Millisecond,
		"2s": 2 * time.Second, "0.25sec": 250 * time.Millisecond, "100us": 100 * time.Microsecond,
		"750msec": 750 * time.Millisecond, "0": 0, "30S": 30 * time.Second,
	}
	for in, want := range good {
		got, err := ParseHBTime(in)
		if err != nil || got != want {
			t.Errorf("ParseHBTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "2x", "ms", "1e3", "NaN", "Inf", "0x10", "1..2", "99999999999", "+1", "1_0"} {
		if d, err := ParseHBTime(in); err == nil {
			t.Errorf("ParseHBTime(%q) = %v, want an error", in, d)
		}
	}
}

func TestHACFErrors(t *testing.T) {
	cases := []struct {
		text, want string
		sentinel   error
	}{
		{baseCF + "keepalive 2\nfrobnicate 1\n", "ha.cf:5: frobnicate: unknown directive", ErrUnknownDirective},
		{baseCF + "keepalive\n", "ha.cf:4: keepalive: needs at least 1 argument(s), got 0", ErrSyntax},
		{baseCF + "keepalive 2 3\n", "ha.cf:4: keepalive: takes at most 1", ErrSyntax},
		{baseCF + "deadtime soon\n", "ha.cf:4: deadtime: bad time \"soon\"", ErrSyntax},
		{baseCF + "keepalive 0\n", "ha.cf:4: keepalive: must be greater than 0", ErrInvalid},
		{baseCF + "keepalive 10\ndeadtime 5\n", "ha.cf:5: deadtime 5s must be greater than keepalive 10s", ErrInvalid},
		{"node n1\nauto_failback on\n", "ha.cf: no communication medium", ErrInvalid},
		{"bcast eth0\n", "no node lines and autojoin is none", ErrInvalid},
		{baseCF + "auto_failback maybe\n", "ha.cf:4: auto_failback: bad value \"maybe\"", ErrSyntax},
		{baseCF + "udpport 70000\n", "ha.cf:4: udpport: bad port \"70000\"", ErrSyntax},
		{baseCF + "mcast eth0 10.0.0.1 694 1 0\n", "ha.cf:4: mcast: bad multicast group \"10.0.0.1\"", ErrSyntax},
		{baseCF + "mcast eth0 239.0.0.1 694 300 0\n", "bad ttl \"300\"", ErrSyntax},
		{baseCF + "mcast eth0 239.0.0.1 694 1 2\n", "bad loop \"2\"", ErrSyntax},
		{baseCF + "mcast6 eth0 239.0.0.1 694 1 0\n", "mcast6: bad multicast group", ErrSyntax},
		{baseCF + "ucast eth0 fe80::1\n", "ha.cf:4: ucast: peer \"fe80::1\" is not an IPv4 address", ErrSyntax},
		{baseCF + "ucast eth0 a/b\n", "bad peer address \"a/b\"", ErrSyntax},
		{baseCF + "crm maybe\n", "ha.cf:4: crm: bad value", ErrSyntax},
		{baseCF + "debug 256\n", "ha.cf:4: debug: bad level", ErrSyntax},
		{baseCF + "apiauth ipfail user=x\n", "apiauth: bad argument \"user=x\"", ErrSyntax},
		{baseCF + "autojoin sometimes\n", "autojoin: bad value", ErrSyntax},
		{baseCF + "node bad/name\n", "ha.cf:4: node: invalid node name", ErrSyntax},
		{baseCF + "compression\n", "ha.cf:4: compression: needs an argument", ErrSyntax},
		{"# caf\xe9\n\xff", "ha.cf:2: not valid UTF-8", ErrSyntax},
		{baseCF + "logfile /x\x1b\n", "ha.cf:4: control character", ErrSyntax},
	}
	for _, c := range cases {
		_, err := ParseHACF("ha.cf", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, c.sentinel) {
			t.Errorf("%q: error %v, want %q wrapping %v", c.text, err, c.want, c.sentinel)
		}
	}
}

func warningsText(ws []Warning) string {
	var s []string
	for _, w := range ws {
		s = append(s, w.String())
	}
	return strings.Join(s, "\n")
}

func TestHACFSemantics(t *testing.T) {
	text := "udpport 700\n" + // overridden before use
		"udpport 701\n" +
		"bcast eth0 eth1\n" +
		"ucast eth2 10.0.0.2\n" +
		"ucast6 eth2 fe80::2\n" +
		"udpport 702\n" +
		"ucast eth3 peerhost\n" +
		"mcast eth4 239.1.2.3 5405 2 1\n" +
		"baud 38400\n" +
		"serial /dev/ttyS1\n" +
		"udpport 703\n" + // affects nothing
		"node Alpha beta\nnode alpha\n" +
		"keepalive 1\nkeepalive 2\n" +
		"nice_failback on\n" +
		"crm off\n" +
		"hopfudge 1\n" +
		"ping_group g 10.0.0.1 10.0.0.2\nping 10.0.0.3 10.0.0.4\n" +
		"stonith baytech /etc/ha.d/conf/stonith.baytech\n" +
		"use_logd yes\ndebug 3\nautojoin other\n"
	cf, err := ParseHACF("ha.cf", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range cf.Media {
		got = append(got, m.Kind+" "+m.Dev+" "+m.Addr+" "+strconv.Itoa(m.Port))
	}
	want := "bcast eth0  701|bcast eth1  701|ucast eth2 10.0.0.2 701|ucast6 eth2 fe80::2 701|ucast eth3 peerhost 702|mcast eth4 239.1.2.3 5405|serial /dev/ttyS1  0"
	if strings.Join(got, "|") != want {
		t.Errorf("media:\n got  %s\n want %s", strings.Join(got, "|"), want)
	}
	if cf.Media[6].Baud != 38400 || !cf.Media[5].Loop || cf.Media[5].TTL != 2 {
		t.Errorf("serial/mcast details: %+v %+v", cf.Media[6], cf.Media[5])
	}
	if strings.Join(cf.Nodes, ",") != "alpha,beta" {
		t.Errorf("nodes %v", cf.Nodes)
	}
	if cf.Keepalive != 2*time.Second || cf.AutoFailback != "off" || cf.AutoFailbackFrom != "nice_failback" || cf.CRMEnabled {
		t.Errorf("keepalive %v af %q/%q crm %v", cf.Keepalive, cf.AutoFailback, cf.AutoFailbackFrom, cf.CRMEnabled)
	}
	if len(cf.Ping) != 3 || cf.Ping[0].Group != "g" || len(cf.Stonith) != 1 || !cf.UseLogd || cf.Debug != 3 || cf.Autojoin != "other" {
		t.Errorf("ping %+v stonith %v", cf.Ping, cf.Stonith)
	}
	ws := warningsText(cf.Warnings)
	for _, w := range []string{
		"ha.cf:1: udpport 700 is overridden at line 2",
		"ha.cf:11: udpport 703 affects no medium",
		"ha.cf:7: ucast peer \"peerhost\" is a host name",
		"ha.cf:10: serial /dev/ttyS1: serial rings are not supported",
		"ha.cf:13: node alpha already declared at line 12",
		"ha.cf:15: keepalive repeated (first at line 14)",
		"ha.cf:16: nice_failback is obsolete; nice_failback on means auto_failback off",
		"ha.cf:18: hopfudge: heartbeat tuning/internal directive",
	} {
		if !strings.Contains(ws, w) {
			t.Errorf("warnings lack %q:\n%s", w, ws)
		}
	}
}

func TestAutoFailbackValues(t *testing.T) {
	for line, want := range map[string]string{
		"auto_failback on": "on", "auto_failback true": "on", "auto_failback Yes": "on", "auto_failback 1": "on",
		"auto_failback off": "off", "auto_failback n": "off", "auto_failback legacy": "legacy",
		"": "legacy", "nice_failback off": "on", "nice_failback on\nauto_failback on": "on",
	} {
		cf, err := ParseHACF("ha.cf", []byte("bcast eth0\nnode a\n"+line+"\n"))
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if cf.AutoFailback != want {
			t.Errorf("%q: auto_failback %q, want %q", line, cf.AutoFailback, want)
		}
	}
}

func TestHACFTimerWarnings(t *testing.T) {
	cf, err := ParseHACF("ha.cf", []byte(baseCF+"keepalive 2\ndeadtime 3\nwarntime 5\ninitdead 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	ws := warningsText(cf.Warnings)
	for _, w := range []string{"ha.cf:5: deadtime 3s is less than twice keepalive 2s", "ha.cf:6: warntime 5s is not below deadtime 3s", "ha.cf:7: initdead 4s is below twice deadtime 3s"} {
		if !strings.Contains(ws, w) {
			t.Errorf("warnings lack %q:\n%s", w, ws)
		}
	}
}
