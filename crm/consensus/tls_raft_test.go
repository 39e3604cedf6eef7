package consensus

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/membership"
	"github.com/hashicorp/raft"
)

// tlsNode is a raft node on an mTLS transport with its authorizer.
type tlsNode struct {
	n     *Node
	fsm   *listFSM
	auth  *ClusterAuthorizer
	layer *TLSStreamLayer
}

// gossip is a fake member list shared by the test's nodes.
type gossip struct {
	mu      sync.Mutex
	members []membership.Member
}

func (g *gossip) add(name, raftAddr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.members = append(g.members, membership.Member{Name: name, Meta: membership.Meta{RaftAddr: raftAddr, Role: membership.RoleVoter}})
}

func (g *gossip) list() []membership.Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.members)
}

func startTLSNode(t *testing.T, id *TLSIdentity, name string, g *gossip, logs *syncBuf) *tlsNode {
	t.Helper()
	auth := NewClusterAuthorizer(name)
	auth.SetMembers(g.list)
	// Not t.Log: raft's connection goroutines may log after Shutdown.
	log := bufLogger(logs)
	tr, layer, err := NewTLSTransport("127.0.0.1:0", nil, NewMTLS(id, auth, log), log)
	if err != nil {
		t.Fatal(err)
	}
	fsm := &listFSM{}
	n, err := New(Config{NodeID: name, DataDir: dataDir(t), Transport: tr, FSM: fsm, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	auth.SetServers(n.Servers)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Shutdown(ctx)
	})
	g.add(name, n.Addr())
	return &tlsNode{n: n, fsm: fsm, auth: auth, layer: layer}
}

// TestRaftOverMTLS runs a 3-voter cluster over the mTLS transport, forwards
// a write from a follower, adds a fourth node with a good certificate and
// shows that a node with a certificate from another CA is refused both as a
// server to add and as a client forwarding writes, even though it is in
// the member list.
func TestRaftOverMTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five raft nodes")
	}
	p := newTestPKI(t)
	g := &gossip{}
	var logs syncBuf
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	nodes := map[string]*tlsNode{}
	var servers []Server
	for _, name := range []string{"n1", "n2", "n3"} {
		nodes[name] = startTLSNode(t, p.identity(t, p.ca, name, false), name, g, &logs)
		servers = append(servers, Server{ID: name, Address: nodes[name].n.Addr(), Voter: true})
	}
	ctx := ctxT(t, 30*time.Second)
	for _, tn := range nodes {
		if err := tn.n.Bootstrap(ctx, servers); err != nil {
			t.Fatal(err)
		}
	}
	var leader, follower string
	deadline := time.Now().Add(15 * time.Second)
	for leader == "" && time.Now().Before(deadline) {
		for name, tn := range nodes {
			if tn.n.IsLeader() {
				leader = name
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if leader == "" {
		t.Fatal("no leader over mTLS")
	}
	for name := range nodes {
		if name != leader {
			follower = name
		}
	}
	if _, err := nodes[follower].n.Apply(ctx, []byte("via-follower")); err != nil {
		t.Fatalf("forwarded apply over mTLS: %v", err)
	}

	// A rogue node with the gossip key (it is in the member list) but a
	// certificate from another CA.
	var rogueLogs syncBuf
	rogue := startTLSNode(t, p.identity(t, p.other, "n5", false), "n5", g, &rogueLogs)
	err := nodes[leader].layer.Probe(ctx, "n5", rogue.n.Addr())
	if !errors.Is(err, ErrPeerRejected) {
		t.Fatalf("probe of the rogue node: %v, want ErrPeerRejected", err)
	}
	// Its connections to the leader (raft or forwarded writes) are refused.
	c, err := rogue.layer.Dial(raft.ServerAddress(nodes[leader].n.Addr()), 2*time.Second)
	if err == nil {
		c.Close()
		t.Fatal("the leader accepted the rogue node's connection")
	}
	if !errors.Is(err, ErrRefusedByPeer) {
		t.Fatalf("rogue dial: %v, want ErrRefusedByPeer", err)
	}
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err = rogue.n.RemoteStats(actx, nodes[leader].n.Addr())
	cancel()
	if err == nil {
		t.Fatal("the leader answered the rogue node's forwarding RPC")
	}

	// A good fourth node is probed and added.
	good := startTLSNode(t, p.identity(t, p.ca, "n4", false), "n4", g, &logs)
	if err := nodes[leader].layer.Probe(ctx, "n4", good.n.Addr()); err != nil {
		t.Fatalf("probe of n4: %v", err)
	}
	if err := nodes[leader].n.AddServer(ctx, "n4", good.n.Addr()); err != nil {
		t.Fatalf("add n4: %v", err)
	}
	if _, err := good.n.Apply(ctx, []byte("from-n4")); err != nil {
		t.Fatalf("apply from n4: %v", err)
	}
	want := []string{"via-follower", "from-n4"}
	deadline = time.Now().Add(10 * time.Second)
	for !slices.Equal(good.fsm.list(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("n4 FSM = %v, want %v", good.fsm.list(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ss, err := nodes[leader].n.Servers()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if s.ID == "n5" {
			t.Fatal("rogue node in the raft configuration")
		}
	}
	waitLog(t, &rogueLogs, "bad certificate")
}
