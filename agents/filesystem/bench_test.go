package filesystem

import (
	"strings"
	"testing"
)

func BenchmarkParseMountinfo(b *testing.B) {
	text := strings.Repeat(sampleMountinfo, 10) // ~50 mounts
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := ParseMountinfo(strings.NewReader(text)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcScannerUsers measures one fuser-like scan of the real /proc
// (the cost of each round of a busy stop).
func BenchmarkProcScannerUsers(b *testing.B) {
	for b.Loop() {
		if _, err := (ProcScanner{}).Users("/nonexistent-gocrm-bench"); err != nil {
			b.Skip("no /proc:", err)
		}
	}
}
