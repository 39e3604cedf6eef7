package dataplane

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/guard"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
	"github.com/gocrm/gocrm/agents/vrrp/router"
)

// A backup accepts the farewell built from a master's advert as that
// master's priority-0 advert (checksum, PASS/AH authentication, AH
// sequence) and arms its skew timer, in every wire mode.
func TestFarewellAcceptedByBackup(t *testing.T) {
	iv := time.Second
	for _, c := range []struct {
		name string
		v6   bool
		ver  uint8
		auth packet.AuthType
	}{
		{"v3", false, 3, packet.AuthNone},
		{"v2-pass", false, 2, packet.AuthPass},
		{"v2-ah", false, 2, packet.AuthAH},
		{"v3-ipv6", true, 3, packet.AuthNone},
	} {
		t.Run(c.name, func(t *testing.T) {
			mk := func(prio uint8, src string) *router.Router {
				cfg := router.Config{FSM: fsm.Config{Name: "VI_1", VRID: 51, Version: c.ver, Priority: prio,
					AdvertInterval: iv, PrimaryAddr: netip.MustParseAddr(src)},
					IPv6: c.v6, VIPs: []netip.Addr{netip.MustParseAddr("10.99.0.50")}, AuthType: c.auth, AuthPass: "s3cret"}
				if c.v6 {
					cfg.VIPs = []netip.Addr{netip.MustParseAddr("fd99::50")}
				}
				r, err := router.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			s1, s2 := "10.99.0.11", "10.99.0.12"
			if c.v6 {
				s1, s2 = "fe80::11", "fe80::12"
			}
			m, b := mk(100, s1), mk(90, s2)
			t0 := time.Unix(1000, 0)
			m.Step(fsm.Start{At: t0})
			b.Step(fsm.Start{At: t0})
			out := m.Step(fsm.TimerExpired{At: t0.Add(m.Instance().MasterDownInterval())})
			if m.Instance().State() != fsm.Master || len(out.Sends) != 1 {
				t.Fatalf("sender state %v with %d sends", m.Instance().State(), len(out.Sends))
			}
			now := t0.Add(4 * iv)
			if o := b.Receive(now, out.Sends[0].IP); o.Err != nil {
				t.Fatalf("backup drops the master's advert: %v", o.Err)
			}
			fw, err := farewell(out.Sends[0], "s3cret")
			if err != nil {
				t.Fatal(err)
			}
			if string(fw.Payload) != string(fw.IP[len(fw.IP)-len(fw.Payload):]) || len(fw.Payload) == 0 {
				t.Fatal("payload is not the tail of the datagram")
			}
			p, err := packet.Decode(fw.IP)
			if err != nil || p.Advert.Priority != 0 || p.Advert.VRID != 51 {
				t.Fatalf("farewell %+v, %v", p, err)
			}
			at := now.Add(10 * time.Millisecond)
			if o := b.Receive(at, fw.IP); o.Err != nil {
				t.Fatalf("backup drops the farewell: %v", o.Err)
			}
			if got, want := b.Instance().Deadline().Sub(at), b.Instance().SkewTime(); got != want {
				t.Errorf("backup's timer in %v after the farewell, want its skew time %v", got, want)
			}
		})
	}
}

func TestGuardLinger(t *testing.T) {
	for _, c := range []struct{ in, want time.Duration }{
		{time.Second, 1050 * time.Millisecond},
		{100 * time.Millisecond, 150 * time.Millisecond},
		{10 * time.Millisecond, 15 * time.Millisecond},
	} {
		if got := guardLinger(c.in); got != c.want || got >= 3*c.in {
			t.Errorf("guardLinger(%v) = %v, want %v (< 3 intervals)", c.in, got, c.want)
		}
	}
}

// The dataplane keeps the guard informed: a master's VIP and farewell are
// held, a graceful stop releases them. A guard acting on what it holds
// (farewell sent from elsewhere while the master is silenced, like a
// SIGKILL) makes the backup take over after its skew time, well before a
// master down interval.
func TestGuardHoldAndCrashHandover(t *testing.T) {
	seg := NewSegment()
	iv := 300 * time.Millisecond
	g := NewFakeGuard()
	mk := func(name string, idx byte, prio uint8) *node {
		n := newNode(t, seg, name, idx, instanceCfg(prio, iv))
		n.dp.deps.Guard = nil
		if name == "n1" {
			n.dp.deps.Guard = g
			n.dp.cfg.CrashHandover = true
		}
		return n
	}
	n1, n2 := mk("n1", 11, 100), mk("n2", 12, 90)
	n1.start(t)
	n2.start(t)
	waitFor(t, "n1 master", 5*time.Second, func() bool { return n1.state() == fsm.Master })
	time.Sleep(2 * iv)
	held := g.Held()
	if len(held) != 1 || held[0].Instance != "VI_1" || len(held[0].Addrs) != 1 || len(held[0].Farewell) != 1 {
		t.Fatalf("guard holds %+v, want VI_1 with one address and one farewell", held)
	}
	h := held[0]
	if a := h.Addrs[0]; a.Prefix != vipAddr || a.Dev != "eth0" || a.Index != 2 {
		t.Errorf("held address %+v", a)
	}
	if h.Linger != guardLinger(iv) {
		t.Errorf("linger %v, want %v", h.Linger, guardLinger(iv))
	}
	if n := g.Holds(); n != 1 {
		t.Errorf("%d Hold calls for one mastership without AH, want 1", n)
	}
	fw := h.Farewell[0]
	if fw.Dev != "eth0" || fw.IPv6 || fw.Dst != packet.GroupIPv4 || fw.Src != netip.MustParseAddr("10.99.0.11") {
		t.Errorf("farewell header %+v", fw)
	}

	// "SIGKILL": n1 goes silent; the guard's farewell reaches n2.
	seg.Cut("n1", true)
	gc, err := (&FakeNet{Seg: seg, Node: "guard"}).Open("eth0", false, packet.ProtocolVRRP, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	t0 := time.Now()
	if err := gc.Send(router.Datagram{Dst: fw.Dst, IP: fw.IP}, fw.Src); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n2 master", 5*time.Second, func() bool { return n2.state() == fsm.Master })
	took := time.Since(t0)
	mdi := 3*iv + (256-90)*iv/256
	t.Logf("n2 master %v after the farewell (skew %v, master down interval %v)", took.Round(time.Millisecond), (256-90)*iv/256, mdi)
	if took >= mdi {
		t.Errorf("n2 took over after %v, not before its master down interval %v", took, mdi)
	}
	seg.Cut("n1", false)
	n1.stop(t)
	if held := g.Held(); len(held) != 0 {
		t.Errorf("guard still holds %+v after a graceful stop", held)
	}
}

// Without CrashHandover the guard holds the addresses but no farewell.
func TestGuardHoldWithoutHandover(t *testing.T) {
	seg := NewSegment()
	g := NewFakeGuard()
	n1 := newNode(t, seg, "n1", 11, instanceCfg(100, 30*time.Millisecond))
	n1.dp.deps.Guard = g
	n1.start(t)
	waitFor(t, "n1 master", 2*time.Second, func() bool { return n1.state() == fsm.Master })
	waitFor(t, "guard report", 2*time.Second, func() bool { return len(g.Held()) == 1 })
	if h := g.Held()[0]; len(h.Farewell) != 0 || len(h.Addrs) != 1 {
		t.Errorf("held %+v, want the address only", h)
	}
	n1.stop(t)
	if len(g.Held()) != 0 {
		t.Error("not released at stop")
	}
}

// A failing guard is dropped; the dataplane carries on.
func TestGuardFailureIgnored(t *testing.T) {
	seg := NewSegment()
	n1 := newNode(t, seg, "n1", 11, instanceCfg(100, 30*time.Millisecond))
	n1.dp.deps.Guard = failingGuard{}
	n1.start(t)
	waitFor(t, "n1 master", 2*time.Second, func() bool { return n1.state() == fsm.Master })
	if ok, _ := n1.hasVIP(); !ok {
		t.Fatal("VIP not installed")
	}
	n1.stop(t)
}

type failingGuard struct{}

func (failingGuard) Hold(guard.Holding) error { return context.Canceled }
func (failingGuard) Release(string) error     { return context.Canceled }
