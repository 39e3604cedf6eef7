package cib

import "testing"

// BenchmarkMarshalGenerated writes a generated CIB (4 nodes, 1000
// resources): mostly the status section.
func BenchmarkMarshalGenerated(b *testing.B) {
	c, err := Parse(genBenchCIB(4, 1000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Marshal()
	}
}

// BenchmarkConfigElementFilled converts a configuration with every field
// set (see filledCIB) to its element tree: the typed writers alone.
func BenchmarkConfigElementFilled(b *testing.B) {
	c := filledCIB()
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Config.Element()
	}
}
