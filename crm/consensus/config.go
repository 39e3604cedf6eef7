package consensus

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrConfig is returned (wrapped) for an invalid Config.
var ErrConfig = errors.New("invalid consensus config")

// Timing is the raft timing profile. HeartbeatTimeout and ElectionTimeout
// drive failover: a follower that hears nothing from the leader for a random
// time in [HeartbeatTimeout, 2×HeartbeatTimeout) starts a (pre-)vote; a
// split vote retries after [ElectionTimeout, 2×ElectionTimeout). A leader that
// cannot reach a quorum for LeaderLeaseTimeout steps down. The leader
// heartbeats every HeartbeatTimeout/10.
//
// Trade-off: shorter timeouts mean faster failover, but any stall longer than
// HeartbeatTimeout (GC pause, fsync of raft.db, CPU starvation, a congested
// link) triggers a needless election, during which writes fail and the DC
// changes. Keep fsync latency and pauses well below HeartbeatTimeout/5.
type Timing struct {
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	// CommitTimeout bounds how long a follower may wait for the next
	// AppendEntries before an idle leader sends one; it sets the commit
	// latency floor when writes are sparse.
	CommitTimeout time.Duration
}

// DefaultTiming is the LAN profile: heartbeat and election 1 s, lease 1 s,
// commit 25 ms. A follower campaigns once it has heard nothing from the
// leader for a random 1-2 s; a leader steps down after 1 s without contact
// with a quorum. The lease equals the heartbeat timeout so that the leader
// tolerates the same stall as its followers: with hashicorp/raft's half-length
// lease, a leader whose host stalls for more than the lease (CPU starvation,
// a VM hiccup) steps down although no follower would have started an
// election, and the cluster pays a needless election and DC change.
//
// Measured (issue 7, 2-core shared machine, load 16-24 from other work plus
// stress-ng --cpu 2; three-node sandboxes with 12 Dummy resources run side by
// side under the same load, 60 s windows): the previous 500/500/250 ms
// profile (FastTiming) changed leader 1-4 times per minute, every time
// triggered by a leader lease step-down after a 0.5-0.7 s stall that hit all
// processes at once; this profile changed leader 0 times in the same
// windows. The cost is failover: after the leader dies, a new one is elected
// after 1.3-2.7 s (BenchmarkLeaderElectionTCP, 10 runs, 3 voters on
// loopback; median 2.1 s) instead of 0.66-1.16 s (median 1.07 s) with
// FastTiming. Leader loss itself is detected after 1-2 s.
var DefaultTiming = Timing{
	HeartbeatTimeout:   time.Second,
	ElectionTimeout:    time.Second,
	LeaderLeaseTimeout: time.Second,
	CommitTimeout:      25 * time.Millisecond,
}

// FastTiming is the aggressive LAN profile gocrm used before issue 7:
// heartbeat and election 500 ms, lease 250 ms, commit 25 ms; a new leader
// 0.66-1.16 s after the old one died (median 1.07 s, measured as above). It
// suits dedicated, lightly loaded hosts only: any stall of the leader longer
// than 250 ms makes it step down.
var FastTiming = Timing{
	HeartbeatTimeout:   500 * time.Millisecond,
	ElectionTimeout:    500 * time.Millisecond,
	LeaderLeaseTimeout: 250 * time.Millisecond,
	CommitTimeout:      25 * time.Millisecond,
}

// WANTiming is hashicorp/raft's own default profile (1 s/1 s/500 ms/50 ms),
// for links with more latency; its half-length lease makes the leader step
// down on stalls its followers tolerate (see DefaultTiming).
var WANTiming = Timing{
	HeartbeatTimeout:   time.Second,
	ElectionTimeout:    time.Second,
	LeaderLeaseTimeout: 500 * time.Millisecond,
	CommitTimeout:      50 * time.Millisecond,
}

// Validate enforces raft's own constraints with readable errors.
func (t Timing) Validate() error {
	const floor = 5 * time.Millisecond
	switch {
	case t.HeartbeatTimeout < floor || t.ElectionTimeout < floor || t.LeaderLeaseTimeout < floor || t.CommitTimeout < time.Millisecond:
		return fmt.Errorf("%w: timing %+v: every timeout must be at least 5ms", ErrConfig, t)
	case t.LeaderLeaseTimeout > t.HeartbeatTimeout:
		return fmt.Errorf("%w: LeaderLeaseTimeout %s exceeds HeartbeatTimeout %s", ErrConfig, t.LeaderLeaseTimeout, t.HeartbeatTimeout)
	case t.ElectionTimeout < t.HeartbeatTimeout:
		return fmt.Errorf("%w: ElectionTimeout %s is below HeartbeatTimeout %s", ErrConfig, t.ElectionTimeout, t.HeartbeatTimeout)
	}
	return nil
}

// Config configures a Node. Zero values mean the documented defaults.
type Config struct {
	// NodeID is the stable raft server ID (gocrm uses the node name, the
	// same as the membership name). Required.
	NodeID string
	// DataDir holds raft.db (log + stable store) and snapshots/. Required;
	// created with mode 0700 if missing.
	DataDir string
	// Transport carries raft and forwarded writes (NewTCPTransport,
	// NewStreamTransport or InmemNetwork.NewTransport). Required. The Node
	// takes ownership and closes it on Shutdown; a restarted Node needs a new
	// Transport.
	Transport *Transport
	// FSM is the replicated state machine. Required.
	FSM FSM
	// Logger is required; raft logs get component=raft.
	Logger *slog.Logger

	// Timing defaults to DefaultTiming.
	Timing Timing
	// BootstrapExpect enables MaybeBootstrap: the cluster bootstraps once
	// this many voters are known. 0 disables automatic bootstrap.
	BootstrapExpect int

	// SnapshotRetain is how many snapshots to keep (default 2).
	SnapshotRetain int
	// SnapshotInterval, SnapshotThreshold and TrailingLogs override raft's
	// defaults (120 s, 8192 entries, 10240 entries) when non-zero.
	SnapshotInterval  time.Duration
	SnapshotThreshold uint64
	TrailingLogs      uint64

	// ForwardTimeout bounds a forwarded call when the caller's context has
	// no deadline (default 10 s).
	ForwardTimeout time.Duration
	// PromotePollInterval is how often AddServer checks a non-voter's
	// progress (default 50 ms).
	PromotePollInterval time.Duration

	// storageFault (tests) is consulted before every raft storage write
	// and disk probe; a non-nil error fails the operation (diskguard.go).
	storageFault func(op string) error
}

func (c *Config) setDefaults() error {
	switch {
	case c.NodeID == "":
		return fmt.Errorf("%w: NodeID is required", ErrConfig)
	case c.DataDir == "":
		return fmt.Errorf("%w: DataDir is required", ErrConfig)
	case c.Transport == nil:
		return fmt.Errorf("%w: Transport is required", ErrConfig)
	case c.FSM == nil:
		return fmt.Errorf("%w: FSM is required", ErrConfig)
	case c.Logger == nil:
		return fmt.Errorf("%w: Logger is required", ErrConfig)
	case c.BootstrapExpect < 0:
		return fmt.Errorf("%w: BootstrapExpect %d is negative", ErrConfig, c.BootstrapExpect)
	}
	if c.Timing == (Timing{}) {
		c.Timing = DefaultTiming
	}
	if err := c.Timing.Validate(); err != nil {
		return err
	}
	if c.SnapshotRetain <= 0 {
		c.SnapshotRetain = 2
	}
	if c.ForwardTimeout <= 0 {
		c.ForwardTimeout = 10 * time.Second
	}
	if c.PromotePollInterval <= 0 {
		c.PromotePollInterval = 50 * time.Millisecond
	}
	return nil
}

// TimingProfiles names the timing profiles for command-line flags.
var TimingProfiles = map[string]Timing{"default": DefaultTiming, "fast": FastTiming, "wan": WANTiming}

// TimingByName returns a named profile ("default", "fast" or "wan").
func TimingByName(name string) (Timing, error) {
	t, ok := TimingProfiles[name]
	if !ok {
		return Timing{}, fmt.Errorf("%w: unknown raft timing profile %q (want default, fast or wan)", ErrConfig, name)
	}
	return t, nil
}
