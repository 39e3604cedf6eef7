package dc

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib/store"
)

func TestBackoffDelay(t *testing.T) {
	want := map[int]time.Duration{0: 0, 1: 0, 2: time.Second, 3: 2 * time.Second, 4: 4 * time.Second,
		5: 8 * time.Second, 6: 16 * time.Second, 7: 30 * time.Second, 50: 30 * time.Second}
	for streak, w := range want {
		if got := backoffDelay(streak); got != w {
			t.Errorf("backoffDelay(%d) = %s, want %s", streak, got, w)
		}
	}
}

// TestBackoffHoldsOnlyForOwnResults: consecutive failed transitions arm
// the hold; failure counts and operation results keep it, any other change
// (node state, other transient attributes, configuration) releases it at
// once, and a completed transition resets the streak.
func TestBackoffHoldsOnlyForOwnResults(t *testing.T) {
	st, r, _, _ := setup(t)
	d := &DC{cfg: Config{Store: st}, log: slog.New(slog.DiscardHandler)}
	apply := func(c store.Command) {
		t.Helper()
		if _, err := r.Apply(context.Background(), c.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	apply(store.Command{Op: store.OpNodeState, Node: "a", Attrs: map[string]string{"in_ccm": "true", "crmd": "online", "join": "member", "expected": "member"}})
	now := time.Unix(1000, 0)
	d.planSig = "start-d1@a"
	d.noteTransitionEnd(now, true)
	if d.holding(now) {
		t.Fatal("the first failure must be recovered at once")
	}
	d.noteTransitionEnd(now, true)
	if !d.holding(now) || d.holdUntil != now.Add(time.Second) {
		t.Fatalf("second failure in a row: holding=%v until %s, want 1s", d.holding(now), d.holdUntil)
	}
	// The failure's own traces do not release the hold.
	apply(store.Command{Op: store.OpSetNodeAttr, Node: "a", Name: "fail-count-d1#monitor_1000", Value: "3", Transient: true})
	apply(store.Command{Op: store.OpSetNodeAttr, Node: "a", Name: "last-failure-d1#monitor_1000", Value: "1000", Transient: true})
	if !d.holding(now.Add(500 * time.Millisecond)) {
		t.Fatal("a fail-count update released the hold")
	}
	if d.holding(now.Add(time.Second)) {
		t.Fatal("still holding once the delay is over")
	}
	// Third failure: 2 s; a standby attribute releases it.
	d.noteTransitionEnd(now, true)
	if !d.holding(now) || d.holdUntil != now.Add(2*time.Second) {
		t.Fatalf("third failure: until %s, want 2s", d.holdUntil)
	}
	apply(store.Command{Op: store.OpSetNodeAttr, Node: "a", Name: "standby", Value: "on", Transient: true})
	if d.holding(now) {
		t.Fatal("a standby change did not release the hold")
	}
	// Fourth: 4 s; a node going offline releases it.
	d.noteTransitionEnd(now, true)
	if !d.holding(now) {
		t.Fatal("fourth failure did not hold")
	}
	apply(store.Command{Op: store.OpNodeState, Node: "a", Attrs: map[string]string{"in_ccm": "false", "crmd": "offline"}})
	if d.holding(now) {
		t.Fatal("a node leaving did not release the hold")
	}
	// A failed transition with another plan restarts the count.
	d.planSig = "start-d1@b"
	d.noteTransitionEnd(now, true)
	if d.holding(now) || d.failStreak != 1 {
		t.Fatalf("after a different plan failed: streak %d, holding %v", d.failStreak, d.holding(now))
	}
	d.noteTransitionEnd(now, true)
	if !d.holding(now) || d.failStreak != 2 {
		t.Fatalf("same plan failed again: streak %d, holding %v", d.failStreak, d.holding(now))
	}
	// A completed transition resets the streak.
	d.noteTransitionEnd(now, false)
	d.noteTransitionEnd(now, true)
	if d.holding(now) || d.failStreak != 1 {
		t.Fatalf("after a success: streak %d, holding %v", d.failStreak, d.holding(now))
	}
}
