package sandbox

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// FakeKiller is an in-memory Killer for tests: a set of nodes that are
// running or killed. It is safe for concurrent use.
type FakeKiller struct {
	mu      sync.Mutex
	running map[string]bool
	kills   []string
}

// NewFakeKiller returns a killer with nodes running.
func NewFakeKiller(nodes ...string) *FakeKiller {
	k := &FakeKiller{running: map[string]bool{}}
	for _, n := range nodes {
		k.running[n] = true
	}
	return k
}

// Kill implements Killer.
func (k *FakeKiller) Kill(ctx context.Context, node string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.running[node]; !ok {
		return fmt.Errorf("kill %s: unknown node", node)
	}
	k.running[node] = false
	k.kills = append(k.kills, node)
	return nil
}

// Running implements Killer.
func (k *FakeKiller) Running(_ context.Context, node string) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	up, ok := k.running[node]
	if !ok {
		return false, fmt.Errorf("unknown node %s", node)
	}
	return up, nil
}

// Nodes implements Killer.
func (k *FakeKiller) Nodes(context.Context) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]string, 0, len(k.running))
	for n := range k.running {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// Restart marks node running again (a sandbox harness restarting crmd).
func (k *FakeKiller) Restart(node string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.running[node] = true
}

// Kills returns the killed nodes in order.
func (k *FakeKiller) Kills() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.kills...)
}
