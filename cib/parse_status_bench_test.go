package cib

import "testing"

// BenchmarkNodeStateConversion is the status section's conversion alone
// (node_state elements of the benchmark CIB to NodeStates, sharing the
// tree's attribute lists as Parse does), without the XML reader.
func BenchmarkNodeStateConversion(b *testing.B) {
	root, err := parseElementSeq(benchCIB(b))
	if err != nil {
		b.Fatal(err)
	}
	states := root.Child("status").Children
	b.ReportAllocs()
	for b.Loop() {
		for _, el := range states {
			if _, err := parseNodeState(el, true); err != nil {
				b.Fatal(err)
			}
		}
	}
}
