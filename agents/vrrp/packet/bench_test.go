package packet_test

import (
	"testing"

	"github.com/gocrm/gocrm/agents/vrrp/packet"
)

func BenchmarkEncodeV2(b *testing.B) {
	p := v4pkt(1, packet.GroupIPv4, v2(100, 0, [8]byte{}))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := packet.Encode(p, packet.EncodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeAH(b *testing.B) {
	p := v4pkt(1, packet.GroupIPv4, v2(100, packet.AuthAH, [8]byte{}))
	p.AH = &packet.AH{NextHeader: 112, PayloadLen: 4, SPI: 0x0a63000b, Seq: 1}
	key := packet.AHKey("1111")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := packet.Encode(p, packet.EncodeOptions{AHKey: key}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReceiveV3(b *testing.B) {
	raw, err := packet.Encode(goldenCases()[6].pkt, packet.EncodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ch, _ := packet.NewChecker(v3cfg())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ch.Receive(raw); err != nil {
			b.Fatal(err)
		}
	}
}
