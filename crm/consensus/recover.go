package consensus

// Forced single-voter recovery (design D2, two-node-mode).
//
// A two-voter raft cluster cannot elect a leader once one voter is gone.
// After the other node has been fenced (confirmed), the survivor rewrites
// its own raft configuration to {self} and restarts raft in-process:
//
//	old.Shutdown()                      // the transport stays open (see detachable)
//	append the caller's records to the log
//	raft.RecoverCluster(conf, scratchFSM, logs, stable, snaps, trans, {self})
//	raft.NewRaft(conf, fsm, logs, stable, snaps, trans)   // single voter → leader
//
// The Node wrapper survives the restart: LeaderCh, Apply, forwarding, the
// observer and every other method switch to the new *raft.Raft (they read it
// through Node.r). RecoverCluster commits every entry of the local log,
// including an uncommitted tail; only the legitimate leader can have
// appended those, so this is accepted (and documented in the design).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// ErrRecover is wrapped by ForceSingleVoter failures.
var ErrRecover = errors.New("forced single-voter recovery failed")

// errDetached is returned by RPCs of a raft generation that was shut down.
var errDetached = errors.New("raft transport detached from a stopped raft instance")

// detachable is the view of the node's raft transport given to one raft
// instance. raft closes a transport implementing raft.WithClose when it shuts
// down, and waits for its RPC goroutines first; a detachable hides Close (the
// Node closes the real transport itself) and, once detached, makes blocked
// RPCs of the old instance return at once instead of after a dial timeout
// towards an unreachable peer. The underlying call keeps running in its own
// goroutine until the transport's own timeout and its result is discarded.
// Safe for concurrent use.
type detachable struct {
	raft.Transport
	done chan struct{}
	once sync.Once

	mu        sync.Mutex
	pipelines map[*detachablePipeline]struct{}
}

func newDetachable(t raft.Transport) *detachable {
	return &detachable{Transport: t, done: make(chan struct{}), pipelines: map[*detachablePipeline]struct{}{}}
}

// detach makes every pending and future RPC fail with errDetached and closes
// the pipelines still open (their senders may wait on a full window).
func (d *detachable) detach() {
	d.once.Do(func() {
		close(d.done)
		d.mu.Lock()
		ps := d.pipelines
		d.pipelines = nil
		d.mu.Unlock()
		for p := range ps {
			_ = p.AppendPipeline.Close()
		}
	})
}

// detachablePipeline is a pipeline of a detachable generation.
type detachablePipeline struct {
	raft.AppendPipeline
	d *detachable
}

// AppendEntries fails once the generation is detached (a full pipeline
// window would otherwise block raft's shutdown for the transport timeout).
func (p *detachablePipeline) AppendEntries(args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	var f raft.AppendFuture
	err := p.d.call(func() error {
		var err error
		f, err = p.AppendPipeline.AppendEntries(args, resp)
		return err
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Close closes the pipeline and forgets it.
func (p *detachablePipeline) Close() error {
	p.d.mu.Lock()
	delete(p.d.pipelines, p)
	p.d.mu.Unlock()
	return p.AppendPipeline.Close()
}

// call runs f unless (or until) the generation is detached.
func (d *detachable) call(f func() error) error {
	select {
	case <-d.done:
		return errDetached
	default:
	}
	res := make(chan error, 1)
	go func() { res <- f() }()
	select {
	case err := <-res:
		return err
	case <-d.done:
		return errDetached
	}
}

// AppendEntriesPipeline may dial the peer (up to the transport timeout when
// it is unreachable), so it is detachable too; a pipeline opened after the
// detach is closed at once.
func (d *detachable) AppendEntriesPipeline(id raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	type result struct {
		p   raft.AppendPipeline
		err error
	}
	select {
	case <-d.done:
		return nil, errDetached
	default:
	}
	ch := make(chan result, 1)
	go func() {
		p, err := d.Transport.AppendEntriesPipeline(id, target)
		ch <- result{p, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		dp := &detachablePipeline{AppendPipeline: r.p, d: d}
		d.mu.Lock()
		if d.pipelines == nil { // detached meanwhile
			d.mu.Unlock()
			_ = r.p.Close()
			return nil, errDetached
		}
		d.pipelines[dp] = struct{}{}
		d.mu.Unlock()
		return dp, nil
	case <-d.done:
		go func() {
			if r := <-ch; r.p != nil {
				_ = r.p.Close()
			}
		}()
		return nil, errDetached
	}
}

func (d *detachable) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	var out raft.AppendEntriesResponse
	err := d.call(func() error { return d.Transport.AppendEntries(id, target, args, &out) })
	if err == nil {
		*resp = out
	}
	return err
}

func (d *detachable) RequestVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestVoteRequest, resp *raft.RequestVoteResponse) error {
	var out raft.RequestVoteResponse
	err := d.call(func() error { return d.Transport.RequestVote(id, target, args, &out) })
	if err == nil {
		*resp = out
	}
	return err
}

// RequestPreVote forwards to the underlying transport (both the TCP and the
// in-memory transport support pre-vote).
func (d *detachable) RequestPreVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	pv, ok := d.Transport.(raft.WithPreVote)
	if !ok {
		return fmt.Errorf("transport %T does not support pre-vote", d.Transport)
	}
	var out raft.RequestPreVoteResponse
	err := d.call(func() error { return pv.RequestPreVote(id, target, args, &out) })
	if err == nil {
		*resp = out
	}
	return err
}

func (d *detachable) InstallSnapshot(id raft.ServerID, target raft.ServerAddress, args *raft.InstallSnapshotRequest, resp *raft.InstallSnapshotResponse, data io.Reader) error {
	var out raft.InstallSnapshotResponse
	err := d.call(func() error { return d.Transport.InstallSnapshot(id, target, args, &out, data) })
	if err == nil {
		*resp = out
	}
	return err
}

func (d *detachable) TimeoutNow(id raft.ServerID, target raft.ServerAddress, args *raft.TimeoutNowRequest, resp *raft.TimeoutNowResponse) error {
	var out raft.TimeoutNowResponse
	err := d.call(func() error { return d.Transport.TimeoutNow(id, target, args, &out) })
	if err == nil {
		*resp = out
	}
	return err
}

// ForceSingleVoter rewrites this node's raft configuration to a single voter
// (itself) and restarts raft in-process, so that it elects itself leader
// without its former peer. Use it ONLY after the peer was confirmed fenced:
// two nodes doing it at once split the brain.
//
// records are FSM commands appended to the local log before the rewrite, so
// they are part of the recovered state before any leader work starts (the
// fencing record of two-node-mode). scratch must be a fresh, empty FSM of the
// same kind as Config.FSM: RecoverCluster replays the log into it to build
// the snapshot the new instance starts from. The live FSM is then restored
// from that snapshot.
//
// It returns once the new instance is leader (or ctx ends: raft keeps
// running and will still elect itself). Concurrent callers are serialised;
// calls racing with Shutdown return ErrShutdown.
func (n *Node) ForceSingleVoter(ctx context.Context, scratch FSM, records [][]byte) error {
	if scratch == nil {
		return fmt.Errorf("%w: a scratch FSM is required", ErrRecover)
	}
	r, err := n.restart(scratch, records)
	if err != nil {
		return err
	}
	// restart started the instance with short election timers (see there);
	// the configured ones apply again from here on.
	defer func() {
		if err := r.ReloadConfig(raft.ReloadableConfig{TrailingLogs: n.rconf.TrailingLogs, SnapshotInterval: n.rconf.SnapshotInterval,
			SnapshotThreshold: n.rconf.SnapshotThreshold, HeartbeatTimeout: n.rconf.HeartbeatTimeout, ElectionTimeout: n.rconf.ElectionTimeout}); err != nil {
			n.log.Warn("restoring raft timers after the forced recovery", "err", err)
		}
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for r.State() != raft.Leader {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting to become leader: %w", ErrRecover, ctx.Err())
		case <-n.stop:
			return ErrShutdown
		case <-tick.C:
		}
	}
	n.publish()
	return nil
}

// restart is ForceSingleVoter's swap of the raft instance, under restartMu.
func (n *Node) restart(scratch FSM, records [][]byte) (*raft.Raft, error) {
	n.restartMu.Lock()
	defer n.restartMu.Unlock()
	if n.isClosed() {
		return nil, ErrShutdown
	}
	start := time.Now()
	old := n.r()
	old.DeregisterObserver(n.observer)
	n.gen.detach()
	if err := old.Shutdown().Error(); err != nil {
		return nil, fmt.Errorf("%w: stop raft: %w", ErrRecover, err)
	}
	if err := n.appendRecords(records); err != nil {
		return nil, err
	}
	gen := newDetachable(n.trans.raft)
	self := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(n.cfg.NodeID), Address: gen.LocalAddr()}}}
	if err := raft.RecoverCluster(n.rconf, fsmAdapter{scratch}, n.logs, n.stable, n.snaps, gen, self); err != nil {
		return nil, fmt.Errorf("%w: rewrite configuration: %w", ErrRecover, err)
	}
	// The single voter elects itself after one heartbeat timeout; start it
	// with the shortest valid one (the leader lease) to save about half a
	// timeout. ForceSingleVoter restores the configured timers.
	fast := *n.rconf
	fast.HeartbeatTimeout, fast.ElectionTimeout = n.rconf.LeaderLeaseTimeout, n.rconf.LeaderLeaseTimeout
	r, err := raft.NewRaft(&fast, fsmAdapter{n.cfg.FSM}, n.logs, n.stable, n.snaps, gen)
	if err != nil {
		return nil, fmt.Errorf("%w: restart raft: %w", ErrRecover, err)
	}
	n.gen = gen
	n.cur.Store(r)
	n.observer = n.newObserver()
	r.RegisterObserver(n.observer)
	n.mu.Lock()
	n.bootstrapped = true
	n.mu.Unlock()
	n.publish()
	n.log.Warn("raft configuration forced to a single voter", "records", len(records), "took", time.Since(start))
	return r, nil
}

// appendRecords appends commands to the (stopped) raft log with the term of
// the last entry.
func (n *Node) appendRecords(records [][]byte) error {
	if len(records) == 0 {
		return nil
	}
	last, err := n.logs.LastIndex()
	if err != nil {
		return fmt.Errorf("%w: last log index: %w", ErrRecover, err)
	}
	term := uint64(0)
	if last > 0 {
		var l raft.Log
		if err := n.logs.GetLog(last, &l); err == nil {
			term = l.Term
		}
	}
	if term == 0 {
		// The log may have been compacted into a snapshot: use the current
		// term (never lower than any existing entry's).
		if t, err := n.stable.GetUint64([]byte("CurrentTerm")); err == nil {
			term = t
		}
	}
	if term == 0 {
		term = 1
	}
	if snaps, err := n.snaps.List(); err == nil && len(snaps) > 0 && snaps[0].Index > last {
		last = snaps[0].Index
	}
	entries := make([]*raft.Log, 0, len(records))
	now := time.Now()
	for i, rec := range records {
		entries = append(entries, &raft.Log{Index: last + 1 + uint64(i), Term: term, Type: raft.LogCommand, Data: rec, AppendedAt: now})
	}
	if err := n.logs.StoreLogs(entries); err != nil {
		return fmt.Errorf("%w: append records: %w", ErrRecover, err)
	}
	return nil
}
