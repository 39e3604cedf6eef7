package fsm

import (
	"testing"
	"time"
)

// FuzzParseDeviceSpec: configuration parsing never panics, and a parsed
// spec answers its queries without panicking either.
func FuzzParseDeviceSpec(f *testing.F) {
	f.Add("n1:1;n2:2,3", "n1:5s;n2:0s", "10s", "static-list", "3")
	f.Add("", "5", "", "", "")
	f.Add(";;:", "x:", "-1", "none", "-2")
	f.Fuzz(func(t *testing.T, hostMap, delayBase, delayMax, check, retries string) {
		s, err := ParseDeviceSpec("d", "fake", map[string]string{"pcmk_host_map": hostMap, "pcmk_delay_base": delayBase,
			"pcmk_delay_max": delayMax, "pcmk_host_check": check, "pcmk_reboot_retries": retries})
		if err != nil {
			return
		}
		for _, n := range s.StaticTargets() {
			if !s.CanFence(n, nil, false) && s.HostCheck == CheckStaticList {
				t.Errorf("static target %q not fenceable", n)
			}
			_ = s.Port(n)
		}
		if s.Tries(ActionReboot) < 1 {
			t.Error("tries below 1")
		}
		if d := deviceDelay(s, "n1", fixedRand(7)); d < 0 || (s.DelayMax > s.DelayBase.For("n1") && d > s.DelayMax) {
			t.Errorf("delay %v outside [0, %v]", d, s.DelayMax)
		}
	})
}

// FuzzUnmarshalRecord: history parsing never panics and what it accepts
// serialises to a fixed point.
func FuzzUnmarshalRecord(f *testing.F) {
	r := Record{ID: "a", Target: "n1", Action: ActionOff, Origin: "o", State: StateDone, Created: time.Unix(5, 0)}
	b, _ := r.Marshal()
	f.Add(b)
	f.Add([]byte(`{"id":"x"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := UnmarshalRecord(in)
		if err != nil {
			return
		}
		b1, err := r.Marshal()
		if err != nil {
			return // e.g. a year outside JSON's range
		}
		r2, err := UnmarshalRecord(b1)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b1, err)
		}
		b2, _ := r2.Marshal()
		if string(b1) != string(b2) {
			t.Errorf("not a fixed point:\n%s\n%s", b1, b2)
		}
	})
}

// FuzzParseLevel: topology parsing never panics.
func FuzzParseLevel(f *testing.F) {
	f.Add("n1", "", "", "", "1", "a,b")
	f.Add("", "n[0-9", "", "", "2", "a")
	f.Add("", "", "rack", "r1", "9", ",")
	f.Fuzz(func(t *testing.T, target, pattern, attr, value, index, devices string) {
		l, err := ParseLevel(LevelConfig{ID: "l", Target: target, TargetPattern: pattern, TargetAttribute: attr, TargetValue: value, Index: index, Devices: devices})
		if err != nil {
			return
		}
		topo, err := NewTopology(l)
		if err != nil {
			t.Fatal(err)
		}
		_ = topo.LevelsFor(target, map[string]string{attr: value})
	})
}
