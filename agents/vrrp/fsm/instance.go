package fsm

import (
	"fmt"
	"time"
)

type scriptState struct {
	ok    bool
	count int // consecutive results disagreeing with ok
}

// Instance is one VRRP instance's state machine. It is not safe for
// concurrent use: one goroutine (or a Group) drives it.
type Instance struct {
	cfg   Config
	state State
	since time.Time
	now   time.Time

	prio       uint8 // effective priority
	ownFault   bool
	groupFault bool
	faultWhy   string

	masterAdverInt time.Duration // learned (v3) master interval

	downAt, advertAt, garpAt, refreshAt time.Time
	garpCount                           int
	preemptSince                        time.Time
	lastLowerGARP                       time.Time

	ifaceUp map[string]bool
	scripts map[string]*scriptState
	files   map[string]int

	timer time.Time // last deadline handed to the host
	out   []Action
}

// New validates cfg and returns an instance in Initialize; send it Start.
func New(cfg Config) (*Instance, error) {
	c, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	i := &Instance{
		cfg:            c,
		ifaceUp:        map[string]bool{},
		scripts:        map[string]*scriptState{},
		files:          map[string]int{},
		masterAdverInt: c.AdvertInterval,
	}
	for _, t := range c.TrackInterfaces {
		i.ifaceUp[t.Name] = true
	}
	for _, t := range c.TrackScripts {
		i.scripts[t.Name] = &scriptState{ok: !t.InitFail}
	}
	for _, t := range c.TrackFiles {
		i.files[t.Name] = t.InitValue
	}
	i.prio, i.ownFault, i.faultWhy = i.tracking()
	return i, nil
}

// Config returns the normalized configuration (defaults filled in).
func (i *Instance) Config() Config { return i.cfg }

// State returns the current state.
func (i *Instance) State() State { return i.state }

// Since returns when the current state was entered.
func (i *Instance) Since() time.Time { return i.since }

// Priority returns the effective priority (configured priority adjusted by
// tracking weights).
func (i *Instance) Priority() uint8 { return i.prio }

// Deadline returns the pending timer deadline (zero if none).
func (i *Instance) Deadline() time.Time { return i.timer }

// MasterAdverInterval returns the master's advert interval in use for the
// master down interval (a v3 backup adopts the master's).
func (i *Instance) MasterAdverInterval() time.Duration { return i.masterAdverInt }

// SkewTime returns the current Skew_Time, computed in whole microseconds
// like keepalived: v2 (256−prio)/256 s, v3 (256−prio)×interval/256.
func (i *Instance) SkewTime() time.Duration {
	p := int64(256 - int(i.prio))
	if i.cfg.Version == 2 {
		return time.Duration(p*1_000_000/256) * time.Microsecond
	}
	cs := int64(i.masterAdverInt / (10 * time.Millisecond))
	return time.Duration(p*cs*625/16) * time.Microsecond
}

// MasterDownInterval returns DownTimerAdverts × master interval + skew.
func (i *Instance) MasterDownInterval() time.Duration {
	return time.Duration(i.cfg.DownTimerAdverts)*i.masterAdverInt + i.SkewTime()
}

func (i *Instance) preempt() bool {
	return !i.cfg.NoPreempt || i.cfg.InitialMaster || i.cfg.Priority == 255
}

// Step applies one event and returns the actions to carry out, in order.
// The slice is owned by the caller.
func (i *Instance) Step(ev Event) []Action {
	i.out = nil
	i.apply(ev)
	i.syncTimer()
	out := i.out
	i.out = nil
	return out
}

func (i *Instance) apply(ev Event) {
	if t := ev.When(); t.After(i.now) {
		i.now = t
	}
	if i.state == Stopped {
		return
	}
	switch e := ev.(type) {
	case Start:
		if i.state == Initialize {
			i.start()
		}
	case TimerExpired:
		i.expire()
	case AdvertReceived:
		i.advert(e)
	case InterfaceChanged:
		if _, ok := i.ifaceUp[e.Name]; ok && i.ifaceUp[e.Name] != e.Up {
			i.ifaceUp[e.Name] = e.Up
			i.reevaluate(fmt.Sprintf("interface %s %s", e.Name, upDown(e.Up)))
		}
	case ScriptResult:
		if st, ok := i.scripts[e.Name]; ok {
			if i.scriptResult(e.Name, st, e.OK) {
				i.reevaluate(fmt.Sprintf("script %s %s", e.Name, okFail(st.ok)))
			}
		}
	case FileValue:
		if v, ok := i.files[e.Name]; ok && v != e.Value {
			i.files[e.Name] = e.Value
			i.reevaluate(fmt.Sprintf("file %s = %d", e.Name, e.Value))
		}
	case Shutdown:
		i.shutdown()
	}
}

func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

func okFail(ok bool) string {
	if ok {
		return "ok"
	}
	return "failed"
}

func (i *Instance) scriptResult(name string, st *scriptState, ok bool) bool {
	if ok == st.ok {
		st.count = 0
		return false
	}
	st.count++
	need := 1
	for _, t := range i.cfg.TrackScripts {
		if t.Name == name {
			need = t.Fall
			if !st.ok {
				need = t.Rise
			}
		}
	}
	if st.count < need {
		return false
	}
	st.ok, st.count = ok, 0
	return true
}

// tracking computes the effective priority and fault condition from the
// tracked objects.
func (i *Instance) tracking() (uint8, bool, string) {
	sum := 0
	fault := ""
	add := func(weight int, good bool, what string) {
		switch {
		case weight == 0:
			if !good && fault == "" {
				fault = what
			}
		case weight > 0 && good, weight < 0 && !good:
			sum += weight
		}
	}
	for _, t := range i.cfg.TrackInterfaces {
		add(t.Weight, i.ifaceUp[t.Name] != t.Reverse, "interface "+t.Name+" down")
	}
	for _, t := range i.cfg.TrackScripts {
		add(t.Weight, i.scripts[t.Name].ok != t.Reverse, "script "+t.Name+" failed")
	}
	for _, t := range i.cfg.TrackFiles {
		v := max(min(i.files[t.Name], 1_000_000), -1_000_000)
		w := t.Weight
		if t.Reverse {
			w = -w
		}
		switch c := v * w; {
		case w == 0 && v != 0, c < -253:
			if fault == "" {
				fault = fmt.Sprintf("file %s = %d", t.Name, v)
			}
		default:
			sum += c
		}
	}
	if i.cfg.Priority == 255 {
		return 255, fault != "", fault
	}
	return uint8(max(1, min(254, int(i.cfg.Priority)+sum))), fault != "", fault
}

func (i *Instance) reevaluate(reason string) {
	i.prio, i.ownFault, i.faultWhy = i.tracking()
	i.applyFault(reason)
}

func (i *Instance) faulty() bool { return i.ownFault || i.groupFault }

func (i *Instance) applyFault(reason string) {
	switch i.state {
	case Initialize, Stopped:
	case Fault:
		if !i.faulty() {
			i.leaveFault(reason)
		}
	default:
		if i.faulty() {
			if i.ownFault {
				reason = i.faultWhy
			}
			i.enterFault(reason)
		}
	}
}

func (i *Instance) emit(a Action) { i.out = append(i.out, a) }

func (i *Instance) notify(reason string) {
	i.emit(Action{Kind: Notify, State: i.state, Priority: i.prio, Reason: reason})
}

func (i *Instance) clearTimers() {
	i.downAt, i.advertAt, i.garpAt, i.refreshAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	i.preemptSince = time.Time{}
}

func (i *Instance) start() {
	switch {
	case i.faulty():
		i.enterFault(i.faultWhy)
	case i.cfg.Priority == 255:
		i.becomeMaster("address owner (priority 255)")
	default:
		i.becomeBackup("start-up")
	}
}

func (i *Instance) becomeMaster(reason string) {
	i.clearTimers()
	i.state, i.since = Master, i.now
	i.emit(Action{Kind: SendAdvert, Priority: i.prio})
	i.emit(Action{Kind: AddVIPs})
	g := i.cfg.GARP
	if g.MasterRepeat > 0 {
		i.emit(Action{Kind: SendGARP, Count: g.MasterRepeat})
		if g.MasterDelay > 0 {
			i.garpAt, i.garpCount = i.now.Add(g.MasterDelay), g.MasterRepeat
		}
	}
	if g.MasterRefresh > 0 && g.MasterRefreshRepeat > 0 {
		i.refreshAt = i.now.Add(g.MasterRefresh)
	}
	i.advertAt = i.now.Add(i.cfg.AdvertInterval)
	i.lastLowerGARP = time.Time{}
	i.notify(reason)
}

// becomeBackup enters Backup. VIPs are always removed: at start-up this
// deletes stale copies left by a crashed predecessor.
func (i *Instance) becomeBackup(reason string) {
	i.clearTimers()
	i.state, i.since = Backup, i.now
	i.emit(Action{Kind: RemoveVIPs})
	i.downAt = i.now.Add(i.MasterDownInterval())
	i.notify(reason)
}

func (i *Instance) enterFault(reason string) {
	if i.state == Master {
		// Let a backup take over after its skew instead of a full MDI.
		i.emit(Action{Kind: SendAdvert, Priority: 0})
	}
	i.clearTimers()
	i.state, i.since = Fault, i.now
	i.emit(Action{Kind: RemoveVIPs})
	i.notify(reason)
}

func (i *Instance) leaveFault(reason string) {
	if i.cfg.Priority == 255 {
		i.becomeMaster(reason)
		return
	}
	i.masterAdverInt = i.cfg.AdvertInterval
	i.becomeBackup(reason)
}

func (i *Instance) shutdown() {
	if i.state == Master {
		i.emit(Action{Kind: SendAdvert, Priority: 0})
	}
	i.clearTimers()
	i.state, i.since = Stopped, i.now
	i.emit(Action{Kind: RemoveVIPs})
	i.notify("shutdown")
}

// expire handles every deadline that has passed, in deadline order.
func (i *Instance) expire() {
	for range 16 { // each handler moves its deadline past now
		var due *time.Time
		for _, d := range []*time.Time{&i.downAt, &i.advertAt, &i.garpAt, &i.refreshAt} {
			if !d.IsZero() && !d.After(i.now) && (due == nil || d.Before(*due)) {
				due = d
			}
		}
		if due == nil {
			return
		}
		switch due {
		case &i.downAt:
			i.downAt = time.Time{}
			if i.state == Backup {
				i.becomeMaster("master down timer expired")
			}
		case &i.advertAt:
			i.emit(Action{Kind: SendAdvert, Priority: i.prio})
			i.advertAt = i.now.Add(i.cfg.AdvertInterval)
		case &i.garpAt:
			i.emit(Action{Kind: SendGARP, Count: i.garpCount})
			i.garpAt = time.Time{}
		case &i.refreshAt:
			i.emit(Action{Kind: SendGARP, Count: i.cfg.GARP.MasterRefreshRepeat})
			i.refreshAt = i.now.Add(i.cfg.GARP.MasterRefresh)
		}
	}
}

func (i *Instance) adopt(iv time.Duration) {
	if i.cfg.Version == 3 && iv > 0 {
		i.masterAdverInt = iv
	}
}

func (i *Instance) advert(e AdvertReceived) {
	switch i.state {
	case Backup:
		if e.Priority == 0 {
			i.downAt = i.now.Add(i.SkewTime())
			return
		}
		lower := e.Priority < i.prio
		accept := !i.preempt() || !lower
		if accept {
			if !lower {
				i.preemptSince = time.Time{}
			}
		} else if d := i.cfg.PreemptDelay; d > 0 {
			if i.preemptSince.IsZero() {
				i.preemptSince = i.now
			}
			accept = i.now.Sub(i.preemptSince) < d
		}
		if accept {
			i.adopt(e.Interval)
			i.downAt = i.now.Add(i.MasterDownInterval())
		}
	case Master:
		if e.Priority == 0 {
			i.emit(Action{Kind: SendAdvert, Priority: i.prio})
			i.advertAt = i.now.Add(i.cfg.AdvertInterval)
			return
		}
		if e.Priority > i.prio || (e.Priority == i.prio && e.Src.Compare(i.cfg.PrimaryAddr) > 0) {
			if !i.cfg.NoHigherPrioSendAdvert {
				i.emit(Action{Kind: SendAdvert, Priority: i.prio})
			}
			i.adopt(e.Interval)
			i.becomeBackup(fmt.Sprintf("higher priority advert from %v (priority %d)", e.Src, e.Priority))
			return
		}
		if i.cfg.LowerPrioNoAdvert {
			return
		}
		// Lower priority: another master exists (e.g. a healed partition).
		// Re-announce so that it yields and clients relearn our MAC.
		i.emit(Action{Kind: SendAdvert, Priority: i.prio})
		i.advertAt = i.now.Add(i.cfg.AdvertInterval)
		g := i.cfg.GARP
		if g.LowerPrioRepeat > 0 && (i.lastLowerGARP.IsZero() ||
			i.now.Sub(i.lastLowerGARP) >= max(time.Second, i.cfg.AdvertInterval)) {
			i.lastLowerGARP = i.now
			i.emit(Action{Kind: SendGARP, Count: g.LowerPrioRepeat})
			if g.LowerPrioDelay > 0 {
				i.garpAt, i.garpCount = i.now.Add(g.LowerPrioDelay), g.LowerPrioRepeat
			}
		}
	}
}

// syncTimer emits SetTimer when the earliest deadline changed.
func (i *Instance) syncTimer() {
	var next time.Time
	for _, d := range []time.Time{i.downAt, i.advertAt, i.garpAt, i.refreshAt} {
		if !d.IsZero() && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	if !next.Equal(i.timer) {
		i.timer = next
		i.emit(Action{Kind: SetTimer, At: next})
	}
}
