package daemon

import (
	"slices"
	"testing"
)

func TestLocalStops(t *testing.T) {
	var s localStops
	if got := s.take(); len(got) != 0 {
		t.Fatalf("empty set: %v", got)
	}
	s.add("vip")
	s.add("d1")
	s.add("d2")
	s.forget("d1") // the DC acted on d1 since: its history is current
	if got := s.take(); !slices.Equal(got, []string{"d2", "vip"}) {
		t.Fatalf("take: %v, want [d2 vip]", got)
	}
	if got := s.take(); len(got) != 0 {
		t.Fatalf("take forgets: %v", got)
	}
}
