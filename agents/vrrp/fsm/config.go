// Package fsm is the VRRP state machine (RFC 3768 / RFC 5798 plus
// keepalived's additions) as a pure function of events: an Instance takes
// Step(event) and returns the actions its host must carry out (send an
// advert, add or remove the VIPs, send gratuitous ARP/NA, notify, re-arm the
// single timer). Time only enters through the events (an injected clock);
// there are no timers, goroutines or I/O inside, so every behaviour is
// reproducible in tests (see testdata/*.txt).
//
// Behaviour follows RFC 3768/5798 and keepalived 2.2.7 (vrrp.md §3-§4):
// Master_Down_Interval = DownTimerAdverts × master interval + skew, the skew
// computed in whole microseconds like keepalived (v2 in seconds, v3 scaled by
// the learned interval); priority 0 on shutdown and the skew-only takeover
// it triggers; priority 255 owners master at once; preempt, nopreempt (not
// with state MASTER), preempt_delay; GARP bursts (5 at once, 5 after 5 s).
// Deliberate differences from keepalived's defaults:
//
//   - a master yielding to a higher priority first sends one advert of its
//     own (keepalived's higher_prio_send_advert; NoHigherPrioSendAdvert turns
//     it off), and a master hearing a lower priority re-announces (advert +
//     GARP burst, at most one burst per second; LowerPrioNoAdvert turns it
//     off), so a healed partition never leaves clients on the loser's MAC
//     (vrrp.md §6.5; see TestPartitionHealReannounces);
//   - GARP refresh is on (one GARP per VIP every 60 s while master; a
//     negative GARP.MasterRefresh turns it off);
//   - a master entering FAULT (tracked interface, script or file) sends a
//     priority-0 advert so a backup takes over after its skew, not one MDI.
//
// The instance's own interface is not tracked implicitly: a host wanting
// keepalived's default (FAULT while the VRRP interface is down, unless
// dont_track_primary) adds it to TrackInterfaces with weight 0.
//
// An Instance, and a Group of instances (vrrp_sync_group), must be driven by
// one goroutine at a time; they hold no locks.
package fsm

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("vrrp fsm: invalid configuration")

// GARPConfig is keepalived's gratuitous ARP / unsolicited NA pattern.
// Zero fields take the defaults noted; a negative duration disables that
// burst.
type GARPConfig struct {
	// MasterRepeat GARPs per VIP when becoming master (default 5), and
	// again MasterDelay later (default 5 s; keepalived garp_master_delay).
	MasterDelay  time.Duration
	MasterRepeat int
	// MasterRefresh: periodic GARP while master (default 60 s; keepalived's
	// default is off, ours is on), MasterRefreshRepeat per period (1).
	MasterRefresh       time.Duration
	MasterRefreshRepeat int
	// LowerPrioRepeat GARPs when a master hears a lower-priority advert,
	// and again LowerPrioDelay later (defaults: the master values).
	LowerPrioDelay  time.Duration
	LowerPrioRepeat int
}

// TrackInterface is a track_interface entry. Weight 0: FAULT while the
// interface is down. Weight > 0: +Weight while up. Weight < 0: −|Weight|
// while down. Reverse swaps up and down.
type TrackInterface struct {
	Name    string
	Weight  int
	Reverse bool
}

// TrackScript is a vrrp_script referenced by track_script. Results arrive
// as ScriptResult events (the runner applies interval and timeout); Rise
// consecutive successes make a failed script OK, Fall consecutive failures
// make an OK script fail. Weight 0: FAULT while failed; > 0: +Weight while
// OK; < 0: −|Weight| while failed. Reverse swaps OK and failed. InitFail
// starts the script failed.
type TrackScript struct {
	Name     string
	Weight   int
	Rise     int // default 1
	Fall     int // default 1
	Reverse  bool
	InitFail bool
}

// TrackFile is a track_file: the integer read from the file (FileValue
// events) times Weight (default 1 when WeightSet is false) is added to the
// priority; with weight 0 a non-zero value means FAULT, and a contribution
// below −253 means FAULT too. Reverse negates the weight. InitValue is the
// value before the first event.
type TrackFile struct {
	Name      string
	Weight    int
	WeightSet bool
	Reverse   bool
	InitValue int
}

// Config is one vrrp_instance, as far as the state machine is concerned.
type Config struct {
	// Name identifies the instance in notifications.
	Name    string
	VRID    uint8
	Version uint8 // 2 or 3
	// Priority is the configured priority 1..255 (255 = address owner).
	Priority uint8
	// AdvertInterval: v2 whole seconds 1..255 s; v3 10 ms..40.95 s in
	// steps of 10 ms.
	AdvertInterval time.Duration
	// PrimaryAddr is this router's advert source address, compared with
	// the sender's on equal priorities.
	PrimaryAddr netip.Addr
	// InitialMaster is keepalived's "state MASTER". As in keepalived
	// 2.2.7 a non-owner still starts as BACKUP; it only makes nopreempt
	// ineffective.
	InitialMaster bool
	// NoPreempt: a backup never takes over from a lower-priority master.
	NoPreempt bool
	// PreemptDelay: lower-priority adverts are still accepted for this
	// long after the first one is seen (keepalived preempt_delay).
	PreemptDelay time.Duration
	// DownTimerAdverts replaces the factor 3 of the master down interval
	// (keepalived vrrp_down_timer_adverts, 1..100, default 3).
	DownTimerAdverts int
	GARP             GARPConfig
	// LowerPrioNoAdvert: a master does not answer a lower-priority advert
	// with its own advert and GARPs (keepalived lower_prio_no_advert).
	LowerPrioNoAdvert bool
	// NoHigherPrioSendAdvert disables our default of sending one advert of
	// our own before yielding to a higher-priority advert (keepalived's
	// higher_prio_send_advert, off there by default); it lets the new
	// master see a lower-priority advert and re-announce, closing
	// keepalived's partition-heal black hole (vrrp.md §6.5).
	NoHigherPrioSendAdvert bool
	TrackInterfaces        []TrackInterface
	TrackScripts           []TrackScript
	TrackFiles             []TrackFile
}

// Defaults.
const (
	DefaultDownTimerAdverts = 3
	DefaultGARPRepeat       = 5
	DefaultGARPDelay        = 5 * time.Second
	DefaultGARPRefresh      = 60 * time.Second
)

// normalize validates c and fills in defaults.
func (c Config) normalize() (Config, error) {
	bad := func(field string, format string, args ...any) (Config, error) {
		return c, fmt.Errorf("instance %q: %s: %s: %w", c.Name, field, fmt.Sprintf(format, args...), ErrConfig)
	}
	if c.VRID == 0 {
		return bad("virtual_router_id", "must be 1..255")
	}
	if c.Priority == 0 {
		return bad("priority", "must be 1..255")
	}
	switch c.Version {
	case 2:
		if c.AdvertInterval < time.Second || c.AdvertInterval > 255*time.Second || c.AdvertInterval%time.Second != 0 {
			return bad("advert_int", "%v: VRRPv2 needs whole seconds 1..255", c.AdvertInterval)
		}
	case 3:
		if c.AdvertInterval < 10*time.Millisecond || c.AdvertInterval > 4095*10*time.Millisecond ||
			c.AdvertInterval%(10*time.Millisecond) != 0 {
			return bad("advert_int", "%v: VRRPv3 needs 0.01..40.95 s in steps of 0.01 s", c.AdvertInterval)
		}
	default:
		return bad("version", "%d: must be 2 or 3", c.Version)
	}
	if !c.PrimaryAddr.IsValid() {
		return bad("source address", "missing")
	}
	if c.PreemptDelay < 0 || c.PreemptDelay > 1000*time.Second {
		return bad("preempt_delay", "%v: must be 0..1000 s", c.PreemptDelay)
	}
	if c.DownTimerAdverts == 0 {
		c.DownTimerAdverts = DefaultDownTimerAdverts
	}
	if c.DownTimerAdverts < 1 || c.DownTimerAdverts > 100 {
		return bad("down_timer_adverts", "%d: must be 1..100", c.DownTimerAdverts)
	}
	g := &c.GARP
	if g.MasterRepeat == 0 {
		g.MasterRepeat = DefaultGARPRepeat
	}
	if g.MasterDelay == 0 {
		g.MasterDelay = DefaultGARPDelay
	}
	if g.MasterRefresh == 0 {
		g.MasterRefresh = DefaultGARPRefresh
	}
	if g.MasterRefreshRepeat == 0 {
		g.MasterRefreshRepeat = 1
	}
	if g.LowerPrioRepeat == 0 {
		g.LowerPrioRepeat = g.MasterRepeat
	}
	if g.LowerPrioDelay == 0 {
		g.LowerPrioDelay = g.MasterDelay
	}
	if g.MasterRepeat < 0 || g.MasterRefreshRepeat < 0 || g.LowerPrioRepeat < 0 {
		return bad("garp repeat", "must not be negative")
	}
	names := map[string]bool{}
	for i, t := range c.TrackInterfaces {
		if t.Name == "" || t.Weight < -253 || t.Weight > 253 {
			return bad(fmt.Sprintf("track_interface[%d]", i), "%q weight %d: need a name and -253..253", t.Name, t.Weight)
		}
	}
	for i := range c.TrackScripts {
		t := &c.TrackScripts[i]
		if t.Name == "" || names["script:"+t.Name] || t.Weight < -253 || t.Weight > 253 {
			return bad(fmt.Sprintf("track_script[%d]", i), "%q weight %d: need a unique name and -253..253", t.Name, t.Weight)
		}
		names["script:"+t.Name] = true
		if t.Rise == 0 {
			t.Rise = 1
		}
		if t.Fall == 0 {
			t.Fall = 1
		}
		if t.Rise < 1 || t.Fall < 1 {
			return bad(fmt.Sprintf("track_script[%d]", i), "%q rise %d fall %d: must be ≥ 1", t.Name, t.Rise, t.Fall)
		}
	}
	for i := range c.TrackFiles {
		t := &c.TrackFiles[i]
		if !t.WeightSet && t.Weight == 0 {
			t.Weight = 1
		}
		if t.Name == "" || names["file:"+t.Name] || t.Weight < -254 || t.Weight > 254 {
			return bad(fmt.Sprintf("track_file[%d]", i), "%q weight %d: need a unique name and -254..254", t.Name, t.Weight)
		}
		names["file:"+t.Name] = true
	}
	return c, nil
}
