package lrm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/dummy"
)

// collector gathers delivered results.
type collector struct {
	ch chan OpResult
}

func newCollector() *collector { return &collector{ch: make(chan OpResult, 256)} }

func (c *collector) on(r OpResult) { c.ch <- r }

// next waits for the next result.
func (c *collector) next(t *testing.T) OpResult {
	t.Helper()
	select {
	case r := <-c.ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no result within 10s")
		return OpResult{}
	}
}

// none asserts that no result arrives within d.
func (c *collector) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case r := <-c.ch:
		t.Fatalf("unexpected result %s rc=%d status=%v", r.Key, r.RC, r.Status)
	case <-time.After(d):
	}
}

// testAgent is a programmable built-in agent.
type testAgent struct {
	mu        sync.Mutex
	rc        map[string]agent.RC // op -> rc
	calls     map[string]int      // op -> count
	active    map[string]int      // resource -> running actions
	maxActive map[string]int
	total     int
	maxTotal  int
	hook      func(ctx context.Context, op string, c agent.Call) // called while "running"
}

func newTestAgent() *testAgent {
	return &testAgent{rc: map[string]agent.RC{}, calls: map[string]int{}, active: map[string]int{}, maxActive: map[string]int{}}
}

func (a *testAgent) setRC(op string, rc agent.RC) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rc[op] = rc
}

func (a *testAgent) count(op string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[op]
}

func (a *testAgent) do(ctx context.Context, op string, c agent.Call) agent.Result {
	a.mu.Lock()
	a.calls[op]++
	a.active[c.Resource]++
	a.total++
	a.maxActive[c.Resource] = max(a.maxActive[c.Resource], a.active[c.Resource])
	a.maxTotal = max(a.maxTotal, a.total)
	hook, rc := a.hook, a.rc[op]
	a.mu.Unlock()
	if hook != nil {
		hook(ctx, op, c)
	}
	a.mu.Lock()
	a.active[c.Resource]--
	a.total--
	a.mu.Unlock()
	return agent.Result{RC: rc}
}

func (a *testAgent) Start(ctx context.Context, c agent.Call) agent.Result {
	return a.do(ctx, OpStart, c)
}
func (a *testAgent) Stop(ctx context.Context, c agent.Call) agent.Result { return a.do(ctx, OpStop, c) }
func (a *testAgent) Monitor(ctx context.Context, c agent.Call) agent.Result {
	return a.do(ctx, OpMonitor, c)
}
func (a *testAgent) Promote(ctx context.Context, c agent.Call) agent.Result {
	return a.do(ctx, OpPromote, c)
}
func (a *testAgent) Demote(ctx context.Context, c agent.Call) agent.Result {
	return a.do(ctx, OpDemote, c)
}
func (a *testAgent) Reload(ctx context.Context, c agent.Call) agent.Result {
	return a.do(ctx, OpReload, c)
}
func (a *testAgent) Notify(ctx context.Context, c agent.Call) agent.Result {
	return a.do(ctx, OpNotify, c)
}
func (a *testAgent) Validate(ctx context.Context, c agent.Call) agent.Result {
	return a.do(ctx, OpValidate, c)
}
func (a *testAgent) MetaData(context.Context) agent.Result {
	return agent.Result{RC: agent.OK, Output: "<resource-agent/>"}
}

var testKey = agent.Key{Class: "ocf", Provider: "test", Type: "Prog"}

type fixture struct {
	lrm   *LRM
	res   *collector
	agent *testAgent
	clock *FakeClock
	dir   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

// newFixtureWith is newFixture with a hook adjusting the LRM's Config.
func newFixtureWith(t *testing.T, adjust func(*Config)) *fixture {
	t.Helper()
	f := &fixture{res: newCollector(), agent: newTestAgent(), clock: NewFakeClock(time.Unix(1_700_000_000, 0)), dir: t.TempDir()}
	reg := agent.NewRegistry()
	if err := reg.Register(testKey, func(agent.Env) (agent.Agent, error) { return f.agent, nil }); err != nil {
		t.Fatal(err)
	}
	if err := dummy.Register(reg); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Node: "n1", StateDir: f.dir, Builtins: reg, OnResult: f.res.on, Clock: f.clock}
	if adjust != nil {
		adjust(&cfg)
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.lrm = l
	t.Cleanup(func() { _ = l.Close() })
	return f
}

func (f *fixture) exec(t *testing.T, term uint64, rsc, op string, interval time.Duration) int64 {
	t.Helper()
	id, err := f.lrm.Execute(term, Request{Rsc: Resource{ID: rsc, Agent: testKey}, Op: op, Interval: interval, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("execute %s %s: %v", rsc, op, err)
	}
	return id
}

func TestOpKeysCallIDsAndProbe(t *testing.T) {
	f := newFixture(t)
	f.agent.setRC(OpMonitor, agent.NotRunning)
	id1 := f.exec(t, 1, "r1", OpProbe, 0)
	id2 := f.exec(t, 1, "r1", OpStart, 0)
	r := f.res.next(t)
	if r.Key != "r1_monitor_0" || r.Op != OpMonitor || r.CallID != id1 || r.RC != agent.NotRunning || r.Status != StatusDone {
		t.Fatalf("probe result %+v", r)
	}
	r = f.res.next(t)
	if r.Key != "r1_start_0" || r.CallID != id2 || id2 <= id1 || r.RC != agent.OK || r.Term != 1 {
		t.Fatalf("start result %+v", r)
	}
	if r.LastRCChange.IsZero() || r.Finished.IsZero() {
		t.Fatalf("timestamps missing: %+v", r)
	}
	if _, err := f.lrm.Execute(1, Request{Rsc: Resource{ID: "r1", Agent: testKey}, Op: "explode"}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("unknown op: %v", err)
	}
	if _, err := f.lrm.Execute(1, Request{Rsc: Resource{ID: "r1", Agent: testKey}, Op: OpStart, Interval: time.Second}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("recurring start: %v", err)
	}
	if _, err := f.lrm.Execute(1, Request{Rsc: Resource{ID: "r1", Agent: agent.Key{Class: "stonith", Type: "x"}}, Op: OpStart}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("unsupported class: %v", err)
	}
}

func TestSerialPerResourceParallelAcross(t *testing.T) {
	f := newFixture(t)
	bStarted := make(chan struct{})
	var once sync.Once
	f.agent.hook = func(ctx context.Context, op string, c agent.Call) {
		switch c.Resource {
		case "a":
			// The first action on a waits for b to start: proves
			// that different resources run in parallel.
			select {
			case <-bStarted:
			case <-time.After(5 * time.Second):
			}
		case "b":
			once.Do(func() { close(bStarted) })
		}
		time.Sleep(5 * time.Millisecond)
	}
	var want []int64
	for i := 0; i < 4; i++ {
		want = append(want, f.exec(t, 1, "a", OpMonitor, 0))
	}
	f.exec(t, 1, "b", OpStart, 0)
	seenA := []int64{}
	for len(seenA) < 4 {
		r := f.res.next(t)
		if r.Rsc.ID == "a" {
			seenA = append(seenA, r.CallID)
		}
	}
	for i := range want {
		if seenA[i] != want[i] {
			t.Fatalf("results for a out of order: %v, want %v", seenA, want)
		}
	}
	f.agent.mu.Lock()
	defer f.agent.mu.Unlock()
	if f.agent.maxActive["a"] != 1 {
		t.Errorf("resource a ran %d actions concurrently", f.agent.maxActive["a"])
	}
	if f.agent.maxTotal < 2 {
		t.Errorf("resources a and b never ran in parallel")
	}
}

func TestRecurringMonitorWithFakeClock(t *testing.T) {
	f := newFixture(t)
	id := f.exec(t, 1, "r", OpMonitor, 10*time.Second)
	r := f.res.next(t)
	if r.Key != "r_monitor_10000" || r.CallID != id || r.RC != agent.OK || r.Interval != 10*time.Second {
		t.Fatalf("first recurring result %+v", r)
	}
	firstChange := r.LastRCChange
	if !f.clock.BlockUntil(1, 5*time.Second) {
		t.Fatal("recurring timer not armed")
	}
	if n := f.agent.count(OpMonitor); n != 1 {
		t.Fatalf("monitor ran %d times before the interval elapsed", n)
	}
	// Unchanged results are not reported again.
	for i := 2; i <= 3; i++ {
		f.clock.Advance(10 * time.Second)
		waitFor(t, func() bool { return f.agent.count(OpMonitor) == i && f.clock.Timers() == 1 })
	}
	f.res.none(t, 50*time.Millisecond)
	// Advancing less than the interval runs nothing.
	f.clock.Advance(9 * time.Second)
	f.res.none(t, 50*time.Millisecond)
	if n := f.agent.count(OpMonitor); n != 3 {
		t.Fatalf("monitor ran early: %d", n)
	}
	// A failure is reported, with the same call id and a new last-rc-change.
	f.agent.setRC(OpMonitor, agent.NotRunning)
	f.clock.Advance(time.Second)
	r = f.res.next(t)
	if r.RC != agent.NotRunning || r.CallID != id || !r.LastRCChange.After(firstChange) {
		t.Fatalf("failure result %+v (first change %v)", r, firstChange)
	}
	if r.LastRCChange != f.clock.Now() {
		t.Fatalf("last-rc-change %v, want %v", r.LastRCChange, f.clock.Now())
	}
	// Pending shows the registered recurring op.
	var found bool
	for _, p := range f.lrm.Pending() {
		if p.Key == "r_monitor_10000" && p.State == "recurring" && p.CallID == id {
			found = true
		}
	}
	if !found {
		t.Fatalf("recurring op not pending: %+v", f.lrm.Pending())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestStopCancelsRecurringMonitors(t *testing.T) {
	f := newFixture(t)
	monID := f.exec(t, 1, "r", OpMonitor, 10*time.Second)
	f.exec(t, 1, "other", OpMonitor, 10*time.Second)
	for i := 0; i < 2; i++ {
		f.res.next(t)
	}
	if !f.clock.BlockUntil(2, 5*time.Second) {
		t.Fatal("timers not armed")
	}
	stopID := f.exec(t, 1, "r", OpStop, 0)
	r := f.res.next(t)
	if r.Key != "r_monitor_10000" || r.Status != StatusCancelled || r.CallID != monID {
		t.Fatalf("want cancellation of r's monitor first, got %+v", r)
	}
	r = f.res.next(t)
	if r.Key != "r_stop_0" || r.CallID != stopID || r.RC != agent.OK {
		t.Fatalf("stop result %+v", r)
	}
	waitFor(t, func() bool { return f.clock.Timers() == 1 })
	for _, p := range f.lrm.Pending() {
		if p.Rsc == "r" {
			t.Fatalf("r still has pending op %+v", p)
		}
	}
	before := f.agent.count(OpMonitor)
	f.clock.Advance(10 * time.Second)
	waitFor(t, func() bool { return f.agent.count(OpMonitor) == before+1 && f.clock.Timers() == 1 })
	// CancelRecurring on the other one.
	if err := f.lrm.CancelRecurring(1, "other", OpMonitor, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if r := f.res.next(t); r.Key != "other_monitor_10000" || r.Status != StatusCancelled {
		t.Fatalf("cancel result %+v", r)
	}
	if err := f.lrm.CancelRecurring(1, "other", OpMonitor, 10*time.Second); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second cancel: %v", err)
	}
	waitFor(t, func() bool { return f.clock.Timers() == 0 })
}

func TestStaleTermRefused(t *testing.T) {
	f := newFixture(t)
	f.exec(t, 5, "r", OpStart, 0)
	if _, err := f.lrm.Execute(4, Request{Rsc: Resource{ID: "r", Agent: testKey}, Op: OpStop}); !errors.Is(err, ErrStaleTerm) {
		t.Fatalf("term 4 after 5: %v", err)
	}
	f.exec(t, 5, "r", OpMonitor, 0)
	f.exec(t, 7, "r", OpMonitor, 0)
	if _, err := f.lrm.Execute(6, Request{Rsc: Resource{ID: "r", Agent: testKey}, Op: OpStop}); !errors.Is(err, ErrStaleTerm) {
		t.Fatalf("term 6 after 7: %v", err)
	}
	if err := f.lrm.CancelRecurring(6, "r", OpMonitor, time.Second); !errors.Is(err, ErrStaleTerm) {
		t.Fatalf("cancel with stale term: %v", err)
	}
	if f.lrm.Term() != 7 {
		t.Fatalf("term %d", f.lrm.Term())
	}
	for i := 0; i < 3; i++ {
		f.res.next(t)
	}
	if n := f.agent.count(OpStop); n != 0 {
		t.Fatalf("stale stop executed %d times", n)
	}
}

func TestBuiltinTimeoutAndPending(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	f.agent.hook = func(ctx context.Context, op string, c agent.Call) {
		if op == OpStart {
			<-ctx.Done() // hangs until the timeout
		}
		if op == OpPromote {
			<-release
		}
	}
	_, err := f.lrm.Execute(1, Request{Rsc: Resource{ID: "r", Agent: testKey}, Op: OpStart, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := f.res.next(t)
	if r.Status != StatusTimeout || r.RC != agent.ErrGeneric {
		t.Fatalf("timeout result %+v", r)
	}
	p1 := f.exec(t, 1, "r", OpPromote, 0)
	p2 := f.exec(t, 1, "r", OpDemote, 0)
	waitFor(t, func() bool { return f.agent.count(OpPromote) == 1 })
	pend := f.lrm.Pending()
	if len(pend) != 2 || pend[0].CallID != p1 || pend[0].State != "running" || pend[1].CallID != p2 || pend[1].State != "queued" {
		t.Fatalf("pending %+v", pend)
	}
	close(release)
	if r := f.res.next(t); r.CallID != p1 {
		t.Fatalf("got %+v", r)
	}
	if r := f.res.next(t); r.CallID != p2 {
		t.Fatalf("got %+v", r)
	}
	waitFor(t, func() bool { return len(f.lrm.Pending()) == 0 })
}

func TestCloseCancelsQueuedAndRunning(t *testing.T) {
	f := newFixture(t)
	f.agent.hook = func(ctx context.Context, op string, c agent.Call) { <-ctx.Done() }
	running := f.exec(t, 1, "r", OpStart, 0)
	queued := f.exec(t, 1, "r", OpStop, 0)
	rec := f.exec(t, 1, "q", OpMonitor, time.Minute)
	waitFor(t, func() bool { return f.agent.count(OpStart) == 1 && f.agent.count(OpMonitor) == 1 })
	if err := f.lrm.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.lrm.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
	got := map[int64]ExecStatus{}
	for len(f.res.ch) > 0 {
		r := <-f.res.ch
		got[r.CallID] = r.Status
	}
	for _, id := range []int64{running, queued, rec} {
		if got[id] != StatusCancelled {
			t.Errorf("call %d: status %v, want cancelled (all: %v)", id, got[id], got)
		}
	}
	if _, err := f.lrm.Execute(1, Request{Rsc: Resource{ID: "r", Agent: testKey}, Op: OpStart}); !errors.Is(err, ErrClosed) {
		t.Fatalf("execute after close: %v", err)
	}
}

func TestDummyIsolationBetweenNodes(t *testing.T) {
	base := t.TempDir()
	reg := agent.NewRegistry()
	if err := dummy.Register(reg); err != nil {
		t.Fatal(err)
	}
	type node struct {
		l   *LRM
		res *collector
	}
	mk := func(name string) node {
		c := newCollector()
		l, err := New(Config{Node: name, StateDir: filepath.Join(base, name), Builtins: reg, OnResult: c.on})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		return node{l, c}
	}
	a, b := mk("a"), mk("b")
	rsc := Resource{ID: "d1", Agent: dummy.Key}
	run := func(n node, op string) OpResult {
		t.Helper()
		if _, err := n.l.Execute(1, Request{Rsc: rsc, Op: op, Timeout: 5 * time.Second}); err != nil {
			t.Fatal(err)
		}
		return n.res.next(t)
	}
	if r := run(a, OpStart); r.RC != agent.OK {
		t.Fatalf("start on a: %+v", r)
	}
	if r := run(b, OpProbe); r.RC != agent.NotRunning {
		t.Fatalf("probe on b sees a's state: %+v", r)
	}
	if r := run(a, OpProbe); r.RC != agent.OK {
		t.Fatalf("probe on a: %+v", r)
	}
	if r := run(b, OpStop); r.RC != agent.OK {
		t.Fatalf("stop on b: %+v", r)
	}
	if r := run(a, OpMonitor); r.RC != agent.OK {
		t.Fatalf("stop on b stopped a: %+v", r)
	}
	if r := run(a, OpMetaData); r.RC != agent.OK || len(r.Output) == 0 {
		t.Fatalf("meta-data: %+v", r)
	}
}

// TestRealOCFDummyAgents runs the unmodified Debian resource-agents Dummy
// agents through the LRM.
func TestRealOCFDummyAgents(t *testing.T) {
	for _, k := range []agent.Key{
		{Class: "ocf", Provider: "heartbeat", Type: "Dummy"},
		{Class: "ocf", Provider: "pacemaker", Type: "Dummy"},
	} {
		t.Run(k.String(), func(t *testing.T) {
			path := filepath.Join(DefaultOCFRoot, "resource.d", k.Provider, k.Type)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s not installed (%v); apt-get install resource-agents (and pacemaker for ocf:pacemaker)", k, err)
			}
			base := t.TempDir()
			c := newCollector()
			l, err := New(Config{Node: "n1", StateDir: filepath.Join(base, "n1"), OnResult: c.on})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			params := map[string]string{}
			if k.Provider == "pacemaker" {
				// ocf:pacemaker:Dummy defaults to $HA_VARRUN; keep its state private.
				params["state"] = filepath.Join(base, "pcmk-dummy.state")
			}
			rsc := Resource{ID: "dummy1", Agent: k}
			steps := []struct {
				op   string
				want agent.RC
			}{
				{OpProbe, agent.NotRunning}, {OpStart, agent.OK}, {OpProbe, agent.OK},
				{OpMonitor, agent.OK}, {OpStop, agent.OK}, {OpProbe, agent.NotRunning},
				{OpMetaData, agent.OK},
			}
			for _, s := range steps {
				if _, err := l.Execute(1, Request{Rsc: rsc, Op: s.op, Params: params, Timeout: 20 * time.Second}); err != nil {
					t.Fatal(err)
				}
				r := c.next(t)
				if r.RC != s.want || r.Status != StatusDone {
					t.Fatalf("%s: rc %d (%v) status %v reason %q stderr %q", s.op, r.RC, r.RC, r.Status, r.Reason, r.Stderr)
				}
				if s.op == OpMetaData && !strings.Contains(r.Output, `<resource-agent name="Dummy"`) {
					t.Fatalf("meta-data output %q", r.Output)
				}
				t.Logf("%-9s rc=%d exec=%v", s.op, r.RC, r.ExecTime)
			}
			if k.Provider == "heartbeat" {
				// Its state lives in HA_RSCTMP = <StateDir>/rsctmp, so
				// another node's LRM does not see it.
				if _, err := l.Execute(1, Request{Rsc: rsc, Op: OpStart}); err != nil {
					t.Fatal(err)
				}
				if r := c.next(t); r.RC != agent.OK {
					t.Fatalf("start: %+v", r)
				}
				if _, err := os.Stat(filepath.Join(base, "n1", "rsctmp", "Dummy-dummy1.state")); err != nil {
					t.Fatalf("state not in the node's HA_RSCTMP: %v", err)
				}
				c2 := newCollector()
				l2, err := New(Config{Node: "n2", StateDir: filepath.Join(base, "n2"), OnResult: c2.on})
				if err != nil {
					t.Fatal(err)
				}
				defer l2.Close()
				if _, err := l2.Execute(1, Request{Rsc: rsc, Op: OpProbe}); err != nil {
					t.Fatal(err)
				}
				if r := c2.next(t); r.RC != agent.NotRunning {
					t.Fatalf("n2 sees n1's Dummy: %+v", r)
				}
			}
		})
	}
}

// TestDummyOpSleepSerialised queues overlapping slow monitors on one Dummy:
// the agent fails any action that overlaps another on the same state file,
// so all-OK results prove the LRM serialises per resource.
func TestDummyOpSleepSerialised(t *testing.T) {
	f := newFixture(t)
	rsc := Resource{ID: "slow", Agent: dummy.Key}
	params := map[string]string{"op_sleep": "1"}
	start := time.Now()
	for _, op := range []string{OpProbe, OpMonitor} {
		if _, err := f.lrm.Execute(1, Request{Rsc: rsc, Op: op, Params: params, Timeout: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		if r := f.res.next(t); r.RC != agent.NotRunning || r.Status != StatusDone {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if took := time.Since(start); took < 2*time.Second {
		t.Fatalf("two 1s actions finished in %v: they overlapped", took)
	}
}

func TestMetaData(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	md, err := f.lrm.MetaData(ctx, dummy.Key)
	if err != nil || !strings.Contains(md, `<resource-agent name="Dummy"`) {
		t.Fatalf("built-in meta-data: %v %q", err, md)
	}
	if _, err := f.lrm.MetaData(ctx, agent.Key{Class: "ocf", Provider: "nosuch", Type: "X"}); !errors.Is(err, ErrMetaData) {
		t.Fatalf("missing agent: %v", err)
	}
	hb := agent.Key{Class: "ocf", Provider: "heartbeat", Type: "Dummy"}
	if _, err := os.Stat(filepath.Join(DefaultOCFRoot, "resource.d", "heartbeat", "Dummy")); err == nil {
		md, err := f.lrm.MetaData(ctx, hb)
		if err != nil || !strings.Contains(md, `name="state"`) {
			t.Fatalf("%s meta-data: %v", hb, err)
		}
	}
	_ = f.lrm.Close()
	if _, err := f.lrm.MetaData(ctx, dummy.Key); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestRecurringMonitorMerge(t *testing.T) {
	f := newFixture(t)
	id1, err := f.lrm.Execute(1, Request{Rsc: Resource{ID: "r", Agent: testKey}, Op: OpMonitor, Interval: time.Minute, UserData: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.res.next(t); r.CallID != id1 || r.UserData != "t1" {
		t.Fatalf("first result %+v", r)
	}
	if !f.clock.BlockUntil(1, 5*time.Second) {
		t.Fatal("timer not armed")
	}
	// Same key again from a newer term: merged, runs at once, reported
	// although the RC did not change, under the new call ID.
	id2, err := f.lrm.Execute(2, Request{Rsc: Resource{ID: "r", Agent: testKey}, Op: OpMonitor, Interval: time.Minute, UserData: "t2"})
	if err != nil {
		t.Fatal(err)
	}
	r := f.res.next(t)
	if r.CallID != id2 || r.UserData != "t2" || r.Term != 2 || r.Status != StatusDone || r.RC != agent.OK {
		t.Fatalf("merged result %+v", r)
	}
	if n := f.agent.count(OpMonitor); n != 2 {
		t.Fatalf("monitor ran %d times, want 2", n)
	}
	waitFor(t, func() bool { return f.clock.Timers() == 1 })
	pend := f.lrm.Pending()
	if len(pend) != 1 || pend[0].CallID != id2 || pend[0].State != "recurring" {
		t.Fatalf("pending %+v", pend)
	}
	f.clock.Advance(time.Minute)
	waitFor(t, func() bool { return f.agent.count(OpMonitor) == 3 && f.clock.Timers() == 1 })
	f.res.none(t, 30*time.Millisecond)
}

func TestLRMSystemdAndServiceClasses(t *testing.T) {
	fake := NewFakeSystemd()
	fake.AddUnit("httpd.service")
	res := newCollector()
	initDir := filepath.Join(t.TempDir(), "init.d")
	writeScript(t, filepath.Join(initDir, "legacy"), "[ \"$1\" = status ] && exit 3\nexit 0\n")
	mk := func(sd Executor) *LRM {
		l, err := New(Config{StateDir: t.TempDir(), OnResult: res.on, Systemd: sd, LSB: &LSBExecutor{InitDir: initDir}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		return l
	}
	withSD := mk(&SystemdExecutor{Manager: fake})
	run := func(l *LRM, k agent.Key, op string) OpResult {
		t.Helper()
		if _, err := l.Execute(1, Request{Rsc: Resource{ID: "web", Agent: k}, Op: op, Timeout: 2 * time.Second}); err != nil {
			t.Fatal(err)
		}
		return res.next(t)
	}
	sd := agent.Key{Class: "systemd", Type: "httpd"}
	for _, s := range []struct {
		op   string
		want agent.RC
	}{{OpProbe, agent.NotRunning}, {OpStart, agent.OK}, {OpMonitor, agent.OK}, {OpStop, agent.OK}, {OpProbe, agent.NotRunning}} {
		if r := run(withSD, sd, s.op); r.RC != s.want || r.Status != StatusDone {
			t.Fatalf("systemd %s: %+v", s.op, r)
		}
	}
	if r := run(withSD, agent.Key{Class: "service", Type: "httpd"}, OpStart); r.RC != agent.OK {
		t.Fatalf("service class with systemd: %+v", r)
	}
	// Without systemd: systemd resources are not connected, "service" uses LSB.
	noSD := mk(nil)
	if r := run(noSD, sd, OpStart); r.Status != StatusNotConnected {
		t.Fatalf("systemd class without systemd: %+v", r)
	}
	if r := run(noSD, agent.Key{Class: "service", Type: "legacy"}, OpProbe); r.RC != agent.NotRunning || r.Status != StatusDone {
		t.Fatalf("service class via LSB: %+v", r)
	}
}

// TestRealOCFStatefulAgent drives the unmodified ocf:pacemaker:Stateful
// through promote/demote (rc 8 = running promoted) and notify. Its calls
// to crm_attribute go to a recording stub via HA_SBIN_DIR, so no real
// cluster is touched.
func TestRealOCFStatefulAgent(t *testing.T) {
	k := agent.Key{Class: "ocf", Provider: "pacemaker", Type: "Stateful"}
	if _, err := os.Stat(filepath.Join(DefaultOCFRoot, "resource.d", k.Provider, k.Type)); err != nil {
		t.Skipf("%s not installed (%v); apt-get install pacemaker", k, err)
	}
	base := t.TempDir()
	sbin := filepath.Join(base, "sbin")
	calls := filepath.Join(base, "crm_attribute.calls")
	writeScript(t, filepath.Join(sbin, "crm_attribute"), `echo "$*" >> `+calls+"\n")
	c := newCollector()
	stateDir := filepath.Join(base, "n1")
	l, err := New(Config{StateDir: stateDir, OnResult: c.on, OCF: &OCFExecutor{
		RscTmp: filepath.Join(stateDir, "rsctmp"),
		Env:    map[string]string{"HA_SBIN_DIR": sbin},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rsc := Resource{ID: "st:0", Agent: k}
	params := map[string]string{"state": filepath.Join(base, "stateful.state")}
	meta := map[string]string{"clone-max": "2", "promotable": "true", "notify": "true"}
	for _, s := range []struct {
		op   string
		want agent.RC
	}{
		{OpProbe, agent.NotRunning}, {OpStart, agent.OK}, {OpProbe, agent.OK},
		{OpPromote, agent.OK}, {OpProbe, agent.RunningPromoted}, {OpNotify, agent.OK},
		{OpDemote, agent.OK}, {OpProbe, agent.OK}, {OpStop, agent.OK}, {OpProbe, agent.NotRunning},
	} {
		req := Request{Rsc: rsc, Op: s.op, Params: params, Meta: meta, Timeout: 20 * time.Second}
		if s.op == OpNotify {
			req.Meta = map[string]string{"notify_type": "post", "notify_operation": "promote"}
		}
		if _, err := l.Execute(1, req); err != nil {
			t.Fatal(err)
		}
		r := c.next(t)
		if r.RC != s.want || r.Status != StatusDone {
			t.Fatalf("%s: rc %d (%v) status %v reason %q stderr %q", s.op, r.RC, r.RC, r.Status, r.Reason, r.Stderr)
		}
	}
	b, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); !strings.Contains(got, "--promotion -v 10") || !strings.Contains(got, "--promotion -D") {
		t.Fatalf("crm_attribute calls %q", got)
	}
}
