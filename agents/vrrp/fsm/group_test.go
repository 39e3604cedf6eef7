package fsm

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func member(t *testing.T, name string, vrid uint8, tweak func(*Config)) *Instance {
	t.Helper()
	cfg := Config{Name: name, VRID: vrid, Version: 3, Priority: 100, AdvertInterval: time.Second,
		PrimaryAddr: netip.MustParseAddr("10.99.0.11")}
	if tweak != nil {
		tweak(&cfg)
	}
	in, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func at(s float64) time.Time { return epoch.Add(time.Duration(s * float64(time.Second))) }

func kinds(acts []GroupAction, inst string) []string {
	var out []string
	for _, a := range acts {
		if a.Instance == inst && a.Kind != SetTimer {
			out = append(out, a.Kind.String())
		}
	}
	return out
}

func groupNotify(acts []GroupAction) (State, bool) {
	for _, a := range acts {
		if a.Instance == "" && a.Kind == Notify {
			return a.State, true
		}
	}
	return 0, false
}

func step(t *testing.T, g *Group, m string, ev Event) []GroupAction {
	t.Helper()
	acts, err := g.Step(m, ev)
	if err != nil {
		t.Fatal(err)
	}
	return acts
}

func TestGroupMasterTogether(t *testing.T) {
	a := member(t, "VI_1", 51, nil)
	b := member(t, "VI_2", 52, func(c *Config) { c.Priority = 90 })
	g, err := NewGroup("VG_1", a, b)
	if err != nil {
		t.Fatal(err)
	}
	step(t, g, "VI_1", Start{At: at(0)})
	acts := step(t, g, "VI_2", Start{At: at(0)})
	if s, ok := groupNotify(acts); !ok || s != Backup {
		t.Fatalf("group notify after both started: %v %v", s, ok)
	}
	// VI_2 keeps hearing its master; VI_1's down timer expires first.
	step(t, g, "VI_2", AdvertReceived{At: at(3), Src: netip.MustParseAddr("10.99.0.12"), Priority: 200, Interval: time.Second})
	acts = step(t, g, "VI_1", TimerExpired{At: a.Deadline()})
	if a.State() != Master || b.State() != Master {
		t.Fatalf("states %v %v, want both Master", a.State(), b.State())
	}
	if got := kinds(acts, "VI_2"); !slices.Equal(got, []string{"SendAdvert", "AddVIPs", "SendGARP", "Notify"}) {
		t.Fatalf("VI_2 actions %v", got)
	}
	if s, ok := groupNotify(acts); !ok || s != Master {
		t.Fatalf("group notify %v %v", s, ok)
	}
	// A higher-priority advert on VI_2 makes the whole group BACKUP.
	acts = step(t, g, "VI_2", AdvertReceived{At: at(4), Src: netip.MustParseAddr("10.99.0.12"), Priority: 200, Interval: time.Second})
	if a.State() != Backup || b.State() != Backup {
		t.Fatalf("states %v %v, want both Backup", a.State(), b.State())
	}
	if got := kinds(acts, "VI_1"); !slices.Equal(got, []string{"RemoveVIPs", "Notify"}) {
		t.Fatalf("VI_1 actions %v", got)
	}
}

func TestGroupFaultTogether(t *testing.T) {
	a := member(t, "VI_1", 51, func(c *Config) { c.TrackInterfaces = []TrackInterface{{Name: "eth0"}} })
	b := member(t, "VI_2", 52, func(c *Config) { c.TrackScripts = []TrackScript{{Name: "chk"}} })
	g, err := NewGroup("VG_1", a, b)
	if err != nil {
		t.Fatal(err)
	}
	step(t, g, "VI_1", Start{At: at(0)})
	step(t, g, "VI_2", Start{At: at(0)})
	step(t, g, "VI_1", TimerExpired{At: a.Deadline()})
	if a.State() != Master || b.State() != Master {
		t.Fatalf("states %v %v", a.State(), b.State())
	}
	acts := step(t, g, "VI_1", InterfaceChanged{At: at(5), Name: "eth0", Up: false})
	if a.State() != Fault || b.State() != Fault {
		t.Fatalf("after eth0 down: %v %v, want both Fault", a.State(), b.State())
	}
	if got := kinds(acts, "VI_2"); !slices.Equal(got, []string{"SendAdvert", "RemoveVIPs", "Notify"}) {
		t.Fatalf("VI_2 actions %v", got)
	}
	if s, _ := groupNotify(acts); s != Fault {
		t.Fatalf("group notify %v", s)
	}
	// VI_2's own script fails too; eth0 coming back is not enough.
	step(t, g, "VI_2", ScriptResult{At: at(6), Name: "chk", OK: false})
	step(t, g, "VI_1", InterfaceChanged{At: at(7), Name: "eth0", Up: true})
	if a.State() != Fault || b.State() != Fault {
		t.Fatalf("one member still failing: %v %v, want both Fault", a.State(), b.State())
	}
	acts = step(t, g, "VI_2", ScriptResult{At: at(8), Name: "chk", OK: true})
	if a.State() != Backup || b.State() != Backup {
		t.Fatalf("all clear: %v %v, want both Backup", a.State(), b.State())
	}
	if s, _ := groupNotify(acts); s != Backup {
		t.Fatalf("group notify %v", s)
	}
	if !a.Deadline().Equal(at(8).Add(a.MasterDownInterval())) {
		t.Fatalf("VI_1 down timer %v", a.Deadline())
	}
}

func TestGroupStartInFault(t *testing.T) {
	a := member(t, "VI_1", 51, func(c *Config) { c.TrackScripts = []TrackScript{{Name: "chk", InitFail: true}} })
	b := member(t, "VI_2", 52, nil)
	g, _ := NewGroup("VG", a, b)
	step(t, g, "VI_1", Start{At: at(0)})
	acts := step(t, g, "VI_2", Start{At: at(0)})
	if b.State() != Fault {
		t.Fatalf("VI_2 %v, want Fault", b.State())
	}
	if got := kinds(acts, "VI_2"); !slices.Equal(got, []string{"RemoveVIPs", "Notify"}) {
		t.Fatalf("VI_2 went through another state first: %v", got)
	}
}

func TestGroupErrors(t *testing.T) {
	a := member(t, "VI_1", 51, nil)
	if _, err := NewGroup("G"); !errors.Is(err, ErrConfig) {
		t.Errorf("empty group: %v", err)
	}
	if _, err := NewGroup("G", a, a); !errors.Is(err, ErrConfig) {
		t.Errorf("duplicate member: %v", err)
	}
	if _, err := NewGroup("G", member(t, "", 1, nil)); !errors.Is(err, ErrConfig) {
		t.Errorf("unnamed member: %v", err)
	}
	g, _ := NewGroup("G", a)
	if _, err := g.Step("VI_9", Start{At: at(0)}); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("unknown member: %v", err)
	}
	if m, ok := g.Member("VI_1"); !ok || m != a {
		t.Errorf("Member lookup failed")
	}
}
