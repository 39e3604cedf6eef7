package daemon

import (
	"context"
	"time"
)

// quorumLoop applies no-quorum-policy locally when no raft leader has been
// known for longer than the lease (a minority partition cannot write the
// CIB, so nobody else can tell this node what to do).
func (d *Daemon) quorumLoop(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var lostAt time.Time
	applied := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if id, _ := d.raft.Leader(); id != "" {
			if applied {
				d.log.Info("quorum regained; re-announcing this node")
				applied = false
				select {
				case d.reannounce <- struct{}{}:
				default:
				}
			}
			lostAt = time.Time{}
			continue
		}
		now := time.Now()
		if lostAt.IsZero() {
			lostAt = now
			continue
		}
		if applied || now.Sub(lostAt) < d.cfg.QuorumLease || d.cfg.Arbiter {
			continue
		}
		// Only a node that was part of a cluster has something to lose.
		if nodeStateOf(d.store.Current(), d.cfg.Name) == nil {
			continue
		}
		if d.tn.active() {
			// two-node-mode: the pair freezes and the fence race decides
			// (twonode.go); nothing is applied here, so nothing is
			// re-announced when quorum returns.
			continue
		}
		applied = true
		policy := crmOption(d.store.Current(), "no-quorum-policy")
		if policy == "" {
			policy = "stop"
		}
		d.log.Warn("quorum lost: applying no-quorum-policy locally", "policy", policy, "since", lostAt)
		switch policy {
		case "freeze", "ignore", "demote":
		case "suicide", "fence":
			if d.cfg.OnSuicide != nil {
				d.cfg.OnSuicide()
			} else {
				d.log.Error("no-quorum-policy asks for self-fencing but no handler is configured")
			}
		default:
			sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			d.stopLocal(sctx, "no quorum")
			cancel()
		}
	}
}
