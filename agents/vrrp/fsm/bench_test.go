package fsm

import (
	"net/netip"
	"testing"
	"time"
)

func BenchmarkBackupAdvert(b *testing.B) {
	in, err := New(Config{Name: "VI", VRID: 1, Version: 3, Priority: 90, AdvertInterval: 100 * time.Millisecond,
		PrimaryAddr: netip.MustParseAddr("10.0.0.2")})
	if err != nil {
		b.Fatal(err)
	}
	now := epoch
	in.Step(Start{At: now})
	src := netip.MustParseAddr("10.0.0.1")
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(100 * time.Millisecond)
		in.Step(AdvertReceived{At: now, Src: src, Priority: 100, Interval: 100 * time.Millisecond})
	}
}
