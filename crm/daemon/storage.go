package daemon

import (
	"context"
	"time"

	"github.com/gocrm/gocrm/cib/store"
)

// StorageAttr is the transient node attribute that shows a node's raft
// storage problem (a full or failing disk under its data dir) in the CIB,
// and so in `crm status` (node attributes) and to every other node. It is
// removed once the node's disk accepts writes again.
const StorageAttr = "gocrm-storage-error"

// storageLoop keeps StorageAttr of this node in line with the health of its
// raft storage (consensus.Node.StorageHealth). The write goes through the
// raft leader, which is a healthy node: a node whose storage fails never
// leads (see crm/consensus/diskguard.go) and, if its raft cannot even save
// a new term, reaches the leader through its peers. It re-checks every two
// seconds, since a write may fail (no leader yet) and a status reset may
// drop the attribute.
func (d *Daemon) storageLoop(ctx context.Context) {
	if d.cfg.Arbiter {
		// Arbiters are not CIB nodes; the consensus layer logs the problem.
		return
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	reported := ""
	// written and writtenAt remember the last value written: the local
	// CIB of a node whose raft waits on its disk does not show it.
	written, writtenAt := "", time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.raft.StorageHealthCh():
		case <-tick.C:
		}
		h := d.raft.StorageHealth()
		want := h.String()
		if want != reported {
			if want != "" {
				d.log.Error("raft storage failing: this node will not be DC until its disk accepts writes", "problem", want)
			} else if reported != "" {
				d.log.Info("raft storage healthy again", "data_dir", h.DataDir)
			}
			reported = want
		}
		if id, _ := d.raft.Leader(); id == "" && h.Healthy {
			// (With failing storage this node may not learn the leader;
			// its Apply then finds the leader through its peers.)
			continue
		}
		if transientAttr(d.store.Current(), d.cfg.Name, StorageAttr) == want {
			continue
		}
		if want != "" && written == want && time.Since(writtenAt) < 30*time.Second {
			continue
		}
		if want == "" && nodeStateOf(d.store.Current(), d.cfg.Name) == nil {
			continue
		}
		c := store.Command{Op: store.OpSetNodeAttr, Node: d.cfg.Name, Name: StorageAttr, Value: want, Transient: true}
		if want == "" {
			c = store.Command{Op: store.OpDeleteNodeAttr, Node: d.cfg.Name, Name: StorageAttr, Transient: true}
		}
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := d.raft.Apply(actx, c.Encode())
		cancel()
		if err != nil {
			d.log.Warn("cannot record the storage state in the CIB", "err", err)
			continue
		}
		written, writtenAt = want, time.Now()
	}
}
