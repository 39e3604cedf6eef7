package clock

import (
	"testing"
	"time"
)

func TestFakeFiresInDeadlineOrderAndStops(t *testing.T) {
	start := time.Unix(1000, 0)
	c := NewFake(start)
	late, early, stopped := c.NewTimer(3*time.Second), c.NewTimer(time.Second), c.NewTimer(2*time.Second)
	if !c.BlockUntil(3, time.Second) || c.Timers() != 3 {
		t.Fatalf("armed timers = %d, want 3", c.Timers())
	}
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop: first call must report an armed timer, the second must not")
	}
	c.Advance(time.Second)
	select {
	case at := <-early.C():
		if !at.Equal(start.Add(time.Second)) {
			t.Errorf("early fired at %v", at)
		}
	default:
		t.Fatal("early timer did not fire")
	}
	select {
	case <-late.C():
		t.Fatal("late timer fired early")
	default:
	}
	c.Advance(2 * time.Second)
	if at := <-late.C(); !at.Equal(start.Add(3*time.Second)) || !c.Now().Equal(at) {
		t.Errorf("late fired at %v, now %v", at, c.Now())
	}
	if c.Timers() != 0 {
		t.Errorf("%d timers left", c.Timers())
	}
	if imm := c.NewTimer(0); len(imm.C()) != 1 {
		t.Error("a zero-duration timer must fire at once")
	}
}
