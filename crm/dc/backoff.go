package dc

import (
	"hash/fnv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
)

// Recovery backoff.
//
// A resource that fails again right after every recovery (a monitor that
// fails at once after each start, with on-fail=restart and no
// migration-threshold) makes every transition fail and the next one plan the
// same recovery. Pacemaker re-plans at once each time, bounded only by how
// long the actions take; here that was about 13 restarts, 13 transitions and
// some 50 raft writes per second, enough load to disturb the rest of the
// cluster. The DC therefore delays planning after consecutive failed
// transitions that planned the same actions: the first retry runs at once,
// then the n-th consecutive failure waits backoffBase·2^(n-2), at most
// backoffMax. A failed transition with a different plan restarts the count. The wait applies
// only while nothing but operation results and failure counts changed: a
// configuration change, a node joining, leaving or changing state, or any
// other node attribute (standby, shutdown) is planned for at once. A
// transition that completes resets the streak.
//
// Start failures do not loop: with start-failure-is-fatal (the default) a
// failed start sets fail-count INFINITY, which bans the node, so a resource
// whose start fails everywhere is tried once per node and then stays
// stopped (the failures are listed in the status).
const (
	backoffBase = time.Second
	backoffMax  = 30 * time.Second
)

// backoffDelay is the planning delay after streak consecutive failed
// transitions.
func backoffDelay(streak int) time.Duration {
	if streak <= 1 {
		return 0
	}
	d := backoffBase
	for i := 2; i < streak && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// holdKey hashes what must not have changed for a backoff to keep holding:
// the configuration epoch, every node's membership fields and its
// transient attributes other than failure counts and times.
func holdKey(c *cib.CIB) uint64 {
	keep := func(name string) bool {
		return !strings.HasPrefix(name, "fail-count-") && !strings.HasPrefix(name, "last-failure-")
	}
	return hashNodes(c, keep, nil)
}

// hashNodes hashes the configuration epoch, quorum, every node's
// membership fields and the transient attributes keep accepts (all when
// keep is nil); more, when set, adds a node's further parts.
func hashNodes(c *cib.CIB, keep func(name string) bool, more func(w func(...string), ns *cib.NodeState)) uint64 {
	h := fnv.New64a()
	w := func(s ...string) {
		for _, x := range s {
			h.Write([]byte(x))
			h.Write([]byte{0})
		}
	}
	w(store.EpochString(c), c.GetAttr("have-quorum"))
	for _, ns := range c.Status.Nodes {
		w("node", ns.ID, ns.Uname, ns.InCCM, ns.Crmd, ns.Join, ns.Expected)
		for _, s := range ns.Transient {
			for _, p := range s.Pairs {
				if keep == nil || keep(p.Name) {
					w(p.Name, p.Value)
				}
			}
		}
		if more != nil {
			more(w, ns)
		}
	}
	return h.Sum64()
}

// noteTransitionEnd updates the failure streak when a transition ends and
// arms the backoff.
func (d *DC) noteTransitionEnd(now time.Time, failed bool) {
	if !failed {
		d.failStreak, d.failSig, d.holdUntil = 0, "", time.Time{}
		return
	}
	if d.planSig != d.failSig {
		// A different plan failed (a start banned from one node and
		// tried on the next): progress, not a loop.
		d.failStreak, d.failSig = 0, d.planSig
	}
	d.failStreak++
	delay := backoffDelay(d.failStreak)
	if delay == 0 {
		return
	}
	d.holdUntil, d.holdFor = now.Add(delay), holdKey(d.cfg.Store.Current())
	d.log.Warn("transitions keep failing: delaying the next recovery", "failed_in_a_row", d.failStreak, "delay", delay)
}

// holding reports whether planning waits for the backoff at now.
func (d *DC) holding(now time.Time) bool {
	if d.holdUntil.IsZero() {
		return false
	}
	if !now.Before(d.holdUntil) {
		d.holdUntil = time.Time{}
		return false
	}
	if holdKey(d.cfg.Store.Current()) != d.holdFor {
		d.holdUntil = time.Time{} // something else changed: plan now
		return false
	}
	return true
}
