package consensus

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestElectionAndForwardedApply(t *testing.T) {
	c := newCluster(t, false, nil)
	c.bootstrap("n1", "n2", "n3")
	leader := c.leader(5 * time.Second)
	follower := c.follower(leader)
	ctx := ctxT(t, 5*time.Second)

	// Write on a follower: forwarded, committed, response normalised.
	res, err := c.nodes[follower].Apply(ctx, []byte("echo:hello"))
	if err != nil {
		t.Fatalf("Apply on follower: %v", err)
	}
	if res.Index == 0 || string(res.Data) != "hello" {
		t.Fatalf("result = %+v", res)
	}
	// Write on the leader: same normalisation (JSON for a map response).
	res2, err := c.nodes[leader].Apply(ctx, []byte("x"))
	if err != nil || res2.Index <= res.Index || string(res2.Data) != `{"index":`+itoa(res2.Index)+`}` {
		t.Fatalf("leader apply = %+v, %v", res2, err)
	}
	// A rejection is replicated and reported the same way from a follower.
	_, err = c.nodes[follower].Apply(ctx, []byte("fail:boom"))
	var ce *CommandError
	if !errors.Is(err, ErrCommandRejected) || !errors.As(err, &ce) || ce.Index == 0 || ce.Msg != "rejected fail:boom" {
		t.Fatalf("rejected apply: %v", err)
	}
	want := []string{"echo:hello", "x", "fail:boom"}
	for id := range c.nodes {
		c.waitEntries(id, want, 5*time.Second)
	}
	// Follower's view of the leader and LeaderCh.
	if id, addr := c.nodes[follower].Leader(); id != leader || addr != c.addrs[leader] {
		t.Errorf("follower sees leader %s %s", id, addr)
	}
	select {
	case st := <-c.nodes[leader].LeaderCh():
		if !st.IsLeader || st.LeaderID != leader || st.Term == 0 {
			t.Errorf("leader's LeaderCh = %+v", st)
		}
	case <-time.After(2 * time.Second):
		t.Error("no LeaderCh value on the leader")
	}
	if err := c.nodes[leader].Barrier(ctx); err != nil {
		t.Errorf("Barrier on leader: %v", err)
	}
	if err := c.nodes[follower].Barrier(ctx); !errors.Is(err, raft.ErrNotLeader) {
		t.Errorf("Barrier on follower: %v", err)
	}
	if err := c.nodes[leader].VerifyLeader(ctx); err != nil {
		t.Errorf("VerifyLeader: %v", err)
	}
	st, err := c.nodes[follower].Stats()
	if err != nil || st.Servers != 3 || st.AppliedIndex < res2.Index {
		t.Errorf("stats = %+v, %v", st, err)
	}
}

func itoa(u uint64) string { return string(appendUint(nil, u)) }

func appendUint(b []byte, u uint64) []byte {
	if u >= 10 {
		b = appendUint(b, u/10)
	}
	return append(b, byte('0'+u%10))
}

func TestLeaderLossElectsNewLeader(t *testing.T) {
	c := newCluster(t, false, nil)
	c.bootstrap("n1", "n2", "n3")
	old := c.leader(5 * time.Second)
	ctx := ctxT(t, 10*time.Second)
	if _, err := c.nodes[old].Apply(ctx, []byte("before")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.net.Isolate(c.addrs[old])
	c.stop(old)
	newLeader := c.leader(10 * time.Second)
	t.Logf("new leader %s elected %s after leader loss (timing %+v)", newLeader, time.Since(start), DefaultTiming)
	if newLeader == old {
		t.Fatal("old leader still leads")
	}
	f := c.follower(newLeader)
	// The surviving follower's LeaderCh converges on the new leader.
	deadline := time.After(5 * time.Second)
	var last LeaderState
	for last.LeaderID != newLeader || last.IsLeader {
		select {
		case last = <-c.nodes[f].LeaderCh():
		case <-deadline:
			t.Fatalf("follower's LeaderCh stuck at %+v", last)
		}
	}
	if _, err := c.nodes[f].Apply(ctx, []byte("after")); err != nil {
		t.Fatalf("apply after failover: %v", err)
	}
	c.waitEntries(f, []string{"before", "after"}, 5*time.Second)
}

func TestRestartKeepsCommittedEntries(t *testing.T) {
	c := newCluster(t, false, nil)
	ids := []string{"n1", "n2", "n3"}
	c.bootstrap(ids...)
	leader := c.leader(5 * time.Second)
	ctx := ctxT(t, 20*time.Second)
	want := cmds("e", 5)
	for _, cmd := range want {
		if _, err := c.nodes[c.follower(leader)].Apply(ctx, []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		c.stop(id)
	}
	if _, err := os.Stat(filepath.Join(c.dirs["n1"], "raft.db")); err != nil {
		t.Fatalf("raft.db missing: %v", err)
	}
	for _, id := range ids {
		c.start(id)
		// Restarted nodes resume; bootstrapping again is refused.
		if err := c.nodes[id].Bootstrap(ctx, c.servers(ids...)); !errors.Is(err, ErrAlreadyBootstrapped) {
			t.Fatalf("re-bootstrap: %v", err)
		}
	}
	leader = c.leader(10 * time.Second)
	if err := c.nodes[leader].Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		c.waitEntries(id, want, 5*time.Second)
	}
}

func TestSnapshotInstallOnLaggingFollower(t *testing.T) {
	c := newCluster(t, false, func(cfg *Config) {
		cfg.TrailingLogs = 4
		cfg.SnapshotThreshold = 1 << 20 // only explicit snapshots
		cfg.SnapshotInterval = time.Hour
	})
	c.bootstrap("n1", "n2", "n3")
	leader := c.leader(5 * time.Second)
	lag := c.follower(leader)
	ctx := ctxT(t, 20*time.Second)
	c.net.Isolate(c.addrs[lag])
	want := cmds("s", 30)
	for _, cmd := range want {
		if _, err := c.nodes[leader].Apply(ctx, []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.nodes[leader].Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	snaps, err := os.ReadDir(filepath.Join(c.dirs[leader], "snapshots"))
	if err != nil || len(snaps) == 0 {
		t.Fatalf("no snapshot in %s/snapshots: %v", c.dirs[leader], err)
	}
	c.net.Heal(c.addrs[lag])
	c.waitEntries(lag, want, 10*time.Second)
	if c.fsms[lag].restoreCount() == 0 {
		t.Fatal("lagging follower caught up without InstallSnapshot/Restore")
	}
	// A restarted node restores its FSM from its own snapshot on start.
	c.stop(leader)
	c.start(leader)
	if c.fsms[leader].restoreCount() != 1 {
		t.Errorf("restart restored %d snapshots, want 1", c.fsms[leader].restoreCount())
	}
	c.leader(10 * time.Second)
	c.waitEntries(leader, want, 10*time.Second)
}

func TestNonVoterJoinThenPromotion(t *testing.T) {
	c := newCluster(t, false, nil)
	c.bootstrap("n1", "n2", "n3")
	leader := c.leader(5 * time.Second)
	ctx := ctxT(t, 20*time.Second)
	want := cmds("j", 10)
	for _, cmd := range want {
		if _, err := c.nodes[leader].Apply(ctx, []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	n4 := c.start("n4")
	// While n4 is unreachable it is added as a non-voter but not promoted.
	c.net.Isolate(c.addrs["n4"])
	short, cancel := context.WithTimeout(ctx, 600*time.Millisecond)
	err := c.nodes[leader].AddServer(short, "n4", c.addrs["n4"])
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AddServer of unreachable node: %v", err)
	}
	if s := serverByID(t, c.nodes[leader], "n4"); s.Voter || s.Address != c.addrs["n4"] {
		t.Fatalf("n4 after failed catch-up = %+v, want non-voter", s)
	}
	// Quorum is unaffected by the lagging non-voter.
	if _, err := c.nodes[leader].Apply(ctx, []byte("while-nonvoter")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "while-nonvoter")
	c.net.Heal(c.addrs["n4"])
	if err := c.nodes[leader].AddServer(ctx, "n4", c.addrs["n4"]); err != nil {
		t.Fatalf("AddServer: %v", err)
	}
	if s := serverByID(t, c.nodes[leader], "n4"); !s.Voter {
		t.Fatalf("n4 not promoted: %+v", s)
	}
	c.waitEntries("n4", want, 5*time.Second)
	if _, err := n4.Apply(ctx, []byte("from-n4")); err != nil {
		t.Fatalf("apply from new voter: %v", err)
	}
	// Idempotent.
	if err := c.nodes[leader].AddServer(ctx, "n4", c.addrs["n4"]); err != nil {
		t.Fatal(err)
	}
	// Removal only by explicit call.
	if err := c.nodes[leader].RemoveServer(ctx, "n4"); err != nil {
		t.Fatal(err)
	}
	if ss, _ := c.nodes[leader].Servers(); len(ss) != 3 {
		t.Fatalf("servers after remove = %+v", ss)
	}
	// A removed server keeps running (ShutdownOnRemove is off) and can be
	// re-admitted without a restart, as after fencing (design D2).
	if err := c.nodes[leader].AddServer(ctx, "n4", c.addrs["n4"]); err != nil {
		t.Fatalf("re-adding removed server: %v", err)
	}
	if _, err := c.nodes[leader].Apply(ctx, []byte("readmitted")); err != nil {
		t.Fatal(err)
	}
	c.waitEntries("n4", append(slices.Clone(want), "from-n4", "readmitted"), 5*time.Second)
	if err := c.nodes[c.follower(leader)].AddServer(ctx, "n5", "x"); !errors.Is(err, raft.ErrNotLeader) {
		t.Errorf("AddServer on follower: %v", err)
	}
}

func serverByID(t *testing.T, n *Node, id string) Server {
	t.Helper()
	ss, err := n.Servers()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("%s not in configuration %+v", id, ss)
	return Server{}
}

func TestMaybeBootstrapExpect(t *testing.T) {
	c := newCluster(t, false, func(cfg *Config) { cfg.BootstrapExpect = 3 })
	ids := []string{"n1", "n2", "n3"}
	for _, id := range ids {
		c.start(id)
	}
	ctx := ctxT(t, 10*time.Second)
	// Too few voters known: nothing happens.
	if ok, err := c.nodes["n1"].MaybeBootstrap(ctx, c.servers("n1", "n2")); ok || err != nil {
		t.Fatalf("with 2 of 3: %v %v", ok, err)
	}
	if _, err := c.nodes["n1"].MaybeBootstrap(ctx, c.servers("n2", "n3", "n4")); !errors.Is(err, ErrConfig) {
		t.Fatalf("without self: %v", err)
	}
	// All three see everyone (in different orders) and bootstrap the same
	// configuration.
	var boots int
	for i, id := range ids {
		list := c.servers(ids...)
		if i == 1 {
			slices.Reverse(list)
		}
		ok, err := c.nodes[id].MaybeBootstrap(ctx, list)
		if err != nil {
			t.Fatalf("MaybeBootstrap(%s): %v", id, err)
		}
		if ok {
			boots++
		}
	}
	if boots == 0 {
		t.Fatal("nobody bootstrapped")
	}
	leader := c.leader(5 * time.Second)
	if _, err := c.nodes[leader].Apply(ctx, []byte("a")); err != nil {
		t.Fatal(err)
	}
	ss, _ := c.nodes[leader].Servers()
	if len(ss) != 3 {
		t.Fatalf("servers = %+v", ss)
	}
	// A fresh node joining later sees existing state and does not bootstrap
	// a second cluster.
	c.start("n4")
	if ok, err := c.nodes["n4"].MaybeBootstrap(ctx, c.servers("n1", "n2", "n3", "n4")); ok || err != nil {
		t.Fatalf("late joiner: %v %v", ok, err)
	}
	if st, _ := c.nodes["n4"].Stats(); st.Servers != 0 {
		t.Fatalf("late joiner has configuration %+v", st)
	}
}

func TestTCPCluster(t *testing.T) {
	c := newCluster(t, true, nil)
	c.bootstrap("n1", "n2", "n3")
	leader := c.leader(5 * time.Second)
	ctx := ctxT(t, 20*time.Second)
	f := c.follower(leader)
	res, err := c.nodes[f].Apply(ctx, []byte("echo:tcp"))
	if err != nil || string(res.Data) != "tcp" {
		t.Fatalf("forwarded apply over TCP: %+v %v", res, err)
	}
	// Stats over the forwarding RPC.
	st, err := c.nodes[f].RemoteStats(ctx, c.addrs[leader])
	if err != nil || st.State != raft.Leader || st.Servers != 3 {
		t.Fatalf("remote stats: %+v %v", st, err)
	}
	d := c.killLeaderAndWait(leader)
	t.Logf("TCP: new leader after %s", d)
	nl := c.leader(5 * time.Second)
	if _, err := c.nodes[c.follower(nl)].Apply(ctx, []byte("after")); err != nil {
		t.Fatal(err)
	}
	// Restart the old leader on the same port: it rejoins and catches up.
	c.start(leader)
	c.waitEntries(leader, []string{"echo:tcp", "after"}, 10*time.Second)
}

// killLeaderAndWait shuts the leader down and returns the time until
// another node is leader.
func (c *cluster) killLeaderAndWait(leader string) time.Duration {
	c.t.Helper()
	start := time.Now()
	c.stop(leader)
	deadline := start.Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range c.nodes {
			if n.IsLeader() {
				return time.Since(start)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.t.Fatal("no new leader within 15 s")
	return 0
}

// BenchmarkLeaderElectionTCP measures the time from the leader's shutdown to
// a new leader in a 3-node loopback TCP cluster with DefaultTiming.
// Run: go test ./crm/consensus -run ^$ -bench LeaderElection -benchtime 5x
func BenchmarkLeaderElectionTCP(b *testing.B) {
	var samples []time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := newCluster(b, true, nil)
		c.bootstrap("n1", "n2", "n3")
		leader := c.leader(5 * time.Second)
		time.Sleep(200 * time.Millisecond)
		b.StartTimer()
		samples = append(samples, c.killLeaderAndWait(leader))
		b.StopTimer()
		for id := range c.nodes {
			c.stop(id)
		}
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	b.ReportMetric(float64(samples[len(samples)/2].Milliseconds()), "median-ms")
	b.ReportMetric(float64(samples[0].Milliseconds()), "min-ms")
	b.ReportMetric(float64(samples[len(samples)-1].Milliseconds()), "max-ms")
}
