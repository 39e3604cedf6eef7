package packet_test

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/gocrm/gocrm/agents/vrrp/internal/golden"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
)

var (
	n1     = netip.MustParseAddr("10.99.0.11")
	n2     = netip.MustParseAddr("10.99.0.12")
	n1LL   = netip.MustParseAddr("fe80::99:ff:fe00:11")
	vip    = netip.MustParseAddr("10.99.0.50")
	vip2   = netip.MustParseAddr("10.99.0.51")
	vip6a  = netip.MustParseAddr("fe80::50")
	vip6b  = netip.MustParseAddr("fd99::50")
	n1MAC  = packet.MAC{0x02, 0x99, 0, 0, 0, 0x11}
	n2MAC  = packet.MAC{0x02, 0x99, 0, 0, 0, 0x12}
	pass11 = [8]byte{'1', '1', '1', '1'}
)

// goldenCase is what each golden packet must decode to, built by hand from
// vrrp.md §7 (not from the decoder), and how to re-encode it.
type goldenCase struct {
	name     string
	srcMAC   packet.MAC
	dstMAC   packet.MAC
	pkt      *packet.Packet // nil for the GARP frame
	checksum uint16
	key      []byte
	icv      string
}

func v2(prio uint8, auth packet.AuthType, data [8]byte) packet.Advert {
	return packet.Advert{Version: 2, Type: 1, VRID: 51, Priority: prio, AuthType: auth, Interval: 1,
		Addrs: []netip.Addr{vip}, AuthData: data}
}

func v4pkt(id uint16, dst netip.Addr, a packet.Advert) *packet.Packet {
	return &packet.Packet{TOS: 0xc0, ID: id, TTL: 255, Src: n1, Dst: dst, Advert: a}
}

func goldenCases() map[int]goldenCase {
	v3a := packet.Advert{Version: 3, Type: 1, VRID: 51, Priority: 100, Interval: 10, Addrs: []netip.Addr{vip, vip2}}
	v3z := v3a
	v3z.Priority = 0
	v6a := packet.Advert{Version: 3, Type: 1, VRID: 51, Priority: 100, Interval: 100, Addrs: []netip.Addr{vip6a, vip6b}}
	v6z := v6a
	v6z.Priority = 0
	p6 := func(a packet.Advert) *packet.Packet {
		return &packet.Packet{IPv6: true, TOS: 0xc0, FlowLabel: 0xdbcab, TTL: 255, Src: n1LL, Dst: packet.GroupIPv6, Advert: a}
	}
	ah := v4pkt(1, packet.GroupIPv4, v2(100, packet.AuthAH, [8]byte{}))
	ah.AH = &packet.AH{NextHeader: 112, PayloadLen: 4, SPI: 0x0a63000b, Seq: 1}
	mc4, _ := packet.MulticastMAC(packet.GroupIPv4)
	mc6, _ := packet.MulticastMAC(packet.GroupIPv6)
	return map[int]goldenCase{
		1:  {name: "v2-none advert", srcMAC: n1MAC, dstMAC: mc4, pkt: v4pkt(1, packet.GroupIPv4, v2(100, 0, [8]byte{})), checksum: 0x7035},
		2:  {name: "v2-none garp", srcMAC: n1MAC},
		3:  {name: "v2-none prio0", srcMAC: n1MAC, dstMAC: mc4, pkt: v4pkt(4, packet.GroupIPv4, v2(0, 0, [8]byte{})), checksum: 0xd435},
		4:  {name: "v2-pass advert", srcMAC: n1MAC, dstMAC: mc4, pkt: v4pkt(1, packet.GroupIPv4, v2(100, packet.AuthPass, pass11)), checksum: 0x0cd3},
		5:  {name: "v2-ah advert", srcMAC: n1MAC, dstMAC: mc4, pkt: ah, checksum: 0x6e35, key: packet.AHKey("1111"), icv: "1814e4596c42082178c05a6b"},
		6:  {name: "v3-ipv4 advert", srcMAC: n1MAC, dstMAC: mc4, pkt: v4pkt(1, packet.GroupIPv4, v3a), checksum: 0x6a94},
		7:  {name: "v3-ipv4 prio0", srcMAC: n1MAC, dstMAC: mc4, pkt: v4pkt(24, packet.GroupIPv4, v3z), checksum: 0xce94},
		8:  {name: "v3-ipv6 advert", srcMAC: n1MAC, dstMAC: mc6, pkt: p6(v6a), checksum: 0x6fd3},
		9:  {name: "v3-ipv6 prio0", srcMAC: n1MAC, dstMAC: mc6, pkt: p6(v6z), checksum: 0xd3d3},
		10: {name: "v3-unicast advert", srcMAC: n1MAC, dstMAC: n2MAC, pkt: v4pkt(1, n2, packet.Advert{Version: 3, Type: 1, VRID: 51, Priority: 100, Interval: 100, Addrs: []netip.Addr{vip}}), checksum: 0x4a79},
		11: {name: "v2-vmac advert", srcMAC: packet.VirtualMAC(false, 51), dstMAC: mc4, pkt: v4pkt(1, packet.GroupIPv4, v2(100, 0, [8]byte{})), checksum: 0x7035},
		12: {name: "v2-prio255 advert", srcMAC: n1MAC, dstMAC: mc4, pkt: v4pkt(1, packet.GroupIPv4, v2(255, 0, [8]byte{})), checksum: 0xd534},
	}
}

func TestGoldenEncodeByteExact(t *testing.T) {
	cases := goldenCases()
	for _, g := range golden.Load(t) {
		c, ok := cases[g.Num]
		if !ok || c.name != g.Name {
			t.Fatalf("golden packet %d %q not in the test table (have %q)", g.Num, g.Name, c.name)
		}
		t.Run(g.Name, func(t *testing.T) {
			var frame []byte
			if c.pkt == nil {
				frame = packet.GARPFrame(c.srcMAC, vip)
			} else {
				ip, err := packet.Encode(c.pkt, packet.EncodeOptions{AHKey: c.key})
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				et := uint16(packet.EtherTypeIPv4)
				if c.pkt.IPv6 {
					et = packet.EtherTypeIPv6
				}
				frame = packet.EthernetFrame(c.dstMAC, c.srcMAC, et, ip)
			}
			if !bytes.Equal(frame, g.Frame) {
				t.Fatalf("encoded frame differs\n got  %x\n want %x", frame, g.Frame)
			}
		})
	}
}

func TestGoldenDecode(t *testing.T) {
	cases := goldenCases()
	for _, g := range golden.Load(t) {
		c := cases[g.Num]
		if c.pkt == nil {
			continue
		}
		t.Run(g.Name, func(t *testing.T) {
			p, err := packet.Decode(g.Frame[14:])
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			w := c.pkt
			if p.IPv6 != w.IPv6 || p.TOS != w.TOS || p.TTL != 255 || p.Src != w.Src || p.Dst != w.Dst ||
				p.ID != w.ID || p.FlowLabel != w.FlowLabel {
				t.Errorf("IP header = %+v", p)
			}
			a, wa := p.Advert, w.Advert
			if a.Version != wa.Version || a.Type != 1 || a.VRID != 51 || a.Priority != wa.Priority ||
				a.AuthType != wa.AuthType || a.Interval != wa.Interval || a.AuthData != wa.AuthData ||
				a.Checksum != c.checksum || len(a.Addrs) != len(wa.Addrs) {
				t.Fatalf("advert = %+v, want %+v checksum 0x%04x", a, wa, c.checksum)
			}
			for i := range a.Addrs {
				if a.Addrs[i] != wa.Addrs[i] {
					t.Errorf("address[%d] = %v, want %v", i, a.Addrs[i], wa.Addrs[i])
				}
			}
			if !packet.VerifyChecksum(p.Message(), p.Src, p.Dst) {
				t.Errorf("checksum does not verify")
			}
			if c.icv != "" {
				if p.AH == nil || hex.EncodeToString(p.AH.ICV[:]) != c.icv || p.AH.Seq != 1 || p.AH.SPI != 0x0a63000b {
					t.Fatalf("AH = %+v, want ICV %s", p.AH, c.icv)
				}
				icv := packet.ComputeICV(g.Frame[14:], c.key)
				if hex.EncodeToString(icv[:]) != c.icv {
					t.Errorf("recomputed ICV %x, want %s", icv, c.icv)
				}
			}
			// Re-encode the decoded packet: byte-identical IP packet.
			ip, err := packet.Encode(p, packet.EncodeOptions{AHKey: c.key})
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			if !bytes.Equal(ip, g.Frame[14:]) {
				t.Fatalf("re-encoded differs\n got  %x\n want %x", ip, g.Frame[14:])
			}
		})
	}
}

// TestGoldenMaskedFields: the IPv4 ID and IPv6 flow label differ between
// captures; encoding with other values changes only those fields (and the
// IPv4 header checksum).
func TestGoldenMaskedFields(t *testing.T) {
	c := goldenCases()[1]
	p := *c.pkt
	p.ID = 7
	b, err := packet.Encode(&p, packet.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b[4] != 0 || b[5] != 7 {
		t.Fatalf("ID bytes %x", b[4:6])
	}
	if packet.Checksum(b[:20]) != 0 {
		t.Fatalf("IPv4 header checksum invalid: %x", b[:20])
	}
}

func TestMACHelpers(t *testing.T) {
	if m, ok := packet.MulticastMAC(netip.MustParseAddr("239.129.2.3")); !ok || m.String() != "01:00:5e:01:02:03" {
		t.Errorf("IPv4 multicast MAC %v %v", m, ok)
	}
	if m, ok := packet.MulticastMAC(netip.MustParseAddr("ff02::1:ff00:11")); !ok || m.String() != "33:33:ff:00:00:11" {
		t.Errorf("IPv6 multicast MAC %v %v", m, ok)
	}
	if _, ok := packet.MulticastMAC(vip); ok {
		t.Error("unicast address has a multicast MAC")
	}
	if m := packet.VirtualMAC(true, 7); m.String() != "00:00:5e:00:02:07" {
		t.Errorf("IPv6 VMAC %v", m)
	}
	if packet.GARPFrame(n1MAC, vip6a) != nil {
		t.Error("GARP for an IPv6 address")
	}
}

// TestUnsolicitedNAFrame compares with keepalived 2.2.7's unsolicited NAs
// for fe80::50 and fd99::50 from 02:99:00:00:00:11, captured in the netns
// lab (tcpdump reported "icmp6 sum ok").
func TestUnsolicitedNAFrame(t *testing.T) {
	for vipText, want := range map[string]string{
		"fe80::50": "33330000000102990000001186dd6000000000203afffe800000000000000000000000000050ff0200000000000000000000000000018800565420000000fe8000000000000000000000000000500201029900000011",
		"fd99::50": "33330000000102990000001186dd6000000000203afffd990000000000000000000000000050ff02000000000000000000000000000188005822" + "20000000fd9900000000000000000000000000500201029900000011",
	} {
		got := hex.EncodeToString(packet.UnsolicitedNAFrame(n1MAC, netip.MustParseAddr(vipText)))
		if got != want {
			t.Errorf("NA for %s\n got  %s\n want %s", vipText, got, want)
		}
	}
	if packet.UnsolicitedNAFrame(n1MAC, vip) != nil {
		t.Error("NA for an IPv4 address")
	}
}
