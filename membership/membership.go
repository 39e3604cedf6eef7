package membership

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Sentinel errors.
var (
	// ErrConfig is returned (wrapped) for an invalid Config.
	ErrConfig = errors.New("invalid membership config")
	// ErrNotStarted is returned by operations that need a started Agent.
	ErrNotStarted = errors.New("membership agent not started")
	// ErrShutdown is returned after Shutdown.
	ErrShutdown = errors.New("membership agent shut down")
	// ErrJoin is returned (wrapped) when no seed could be joined.
	ErrJoin = errors.New("join failed")
)

// DefaultEventBuffer is the default capacity of the event channel.
const DefaultEventBuffer = 256

// defaultLeaveTimeout bounds Leave when the context has no deadline.
const defaultLeaveTimeout = 5 * time.Second

// Config configures an Agent. Zero values mean the documented defaults.
type Config struct {
	// NodeName is this node's unique name (required).
	NodeName string
	// ClusterName becomes memberlist's Label (required, ≤ 255 bytes): packets
	// and streams of another cluster are dropped, even with the same key.
	ClusterName string

	// BindAddr is the IP to listen on (default "0.0.0.0"); BindPort the UDP
	// and TCP port (0 = pick a free port, reported by LocalMember).
	BindAddr string
	BindPort int
	// AdvertiseAddr/AdvertisePort override what peers are told to use.
	AdvertiseAddr string
	AdvertisePort int

	// KeyFile is the gossip key file (see LoadKeyFile). Exactly one of
	// KeyFile and Keys must be set: encryption is mandatory.
	KeyFile string
	// OwnerCheck replaces RequireRootOwner for KeyFile (tests, containers
	// with user namespaces). The mode check always applies.
	OwnerCheck OwnerCheck
	// Keys are raw keys (primary first) for callers that manage key
	// material themselves.
	Keys [][]byte

	// RaftAddr, Role and Incarnation are gossiped as metadata (see Meta).
	// Role defaults to RoleVoter.
	RaftAddr    string
	Role        Role
	Incarnation uint64

	// FailureDetection is the single detection-timing knob: roughly the time
	// from a peer crash to its EventFailed in a cluster of up to three nodes
	// (see TimingFor for the mapping and Timing.Detection for larger
	// clusters). Default DefaultFailureDetection (1.2 s).
	FailureDetection time.Duration

	// EventBuffer is the event channel capacity (default 256).
	EventBuffer int

	// Logger receives memberlist's and this package's logs (required).
	Logger *slog.Logger
}

// EventKind is the type of a membership change.
type EventKind uint8

const (
	// EventJoin: a node became alive (including this node at Start).
	EventJoin EventKind = iota + 1
	// EventLeave: a node left gracefully (Leave).
	EventLeave
	// EventFailed: a node was declared dead by failure detection.
	EventFailed
	// EventUpdate: a node's metadata changed.
	EventUpdate
)

// String returns "join", "leave", "failed" or "update".
func (k EventKind) String() string {
	switch k {
	case EventJoin:
		return "join"
	case EventLeave:
		return "leave"
	case EventFailed:
		return "failed"
	case EventUpdate:
		return "update"
	}
	return "unknown"
}

// Member is a snapshot of one node as seen by this node.
type Member struct {
	Name string
	// Addr is the node's gossip address.
	Addr netip.AddrPort
	Meta Meta
}

// Event is one membership change.
type Event struct {
	Kind   EventKind
	Member Member
	// Time is when this node learned of the change.
	Time time.Time
	// Dropped counts events discarded (because the channel was full) just
	// before this one. When non-zero the consumer must resynchronise from
	// Agent.Members instead of trusting its incremental view.
	Dropped uint64
}

// Agent is one node's membership. Methods are safe for concurrent use.
// Lifecycle: New → Start → (Join)* → Leave? → Shutdown.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	timing Timing
	keys   [][]byte

	mu       sync.Mutex // guards ml and shutdown; held across memberlist.Create
	ml       *memberlist.Memberlist
	shutdown bool

	metaMu  sync.Mutex // guards meta and metaEnc; taken by memberlist callbacks
	meta    Meta
	metaEnc []byte

	// membersMu guards members, this node's view of live (alive or suspect)
	// nodes, maintained from memberlist's callbacks. memberlist's own
	// Members/LocalNode return pointers into state it keeps mutating, so
	// reading them races; the callbacks get stable data under its lock.
	membersMu sync.Mutex
	members   map[string]Member

	events *eventQueue
	wg     sync.WaitGroup // Join helpers
	logw   *slogWriter    // memberlist's log sink, muted at Shutdown
	// stopping silences the delegates once Shutdown begins: memberlist's
	// suspicion timers (time.AfterFunc) are not stopped by its Shutdown and
	// may still report a peer's death later.
	stopping atomic.Bool
}

// New validates cfg and loads the key file; it does not open sockets.
func New(cfg Config) (*Agent, error) {
	if cfg.Logger == nil {
		return nil, fmt.Errorf("%w: Logger is required", ErrConfig)
	}
	if cfg.NodeName == "" {
		return nil, fmt.Errorf("%w: NodeName is required", ErrConfig)
	}
	if cfg.ClusterName == "" {
		return nil, fmt.Errorf("%w: ClusterName is required", ErrConfig)
	}
	if len(cfg.ClusterName) > memberlist.LabelMaxSize {
		return nil, fmt.Errorf("%w: ClusterName is %d bytes (max %d)", ErrConfig, len(cfg.ClusterName), memberlist.LabelMaxSize)
	}
	if cfg.Role == 0 {
		cfg.Role = RoleVoter
	}
	if cfg.EventBuffer <= 0 {
		cfg.EventBuffer = DefaultEventBuffer
	}
	if cfg.BindAddr == "" {
		cfg.BindAddr = "0.0.0.0"
	}
	timing, err := TimingFor(cfg.FailureDetection)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	var keys [][]byte
	switch {
	case cfg.KeyFile != "" && len(cfg.Keys) > 0:
		return nil, fmt.Errorf("%w: set KeyFile or Keys, not both", ErrConfig)
	case cfg.KeyFile != "":
		if keys, err = LoadKeyFile(cfg.KeyFile, cfg.OwnerCheck); err != nil {
			return nil, err
		}
	case len(cfg.Keys) > 0:
		for i, k := range cfg.Keys {
			if err := memberlist.ValidateKey(k); err != nil {
				return nil, fmt.Errorf("%w: key %d: %w", ErrConfig, i, err)
			}
		}
		keys = cfg.Keys
	default:
		return nil, fmt.Errorf("%w: gossip encryption is mandatory: set KeyFile", ErrConfig)
	}
	meta := Meta{Name: cfg.NodeName, RaftAddr: cfg.RaftAddr, Role: cfg.Role, Incarnation: cfg.Incarnation}
	enc, err := meta.Encode()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	a := &Agent{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "membership"),
		timing:  timing,
		keys:    keys,
		meta:    meta,
		metaEnc: enc,
		events:  newEventQueue(cfg.EventBuffer),
		members: map[string]Member{},
	}
	return a, nil
}

// Timing returns the effective memberlist timing derived from
// Config.FailureDetection.
func (a *Agent) Timing() Timing { return a.timing }

// Events returns the event channel. It is closed by Shutdown. Delivery is
// non-blocking for memberlist: when the channel is full the oldest queued
// event is discarded and the next delivered event carries Dropped > 0.
// There must be a single consumer (the raft leader's reconcile loop).
func (a *Agent) Events() <-chan Event { return a.events.ch }

// Start opens the gossip sockets and announces this node (alone until Join).
func (a *Agent) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.shutdown {
		return ErrShutdown
	}
	if a.ml != nil {
		return errors.New("membership agent already started")
	}
	keyring, err := memberlist.NewKeyring(a.keys, a.keys[0])
	if err != nil {
		return fmt.Errorf("start membership: keyring: %w", err)
	}
	c := memberlist.DefaultLANConfig()
	c.Name = a.cfg.NodeName
	c.Label = a.cfg.ClusterName
	c.BindAddr = a.cfg.BindAddr
	c.BindPort = a.cfg.BindPort
	c.AdvertisePort = a.cfg.BindPort
	if a.cfg.AdvertiseAddr != "" {
		c.AdvertiseAddr = a.cfg.AdvertiseAddr
	}
	if a.cfg.AdvertisePort != 0 {
		c.AdvertisePort = a.cfg.AdvertisePort
	}
	c.Keyring = keyring
	c.GossipVerifyIncoming = true
	c.GossipVerifyOutgoing = true
	a.timing.apply(c)
	d := &delegates{a: a}
	c.Delegate = d
	c.Events = d
	c.Alive = d
	c.Conflict = d
	c.Logger, a.logw = newStdLogger(a.log)
	ml, err := memberlist.Create(c)
	if err != nil {
		return fmt.Errorf("start membership on %s: %w", net.JoinHostPort(a.cfg.BindAddr, strconv.Itoa(a.cfg.BindPort)), err)
	}
	a.ml = ml
	a.membersMu.Lock()
	self := a.members[a.cfg.NodeName] // recorded by NotifyJoin during Create
	a.membersMu.Unlock()
	a.log.Info("membership started", "node", a.cfg.NodeName, "addr", self.Addr.String(),
		"cluster", a.cfg.ClusterName, "timing", a.timing.String())
	return nil
}

func (a *Agent) list() (*memberlist.Memberlist, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.shutdown {
		return nil, ErrShutdown
	}
	if a.ml == nil {
		return nil, ErrNotStarted
	}
	return a.ml, nil
}

// Join contacts the seeds (host:port) and merges state with every one that
// answers. It returns how many seeds were reached and fails with ErrJoin if
// none was. If ctx ends first, Join returns ctx.Err(); the underlying attempt
// (bounded by memberlist's TCP timeout) finishes in a goroutine that
// Shutdown waits for.
func (a *Agent) Join(ctx context.Context, seeds []string) (int, error) {
	a.mu.Lock()
	ml := a.ml
	switch {
	case a.shutdown:
		a.mu.Unlock()
		return 0, ErrShutdown
	case ml == nil:
		a.mu.Unlock()
		return 0, ErrNotStarted
	}
	a.wg.Add(1) // under mu, so Shutdown's Wait never races with Add
	a.mu.Unlock()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer a.wg.Done()
		n, err := ml.Join(seeds)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		if r.n == 0 {
			return 0, fmt.Errorf("%w: seeds %v: %w", ErrJoin, seeds, r.err)
		}
		if r.err != nil {
			a.log.Warn("some seeds could not be joined", "joined", r.n, "err", r.err)
		}
		return r.n, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("join %v: %w", seeds, ctx.Err())
	}
}

// Leave announces a graceful departure and waits (until ctx's deadline, or
// 5 s) for it to propagate; call Shutdown afterwards. It first gossips
// metadata with Leaving set (peers get EventUpdate), then memberlist's leave
// message (peers get EventLeave). A peer that missed the metadata update
// reports EventFailed instead: the error is on the safe side (a departed
// node treated as crashed), never the reverse.
func (a *Agent) Leave(ctx context.Context) error {
	ml, err := a.list()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(defaultLeaveTimeout)
	if dl, ok := ctx.Deadline(); ok {
		deadline = dl
	}
	a.metaMu.Lock()
	m := a.meta
	a.metaMu.Unlock()
	m.Leaving = true
	enc, err := m.Encode()
	if err != nil {
		return err
	}
	a.metaMu.Lock()
	a.meta, a.metaEnc = m, enc
	a.metaMu.Unlock()
	if err := ml.UpdateNode(time.Until(deadline) / 2); err != nil {
		a.log.Warn("leaving flag not fully propagated; peers may report failure", "err", err)
	}
	if err := ml.Leave(time.Until(deadline)); err != nil {
		return fmt.Errorf("leave cluster: %w", err)
	}
	return nil
}

// Shutdown stops gossip without a leave message (peers will declare this
// node failed), waits for helper goroutines (or ctx) and closes Events.
// It is idempotent.
//
// memberlist v0.6.0's Shutdown does not wait for a probe round already in
// progress; Shutdown therefore mutes memberlist's logging and waits one
// ProbeInterval (or until ctx ends) so such rounds normally finish first.
func (a *Agent) Shutdown(ctx context.Context) error {
	a.mu.Lock()
	if a.shutdown {
		a.mu.Unlock()
		return nil
	}
	a.shutdown = true
	a.stopping.Store(true)
	ml, logw := a.ml, a.logw
	a.mu.Unlock()
	var err error
	if ml != nil {
		if e := ml.Shutdown(); e != nil {
			err = fmt.Errorf("shutdown memberlist: %w", e)
		}
		logw.muted.Store(true)
		t := time.NewTimer(a.timing.ProbeInterval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return errors.Join(err, fmt.Errorf("waiting for join goroutines: %w", ctx.Err()))
	}
	a.events.close()
	return err
}

// Members returns the live (alive or suspect) members, this node included,
// sorted by name.
func (a *Agent) Members() []Member {
	a.membersMu.Lock()
	defer a.membersMu.Unlock()
	out := make([]Member, 0, len(a.members))
	for _, m := range a.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(x, y Member) int { return cmp.Compare(x.Name, y.Name) })
	return out
}

// LocalMember returns this node's own member record.
func (a *Agent) LocalMember() (Member, error) {
	if _, err := a.list(); err != nil {
		return Member{}, err
	}
	a.membersMu.Lock()
	defer a.membersMu.Unlock()
	m, ok := a.members[a.cfg.NodeName]
	if !ok {
		return Member{}, ErrNotStarted
	}
	return m, nil
}

// UpdateMeta replaces the gossiped metadata (Name must stay NodeName) and
// broadcasts it; peers see EventUpdate. It waits for the broadcast until
// ctx's deadline (or 5 s).
func (a *Agent) UpdateMeta(ctx context.Context, m Meta) error {
	if m.Name != a.cfg.NodeName {
		return fmt.Errorf("%w: metadata name %q differs from node name %q", ErrInvalidMeta, m.Name, a.cfg.NodeName)
	}
	enc, err := m.Encode()
	if err != nil {
		return err
	}
	ml, err := a.list()
	if err != nil {
		return err
	}
	a.metaMu.Lock()
	a.meta, a.metaEnc = m, enc
	a.metaMu.Unlock()
	timeout := defaultLeaveTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if err := ml.UpdateNode(timeout); err != nil {
		return fmt.Errorf("broadcast metadata update: %w", err)
	}
	return nil
}

func toMember(n *memberlist.Node) (Member, error) {
	meta, err := DecodeMeta(n.Meta)
	if err != nil {
		return Member{}, fmt.Errorf("node %q: %w", n.Name, err)
	}
	if meta.Name != n.Name {
		return Member{}, fmt.Errorf("%w: node %q advertises name %q", ErrInvalidMeta, n.Name, meta.Name)
	}
	ip, _ := netip.AddrFromSlice(n.Addr)
	return Member{Name: n.Name, Addr: netip.AddrPortFrom(ip.Unmap(), n.Port), Meta: meta}, nil
}

// delegates implements memberlist's Delegate, EventDelegate, AliveDelegate
// and ConflictDelegate. memberlist calls them inline, often holding its node
// lock: they must not block or call back into memberlist.
type delegates struct{ a *Agent }

func (d *delegates) NodeMeta(limit int) []byte {
	d.a.metaMu.Lock()
	defer d.a.metaMu.Unlock()
	if len(d.a.metaEnc) > limit {
		// Cannot happen: Encode enforces MaxMetaSize == memberlist's limit.
		d.a.log.Error("node metadata exceeds limit", "size", len(d.a.metaEnc), "limit", limit)
		return nil
	}
	return append([]byte(nil), d.a.metaEnc...)
}

func (d *delegates) NotifyMsg([]byte)                           {}
func (d *delegates) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegates) LocalState(join bool) []byte                { return nil }
func (d *delegates) MergeRemoteState(buf []byte, join bool)     {}

// NotifyAlive admits only nodes whose metadata decodes and names them
// consistently.
func (d *delegates) NotifyAlive(n *memberlist.Node) error {
	if _, err := toMember(n); err != nil {
		if d.a.stopping.Load() {
			return err
		}
		d.a.log.Warn("rejecting node with invalid metadata", "node", n.Name, "addr", n.Address(), "err", err)
		return err
	}
	return nil
}

func (d *delegates) NotifyConflict(existing, other *memberlist.Node) {
	if d.a.stopping.Load() {
		return
	}
	d.a.log.Error("node name conflict: two nodes claim the same name",
		"node", existing.Name, "existing_addr", existing.Address(), "other_addr", other.Address())
}

func (d *delegates) NotifyJoin(n *memberlist.Node)   { d.emit(EventJoin, n) }
func (d *delegates) NotifyUpdate(n *memberlist.Node) { d.emit(EventUpdate, n) }
func (d *delegates) NotifyLeave(n *memberlist.Node) {
	// n.State is not maintained by memberlist v0.6.0 (nodeState shadows
	// it), so graceful leaves are recognised by the Leaving metadata flag.
	kind := EventFailed
	if m, err := DecodeMeta(n.Meta); err == nil && m.Leaving {
		kind = EventLeave
	}
	d.emit(kind, n)
}

func (d *delegates) emit(kind EventKind, n *memberlist.Node) {
	if d.a.stopping.Load() {
		return
	}
	m, err := toMember(n)
	if err != nil {
		// A dead node's last known metadata was admitted earlier, so this is
		// only reachable for metadata updates that NotifyAlive rejected.
		d.a.log.Warn("dropping event for node with invalid metadata", "event", kind.String(), "node", n.Name, "err", err)
		return
	}
	d.a.membersMu.Lock()
	switch kind {
	case EventJoin, EventUpdate:
		d.a.members[m.Name] = m
	case EventLeave, EventFailed:
		delete(d.a.members, m.Name)
	}
	d.a.membersMu.Unlock()
	lvl := slog.LevelInfo
	if kind == EventFailed {
		lvl = slog.LevelWarn
	}
	d.a.log.Log(context.Background(), lvl, "member "+kind.String(), "node", m.Name, "addr", m.Addr.String(), "role", m.Meta.Role.String())
	if dropped := d.a.events.push(Event{Kind: kind, Member: m, Time: time.Now()}); dropped > 0 {
		d.a.log.Warn("membership event queue full: dropped oldest event", "dropped_total", dropped)
	}
}

// eventQueue is a bounded, drop-oldest channel with a single producer
// (memberlist's serialized delegate calls, guarded by mu) and one consumer.
type eventQueue struct {
	mu      sync.Mutex
	ch      chan Event
	closed  bool
	pending uint64 // drops not yet reported to the consumer
	total   uint64
}

func newEventQueue(n int) *eventQueue { return &eventQueue{ch: make(chan Event, n)} }

// push enqueues ev without blocking and returns the running drop total if
// this push had to drop an event (0 otherwise).
func (q *eventQueue) push(ev Event) uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0
	}
	droppedNow := false
	for {
		ev.Dropped = q.pending
		select {
		case q.ch <- ev:
			q.pending = 0
			if droppedNow {
				return q.total
			}
			return 0
		default:
		}
		// Full: discard the oldest queued event (the consumer may have
		// emptied the channel meanwhile, in which case just retry).
		select {
		case old := <-q.ch:
			q.pending += 1 + old.Dropped
			q.total++
			droppedNow = true
		default:
		}
	}
}

func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
}
