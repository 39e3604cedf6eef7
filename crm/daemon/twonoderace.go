package daemon

import (
	"time"

	"github.com/gocrm/gocrm/stonith/fsm"
)

// This file is the pure decision unit of two-node-mode (design D2): when a
// node of a two-voter pair freezes, when it fences its peer, and with which
// delay. No I/O and no wall clock: the caller (twonode.go) passes the time
// and its observations in; tests drive it with a fake clock.

// racePhase is where a node is in the two-node life cycle.
type racePhase int

const (
	// phaseWaitAll: since start, this node has not yet heard a leader whose
	// two-voter configuration lists it (corosync's wait_for_all). It starts
	// nothing and never races: a fenced node that comes back is harmless.
	phaseWaitAll racePhase = iota
	// phaseArmed: normal operation with both voters (or alone after a
	// recovery, with nothing to race for).
	phaseArmed
	// phaseFrozen: the peer is lost; keep resources, start nothing, and
	// fence the peer once the race delay has passed.
	phaseFrozen
	// phaseFencing: the fence of the peer is in progress.
	phaseFencing
	// phaseRecovering: the peer was fenced (confirmed); raft is being
	// forced to a single voter.
	phaseRecovering
)

func (p racePhase) String() string {
	switch p {
	case phaseWaitAll:
		return "wait-for-all"
	case phaseArmed:
		return "armed"
	case phaseFrozen:
		return "frozen"
	case phaseFencing:
		return "fencing"
	case phaseRecovering:
		return "recovering"
	}
	return "unknown"
}

// raceObs is one observation of the cluster as seen by this node.
type raceObs struct {
	Now time.Time
	// Enabled: two-node-mode is set and valid (cib.CheckTwoNodeMode).
	Enabled bool
	// LeaderKnown: a raft leader (this node or the peer) is known now.
	LeaderKnown bool
	// SelfVoter and PeerVoter: the current raft configuration lists this
	// node / the peer as voters.
	SelfVoter, PeerVoter bool
	// PeerAlive: gossip membership sees the peer alive.
	PeerAlive bool
}

// raceVerdict is what the caller must do after Step.
type raceVerdict int

const (
	verdictNone   raceVerdict = iota
	verdictFreeze             // peer lost: freeze now, the race delay runs
	verdictThaw               // contact is back before anything was fenced
	verdictFence              // fence the peer now, then call FenceDone
)

// twoNodeRace decides, for one node of a pair, when to fence the peer.
// Not safe for concurrent use: one goroutine (the two-node loop) owns it.
type twoNodeRace struct {
	// detect is how long without leader contact counts as peer loss (a
	// peer declared dead by gossip counts at once).
	detect time.Duration
	// retry is the wait before fencing again after a failed attempt.
	retry time.Duration

	phase     racePhase
	noLeader  time.Time // since when no leader is known (zero: leader known)
	lostAt    time.Time // when the peer was declared lost
	fireAt    time.Time // when to fence
	lastDelay time.Duration
}

func newTwoNodeRace(detect, retry time.Duration) *twoNodeRace {
	return &twoNodeRace{detect: detect, retry: retry}
}

// Phase returns the current phase.
func (r *twoNodeRace) Phase() racePhase { return r.phase }

// StartAllowed reports whether this node may start resources: not while
// waiting for all, nor while the pair is split.
func (r *twoNodeRace) StartAllowed(enabled bool) bool {
	return !enabled || r.phase == phaseArmed
}

// Frozen reports whether the pair is split (resources are kept as they are;
// the local no-quorum-policy must not stop them).
func (r *twoNodeRace) Frozen() bool {
	return r.phase == phaseFrozen || r.phase == phaseFencing || r.phase == phaseRecovering
}

// Step feeds one observation. delay is called once per race to draw the
// race delay (see raceDelay).
func (r *twoNodeRace) Step(o raceObs, delay func() time.Duration) raceVerdict {
	if o.LeaderKnown {
		r.noLeader = time.Time{}
	} else if r.noLeader.IsZero() {
		r.noLeader = o.Now
	}
	if !o.Enabled {
		// Mode off (or refused): plain raft semantics, nothing to decide.
		// A node that was frozen thaws; a node waiting for all is released
		// only by a leader, as usual.
		switch r.phase {
		case phaseFrozen:
			r.phase = phaseArmed
			return verdictThaw
		case phaseWaitAll:
			if o.LeaderKnown && o.SelfVoter {
				r.phase = phaseArmed
			}
		}
		return verdictNone
	}
	contact := o.LeaderKnown && o.PeerAlive
	switch r.phase {
	case phaseWaitAll:
		if o.LeaderKnown && o.SelfVoter && o.PeerVoter && o.PeerAlive {
			r.phase = phaseArmed
		} else if o.LeaderKnown && o.SelfVoter && !o.PeerVoter {
			// Alone in a single-voter configuration with a leader (this
			// node recovered earlier and restarted): nothing to wait for.
			r.phase = phaseArmed
		}
		return verdictNone
	case phaseArmed:
		if !o.PeerVoter {
			return verdictNone // single voter: the peer is not needed
		}
		lost := !o.PeerAlive || (!r.noLeader.IsZero() && o.Now.Sub(r.noLeader) >= r.detect)
		if !lost {
			return verdictNone
		}
		r.phase = phaseFrozen
		r.lostAt = o.Now
		r.lastDelay = delay()
		r.fireAt = o.Now.Add(r.lastDelay)
		return verdictFreeze
	case phaseFrozen:
		if contact && o.PeerVoter && o.SelfVoter {
			r.phase = phaseArmed
			return verdictThaw
		}
		if !o.Now.Before(r.fireAt) {
			r.phase = phaseFencing
			return verdictFence
		}
	}
	return verdictNone
}

// FenceDone reports the outcome of the fence started on verdictFence. A
// confirmed fence moves to recovery (call Recovered when raft is forced to a
// single voter); a failure waits retry and races again.
func (r *twoNodeRace) FenceDone(now time.Time, confirmed bool) {
	if r.phase != phaseFencing {
		return
	}
	if confirmed {
		r.phase = phaseRecovering
		return
	}
	r.phase = phaseFrozen
	r.fireAt = now.Add(r.retry)
}

// Recovered reports the end of the forced single-voter recovery. On
// failure the node stays frozen and retries the recovery after retry (the
// peer is already fenced: fencing it again is harmless).
func (r *twoNodeRace) Recovered(now time.Time, ok bool) {
	if r.phase != phaseRecovering {
		return
	}
	if ok {
		r.phase = phaseArmed
		r.noLeader = time.Time{}
		return
	}
	r.phase = phaseFrozen
	r.fireAt = now.Add(r.retry)
}

// raceDelayInput is what the race delay depends on.
type raceDelayInput struct {
	Self, Target string
	// Base is pcmk_delay_base for the target and Max pcmk_delay_max, of the
	// first device that can fence the target.
	Base, Max time.Duration
	// PriorityDelay is priority-fencing-delay; SelfPriority and
	// TargetPriority the total priority of the resources each node runs.
	PriorityDelay                time.Duration
	SelfPriority, TargetPriority int
}

// raceDelay is how long a node waits before fencing its peer: the static
// pcmk_delay_base for the target, plus a random part keeping the sum within
// pcmk_delay_max, plus priority-fencing-delay when the target runs the more
// important resources (so that node wins the race). rnd(n) returns a value
// in [0, n).
func raceDelay(in raceDelayInput, rnd func(n int64) int64) time.Duration {
	d := in.Base
	if in.Max > in.Base && rnd != nil {
		d += time.Duration(rnd(int64(in.Max-in.Base) + 1))
	}
	if in.PriorityDelay > 0 && fsm.PriorityDelayApplies(in.Target, map[string]int{in.Target: in.TargetPriority, in.Self: in.SelfPriority}) {
		d += in.PriorityDelay
	}
	return d
}
