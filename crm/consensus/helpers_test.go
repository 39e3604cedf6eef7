package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// listFSM records applied commands. "fail:..." commands are rejected;
// "echo:x" returns x; anything else returns the index as JSON.
type listFSM struct {
	mu       sync.Mutex
	entries  []string
	restores int
}

func (f *listFSM) Apply(index uint64, cmd []byte) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := string(cmd)
	f.entries = append(f.entries, s)
	switch {
	case strings.HasPrefix(s, "fail:"):
		return errors.New("rejected " + s)
	case strings.HasPrefix(s, "echo:"):
		return strings.TrimPrefix(s, "echo:")
	}
	return map[string]uint64{"index": index}
}

func (f *listFSM) Snapshot() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return json.Marshal(f.entries)
}

func (f *listFSM) Restore(b []byte) error {
	var e []string
	if err := json.Unmarshal(b, &e); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = e
	f.restores++
	return nil
}

func (f *listFSM) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.entries)
}

func (f *listFSM) restoreCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.restores
}

// cluster is a set of nodes on an InmemNetwork (or TCP when tcp is set).
type cluster struct {
	t     testing.TB
	net   *InmemNetwork
	tcp   bool
	mod   func(*Config)
	nodes map[string]*Node
	fsms  map[string]*listFSM
	dirs  map[string]string
	addrs map[string]string
}

func newCluster(t testing.TB, tcp bool, mod func(*Config)) *cluster {
	c := &cluster{t: t, net: NewInmemNetwork(), tcp: tcp, mod: mod,
		nodes: map[string]*Node{}, fsms: map[string]*listFSM{}, dirs: map[string]string{}, addrs: map[string]string{}}
	t.Cleanup(func() {
		for id := range c.nodes {
			c.stop(id)
		}
	})
	return c
}

// start creates (or restarts, reusing the data dir) node id.
func (c *cluster) start(id string) *Node {
	c.t.Helper()
	if _, ok := c.dirs[id]; !ok {
		c.dirs[id] = dataDir(c.t)
	}
	var tr *Transport
	if c.tcp {
		bind := "127.0.0.1:0"
		if a, ok := c.addrs[id]; ok {
			bind = a // restart on the same port
		}
		var err error
		tr, err = NewTCPTransport(bind, nil, testLogger(c.t))
		if err != nil {
			c.t.Fatal(err)
		}
	} else {
		addr := "inmem-" + id
		if a, ok := c.addrs[id]; ok {
			addr = a
		}
		tr = c.net.NewTransport(addr)
	}
	c.addrs[id] = tr.LocalAddr()
	fsm := &listFSM{}
	cfg := Config{NodeID: id, DataDir: c.dirs[id], Transport: tr, FSM: fsm, Logger: testLogger(c.t)}
	if c.mod != nil {
		c.mod(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		c.t.Fatalf("New(%s): %v", id, err)
	}
	c.nodes[id], c.fsms[id] = n, fsm
	return n
}

func (c *cluster) stop(id string) {
	c.t.Helper()
	n := c.nodes[id]
	if n == nil {
		return
	}
	delete(c.nodes, id)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		c.t.Errorf("Shutdown(%s): %v", id, err)
	}
}

func (c *cluster) servers(ids ...string) []Server {
	var out []Server
	for _, id := range ids {
		out = append(out, Server{ID: id, Address: c.addrs[id], Voter: true})
	}
	return out
}

// bootstrap starts ids and bootstraps them all with the same configuration.
func (c *cluster) bootstrap(ids ...string) {
	c.t.Helper()
	for _, id := range ids {
		c.start(id)
	}
	for _, id := range ids {
		if err := c.nodes[id].Bootstrap(context.Background(), c.servers(ids...)); err != nil {
			c.t.Fatalf("Bootstrap(%s): %v", id, err)
		}
	}
}

// leader waits for exactly one running node to be leader and returns its id.
func (c *cluster) leader(timeout time.Duration) string {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var leaders []string
		for id, n := range c.nodes {
			if n.IsLeader() {
				leaders = append(leaders, id)
			}
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("no single leader within %s", timeout)
	return ""
}

func (c *cluster) follower(leader string) string {
	for id := range c.nodes {
		if id != leader {
			return id
		}
	}
	c.t.Fatal("no follower")
	return ""
}

// waitEntries waits until node id's FSM holds want.
func (c *cluster) waitEntries(id string, want []string, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := c.fsms[id].list()
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s FSM = %v, want %v", id, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dataDir returns a fresh data directory, on tmpfs (/dev/shm) when
// available: bbolt fsyncs on a loaded CI disk can stall raft for seconds,
// longer than DefaultTiming tolerates, which would make the functional tests
// flaky. Restart tests still exercise real reopening of raft.db.
func dataDir(t testing.TB) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "gocrm-consensus-test-"); err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func cmds(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}
