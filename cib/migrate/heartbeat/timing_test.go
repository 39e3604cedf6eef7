package heartbeat

import (
	"strings"
	"testing"
	"time"
)

func TestMapTiming(t *testing.T) {
	cases := []struct {
		cf                   string
		pi, pt, susp, warn   time.Duration
		mult                 int
		grace                time.Duration
		explain, warnContain string
	}{
		{"keepalive 2\ndeadtime 30\nwarntime 10\ninitdead 120\n", 2 * time.Second, time.Second, 30 * time.Second, 10 * time.Second, 14, 120 * time.Second,
			"keepalive 2s → gossip probe interval 2s (probe timeout 1s)\ndeadtime 30s → node declared dead after 30s (1 failed probe round + suspicion multiplier 14 × 2s", ""},
		{"keepalive 500ms\ndeadtime 15\n", 500 * time.Millisecond, 250 * time.Millisecond, 15 * time.Second, 7500 * time.Millisecond, 29, 15 * time.Second,
			"warntime unset or not below deadtime, using deadtime/2 = 7.5s", ""},
		{"keepalive 2\ndeadtime 7\n", 2 * time.Second, time.Second, 8 * time.Second, 3500 * time.Millisecond, 3, 7 * time.Second,
			"node declared dead after 8s", "deadtime 7s is shorter than 4 probe rounds of keepalive 2s: nodes are declared dead after 8s instead"},
		{"", time.Second, 500 * time.Millisecond, 30 * time.Second, 15 * time.Second, 29, 30 * time.Second,
			"initdead unset or below deadtime, using deadtime 30s", ""},
		{"ping 10.0.0.1\ndeadping 45\n", time.Second, 500 * time.Millisecond, 30 * time.Second, 15 * time.Second, 29, 30 * time.Second,
			"deadping 45s → ping nodes count as unreachable after 45s", ""},
	}
	for _, c := range cases {
		cf, err := ParseHACF("ha.cf", []byte(baseCF+c.cf))
		if err != nil {
			t.Fatal(err)
		}
		tm, expl, ws := MapTiming(cf)
		if tm.ProbeInterval != c.pi || tm.ProbeTimeout != c.pt || tm.SuspicionTimeout != c.susp || tm.LateWarning != c.warn ||
			tm.SuspicionMult != c.mult || tm.StartupGrace != c.grace || tm.SuspicionMaxTimeoutMult != 1 {
			t.Errorf("%q: %+v", c.cf, tm)
		}
		if tm.SuspicionTimeout > tm.DeadTime && tm.SuspicionMult > MinSuspicionMult {
			t.Errorf("%q: detection %v exceeds deadtime %v", c.cf, tm.SuspicionTimeout, tm.DeadTime)
		}
		if !strings.Contains(expl, c.explain) {
			t.Errorf("%q: explanation\n%s\nlacks %q", c.cf, expl, c.explain)
		}
		if got := warningsText(ws); (c.warnContain == "") != (got == "") || !strings.Contains(got, c.warnContain) {
			t.Errorf("%q: warnings %q, want %q", c.cf, got, c.warnContain)
		}
	}
	// nil ha.cf: heartbeat defaults
	tm, _, _ := MapTiming(nil)
	if tm.Keepalive != DefaultKeepalive || tm.DeadTime != DefaultDeadTime {
		t.Errorf("nil: %+v", tm)
	}
}
