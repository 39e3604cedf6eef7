package daemon

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/gocrm/gocrm/cib/store"
)

// localStops remembers the resources this node stopped on its own (the
// no-quorum-policy, stopLocal) and that no DC has acted on since. Such
// stops are never recorded (there was no quorum to record them), so the
// CIB still shows those resources running here once quorum returns; with
// their recurring monitors cancelled, nothing would ever notice. When the
// node re-announces itself (keeping the rest of its status), their history
// is deleted so that the DC probes them again.
//
// Safe for concurrent use.
type localStops struct {
	mu   sync.Mutex
	rscs map[string]bool
}

func (s *localStops) add(rsc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rscs == nil {
		s.rscs = map[string]bool{}
	}
	s.rscs[rsc] = true
}

// forget drops rsc: a DC acts on it, so the DC's view is current again.
func (s *localStops) forget(rsc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rscs, rsc)
}

// take returns and forgets the remembered resources, sorted.
func (s *localStops) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.rscs))
	for r := range s.rscs {
		out = append(out, r)
	}
	s.rscs = nil
	sort.Strings(out)
	return out
}

// forgetLocalStops deletes this node's history of the resources it
// stopped on its own since a DC last acted on them (see localStops).
func (d *Daemon) forgetLocalStops(ctx context.Context) error {
	for _, rsc := range d.rec.local.take() {
		if _, err := d.raft.Apply(ctx, store.Command{Op: store.OpDeleteHistory, Node: d.cfg.Name, Resource: rsc}.Encode()); err != nil {
			d.rec.local.add(rsc) // retried with the next announcement
			return fmt.Errorf("delete history of locally stopped %s: %w", rsc, err)
		}
		d.log.Info("history of a locally stopped resource deleted: the DC probes it again", "rsc", rsc)
	}
	return nil
}
