package fsm

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/packet"
)

func validConfig() Config {
	return Config{Name: "VI_1", VRID: 51, Version: 2, Priority: 100, AdvertInterval: time.Second,
		PrimaryAddr: netip.MustParseAddr("10.99.0.11")}
}

func TestConfigValidation(t *testing.T) {
	cases := map[string]struct {
		mut   func(*Config)
		field string
	}{
		"vrid 0":           {func(c *Config) { c.VRID = 0 }, "virtual_router_id"},
		"priority 0":       {func(c *Config) { c.Priority = 0 }, "priority"},
		"version 4":        {func(c *Config) { c.Version = 4 }, "version"},
		"v2 fractional":    {func(c *Config) { c.AdvertInterval = 1500 * time.Millisecond }, "advert_int"},
		"v2 zero":          {func(c *Config) { c.AdvertInterval = 0 }, "advert_int"},
		"v2 256 s":         {func(c *Config) { c.AdvertInterval = 256 * time.Second }, "advert_int"},
		"v3 5 ms":          {func(c *Config) { c.Version, c.AdvertInterval = 3, 5*time.Millisecond }, "advert_int"},
		"v3 15 ms":         {func(c *Config) { c.Version, c.AdvertInterval = 3, 15*time.Millisecond }, "advert_int"},
		"v3 41 s":          {func(c *Config) { c.Version, c.AdvertInterval = 3, 41*time.Second }, "advert_int"},
		"no source":        {func(c *Config) { c.PrimaryAddr = netip.Addr{} }, "source"},
		"preempt_delay":    {func(c *Config) { c.PreemptDelay = 2000 * time.Second }, "preempt_delay"},
		"down adverts":     {func(c *Config) { c.DownTimerAdverts = 101 }, "down_timer_adverts"},
		"garp negative":    {func(c *Config) { c.GARP.MasterRepeat = -1 }, "garp"},
		"iface weight":     {func(c *Config) { c.TrackInterfaces = []TrackInterface{{Name: "eth0", Weight: 254}} }, "track_interface[0]"},
		"iface no name":    {func(c *Config) { c.TrackInterfaces = []TrackInterface{{}} }, "track_interface[0]"},
		"script dup":       {func(c *Config) { c.TrackScripts = []TrackScript{{Name: "a"}, {Name: "a"}} }, "track_script[1]"},
		"script fall":      {func(c *Config) { c.TrackScripts = []TrackScript{{Name: "a", Fall: -1}} }, "track_script[0]"},
		"file weight":      {func(c *Config) { c.TrackFiles = []TrackFile{{Name: "f", Weight: 255}} }, "track_file[0]"},
		"file no name":     {func(c *Config) { c.TrackFiles = []TrackFile{{}} }, "track_file[0]"},
		"script bad wght":  {func(c *Config) { c.TrackScripts = []TrackScript{{Name: "a", Weight: -254}} }, "track_script[0]"},
		"file dup":         {func(c *Config) { c.TrackFiles = []TrackFile{{Name: "f"}, {Name: "f"}} }, "track_file[1]"},
		"v3 centiseconds":  {nil, ""},
		"v3 40.95 s":       {func(c *Config) { c.Version, c.AdvertInterval = 3, 40950*time.Millisecond }, ""},
		"v2 255 s":         {func(c *Config) { c.AdvertInterval = 255 * time.Second }, ""},
		"owner":            {func(c *Config) { c.Priority = 255 }, ""},
		"file weight zero": {func(c *Config) { c.TrackFiles = []TrackFile{{Name: "f", WeightSet: true}} }, ""},
	}
	for name, c := range cases {
		cfg := validConfig()
		if name == "v3 centiseconds" {
			cfg.Version, cfg.AdvertInterval = 3, 10*time.Millisecond
		}
		if c.mut != nil {
			c.mut(&cfg)
		}
		_, err := New(cfg)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), "VI_1") {
			t.Errorf("%s: err = %v, want ErrConfig naming %q and the instance", name, err, c.field)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	in, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	c := in.Config()
	if c.DownTimerAdverts != 3 || c.GARP.MasterRepeat != 5 || c.GARP.MasterDelay != 5*time.Second ||
		c.GARP.LowerPrioRepeat != 5 || c.GARP.LowerPrioDelay != 5*time.Second || c.GARP.MasterRefresh != time.Minute ||
		c.GARP.MasterRefreshRepeat != 1 {
		t.Fatalf("defaults %+v", c)
	}
	w := validConfig()
	w.TrackFiles = []TrackFile{{Name: "f"}}
	in, _ = New(w)
	if in.Config().TrackFiles[0].Weight != 1 {
		t.Fatalf("track_file default weight %d, want 1", in.Config().TrackFiles[0].Weight)
	}
}

// TestTimerTable checks every row of vrrp.md §3's table.
func TestTimerTable(t *testing.T) {
	rows := []struct {
		version  uint8
		interval time.Duration
		prio     uint8
		skew     time.Duration
		mdi      time.Duration
	}{
		{2, time.Second, 90, 648437 * time.Microsecond, 3648437 * time.Microsecond},
		{2, time.Second, 100, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{3, time.Second, 90, 648437 * time.Microsecond, 3648437 * time.Microsecond},
		{3, time.Second, 100, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{3, 200 * time.Millisecond, 90, 129687 * time.Microsecond, 729687 * time.Microsecond},
		{3, 200 * time.Millisecond, 100, 121875 * time.Microsecond, 721875 * time.Microsecond},
		{3, 100 * time.Millisecond, 90, 64843 * time.Microsecond, 364843 * time.Microsecond},
		{3, 100 * time.Millisecond, 100, 60937 * time.Microsecond, 360937 * time.Microsecond},
		{2, time.Second, 128, 500 * time.Millisecond, 3500 * time.Millisecond},
		{2, 3 * time.Second, 90, 648437 * time.Microsecond, 9648437 * time.Microsecond}, // v2 skew does not scale
	}
	for _, r := range rows {
		c := validConfig()
		c.Version, c.AdvertInterval, c.Priority = r.version, r.interval, r.prio
		in, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		if in.SkewTime() != r.skew || in.MasterDownInterval() != r.mdi {
			t.Errorf("v%d %v prio %d: skew %v MDI %v, want %v %v", r.version, r.interval, r.prio,
				in.SkewTime(), in.MasterDownInterval(), r.skew, r.mdi)
		}
	}
}

func TestAdvertFromPacket(t *testing.T) {
	src := netip.MustParseAddr("10.99.0.11")
	p := &packet.Packet{Src: src, Advert: packet.Advert{Version: 3, Priority: 100, Interval: 10}}
	e := AdvertFromPacket(epoch, p)
	if e.Interval != 100*time.Millisecond || e.Priority != 100 || e.Src != src || !e.At.Equal(epoch) {
		t.Fatalf("v3 event %+v", e)
	}
	p.Advert.Version, p.Advert.Interval = 2, 2
	if e := AdvertFromPacket(epoch, p); e.Interval != 2*time.Second {
		t.Fatalf("v2 interval %v", e.Interval)
	}
}

func TestStateNames(t *testing.T) {
	for s := Initialize; s <= Stopped; s++ {
		got, err := ParseState(strings.ToUpper(s.String()))
		if err != nil || got != s {
			t.Errorf("ParseState(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseState("LEADER"); err == nil {
		t.Error("unknown state parsed")
	}
}

// TestIgnoredEvents: unknown tracked names, events before Start and time
// going backwards change nothing.
func TestIgnoredEvents(t *testing.T) {
	in, _ := New(validConfig())
	for _, ev := range []Event{
		AdvertReceived{At: epoch, Src: netip.MustParseAddr("10.99.0.12"), Priority: 200},
		InterfaceChanged{At: epoch, Name: "nope"},
		ScriptResult{At: epoch, Name: "nope"},
		FileValue{At: epoch, Name: "nope", Value: 9},
		TimerExpired{At: epoch},
	} {
		if acts := in.Step(ev); len(acts) != 0 || in.State() != Initialize {
			t.Fatalf("%T before start: %v, state %v", ev, acts, in.State())
		}
	}
	in.Step(Start{At: epoch.Add(time.Second)})
	d := in.Deadline()
	in.Step(TimerExpired{At: epoch}) // earlier than now: no effect
	if in.State() != Backup || !in.Deadline().Equal(d) {
		t.Fatalf("early timer changed state %v deadline %v", in.State(), in.Deadline())
	}
}
