package router

import (
	"net/netip"
	"testing"

	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
)

func TestGroupRouters(t *testing.T) {
	c1 := cfgV2(100)
	c2 := cfgV2(100)
	c2.FSM.Name, c2.FSM.VRID, c2.VIPs = "VI_2", 52, []netip.Addr{vip2}
	r1, r2 := mustNew(t, c1), mustNew(t, c2)
	g, err := NewGroup("VG", r1, r2)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"VI_1", "VI_2"} {
		if _, err := g.Step(m, fsm.Start{At: epoch}); err != nil {
			t.Fatal(err)
		}
	}
	// A hostile packet on VI_2 is dropped and changes nothing.
	bad := encode(t, &packet.Packet{TTL: 1, Src: n2, Dst: packet.GroupIPv4, Advert: packet.Advert{
		Version: 2, Type: 1, VRID: 52, Priority: 0, Interval: 1, Addrs: []netip.Addr{vip2}}})
	out, err := g.Receive("VI_2", epoch, bad)
	if err != nil || len(out) != 1 || packet.ReasonOf(out[0].Err) != packet.ReasonTTL {
		t.Fatalf("hostile packet: %+v %v", out, err)
	}
	// VI_1's down timer: both members become master, each sending its own advert.
	out, err = g.Step("VI_1", fsm.TimerExpired{At: r1.Instance().Deadline()})
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]uint8{}
	groupNotified := false
	for _, mo := range out {
		for _, s := range mo.Sends {
			p, err := packet.Decode(s.IP)
			if err != nil {
				t.Fatal(err)
			}
			sent[mo.Instance] = p.Advert.VRID
		}
		if mo.Instance == "" && len(mo.Actions) == 1 && mo.Actions[0].State == fsm.Master {
			groupNotified = true
		}
	}
	if sent["VI_1"] != 51 || sent["VI_2"] != 52 || !groupNotified {
		t.Fatalf("outputs %+v", out)
	}
	if _, err := g.Receive("nope", epoch, bad); err == nil {
		t.Fatal("unknown member accepted")
	}
}
