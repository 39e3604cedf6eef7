package router

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/internal/golden"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
)

var (
	epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n1    = netip.MustParseAddr("10.99.0.11")
	n2    = netip.MustParseAddr("10.99.0.12")
	vip   = netip.MustParseAddr("10.99.0.50")
	vip2  = netip.MustParseAddr("10.99.0.51")
)

func cfgV2(prio uint8) Config {
	return Config{
		FSM:  fsm.Config{Name: "VI_1", VRID: 51, Version: 2, Priority: prio, AdvertInterval: time.Second, PrimaryAddr: n1},
		VIPs: []netip.Addr{vip},
	}
}

func mustNew(t *testing.T, c Config) *Router {
	t.Helper()
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// host fires the router's timer exactly at its deadlines up to until and
// collects the datagrams sent.
type host struct {
	r     *Router
	sends []Datagram
}

func (h *host) do(o Output) {
	h.sends = append(h.sends, o.Sends...)
}

func (h *host) run(until time.Time) {
	for d := h.r.Instance().Deadline(); !d.IsZero() && !d.After(until); d = h.r.Instance().Deadline() {
		h.do(h.r.Step(fsm.TimerExpired{At: d}))
	}
}

func goldenIP(t *testing.T) map[string][]byte {
	m := map[string][]byte{}
	for _, p := range golden.Load(t) {
		m[p.Name] = p.Frame[14:]
	}
	return m
}

// TestGoldenSequences drives routers configured like keepalived's n1 and
// compares the datagrams with the golden capture byte for byte (IP IDs
// included: keepalived counts its adverts from 1, and so do we).
func TestGoldenSequences(t *testing.T) {
	g := goldenIP(t)

	t.Run("v2 owner at start-up (#12)", func(t *testing.T) {
		h := &host{r: mustNew(t, cfgV2(255))}
		h.do(h.r.Step(fsm.Start{At: epoch}))
		if len(h.sends) != 1 || !bytes.Equal(h.sends[0].IP, g["v2-prio255 advert"]) {
			t.Fatalf("sends %x", h.sends)
		}
	})
	t.Run("v2 takeover, 2 adverts, shutdown (#1, #3)", func(t *testing.T) {
		h := &host{r: mustNew(t, cfgV2(100))}
		h.do(h.r.Step(fsm.Start{At: epoch}))
		h.run(epoch.Add(5700 * time.Millisecond))
		h.do(h.r.Step(fsm.Shutdown{At: epoch.Add(5800 * time.Millisecond)}))
		if len(h.sends) != 4 {
			t.Fatalf("%d adverts sent, want 4", len(h.sends))
		}
		if !bytes.Equal(h.sends[0].IP, g["v2-none advert"]) {
			t.Errorf("first advert\n got  %x\n want %x", h.sends[0].IP, g["v2-none advert"])
		}
		if !bytes.Equal(h.sends[3].IP, g["v2-none prio0"]) {
			t.Errorf("shutdown advert\n got  %x\n want %x", h.sends[3].IP, g["v2-none prio0"])
		}
	})
	t.Run("v2 PASS (#4)", func(t *testing.T) {
		c := cfgV2(255)
		c.AuthType, c.AuthPass = packet.AuthPass, "1111"
		h := &host{r: mustNew(t, c)}
		h.do(h.r.Step(fsm.Start{At: epoch}))
		want := append([]byte(nil), g["v2-pass advert"]...)
		// #4 was captured at priority 100; only the priority and checksum differ.
		got := h.sends[0].IP
		p, err := packet.Decode(got)
		if err != nil {
			t.Fatal(err)
		}
		p.Advert.Priority = 100
		got, _ = packet.Encode(p, packet.EncodeOptions{})
		if !bytes.Equal(got, want) {
			t.Fatalf("\n got  %x\n want %x", got, want)
		}
	})
	t.Run("v2 AH (#5)", func(t *testing.T) {
		c := cfgV2(100)
		c.AuthType, c.AuthPass = packet.AuthAH, "1111"
		h := &host{r: mustNew(t, c)}
		h.do(h.r.Step(fsm.Start{At: epoch}))
		h.run(epoch.Add(4 * time.Second))
		if len(h.sends) == 0 || !bytes.Equal(h.sends[0].IP, g["v2-ah advert"]) {
			t.Fatalf("\n got  %x\n want %x", h.sends[0].IP, g["v2-ah advert"])
		}
		// The sequence number and IP ID advance per advert, and the ICV
		// stays valid for a receiving keepalived.
		rc := cfgV2(90)
		rc.FSM.PrimaryAddr = n2
		rc.AuthType, rc.AuthPass = packet.AuthAH, "1111"
		rx := mustNew(t, rc)
		for i, s := range h.sends {
			if o := rx.Receive(epoch, s.IP); o.Err != nil {
				t.Fatalf("advert %d rejected: %v", i+1, o.Err)
			}
		}
		if o := rx.Receive(epoch, h.sends[0].IP); !errors.Is(o.Err, packet.ErrAHReplay) {
			t.Fatalf("replayed advert: %v", o.Err)
		}
	})
	t.Run("v3 IPv4 0.1 s, 2 VIPs (#6, #7)", func(t *testing.T) {
		c := cfgV2(100)
		c.FSM.Version, c.FSM.AdvertInterval = 3, 100*time.Millisecond
		c.VIPs = []netip.Addr{vip, vip2}
		h := &host{r: mustNew(t, c)}
		h.do(h.r.Step(fsm.Start{At: epoch}))
		h.run(epoch.Add(2600 * time.Millisecond)) // take over at 0.3609 s, then adverts every 0.1 s
		h.do(h.r.Step(fsm.Shutdown{At: epoch.Add(2605 * time.Millisecond)}))
		if !bytes.Equal(h.sends[0].IP, g["v3-ipv4 advert"]) {
			t.Errorf("first advert\n got  %x\n want %x", h.sends[0].IP, g["v3-ipv4 advert"])
		}
		if n := len(h.sends); n != 24 || !bytes.Equal(h.sends[n-1].IP, g["v3-ipv4 prio0"]) {
			t.Errorf("%d adverts; last\n got  %x\n want %x", n, h.sends[n-1].IP, g["v3-ipv4 prio0"])
		}
	})
	t.Run("v3 unicast (#10)", func(t *testing.T) {
		c := cfgV2(255)
		c.FSM.Version, c.FSM.AdvertInterval = 3, time.Second
		c.UnicastPeers = []netip.Addr{n2}
		h := &host{r: mustNew(t, c)}
		h.do(h.r.Step(fsm.Start{At: epoch}))
		p, _ := packet.Decode(h.sends[0].IP)
		p.Advert.Priority = 100
		got, _ := packet.Encode(p, packet.EncodeOptions{})
		if h.sends[0].Dst != n2 || !bytes.Equal(got, g["v3-unicast advert"]) {
			t.Fatalf("dst %v\n got  %x\n want %x", h.sends[0].Dst, got, g["v3-unicast advert"])
		}
	})
	t.Run("v3 IPv6 (#8, #9)", func(t *testing.T) {
		c := Config{
			FSM: fsm.Config{Name: "VI_6", VRID: 51, Version: 3, Priority: 100, AdvertInterval: time.Second,
				PrimaryAddr: netip.MustParseAddr("fe80::99:ff:fe00:11")},
			IPv6: true,
			VIPs: []netip.Addr{netip.MustParseAddr("fe80::50"), netip.MustParseAddr("fd99::50")},
		}
		h := &host{r: mustNew(t, c)}
		h.do(h.r.Step(fsm.Start{At: epoch}))
		h.run(epoch.Add(4 * time.Second))
		h.do(h.r.Step(fsm.Shutdown{At: epoch.Add(4500 * time.Millisecond)}))
		for i, name := range map[int]string{0: "v3-ipv6 advert", len(h.sends) - 1: "v3-ipv6 prio0"} {
			want := append([]byte(nil), g[name]...)
			want[1] &^= 0x0f // mask the kernel's flow label
			want[2], want[3] = 0, 0
			if !bytes.Equal(h.sends[i].IP, want) {
				t.Errorf("%s\n got  %x\n want %x", name, h.sends[i].IP, want)
			}
			if !bytes.Equal(h.sends[i].Payload, want[40:]) {
				t.Errorf("%s payload differs", name)
			}
		}
	})
}

func TestNewRejects(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"no VIPs":         func(c *Config) { c.VIPs = nil },
		"v2 IPv6":         func(c *Config) { c.IPv6 = true },
		"pass without pw": func(c *Config) { c.AuthType = packet.AuthPass },
		"family":          func(c *Config) { c.FSM.PrimaryAddr = netip.MustParseAddr("fe80::1") },
		"peer multicast":  func(c *Config) { c.UnicastPeers = []netip.Addr{packet.GroupIPv4} },
		"vip family":      func(c *Config) { c.VIPs = []netip.Addr{netip.MustParseAddr("fd00::1")} },
		"fsm":             func(c *Config) { c.FSM.VRID = 0 },
	} {
		c := cfgV2(100)
		mut(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestAHSequenceFollowsPeer: after hearing a keepalived master at sequence
// 1000, our first advert as master carries 1001 (keepalived shares one
// counter between sending and its replay check and would drop 1..1000).
func TestAHSequenceFollowsPeer(t *testing.T) {
	peer := cfgV2(90)
	peer.FSM.PrimaryAddr = n2
	peer.AuthType, peer.AuthPass = packet.AuthAH, "1111"
	pr := mustNew(t, peer)
	p := &packet.Packet{TOS: 0xc0, ID: 1, TTL: 255, Src: n2, Dst: packet.GroupIPv4, Advert: pr.Advert(90),
		AH: &packet.AH{NextHeader: 112, PayloadLen: 4, SPI: 0x0a63000c, Seq: 1000}}
	adv, err := packet.Encode(p, packet.EncodeOptions{AHKey: packet.AHKey("1111")})
	if err != nil {
		t.Fatal(err)
	}
	c := cfgV2(100)
	c.AuthType, c.AuthPass = packet.AuthAH, "1111"
	h := &host{r: mustNew(t, c)}
	h.do(h.r.Step(fsm.Start{At: epoch}))
	if o := h.r.Receive(epoch.Add(time.Second), adv); o.Err != nil {
		t.Fatal(o.Err)
	}
	h.run(epoch.Add(5 * time.Second)) // lower priority: preempted after one MDI
	if h.r.Instance().State() != fsm.Master || len(h.sends) == 0 {
		t.Fatalf("state %v, %d sends", h.r.Instance().State(), len(h.sends))
	}
	got, err := packet.Decode(h.sends[0].IP)
	if err != nil {
		t.Fatal(err)
	}
	if got.AH.Seq != 1001 {
		t.Fatalf("first sequence number %d, want 1001", got.AH.Seq)
	}
}

// TestAHResyncOnLowerPriority: a master hearing a lower-priority AH advert
// (e.g. the loser of a healed partition) moves its counter past it, so its
// re-announcement is fresh for that peer.
func TestAHResyncOnLowerPriority(t *testing.T) {
	c := cfgV2(100)
	c.AuthType, c.AuthPass = packet.AuthAH, "1111"
	h := &host{r: mustNew(t, c)}
	h.do(h.r.Step(fsm.Start{At: epoch}))
	h.run(epoch.Add(5 * time.Second))
	if h.r.Instance().State() != fsm.Master {
		t.Fatal("not master")
	}
	peer := &packet.Packet{TOS: 0xc0, ID: 1, TTL: 255, Src: n2, Dst: packet.GroupIPv4, Advert: h.r.Advert(90),
		AH: &packet.AH{NextHeader: 112, PayloadLen: 4, SPI: 0x0a63000c, Seq: 500}}
	adv, err := packet.Encode(peer, packet.EncodeOptions{AHKey: packet.AHKey("1111")})
	if err != nil {
		t.Fatal(err)
	}
	o := h.r.Receive(epoch.Add(5500*time.Millisecond), adv)
	if o.Err != nil || len(o.Sends) != 1 {
		t.Fatalf("lower-priority advert: %v, %d sends", o.Err, len(o.Sends))
	}
	got, _ := packet.Decode(o.Sends[0].IP)
	if got.AH.Seq != 502 {
		t.Fatalf("re-announcement sequence %d, want 502 (received 500 + 1, then the next)", got.AH.Seq)
	}
}
