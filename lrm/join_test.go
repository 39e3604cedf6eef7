package lrm

import (
	"context"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// gate makes the test agent's start and stop block until released.
type gate struct {
	entered chan string
	release chan struct{}
}

func newGate(f *fixture) *gate {
	g := &gate{entered: make(chan string, 16), release: make(chan struct{})}
	f.agent.hook = func(ctx context.Context, op string, c agent.Call) {
		if op != OpStart && op != OpStop {
			return
		}
		g.entered <- op
		select {
		case <-g.release:
		case <-ctx.Done():
		}
	}
	return g
}

func (g *gate) waitEntered(t *testing.T, want string) {
	t.Helper()
	select {
	case op := <-g.entered:
		if op != want {
			t.Fatalf("agent ran %s, want %s", op, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("agent %s never ran", want)
	}
}

func startReq(params map[string]string, ud string) Request {
	return Request{Rsc: Resource{ID: "r", Agent: testKey}, Op: OpStart, Timeout: 5 * time.Second,
		Params: params, Meta: map[string]string{"timeout": "5000"}, UserData: ud}
}

// TestJoinIdenticalInFlight: a start re-issued by a new DC (higher term)
// while the first one still runs joins it: the agent's start runs once and
// both requests get a result with their own call ID, term and user data.
func TestJoinIdenticalInFlight(t *testing.T) {
	f := newFixture(t)
	g := newGate(f)
	p := map[string]string{"a": "1"}
	first, err := f.lrm.Execute(1, startReq(p, "old-dc"))
	if err != nil {
		t.Fatal(err)
	}
	g.waitEntered(t, OpStart)
	// Notification lists differ between the DCs' plans; still the same start.
	again := startReq(map[string]string{"a": "1"}, "new-dc")
	again.Meta["notify_start_uname"] = "n1"
	second, err := f.lrm.Execute(2, again)
	if err != nil {
		t.Fatal(err)
	}
	if second <= first {
		t.Fatalf("joined call id %d not after %d", second, first)
	}
	pend := f.lrm.Pending()
	if len(pend) != 2 || pend[0].CallID != first || pend[1].CallID != second || pend[1].State != "running" {
		t.Fatalf("pending while joined: %+v", pend)
	}
	close(g.release)
	r1, r2 := f.res.next(t), f.res.next(t)
	if r1.CallID != first || r1.Term != 1 || r1.UserData != "old-dc" || r1.JoinedTo != 0 || r1.RC != agent.OK {
		t.Fatalf("first result %+v", r1)
	}
	if r2.CallID != second || r2.Term != 2 || r2.UserData != "new-dc" || r2.JoinedTo != first ||
		r2.RC != agent.OK || r2.Status != StatusDone || r2.Key != "r_start_0" {
		t.Fatalf("joined result %+v", r2)
	}
	if n := f.agent.count(OpStart); n != 1 {
		t.Fatalf("start ran %d times", n)
	}
	f.res.none(t, 50*time.Millisecond)
	// Once its result is delivered, the same request runs again.
	waitFor(t, func() bool {
		f.lrm.mu.Lock()
		defer f.lrm.mu.Unlock()
		r := f.lrm.settling["r"]
		return r == nil || r.settled
	})
	f.exec(t, 2, "r", OpStart, 0)
	g.waitEntered(t, OpStart)
	if r := f.res.next(t); r.JoinedTo != 0 {
		t.Fatalf("request after completion was joined: %+v", r)
	}
	if n := f.agent.count(OpStart); n != 2 {
		t.Fatalf("start ran %d times, want 2", n)
	}
}

// TestJoinFailureReachesBoth: a failing execution fails every request
// joined to it.
func TestJoinFailureReachesBoth(t *testing.T) {
	f := newFixture(t)
	g := newGate(f)
	f.agent.setRC(OpStart, agent.ErrGeneric)
	first, _ := f.lrm.Execute(1, startReq(nil, "a"))
	g.waitEntered(t, OpStart)
	second, _ := f.lrm.Execute(2, startReq(nil, "b"))
	close(g.release)
	r1, r2 := f.res.next(t), f.res.next(t)
	if r1.CallID != first || r2.CallID != second || r1.RC != agent.ErrGeneric || r2.RC != agent.ErrGeneric || r2.JoinedTo != first {
		t.Fatalf("results %+v / %+v", r1, r2)
	}
}

// TestNoJoinAcrossOtherOps: identical requests separated by another
// operation, with changed parameters, or not joinable (probes) all run.
func TestNoJoinAcrossOtherOps(t *testing.T) {
	t.Run("stop in between", func(t *testing.T) {
		f := newFixture(t)
		g := newGate(f)
		f.exec(t, 1, "r", OpStart, 0)
		g.waitEntered(t, OpStart)
		f.exec(t, 1, "r", OpStop, 0)
		f.exec(t, 2, "r", OpStart, 0)
		close(g.release)
		for _, want := range []string{"r_start_0", "r_stop_0", "r_start_0"} {
			if r := f.res.next(t); r.Key != want || r.JoinedTo != 0 {
				t.Fatalf("got %+v, want own result of %s", r, want)
			}
		}
		if f.agent.count(OpStart) != 2 || f.agent.count(OpStop) != 1 {
			t.Fatalf("starts %d stops %d", f.agent.count(OpStart), f.agent.count(OpStop))
		}
	})
	t.Run("changed parameters", func(t *testing.T) {
		f := newFixture(t)
		g := newGate(f)
		if _, err := f.lrm.Execute(1, startReq(map[string]string{"a": "1"}, "")); err != nil {
			t.Fatal(err)
		}
		g.waitEntered(t, OpStart)
		if _, err := f.lrm.Execute(2, startReq(map[string]string{"a": "2"}, "")); err != nil {
			t.Fatal(err)
		}
		close(g.release)
		for range 2 {
			if r := f.res.next(t); r.JoinedTo != 0 {
				t.Fatalf("changed definition joined: %+v", r)
			}
		}
		if n := f.agent.count(OpStart); n != 2 {
			t.Fatalf("start ran %d times, want 2", n)
		}
	})
	t.Run("changed timeout", func(t *testing.T) {
		a, b := startReq(nil, ""), startReq(nil, "")
		b.Meta["timeout"] = "9000"
		if sameOperation(a, b) {
			t.Fatal("requests with different timeouts are the same operation")
		}
		c := startReq(nil, "")
		c.Meta["notify_type"] = "pre"
		if !sameOperation(a, c) {
			t.Fatal("notification lists made a different operation")
		}
	})
	t.Run("probes", func(t *testing.T) {
		f := newFixture(t)
		g := newGate(f)
		f.exec(t, 1, "r", OpStart, 0)
		g.waitEntered(t, OpStart)
		f.exec(t, 1, "r", OpProbe, 0)
		f.exec(t, 2, "r", OpProbe, 0)
		close(g.release)
		for range 3 {
			if r := f.res.next(t); r.JoinedTo != 0 {
				t.Fatalf("probe joined: %+v", r)
			}
		}
		if n := f.agent.count(OpMonitor); n != 2 {
			t.Fatalf("probe ran %d times, want 2", n)
		}
	})
}

// TestJoinedQueuedCancelledOnClose: a request joined to a queued one is
// reported cancelled with it when the LRM closes.
func TestJoinedQueuedCancelledOnClose(t *testing.T) {
	f := newFixture(t)
	g := newGate(f)
	f.exec(t, 1, "r", OpStop, 0)
	g.waitEntered(t, OpStop)
	queued := f.exec(t, 1, "r", OpStart, 0)
	joined := f.exec(t, 2, "r", OpStart, 0)
	done := make(chan struct{})
	go func() {
		_ = f.lrm.Close()
		close(done)
	}()
	got := map[int64]OpResult{}
	for range 3 {
		r := f.res.next(t)
		got[r.CallID] = r
	}
	<-done
	if r := got[queued]; r.Status != StatusCancelled {
		t.Fatalf("queued start: %+v", r)
	}
	if r := got[joined]; r.Status != StatusCancelled || r.JoinedTo != queued {
		t.Fatalf("joined start: %+v", r)
	}
	if n := f.agent.count(OpStart); n != 0 {
		t.Fatalf("start ran %d times", n)
	}
}

// TestJoinFinishedUntilSettled: with HoldUntilSettled a finished start
// stays joinable until its result is settled (recorded by the consumer):
// a DC that planned on a CIB still showing it pending gets its result
// without a second run. After Settled, or once another operation was
// accepted for the resource, the same request runs again.
func TestJoinFinishedUntilSettled(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) { c.HoldUntilSettled = true })
	first := f.exec(t, 1, "r", OpStart, 0)
	if r := f.res.next(t); r.CallID != first {
		t.Fatalf("first result %+v", r)
	}
	second := f.exec(t, 2, "r", OpStart, 0)
	r := f.res.next(t)
	if r.CallID != second || r.JoinedTo != first || r.RC != agent.OK || r.Term != 2 {
		t.Fatalf("start after an unsettled one: %+v", r)
	}
	if n := f.agent.count(OpStart); n != 1 {
		t.Fatalf("start ran %d times before settling", n)
	}
	f.lrm.Settled("r", second) // a joined call id does not end the hold
	f.exec(t, 2, "r", OpStart, 0)
	if r := f.res.next(t); r.JoinedTo != first {
		t.Fatalf("hold ended by a joined call id: %+v", r)
	}
	f.lrm.Settled("r", first)
	f.exec(t, 3, "r", OpStart, 0)
	if r := f.res.next(t); r.JoinedTo != 0 {
		t.Fatalf("start after settling was joined: %+v", r)
	}
	if n := f.agent.count(OpStart); n != 2 {
		t.Fatalf("start ran %d times, want 2", n)
	}
	// A probe in between ends the hold of the (unsettled) second start.
	f.exec(t, 3, "r", OpProbe, 0)
	f.res.next(t)
	f.exec(t, 3, "r", OpStart, 0)
	if r := f.res.next(t); r.JoinedTo != 0 {
		t.Fatalf("start after a probe was joined: %+v", r)
	}
	if n := f.agent.count(OpStart); n != 3 {
		t.Fatalf("start ran %d times, want 3", n)
	}
}

// TestJoinFinishedUntilDelivered: without HoldUntilSettled a finished
// run is joinable only until OnResult has its result.
func TestJoinFinishedUntilDelivered(t *testing.T) {
	f := newFixture(t)
	f.exec(t, 1, "r", OpStart, 0)
	f.res.next(t)
	waitFor(t, func() bool {
		f.lrm.mu.Lock()
		defer f.lrm.mu.Unlock()
		r := f.lrm.settling["r"]
		return r == nil || r.settled
	})
	f.exec(t, 2, "r", OpStart, 0)
	if r := f.res.next(t); r.JoinedTo != 0 {
		t.Fatalf("delivered start was joined: %+v", r)
	}
	if n := f.agent.count(OpStart); n != 2 {
		t.Fatalf("start ran %d times, want 2", n)
	}
}

// TestJoinSettledWhenReissued: after its result is settled (recorded), a
// start is still joined by an identical request that names it in Reissues
// (a DC that planned on the CIB from just before the result was recorded,
// which showed this execution pending), but not by one naming another
// execution or none, nor once another operation was accepted.
func TestJoinSettledWhenReissued(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) { c.HoldUntilSettled = true })
	req := startReq(map[string]string{"a": "1"}, "old-dc")
	req.Tag = "1:5:0:old"
	first, err := f.lrm.Execute(1, req)
	if err != nil {
		t.Fatal(err)
	}
	f.res.next(t)
	f.lrm.Settled("r", first)
	reissue := func(term uint64, reissues string) OpResult {
		t.Helper()
		r := startReq(map[string]string{"a": "1"}, "new-dc")
		r.Tag, r.Reissues = "1:1:0:new", reissues
		if _, err := f.lrm.Execute(term, r); err != nil {
			t.Fatal(err)
		}
		return f.res.next(t)
	}
	if r := reissue(2, "1:5:0:old"); r.JoinedTo != first || r.RC != agent.OK || r.UserData != "new-dc" {
		t.Fatalf("re-issue of the recorded start: %+v", r)
	}
	if n := f.agent.count(OpStart); n != 1 {
		t.Fatalf("start ran %d times, want 1", n)
	}
	if r := reissue(2, "1:4:0:other"); r.JoinedTo != 0 {
		t.Fatalf("re-issue naming another execution joined: %+v", r)
	}
	if n := f.agent.count(OpStart); n != 2 {
		t.Fatalf("start ran %d times, want 2", n)
	}
	// The run above is now the last one; a stop ends every join.
	f.exec(t, 2, "r", OpStop, 0)
	f.res.next(t)
	if r := reissue(3, "1:1:0:new"); r.JoinedTo != 0 {
		t.Fatalf("re-issue across a stop joined: %+v", r)
	}
}

// TestJoinSettledAfterTwoFailovers: DC 2 re-issued a running start (its
// request joined the run and was recorded pending under its own key);
// DC 3, planning on that record after the result was settled, names DC 2's
// key: it still gets the one execution's result.
func TestJoinSettledAfterTwoFailovers(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) { c.HoldUntilSettled = true })
	g := newGate(f)
	req := func(tag, reissues string) Request {
		r := startReq(map[string]string{"a": "1"}, tag)
		r.Tag, r.Reissues = tag, reissues
		return r
	}
	first, err := f.lrm.Execute(1, req("k1", ""))
	if err != nil {
		t.Fatal(err)
	}
	g.waitEntered(t, OpStart)
	if _, err := f.lrm.Execute(2, req("k2", "k1")); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	f.res.next(t)
	f.res.next(t)
	f.lrm.Settled("r", first)
	if _, err := f.lrm.Execute(3, req("k3", "k2")); err != nil {
		t.Fatal(err)
	}
	if r := f.res.next(t); r.JoinedTo != first || r.UserData != "k3" {
		t.Fatalf("DC 3's re-issue: %+v", r)
	}
	if n := f.agent.count(OpStart); n != 1 {
		t.Fatalf("start ran %d times, want 1", n)
	}
}
