package dataplane

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/guard"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
	"github.com/gocrm/gocrm/agents/vrrp/router"
)

// Guard is told which addresses this process owns and how to announce its
// departure, so that a helper outliving it (agents/vrrp/guard) can hand
// over and delete them if it dies without stopping (SIGKILL, crash). Run's
// goroutine makes every call; an error means the guard is gone (the
// dataplane logs nothing more and carries on: the VIP lifetime remains).
type Guard interface {
	// Hold reports an instance's installed addresses and farewell
	// adverts, replacing what was reported for it before.
	Hold(h guard.Holding) error
	// Release reports that the instance's addresses were removed.
	Release(instance string) error
}

// guardLinger is how long at most the guard keeps a dead master's
// addresses after its priority-0 adverts when it hears no successor (it
// removes them 50 ms after the successor's first advert otherwise): one
// advert interval covers every backup's skew time (v2: (256-prio)/256 s <= 1 s <= the interval; v3: a fraction of the
// interval), plus the drain the graceful handover uses, at most half an
// interval (so the addresses are gone within 1.5 intervals).
func guardLinger(interval time.Duration) time.Duration {
	return interval + min(handoverDrain, interval/2)
}

// farewell returns the priority-0 version of an advert this router sent:
// same header and addresses, priority 0, the next IP ID and, with AH, the
// next sequence number and its ICV (authPass is the instance's auth_pass).
func farewell(dg router.Datagram, authPass string) (router.Datagram, error) {
	p, err := packet.Decode(dg.IP)
	if err != nil {
		return router.Datagram{}, fmt.Errorf("farewell advert: %w", err)
	}
	p.Advert.Priority = 0
	var opt packet.EncodeOptions
	if !p.IPv6 {
		p.ID++
		if p.ID == 0 {
			p.ID = 1
		}
	}
	if p.AH != nil {
		p.AH.Seq++
		opt.AHKey = packet.AHKey(authPass)
	}
	b, err := packet.Encode(p, opt)
	if err != nil {
		return router.Datagram{}, fmt.Errorf("farewell advert: %w", err)
	}
	hl := packet.IPv4HeaderLen + len(p.Options)
	if p.IPv6 {
		hl = packet.IPv6HeaderLen
	} else if p.AH != nil {
		hl += packet.AHLen
	}
	return router.Datagram{Dst: dg.Dst, IP: b, Payload: b[hl:]}, nil
}

// FarewellSender is the guard's production guard.Sender: raw sockets as
// RawNet opens them (no group joined), one per interface and family, kept
// until Close. Safe for concurrent use.
type FarewellSender struct {
	mu    sync.Mutex
	conns map[sockKey]Conn
}

// Send implements guard.Sender.
func (s *FarewellSender) Send(d guard.Datagram) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sockKey{ifname: d.Dev, v6: d.IPv6, proto: packet.ProtocolVRRP}
	c := s.conns[k]
	if c == nil {
		var err error
		if c, err = (RawNet{}).Open(d.Dev, d.IPv6, packet.ProtocolVRRP, nil); err != nil {
			return err
		}
		if s.conns == nil {
			s.conns = map[sockKey]Conn{}
		}
		s.conns[k] = c
	}
	dg := router.Datagram{Dst: d.Dst, IP: d.IP}
	if d.IPv6 {
		if len(d.IP) < packet.IPv6HeaderLen {
			return fmt.Errorf("farewell advert of %d bytes: %w", len(d.IP), ErrConfig)
		}
		dg.Payload = d.IP[packet.IPv6HeaderLen:]
	}
	return c.Send(dg, d.Src)
}

// Close closes the sockets.
func (s *FarewellSender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, c := range s.conns {
		c.Close()
		delete(s.conns, k)
	}
	return nil
}

// AdvertListener is the guard's production guard.Listener: a raw VRRP
// socket on the interface, joined to the default group (unicast adverts
// arrive anyway). Safe for concurrent use.
type AdvertListener struct{}

// Listen implements guard.Listener.
func (AdvertListener) Listen(dev string, ipv6 bool) (guard.AdvertConn, error) {
	g := packet.GroupIPv4
	if ipv6 {
		g = packet.GroupIPv6
	}
	c, err := (RawNet{}).Open(dev, ipv6, packet.ProtocolVRRP, []netip.Addr{g})
	if err != nil {
		return nil, err
	}
	return &advertConn{c: c, v6: ipv6, buf: make([]byte, 65536)}, nil
}

type advertConn struct {
	c   Conn
	v6  bool
	buf []byte
}

// Next implements guard.AdvertConn.
func (a *advertConn) Next() (vrid, prio uint8, err error) {
	for {
		n, err := a.c.Read(a.buf)
		if err != nil {
			return 0, 0, err
		}
		if vrid, prio := advertOf(a.buf[:n], a.v6); vrid != 0 {
			return vrid, prio, nil
		}
	}
}

// Close implements guard.AdvertConn.
func (a *advertConn) Close() error { return a.c.Close() }

// FakeGuard is an in-memory Guard keeping the guard's own state (what a
// real guard would act on). Safe for concurrent use.
type FakeGuard struct {
	mu    sync.Mutex
	st    *guard.State
	holds int
}

// NewFakeGuard returns an empty FakeGuard.
func NewFakeGuard() *FakeGuard { return &FakeGuard{st: guard.NewState()} }

// Hold implements Guard.
func (f *FakeGuard) Hold(h guard.Holding) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holds++
	return f.st.Apply(guard.Message{Kind: guard.KindHold, Hold: h})
}

// Release implements Guard.
func (f *FakeGuard) Release(instance string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Apply(guard.Message{Kind: guard.KindRelease, Instance: instance})
}

// Held returns what a guard would act on now.
func (f *FakeGuard) Held() []guard.Holding {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Held()
}

// Holds counts Hold calls.
func (f *FakeGuard) Holds() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.holds
}

// guardHold reports the instance's addresses and farewell to the guard.
func (l *loop) guardHold(in *instState) {
	g := l.d.deps.Guard
	if g == nil || !in.up {
		return
	}
	h := guard.Holding{Instance: in.name, VRID: in.cfg.Router.FSM.VRID}
	for i, a := range in.vips {
		if i < len(in.idx) && in.idx[i] > 0 {
			h.Addrs = append(h.Addrs, guard.Addr{Dev: in.devs[i], Index: in.idx[i], Prefix: a.Prefix})
		}
	}
	if l.d.cfg.CrashHandover {
		for _, dg := range in.lastSends {
			fw, err := farewell(dg, in.cfg.Router.AuthPass)
			if err != nil {
				l.log.Error("VIP guard: cannot build the farewell advert", "instance", in.name, "err", err)
				continue
			}
			h.Farewell = append(h.Farewell, guard.Datagram{Dev: in.cfg.Interface, IPv6: in.cfg.Router.IPv6,
				Src: in.primary, Dst: fw.Dst, IP: fw.IP})
		}
		if len(h.Farewell) > 0 {
			h.Linger = guardLinger(in.r.Instance().Config().AdvertInterval)
		}
	}
	in.guarded = len(h.Farewell) > 0 || !l.d.cfg.CrashHandover
	if err := g.Hold(h); err != nil {
		l.guardFailed(err)
	}
}

func (l *loop) guardRelease(in *instState) {
	if g := l.d.deps.Guard; g != nil {
		in.guarded = false
		if err := g.Release(in.name); err != nil {
			l.guardFailed(err)
		}
	}
}

// guardFailed drops a guard whose connection failed (the client logged
// why); the VIP lifetime remains the only protection.
func (l *loop) guardFailed(error) {
	l.d.deps.Guard = nil
}

// sentAdvert records an instance's last non-zero-priority adverts and,
// while master, keeps the guard's farewell current (AH adverts change with
// every sequence number; others need one report per mastership).
func (l *loop) sentAdvert(in *instState, prio uint8, sends []router.Datagram) {
	if prio == 0 || len(sends) == 0 {
		return
	}
	in.lastSends = append(in.lastSends[:0], sends...)
	if in.up && l.d.deps.Guard != nil && (!in.guarded || in.cfg.Router.AuthType == packet.AuthAH) {
		l.guardHold(in)
	}
}
