package consensus

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/membership"
)

// TestBootstrapExpectViaMembership wires real memberlist agents to TCP raft
// nodes the way crmd does: each node feeds its membership view into
// MaybeBootstrap on every event, and with BootstrapExpect=3 the cluster forms
// by itself once all three have gossiped.
func TestBootstrapExpectViaMembership(t *testing.T) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, true, func(cfg *Config) { cfg.BootstrapExpect = 3 })
	ids := []string{"n1", "n2", "n3"}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var agents []*membership.Agent
	var wg sync.WaitGroup
	for _, id := range ids {
		n := c.start(id)
		a, err := membership.New(membership.Config{
			NodeName: id, ClusterName: "it", BindAddr: "127.0.0.1",
			Keys: [][]byte{key}, RaftAddr: n.Addr(), Logger: testLogger(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		agents = append(agents, a)
		wg.Add(1)
		go func() { // owned by the test; ends when Shutdown closes Events
			defer wg.Done()
			for range a.Events() {
				if _, err := n.MaybeBootstrap(ctx, ServersFromMembers(a.Members())); err != nil {
					t.Logf("%s: MaybeBootstrap: %v (retried on next event)", id, err)
				}
			}
		}()
	}
	defer func() {
		for _, a := range agents {
			if err := a.Shutdown(ctx); err != nil {
				t.Error(err)
			}
		}
		wg.Wait()
	}()
	first, err := agents[0].LocalMember()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agents[1:] {
		if _, err := a.Join(ctx, []string{first.Addr.String()}); err != nil {
			t.Fatal(err)
		}
	}
	leader := c.leader(10 * time.Second)
	ss, err := c.nodes[leader].Servers()
	if err != nil || len(ss) != 3 {
		t.Fatalf("servers = %+v, %v", ss, err)
	}
	if _, err := c.nodes[c.follower(leader)].Apply(ctx, []byte("formed")); err != nil {
		t.Fatal(err)
	}
}
