package consensus

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// Design D2 end to end on the consensus layer: a two-voter cluster loses
// one node (isolated, as if fenced), the survivor cannot commit, forces a
// single-voter configuration in-process, becomes leader with the fence
// record applied, keeps serving Apply and LeaderCh through the same Node,
// refuses the stale peer's votes, and re-admits it with AddServer.
func TestForceSingleVoter(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		name := "inmem"
		if tcp {
			name = "tcp"
		}
		t.Run(name, func(t *testing.T) { testForceSingleVoter(t, tcp) })
	}
}

func testForceSingleVoter(t *testing.T, tcp bool) {
	c := newCluster(t, tcp, nil)
	c.bootstrap("a", "b")
	lead := c.leader(10 * time.Second)
	ctx := ctxT(t, 60*time.Second)
	if _, err := c.nodes[lead].Apply(ctx, []byte("before")); err != nil {
		t.Fatal(err)
	}
	c.waitEntries("a", []string{"before"}, 5*time.Second)
	c.waitEntries("b", []string{"before"}, 5*time.Second)

	// "b" is lost: stopped (fenced). "a" cannot commit alone.
	c.stop("b")
	if tcp {
		// nothing: the port is closed
	} else {
		c.net.Isolate(c.addrs["b"])
	}
	short := ctxT(t, 1500*time.Millisecond)
	if _, err := c.nodes["a"].Apply(short, []byte("alone")); err == nil {
		t.Fatal("a single voter of two committed a write")
	}

	a := c.nodes["a"]
	lch := a.LeaderCh()
	start := time.Now()
	if err := a.ForceSingleVoter(ctx, &listFSM{}, [][]byte{[]byte("fenced:b")}); err != nil {
		t.Fatalf("ForceSingleVoter: %v", err)
	}
	t.Logf("single-voter leader after %s", time.Since(start))
	if !a.IsLeader() {
		t.Fatal("not leader after ForceSingleVoter")
	}
	if rc := a.r().ReloadableConfig(); rc.HeartbeatTimeout != DefaultTiming.HeartbeatTimeout || rc.ElectionTimeout != DefaultTiming.ElectionTimeout {
		t.Fatalf("raft timers not restored after the recovery: %+v", rc)
	}
	// LeaderCh (same channel) reports the new leadership.
	deadline := time.After(5 * time.Second)
	for got := false; !got; {
		select {
		case st := <-lch:
			got = st.IsLeader && st.LeaderID == "a"
		case <-deadline:
			t.Fatal("LeaderCh did not report the new leadership")
		}
	}
	servers, err := a.Servers()
	if err != nil || len(servers) != 1 || servers[0].ID != "a" || !servers[0].Voter {
		t.Fatalf("servers = %v, %v; want only a", servers, err)
	}
	// The record is in the state; the uncommitted "alone" is committed by
	// the recovery (documented RecoverCluster behaviour) and comes first.
	got := c.fsms["a"].list()
	if !slices.Contains(got, "fenced:b") || got[0] != "before" || got[len(got)-1] != "fenced:b" {
		t.Fatalf("FSM after recovery = %v", got)
	}
	if err := a.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, []byte("after")); err != nil {
		t.Fatalf("apply after recovery: %v", err)
	}

	// The fenced node returns with its stale {a,b} configuration: it can
	// not win an election (a rejects it) and a stays leader.
	if !tcp {
		c.net.Heal(c.addrs["b"])
	}
	b := c.start("b")
	time.Sleep(2 * time.Second)
	if b.IsLeader() {
		t.Fatal("the stale node became leader")
	}
	if !a.IsLeader() {
		t.Fatal("the recovered node lost leadership to a stale node")
	}
	// Re-admission: AddServer makes it a voter again and it catches up.
	if err := a.AddServer(ctx, "b", c.addrs["b"]); err != nil {
		t.Fatalf("re-add b: %v", err)
	}
	want := c.fsms["a"].list()
	c.waitEntries("b", want, 10*time.Second)
	if _, err := b.Apply(ctx, []byte("from-b")); err != nil {
		t.Fatalf("forwarded apply from re-added node: %v", err)
	}
	servers, _ = a.Servers()
	if len(servers) != 2 || !servers[0].Voter || !servers[1].Voter {
		t.Fatalf("servers after re-add = %v", servers)
	}
	// A second recovery on the same Node works too (next partition).
	c.stop("b")
	if !tcp {
		c.net.Isolate(c.addrs["b"])
	}
	time.Sleep(1500 * time.Millisecond)
	if err := a.ForceSingleVoter(ctx, &listFSM{}, [][]byte{[]byte("fenced:b#2")}); err != nil {
		t.Fatalf("second ForceSingleVoter: %v", err)
	}
	if _, err := a.Apply(ctx, []byte("after2")); err != nil {
		t.Fatalf("apply after second recovery: %v", err)
	}
	got = c.fsms["a"].list()
	if !slices.Contains(got, "fenced:b#2") || got[len(got)-1] != "after2" {
		t.Fatalf("FSM after second recovery = %v", got)
	}
}

func TestForceSingleVoterAfterShutdown(t *testing.T) {
	c := newCluster(t, false, nil)
	c.bootstrap("a")
	c.leader(5 * time.Second)
	n := c.nodes["a"]
	c.stop("a")
	err := n.ForceSingleVoter(context.Background(), &listFSM{}, nil)
	if !errors.Is(err, ErrShutdown) {
		t.Fatalf("err = %v, want ErrShutdown", err)
	}
	if err := n.ForceSingleVoter(context.Background(), nil, nil); !errors.Is(err, ErrRecover) {
		t.Fatalf("nil scratch FSM: err = %v, want ErrRecover", err)
	}
}

// A detached transport view fails blocked and later calls at once.
func TestDetachableFailsBlockedCalls(t *testing.T) {
	net := NewInmemNetwork()
	tr := net.NewTransport("x")
	defer tr.Close()
	d := newDetachable(tr.raft)
	block := make(chan struct{})
	defer close(block)
	res := make(chan error, 1)
	go func() { res <- d.call(func() error { <-block; return nil }) }()
	time.Sleep(20 * time.Millisecond)
	d.detach()
	select {
	case err := <-res:
		if !errors.Is(err, errDetached) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("blocked call not released by detach")
	}
	var resp raft.RequestVoteResponse
	if err := d.RequestVote("y", "y", &raft.RequestVoteRequest{}, &resp); !errors.Is(err, errDetached) {
		t.Fatalf("call after detach: %v", err)
	}
	if _, ok := any(d).(raft.WithClose); ok {
		t.Fatal("a detachable must hide Close from raft")
	}
	if _, ok := any(d).(raft.WithPreVote); !ok {
		t.Fatal("a detachable must keep pre-vote")
	}
}
