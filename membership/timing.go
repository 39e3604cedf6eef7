package membership

import (
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/memberlist"
)

// DefaultFailureDetection is the default detection budget (probe interval
// 200 ms). On loopback and on a quiet LAN a crashed peer of a 2- or 3-node
// cluster is declared failed in about 1-1.2 s (measured by
// BenchmarkFailureDetection, 3 nodes, 16 runs: median 1.0 s, max 1.29 s); a
// suspicion caused by a delayed ack under CPU load is normally refuted by the
// suspect long before the 600 ms suspicion timer ends
// (TestNoFalsePositiveUnderCPULoad).
const DefaultFailureDetection = 1200 * time.Millisecond

// MinFailureDetection is the smallest accepted budget. Below it the probe
// timeout drops under ~25 ms and scheduling jitter alone causes suspicions.
const MinFailureDetection = 300 * time.Millisecond

const (
	// budgetProbes is how many probe intervals the budget covers: for a
	// 3-node cluster, up to 2 intervals until the dead peer's turn in the
	// round-robin, 1 failed probe round and suspicionMult intervals of
	// suspicion.
	budgetProbes = 6
	// suspicionMult is memberlist's SuspicionMult. The design rule is to
	// never go below 3: in a 2-node cluster there are no indirect probers
	// and a single lost packet must not kill a healthy peer.
	suspicionMult = 3
	// suspicionMaxMult caps how long an unconfirmed suspicion may last in
	// clusters of 4+ nodes (memberlist's Lifeguard starts at the maximum and
	// shrinks toward the minimum with each independent confirmation).
	suspicionMaxMult = 4
)

// Timing is the set of memberlist parameters derived from one
// FailureDetection budget. It exists so operators and the CLI can print the
// effective values; change the budget, not the fields.
type Timing struct {
	ProbeInterval           time.Duration
	ProbeTimeout            time.Duration
	SuspicionMult           int
	SuspicionMaxTimeoutMult int
	GossipInterval          time.Duration
}

// TimingFor maps a failure-detection budget onto memberlist parameters:
//
//	ProbeInterval  = budget / 6
//	ProbeTimeout   = ProbeInterval / 2   (rest of the interval: indirect + TCP fallback probes)
//	SuspicionMult  = 3                   (suspicion lasts 3 probe intervals, scaled by log10(N) for N >= 10)
//	SuspicionMaxTimeoutMult = 4          (worst case for unconfirmed suspicions, N >= 4)
//	GossipInterval = ProbeInterval / 2   (suspect/dead news and refutations spread fast)
//
// budget must be at least MinFailureDetection (zero means the default).
func TimingFor(budget time.Duration) (Timing, error) {
	if budget == 0 {
		budget = DefaultFailureDetection
	}
	if budget < MinFailureDetection {
		return Timing{}, fmt.Errorf("failure detection budget %s is below the minimum %s", budget, MinFailureDetection)
	}
	pi := budget / budgetProbes
	return Timing{
		ProbeInterval:           pi,
		ProbeTimeout:            pi / 2,
		SuspicionMult:           suspicionMult,
		SuspicionMaxTimeoutMult: suspicionMaxMult,
		GossipInterval:          pi / 2,
	}, nil
}

// Suspicion returns memberlist's minimum and maximum suspicion timeout for a
// cluster of n nodes: min = SuspicionMult × max(1, log10 n) × ProbeInterval,
// max = SuspicionMaxTimeoutMult × min. Below 4 nodes (no independent
// confirmations are expected) memberlist applies min directly.
func (t Timing) Suspicion(n int) (minTimeout, maxTimeout time.Duration) {
	scale := math.Max(1, math.Log10(math.Max(1, float64(n))))
	minTimeout = time.Duration(float64(t.SuspicionMult) * scale * float64(t.ProbeInterval))
	return minTimeout, time.Duration(t.SuspicionMaxTimeoutMult) * minTimeout
}

// Detection estimates the time from a crash until the Failed event for a
// cluster of n nodes. typical assumes the dead node is probed within one
// interval and suspicion is confirmed (or n < 4); worst assumes the longest
// round-robin wait and, for n >= 4, no confirmation at all. Awareness
// back-off (a locally degraded node probes up to 8× slower) is not included.
func (t Timing) Detection(n int) (typical, worst time.Duration) {
	if n < 2 {
		n = 2
	}
	minS, maxS := t.Suspicion(n)
	typical = 2*t.ProbeInterval + minS
	wait := time.Duration(n-1) * t.ProbeInterval
	if n < 4 {
		maxS = minS
	}
	return typical, wait + t.ProbeInterval + maxS
}

// String renders the parameters for logs and status output.
func (t Timing) String() string {
	return fmt.Sprintf("probe_interval=%s probe_timeout=%s suspicion_mult=%d suspicion_max_mult=%d gossip_interval=%s",
		t.ProbeInterval, t.ProbeTimeout, t.SuspicionMult, t.SuspicionMaxTimeoutMult, t.GossipInterval)
}

func (t Timing) apply(c *memberlist.Config) {
	c.ProbeInterval = t.ProbeInterval
	c.ProbeTimeout = t.ProbeTimeout
	c.SuspicionMult = t.SuspicionMult
	c.SuspicionMaxTimeoutMult = t.SuspicionMaxTimeoutMult
	c.GossipInterval = t.GossipInterval
}
