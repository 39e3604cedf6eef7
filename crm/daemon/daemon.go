// Package daemon wires one gocrm node (the crmd process): gossip membership,
// raft consensus over the CIB state machine, the local resource manager, the
// DC→node action RPC, the local control socket, and the DC loop that runs
// while this node is raft leader.
//
// Ports: gossip (UDP+TCP) on Config.GossipPort, raft on GossipPort+1,
// noderpc (actions from the DC) on GossipPort+2. The DC derives a node's
// noderpc address from its gossip address, so the offsets are fixed.
//
// Node life cycle: Start opens everything and joins the seeds; as soon as a
// raft leader exists the node clears its own status section (its LRM starts
// empty, so the DC re-probes it; it refuses actions until then) and writes
// its node_state as online (in_ccm, crmd=online, join=member,
// expected=member). It re-announces itself whenever the CIB shows it
// offline while it runs (for example after the DC marked it failed during a
// partition) or quorum returns, keeping its history except that of the
// resources it stopped on its own (localstop.go). Shutdown asks the DC to move its
// resources away (transient attribute "shutdown"), stops what is left
// locally, records the node as cleanly down, leaves the gossip and closes
// raft. Kill simulates a crash (tests).
//
// Results: the node runs each action from the DC with its LRM (refusing
// stale DC terms), records it first as pending (op-status -1, unless the
// cluster option record-pending is false), then records the result
// (lrm_rsc_op with transition key and magic, call id, rc, op-status,
// timings and op-digest) and, on failure,
// last-failure-RSC#OP_INTERVAL and fail-count-RSC#OP_INTERVAL, before
// answering the DC. Recurring monitors are recorded when their rc changes.
// A DC elected while an action runs sees it pending and issues it again
// (as Pacemaker's scheduler does); the LRM joins such a request to the
// identical execution in flight, or finished but not yet recorded (the
// recorder settles each result once written), so the agent runs once and
// both requests get its result (record.go). A DC that planned on the CIB
// from just before the result was recorded names the pending record's
// transition key (ActionRequest.PendingKey), and its request joins that
// execution even after the result is recorded.
//
// Arbiter nodes (Config.Arbiter) are raft voters and gossip members but not
// CIB nodes: they never appear in <nodes> or <status>, so the scheduler can
// neither place nor probe resources there, and they refuse every action.
//
// Fencing: the DC fences with devices configured from the CIB's
// class="stonith" primitives (package stonith, every step run on the DC) and
// clears the victim's status once fencing is confirmed. The stonith
// primitives themselves are started, stopped and monitored on their nodes
// through a built-in stand-in agent that only tracks a registration marker,
// since the LRM has no stonith class. Every fencing operation is recorded
// (pending, then done or failed) in the DC's memory and, once finished, in
// the gocrm-fence-history attribute of the DC's node_state, so every node
// answers the stonith.history API request (fencehistory.go).
//
// Two-node-mode (cluster option two-node-mode=true, refused unless both
// nodes can be fenced): on peer loss both nodes freeze and race to fence
// each other; the winner forces a single-voter raft configuration and
// recovers; the fenced node returns with wait-for-all semantics (twonode.go).
//
// Quorum: raft majority is quorum. A node that has seen no raft leader for
// longer than Config.QuorumLease applies the no-quorum-policy of its last
// known CIB locally: stop (default) stops every local resource through the
// LRM, freeze and ignore do nothing, suicide/fence call Config.OnSuicide.
//
// Storage: a node whose raft storage fails (full disk under its data dir)
// is never DC until its disk takes writes again (crm/consensus) and records
// the problem in its transient attribute StorageAttr (storage.go).
//
// Concurrency: Start and Shutdown must be called from one goroutine; Kill
// and the accessors are safe for concurrent use. The Daemon owns all goroutines
// it starts and waits for them in Shutdown/Kill.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/dummy"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/crm/dc"
	"github.com/gocrm/gocrm/crm/noderpc"
	"github.com/gocrm/gocrm/lrm"
	"github.com/gocrm/gocrm/membership"
	"github.com/gocrm/gocrm/stonith/meatware"
	"github.com/gocrm/gocrm/stonith/sandbox"
)

// Sentinel errors.
var (
	ErrConfig   = errors.New("invalid daemon config")
	ErrShutdown = errors.New("daemon shut down")
)

// Config configures one node.
type Config struct {
	Name        string
	ClusterName string // default "gocrm"
	DataDir     string // raft/ and lrm/ live below it
	// BindAddr is the IP all three ports bind to; AdvertiseAddr (default
	// BindAddr) is what peers dial and must not be unspecified.
	BindAddr      string
	AdvertiseAddr string
	GossipPort    int // raft = +1, noderpc = +2
	Join          []string
	// BootstrapExpect: bootstrap raft once this many voters are seen.
	BootstrapExpect int
	// SocketPath is the control socket ("" disables it); its directory is
	// created with mode 0750.
	SocketPath string
	// Auth authorises control-socket clients (default: root, the daemon's
	// own user and members of group 0 may write; others are refused).
	Auth api.Authorizer
	// KeyFile (checked like membership.LoadKeyFile with KeyOwnerCheck) or
	// Keys (raw, primary first) provide the gossip key.
	KeyFile       string
	KeyOwnerCheck membership.OwnerCheck
	Keys          [][]byte
	Arbiter       bool
	// FailureDetection is membership's timing knob (default 1.2 s).
	FailureDetection time.Duration
	// RaftTiming defaults to consensus.DefaultTiming.
	RaftTiming consensus.Timing
	// QuorumLease: time without a raft leader before no-quorum-policy is
	// applied locally (default 3 s).
	QuorumLease time.Duration
	// Builtins are the built-in agents (default: DefaultBuiltins).
	Builtins *agent.Registry
	// OCF overrides the OCF executor (tests).
	OCF lrm.Executor
	// Killer enables the sandbox fence device (sandbox clusters).
	Killer sandbox.Killer
	// TLS, or TLSCAFile+TLSCertFile+TLSKeyFile (the key file checked like
	// KeyFile, with KeyOwnerCheck), is this node's certificate (CN = Name,
	// signed by the cluster CA): raft, write forwarding and the node RPC
	// then run over mutual TLS, peers authorised against the members and
	// the raft configuration (see tls.go). Without a certificate,
	// InsecureTransport must be set explicitly (plain TCP, warned about).
	TLS               *consensus.TLSIdentity
	TLSCAFile         string
	TLSCertFile       string
	TLSKeyFile        string
	InsecureTransport bool
	// OnSuicide is called for no-quorum-policy=suicide/fence (default:
	// log only; the command exits the process).
	OnSuicide func()
	Logger    *slog.Logger
}

// Daemon is one running node.
type Daemon struct {
	cfg  Config
	log  *slog.Logger
	keys [][]byte
	sec  *transportSecurity

	store *store.Store
	raft  *consensus.Node
	lrm   *lrm.LRM
	ml    *membership.Agent
	rpcLn net.Listener
	apiLn net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	rec        *recorder
	clk        *wallClock // wall clock: host, or host+offset under CTS (ctsclock.go)
	memberEvs  chan struct{}
	failedEvs  chan membership.Event
	joined     chan struct{}
	joinOnce   sync.Once
	reannounce chan struct{}
	// cleared is set once this crmd process has cleared the node's old
	// status (its first announcement); actions are refused until then.
	cleared atomic.Bool

	mu         sync.Mutex
	curDC      *dc.DC
	tn         *twoNode // two-node-mode (twonode.go)
	meat       *meatware.Hub
	fenceHist  fenceHistory // fencing records of this node (fencehistory.go)
	shutting   bool
	shutdownOK chan struct{}
	stopped    bool
}

// New validates cfg and loads the gossip key; nothing is opened yet.
func New(cfg Config) (*Daemon, error) {
	if cfg.Name == "" || cfg.DataDir == "" || cfg.GossipPort <= 0 || cfg.GossipPort+2 > 65535 {
		return nil, fmt.Errorf("%w: name, data dir and gossip port (1-65533) are required", ErrConfig)
	}
	if cfg.Logger == nil {
		return nil, fmt.Errorf("%w: logger is required", ErrConfig)
	}
	if cfg.ClusterName == "" {
		cfg.ClusterName = "gocrm"
	}
	if cfg.BindAddr == "" {
		cfg.BindAddr = "0.0.0.0"
	}
	if cfg.AdvertiseAddr == "" {
		cfg.AdvertiseAddr = cfg.BindAddr
	}
	if ip := net.ParseIP(cfg.AdvertiseAddr); ip == nil || ip.IsUnspecified() {
		return nil, fmt.Errorf("%w: advertise address %q must be a routable IP (set it when binding 0.0.0.0)", ErrConfig, cfg.AdvertiseAddr)
	}
	if cfg.QuorumLease <= 0 {
		cfg.QuorumLease = 3 * time.Second
	}
	keys := cfg.Keys
	if cfg.KeyFile != "" {
		k, err := membership.LoadKeyFile(cfg.KeyFile, cfg.KeyOwnerCheck)
		if err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
		keys = k
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: a gossip key file is required", ErrConfig)
	}
	if cfg.Builtins == nil {
		reg, err := DefaultBuiltins()
		if err != nil {
			return nil, fmt.Errorf("daemon: register built-in agents: %w", err)
		}
		cfg.Builtins = reg
	}
	if _, ok := cfg.Builtins.Lookup(fenceDeviceKey); !ok {
		err := cfg.Builtins.Register(fenceDeviceKey, func(env agent.Env) (agent.Agent, error) { return dummy.New(env) })
		if err != nil {
			return nil, fmt.Errorf("daemon: register fence-device stand-in: %w", err)
		}
	}
	sec, err := newTransportSecurity(&cfg, cfg.Logger.With("node", cfg.Name))
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, keys: keys, sec: sec, log: cfg.Logger.With("node", cfg.Name),
		memberEvs: make(chan struct{}, 1), failedEvs: make(chan membership.Event, 64),
		joined: make(chan struct{}), reannounce: make(chan struct{}, 1), shutdownOK: make(chan struct{})}
	d.clk = newWallClock(d.log)
	d.tn = newTwoNode(d)
	return d, nil
}

func (d *Daemon) hostPort(off int) string {
	return net.JoinHostPort(d.cfg.BindAddr, strconv.Itoa(d.cfg.GossipPort+off))
}

// Name returns the node name.
func (d *Daemon) Name() string { return d.cfg.Name }

// Store returns the local CIB store (read-only use).
func (d *Daemon) Store() *store.Store { return d.store }

// Raft returns the consensus node.
func (d *Daemon) Raft() *consensus.Node { return d.raft }

// LRM returns the local resource manager.
func (d *Daemon) LRM() *lrm.LRM { return d.lrm }

// Joined is closed once this node's online node_state is in the CIB (or,
// for an arbiter, once a raft leader is known).
func (d *Daemon) Joined() <-chan struct{} { return d.joined }

// IsDC reports whether this node runs the DC loop now.
func (d *Daemon) IsDC() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.curDC != nil
}

// Idle reports whether this node is DC and has nothing left to do.
func (d *Daemon) Idle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.curDC != nil && d.curDC.Idle()
}

// Start opens every component and joins the cluster. On error everything
// opened so far is closed.
func (d *Daemon) Start(ctx context.Context) (err error) {
	d.ctx, d.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			d.Kill()
		}
	}()
	if err := os.MkdirAll(d.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("daemon: data dir: %w", err)
	}
	d.store = store.New(nil)
	adv := &net.TCPAddr{IP: net.ParseIP(d.cfg.AdvertiseAddr), Port: d.cfg.GossipPort + 1}
	tr, err := d.sec.transport(d.hostPort(1), adv, d.log.With("component", "raft"))
	if err != nil {
		return fmt.Errorf("daemon: raft transport: %w", err)
	}
	d.raft, err = consensus.New(consensus.Config{NodeID: d.cfg.Name, DataDir: filepath.Join(d.cfg.DataDir, "raft"),
		Transport: tr, FSM: d.store, Logger: d.log, Timing: d.cfg.RaftTiming, BootstrapExpect: d.cfg.BootstrapExpect})
	if err != nil {
		return fmt.Errorf("daemon: consensus: %w", err)
	}
	d.sec.bindRaft(d.raft)
	d.rec = newRecorder(d)
	d.lrm, err = lrm.New(lrm.Config{Node: d.cfg.Name, StateDir: filepath.Join(d.cfg.DataDir, "lrm"),
		Builtins: d.cfg.Builtins, OCF: d.cfg.OCF, OnResult: d.rec.enqueue, Logger: d.log.With("component", "lrm"),
		HoldUntilSettled: true})
	if err != nil {
		return fmt.Errorf("daemon: lrm: %w", err)
	}
	d.rpcLn, err = d.sec.listen(d.hostPort(noderpc.PortOffset))
	if err != nil {
		return fmt.Errorf("daemon: noderpc listener: %w", err)
	}
	inc, err := nextIncarnation(d.cfg.DataDir, time.Now(), d.log)
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	role := membership.RoleVoter
	if d.cfg.Arbiter {
		role = membership.RoleArbiter
	}
	d.ml, err = membership.New(membership.Config{NodeName: d.cfg.Name, ClusterName: d.cfg.ClusterName,
		BindAddr: d.cfg.BindAddr, BindPort: d.cfg.GossipPort, AdvertiseAddr: d.cfg.AdvertiseAddr,
		AdvertisePort: d.cfg.GossipPort, Keys: d.keys, RaftAddr: d.raft.Addr(), Role: role,
		Incarnation: inc, FailureDetection: d.cfg.FailureDetection,
		Logger: d.log.With("component", "membership")})
	if err != nil {
		return fmt.Errorf("daemon: membership: %w", err)
	}
	d.sec.bindMembers(d.ml)
	if err := d.ml.Start(ctx); err != nil {
		return fmt.Errorf("daemon: membership: %w", err)
	}
	if d.cfg.SocketPath != "" {
		if err := os.MkdirAll(filepath.Dir(d.cfg.SocketPath), 0o750); err != nil {
			return fmt.Errorf("daemon: socket dir: %w", err)
		}
		if err := os.Chmod(filepath.Dir(d.cfg.SocketPath), 0o750); err != nil {
			return fmt.Errorf("daemon: socket dir: %w", err)
		}
		_ = os.Remove(d.cfg.SocketPath)
		d.apiLn, err = net.Listen("unix", d.cfg.SocketPath)
		if err != nil {
			return fmt.Errorf("daemon: control socket: %w", err)
		}
		if err := os.Chmod(d.cfg.SocketPath, 0o660); err != nil {
			return fmt.Errorf("daemon: control socket: %w", err)
		}
		auth := d.cfg.Auth
		if auth == nil {
			auth = selfAuthorizer{uid: uint32(os.Geteuid())}
		}
		srv := &api.Server{Handler: &apiHandler{d: d}, Auth: auth, PeerOf: api.PeerCred, Logger: d.log.With("component", "api")}
		d.goRun("api", func(ctx context.Context) { _ = srv.Serve(ctx, d.apiLn) })
	}
	rpcSrv := &noderpc.Server{Handler: noderpc.HandlerFunc(d.handleAction), Key: noderpc.DeriveKey(d.keys[0]),
		Logger: d.log.With("component", "noderpc")}
	ln := d.rpcLn
	d.goRun("noderpc", func(ctx context.Context) {
		if err := rpcSrv.Serve(ctx, ln); err != nil {
			d.log.Error("noderpc server stopped", "err", err)
		}
	})
	d.goRun("recorder", d.rec.run)
	d.goRun("events", d.eventLoop)
	d.goRun("leader", d.leaderLoop)
	d.goRun("announce", d.announceLoop)
	d.goRun("quorum", d.quorumLoop)
	d.goRun("two-node", d.tn.run)
	d.goRun("storage", d.storageLoop) // storage.go
	if len(d.cfg.Join) > 0 {
		jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, jerr := d.ml.Join(jctx, d.cfg.Join)
		cancel()
		if jerr != nil {
			// The seeds may simply not be up yet: keep trying.
			d.log.Warn("join failed; retrying in the background", "seeds", d.cfg.Join, "err", jerr)
		}
		// Always: after the first join, joinLoop keeps the membership
		// whole (a peer this node declared dead while the peer never
		// learned it would otherwise stay dead here until a push-pull).
		d.goRun("join", d.joinLoop)
	}
	d.log.Info("node started", "gossip", d.hostPort(0), "raft", d.raft.Addr(), "noderpc", d.hostPort(noderpc.PortOffset), "arbiter", d.cfg.Arbiter)
	return nil
}

func (d *Daemon) goRun(name string, f func(ctx context.Context)) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		f(d.ctx)
		d.log.Debug("goroutine exited", "name", name)
	}()
}

func (d *Daemon) joinLoop(ctx context.Context) {
	// First join through the seeds.
	for len(d.ml.Members()) <= 1 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		if len(d.ml.Members()) > 1 {
			break
		}
		jctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := d.ml.Join(jctx, d.cfg.Join)
		cancel()
		if err == nil {
			d.log.Info("joined", "seeds", d.cfg.Join)
			break
		}
	}
	// Then keep the membership whole: every peer ever seen (and every
	// seed) that is not a live member is asked to join again, so the two
	// sides of a healed partition find each other at once instead of
	// waiting for gossip to reach nodes declared dead.
	seen := map[string]string{} // name -> gossip address
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
		alive := map[string]bool{}
		self := ""
		if m, err := d.ml.LocalMember(); err == nil {
			self = m.Addr.String()
		}
		for _, m := range d.ml.Members() {
			a := m.Addr.String()
			alive[a] = true
			if m.Meta.Leaving {
				delete(seen, m.Name)
			} else if a != self {
				seen[m.Name] = a
			}
		}
		var missing []string
		for _, a := range seen {
			if !alive[a] {
				missing = append(missing, a)
			}
		}
		for _, a := range d.cfg.Join {
			if !alive[a] && a != self && !slices.Contains(missing, a) {
				missing = append(missing, a)
			}
		}
		if len(missing) == 0 {
			continue
		}
		sort.Strings(missing)
		jctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		n, err := d.ml.Join(jctx, missing)
		cancel()
		if err == nil && n > 0 {
			d.log.Info("rejoined lost peers", "peers", missing, "contacted", n)
		} else {
			d.log.Debug("lost peers not reachable", "peers", missing, "err", err)
		}
	}
}

// eventLoop consumes membership events: bootstrap-expect, DC notification.
func (d *Daemon) eventLoop(ctx context.Context) {
	evs := d.ml.Events()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	bootstrapped := false
	try := func() {
		if bootstrapped || d.cfg.BootstrapExpect <= 0 {
			return
		}
		if st, err := d.raft.Stats(); err == nil && st.Servers > 0 {
			bootstrapped = true
			return
		}
		bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := d.raft.MaybeBootstrap(bctx, consensus.ServersFromMembers(d.ml.Members()))
		cancel()
		if err != nil {
			d.log.Debug("bootstrap attempt", "err", err)
		}
		if ok {
			d.log.Info("raft cluster bootstrapped")
			bootstrapped = true
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-evs:
			if !ok {
				return
			}
			d.log.Debug("membership event", "kind", ev.Kind.String(), "member", ev.Member.Name)
			if ev.Kind == membership.EventFailed || ev.Kind == membership.EventLeave {
				select {
				case d.failedEvs <- ev:
				default:
				}
			}
			select {
			case d.memberEvs <- struct{}{}:
			default:
			}
			try()
		case <-tick.C:
			try()
		}
	}
}

// leaderLoop runs the DC while this node is raft leader. A DC loop that
// ends on its own (its Barrier failed) is restarted after a second while
// this node is still leader.
func (d *Daemon) leaderLoop(ctx context.Context) {
	var dcCancel context.CancelFunc
	var dcDone chan struct{}
	stop := func() {
		if dcCancel != nil {
			dcCancel()
			<-dcDone
			dcCancel, dcDone = nil, nil
			d.mu.Lock()
			d.curDC = nil
			d.mu.Unlock()
		}
	}
	defer stop()
	start := func() {
		term := uint64(0)
		if s, err := d.raft.Stats(); err == nil {
			term = s.Term
		}
		rpc := d.sec.rpcClient(noderpc.DeriveKey(d.keys[0]))
		ctl, err := dc.New(dc.Config{Node: d.cfg.Name, Term: term, Store: d.store, Raft: d.sec.dcRaft(d.raft), Members: dcMembers{d},
			Sender: rpc, Fencer: d.fencer(),
			Events: d.memberEvs, Failed: d.failedEvs, Wall: d.now, Logger: d.log})
		if err != nil {
			d.log.Error("cannot create DC", "err", err)
			return
		}
		dctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		dcCancel, dcDone = cancel, done
		d.mu.Lock()
		d.curDC = ctl
		d.mu.Unlock()
		go func() {
			defer close(done)
			// The DC's idle node connections end with its term.
			defer rpc.Close()
			if err := ctl.Run(dctx); err != nil {
				d.log.Error("DC loop ended", "err", err)
			}
		}()
	}
	ch := d.raft.LeaderCh()
	var retry <-chan time.Time
	for {
		var ended <-chan struct{}
		if dcDone != nil {
			ended = dcDone
		}
		select {
		case <-ctx.Done():
			return
		case st, ok := <-ch:
			if !ok {
				return
			}
			if !st.IsLeader {
				stop()
				retry = nil
				continue
			}
			if dcDone == nil {
				start()
			}
		case <-ended:
			stop()
			retry = time.After(time.Second)
		case <-retry:
			retry = nil
			if dcDone == nil && d.raft.IsLeader() {
				start()
			}
		}
	}
}

// announceLoop keeps this node's node_state online in the CIB. A node
// that the local CIB shows offline for longer than a second (the local
// copy may lag behind the leader briefly) is re-announced.
func (d *Daemon) announceLoop(ctx context.Context) {
	notify := d.store.Subscribe()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	first := true
	var offlineSince time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-notify:
		case <-tick.C:
		case <-d.reannounce:
			first = true
		}
		d.mu.Lock()
		shutting := d.shutting
		d.mu.Unlock()
		if shutting {
			continue
		}
		if id, _ := d.raft.Leader(); id == "" {
			continue
		}
		if d.cfg.Arbiter {
			d.joinOnce.Do(func() { close(d.joined) })
			continue
		}
		ns := nodeStateOf(d.store.Current(), d.cfg.Name)
		online := ns != nil && ns.InCCM == "true" && ns.Crmd == "online" && ns.Join == "member" && ns.Expected == "member"
		if !first {
			if online {
				offlineSince = time.Time{}
				d.joinOnce.Do(func() { close(d.joined) })
				continue
			}
			if offlineSince.IsZero() {
				offlineSince = time.Now()
			}
			if time.Since(offlineSince) < time.Second {
				continue
			}
		}
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := d.announce(actx)
		cancel()
		if err != nil {
			d.log.Warn("announcing node state failed", "err", err)
			continue
		}
		first, offlineSince = false, time.Time{}
		d.log.Info("node state announced (online)")
	}
}

func (d *Daemon) announce(ctx context.Context) error {
	// The first announcement of a crmd process clears the node's old
	// status (its LRM starts empty, so the DC probes again; like
	// Pacemaker's attribute manager it starts with no failures). Actions
	// are refused until then (handleAction), so nothing a DC starts here
	// can lose its history to the clearing.
	//
	// Later announcements (quorum regained, marked offline by a DC) keep
	// the history: a DC may have started resources here meanwhile, and a
	// resource runs with nothing in progress in the LRM once started
	// (before its recurring monitor is registered, or with none
	// configured). Clearing would tell the DC, with the node cleanly down,
	// that they are stopped here, and it would start them a second time
	// elsewhere. Only the history of what this node stopped on its own is
	// deleted, so that the DC probes those again (localstop.go).
	if !d.cleared.Load() {
		if _, err := d.raft.Apply(ctx, store.Command{Op: store.OpClearNodeStatus, Node: d.cfg.Name}.Encode()); err != nil {
			return fmt.Errorf("clear own status: %w", err)
		}
		d.rec.local.take() // their history is gone with the rest
		d.cleared.Store(true)
	} else if err := d.forgetLocalStops(ctx); err != nil {
		return err
	}
	_, err := d.raft.Apply(ctx, store.Command{Op: store.OpNodeState, Node: d.cfg.Name, Attrs: map[string]string{
		"in_ccm": "true", "crmd": "online", "join": "member", "expected": "member"}}.Encode())
	if err != nil {
		return fmt.Errorf("write own node state: %w", err)
	}
	return nil
}

// selfAuthorizer allows root, the daemon's own user and group 0.
type selfAuthorizer struct{ uid uint32 }

func (a selfAuthorizer) Allow(p api.Peer, write bool) bool {
	return p.UID == a.uid || (api.GroupAuthorizer{Group: 0}).Allow(p, write)
}

// waitShutdownAck waits for the DC's do_shutdown. It gives up early when
// there is no leader any more (nobody will answer) or when nothing runs or
// is pending locally for a while (nothing left to move away).
func (d *Daemon) waitShutdownAck(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	idleSince := time.Time{}
	for {
		select {
		case <-d.shutdownOK:
			d.log.Info("DC acknowledged shutdown")
			return
		case <-ctx.Done():
			d.log.Warn("DC did not acknowledge shutdown in time")
			return
		case <-tick.C:
		}
		if id, _ := d.raft.Leader(); id == "" {
			d.log.Warn("no DC to acknowledge shutdown")
			return
		}
		if len(d.activeLocal()) > 0 || len(d.lrm.Pending()) > 0 {
			idleSince = time.Time{}
			continue
		}
		if idleSince.IsZero() {
			idleSince = time.Now()
		} else if time.Since(idleSince) >= 2*time.Second {
			d.log.Info("nothing runs here; leaving without the DC's acknowledgement")
			return
		}
	}
}

// Kill stops everything abruptly, like a crash: no leave message, no
// resource stops, nothing recorded. Safe to call more than once.
func (d *Daemon) Kill() {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	d.stopped = true
	d.mu.Unlock()
	if d.cancel != nil {
		d.cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if d.ml != nil {
		_ = d.ml.Shutdown(ctx)
	}
	if d.rec != nil {
		d.rec.close()
	}
	if d.lrm != nil {
		_ = d.lrm.Close()
	}
	if d.apiLn != nil {
		d.apiLn.Close()
	}
	if d.rpcLn != nil {
		d.rpcLn.Close()
	}
	d.wg.Wait()
	if d.raft != nil {
		_ = d.raft.Shutdown(ctx)
	}
	if d.cfg.SocketPath != "" && d.apiLn != nil {
		_ = os.Remove(d.cfg.SocketPath)
	}
}

// Shutdown leaves the cluster cleanly: it asks the DC to move this node's
// resources away (transient attribute shutdown=<now>, waiting for the DC's
// do_shutdown or ctx), stops whatever still runs locally, records the node
// as cleanly down, leaves the gossip and stops raft.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return ErrShutdown
	}
	d.shutting = true
	d.mu.Unlock()
	if !d.cfg.Arbiter {
		short := func(c store.Command) error {
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_, err := d.raft.Apply(actx, c.Encode())
			return err
		}
		if err := short(store.Command{Op: store.OpSetNodeAttr, Node: d.cfg.Name, Name: "shutdown",
			Value: strconv.FormatInt(d.now().Unix(), 10), Transient: true}); err != nil {
			d.log.Warn("cannot request shutdown through the DC; stopping resources locally", "err", err)
		} else {
			d.waitShutdownAck(ctx)
		}
		d.stopLocal(ctx, "shutdown")
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		d.rec.drain(dctx)
		cancel()
		_ = short(store.Command{Op: store.OpNodeState, Node: d.cfg.Name, Attrs: map[string]string{
			"crmd": "offline", "join": "down", "expected": "down"}})
	}
	if d.IsDC() {
		_ = d.raft.LeadershipTransfer()
	}
	// The leave broadcast needs a live peer to go anywhere: bound it.
	lctx, lcancel := context.WithTimeout(ctx, 3*time.Second)
	if err := d.ml.Leave(lctx); err != nil {
		d.log.Warn("gossip leave", "err", err)
	}
	lcancel()
	d.Kill()
	d.log.Info("node stopped")
	return nil
}
