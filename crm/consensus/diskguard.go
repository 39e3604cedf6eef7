package consensus

// Storage health (disk full, I/O errors).
//
// hashicorp/raft reacts to storage errors in three different ways: a leader
// whose StoreLogs fails steps down on its own; a failed vote is simply not
// granted; but a failed write of the current term panics. On a full disk the
// raw behaviour is a node that loses leadership, wins the next election again
// (small bbolt writes often still fit in freed pages), fails its first log
// write and steps down again: the cluster commits nothing until the disk
// frees, or the process dies.
//
// The guard wraps the raft log store, the stable store and the snapshot
// store. Any failed write marks the node's storage unhealthy (StorageHealth,
// StorageHealthCh) and logs an error naming the data directory. While
// unhealthy:
//
//   - the node does not vote for itself, so it can never win an election
//     (it still votes for others and follows the leader, accepting entries
//     whenever its disk takes them, so it catches up by itself);
//   - a leader hands leadership to another voter (storageLoop);
//   - every probeInterval a probe writes and syncs probeSize bytes in the
//     data directory; the first success marks the storage healthy again.
//
// A failed write of the current term is retried (blocking raft's main loop,
// so the node drops out of the cluster like a paused process) until it
// succeeds instead of letting raft panic; after Shutdown it parks for good,
// since neither an unsaved term nor a panic is acceptable.
//
// Committed data is never at risk: raft acknowledges an entry only once a
// quorum stored it, and a write that failed here was not acknowledged.

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// ErrStorageUnhealthy is returned (wrapped) for writes refused because the
// node's raft storage failed recently (see StorageHealth).
var ErrStorageUnhealthy = errors.New("raft storage unhealthy")

const (
	probeInterval = 500 * time.Millisecond
	// probeSize is what the probe writes: a disk with less room than this
	// counts as full (a raft log batch or a snapshot would not fit either).
	probeSize = 1 << 20
	probeFile = ".gocrm-disk-probe"
	// transferRetry spaces leadership transfer attempts of a leader with
	// failing storage (a single voter has nobody to hand over to).
	transferRetry = 5 * time.Second
)

// Keys raft keeps in the stable store (part of raft's on-disk format).
var (
	keyCurrentTerm  = []byte("CurrentTerm")
	keyLastVoteCand = []byte("LastVoteCand")
)

// StorageHealth describes the node's raft storage.
type StorageHealth struct {
	// Healthy is false from a failed write until a probe write succeeds.
	Healthy bool
	// Err is the first error of the current unhealthy period (nil when
	// healthy); Op names the failed operation ("store logs", "snapshot",
	// "set CurrentTerm", ...).
	Err   error
	Op    string
	Since time.Time
	// DataDir is the directory that failed.
	DataDir string
}

// String renders the problem for logs and status ("" when healthy).
func (h StorageHealth) String() string {
	if h.Healthy {
		return ""
	}
	return fmt.Sprintf("raft storage in %s failing since %s: %s: %v", h.DataDir, h.Since.UTC().Format(time.RFC3339), h.Op, h.Err)
}

// diskGuard tracks storage health; shared by the wrappers and the Node.
// Safe for concurrent use.
type diskGuard struct {
	dir  string
	log  *slog.Logger
	now  func() time.Time
	self []byte // this node's encoded raft address (its own vote)
	// fault, when set (tests), is consulted before every write and probe;
	// a non-nil result fails the operation.
	fault func(op string) error

	probeMu sync.Mutex // one probe at a time

	mu      sync.Mutex
	health  StorageHealth
	changed chan struct{} // latest-wins notification, cap 1
	closed  chan struct{}
	once    sync.Once
}

func newDiskGuard(dir string, log *slog.Logger, fault func(string) error) *diskGuard {
	return &diskGuard{dir: dir, log: log, now: time.Now, fault: fault,
		health:  StorageHealth{Healthy: true, DataDir: dir},
		changed: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (g *diskGuard) notify() {
	select {
	case g.changed <- struct{}{}:
	default:
	}
}

func (g *diskGuard) get() StorageHealth {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.health
}

func (g *diskGuard) healthy() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.health.Healthy
}

// failed records a failed write.
func (g *diskGuard) failed(op string, err error) {
	select {
	case <-g.closed:
		return // errors of a store being closed say nothing about the disk
	default:
	}
	g.mu.Lock()
	was := g.health.Healthy
	if was {
		g.health = StorageHealth{Healthy: false, Err: err, Op: op, Since: g.now(), DataDir: g.dir}
	}
	g.mu.Unlock()
	if was {
		g.log.Error("raft storage write failed: this node gives up leadership and stops campaigning until its disk accepts writes again; free space in the data dir",
			"data_dir", g.dir, "op", op, "err", err)
		g.notify()
	}
}

// recovered records a successful probe.
func (g *diskGuard) recovered() {
	g.mu.Lock()
	was := g.health
	g.health = StorageHealth{Healthy: true, DataDir: g.dir}
	g.mu.Unlock()
	if !was.Healthy {
		g.log.Info("raft storage writable again; this node may campaign for leadership again",
			"data_dir", g.dir, "unhealthy_for", g.now().Sub(was.Since).Round(time.Millisecond))
		g.notify()
	}
}

// check runs the test fault hook.
func (g *diskGuard) check(op string) error {
	if g.fault != nil {
		return g.fault(op)
	}
	return nil
}

// write runs one write through the fault hook and records its outcome.
func (g *diskGuard) write(op string, f func() error) error {
	err := g.check(op)
	if err == nil {
		err = f()
	}
	if err != nil {
		g.failed(op, err)
		return err
	}
	return nil
}

// probe writes and syncs probeSize bytes in the data dir, then removes them.
func (g *diskGuard) probe() error {
	g.probeMu.Lock()
	defer g.probeMu.Unlock()
	if err := g.check("probe"); err != nil {
		return err
	}
	p := filepath.Join(g.dir, probeFile)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("probe %s: %w", p, err)
	}
	_, err = f.Write(make([]byte, probeSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	_ = os.Remove(p)
	if err != nil {
		return fmt.Errorf("probe %s: %w", p, err)
	}
	return nil
}

// probeOnce probes if unhealthy; it reports whether storage is healthy.
func (g *diskGuard) probeOnce() bool {
	if g.healthy() {
		return true
	}
	if err := g.probe(); err != nil {
		g.log.Debug("storage probe failed", "data_dir", g.dir, "err", err)
		return false
	}
	g.recovered()
	return true
}

func (g *diskGuard) close() { g.once.Do(func() { close(g.closed) }) }

// guardedStore wraps the bolt log and stable store.
type guardedStore struct {
	g     *diskGuard
	logs  raft.LogStore
	store raft.StableStore
}

var (
	_ raft.LogStore    = (*guardedStore)(nil)
	_ raft.StableStore = (*guardedStore)(nil)
)

func (s *guardedStore) FirstIndex() (uint64, error)        { return s.logs.FirstIndex() }
func (s *guardedStore) LastIndex() (uint64, error)         { return s.logs.LastIndex() }
func (s *guardedStore) GetLog(i uint64, l *raft.Log) error { return s.logs.GetLog(i, l) }
func (s *guardedStore) Get(k []byte) ([]byte, error)       { return s.store.Get(k) }
func (s *guardedStore) GetUint64(k []byte) (uint64, error) { return s.store.GetUint64(k) }

func (s *guardedStore) StoreLog(l *raft.Log) error {
	return s.g.write("store log", func() error { return s.logs.StoreLog(l) })
}

func (s *guardedStore) StoreLogs(ls []*raft.Log) error {
	return s.g.write("store logs", func() error { return s.logs.StoreLogs(ls) })
}

func (s *guardedStore) DeleteRange(lo, hi uint64) error {
	return s.g.write("delete logs", func() error { return s.logs.DeleteRange(lo, hi) })
}

// Set refuses this node's vote for itself while storage is unhealthy (the
// node must not become leader); raft then abandons that election round.
func (s *guardedStore) Set(k, v []byte) error {
	if bytes.Equal(k, keyLastVoteCand) && len(s.g.self) > 0 && bytes.Equal(v, s.g.self) && !s.g.healthy() {
		return fmt.Errorf("no vote for self: %w", ErrStorageUnhealthy)
	}
	return s.g.write("set "+string(k), func() error { return s.store.Set(k, v) })
}

// SetUint64 retries a failed write of the current term until it succeeds
// (raft panics on that error); other keys fail normally.
func (s *guardedStore) SetUint64(k []byte, v uint64) error {
	op := "set " + string(k)
	err := s.g.write(op, func() error { return s.store.SetUint64(k, v) })
	if err == nil || !bytes.Equal(k, keyCurrentTerm) {
		return err
	}
	s.g.log.Error("cannot save the raft term: raft on this node waits until the disk accepts the write",
		"data_dir", s.g.dir, "term", v, "err", err)
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.g.closed:
			// Shutting down with the term unsaved: park this raft
			// goroutine for good rather than panic or proceed.
			s.g.log.Error("shut down while the raft term could not be saved; raft's main loop stays parked", "data_dir", s.g.dir)
			select {}
		case <-tick.C:
		}
		if !s.g.probeOnce() {
			continue
		}
		if err := s.g.write(op, func() error { return s.store.SetUint64(k, v) }); err == nil {
			s.g.log.Info("raft term saved after the disk recovered", "data_dir", s.g.dir, "term", v)
			return nil
		}
	}
}

// guardedSnapshots wraps the snapshot store; failures to create or write a
// snapshot count as storage failures.
type guardedSnapshots struct {
	g *diskGuard
	raft.SnapshotStore
}

func (s *guardedSnapshots) Create(version raft.SnapshotVersion, index, term uint64, conf raft.Configuration,
	confIndex uint64, trans raft.Transport) (raft.SnapshotSink, error) {
	var sink raft.SnapshotSink
	err := s.g.write("create snapshot", func() error {
		var err error
		sink, err = s.SnapshotStore.Create(version, index, term, conf, confIndex, trans)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &guardedSink{g: s.g, SnapshotSink: sink}, nil
}

type guardedSink struct {
	g *diskGuard
	raft.SnapshotSink
}

func (s *guardedSink) Write(p []byte) (int, error) {
	var n int
	err := s.g.write("write snapshot", func() error {
		var err error
		n, err = s.SnapshotSink.Write(p)
		return err
	})
	return n, err
}

func (s *guardedSink) Close() error {
	return s.g.write("close snapshot", s.SnapshotSink.Close)
}

// StorageHealth reports the state of this node's raft storage.
func (n *Node) StorageHealth() StorageHealth { return n.guard.get() }

// StorageHealthCh signals (latest-wins, capacity one) every change of
// StorageHealth; read the value with StorageHealth. Never closed.
func (n *Node) StorageHealthCh() <-chan struct{} { return n.storageCh }

// storageLoop owns the reaction to storage failures: a leader with failing
// storage transfers leadership, and an unhealthy node probes its disk until
// it takes writes again. It forwards health changes to StorageHealthCh.
func (n *Node) storageLoop() {
	defer n.wg.Done()
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	var lastTransfer time.Time
	for {
		select {
		case <-n.stop:
			return
		case <-n.guard.changed:
			select {
			case n.storageCh <- struct{}{}:
			default:
			}
		case <-tick.C:
		}
		if n.guard.healthy() {
			continue
		}
		if n.r().State() == raft.Leader && time.Since(lastTransfer) >= transferRetry {
			lastTransfer = time.Now()
			n.log.Warn("leader with failing storage: transferring leadership", "data_dir", n.cfg.DataDir)
			if err := n.LeadershipTransfer(); err != nil {
				n.log.Warn("leadership transfer failed", "err", err)
			}
		}
		n.guard.probeOnce()
	}
}
