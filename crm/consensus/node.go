package consensus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// Sentinel errors (raft's own sentinels, such as raft.ErrNotLeader, are
// wrapped where they apply and also work with errors.Is).
var (
	// ErrAlreadyBootstrapped: the node already has raft state.
	ErrAlreadyBootstrapped = errors.New("raft cluster already bootstrapped")
	// ErrShutdown is returned after Shutdown.
	ErrShutdown = errors.New("consensus node shut down")
)

// logCacheSize is the number of recent log entries cached in memory.
const logCacheSize = 512

// promoteMaxLag is how far (in entries) a non-voter's log may trail the
// leader's commit index and still count as caught up, so that promotion
// terminates under a steady write load. It equals raft's default
// MaxAppendEntries: one replication round.
const promoteMaxLag = 64

// Server is one member of the raft configuration.
type Server struct {
	ID      string
	Address string
	// Voter is false for a non-voter (still catching up, see AddServer).
	Voter bool
}

// Result is the outcome of a committed command.
type Result struct {
	// Index is the raft log index the command was committed at.
	Index uint64
	// Data is the FSM response, normalised to bytes (see FSM.Apply).
	Data []byte
}

// LeaderState is one observation of leadership, as seen by this node.
type LeaderState struct {
	// IsLeader is true while this node is the raft leader (the DC). Actuate
	// only after a successful Barrier in the same term, and stop at once
	// when a later LeaderState says false.
	IsLeader bool
	// LeaderID and LeaderAddr identify the current leader; empty while
	// there is none (election in progress or no quorum).
	LeaderID   string
	LeaderAddr string
	Term       uint64
}

// Node is one raft server. All methods are safe for concurrent use.
type Node struct {
	cfg   Config
	log   *slog.Logger
	store *raftboltdb.BoltStore
	trans *Transport
	// stable is store behind the disk guard (diskguard.go); guard tracks
	// storage health, storageCh forwards its changes.
	stable    raft.StableStore
	guard     *diskGuard
	storageCh chan struct{}

	// cur is the running *raft.Raft; ForceSingleVoter replaces it (see
	// recover.go), so every use goes through r().
	cur atomic.Pointer[raft.Raft]
	// The pieces a raft restart reuses: configuration, log (with cache),
	// snapshots, and this generation's detachable view of the transport.
	rconf *raft.Config
	logs  raft.LogStore
	snaps raft.SnapshotStore
	gen   *detachable
	// restartMu serialises ForceSingleVoter with itself and Shutdown.
	restartMu sync.Mutex

	leaderCh chan LeaderState
	obsCh    chan raft.Observation
	observer *raft.Observer

	stop         chan struct{}
	shutdownOnce sync.Once
	shutdownErr  error
	wg           sync.WaitGroup

	mu           sync.Mutex
	last         LeaderState
	bootstrapped bool
	conns        map[net.Conn]struct{}
	closed       bool
}

// New opens (or creates) the node's storage under cfg.DataDir and starts
// raft. A node without raft state stays a follower without peers until it is
// bootstrapped (Bootstrap, MaybeBootstrap) or added by a leader (AddServer).
// A node with state resumes its previous configuration.
//
// On error everything opened so far, including cfg.Transport, is closed.
func New(cfg Config) (*Node, error) {
	if err := cfg.setDefaults(); err != nil {
		if cfg.Transport != nil {
			_ = cfg.Transport.Close()
		}
		return nil, err
	}
	n, err := open(cfg)
	if err != nil {
		_ = cfg.Transport.Close()
		return nil, err
	}
	return n, nil
}

func open(cfg Config) (*Node, error) {
	log := cfg.Logger.With("component", "consensus", "node", cfg.NodeID)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create raft data dir: %w", err)
	}
	dbPath := filepath.Join(cfg.DataDir, "raft.db")
	store, err := raftboltdb.New(raftboltdb.Options{
		Path: dbPath,
		// A second process on the same data dir fails instead of blocking
		// forever on bbolt's file lock.
		BoltOptions:             &bbolt.Options{Timeout: time.Second},
		MsgpackUseNewTimeFormat: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open raft store %s: %w", dbPath, err)
	}
	hcl := NewHCLogger(cfg.Logger.With("component", "raft", "node", cfg.NodeID))
	// FileSnapshotStore keeps snapshots in DataDir/snapshots.
	fsnaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, cfg.SnapshotRetain, hcl)
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("open snapshot store in %s: %w", cfg.DataDir, err)
	}
	guard := newDiskGuard(cfg.DataDir, log, cfg.storageFault)
	guard.self = cfg.Transport.raft.EncodePeer(raft.ServerID(cfg.NodeID), raft.ServerAddress(cfg.Transport.raft.LocalAddr()))
	gs := &guardedStore{g: guard, logs: store, store: store}
	snaps := raft.SnapshotStore(&guardedSnapshots{g: guard, SnapshotStore: fsnaps})
	logs, err := raft.NewLogCache(logCacheSize, gs)
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("raft log cache: %w", err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.HeartbeatTimeout = cfg.Timing.HeartbeatTimeout
	rc.ElectionTimeout = cfg.Timing.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.Timing.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.Timing.CommitTimeout
	if cfg.SnapshotInterval > 0 {
		rc.SnapshotInterval = cfg.SnapshotInterval
	}
	if cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = cfg.SnapshotThreshold
	}
	if cfg.TrailingLogs > 0 {
		rc.TrailingLogs = cfg.TrailingLogs
	}
	// A removed server keeps running as a follower outside the configuration
	// so that it can be re-admitted (e.g. after fencing) without a restart.
	rc.ShutdownOnRemove = false
	rc.Logger = hcl
	if err := raft.ValidateConfig(rc); err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	existing, err := raft.HasExistingState(logs, gs, snaps)
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("inspect raft state: %w", err)
	}
	gen := newDetachable(cfg.Transport.raft)
	r, err := raft.NewRaft(rc, fsmAdapter{cfg.FSM}, logs, gs, snaps, gen)
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n := &Node{
		cfg:          cfg,
		log:          log,
		rconf:        rc,
		logs:         logs,
		snaps:        snaps,
		gen:          gen,
		store:        store,
		stable:       gs,
		guard:        guard,
		storageCh:    make(chan struct{}, 1),
		trans:        cfg.Transport,
		leaderCh:     make(chan LeaderState, 1),
		obsCh:        make(chan raft.Observation, 64),
		stop:         make(chan struct{}),
		conns:        map[net.Conn]struct{}{},
		bootstrapped: existing,
	}
	n.cur.Store(r)
	n.observer = n.newObserver()
	r.RegisterObserver(n.observer)
	n.wg.Add(3)
	go n.observe()
	go n.serveForward()
	go n.storageLoop()
	log.Info("raft started", "addr", cfg.Transport.LocalAddr(), "data_dir", cfg.DataDir,
		"existing_state", existing, "heartbeat", cfg.Timing.HeartbeatTimeout, "election", cfg.Timing.ElectionTimeout)
	return n, nil
}

// newObserver returns an observer feeding obsCh with leadership changes.
func (n *Node) newObserver() *raft.Observer {
	return raft.NewObserver(n.obsCh, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState:
			return true
		}
		return false
	})
}

// r returns the running raft instance.
func (n *Node) r() *raft.Raft { return n.cur.Load() }

// ID returns the node's raft server ID.
func (n *Node) ID() string { return n.cfg.NodeID }

// Addr returns the node's raft address.
func (n *Node) Addr() string { return n.trans.LocalAddr() }

// observe turns raft observations (plus a periodic re-check, in case the
// non-blocking observer dropped one) into LeaderState updates.
func (n *Node) observe() {
	defer n.wg.Done()
	tick := time.NewTicker(n.cfg.Timing.HeartbeatTimeout / 2)
	defer tick.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-n.obsCh:
		case <-tick.C:
		}
		n.publish()
	}
}

func (n *Node) current() LeaderState {
	addr, id := n.r().LeaderWithID()
	return LeaderState{
		IsLeader:   n.r().State() == raft.Leader,
		LeaderID:   string(id),
		LeaderAddr: string(addr),
		Term:       n.r().CurrentTerm(),
	}
}

func (n *Node) publish() {
	st := n.current()
	n.mu.Lock()
	defer n.mu.Unlock()
	if st == n.last || n.closed {
		return
	}
	if st.IsLeader != n.last.IsLeader || st.LeaderID != n.last.LeaderID {
		n.log.Info("leadership changed", "is_leader", st.IsLeader, "leader", st.LeaderID, "term", st.Term)
	}
	n.last = st
	// Latest value wins: replace an unread older observation.
	select {
	case <-n.leaderCh:
	default:
	}
	n.leaderCh <- st
}

// LeaderCh delivers leadership observations. It never blocks raft: the
// channel holds one value and a newer observation replaces an unread older
// one, so intermediate flips can be skipped but the latest state is always
// delivered. A consumer that needs the current value at any time can also
// call Leader or IsLeader. Closed by Shutdown.
func (n *Node) LeaderCh() <-chan LeaderState { return n.leaderCh }

// IsLeader reports whether this node currently believes it is the leader.
func (n *Node) IsLeader() bool { return n.r().State() == raft.Leader }

// Leader returns the current leader's ID and address ("" if unknown).
func (n *Node) Leader() (id, addr string) {
	a, i := n.r().LeaderWithID()
	return string(i), string(a)
}

// Apply replicates cmd and returns its Result once the leader has applied
// it. On a follower the command is forwarded to the leader (see forward.go).
// ctx bounds finding a leader, enqueueing and forwarding; once the leader has
// accepted the entry the call waits until it is applied or leadership is
// lost. An FSM rejection is a *CommandError (the entry is still committed).
// Errors wrapping raft.ErrLeadershipLost or ErrForward mean the outcome is
// unknown.
func (n *Node) Apply(ctx context.Context, cmd []byte) (Result, error) {
	if n.isClosed() {
		return Result{}, ErrShutdown
	}
	if n.r().State() == raft.Leader {
		idx, data, err := n.applyLocal(cmd, timeoutFrom(ctx, n.cfg.ForwardTimeout))
		if !errors.Is(err, raft.ErrNotLeader) {
			return Result{Index: idx, Data: data}, err
		}
	}
	return n.forwardApply(ctx, cmd)
}

// applyLocal applies on this node, which must be the leader.
func (n *Node) applyLocal(cmd []byte, timeout time.Duration) (uint64, []byte, error) {
	f := n.r().Apply(cmd, timeout)
	if err := f.Error(); err != nil {
		return 0, nil, fmt.Errorf("raft apply: %w", err)
	}
	data, err := normalize(f.Index(), f.Response())
	return f.Index(), data, err
}

// Barrier blocks until every entry committed before the call has been
// applied to the local FSM. Only the leader can issue it; the DC calls it
// once after gaining leadership and before acting on FSM state.
func (n *Node) Barrier(ctx context.Context) error {
	if err := n.r().Barrier(timeoutFrom(ctx, n.cfg.ForwardTimeout)).Error(); err != nil {
		return fmt.Errorf("raft barrier: %w", err)
	}
	return nil
}

// VerifyLeader confirms with a quorum that this node is still the leader
// (for linearizable reads and before fencing decisions).
func (n *Node) VerifyLeader(ctx context.Context) error {
	errCh := make(chan error, 1)
	f := n.r().VerifyLeader()
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return ErrShutdown
	}
	n.wg.Add(1) // under mu: Shutdown sets closed before waiting
	n.mu.Unlock()
	go func() { // raft resolves the future within a lease or at shutdown
		defer n.wg.Done()
		errCh <- f.Error()
	}()
	select {
	case err := <-errCh:
		if err != nil {
			return fmt.Errorf("verify leader: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("verify leader: %w", ctx.Err())
	}
}

func (n *Node) localStats() (Stats, error) {
	s := Stats{
		State:        n.r().State(),
		Term:         n.r().CurrentTerm(),
		LastIndex:    n.r().LastIndex(),
		CommitIndex:  n.r().CommitIndex(),
		AppliedIndex: n.r().AppliedIndex(),
	}
	f := n.r().GetConfiguration()
	if err := f.Error(); err != nil {
		return s, fmt.Errorf("raft configuration: %w", err)
	}
	s.Servers = len(f.Configuration().Servers)
	return s, nil
}

// Stats returns this node's raft indexes and state.
func (n *Node) Stats() (Stats, error) { return n.localStats() }

// Servers returns the latest raft configuration, sorted by ID.
func (n *Node) Servers() ([]Server, error) {
	f := n.r().GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("raft configuration: %w", err)
	}
	var out []Server
	for _, s := range f.Configuration().Servers {
		out = append(out, Server{ID: string(s.ID), Address: string(s.Address), Voter: s.Suffrage == raft.Voter})
	}
	slices.SortFunc(out, func(a, b Server) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Bootstrap explicitly creates the initial configuration with servers as
// voters (this node must be among them). Every initial server may call it
// with the identical list; a node that already has state returns
// ErrAlreadyBootstrapped.
func (n *Node) Bootstrap(ctx context.Context, servers []Server) error {
	conf, err := n.configuration(servers)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err = n.r().BootstrapCluster(conf).Error()
	n.mu.Lock()
	n.bootstrapped = true
	n.mu.Unlock()
	if errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("%w: %w", ErrAlreadyBootstrapped, err)
	}
	if err != nil {
		return fmt.Errorf("bootstrap raft: %w", err)
	}
	n.log.Info("bootstrapped raft cluster", "servers", len(conf.Servers))
	return nil
}

func (n *Node) configuration(servers []Server) (raft.Configuration, error) {
	seen := map[string]bool{}
	var conf raft.Configuration
	self := false
	for _, s := range servers {
		if s.ID == "" || s.Address == "" {
			return conf, fmt.Errorf("%w: bootstrap server %+v needs an ID and an address", ErrConfig, s)
		}
		if seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		self = self || s.ID == n.cfg.NodeID
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(s.ID), Address: raft.ServerAddress(s.Address)})
	}
	if !self {
		return conf, fmt.Errorf("%w: bootstrap servers do not include this node %q", ErrConfig, n.cfg.NodeID)
	}
	// Identical order on every node, so concurrent bootstraps agree.
	slices.SortFunc(conf.Servers, func(a, b raft.Server) int { return cmp.Compare(a.ID, b.ID) })
	return conf, nil
}

// MaybeBootstrap implements bootstrap-expect. Call it with the voters known
// from membership (ServersFromMembers) whenever membership changes. It
// bootstraps (and returns true) once, when at least Config.BootstrapExpect
// voters including this node are known, this node has no raft state, and
// none of the others reports raft state (asked over the forwarding RPC; an
// existing cluster must add new nodes with AddServer instead). An
// unreachable peer yields an error and no bootstrap: call again on the next
// membership event. It returns false without error when BootstrapExpect is
// 0, too few voters are known or the cluster already exists.
func (n *Node) MaybeBootstrap(ctx context.Context, voters []Server) (bool, error) {
	if n.cfg.BootstrapExpect == 0 {
		return false, nil
	}
	n.mu.Lock()
	done := n.bootstrapped
	n.mu.Unlock()
	if done || n.r().LastIndex() > 0 {
		return false, nil
	}
	conf, err := n.configuration(voters)
	if err != nil {
		return false, err
	}
	if len(conf.Servers) < n.cfg.BootstrapExpect {
		return false, nil
	}
	for _, s := range conf.Servers {
		if string(s.ID) == n.cfg.NodeID {
			continue
		}
		st, err := n.RemoteStats(ctx, string(s.Address))
		if err != nil {
			return false, fmt.Errorf("bootstrap-expect: ask %s about existing state: %w", s.ID, err)
		}
		if st.LastIndex > 0 || st.Servers > 0 {
			n.log.Info("bootstrap-expect: peer already has raft state; waiting to be added", "peer", string(s.ID))
			n.mu.Lock()
			n.bootstrapped = true
			n.mu.Unlock()
			return false, nil
		}
	}
	var list []Server
	for _, s := range conf.Servers {
		list = append(list, Server{ID: string(s.ID), Address: string(s.Address), Voter: true})
	}
	if err := n.Bootstrap(ctx, list); err != nil {
		if errors.Is(err, ErrAlreadyBootstrapped) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// AddServer adds a server to the cluster safely: first as a non-voter (it
// does not affect quorum while it copies the log or a snapshot), then, once
// its log holds the configuration entry that added it and trails the
// leader's commit index by at most one replication batch (64 entries), as a
// voter. Progress is polled over the forwarding RPC (RemoteStats). Leader only
// (errors.Is(err, raft.ErrNotLeader) otherwise). Idempotent for a server
// already in the configuration as a voter at addr. If ctx ends before the
// server catches up it stays a non-voter; calling AddServer again resumes.
func (n *Node) AddServer(ctx context.Context, id, addr string) error {
	servers, err := n.Servers()
	if err != nil {
		return err
	}
	for _, s := range servers {
		if s.ID == id && s.Address == addr && s.Voter {
			return nil
		}
	}
	timeout := timeoutFrom(ctx, n.cfg.ForwardTimeout)
	f := n.r().AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, timeout)
	if err := f.Error(); err != nil {
		return fmt.Errorf("add non-voter %s at %s: %w", id, addr, err)
	}
	addIndex := f.Index()
	n.log.Info("added non-voter", "server", id, "addr", addr, "index", addIndex)
	tick := time.NewTicker(n.cfg.PromotePollInterval)
	defer tick.Stop()
	for {
		if n.r().State() != raft.Leader {
			return fmt.Errorf("promote %s: %w", id, raft.ErrNotLeader)
		}
		commit := n.r().CommitIndex()
		st, err := n.RemoteStats(ctx, addr)
		if err == nil && st.LastIndex >= addIndex && st.LastIndex+promoteMaxLag >= commit {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("promote %s: still catching up (last error: %v): %w", id, err, ctx.Err())
		case <-n.stop:
			return ErrShutdown
		case <-tick.C:
		}
	}
	vf := n.r().AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, timeoutFrom(ctx, n.cfg.ForwardTimeout))
	if err := vf.Error(); err != nil {
		return fmt.Errorf("promote %s to voter: %w", id, err)
	}
	n.log.Info("promoted to voter", "server", id, "index", vf.Index())
	return nil
}

// RemoveServer removes a server from the configuration. Leader only. This is
// the only way servers leave the configuration: membership failures never
// remove voters automatically (only a fenced, dead node should be removed).
func (n *Node) RemoveServer(ctx context.Context, id string) error {
	f := n.r().RemoveServer(raft.ServerID(id), 0, timeoutFrom(ctx, n.cfg.ForwardTimeout))
	if err := f.Error(); err != nil {
		return fmt.Errorf("remove server %s: %w", id, err)
	}
	n.log.Info("removed server", "server", id, "index", f.Index())
	return nil
}

// Snapshot forces an FSM snapshot and log compaction now. It returns an error
// wrapping raft.ErrNothingNewToSnapshot when nothing was applied since the
// last one.
func (n *Node) Snapshot(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := n.r().Snapshot().Error(); err != nil {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	return nil
}

// LeadershipTransfer asks raft to hand leadership to the most up-to-date
// voter (for example before a planned shutdown of the DC).
func (n *Node) LeadershipTransfer() error {
	if err := n.r().LeadershipTransfer().Error(); err != nil {
		return fmt.Errorf("leadership transfer: %w", err)
	}
	return nil
}

func (n *Node) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

func (n *Node) trackConn(c net.Conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		_ = c.Close()
		return false
	}
	n.conns[c] = struct{}{}
	return true
}

func (n *Node) untrackConn(c net.Conn) {
	n.mu.Lock()
	delete(n.conns, c)
	n.mu.Unlock()
	_ = c.Close()
}

// Shutdown stops raft (without leaving the configuration: peers see a
// failure), closes the transport and the store, waits for the node's
// goroutines and closes LeaderCh. Idempotent. ctx bounds the wait for raft
// to stop.
func (n *Node) Shutdown(ctx context.Context) error {
	n.shutdownOnce.Do(func() {
		n.restartMu.Lock()
		defer n.restartMu.Unlock()
		n.mu.Lock()
		n.closed = true
		conns := make([]net.Conn, 0, len(n.conns))
		for c := range n.conns {
			conns = append(conns, c)
		}
		n.mu.Unlock()
		close(n.stop)
		n.guard.close()
		n.r().DeregisterObserver(n.observer)
		n.gen.detach() // RPCs blocked on an unreachable peer return now

		var errs []error
		done := make(chan error, 1)
		f := n.r().Shutdown()
		go func() { done <- f.Error() }()
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, fmt.Errorf("raft shutdown: %w", err))
			}
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("raft shutdown: %w", ctx.Err()))
		}
		if err := n.trans.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close transport: %w", err))
		}
		for _, c := range conns {
			_ = c.Close()
		}
		n.wg.Wait()
		if err := n.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close raft store: %w", err))
		}
		close(n.leaderCh)
		n.shutdownErr = errors.Join(errs...)
		n.log.Info("raft stopped")
	})
	return n.shutdownErr
}
