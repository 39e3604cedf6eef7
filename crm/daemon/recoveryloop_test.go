package daemon

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/dummy"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/status"
)

// faultyDummy is the Dummy agent with injectable failures, counting
// actions per node and resource.
type faultyDummy struct {
	agent.Agent
	node string
	f    *faultPlan
}

type faultPlan struct {
	mu sync.Mutex
	// failStart and failMonitor name resources whose start (every node)
	// or recurring monitor fails with OCF_ERR_GENERIC.
	failStart, failMonitor map[string]bool
	starts                 map[string]int // "rsc@node" and "rsc"
}

func (p *faultPlan) count(rsc, node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starts[rsc+"@"+node]++
	p.starts[rsc]++
}

func (p *faultPlan) get(k string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts[k]
}

func (d faultyDummy) Start(ctx context.Context, c agent.Call) agent.Result {
	d.f.count(c.Resource, d.node)
	if d.f.failStart[c.Resource] {
		return agent.Failf(agent.ErrGeneric, "injected start failure")
	}
	return d.Agent.Start(ctx, c)
}

func (d faultyDummy) Monitor(ctx context.Context, c agent.Call) agent.Result {
	r := d.Agent.Monitor(ctx, c)
	if !c.IsProbe() && d.f.failMonitor[c.Resource] && r.RC == agent.OK {
		return agent.Failf(agent.ErrGeneric, "injected monitor failure")
	}
	return r
}

func faultyCluster(t *testing.T, plan *faultPlan, names ...string) *testCluster {
	return newClusterOpts(t, clusterOpts{builtins: func(node string) *agent.Registry {
		reg := agent.NewRegistry()
		err := reg.Register(dummy.Key, func(env agent.Env) (agent.Agent, error) {
			a, err := dummy.New(env)
			if err != nil {
				return nil, err
			}
			return faultyDummy{Agent: a, node: node, f: plan}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return reg
	}}, names...)
}

// TestStartFailingEverywhereStops: a resource whose start fails on every
// node is tried once per node (start-failure-is-fatal: fail-count INFINITY
// bans the node), then stays Stopped with the failures shown in the status,
// and the DC neither retries nor runs new transitions afterwards.
func TestStartFailingEverywhereStops(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node cluster test skipped in -short mode")
	}
	plan := &faultPlan{failStart: map[string]bool{"bad": true}, starts: map[string]int{}}
	names := []string{"b1", "b2", "b3"}
	tc := faultyCluster(t, plan, names...)
	waitFor(t, 20*time.Second, "nodes in the configuration", func() bool {
		return tc.dc() != nil && len(tc.dc().Store().Current().Config.Nodes) == 3
	})
	cur := tc.dc().Store().Current()
	cfg := `<configuration><crm_config><cluster_property_set id="opts">
<nvpair id="opts-stonith" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/>
<resources><primitive id="bad" class="ocf" provider="gocrm" type="Dummy"><operations>
<op id="bad-mon" name="monitor" interval="1s" timeout="10s"/></operations></primitive>
<primitive id="good" class="ocf" provider="gocrm" type="Dummy"/></resources><constraints/></configuration>`
	tc.apply(store.Command{Op: store.OpReplaceConfiguration, XML: withNodes(t, cur, cfg), ExpectEpoch: store.EpochString(cur)})
	took := waitFor(t, 30*time.Second, "bad banned everywhere and the DC idle", func() bool {
		d := tc.dc()
		if d == nil || !d.Idle() {
			return false
		}
		c := d.Store().Current()
		for _, n := range names {
			if transientAttr(c, n, "fail-count-bad#start_0") != "INFINITY" {
				return false
			}
		}
		return len(runningOn(d, "good")) == 1
	})
	dc := tc.dc()
	before := dc.curDCTransitions()
	t.Logf("bad failed on all 3 nodes within %s: %d start attempts, %d transitions so far", took.Round(time.Millisecond), plan.get("bad"), before)
	for _, n := range names {
		if got := plan.get("bad@" + n); got != 1 {
			t.Errorf("bad started %d times on %s, want exactly 1 (start-failure-is-fatal)", got, n)
		}
	}
	// Nothing more happens: no retry, no new transition.
	time.Sleep(4 * time.Second)
	if got := plan.get("bad"); got != 3 {
		t.Errorf("bad started %d times in all, want 3", got)
	}
	if d := tc.dc(); d != dc {
		t.Logf("the DC changed during the quiet period (load); transitions not compared")
	} else if n := d.curDCTransitions() - before; n != 0 {
		t.Errorf("DC ran %d more transitions while nothing could be done", n)
	}
	if got := runningOn(dc, "bad"); len(got) != 0 {
		t.Errorf("bad seen running on %v", got)
	}
	// The status says why: Stopped, with the three failed starts.
	r, err := status.Build(dc.Store().Current(), status.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "bad\t(ocf:gocrm:Dummy):\t Stopped") {
		t.Errorf("status does not show bad Stopped:\n%s", out)
	}
	if n := strings.Count(out, "bad start on "); n != 3 {
		t.Errorf("status lists %d failed starts of bad, want 3:\n%s", n, out)
	}
	// A node that re-announces itself (as after quorum returns) while its
	// crmd keeps running keeps its history and failure counts: no new
	// attempt there.
	var idle string
	for _, n := range names {
		if on := runningOn(dc, "good"); len(on) == 1 && on[0] != n {
			idle = n
			break
		}
	}
	if idle == "" {
		t.Fatal("no node without good")
	}
	tc.nodes[idle].reannounce <- struct{}{}
	time.Sleep(3 * time.Second)
	if v := transientAttr(tc.any().Store().Current(), idle, "fail-count-bad#start_0"); v != "INFINITY" {
		t.Errorf("fail-count of bad on %s after its re-announcement = %q, want INFINITY", idle, v)
	}
	if got := plan.get("bad"); got != 3 {
		t.Errorf("bad started %d times in all after %s re-announced itself, want 3", got, idle)
	}
}

// curDCTransitions returns the running DC's transition count (0 if none).
func (d *Daemon) curDCTransitions() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.curDC == nil {
		return 0
	}
	return d.curDC.TransitionCount()
}

// TestFailingMonitorRestartRate: a resource whose recurring monitor fails
// right after every start (on-fail=restart, migration-threshold unset) is
// restarted in place again and again, as Pacemaker does; the DC must not
// re-run the failing recovery faster than the backoff allows.
func TestFailingMonitorRestartRate(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node cluster test skipped in -short mode")
	}
	plan := &faultPlan{failMonitor: map[string]bool{"flaky": true}, starts: map[string]int{}}
	tc := faultyCluster(t, plan, "m1", "m2", "m3")
	waitFor(t, 20*time.Second, "nodes in the configuration", func() bool {
		return tc.dc() != nil && len(tc.dc().Store().Current().Config.Nodes) == 3
	})
	cur := tc.dc().Store().Current()
	cfg := `<configuration><crm_config><cluster_property_set id="opts">
<nvpair id="opts-stonith" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/>
<resources><primitive id="flaky" class="ocf" provider="gocrm" type="Dummy"><operations>
<op id="flaky-mon" name="monitor" interval="10s" timeout="10s"/></operations></primitive></resources><constraints/></configuration>`
	tc.apply(store.Command{Op: store.OpReplaceConfiguration, XML: withNodes(t, cur, cfg), ExpectEpoch: store.EpochString(cur)})
	waitFor(t, 20*time.Second, "first start", func() bool { return plan.get("flaky") >= 1 })
	dc := tc.dc()
	t0, s0 := dc.curDCTransitions(), plan.get("flaky")
	const window = 8 * time.Second
	time.Sleep(window)
	if tc.dc() != dc {
		t.Skip("DC changed during the measurement")
	}
	starts, trans := plan.get("flaky")-s0, dc.curDCTransitions()-t0
	t.Logf("in %s: %d restarts, %d transitions", window, starts, trans)
	if starts < 2 {
		t.Errorf("only %d restarts in %s: recovery must go on", starts, window)
	}
	if starts > maxRestarts(window) || trans > int64(2*maxRestarts(window)+2) {
		t.Errorf("%d restarts and %d transitions in %s: recovery loops faster than the backoff allows (max %d restarts)",
			starts, trans, window, maxRestarts(window))
	}
}

// maxRestarts bounds the restarts of a resource failing right after every
// start within d: the DC's backoff (crm/dc/backoff.go) waits 0, 1, 2, 4, 8 s
// ... after consecutive failed transitions, so about log2(d/1s)+2 restarts
// fit; twice that leaves room for scheduling noise. Before the backoff the
// loop ran about 13 restarts per second.
func maxRestarts(d time.Duration) int {
	n := 2
	for s := time.Second; s <= d; s *= 2 {
		n++
	}
	return 2 * n
}
