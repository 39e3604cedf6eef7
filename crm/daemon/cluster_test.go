package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/dummy"
	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/crm/noderpc"
	"github.com/gocrm/gocrm/crm/scheduler"
	"github.com/gocrm/gocrm/internal/testbin"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// memberlist's probe of a peer does not watch its shutdown channel: a
	// probe in flight when a node stops ends on its own ack timer.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"))
}

// freePorts returns a base port P with P, P+1 and P+2 free on loopback
// (TCP and, for P, UDP).
func freePorts(t *testing.T) int {
	t.Helper()
	return testbin.FreePorts(t, 3)
}

type testCluster struct {
	t     *testing.T
	key   []byte
	nodes map[string]*Daemon
	dirs  map[string]string
	cfgs  map[string]Config
}

func newCluster(t *testing.T, names ...string) *testCluster {
	t.Helper()
	return newClusterOpts(t, clusterOpts{}, names...)
}

type clusterOpts struct {
	arbiters  map[string]bool
	killer    *clusterKiller
	onSuicide func(node string)
	builtins  func(node string) *agent.Registry
	// dataDirs overrides a node's data directory (default: a temp dir).
	dataDirs map[string]string
}

func newClusterOpts(t *testing.T, opts clusterOpts, names ...string) *testCluster {
	t.Helper()
	tc := &testCluster{t: t, key: []byte("0123456789abcdef0123456789abcdef"), nodes: map[string]*Daemon{}, dirs: map[string]string{}, cfgs: map[string]Config{}}
	var seed string
	logLevel := slog.LevelWarn
	if os.Getenv("GOCRM_TEST_DEBUG") != "" {
		logLevel = slog.LevelDebug
	}
	for _, n := range names {
		port := freePorts(t)
		dir := opts.dataDirs[n]
		if dir == "" {
			dir = t.TempDir()
		}
		cfg := Config{Name: n, DataDir: dir, BindAddr: "127.0.0.1", GossipPort: port, BootstrapExpect: len(names),
			SocketPath: filepath.Join(t.TempDir(), "crmd.sock"),
			Keys:       [][]byte{tc.key}, QuorumLease: 2 * time.Second, Arbiter: opts.arbiters[n], InsecureTransport: true,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})).With("test", t.Name())}
		if opts.killer != nil {
			cfg.Killer = opts.killer
		}
		if opts.builtins != nil {
			cfg.Builtins = opts.builtins(n)
		}
		if opts.onSuicide != nil {
			name := n
			cfg.OnSuicide = func() { opts.onSuicide(name) }
		}
		if seed != "" {
			cfg.Join = []string{seed}
		} else {
			seed = "127.0.0.1:" + strconv.Itoa(port)
		}
		d, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = d.Start(ctx)
		cancel()
		if err != nil {
			t.Fatalf("start %s: %v", n, err)
		}
		tc.nodes[n], tc.dirs[n], tc.cfgs[n] = d, dir, cfg
		if opts.killer != nil {
			opts.killer.mu.Lock()
			opts.killer.nodes[n] = d
			opts.killer.mu.Unlock()
		}
	}
	t.Cleanup(func() {
		for _, d := range tc.nodes {
			d.Kill()
		}
	})
	for n, d := range tc.nodes {
		select {
		case <-d.Joined():
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not join", n)
		}
	}
	return tc
}

// addNode starts a new node (no bootstrap-expect) joining the cluster.
func (tc *testCluster) addNode(name string) *Daemon {
	tc.t.Helper()
	var base Config
	for _, c := range tc.cfgs {
		base = c
	}
	base.Name, base.DataDir, base.GossipPort, base.BootstrapExpect = name, tc.t.TempDir(), freePorts(tc.t), 0
	base.SocketPath = filepath.Join(tc.t.TempDir(), "crmd.sock")
	tc.cfgs[name], tc.dirs[name] = base, base.DataDir
	return tc.restart(name)
}

// restart starts a stopped node again with its old data directory.
func (tc *testCluster) restart(name string) *Daemon {
	tc.t.Helper()
	cfg := tc.cfgs[name]
	cfg.Join = nil
	for n, other := range tc.cfgs {
		if n != name {
			cfg.Join = append(cfg.Join, "127.0.0.1:"+strconv.Itoa(other.GossipPort))
		}
	}
	d, err := New(cfg)
	if err != nil {
		tc.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.Start(ctx); err != nil {
		tc.t.Fatalf("restart %s: %v", name, err)
	}
	tc.nodes[name] = d
	select {
	case <-d.Joined():
	case <-time.After(30 * time.Second):
		tc.t.Fatalf("%s did not rejoin", name)
	}
	return d
}

func (tc *testCluster) any() *Daemon {
	for _, d := range tc.nodes {
		return d
	}
	return nil
}

func (tc *testCluster) dc() *Daemon {
	for _, d := range tc.nodes {
		if d.IsDC() {
			return d
		}
	}
	return nil
}

func (tc *testCluster) apply(c store.Command) {
	tc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := tc.any().Raft().Apply(ctx, c.Encode()); err != nil {
		tc.t.Fatalf("apply %s: %v", c.Op, err)
	}
}

// runningOn returns where the scheduler sees rsc active in d's CIB.
func runningOn(d *Daemon, rsc string) []string {
	cl, err := scheduler.Unpack(d.Store().Current(), time.Now())
	if err != nil {
		return nil
	}
	r := cl.Resource(rsc)
	if r == nil {
		return nil
	}
	var out []string
	for _, n := range r.RunningOn {
		out = append(out, n.Name)
	}
	return out
}

// startRecorded reports whether node's status records a successful start
// of rsc as its last operation.
func startRecorded(c *cib.CIB, node, rsc string) bool {
	for _, ns := range c.Status.Nodes {
		if ns.Uname != node {
			continue
		}
		for _, lr := range ns.Resources {
			if lr.ID != rsc {
				continue
			}
			for _, op := range lr.Ops {
				if op.ID == rsc+"_last_0" && op.Operation == "start" && op.RCCode == 0 && op.OpStatus == 0 && op.OpDigest != "" {
					return true
				}
			}
		}
	}
	return false
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	return testbin.WaitFor(t, timeout, 50*time.Millisecond, what, cond)
}

// settledCluster skips in -short mode, starts a cluster of names, loads
// cfg and waits for an idle DC that sees each of rscs running once.
func settledCluster(t *testing.T, opts clusterOpts, cfg string, rscs []string, names ...string) *testCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-node cluster test skipped in -short mode")
	}
	tc := newClusterOpts(t, opts, names...)
	tc.waitConfigNodes(len(names))
	tc.configure(cfg)
	tc.waitIdleRunning("idle", rscs...)
	return tc
}

// waitConfigNodes waits until the DC lists n nodes in the configuration.
func (tc *testCluster) waitConfigNodes(n int) {
	tc.t.Helper()
	waitFor(tc.t, 20*time.Second, "nodes in the configuration", func() bool {
		return tc.dc() != nil && len(tc.dc().Store().Current().Config.Nodes) == n
	})
}

// configure replaces the configuration with cfg (plus the DC's <nodes>)
// at the DC's current epoch.
func (tc *testCluster) configure(cfg string) {
	tc.t.Helper()
	cur := tc.dc().Store().Current()
	tc.apply(store.Command{Op: store.OpReplaceConfiguration, XML: withNodes(tc.t, cur, cfg), ExpectEpoch: store.EpochString(cur)})
}

// waitIdleRunning waits up to 30 s for an idle DC that sees each of rscs
// active on exactly one node.
func (tc *testCluster) waitIdleRunning(what string, rscs ...string) {
	tc.t.Helper()
	waitFor(tc.t, 30*time.Second, what, func() bool {
		d := tc.dc()
		if d == nil || !d.Idle() {
			return false
		}
		for _, r := range rscs {
			if len(runningOn(d, r)) != 1 {
				return false
			}
		}
		return true
	})
}

const twoDummies = `<configuration><crm_config><cluster_property_set id="opts">
<nvpair id="opts-stonith" name="stonith-enabled" value="false"/>
<nvpair id="opts-nq" name="no-quorum-policy" value="stop"/>
</cluster_property_set></crm_config><nodes/>
<resources>
<primitive id="d1" class="ocf" provider="gocrm" type="Dummy"><operations>
<op id="d1-mon" name="monitor" interval="1s" timeout="10s"/></operations></primitive>
<primitive id="d2" class="ocf" provider="gocrm" type="Dummy"><operations>
<op id="d2-mon" name="monitor" interval="1s" timeout="10s"/></operations></primitive>
</resources>
<constraints><rsc_order id="d1-then-d2" first="d1" then="d2"/></constraints>
</configuration>`

func TestClusterStartFailoverStaleTerm(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node cluster test skipped in -short mode")
	}
	tc := newCluster(t, "n1", "n2", "n3")
	waitFor(t, 20*time.Second, "a DC", func() bool { return tc.dc() != nil })
	// The DC adds the nodes to <nodes>; configure on top of that epoch.
	tc.waitConfigNodes(3)
	cur := tc.dc().Store().Current()
	cfgXML := withNodes(t, cur, twoDummies)
	tc.apply(store.Command{Op: store.OpReplaceConfiguration, XML: cfgXML, ExpectEpoch: store.EpochString(cur)})

	where := map[string]string{}
	waitFor(t, 30*time.Second, "d1 and d2 started", func() bool {
		c := tc.any().Store().Current()
		for _, rsc := range []string{"d1", "d2"} {
			where[rsc] = ""
			for n := range tc.nodes {
				if startRecorded(c, n, rsc) {
					where[rsc] = n
				}
			}
			if where[rsc] == "" {
				return false
			}
		}
		return true
	})
	t.Logf("d1 on %s, d2 on %s", where["d1"], where["d2"])
	// Settled: the scheduler must not want to restart anything (digests
	// recorded correctly, monitors running).
	waitFor(t, 20*time.Second, "idle cluster", func() bool { return tc.dc() != nil && tc.dc().Idle() })
	for _, rsc := range []string{"d1", "d2"} {
		if got := runningOn(tc.dc(), rsc); len(got) != 1 || got[0] != where[rsc] {
			t.Fatalf("%s running on %v, want [%s]", rsc, got, where[rsc])
		}
	}

	// Crash the node running d1.
	victim := where["d1"]
	oldDC := tc.dc().Name()
	tc.nodes[victim].Kill()
	delete(tc.nodes, victim)
	killed := time.Now()
	elapsed := waitFor(t, 30*time.Second, "d1 recovered elsewhere", func() bool {
		d := tc.any()
		for n := range tc.nodes {
			if startRecorded(d.Store().Current(), n, "d1") {
				return true
			}
		}
		return false
	})
	t.Logf("failover of d1 after crash of %s (old DC %s): %v", victim, oldDC, elapsed)
	_ = killed
	waitFor(t, 20*time.Second, "idle cluster after failover", func() bool { return tc.dc() != nil && tc.dc().Idle() })
	for _, rsc := range []string{"d1", "d2"} {
		got := runningOn(tc.dc(), rsc)
		if len(got) != 1 || got[0] == victim {
			t.Fatalf("%s running on %v after failover", rsc, got)
		}
	}

	// A request carrying an older DC term is refused by the node.
	target := tc.nodes[runningOn(tc.dc(), "d1")[0]]
	if target.LRM().Term() < 2 {
		t.Fatalf("LRM term %d: no DC action reached %s", target.LRM().Term(), target.Name())
	}
	c := &noderpc.Client{Key: noderpc.DeriveKey(tc.key)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.Call(ctx, "127.0.0.1:"+strconv.Itoa(target.cfg.GossipPort+noderpc.PortOffset), noderpc.ActionRequest{
		Term: 1, TransitionKey: "1:1:0:stale", Rsc: "d1", Class: "ocf", Provider: "gocrm", Type: "Dummy", Task: "stop", TimeoutMS: 5000})
	if !errors.Is(err, noderpc.ErrStaleTerm) {
		t.Fatalf("stale-term stop: err = %v", err)
	}
	for _, rsc := range []string{"d1", "d2"} {
		if got := runningOn(tc.dc(), rsc); len(got) != 1 {
			t.Fatalf("%s running on %v after the refused stale stop", rsc, got)
		}
	}

	// The crashed node comes back with its old data directory; its Dummy
	// state file still says d1 runs there, so the probes find d1 active
	// twice and the cluster must end with exactly one copy.
	tc.restart(victim)
	tc.waitIdleRunning("idle cluster after the restart", "d1", "d2")
	copies := 0
	for n := range tc.nodes {
		copies += len(dummyState(tc.dirs[n], "d1"))
	}
	if copies != 1 {
		t.Fatalf("d1 state files on %d nodes after the restart", copies)
	}

	// Control socket: status, cib.get and cluster.wait answer.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	cl, err := api.Dial(ctx2, tc.cfgs[victim].SocketPath)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resp, err := cl.Do(ctx2, api.Request{Op: api.OpStatus})
	if err != nil || resp.Status == nil || resp.Status.DC == "" || len(resp.Status.Members) != 3 || !resp.Status.Quorate {
		t.Fatalf("status: %+v %v", resp, err)
	}
	if resp, err := cl.Do(ctx2, api.Request{Op: api.OpWait, TimeoutMS: 5000}); err != nil || !resp.OK {
		t.Fatalf("cluster.wait: %+v %v", resp, err)
	}
	x, err := cl.GetCIB(ctx2)
	if err != nil || !strings.Contains(x, `id="d1"`) {
		t.Fatalf("cib.get: %v", err)
	}
	err = cl.Apply(ctx2, store.Command{Op: store.OpReplaceConfiguration, XML: "<configuration/>", ExpectEpoch: "0.0"})
	if !errors.Is(err, api.ErrRejected) {
		t.Fatalf("stale-epoch apply through the socket: %v", err)
	}
}

// withNodes puts cur's <nodes> into a configuration XML.
func withNodes(t *testing.T, cur *cib.CIB, cfg string) string {
	t.Helper()
	parsed, err := cib.Parse([]byte(`<cib epoch="0" num_updates="0" admin_epoch="0">` + cfg + `<status/></cib>`))
	if err != nil {
		t.Fatal(err)
	}
	parsed.Config.Nodes = cur.Config.Nodes
	return string(parsed.Marshal())
}

var _ = fmt.Sprint

// TestCleanShutdownMovesResources: a node leaving with Shutdown hands its
// resource to another node before it stops.
func TestCleanShutdownMovesResources(t *testing.T) {
	tc := settledCluster(t, clusterOpts{}, twoDummies, []string{"d1", "d2"}, "s1", "s2", "s3")
	victim := runningOn(tc.dc(), "d1")[0]
	d := tc.nodes[victim]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := d.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("clean shutdown of %s took %v", victim, time.Since(start))
	if time.Since(start) > 15*time.Second {
		t.Fatalf("shutdown took %v: the DC did not acknowledge it", time.Since(start))
	}
	delete(tc.nodes, victim)
	waitFor(t, 30*time.Second, "d1 running elsewhere", func() bool {
		dc := tc.dc()
		if dc == nil {
			return false
		}
		got := runningOn(dc, "d1")
		return len(got) == 1 && got[0] != victim
	})
	ns := nodeStateOf(tc.dc().Store().Current(), victim)
	if ns == nil || ns.Expected != "down" {
		t.Fatalf("node state of %s after clean shutdown: %+v", victim, ns)
	}
}

// TestFailedMonitorRecovers: a resource that dies behind the cluster's
// back is noticed by its recurring monitor, counted as a failure and
// recovered.
func TestFailedMonitorRecovers(t *testing.T) {
	tc := settledCluster(t, clusterOpts{}, twoDummies, []string{"d1", "d2"}, "f1", "f2", "f3")
	node := runningOn(tc.dc(), "d1")[0]
	files := dummyState(tc.dirs[node], "d1")
	if len(files) != 1 {
		var all []string
		_ = filepath.WalkDir(tc.dirs[node], func(p string, _ os.DirEntry, _ error) error { all = append(all, p); return nil })
		t.Fatalf("state file of d1 on %s: %v (files: %v)", node, files, all)
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "fail-count recorded", func() bool {
		return transientAttr(tc.dc().Store().Current(), node, "fail-count-d1#monitor_1000") == "1"
	})
	if transientAttr(tc.dc().Store().Current(), node, "last-failure-d1#monitor_1000") == "" {
		t.Fatal("no last-failure attribute")
	}
	// The failure itself is in the history, Pacemaker style.
	var failure *cib.LRMOp
	for _, ns := range tc.dc().Store().Current().Status.Nodes {
		for _, lr := range ns.Resources {
			for _, op := range lr.Ops {
				if ns.Uname == node && lr.ID == "d1" && op.ID == "d1_last_failure_0" {
					failure = op
				}
			}
		}
	}
	if failure == nil || failure.Operation != "monitor" || failure.Interval != 1000 || failure.RCCode != 7 || failure.OpStatus != 0 ||
		failure.OperationKey != "d1_monitor_1000" || !strings.HasPrefix(failure.TransitionMagic, "0:7;") ||
		!strings.HasSuffix(failure.TransitionMagic, failure.TransitionKey) || len(strings.Split(failure.TransitionKey, ":")) != 4 ||
		failure.OpDigest == "" || failure.CallID == 0 {
		t.Fatalf("failure record: %+v", failure)
	}
	waitFor(t, 20*time.Second, "d1 recovered", func() bool {
		d := tc.dc()
		if d == nil || !d.Idle() {
			return false
		}
		got := runningOn(d, "d1")
		return len(got) == 1
	})
	// Really running again: its state file exists on the node it runs on.
	where := runningOn(tc.dc(), "d1")[0]
	if files := dummyState(tc.dirs[where], "d1"); len(files) != 1 {
		t.Fatalf("d1 reported running on %s but has no state file", where)
	}
}

// TestArbiterRunsNothing: an arbiter is a raft voter that never becomes a
// CIB node.
func TestArbiterRunsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node cluster test skipped in -short mode")
	}
	tc := newClusterOpts(t, clusterOpts{arbiters: map[string]bool{"a3": true}}, "a1", "a2", "a3")
	tc.waitConfigNodes(2)
	servers, err := tc.any().Raft().Servers()
	if err != nil {
		t.Fatal(err)
	}
	voters := 0
	for _, s := range servers {
		if s.Voter {
			voters++
		}
	}
	if voters != 3 {
		t.Fatalf("raft servers %+v: want 3 voters including the arbiter", servers)
	}
	tc.configure(twoDummies)
	tc.waitIdleRunning("idle", "d1", "d2")
	for _, ns := range tc.dc().Store().Current().Status.Nodes {
		if ns.Uname == "a3" {
			t.Fatalf("arbiter has a node_state: %+v", ns)
		}
	}
}

// dummyState finds the ocf:gocrm:Dummy state file of rsc under a node's
// data directory.
func dummyState(dir, rsc string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && e.Name() == "Dummy-"+rsc+".state" {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestNoQuorumPolicy: a node left alone (no raft leader) applies
// no-quorum-policy once the quorum lease expires: stop stops its
// resources, freeze keeps them, suicide calls the self-fencing hook.
func TestNoQuorumPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node cluster test skipped in -short mode")
	}
	for _, policy := range []string{"stop", "freeze", "suicide"} {
		t.Run(policy, func(t *testing.T) {
			suicides := make(chan string, 3)
			cfg := strings.Replace(twoDummies, `value="stop"`, `value="`+policy+`"`, 1)
			tc := settledCluster(t, clusterOpts{onSuicide: func(n string) { suicides <- n }}, cfg, []string{"d1", "d2"}, "q1", "q2", "q3")
			survivor := runningOn(tc.dc(), "d1")[0]
			waitFor(t, 10*time.Second, "policy replicated to "+survivor, func() bool {
				return crmOption(tc.nodes[survivor].Store().Current(), "no-quorum-policy") == policy
			})
			for n, d := range tc.nodes {
				if n != survivor {
					d.Kill()
				}
			}
			switch policy {
			case "stop":
				took := waitFor(t, 20*time.Second, "resources stopped on the minority node", func() bool {
					return len(dummyState(tc.dirs[survivor], "d1")) == 0 && len(dummyState(tc.dirs[survivor], "d2")) == 0
				})
				t.Logf("%s stopped its resources %v after losing quorum", survivor, took)
			case "freeze":
				time.Sleep(tc.cfgs[survivor].QuorumLease + 2*time.Second)
				if len(dummyState(tc.dirs[survivor], "d1")) != 1 {
					t.Fatal("freeze stopped d1")
				}
			case "suicide":
				select {
				case n := <-suicides:
					if n != survivor {
						t.Fatalf("%s fenced itself, want %s", n, survivor)
					}
				case <-time.After(20 * time.Second):
					t.Fatal("no self-fencing")
				}
			}
		})
	}
}

// clusterKiller is the sandbox fence device's view of an in-process
// cluster: fencing a node kills its daemon.
type clusterKiller struct {
	mu    sync.Mutex
	nodes map[string]*Daemon
	kills []string
}

func (k *clusterKiller) Kill(_ context.Context, node string) error {
	k.mu.Lock()
	d := k.nodes[node]
	k.kills = append(k.kills, node)
	k.mu.Unlock()
	if d == nil {
		return fmt.Errorf("unknown node %s", node)
	}
	d.Kill()
	return nil
}

func (k *clusterKiller) Running(_ context.Context, node string) (bool, error) {
	k.mu.Lock()
	d := k.nodes[node]
	k.mu.Unlock()
	if d == nil {
		return false, fmt.Errorf("unknown node %s", node)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.stopped, nil
}

func (k *clusterKiller) Nodes(context.Context) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for n := range k.nodes {
		out = append(out, n)
	}
	return out, nil
}

func (k *clusterKiller) killed() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.kills...)
}

const fencedDummies = `<configuration><crm_config><cluster_property_set id="opts">
<nvpair id="opts-stonith" name="stonith-enabled" value="true"/>
<nvpair id="opts-timeout" name="stonith-timeout" value="20s"/>
</cluster_property_set></crm_config><nodes/>
<resources>
<primitive id="fence" class="stonith" type="sandbox"/>
<primitive id="d1" class="ocf" provider="gocrm" type="Dummy"><operations>
<op id="d1-mon" name="monitor" interval="1s" timeout="10s"/></operations></primitive>
</resources><constraints/>
</configuration>`

// TestFencingRecovery: with stonith enabled, a crashed node is fenced (the
// sandbox device) before its resource is recovered elsewhere.
func TestFencingRecovery(t *testing.T) {
	k := &clusterKiller{nodes: map[string]*Daemon{}}
	tc := settledCluster(t, clusterOpts{killer: k}, fencedDummies, []string{"d1", "fence"}, "k1", "k2", "k3")
	if got := k.killed(); len(got) != 0 {
		t.Fatalf("nodes fenced during startup: %v", got)
	}
	// Crash a node that is not the DC and runs d1, or the non-DC anyway.
	victim := runningOn(tc.dc(), "d1")[0]
	tc.nodes[victim].Kill()
	delete(tc.nodes, victim)
	took := waitFor(t, 40*time.Second, "d1 recovered after fencing", func() bool {
		d := tc.dc()
		if d == nil {
			return false
		}
		got := runningOn(d, "d1")
		return len(got) == 1 && got[0] != victim && len(k.killed()) > 0
	})
	if got := k.killed(); len(got) != 1 || got[0] != victim {
		t.Fatalf("fenced %v, want [%s]", got, victim)
	}
	t.Logf("crash of %s: fenced and d1 recovered after %v", victim, took)
	ns := nodeStateOf(tc.dc().Store().Current(), victim)
	if ns == nil || ns.Expected != "down" || len(ns.Resources) != 0 {
		t.Fatalf("victim status not cleared after fencing: %+v", ns)
	}

	// `crm node fence OTHER` through the DC's control socket (asking the
	// victim itself would race its answer against its own death).
	var other string
	for n, d := range tc.nodes {
		if !d.IsDC() {
			other = n
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := api.Dial(ctx, tc.cfgs[tc.dc().Name()].SocketPath)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if resp, err := cl.Do(ctx, api.Request{Op: api.OpFence, Node: other}); err != nil || !resp.OK {
		t.Fatalf("node.fence: %+v %v", resp, err)
	}
	waitFor(t, 20*time.Second, "requested fencing", func() bool {
		got := k.killed()
		return len(got) == 2 && got[1] == other
	})
}

// TestLateJoiner: a node started later without bootstrap-expect is added
// by the DC as a raft voter and a CIB node, and can run resources.
func TestLateJoiner(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node cluster test skipped in -short mode")
	}
	tc := newCluster(t, "j1", "j2", "j3")
	tc.waitConfigNodes(3)
	tc.addNode("j4")
	waitFor(t, 30*time.Second, "j4 a raft voter and a CIB node", func() bool {
		d := tc.dc()
		if d == nil {
			return false
		}
		servers, err := d.Raft().Servers()
		if err != nil {
			return false
		}
		voter := false
		for _, s := range servers {
			if s.ID == "j4" && s.Voter {
				voter = true
			}
		}
		found := false
		for _, n := range d.Store().Current().Config.Nodes {
			if n.Uname == "j4" {
				found = true
			}
		}
		return voter && found
	})
	// Ban d1 from the three original nodes: it must run on j4.
	cur := tc.dc().Store().Current()
	cfg := strings.Replace(twoDummies, "<constraints>", `<constraints>
<rsc_location id="l1" rsc="d1" node="j1" score="-INFINITY"/>
<rsc_location id="l2" rsc="d1" node="j2" score="-INFINITY"/>
<rsc_location id="l3" rsc="d1" node="j3" score="-INFINITY"/>`, 1)
	tc.apply(store.Command{Op: store.OpReplaceConfiguration, XML: withNodes(t, cur, cfg), ExpectEpoch: store.EpochString(cur)})
	waitFor(t, 30*time.Second, "d1 on j4", func() bool {
		d := tc.dc()
		if d == nil || !d.Idle() {
			return false
		}
		got := runningOn(d, "d1")
		return len(got) == 1 && got[0] == "j4"
	})
}

// countingDummy is ocf:gocrm:Dummy counting its starts.
type countingDummy struct {
	agent.Agent
	starts *atomicCounter
}

type atomicCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *atomicCounter) inc(k string) {
	c.mu.Lock()
	c.n[k]++
	c.mu.Unlock()
}

func (c *atomicCounter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func (d countingDummy) Start(ctx context.Context, c agent.Call) agent.Result {
	d.starts.inc(c.Resource)
	return d.Agent.Start(ctx, c)
}

// newCountingCluster starts a cluster whose ocf:gocrm:Dummy counts its
// starts per resource.
func newCountingCluster(t *testing.T, names ...string) (*testCluster, *atomicCounter) {
	t.Helper()
	starts := &atomicCounter{n: map[string]int{}}
	tc := newClusterOpts(t, clusterOpts{builtins: func(string) *agent.Registry {
		reg := agent.NewRegistry()
		err := reg.Register(dummy.Key, func(env agent.Env) (agent.Agent, error) {
			a, err := dummy.New(env)
			if err != nil {
				return nil, err
			}
			return countingDummy{Agent: a, starts: starts}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return reg
	}}, names...)
	return tc, starts
}

// TestPendingStartSurvivesDCFailover: a start in progress is recorded as
// pending, so a DC elected meanwhile waits for it instead of starting the
// resource a second time.
func TestPendingStartSurvivesDCFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node cluster test skipped in -short mode")
	}
	tc, starts := newCountingCluster(t, "p1", "p2", "p3")
	tc.waitConfigNodes(3)
	oldDC := tc.dc()
	cur := oldDC.Store().Current()
	cfg := `<configuration><crm_config><cluster_property_set id="opts">
<nvpair id="opts-stonith" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/>
<resources><primitive id="slow" class="ocf" provider="gocrm" type="Dummy">
<instance_attributes id="slow-ia"><nvpair id="slow-sleep" name="op_sleep" value="3"/></instance_attributes>
<operations><op id="slow-start" name="start" interval="0" timeout="20s"/></operations></primitive></resources>
<constraints><rsc_location id="not-dc" rsc="slow" node="` + oldDC.Name() + `" score="-INFINITY"/></constraints>
</configuration>`
	tc.apply(store.Command{Op: store.OpReplaceConfiguration, XML: withNodes(t, cur, cfg), ExpectEpoch: store.EpochString(cur)})
	var where string
	waitFor(t, 20*time.Second, "pending start recorded", func() bool {
		for _, ns := range oldDC.Store().Current().Status.Nodes {
			for _, lr := range ns.Resources {
				for _, op := range lr.Ops {
					if lr.ID == "slow" && op.Operation == "start" && op.OpStatus == -1 {
						where = ns.Uname
						return true
					}
				}
			}
		}
		return false
	})
	oldDC.Kill()
	delete(tc.nodes, oldDC.Name())
	waitFor(t, 30*time.Second, "slow started", func() bool {
		d := tc.dc()
		return d != nil && startRecorded(d.Store().Current(), where, "slow") && d.Idle()
	})
	if n := starts.get("slow"); n != 1 {
		t.Fatalf("slow started %d times", n)
	}
}

const notifyingClone = `<configuration><crm_config><cluster_property_set id="opts">
<nvpair id="opts-stonith" name="stonith-enabled" value="false"/>
</cluster_property_set></crm_config><nodes/>
<resources>
<clone id="cl"><meta_attributes id="cl-meta"><nvpair id="cl-notify" name="notify" value="true"/>
<nvpair id="cl-max" name="clone-max" value="2"/></meta_attributes>
<primitive id="c" class="ocf" provider="gocrm" type="Dummy"><operations>
<op id="c-mon" name="monitor" interval="1s" timeout="10s"/></operations></primitive></clone>
</resources><constraints/></configuration>`

// TestNotifyingClone: a clone with notify=true runs its notifications
// (the transitions complete) and they leave no operation history.
func TestNotifyingClone(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node cluster test skipped in -short mode")
	}
	tc := newCluster(t, "c1", "c2", "c3")
	tc.waitConfigNodes(3)
	tc.configure(notifyingClone)
	instances := func() []string {
		d := tc.dc()
		if d == nil {
			return nil
		}
		var on []string
		for _, r := range []string{"c:0", "c:1", "c:2"} {
			on = append(on, runningOn(d, r)...)
		}
		return on
	}
	waitFor(t, 30*time.Second, "two instances running, DC idle", func() bool {
		d := tc.dc()
		return d != nil && d.Idle() && len(instances()) == 2
	})
	// Move one instance: its stop and the other start are notified.
	moved := instances()[0]
	tc.apply(store.Command{Op: store.OpSetNodeAttr, Node: moved, Name: "standby", Value: "on"})
	waitFor(t, 30*time.Second, "instances moved off the standby node", func() bool {
		d := tc.dc()
		on := instances()
		return d != nil && d.Idle() && len(on) == 2 && !slices.Contains(on, moved)
	})
	// Each running instance heard notifications (the Dummy agent keeps
	// the last one next to its state file).
	for _, n := range instances() {
		found := false
		_ = filepath.WalkDir(tc.dirs[n], func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() && strings.HasSuffix(e.Name(), ".state.notify") {
				found = true
			}
			return nil
		})
		if !found {
			t.Errorf("instance on %s received no notification", n)
		}
	}
	for _, ns := range tc.dc().Store().Current().Status.Nodes {
		for _, lr := range ns.Resources {
			for _, op := range lr.Ops {
				if op.Operation == "notify" {
					t.Fatalf("notification recorded in the history of %s on %s: %+v", lr.ID, ns.Uname, op)
				}
			}
		}
	}
}
