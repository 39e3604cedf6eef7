package fsm

import (
	"net/netip"
	"testing"
	"time"
)

// FuzzInstance drives an instance with arbitrary event sequences and checks
// invariants after every step: VIPs are held exactly while Master, a Master
// always has its advert timer armed, a Backup its master down timer, Fault
// and Stop have no timer, the last Notify matches the state, and priority 0
// is only sent when leaving Master.
func FuzzInstance(f *testing.F) {
	f.Add(uint8(2), uint8(90), []byte{0, 1, 10, 2, 100, 1, 3, 0, 1, 40, 6})
	f.Add(uint8(3), uint8(255), []byte{0, 2, 0, 4, 1, 5, 0, 3, 1, 1, 6})
	f.Add(uint8(3), uint8(100), []byte{0, 1, 200, 2, 0, 1, 200, 2, 90, 4, 2, 3, 3, 5, 9})
	f.Fuzz(func(t *testing.T, version, prio uint8, ops []byte) {
		cfg := Config{Name: "VI", VRID: 1, Version: 2 + version%2, Priority: max(prio, 1),
			AdvertInterval: time.Second, PrimaryAddr: netip.MustParseAddr("10.0.0.5"),
			PreemptDelay:    time.Duration(prio%3) * time.Second,
			NoPreempt:       prio%5 == 0,
			TrackInterfaces: []TrackInterface{{Name: "eth0"}, {Name: "eth1", Weight: -30}},
			TrackScripts:    []TrackScript{{Name: "s", Weight: int(prio%7) - 3, Rise: 2, Fall: 2}},
			TrackFiles:      []TrackFile{{Name: "f", Weight: int(prio%5) - 2, WeightSet: true}}}
		if cfg.Version == 3 {
			cfg.AdvertInterval = time.Duration(1+int(prio)%100) * 10 * time.Millisecond
		}
		in, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		now := epoch
		held := false
		for k := 0; k+1 < len(ops) && k < 400; k += 2 {
			op, arg := ops[k], ops[k+1]
			now = now.Add(time.Duration(arg) * 7 * time.Millisecond)
			var ev Event
			switch op % 8 {
			case 0:
				ev = Start{At: now}
			case 1:
				ev = TimerExpired{At: maxTime(now, in.Deadline())}
				now = ev.When()
			case 2:
				ev = AdvertReceived{At: now, Priority: arg, Src: netip.AddrFrom4([4]byte{10, 0, 0, arg % 10}),
					Interval: time.Duration(arg%50+1) * 10 * time.Millisecond}
			case 3:
				ev = InterfaceChanged{At: now, Name: []string{"eth0", "eth1", "x"}[arg%3], Up: arg&4 != 0}
			case 4:
				ev = ScriptResult{At: now, Name: "s", OK: arg&1 != 0}
			case 5:
				ev = FileValue{At: now, Name: "f", Value: int(int8(arg))}
			case 6:
				ev = Shutdown{At: now}
			default:
				ev = TimerExpired{At: now}
			}
			before := in.State()
			acts := in.Step(ev)
			var lastNotify *Action
			for n := range acts {
				a := acts[n]
				switch a.Kind {
				case AddVIPs:
					held = true
				case RemoveVIPs:
					held = false
				case Notify:
					lastNotify = &acts[n]
				case SendAdvert:
					if a.Priority == 0 && before != Master {
						t.Fatalf("priority 0 sent from %v: %v", before, acts)
					}
					if a.Priority != 0 && a.Priority != in.Priority() && in.State() == Master {
						t.Fatalf("advert with priority %d, effective %d", a.Priority, in.Priority())
					}
				}
			}
			st := in.State()
			if held != (st == Master) {
				t.Fatalf("after %T: VIPs held=%v in %v (%v)", ev, held, st, acts)
			}
			if lastNotify != nil && lastNotify.State != st {
				t.Fatalf("notified %v, state %v", lastNotify.State, st)
			}
			if st != before && st != Initialize && lastNotify == nil {
				t.Fatalf("%v → %v without Notify", before, st)
			}
			d := in.Deadline()
			switch st {
			case Master:
				if d.IsZero() || d.After(now.Add(cfg.AdvertInterval)) {
					t.Fatalf("master timer %v at %v", d, now)
				}
			case Backup:
				// A running down timer keeps the MDI it was started with
				// (the priority may have changed since): bound it by the
				// largest possible MDI.
				limit := time.Duration(in.cfg.DownTimerAdverts)*in.MasterAdverInterval() + max(time.Second, in.MasterAdverInterval())
				if d.IsZero() || d.After(now.Add(limit)) {
					t.Fatalf("backup timer %v at %v (MDI %v)", d, now, in.MasterDownInterval())
				}
			case Fault, Stopped, Initialize:
				if !d.IsZero() {
					t.Fatalf("timer armed in %v", st)
				}
			}
			if p := in.Priority(); p == 0 || (cfg.Priority == 255 && p != 255) {
				t.Fatalf("effective priority %d", p)
			}
		}
	})
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
