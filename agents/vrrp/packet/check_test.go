package packet_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/gocrm/gocrm/agents/vrrp/packet"
)

func mustEncode(t *testing.T, p *packet.Packet, key []byte) []byte {
	t.Helper()
	b, err := packet.Encode(p, packet.EncodeOptions{AHKey: key})
	if err != nil {
		t.Fatalf("encode %+v: %v", p, err)
	}
	return b
}

func v2cfg() packet.CheckConfig {
	return packet.CheckConfig{Version: 2, VRID: 51, Interval: 1, VIPs: []netip.Addr{vip}}
}

func v3cfg() packet.CheckConfig {
	return packet.CheckConfig{Version: 3, VRID: 51, VIPs: []netip.Addr{vip, vip2}}
}

func TestCheckerReasons(t *testing.T) {
	base := func() *packet.Packet { return v4pkt(1, packet.GroupIPv4, v2(100, 0, [8]byte{})) }
	v3 := func() *packet.Packet {
		return v4pkt(1, packet.GroupIPv4, packet.Advert{Version: 3, Type: 1, VRID: 51, Priority: 100, Interval: 10, Addrs: []netip.Addr{vip, vip2}})
	}
	pass := func(p string) packet.CheckConfig {
		c := v2cfg()
		c.AuthType, c.AuthPass = packet.AuthPass, p
		return c
	}
	ahCfg := v2cfg()
	ahCfg.AuthType, ahCfg.AuthPass = packet.AuthAH, "1111"
	ahPkt := func(seq uint32) *packet.Packet {
		p := v4pkt(1, packet.GroupIPv4, v2(100, packet.AuthAH, [8]byte{}))
		p.AH = &packet.AH{NextHeader: 112, PayloadLen: 4, SPI: 0x0a63000b, Seq: seq}
		return p
	}
	uni := v3cfg()
	uni.Unicast, uni.CheckUnicastSource, uni.Peers = true, true, []netip.Addr{n2}

	type tc struct {
		name string
		cfg  packet.CheckConfig
		wire func(t *testing.T) []byte
		want packet.Reason // numReasons-equivalent "accept" is expressed by accept=true
		ok   bool
	}
	enc := func(f func(*packet.Packet), key []byte, mut func([]byte)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			p := base()
			if f != nil {
				f(p)
			}
			b := mustEncode(t, p, key)
			if mut != nil {
				mut(b)
			}
			return b
		}
	}
	enc3 := func(f func(*packet.Packet), mut func([]byte)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			p := v3()
			if f != nil {
				f(p)
			}
			b := mustEncode(t, p, nil)
			if mut != nil {
				mut(b)
			}
			return b
		}
	}
	cases := []tc{
		{name: "v2 accepted", cfg: v2cfg(), wire: enc(nil, nil, nil), ok: true},
		{name: "v3 accepted", cfg: v3cfg(), wire: enc3(nil, nil), ok: true},
		{name: "pass accepted", cfg: pass("1111"), wire: enc(func(p *packet.Packet) { p.Advert = v2(100, 1, pass11) }, nil, nil), ok: true},
		{name: "pass longer than 8 uses first 8", cfg: pass("11112222xyz"), wire: enc(func(p *packet.Packet) {
			p.Advert = v2(100, 1, [8]byte{'1', '1', '1', '1', '2', '2', '2', '2'})
		}, nil, nil), ok: true},
		{name: "ah accepted", cfg: ahCfg, wire: enc(func(p *packet.Packet) { *p = *ahPkt(1) }, packet.AHKey("1111"), nil), ok: true},
		{name: "empty", cfg: v2cfg(), wire: func(*testing.T) []byte { return nil }, want: packet.ReasonShort},
		{name: "truncated header", cfg: v2cfg(), wire: enc(nil, nil, nil), want: packet.ReasonShort},
		{name: "udp", cfg: v2cfg(), wire: enc(nil, nil, func(b []byte) { b[9] = 17 }), want: packet.ReasonMalformed},
		{name: "fragment", cfg: v2cfg(), wire: enc(nil, nil, func(b []byte) { b[6] = 0x20 }), want: packet.ReasonMalformed},
		{name: "ipv6 packet on ipv4 instance", cfg: v2cfg(), wire: func(t *testing.T) []byte {
			return mustEncode(t, &packet.Packet{IPv6: true, TTL: 255, Src: n1LL, Dst: packet.GroupIPv6,
				Advert: packet.Advert{Version: 3, Type: 1, VRID: 51, Priority: 1, Interval: 100, Addrs: []netip.Addr{vip6a}}}, nil)
		}, want: packet.ReasonMalformed},
		{name: "own advert", cfg: func() packet.CheckConfig { c := v2cfg(); c.LocalAddrs = []netip.Addr{n1}; return c }(), wire: enc(nil, nil, nil), want: packet.ReasonOwn},
		{name: "ah not configured", cfg: v2cfg(), wire: enc(func(p *packet.Packet) { *p = *ahPkt(1) }, packet.AHKey("1111"), nil), want: packet.ReasonAHPresence},
		{name: "ah missing", cfg: ahCfg, wire: enc(nil, nil, nil), want: packet.ReasonAHPresence},
		{name: "count byte lies", cfg: v2cfg(), wire: enc(nil, nil, func(b []byte) { b[23] = 2 }), want: packet.ReasonLength},
		{name: "ttl 254", cfg: v2cfg(), wire: enc(func(p *packet.Packet) { p.TTL = 254 }, nil, nil), want: packet.ReasonTTL},
		{name: "ttl 1", cfg: v3cfg(), wire: enc3(func(p *packet.Packet) { p.TTL = 1 }, nil), want: packet.ReasonTTL},
		{name: "v3 on v2 instance", cfg: v2cfg(), wire: enc3(nil, nil), want: packet.ReasonVersion},
		{name: "v2 on v3 instance", cfg: v3cfg(), wire: enc(nil, nil, nil), want: packet.ReasonVersion},
		{name: "version 7", cfg: v2cfg(), wire: enc(nil, nil, func(b []byte) { b[20] = 0x71 }), want: packet.ReasonVersion},
		{name: "other vrid", cfg: v2cfg(), wire: enc(func(p *packet.Packet) { p.Advert.VRID = 52 }, nil, nil), want: packet.ReasonVRID},
		{name: "auth type", cfg: pass("1111"), wire: enc(nil, nil, nil), want: packet.ReasonAuthType},
		{name: "wrong password", cfg: pass("1112"), wire: enc(func(p *packet.Packet) { p.Advert = v2(100, 1, pass11) }, nil, nil), want: packet.ReasonAuthPass},
		{name: "ah wrong key", cfg: ahCfg, wire: enc(func(p *packet.Packet) { *p = *ahPkt(1) }, packet.AHKey("2222"), nil), want: packet.ReasonAHAuth},
		{name: "ah tampered priority", cfg: ahCfg, wire: enc(func(p *packet.Packet) { *p = *ahPkt(1) }, packet.AHKey("1111"), func(b []byte) { b[44+2] = 200 }), want: packet.ReasonAHAuth},
		{name: "ah spi", cfg: ahCfg, wire: enc(func(p *packet.Packet) { *p = *ahPkt(1); p.AH.SPI = 1 }, packet.AHKey("1111"), nil), want: packet.ReasonAHAuth},
		{name: "v2 interval", cfg: v2cfg(), wire: enc(func(p *packet.Packet) { p.Advert.Interval = 2 }, nil, nil), want: packet.ReasonInterval},
		{name: "v3 interval 0", cfg: v3cfg(), wire: enc3(func(p *packet.Packet) { p.Advert.Interval = 0 }, nil), want: packet.ReasonInterval},
		{name: "type 2", cfg: v2cfg(), wire: enc(func(p *packet.Packet) { p.Advert.Type = 2 }, nil, nil), want: packet.ReasonType},
		{name: "address count", cfg: v2cfg(), wire: enc(func(p *packet.Packet) { p.Advert.Addrs = []netip.Addr{vip, vip2} }, nil, nil), want: packet.ReasonAddrCount},
		{name: "ip total length", cfg: v2cfg(), wire: enc(nil, nil, func(b []byte) { b[3] = 60 }), want: packet.ReasonTotalLength},
		{name: "bad checksum", cfg: v2cfg(), wire: enc(nil, nil, func(b []byte) { b[27] ^= 1 }), want: packet.ReasonChecksum},
		{name: "v3 checksum without pseudo-header", cfg: v3cfg(), wire: enc3(nil, func(b []byte) {
			b[26], b[27] = 0, 0
			c := packet.Checksum(b[20:])
			b[26], b[27] = byte(c>>8), byte(c)
		}), want: packet.ReasonChecksum},
		{name: "unicast on multicast instance", cfg: v3cfg(), wire: enc3(func(p *packet.Packet) { p.Dst = n2 }, nil), want: packet.ReasonDestination},
		{name: "multicast on unicast instance", cfg: uni, wire: enc3(func(p *packet.Packet) { p.Src = n2 }, nil), want: packet.ReasonDestination},
		{name: "address list", cfg: v2cfg(), wire: enc(func(p *packet.Packet) { p.Advert.Addrs = []netip.Addr{vip2} }, nil, nil), want: packet.ReasonAddrList},
		{name: "unicast from non-peer", cfg: uni, wire: enc3(func(p *packet.Packet) { p.Dst = n2 }, nil), want: packet.ReasonUnicastSource},
		{name: "unicast from peer, any TTL", cfg: uni, wire: enc3(func(p *packet.Packet) { p.Src, p.Dst, p.TTL = n2, n1, 64 }, nil), ok: true},
		{name: "unicast old checksum (multicast group in pseudo-header)", cfg: uni, wire: enc3(func(p *packet.Packet) { p.Src, p.Dst = n2, n1 }, func(b []byte) {
			m, _ := packet.AppendAdvert(nil, &packet.Advert{Version: 3, Type: 1, VRID: 51, Priority: 100, Interval: 10, Addrs: []netip.Addr{vip, vip2}}, n2, packet.GroupIPv4)
			copy(b[20:], m)
		}), ok: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch, err := packet.NewChecker(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			w := c.wire(t)
			if c.name == "truncated header" {
				w = w[:12]
			}
			_, err = ch.Receive(w)
			st := ch.Stats()
			if c.ok {
				if err != nil || st.Accepted() != 1 || st.TotalDropped() != 0 {
					t.Fatalf("err = %v, stats %v; want accepted", err, st.Snapshot())
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want drop %v", c.want)
			}
			if got := packet.ReasonOf(err); got != c.want {
				t.Fatalf("reason %v (%v), want %v", got, err, c.want)
			}
			if st.Dropped(c.want) != 1 || st.TotalDropped() != 1 || st.Accepted() != 0 {
				t.Fatalf("counters %v, want exactly one %v", st.Snapshot(), c.want)
			}
		})
	}
}

func TestCheckerAHReplay(t *testing.T) {
	cfg := v2cfg()
	cfg.AuthType, cfg.AuthPass = packet.AuthAH, "1111"
	ch, err := packet.NewChecker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	send := func(src netip.Addr, seq uint32, prio uint8) error {
		p := v4pkt(1, packet.GroupIPv4, v2(prio, packet.AuthAH, [8]byte{}))
		p.Src = src
		p.AH = &packet.AH{NextHeader: 112, PayloadLen: 4, SPI: binary.BigEndian.Uint32(src.AsSlice()), Seq: seq}
		_, err := ch.Receive(mustEncode(t, p, packet.AHKey("1111")))
		return err
	}
	if err := send(n1, 5, 100); err != nil {
		t.Fatal(err)
	}
	if err := send(n1, 5, 100); !errors.Is(err, packet.ErrAHReplay) {
		t.Fatalf("replay accepted: %v", err)
	}
	if err := send(n1, 6, 100); err != nil {
		t.Fatalf("next sequence: %v", err)
	}
	// One counter per instance, as keepalived: a restarted peer counting
	// from 1 again, or another sender below the counter, is dropped.
	if err := send(n2, 1, 90); !errors.Is(err, packet.ErrAHReplay) {
		t.Fatalf("stale sequence from another router accepted: %v", err)
	}
	// A packet failing a later check does not advance the counter.
	p := v4pkt(1, packet.GroupIPv4, v2(100, packet.AuthAH, [8]byte{}))
	p.Advert.Addrs = []netip.Addr{vip2}
	p.AH = &packet.AH{NextHeader: 112, PayloadLen: 4, SPI: 0x0a63000b, Seq: 100}
	if _, err := ch.Receive(mustEncode(t, p, packet.AHKey("1111"))); !errors.Is(err, packet.ErrAddrList) {
		t.Fatalf("want address-list drop, got %v", err)
	}
	if ch.AHSeq() != 6 {
		t.Fatalf("counter %d after a dropped packet, want 6", ch.AHSeq())
	}
	// Our own adverts continue above everything accepted …
	if s := ch.NextAHSeq(); s != 7 {
		t.Fatalf("next own sequence %d, want 7", s)
	}
	// … and a peer must then exceed them too.
	if err := send(n2, 7, 90); !errors.Is(err, packet.ErrAHReplay) {
		t.Fatalf("sequence equal to our own accepted: %v", err)
	}
	ch.SyncAHSeq(3) // never lowers
	if err := send(n2, 8, 90); err != nil {
		t.Fatalf("fresh sequence: %v", err)
	}
	ch.SyncAHSeq(50)
	if s := ch.NextAHSeq(); s != 51 {
		t.Fatalf("after resync next sequence %d, want 51", s)
	}
	if got := ch.Stats().Dropped(packet.ReasonAHReplay); got != 3 {
		t.Fatalf("replay drops = %d, want 3", got)
	}
}

func TestCheckerSkipCheckAdvAddr(t *testing.T) {
	cfg := v2cfg()
	cfg.SkipCheckAdvAddr = true
	ch, _ := packet.NewChecker(cfg)
	good := v4pkt(1, packet.GroupIPv4, v2(100, 0, [8]byte{}))
	other := v4pkt(1, packet.GroupIPv4, v2(100, 0, [8]byte{}))
	other.Advert.Addrs = []netip.Addr{vip2}
	if _, err := ch.Receive(mustEncode(t, other, nil)); !errors.Is(err, packet.ErrAddrList) {
		t.Fatalf("first advert from a new master must be checked: %v", err)
	}
	if _, err := ch.Receive(mustEncode(t, good, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Receive(mustEncode(t, other, nil)); err != nil {
		t.Fatalf("unchanged master: list check should be skipped: %v", err)
	}
}

func TestCheckerIPv6Payload(t *testing.T) {
	ch, err := packet.NewChecker(packet.CheckConfig{Version: 3, IPv6: true, VRID: 51, VIPs: []netip.Addr{vip6a, vip6b}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := packet.AppendAdvert(nil, &packet.Advert{Version: 3, Type: 1, VRID: 51, Priority: 100, Interval: 100,
		Addrs: []netip.Addr{vip6b, vip6a}}, n1LL, packet.GroupIPv6)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.ReceivePayload(msg, n1LL, packet.GroupIPv6, 255); err != nil {
		t.Fatalf("valid payload dropped: %v", err)
	}
	if _, err := ch.ReceivePayload(msg, n1LL, packet.GroupIPv6, 64); !errors.Is(err, packet.ErrTTL) {
		t.Fatalf("hop limit 64: %v", err)
	}
	if _, err := ch.ReceivePayload(msg, n1LL, netip.MustParseAddr("ff02::1"), 255); !errors.Is(err, packet.ErrChecksum) {
		t.Fatalf("wrong pseudo-header destination: %v", err)
	}
	if _, err := ch.ReceivePayload(msg, n1, packet.GroupIPv6, 255); !errors.Is(err, packet.ErrFamily) {
		t.Fatalf("mixed family: %v", err)
	}
}

func TestNewCheckerRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]packet.CheckConfig{
		"version":    {Version: 4},
		"v2 on ipv6": {Version: 2, IPv6: true},
		"vip family": {Version: 3, IPv6: true, VIPs: []netip.Addr{vip}},
		"auth type":  {Version: 2, AuthType: 9},
	} {
		if _, err := packet.NewChecker(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
