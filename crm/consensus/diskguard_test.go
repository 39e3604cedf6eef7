package consensus

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// diskFaults fails chosen storage operations of chosen nodes with ENOSPC.
type diskFaults struct {
	mu   sync.Mutex
	full map[string]func(op string) bool // node -> which ops fail
}

func (f *diskFaults) hook(node string) func(string) error {
	return func(op string) error {
		f.mu.Lock()
		fails := f.full[node]
		f.mu.Unlock()
		if fails != nil && fails(op) {
			return fmt.Errorf("injected: %w", syscall.ENOSPC)
		}
		return nil
	}
}

func (f *diskFaults) set(node string, fails func(op string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full == nil {
		f.full = map[string]func(string) bool{}
	}
	f.full[node] = fails
}

// TestLeaderWithFullDiskStepsDown fills the leader's disk (log writes fail
// with ENOSPC): the leader must step down, a healthy node must take over
// within a few seconds and commit while the disk stays full, the full node
// must never lead meanwhile and must report the problem, and after the disk
// frees it must catch up. "all writes" also fails the term and vote writes
// (raft would panic on the term), "log writes" only the log (small bbolt
// writes often still fit in freed pages).
func TestLeaderWithFullDiskStepsDown(t *testing.T) {
	modes := map[string]func(op string) bool{
		"log writes": func(op string) bool {
			return strings.HasPrefix(op, "store log") || op == "probe"
		},
		"all writes": func(string) bool { return true },
	}
	for _, name := range []string{"log writes", "all writes"} {
		t.Run(name, func(t *testing.T) {
			faults := &diskFaults{}
			c := newCluster(t, false, func(cfg *Config) { cfg.storageFault = faults.hook(cfg.NodeID) })
			c.bootstrap("a", "b", "c")
			old := c.leader(10 * time.Second)
			var want []string
			for _, cmd := range cmds("pre", 3) {
				if _, err := c.nodes[old].Apply(ctxT(t, 5*time.Second), []byte(cmd)); err != nil {
					t.Fatalf("apply %s: %v", cmd, err)
				}
				want = append(want, cmd)
			}
			for id := range c.nodes {
				c.waitEntries(id, want, 5*time.Second)
			}

			// Every time the full node becomes leader again (only to fail
			// its first write) is an election the cluster lost.
			obs := make(chan raft.Observation, 64)
			ob := raft.NewObserver(obs, false, func(o *raft.Observation) bool {
				st, ok := o.Data.(raft.RaftState)
				return ok && st == raft.Leader
			})
			faults.set(old, modes[name])
			c.nodes[old].r().RegisterObserver(ob)
			full := time.Now()
			// The write that hits the full disk fails (the outcome may be
			// reported as lost leadership); it must not be committed.
			if _, err := c.nodes[old].Apply(ctxT(t, 5*time.Second), []byte("lost")); err == nil {
				t.Fatal("apply on the leader with a full disk succeeded")
			}

			var leader string
			for leader == "" || leader == old {
				if time.Since(full) > 10*time.Second {
					t.Fatalf("no healthy leader within 10s of the disk filling (leader %q)", leader)
				}
				time.Sleep(10 * time.Millisecond)
				for id, n := range c.nodes {
					if n.IsLeader() {
						leader = id
					}
				}
			}
			t.Logf("new leader %s %s after the disk filled", leader, time.Since(full).Round(time.Millisecond))

			h := c.nodes[old].StorageHealth()
			if h.Healthy || !errors.Is(h.Err, syscall.ENOSPC) || h.DataDir != c.dirs[old] || !strings.Contains(h.String(), c.dirs[old]) {
				t.Fatalf("storage health of %s = %+v (%q), want unhealthy with ENOSPC naming its data dir", old, h, h.String())
			}
			select {
			case <-c.nodes[old].StorageHealthCh():
			case <-time.After(2 * time.Second):
				t.Fatal("no storage health notification")
			}

			// Commits continue while the disk stays full, and the full
			// node never leads again.
			// The full node can still have commands committed (its own
			// status report): through the leader, found via its peers when
			// its raft waits on a term it cannot save.
			if _, err := c.nodes[old].Apply(ctxT(t, 10*time.Second), []byte("from-full")); err != nil {
				t.Fatalf("apply on the node with the full disk: %v", err)
			}
			want = append(want, "from-full")
			for _, cmd := range cmds("during", 5) {
				if _, err := c.nodes[leader].Apply(ctxT(t, 5*time.Second), []byte(cmd)); err != nil {
					t.Fatalf("apply %s during the full disk: %v", cmd, err)
				}
				want = append(want, cmd)
			}
			time.Sleep(2 * time.Second) // several election timeouts
			c.nodes[old].r().DeregisterObserver(ob)
			if n := len(obs) + int(ob.GetNumDropped()); n > 0 {
				t.Fatalf("%s became leader %d times while its disk was full", old, n)
			}
			for id := range c.nodes {
				if id != old {
					c.waitEntries(id, want, 5*time.Second)
				}
			}
			if got := c.fsms[old].list(); len(got) >= len(want) {
				t.Fatalf("%s applied %v with a full disk", old, got)
			}

			faults.set(old, nil)
			freed := time.Now()
			c.waitEntries(old, want, 10*time.Second)
			deadline := time.Now().Add(5 * time.Second)
			for !c.nodes[old].StorageHealth().Healthy {
				if time.Now().After(deadline) {
					t.Fatalf("%s storage still unhealthy 5s after the disk freed", old)
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("%s caught up %s after the disk freed", old, time.Since(freed).Round(time.Millisecond))
			// And it is a working member again: a new entry reaches it.
			ld := c.leader(10 * time.Second)
			if _, err := c.nodes[ld].Apply(ctxT(t, 5*time.Second), []byte("after")); err != nil {
				t.Fatal(err)
			}
			c.waitEntries(old, append(want, "after"), 5*time.Second)
		})
	}
}

// TestSelfVoteRefusedWhileUnhealthy checks the guard's vote rule directly.
func TestSelfVoteRefusedWhileUnhealthy(t *testing.T) {
	g := newDiskGuard(t.TempDir(), testLogger(t), nil)
	g.self = []byte("me:1")
	mem := raft.NewInmemStore()
	s := &guardedStore{g: g, logs: mem, store: mem}
	if err := s.Set(keyLastVoteCand, []byte("me:1")); err != nil {
		t.Fatalf("healthy self vote: %v", err)
	}
	g.failed("store logs", syscall.ENOSPC)
	if err := s.Set(keyLastVoteCand, []byte("me:1")); !errors.Is(err, ErrStorageUnhealthy) {
		t.Fatalf("unhealthy self vote: err = %v, want ErrStorageUnhealthy", err)
	}
	if err := s.Set(keyLastVoteCand, []byte("other:1")); err != nil {
		t.Fatalf("unhealthy vote for another node: %v", err)
	}
	if !g.probeOnce() || !g.healthy() {
		t.Fatal("probe on a writable dir did not restore health")
	}
	if err := s.Set(keyLastVoteCand, []byte("me:1")); err != nil {
		t.Fatalf("recovered self vote: %v", err)
	}
}

// TestSnapshotFailureTransfersLeadership: a leader whose snapshot writes
// fail (its log writes still work) hands leadership to a healthy voter and
// reports the problem; once the disk works again it may lead again.
func TestSnapshotFailureTransfersLeadership(t *testing.T) {
	faults := &diskFaults{}
	c := newCluster(t, false, func(cfg *Config) { cfg.storageFault = faults.hook(cfg.NodeID) })
	c.bootstrap("a", "b", "c")
	old := c.leader(10 * time.Second)
	for _, cmd := range cmds("x", 3) {
		if _, err := c.nodes[old].Apply(ctxT(t, 5*time.Second), []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	faults.set(old, func(op string) bool { return strings.Contains(op, "snapshot") || op == "probe" })
	if err := c.nodes[old].Snapshot(ctxT(t, 5*time.Second)); err == nil {
		t.Fatal("snapshot on a failing disk succeeded")
	}
	if h := c.nodes[old].StorageHealth(); h.Healthy || !strings.Contains(h.Op, "snapshot") {
		t.Fatalf("health after a failed snapshot: %+v", h)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ld := ""
		for id, n := range c.nodes {
			if n.IsLeader() {
				ld = id
			}
		}
		if ld != "" && ld != old {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s kept leadership with failing snapshots", old)
		}
		time.Sleep(10 * time.Millisecond)
	}
	faults.set(old, nil)
	deadline = time.Now().Add(5 * time.Second)
	for !c.nodes[old].StorageHealth().Healthy {
		if time.Now().After(deadline) {
			t.Fatal("storage not healthy again after the disk recovered")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
