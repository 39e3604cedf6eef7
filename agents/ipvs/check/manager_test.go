package check

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vip/ocf"
)

type scripted struct {
	ok     atomic.Bool
	weight atomic.Int32 // >0: dynamic weight
	calls  atomic.Int32
}

func (s *scripted) Kind() string { return "SCRIPTED" }

func (s *scripted) Check(ctx context.Context) Result {
	s.calls.Add(1)
	if !s.ok.Load() {
		return Result{Err: errors.New("scripted failure")}
	}
	if w := s.weight.Load(); w > 0 {
		return Result{OK: true, Weight: int(w), HasWeight: true}
	}
	return Result{OK: true}
}

type recApplier struct{ ch chan []Dest }

func (r *recApplier) Apply(ctx context.Context, d []Dest) error {
	select {
	case r.ch <- slices.Clone(d):
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func next(t *testing.T, ap *recApplier) []Dest {
	t.Helper()
	select {
	case d := <-ap.ch:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no apply")
	}
	return nil
}

func TestManagerFailoverQuorumSorry(t *testing.T) {
	a, b := &scripted{}, &scripted{}
	a.ok.Store(true)
	b.ok.Store(true)
	sorry := Dest{Addr: addr("10.99.0.200"), Port: 80, Weight: 1}
	cfg := Config{
		Servers: []Server{
			{Addr: addr("10.99.0.1"), Port: 80, Weight: 2, Checker: a, DelayLoop: 10 * time.Second, Retry: 1, DelayBeforeRetry: time.Second},
			{Addr: addr("10.99.0.2"), Port: 80, Weight: 1, Checker: b, DelayLoop: 10 * time.Second, Retry: 1, DelayBeforeRetry: time.Second},
		},
		Quorum: 2, Sorry: &sorry,
	}
	clk := ocf.NewFakeClock(time.Unix(0, 0))
	ap := &recApplier{ch: make(chan []Dest, 10)}
	m := NewManager(cfg, ap, clk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()

	full := []Dest{{Addr: addr("10.99.0.1"), Port: 80, Weight: 2}, {Addr: addr("10.99.0.2"), Port: 80, Weight: 1}}
	if d := next(t, ap); !slices.Equal(d, full) {
		t.Fatalf("initial %v", d)
	}
	clk.BlockUntil(2) // both loops checked once and rest
	a.ok.Store(false)
	clk.Advance(10 * time.Second)
	clk.BlockUntil(2) // a waits delay_before_retry, b rests
	if len(ap.ch) != 0 {
		t.Fatal("server removed before its retry")
	}
	clk.Advance(time.Second)
	// a is down: live weight 1 < quorum 2 -> sorry server in.
	want := []Dest{{Addr: addr("10.99.0.2"), Port: 80, Weight: 1}, {Addr: addr("10.99.0.200"), Port: 80, Weight: 1, Sorry: true}}
	if d := next(t, ap); !slices.Equal(d, want) {
		t.Fatalf("after failure %v", d)
	}
	if st := m.State(); st[0].Up || !st[1].Up {
		t.Fatalf("state %v", st)
	}
	if a.calls.Load() != 3 {
		t.Fatalf("a checked %d times, want 3 (initial, failure, retry)", a.calls.Load())
	}
	a.ok.Store(true)
	clk.BlockUntil(2)
	clk.Advance(10 * time.Second)
	if d := next(t, ap); !slices.Equal(d, full) {
		t.Fatalf("after recovery %v", d)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v", err)
	}
}

func TestComputeHysteresisInhibit(t *testing.T) {
	cfg := Config{
		Servers: []Server{
			{Addr: addr("10.0.0.1"), Port: 80, Weight: 3, InhibitOnFailure: true},
			{Addr: addr("10.0.0.2"), Port: 80, Weight: 3},
			{Addr: addr("10.0.0.3"), Port: 80, Weight: 3},
		},
		Quorum: 6, Hysteresis: 2, Sorry: &Dest{Addr: addr("10.0.0.9"), Port: 80}, SorryInhibit: true,
	}
	up := func(w ...int) []ServerState {
		var s []ServerState
		for _, x := range w {
			s = append(s, ServerState{Up: x > 0, Weight: max(x, 0)})
		}
		return s
	}
	// 9 live: quorum up; sorry kept at weight 0 (inhibit).
	d, q := Compute(cfg, up(3, 3, 3), true)
	if !q || len(d) != 4 || d[3].Weight != 0 || !d[3].Sorry {
		t.Fatalf("all up: %v %v", d, q)
	}
	// 6 live: still >= quorum - hysteresis (4): up. Failed inhibited server at weight 0.
	d, q = Compute(cfg, up(-1, 3, 3), true)
	if !q || d[0].Weight != 0 || len(d) != 4 {
		t.Fatalf("one down: %v %v", d, q)
	}
	// 3 live < 4: quorum lost, sorry server gets weight 1.
	d, q = Compute(cfg, up(-1, -1, 3), true)
	if q || d[len(d)-1].Weight != 1 || len(d) != 3 {
		t.Fatalf("two down: %v %v", d, q)
	}
	// 6 live again but < quorum + hysteresis (8): stays lost.
	if _, q = Compute(cfg, up(-1, 3, 3), false); q {
		t.Fatal("quorum regained inside the hysteresis band")
	}
	// 9 live >= 8: regained.
	if _, q = Compute(cfg, up(3, 3, 3), false); !q {
		t.Fatal("quorum not regained")
	}
}

func TestManagerDynamicWeightAndAlpha(t *testing.T) {
	a := &scripted{}
	a.ok.Store(true)
	a.weight.Store(7)
	cfg := Config{Servers: []Server{{Addr: addr("10.0.0.1"), Port: 80, Weight: 1, Checker: a, DelayLoop: time.Minute}}, Quorum: 1, Alpha: true}
	clk := ocf.NewFakeClock(time.Unix(0, 0))
	ap := &recApplier{ch: make(chan []Dest, 10)}
	m := NewManager(cfg, ap, clk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	if d := next(t, ap); len(d) != 0 {
		t.Fatalf("alpha: servers must start down, got %v", d)
	}
	if d := next(t, ap); len(d) != 1 || d[0].Weight != 7 {
		t.Fatalf("dynamic weight: %v", d)
	}
	cancel()
	<-done
}
