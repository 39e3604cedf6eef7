package dataplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
	"github.com/gocrm/gocrm/agents/vrrp/router"
	"github.com/gocrm/gocrm/agents/vrrp/track"
)

// Deps are the dataplane's injected dependencies.
type Deps struct {
	Net    Net
	Addrs  vip.AddrLinker
	Frames FrameSender
	// Links, if set, reports link state for track_interface.
	Links LinkWatcher
	// Runner runs vrrp_scripts and notify scripts (default track.ExecRunner).
	Runner track.Runner
	Clock  Clock        // default SystemClock
	Logger *slog.Logger // default: discard
	// Guard, if set, is kept informed of the installed VIPs (and, with
	// Config.CrashHandover, of the farewell adverts) for a helper that
	// acts if this process dies without stopping.
	Guard Guard
}

// InstanceStatus is a snapshot of one instance.
type InstanceStatus struct {
	Name     string
	Unit     string
	State    fsm.State
	Priority uint8
	Since    time.Time
	VIPs     bool // addresses installed
	Dropped  uint64
}

// Dataplane runs VRRP instances on real (or fake) sockets.
type Dataplane struct {
	deps    Deps
	cfg     Config
	reloadc chan reloadReq

	mu      sync.Mutex
	running bool
	status  map[string]InstanceStatus
}

type reloadReq struct {
	cfg  Config
	done chan error
}

// New checks cfg (every router must build) and returns a Dataplane; Run
// starts it.
func New(cfg Config, d Deps) (*Dataplane, error) {
	if d.Net == nil || d.Addrs == nil || d.Frames == nil {
		return nil, fmt.Errorf("dataplane needs Net, Addrs and Frames: %w", ErrConfig)
	}
	if d.Runner == nil {
		d.Runner = track.ExecRunner{}
	}
	if d.Clock == nil {
		d.Clock = SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if err := Check(cfg); err != nil {
		return nil, err
	}
	return &Dataplane{deps: d, cfg: cfg, reloadc: make(chan reloadReq), status: map[string]InstanceStatus{}}, nil
}

// Check validates cfg without touching the host: every router and sync
// group must build (a missing primary address is replaced by a placeholder
// of the right family).
func Check(cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	for _, u := range cfg.Units {
		var rs []*router.Router
		for _, in := range u.Instances {
			rc := in.Router
			if !rc.FSM.PrimaryAddr.IsValid() {
				rc.FSM.PrimaryAddr = netip.MustParseAddr("192.0.2.1")
				if rc.IPv6 {
					rc.FSM.PrimaryAddr = netip.MustParseAddr("fe80::1")
				}
			}
			r, err := router.New(rc)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrConfig, err)
			}
			rs = append(rs, r)
		}
		if u.Group {
			if _, err := router.NewGroup(u.Name, rs...); err != nil {
				return fmt.Errorf("%w: %w", ErrConfig, err)
			}
		}
	}
	return nil
}

// Status returns a snapshot of every running instance, keyed by name. Safe
// for concurrent use.
func (d *Dataplane) Status() map[string]InstanceStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]InstanceStatus, len(d.status))
	for k, v := range d.status {
		out[k] = v
	}
	return out
}

// Reload replaces the configuration of a running dataplane: units whose
// configuration is unchanged keep running undisturbed (no state change, no
// advert gap); removed or changed units stop gracefully (priority-0 advert,
// VIPs removed) and new or changed ones start. A configuration that does
// not check leaves everything as it was. Safe for concurrent use.
func (d *Dataplane) Reload(ctx context.Context, cfg Config) error {
	if err := Check(cfg); err != nil {
		return err
	}
	req := reloadReq{cfg: cfg, done: make(chan error, 1)}
	d.mu.Lock()
	running := d.running
	d.mu.Unlock()
	if !running {
		return ErrNotRunning
	}
	select {
	case d.reloadc <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run starts every unit and drives them until ctx ends, then shuts them
// down gracefully (priority-0 adverts from masters, VIPs removed, stop
// notifications) and returns nil. It returns an error at once if a unit
// cannot start (interface or sockets missing).
func (d *Dataplane) Run(ctx context.Context) error {
	l := newLoop(d)
	l.ref.start()
	defer l.close()
	if err := l.apply(d.cfg); err != nil {
		l.shutdownAll()
		return err
	}
	d.mu.Lock()
	d.running = true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.running = false
		d.mu.Unlock()
	}()
	l.startWatchers(ctx)
	l.run(ctx)
	l.handover = true
	l.shutdownAll()
	l.awaitTakeover()
	return nil
}

// --- the loop ---------------------------------------------------------------

type sockKey struct {
	ifname string
	v6     bool
	proto  int
}

type sock struct {
	key  sockKey
	conn Conn
	refs int
	done chan struct{}
}

type rxPacket struct {
	key sockKey
	b   []byte
	at  time.Time // when the kernel received it (else when Read returned)
}

type trackEvent struct {
	script *fsm.ScriptResult
	file   *fsm.FileValue
	link   *fsm.InterfaceChanged
}

type unitState struct {
	cfg   Unit
	group *router.Group
	insts []*instState
}

type instState struct {
	cfg      Instance
	name     string
	unit     *unitState
	r        *router.Router
	send     *sock
	recv     []*sock
	ndst     int
	lifetime uint32
	vips     []vip.Addr // kernel form, with devs resolved
	devs     []string
	primary  netip.Addr
	tracked  map[string]bool // interfaces
	scripts  map[string]bool
	files    map[string]bool
	up       bool  // VIPs installed
	idx      []int // device index of each VIP, as installed (or last renewed)
	// gen counts installs and removals of the VIPs: a lifetime renewal
	// reported for an older generation is ignored (see refresher).
	gen uint64
	// links caches each VIP's link (zero Index: look it up) and frames
	// its gratuitous ARP / unsolicited NA frame (nil: build it); see vipLink.
	links  []vip.Link
	frames [][]byte
	// lastSends are the last adverts sent with a non-zero priority (the
	// guard's farewell is derived from them).
	lastSends []router.Datagram
	guarded   bool // the guard holds a current report
}

type loop struct {
	d     *Dataplane
	log   *slog.Logger
	units map[string]*unitState
	insts map[string]*instState
	socks map[sockKey]*sock
	rxc   chan rxPacket
	evc   chan trackEvent
	links map[string]bool
	last  time.Time
	fifo  *fifo
	// handover: at exit, a master keeps its VIPs after its priority-0
	// advert until another router's advert shows the takeover (bounded by
	// one master down interval), so clients are served until the new
	// master's gratuitous ARPs move them.
	handover bool
	pending  []*instState
	// ref renews the lifetime of masters' VIPs off this goroutine.
	ref *refresher

	watchWG     sync.WaitGroup // link watcher
	trackWG     sync.WaitGroup // scripts and files
	trackCancel context.CancelFunc
	bgWG        sync.WaitGroup // notify scripts, spaced GARP bursts
	bgCtx       context.Context
	bgCancel    context.CancelFunc
	rxWG        sync.WaitGroup
}

func newLoop(d *Dataplane) *loop {
	bg, cancel := context.WithCancel(context.Background())
	return &loop{
		d: d, log: d.deps.Logger,
		units: map[string]*unitState{}, insts: map[string]*instState{}, socks: map[sockKey]*sock{},
		rxc: make(chan rxPacket, 256), evc: make(chan trackEvent, 64), links: map[string]bool{},
		bgCtx: bg, bgCancel: cancel,
		ref: newRefresher(d.deps.Addrs),
	}
}

func (l *loop) now() time.Time {
	t := l.d.deps.Clock.Now()
	if t.Before(l.last) {
		t = l.last
	}
	l.last = t
	return t
}

// apply moves the running set of units to cfg.
func (l *loop) apply(cfg Config) error {
	want := map[string]Unit{}
	for _, u := range cfg.Units {
		want[u.Name] = u
	}
	for name, us := range l.units {
		if w, ok := want[name]; ok && reflect.DeepEqual(w, us.cfg) {
			continue
		}
		l.log.Info("stopping unit", "unit", name)
		l.stopUnit(us)
	}
	var errs []error
	for _, u := range cfg.Units {
		if _, ok := l.units[u.Name]; ok {
			continue
		}
		if err := l.startUnit(u); err != nil {
			errs = append(errs, err)
			l.log.Error("cannot start VRRP unit", "unit", u.Name, "err", err)
		}
	}
	l.d.cfg = cfg
	l.restartTracking(cfg)
	if l.fifo == nil && cfg.NotifyFIFO != "" {
		f, err := openFIFO(cfg.NotifyFIFO, cfg.NotifyFIFOScript, l.d.deps.Runner, l.log)
		if err != nil {
			l.log.Error("notify fifo", "path", cfg.NotifyFIFO, "err", err)
		} else {
			l.fifo = f
		}
	}
	return errors.Join(errs...)
}

func (l *loop) startUnit(u Unit) (err error) {
	us := &unitState{cfg: u}
	defer func() {
		if err != nil {
			for _, in := range us.insts {
				l.releaseSockets(in)
			}
		}
	}()
	var rs []*router.Router
	for _, ic := range u.Instances {
		in, err := l.buildInstance(us, ic)
		if err != nil {
			return fmt.Errorf("instance %q: %w", ic.Router.FSM.Name, err)
		}
		us.insts = append(us.insts, in)
		rs = append(rs, in.r)
	}
	if u.Group {
		g, err := router.NewGroup(u.Name, rs...)
		if err != nil {
			return fmt.Errorf("sync group %q: %w", u.Name, err)
		}
		us.group = g
	}
	l.units[u.Name] = us
	for _, in := range us.insts {
		l.insts[in.name] = in
		l.prepare(in)
	}
	for _, in := range us.insts {
		l.step(in, fsm.Start{At: l.now()})
	}
	// Tell the new instances the link states known so far.
	for _, in := range us.insts {
		for name := range in.tracked {
			if up, ok := l.links[name]; ok {
				l.step(in, fsm.InterfaceChanged{At: l.now(), Name: name, Up: up})
			}
		}
	}
	return nil
}

func (l *loop) buildInstance(us *unitState, ic Instance) (*instState, error) {
	in := &instState{cfg: ic, name: ic.Router.FSM.Name, unit: us,
		tracked: map[string]bool{}, scripts: map[string]bool{}, files: map[string]bool{}}
	rc := ic.Router
	link, err := l.d.deps.Addrs.LinkByName(ic.Interface)
	if err != nil {
		return nil, err
	}
	for _, v := range ic.Addresses {
		dev := v.Dev
		if dev == "" {
			dev = ic.Interface
		}
		a := vip.Addr{Prefix: v.Prefix, Label: v.Label, Broadcast: v.Broadcast}
		if v.Prefix.Addr().Is6() {
			a.Flags = vip.FlagNoDAD
		}
		in.vips = append(in.vips, a)
		in.devs = append(in.devs, dev)
	}
	if !rc.FSM.PrimaryAddr.IsValid() {
		p, err := l.primaryAddr(link, rc.IPv6, in.vips)
		if err != nil {
			return nil, err
		}
		rc.FSM.PrimaryAddr = p
	}
	in.primary = rc.FSM.PrimaryAddr
	r, err := router.New(rc)
	if err != nil {
		return nil, err
	}
	in.r = r
	cfg := r.Instance().Config()
	for _, t := range cfg.TrackInterfaces {
		in.tracked[t.Name] = true
	}
	for _, t := range cfg.TrackScripts {
		in.scripts[t.Name] = true
	}
	for _, t := range cfg.TrackFiles {
		in.files[t.Name] = true
	}
	in.ndst = 1
	if n := len(rc.UnicastPeers); n > 0 {
		in.ndst = n
	}
	lt := ic.VIPLifetime
	switch {
	case lt < 0:
		in.lifetime = vip.Forever
	case lt == 0:
		in.lifetime = uint32(Lifetime(cfg.AdvertInterval) / time.Second)
	default:
		in.lifetime = uint32(ceilSeconds(lt) / time.Second)
	}
	var groups []netip.Addr
	if len(rc.UnicastPeers) == 0 {
		g := rc.Group
		if !g.IsValid() {
			g = packet.GroupIPv4
			if rc.IPv6 {
				g = packet.GroupIPv6
			}
		}
		groups = []netip.Addr{g}
	}
	s, err := l.acquire(sockKey{ic.Interface, rc.IPv6, packet.ProtocolVRRP}, groups)
	if err != nil {
		return nil, err
	}
	in.send = s
	in.recv = append(in.recv, s)
	if rc.AuthType == packet.AuthAH && !rc.IPv6 && cfg.Version == 2 {
		s, err := l.acquire(sockKey{ic.Interface, false, 51}, groups)
		if err != nil {
			l.releaseSockets(in)
			return nil, err
		}
		in.recv = append(in.recv, s)
	}
	return in, nil
}

// primaryAddr picks the advert source: the interface's first IPv4 address,
// or its IPv6 link-local address, never one of the VIPs.
func (l *loop) primaryAddr(link vip.Link, v6 bool, vips []vip.Addr) (netip.Addr, error) {
	fam := 4
	if v6 {
		fam = 6
	}
	as, err := l.d.deps.Addrs.AddrList(link, fam)
	if err != nil {
		return netip.Addr{}, err
	}
outer:
	for _, a := range as {
		ip := a.Prefix.Addr()
		for _, v := range vips {
			if v.Prefix.Addr() == ip {
				continue outer
			}
		}
		if v6 && !ip.IsLinkLocalUnicast() {
			continue
		}
		if ip.Is4() != v6 {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("interface %s has no %s address to send adverts from: %w", link.Name,
		map[bool]string{false: "IPv4", true: "IPv6 link-local"}[v6], ErrConfig)
}

func (l *loop) acquire(k sockKey, groups []netip.Addr) (*sock, error) {
	if s, ok := l.socks[k]; ok {
		s.refs++
		return s, nil
	}
	c, err := l.d.deps.Net.Open(k.ifname, k.v6, k.proto, groups)
	if err != nil {
		return nil, err
	}
	s := &sock{key: k, conn: c, refs: 1, done: make(chan struct{})}
	l.socks[k] = s
	l.rxWG.Add(1)
	go l.receive(s)
	return s, nil
}

// receive is the socket's reader goroutine; it ends when the socket is
// closed.
func (l *loop) receive(s *sock) {
	defer l.rxWG.Done()
	buf := make([]byte, 65536)
	aged, _ := s.conn.(AgedConn)
	for {
		var (
			n   int
			age time.Duration
			err error
		)
		if aged != nil {
			n, age, err = aged.ReadAged(buf)
		} else {
			n, err = s.conn.Read(buf)
		}
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			l.log.Warn("vrrp socket read", "if", s.key.ifname, "err", err)
			select {
			case <-s.done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		// The kernel's receive time when known: the reader may have run
		// late (CPU contention), which must not delay the down timer.
		at := l.d.deps.Clock.Now().Add(-age)
		b := append([]byte(nil), buf[:n]...)
		select {
		case l.rxc <- rxPacket{key: s.key, b: b, at: at}:
		case <-s.done:
			return
		}
	}
}

func (l *loop) releaseSockets(in *instState) {
	for _, s := range in.recv {
		s.refs--
		if s.refs == 0 {
			close(s.done)
			s.conn.Close()
			delete(l.socks, s.key)
		}
	}
	in.recv, in.send = nil, nil
}

func (l *loop) stopUnit(us *unitState) {
	for _, in := range us.insts {
		l.step(in, fsm.Shutdown{At: l.now()})
	}
	for _, in := range us.insts {
		if in.up && !l.handover {
			l.removeVIPs(in) // the machine asked already; be sure
		}
		if l.handover {
			continue // sockets stay open for awaitTakeover
		}
		l.releaseSockets(in)
		delete(l.insts, in.name)
		l.d.mu.Lock()
		delete(l.d.status, in.name)
		l.d.mu.Unlock()
	}
	delete(l.units, us.cfg.Name)
}

func (l *loop) shutdownAll() {
	for _, us := range l.units {
		l.stopUnit(us)
	}
}

// maxHandover bounds how long an exiting master waits for a successor.
const maxHandover = 4 * time.Second

// handoverDrain is how long an exiting master keeps its VIPs after the
// successor's first advert: the successor's gratuitous ARPs follow its
// advert within a millisecond and move new connections, while requests
// already in flight to this node still complete.
const handoverDrain = 50 * time.Millisecond

// awaitTakeover removes the VIPs kept by handover shortly after a
// successor's advert (priority > 0, same VRID, on the instance's interface)
// is heard, or after one master down interval without one.
func (l *loop) awaitTakeover() {
	if len(l.pending) == 0 {
		return
	}
	wait := time.Duration(0)
	for _, in := range l.pending {
		wait = max(wait, in.r.Instance().MasterDownInterval())
	}
	wait = min(wait, maxHandover)
	deadline := l.d.deps.Clock.After(wait)
	var draining []*instState
	var drainC <-chan time.Time
	for len(l.pending)+len(draining) > 0 {
		select {
		case <-deadline:
			l.log.Info("no successor heard; removing VIPs", "waited", wait)
			for _, in := range append(l.pending, draining...) {
				l.removeVIPs(in)
			}
			l.pending, draining = nil, nil
		case <-drainC:
			for _, in := range draining {
				l.removeVIPs(in)
			}
			draining, drainC = nil, nil
		case p := <-l.rxc:
			vrid, prio := advertOf(p.b, p.key.v6)
			if prio == 0 {
				continue
			}
			rest := l.pending[:0]
			for _, in := range l.pending {
				if in.cfg.Interface == p.key.ifname && in.cfg.Router.IPv6 == p.key.v6 && in.cfg.Router.FSM.VRID == vrid {
					l.log.Info("successor advert heard; removing VIPs after the drain", "instance", in.name, "drain", handoverDrain)
					draining = append(draining, in)
					if drainC == nil {
						drainC = l.d.deps.Clock.After(handoverDrain)
					}
					continue
				}
				rest = append(rest, in)
			}
			l.pending = rest
		}
	}
}

// vridOf returns the VRID of a received datagram (0 if unparsable).
func vridOf(b []byte, v6 bool) uint8 {
	v, _ := advertOf(b, v6)
	return v
}

// advertOf returns the VRID and priority of a received datagram (zeros if
// unparsable).
func advertOf(b []byte, v6 bool) (vrid, prio uint8) {
	off := 40
	if !v6 {
		if len(b) < 20 {
			return 0, 0
		}
		off = int(b[0]&0x0f) * 4
		if b[9] == 51 { // AH: keepalived's header is 24 bytes
			off += 24
		}
	}
	if len(b) < off+3 {
		return 0, 0
	}
	return b[off+1], b[off+2]
}

func (l *loop) dispatch(p rxPacket) {
	// The read time, not the processing time, starts the master down
	// timer (events must still never go backwards).
	at := p.at
	if at.Before(l.last) {
		at = l.last
	}
	l.last = at
	vrid := vridOf(p.b, p.key.v6)
	for _, in := range l.insts {
		if in.cfg.Interface != p.key.ifname || in.cfg.Router.IPv6 != p.key.v6 || in.cfg.Router.FSM.VRID != vrid {
			continue
		}
		var outs []router.MemberOutput
		if g := in.unit.group; g != nil {
			var err error
			outs, err = g.Receive(in.name, at, p.b)
			if err != nil {
				l.log.Error("sync group receive", "instance", in.name, "err", err)
				continue
			}
		} else {
			outs = []router.MemberOutput{{Instance: in.name, Output: in.r.Receive(at, p.b)}}
		}
		if len(outs) == 1 && outs[0].Err != nil && len(outs[0].Actions) == 0 {
			l.log.Debug("advert dropped", "instance", in.name, "reason", packet.ReasonOf(outs[0].Err).String(), "err", outs[0].Err)
			l.updateStatus(in)
			continue
		}
		l.exec(in.unit, outs)
	}
}

func (l *loop) track(ev trackEvent) {
	at := l.now()
	for _, in := range l.sortedInsts() {
		switch {
		case ev.link != nil && in.tracked[ev.link.Name]:
			l.step(in, fsm.InterfaceChanged{At: at, Name: ev.link.Name, Up: ev.link.Up})
		case ev.script != nil && in.scripts[ev.script.Name]:
			l.step(in, fsm.ScriptResult{At: at, Name: ev.script.Name, OK: ev.script.OK})
		case ev.file != nil && in.files[ev.file.Name]:
			l.step(in, fsm.FileValue{At: at, Name: ev.file.Name, Value: ev.file.Value})
		}
	}
	if ev.link != nil {
		name, up := ev.link.Name, ev.link.Up
		prev, known := l.links[name]
		l.links[name] = up
		// A change (not the watcher's first report) may mean a recreated
		// interface: drop the cached links, and resolve them again once
		// it is back up.
		if known && prev != up {
			l.forgetLink(name)
			if up {
				for _, in := range l.sortedInsts() {
					if slices.Contains(in.devs, name) {
						l.prepare(in)
					}
				}
			}
		}
	}
}

// step applies a non-packet event to an instance (through its group).
func (l *loop) step(in *instState, ev fsm.Event) {
	if g := in.unit.group; g != nil {
		outs, err := g.Step(in.name, ev)
		if err != nil {
			l.log.Error("sync group step", "instance", in.name, "err", err)
			return
		}
		l.exec(in.unit, outs)
		return
	}
	l.exec(in.unit, []router.MemberOutput{{Instance: in.name, Output: in.r.Step(ev)}})
}

// exec carries out the outputs of one step, in order. What clients and
// peers see (adverts, address changes, gratuitous ARPs) happens first;
// bookkeeping that nobody waits for (the VIP guard's report, "VIP added"
// log lines) is collected in post and done after every output, so a
// takeover's first gratuitous ARP follows its advert within microseconds.
func (l *loop) exec(us *unitState, outs []router.MemberOutput) {
	var post []func()
	// With debug logging, an install of VIPs (a takeover) logs how long
	// each step took after the state machine returned.
	var tr ioTrace
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		tr.start = time.Now()
	}
	defer func() {
		for _, f := range post {
			f()
		}
		if !tr.vips.IsZero() {
			l.log.Debug("VIPs installed: I/O timing after the state change", "advert_sent", tr.since(tr.advert),
				"vips_installed", tr.since(tr.vips), "garp_sent", tr.since(tr.garp), "bookkeeping_done", tr.since(time.Now()))
		}
	}()
	for _, o := range outs {
		if o.Instance == "" {
			for _, a := range o.Actions {
				if a.Kind == fsm.Notify {
					l.notify(us.cfg.Notify, true, a.Group, a)
				}
			}
			continue
		}
		in := l.insts[o.Instance]
		if in == nil {
			continue
		}
		if o.Err != nil {
			l.log.Error("router error", "instance", in.name, "err", o.Err)
		}
		sends := o.Sends
		for _, a := range o.Actions {
			switch a.Kind {
			case fsm.SendAdvert:
				n := min(in.ndst, len(sends))
				for _, dg := range sends[:n] {
					if err := in.send.conn.Send(dg, in.primary); err != nil {
						l.log.Warn("send advert", "instance", in.name, "err", err)
					}
				}
				tr.mark(&tr.advert)
				l.sentAdvert(in, a.Priority, sends[:n])
				sends = sends[n:]
				if in.up && a.Priority != 0 && in.lifetime != vip.Forever {
					l.requestRefresh(in)
				}
			case fsm.AddVIPs:
				l.addVIPs(in, &post)
				tr.mark(&tr.vips)
			case fsm.RemoveVIPs:
				if l.handover && in.up && in.r.Instance().State() == fsm.Stopped {
					l.pending = append(l.pending, in)
					continue
				}
				l.removeVIPs(in)
			case fsm.SendGARP:
				l.garp(in, a.Count)
				tr.mark(&tr.garp)
			case fsm.Notify:
				l.log.Info("VRRP state change", "instance", in.name, "state", a.State.String(),
					"priority", a.Priority, "reason", a.Reason)
				l.notify(in.cfg.Notify, false, in.name, a)
			case fsm.SetTimer:
				// The deadline is read back from the instance.
			}
		}
		l.updateStatus(in)
	}
}

// ioTrace records when exec finished each kind of I/O (debug logging).
type ioTrace struct{ start, advert, vips, garp time.Time }

// mark sets *t to now (the first time) if tracing.
func (tr *ioTrace) mark(t *time.Time) {
	if !tr.start.IsZero() && t.IsZero() {
		*t = time.Now()
	}
}

// since returns t - start, or -1 if t is unset.
func (tr *ioTrace) since(t time.Time) time.Duration {
	if t.IsZero() {
		return -1
	}
	return t.Sub(tr.start)
}

func (l *loop) updateStatus(in *instState) {
	i := in.r.Instance()
	var dropped uint64
	if st := in.r.Stats(); st != nil {
		dropped = st.TotalDropped()
	}
	l.d.mu.Lock()
	l.d.status[in.name] = InstanceStatus{Name: in.name, Unit: in.unit.cfg.Name, State: i.State(),
		Priority: i.Priority(), Since: i.Since(), VIPs: in.up, Dropped: dropped}
	l.d.mu.Unlock()
}

func (l *loop) link(dev string) (vip.Link, error) {
	return l.d.deps.Addrs.LinkByName(dev)
}

// vipLink returns the link VIP i lives on: from the instance's cache
// unless fresh, else looked up (and cached). The cache spares a takeover
// its netlink round trips; link events and failed installs drop it.
func (l *loop) vipLink(in *instState, i int, fresh bool) (vip.Link, error) {
	if len(in.links) != len(in.vips) {
		in.links = make([]vip.Link, len(in.vips))
		in.frames = make([][]byte, len(in.vips))
	}
	if !fresh && in.links[i].Index > 0 {
		return in.links[i], nil
	}
	lk, err := l.link(in.devs[i])
	if err != nil {
		in.links[i], in.frames[i] = vip.Link{}, nil
		return vip.Link{}, err
	}
	if in.links[i].Index != lk.Index || !bytes.Equal(in.links[i].HardwareAddr, lk.HardwareAddr) {
		in.frames[i] = nil
	}
	in.links[i] = lk
	return lk, nil
}

// forgetLink drops every cached link of the named device (it changed).
func (l *loop) forgetLink(dev string) {
	for _, in := range l.insts {
		for i := range in.links {
			if in.devs[i] == dev {
				in.links[i], in.frames[i] = vip.Link{}, nil
			}
		}
	}
}

// prepare resolves the VIPs' links and readies the frame sender while
// nothing is urgent (at start), so the first takeover finds both ready.
func (l *loop) prepare(in *instState) {
	p, _ := l.d.deps.Frames.(FramePreparer)
	seen := map[string]bool{}
	for i := range in.vips {
		if _, err := l.vipLink(in, i, true); err != nil {
			continue // looked up again when needed
		}
		dev := in.devs[i]
		if p == nil || seen[dev] {
			continue
		}
		seen[dev] = true
		if err := p.Prepare(dev); err != nil {
			l.log.Warn("cannot prepare gratuitous ARP socket; retried at takeover", "instance", in.name, "dev", dev, "err", err)
		}
	}
}

// addVIPs installs the instance's addresses (a takeover), using the cached
// links and retrying once with a fresh lookup if the kernel refuses.
// Logging and the guard's report are appended to post. While master, the
// refresher renews the addresses' lifetime after every advert
// (requestRefresh).
func (l *loop) addVIPs(in *instState, post *[]func()) {
	if len(in.idx) != len(in.vips) {
		in.idx = make([]int, len(in.vips))
	}
	in.gen++
	for i, a := range in.vips {
		lk, err := l.vipLink(in, i, false)
		if err != nil {
			l.log.Error("add VIP", "instance", in.name, "vip", a.Prefix, "err", err)
			continue
		}
		a.ValidLft, a.PreferredLft = in.lifetime, in.lifetime
		err = l.d.deps.Addrs.AddrReplace(lk, a)
		if err != nil {
			// The interface may have been recreated since it was cached.
			if lk2, err2 := l.vipLink(in, i, true); err2 == nil && lk2.Index != lk.Index {
				lk, err = lk2, l.d.deps.Addrs.AddrReplace(lk2, a)
			}
		}
		if err != nil {
			l.log.Error("add VIP", "instance", in.name, "vip", a.Prefix, "err", err)
			continue
		}
		in.idx[i] = lk.Index
		*post = append(*post, func() {
			l.log.Info("VIP added", "instance", in.name, "vip", a.Prefix.String(), "dev", lk.Name, "valid_lft", lifetimeString(in.lifetime))
		})
	}
	in.up = true
	*post = append(*post, func() { l.guardHold(in) })
}

// requestRefresh asks the refresher to renew the installed addresses'
// lifetime (after an advert); it never waits for the kernel.
func (l *loop) requestRefresh(in *instState) {
	j := refreshJob{gen: in.gen, devs: slices.Clone(in.devs), addrs: make([]vip.Addr, len(in.vips))}
	for i, a := range in.vips {
		a.ValidLft, a.PreferredLft = in.lifetime, in.lifetime
		j.addrs[i] = a
	}
	l.ref.request(in.name, j)
}

// refreshed takes the refresher's reports: errors are logged, and a
// device index that changed (the interface was recreated) is reported to
// the guard. Reports of an older install are ignored.
func (l *loop) refreshed() {
	for name, res := range l.ref.results() {
		in := l.insts[name]
		if in == nil || !in.up || res.gen != in.gen || len(res.idx) != len(in.vips) {
			continue
		}
		moved := false
		for i, err := range res.errs {
			if err != nil {
				l.log.Error("renew VIP lifetime", "instance", in.name, "vip", in.vips[i].Prefix, "err", err)
				continue
			}
			if i < len(in.idx) && in.idx[i] != res.idx[i] {
				in.idx[i], moved = res.idx[i], true
				if i < len(in.links) {
					in.links[i], in.frames[i] = vip.Link{}, nil // looked up again for the next GARP
				}
			}
		}
		if moved {
			l.guardHold(in)
		}
	}
}

func lifetimeString(s uint32) string {
	if s == vip.Forever {
		return "forever"
	}
	return strconv.FormatUint(uint64(s), 10) + "s"
}

func (l *loop) removeVIPs(in *instState) {
	// No renewal may run (and re-add an address) while they are removed.
	defer l.ref.forget(in.name)()
	in.gen++
	for i, a := range in.vips {
		lk, err := l.link(in.devs[i])
		if err != nil {
			if !errors.Is(err, vip.ErrLinkNotFound) {
				l.log.Error("remove VIP", "instance", in.name, "vip", a.Prefix, "err", err)
			}
			continue
		}
		err = l.d.deps.Addrs.AddrDel(lk, a)
		switch {
		case err == nil:
			l.log.Info("VIP removed", "instance", in.name, "vip", a.Prefix.String(), "dev", lk.Name)
		case errors.Is(err, vip.ErrAddrNotFound), errors.Is(err, vip.ErrLinkNotFound):
		default:
			l.log.Error("remove VIP", "instance", in.name, "vip", a.Prefix, "err", err)
		}
	}
	in.up = false
	l.guardRelease(in)
}

// garp sends count gratuitous ARPs / unsolicited NAs per address.
func (l *loop) garp(in *instState, count int) {
	type fr struct {
		dev string
		b   []byte
	}
	var frames []fr
	for i, a := range in.vips {
		lk, err := l.vipLink(in, i, false)
		if err != nil || len(lk.HardwareAddr) != 6 {
			continue
		}
		if in.frames[i] == nil {
			var mac packet.MAC
			copy(mac[:], lk.HardwareAddr)
			if a.Prefix.Addr().Is4() {
				in.frames[i] = packet.GARPFrame(mac, a.Prefix.Addr())
			} else {
				in.frames[i] = packet.UnsolicitedNAFrame(mac, a.Prefix.Addr())
			}
		}
		if b := in.frames[i]; b != nil {
			frames = append(frames, fr{in.devs[i], b})
		}
	}
	send := func(f fr) {
		if err := l.d.deps.Frames.Send(f.dev, f.b); err != nil {
			l.log.Warn("send gratuitous ARP/NA", "instance", in.name, "dev", f.dev, "err", err)
		}
	}
	gap := in.cfg.GARPInterval
	if gap <= 0 {
		for _, f := range frames {
			for range count {
				send(f)
			}
		}
		return
	}
	// Spaced bursts run in the background so the loop keeps its timing.
	l.bgWG.Add(1)
	go func() {
		defer l.bgWG.Done()
		for _, f := range frames {
			for range count {
				send(f)
				select {
				case <-l.bgCtx.Done():
					return
				case <-time.After(gap):
				}
			}
		}
	}()
}
