package packet_test

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"

	"github.com/gocrm/gocrm/agents/vrrp/internal/golden"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
)

// fuzzCheckers are receive-side configurations exercised on every input.
func fuzzCheckers(t *testing.T) []*packet.Checker {
	cfgs := []packet.CheckConfig{
		v2cfg(),
		{Version: 2, VRID: 51, Interval: 1, VIPs: []netip.Addr{vip}, AuthType: packet.AuthAH, AuthPass: "1111"},
		{Version: 2, VRID: 51, Interval: 1, VIPs: []netip.Addr{vip}, AuthType: packet.AuthPass, AuthPass: "1111"},
		v3cfg(),
		{Version: 3, VRID: 51, VIPs: []netip.Addr{vip}, Unicast: true, CheckUnicastSource: true, Peers: []netip.Addr{n1}},
		{Version: 3, IPv6: true, VRID: 51, VIPs: []netip.Addr{vip6a, vip6b}},
	}
	var cs []*packet.Checker
	for _, c := range cfgs {
		ch, err := packet.NewChecker(c)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, ch)
	}
	return cs
}

// sameFields compares two decoded packets, ignoring the checksums (encoding
// always computes them).
func sameFields(a, b *packet.Packet) bool {
	if a.IPv6 != b.IPv6 || a.TOS != b.TOS || a.ID != b.ID || a.FlagsFrag != b.FlagsFrag ||
		a.FlowLabel != b.FlowLabel || a.TTL != b.TTL || a.Src != b.Src || a.Dst != b.Dst ||
		!bytes.Equal(a.Options, b.Options) || (a.AH == nil) != (b.AH == nil) {
		return false
	}
	if a.AH != nil && *a.AH != *b.AH {
		return false
	}
	x, y := a.Advert, b.Advert
	return x.Version == y.Version && x.Type == y.Type && x.VRID == y.VRID && x.Priority == y.Priority &&
		x.AuthType == y.AuthType && x.Interval == y.Interval && x.Reserved == y.Reserved &&
		x.AuthData == y.AuthData && slices.Equal(x.Addrs, y.Addrs)
}

func FuzzDecode(f *testing.F) {
	if ps, err := golden.Read(); err == nil {
		for _, p := range ps {
			if len(p.Frame) > 14 {
				f.Add(p.Frame[14:])
			}
		}
	}
	// Seeds that do not depend on ../shared.
	for _, c := range goldenCases() {
		if c.pkt == nil {
			continue
		}
		b, err := packet.Encode(c.pkt, packet.EncodeOptions{AHKey: c.key})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := append([]byte(nil), b...)
		for _, ch := range fuzzCheckers(t) {
			_, _ = ch.Receive(b)
			st := ch.Stats()
			if st.Accepted()+st.TotalDropped() != 1 {
				t.Fatalf("checker counted %v for one packet", st.Snapshot())
			}
		}
		if !bytes.Equal(orig, b) {
			t.Fatalf("input modified")
		}
		p1, err := packet.Decode(b)
		if err != nil {
			return
		}
		b1, err := packet.Encode(p1, packet.EncodeOptions{})
		if err != nil {
			t.Fatalf("decoded packet does not re-encode: %v (%+v)", err, p1)
		}
		p2, err := packet.Decode(b1)
		if err != nil {
			t.Fatalf("re-encoded packet does not decode: %v\n%x", err, b1)
		}
		if !sameFields(p1, p2) {
			t.Fatalf("decode→encode→decode changed fields\n p1 %+v\n p2 %+v", p1, p2)
		}
		b2, err := packet.Encode(p2, packet.EncodeOptions{})
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable: %v\n%x\n%x", err, b1, b2)
		}
		if !packet.VerifyChecksum(p2.Message(), p2.Src, p2.Dst) {
			t.Fatalf("encoder wrote a bad checksum: %x", b1)
		}
	})
}
