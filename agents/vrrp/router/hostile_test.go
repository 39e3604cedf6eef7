package router

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
)

// masterRouter returns a PASS-authenticated v2 router that is master.
func masterRouter(t testing.TB) *Router {
	c := cfgV2(100)
	c.AuthType, c.AuthPass = packet.AuthPass, "secret"
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	r.Step(fsm.Start{At: epoch})
	r.Step(fsm.TimerExpired{At: r.Instance().Deadline()})
	if r.Instance().State() != fsm.Master {
		t.Fatalf("setup: %v", r.Instance().State())
	}
	return r
}

// peerAdvert is a valid advert from n2 that would make the master yield.
func peerAdvert() *packet.Packet {
	return &packet.Packet{TOS: 0xc0, ID: 9, TTL: 255, Src: n2, Dst: packet.GroupIPv4, Advert: packet.Advert{
		Version: 2, Type: 1, VRID: 51, Priority: 254, AuthType: packet.AuthPass, Interval: 1,
		Addrs: []netip.Addr{vip}, AuthData: [8]byte{'s', 'e', 'c', 'r', 'e', 't'}}}
}

func encode(t testing.TB, p *packet.Packet) []byte {
	b, err := packet.Encode(p, packet.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostilePacketsAreCountedAndDropped: every malformed or hostile variant
// of a would-be takeover advert is dropped with its own counter and leaves
// the master untouched; the genuine advert then does take effect (so the
// test can fail).
func TestHostilePacketsAreCountedAndDropped(t *testing.T) {
	mut := func(f func(*packet.Packet), g func([]byte) []byte) func(testing.TB) []byte {
		return func(t testing.TB) []byte {
			p := peerAdvert()
			if f != nil {
				f(p)
			}
			b := encode(t, p)
			if g != nil {
				b = g(b)
			}
			return b
		}
	}
	cases := []struct {
		name string
		wire func(testing.TB) []byte
		want packet.Reason
	}{
		{"bad checksum", mut(nil, func(b []byte) []byte { b[26] ^= 0xff; return b }), packet.ReasonChecksum},
		{"TTL 254 (off-link)", mut(func(p *packet.Packet) { p.TTL = 254 }, nil), packet.ReasonTTL},
		{"wrong password", mut(func(p *packet.Packet) { p.Advert.AuthData[0] = 'S' }, nil), packet.ReasonAuthPass},
		{"no auth", mut(func(p *packet.Packet) { p.Advert.AuthType, p.Advert.AuthData = 0, [8]byte{} }, nil), packet.ReasonAuthType},
		{"short", mut(nil, func(b []byte) []byte { return b[:30] }), packet.ReasonTotalLength},
		{"truncated IP header", mut(nil, func(b []byte) []byte { return b[:15] }), packet.ReasonShort},
		{"wrong VRID", mut(func(p *packet.Packet) { p.Advert.VRID = 52 }, nil), packet.ReasonVRID},
		{"wrong version", mut(func(p *packet.Packet) { p.Advert.Version, p.Advert.AuthType, p.Advert.Interval = 3, 0, 100 }, nil), packet.ReasonVersion},
		{"interval mismatch", mut(func(p *packet.Packet) { p.Advert.Interval = 3 }, nil), packet.ReasonInterval},
		{"other VIP", mut(func(p *packet.Packet) { p.Advert.Addrs = []netip.Addr{vip2} }, nil), packet.ReasonAddrList},
		{"extra VIP", mut(func(p *packet.Packet) { p.Advert.Addrs = []netip.Addr{vip, vip2} }, nil), packet.ReasonAddrCount},
		{"count byte lies", mut(nil, func(b []byte) []byte { b[23] = 9; return b }), packet.ReasonLength},
		{"not an advert", mut(func(p *packet.Packet) { p.Advert.Type = 3 }, nil), packet.ReasonType},
		{"unicast destination", mut(func(p *packet.Packet) { p.Dst = n1 }, nil), packet.ReasonDestination},
		{"our own advert", mut(func(p *packet.Packet) { p.Src = n1 }, nil), packet.ReasonOwn},
		{"AH instead of PASS", mut(func(p *packet.Packet) {
			p.AH = &packet.AH{NextHeader: 112, PayloadLen: 4}
		}, nil), packet.ReasonAHPresence},
		{"UDP", mut(nil, func(b []byte) []byte { b[9] = 17; return b }), packet.ReasonMalformed},
		{"garbage", func(testing.TB) []byte {
			return []byte{0x45, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
		}, packet.ReasonTotalLength},
	}
	r := masterRouter(t)
	deadline := r.Instance().Deadline()
	at := epoch.Add(4 * time.Second)
	for _, c := range cases {
		before := r.Stats().Dropped(c.want)
		total := r.Stats().TotalDropped()
		o := r.Receive(at, c.wire(t))
		if o.Err == nil || packet.ReasonOf(o.Err) != c.want {
			t.Errorf("%s: err %v, want reason %v", c.name, o.Err, c.want)
		}
		if r.Stats().Dropped(c.want) != before+1 || r.Stats().TotalDropped() != total+1 {
			t.Errorf("%s: counters %v", c.name, r.Stats().Snapshot())
		}
		if len(o.Actions) != 0 || len(o.Sends) != 0 || r.Instance().State() != fsm.Master || !r.Instance().Deadline().Equal(deadline) {
			t.Fatalf("%s: the dropped packet changed the router: %+v, state %v", c.name, o, r.Instance().State())
		}
	}
	if r.Stats().Accepted() != 0 {
		t.Fatalf("accepted %d hostile packets", r.Stats().Accepted())
	}
	// The genuine advert makes the master yield.
	o := r.Receive(at, encode(t, peerAdvert()))
	if o.Err != nil || r.Instance().State() != fsm.Backup {
		t.Fatalf("genuine advert: %v, state %v", o.Err, r.Instance().State())
	}
}

// FuzzRouterReceive: arbitrary bytes never panic, and a packet that is not
// accepted never changes the router's state, priority or timer.
func FuzzRouterReceive(f *testing.F) {
	f.Add(encode(f, peerAdvert()))
	p := peerAdvert()
	p.Advert.Priority = 0
	f.Add(encode(f, p))
	f.Add([]byte{0x45})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := masterRouter(t)
		in := r.Instance()
		state, prio, dl := in.State(), in.Priority(), in.Deadline()
		o := r.Receive(epoch.Add(4*time.Second), b)
		st := r.Stats()
		if st.Accepted()+st.TotalDropped() != 1 {
			t.Fatalf("counted %v", st.Snapshot())
		}
		if st.Accepted() == 0 {
			if o.Err == nil || len(o.Actions) != 0 || in.State() != state || in.Priority() != prio || !in.Deadline().Equal(dl) {
				t.Fatalf("dropped packet changed the router: %+v", o)
			}
		}
	})
}
