package consensus

import (
	"slices"
	"testing"
	"time"
)

// A partitioned leader (minority side) cannot commit; the majority elects
// a new leader and keeps committing; after the partition heals the old
// leader steps down, its uncommitted write is discarded and every node
// converges on the majority's log, with nothing committed lost.
func TestPartitionedLeaderCannotCommit(t *testing.T) {
	c := newCluster(t, false, nil)
	c.bootstrap("n1", "n2", "n3")
	old := c.leader(5 * time.Second)
	ctx := ctxT(t, 30*time.Second)
	if _, err := c.nodes[old].Apply(ctx, []byte("before")); err != nil {
		t.Fatal(err)
	}
	for id := range c.nodes {
		c.waitEntries(id, []string{"before"}, 5*time.Second)
	}

	c.net.Isolate(c.addrs[old])
	// The isolated leader's write must not commit.
	short := ctxT(t, 2*time.Second)
	if _, err := c.nodes[old].Apply(short, []byte("minority")); err == nil {
		t.Fatal("the isolated leader committed a write")
	}
	// The majority elects a new leader and commits.
	var newLeader string
	deadline := time.Now().Add(10 * time.Second)
	for newLeader == "" && time.Now().Before(deadline) {
		for id, n := range c.nodes {
			if id == old {
				continue
			}
			if lid, _ := n.Leader(); lid != "" && lid != old {
				newLeader = lid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if newLeader == "" {
		t.Fatal("the majority elected no new leader")
	}
	if _, err := c.nodes[newLeader].Apply(ctx, []byte("majority")); err != nil {
		t.Fatalf("majority apply: %v", err)
	}

	c.net.Heal(c.addrs[old])
	want := []string{"before", "majority"}
	for id := range c.nodes {
		c.waitEntries(id, want, 10*time.Second)
	}
	for id, f := range c.fsms {
		if slices.Contains(f.list(), "minority") {
			t.Errorf("%s applied the partitioned leader's uncommitted write: %v", id, f.list())
		}
	}
	// The old leader has stepped down: exactly one leader remains.
	time.Sleep(500 * time.Millisecond)
	leaders := 0
	for id, n := range c.nodes {
		if lid, _ := n.Leader(); lid == id {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("%d nodes think they lead after the heal", leaders)
	}
}
