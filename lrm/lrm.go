package lrm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// DefaultTimeout is the action timeout used when a Request has none
// (Pacemaker's default operation timeout).
const DefaultTimeout = 20 * time.Second

// Sentinel errors returned by LRM methods.
var (
	// ErrStaleTerm rejects a request whose DC term is older than the
	// highest term the LRM has seen: it comes from a deposed DC.
	ErrStaleTerm = errors.New("stale DC term")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("lrm closed")
	// ErrInvalidRequest rejects malformed requests.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrNotFound is returned when cancelling an unknown recurring operation.
	ErrNotFound = errors.New("no such recurring operation")
)

// Config configures an LRM.
type Config struct {
	// Node is the local node name (given to built-in agents).
	Node string
	// StateDir is the node-private state directory (required). Built-in
	// agents keep state under it and script agents get <StateDir>/rsctmp
	// as HA_RSCTMP, so several LRMs on one host never share state.
	StateDir string
	// Builtins are the built-in Go agents; an OCF key registered here is
	// run in-process instead of as a script. May be nil.
	Builtins *agent.Registry
	// OCF, LSB and Systemd execute the script and unit classes. Nil OCF
	// and LSB get defaults (an OCFExecutor with RscTmp set as above, an
	// LSBExecutor on /etc/init.d); a nil Systemd makes systemd resources
	// fail with StatusNotConnected and "service" resources use LSB.
	OCF, LSB, Systemd Executor
	// OnResult receives every result (required). It is called from a
	// single LRM goroutine, in completion order, never concurrently; it may
	// call Execute, CancelRecurring, Settled and Pending but must not call
	// Close.
	// A slow callback delays delivery but never blocks agent execution.
	OnResult func(OpResult)
	// Clock drives recurring monitors and timestamps (RealClock if nil).
	Clock Clock
	// Logger (discarding if nil).
	Logger *slog.Logger
	// HoldUntilSettled keeps a finished start, stop, promote, demote,
	// migrate_to or migrate_from joinable (see LRM.Execute) until the
	// consumer calls Settled for its call ID (for example once the result
	// is recorded where a DC can read it), instead of only until its result
	// has been handed to OnResult. An operation accepted later for the same
	// resource ends the hold as well.
	HoldUntilSettled bool
}

// Request asks the LRM to run one operation.
type Request struct {
	Rsc Resource
	// Op is an action name (OpStart, ...). OpProbe is a monitor with
	// interval 0. An OpMonitor with Interval > 0 is a recurring monitor.
	Op       string
	Interval time.Duration
	// Timeout of each execution (DefaultTimeout if 0).
	Timeout time.Duration
	Params  map[string]string
	Meta    map[string]string
	// UserData is echoed in every OpResult of the request (the DC puts its
	// transition key here).
	UserData string
	// Tag identifies the request to a later one that re-issues it (the
	// daemon uses the DC's transition key); Reissues is the Tag of the
	// earlier request this one repeats, if the requester knows it (a new DC
	// re-issuing an operation it saw recorded pending). See Execute.
	Tag, Reissues string
}

// PendingOp describes an operation the LRM has accepted but not finished.
type PendingOp struct {
	Rsc      string
	Key      string
	Op       string
	Interval time.Duration
	CallID   int64
	// State is "queued", "running", or "recurring" (a registered recurring
	// monitor; its current execution, if any, is listed separately).
	State string
	Since time.Time
}

// LRM executes resource operations on the local node. Operations on one
// resource run strictly one at a time in request order; different
// resources run in parallel. All methods are safe for concurrent use.
//
// Every goroutine the LRM starts (one worker per busy resource, one loop
// per recurring monitor, one result dispatcher) is owned by it and ends
// before Close returns.
type LRM struct {
	cfg     Config
	log     *slog.Logger
	clock   Clock
	builtin *BuiltinExecutor
	ocf     Executor
	lsb     Executor
	systemd Executor

	ctx    context.Context // cancelled by Close: kills running agents
	cancel context.CancelFunc
	wg     sync.WaitGroup // workers and recurring loops

	mu        sync.Mutex
	closed    bool
	term      uint64
	lastCall  int64
	rscs      map[string]*rscQueue
	recurring map[string]*recurringOp // by op key
	// settling holds, by resource, the last finished joinable run until
	// another operation is accepted for the resource; once settled
	// (Config.HoldUntilSettled) only requests re-issuing its Tag join it.
	settling map[string]*opRun
	history  map[string]rcHistory // by op key
	results  []OpResult           // awaiting delivery
	stopDisp bool

	wake         chan struct{}
	dispatchDone chan struct{}
}

type rscQueue struct {
	id      string
	queue   []*opRun
	running *opRun
	active  bool // a worker goroutine owns this queue
}

type opRun struct {
	req     Request
	key     string
	callID  int64
	term    uint64
	queued  time.Time
	started time.Time
	rec     *recurringOp  // non-nil for executions of a recurring monitor
	done    chan struct{} // closed after a recurring execution completes
	// joined are later identical requests that wait for this execution's
	// result instead of running the agent again (see Execute).
	joined []joinedCall
	// result is set once the run has completed (joins then get it at once).
	result *OpResult
	// settled is set by Settled: identical requests run again, unless
	// they name in Reissues this run's Tag or that of a request joined to
	// it (tags).
	settled bool
	tags    []string
}

// joinedCall is a request joined to an identical one in flight: its own
// call ID, DC term, user data and arrival time.
type joinedCall struct {
	callID   int64
	term     uint64
	userData string
	queued   time.Time
}

type recurringOp struct {
	req       Request
	key       string
	callID    int64
	term      uint64
	since     time.Time
	stop      chan struct{}
	kick      chan struct{} // run now instead of waiting for the interval
	inflight  bool          // an execution is queued or running (until the loop re-arms)
	cancelled bool
	notified  bool
	lastRC    agent.RC
	lastSt    ExecStatus
}

type rcHistory struct {
	rc      agent.RC
	changed time.Time
}

// New creates an LRM and starts its result dispatcher.
func New(cfg Config) (*LRM, error) {
	if cfg.StateDir == "" {
		return nil, fmt.Errorf("lrm: %w: StateDir is required", ErrInvalidRequest)
	}
	if cfg.OnResult == nil {
		return nil, fmt.Errorf("lrm: %w: OnResult is required", ErrInvalidRequest)
	}
	rsctmp := filepath.Join(cfg.StateDir, "rsctmp")
	builtinDir := filepath.Join(cfg.StateDir, "agents")
	for _, d := range []string{rsctmp, builtinDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("lrm: create state dir: %w", err)
		}
	}
	l := &LRM{
		cfg:          cfg,
		log:          cfg.Logger,
		clock:        cfg.Clock,
		ocf:          cfg.OCF,
		lsb:          cfg.LSB,
		systemd:      cfg.Systemd,
		rscs:         make(map[string]*rscQueue),
		recurring:    make(map[string]*recurringOp),
		settling:     make(map[string]*opRun),
		history:      make(map[string]rcHistory),
		wake:         make(chan struct{}, 1),
		dispatchDone: make(chan struct{}),
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.clock == nil {
		l.clock = RealClock{}
	}
	if l.ocf == nil {
		l.ocf = &OCFExecutor{RscTmp: rsctmp}
	}
	if l.lsb == nil {
		l.lsb = &LSBExecutor{}
	}
	l.builtin = &BuiltinExecutor{Registry: cfg.Builtins, Node: cfg.Node, StateDir: builtinDir, Logger: l.log}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	go l.dispatch()
	return l, nil
}

// Term returns the highest DC term seen.
func (l *LRM) Term() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.term
}

// checkTermLocked rejects stale terms and records newer ones.
func (l *LRM) checkTermLocked(term uint64) error {
	if l.closed {
		return ErrClosed
	}
	if term < l.term {
		return fmt.Errorf("term %d < current %d: %w", term, l.term, ErrStaleTerm)
	}
	l.term = term
	return nil
}

func validateRequest(req *Request) error {
	if req.Op == OpProbe {
		req.Op, req.Interval = OpMonitor, 0
	}
	switch {
	case req.Rsc.ID == "" || strings.ContainsAny(req.Rsc.ID, "\x00\n"):
		return fmt.Errorf("%w: bad resource id %q", ErrInvalidRequest, req.Rsc.ID)
	case !knownOps[req.Op]:
		return fmt.Errorf("%w: %s: unknown operation %q", ErrInvalidRequest, req.Rsc.ID, req.Op)
	case req.Interval < 0 || req.Timeout < 0:
		return fmt.Errorf("%w: %s: negative interval or timeout", ErrInvalidRequest, req.Rsc.ID)
	case req.Interval > 0 && req.Op != OpMonitor:
		return fmt.Errorf("%w: %s: only monitors can be recurring", ErrInvalidRequest, req.Rsc.ID)
	case req.Rsc.Agent.Type == "":
		return fmt.Errorf("%w: %s: no agent type", ErrInvalidRequest, req.Rsc.ID)
	}
	switch req.Rsc.Agent.Class {
	case "ocf":
		if req.Rsc.Agent.Provider == "" {
			return fmt.Errorf("%w: %s: ocf agent without provider", ErrInvalidRequest, req.Rsc.ID)
		}
	case "lsb", "systemd", "service":
	default:
		return fmt.Errorf("%w: %s: unsupported agent class %q", ErrInvalidRequest, req.Rsc.ID, req.Rsc.Agent.Class)
	}
	if req.Timeout == 0 {
		req.Timeout = DefaultTimeout
	}
	// The LRM keeps the request (recurring monitors for a long time):
	// never share the caller's maps.
	req.Params, req.Meta = maps.Clone(req.Params), maps.Clone(req.Meta)
	return nil
}

// Execute accepts an operation from the DC of the given term and returns
// its call ID; the result arrives later through Config.OnResult. It never
// blocks on agent execution.
//
// A stop first cancels the resource's recurring monitors. A recurring
// monitor runs at once and then Interval after each completion, keeps its
// call ID, and is reported on its first result and whenever its RC or
// status changes (as Pacemaker's executor does). Requesting a monitor with
// the key of an existing one merges into it: the existing monitor adopts
// the new call ID, term, parameters and user data, reports its next result
// and runs at once if it was waiting for its interval. Cancelled recurring
// monitors are reported once with StatusCancelled.
//
// A one-shot start, stop, promote, demote, migrate_to or migrate_from that
// is identical (see sameOperation) to the last operation accepted for the
// resource, while that one is still queued or running, or finished but its
// result not settled (delivered to OnResult; with Config.HoldUntilSettled,
// passed to Settled), joins it instead of running the agent a second time:
// a DC elected while the first request was in flight re-issues it (the CIB
// shows it pending until the result is recorded), and these operations
// must not run twice. The joined request gets its own call ID and a result
// of its own (same outcome, its own term and user data, OpResult.JoinedTo
// naming the execution), delivered right after the result of the
// execution it joined. After its result is settled, an identical request
// still joins it if its Reissues names the run's Tag: the requester planned
// on a state that showed this very execution in flight (a DC that read the
// CIB just before the result was recorded). A different request in between
// (a stop between two starts, a recurring monitor's execution) or changed
// parameters never join.
//
// Errors: ErrStaleTerm if term is older than one already seen,
// ErrInvalidRequest, ErrClosed.
func (l *LRM) Execute(term uint64, req Request) (int64, error) {
	if err := validateRequest(&req); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkTermLocked(term); err != nil {
		return 0, fmt.Errorf("%s %s: %w", req.Rsc.ID, req.Op, err)
	}
	l.lastCall++
	id := l.lastCall
	now := l.clock.Now()
	key := OpKey(req.Rsc.ID, req.Op, req.Interval)
	if req.Op == OpStop {
		for _, rec := range l.recurring {
			if rec.req.Rsc.ID == req.Rsc.ID {
				l.cancelRecurringLocked(rec, "resource stopping")
			}
		}
	}
	if req.Interval > 0 {
		if old, ok := l.recurring[key]; ok {
			// Merge, as Pacemaker's executor does: the existing monitor takes
			// the new call ID, parameters and user data, reports its next
			// result even if unchanged, and runs at once unless it is
			// already queued or running.
			old.req, old.callID, old.term, old.notified = req, id, term, false
			if !old.inflight {
				select {
				case old.kick <- struct{}{}:
				default:
				}
			}
			l.log.Debug("recurring op merged", "rsc", req.Rsc.ID, "op", key, "call", id, "term", term)
			return id, nil
		}
		rec := &recurringOp{req: req, key: key, callID: id, term: term, since: now,
			stop: make(chan struct{}), kick: make(chan struct{}, 1)}
		l.recurring[key] = rec
		l.wg.Add(1)
		go l.recurringLoop(rec)
		l.log.Debug("recurring op registered", "rsc", req.Rsc.ID, "op", key, "call", id, "term", term)
		return id, nil
	}
	if carrier := l.joinableLocked(req); carrier != nil {
		j := joinedCall{callID: id, term: term, userData: req.UserData, queued: now}
		if req.Tag != "" {
			carrier.tags = append(carrier.tags, req.Tag)
		}
		if carrier.result != nil {
			l.pushLocked(joinedResult(*carrier.result, carrier, j))
		} else {
			carrier.joined = append(carrier.joined, j)
		}
		l.log.Info("op joined to the identical one in flight", "rsc", req.Rsc.ID, "op", key, "call", id,
			"joined_to", carrier.callID, "finished", carrier.result != nil, "term", term)
		return id, nil
	}
	l.enqueueLocked(&opRun{req: req, key: key, callID: id, term: term, queued: now})
	l.log.Debug("op queued", "rsc", req.Rsc.ID, "op", key, "call", id, "term", term)
	return id, nil
}

// joinOps are the operations a request may join instead of running again:
// the state changes a DC records as pending and may therefore re-issue
// after a failover. Probes, notifications and reloads always run.
var joinOps = map[string]bool{OpStart: true, OpStop: true, OpPromote: true, OpDemote: true,
	OpMigrateTo: true, OpMigrateFrom: true}

// joinableLocked returns the one-shot run that req may join: the last
// operation accepted for the resource (the tail of its queue, else the
// running one, else the finished one whose result is not settled), if it
// is identical to req. The caller holds l.mu.
func (l *LRM) joinableLocked(req Request) *opRun {
	if req.Interval != 0 || !joinOps[req.Op] {
		return nil
	}
	var last *opRun
	if rs, ok := l.rscs[req.Rsc.ID]; ok {
		last = rs.running
		if n := len(rs.queue); n > 0 {
			last = rs.queue[n-1]
		}
	}
	if last == nil {
		if r := l.settling[req.Rsc.ID]; r != nil && (!r.settled || r.reissuedBy(req)) {
			last = r
		}
	}
	if last == nil || last.rec != nil || !sameOperation(last.req, req) {
		return nil
	}
	return last
}

// reissuedBy reports whether req names this run, or a request joined to
// it, as the one it re-issues (a DC may have seen either recorded pending).
func (r *opRun) reissuedBy(req Request) bool {
	return req.Reissues != "" && (req.Reissues == r.req.Tag || slices.Contains(r.tags, req.Reissues))
}

// sameOperation reports whether two requests ask for the same operation:
// same resource and agent, operation, interval, timeout and parameters,
// and the same meta attributes apart from clone notification lists
// (notify_*), which describe the transition that sent the request rather
// than the operation. A changed definition (parameters) is a different
// operation and runs.
func sameOperation(a, b Request) bool {
	if a.Rsc != b.Rsc || a.Op != b.Op || a.Interval != b.Interval || a.Timeout != b.Timeout ||
		!maps.Equal(a.Params, b.Params) {
		return false
	}
	notNotify := func(m map[string]string) map[string]string {
		out := make(map[string]string, len(m))
		for k, v := range m {
			if !strings.HasPrefix(k, "notify_") {
				out[k] = v
			}
		}
		return out
	}
	return maps.Equal(notNotify(a.Meta), notNotify(b.Meta))
}

// Settled ends the hold on the finished run with this call ID (see
// Config.HoldUntilSettled): identical requests run again from now on,
// except those that name the run's Tag in Reissues (it stays the
// resource's last run until another operation is accepted for it). A
// call ID of a joined request or of no held run is ignored.
func (l *LRM) Settled(rsc string, callID int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.settling[rsc]; r != nil && r.callID == callID {
		r.settled = true
	}
}

// CancelRecurring cancels the recurring monitor rsc/op/interval for the DC
// of the given term. An execution already running completes but is not
// reported; a cancellation result is delivered instead.
func (l *LRM) CancelRecurring(term uint64, rsc, op string, interval time.Duration) error {
	key := OpKey(rsc, op, interval)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkTermLocked(term); err != nil {
		return fmt.Errorf("cancel %s: %w", key, err)
	}
	rec, ok := l.recurring[key]
	if !ok {
		return fmt.Errorf("cancel %s: %w", key, ErrNotFound)
	}
	l.cancelRecurringLocked(rec, "cancelled by request")
	return nil
}

// ErrMetaData is returned by MetaData when the agent produced none.
var ErrMetaData = errors.New("no meta-data")

// MetaData runs the meta-data action of agent k synchronously and returns
// the XML. It bypasses the resource queues (meta-data touches no resource)
// and needs no DC term; ctx bounds the call (DefaultTimeout if it has no
// deadline). Safe for concurrent use; fails with ErrClosed after Close.
func (l *LRM) MetaData(ctx context.Context, k agent.Key) (string, error) {
	req := Request{Rsc: Resource{ID: "meta-data", Agent: k}, Op: OpMetaData}
	if err := validateRequest(&req); err != nil {
		return "", err
	}
	l.mu.Lock()
	closed := l.closed
	if !closed {
		// Close waits for us, so the executors stay valid.
		l.wg.Add(1)
	}
	l.mu.Unlock()
	if closed {
		return "", ErrClosed
	}
	defer l.wg.Done()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	// Close cancels l.ctx: stop waiting then too.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	unhook := context.AfterFunc(l.ctx, stop)
	defer unhook()
	a := Action{Rsc: req.Rsc, Op: OpMetaData, Timeout: DefaultTimeout}
	if dl, ok := ctx.Deadline(); ok {
		a.Timeout = time.Until(dl)
	}
	r := l.executor(k).Exec(ctx, a)
	if r.Status != StatusDone || r.RC != agent.OK {
		return "", fmt.Errorf("meta-data of %s: rc %d (%v), status %v: %s: %w", k, int(r.RC), r.RC, r.Status, r.Reason, ErrMetaData)
	}
	if strings.TrimSpace(r.Output) == "" {
		return "", fmt.Errorf("meta-data of %s: empty output: %w", k, ErrMetaData)
	}
	return r.Output, nil
}

// Pending lists accepted operations that have not finished, and the
// registered recurring monitors, ordered by call ID.
func (l *LRM) Pending() []PendingOp {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []PendingOp
	add := func(r *opRun, state string, since time.Time) {
		id := r.callID
		if r.rec != nil {
			id = r.rec.callID // may have been merged since
		}
		out = append(out, PendingOp{Rsc: r.req.Rsc.ID, Key: r.key, Op: r.req.Op, Interval: r.req.Interval,
			CallID: id, State: state, Since: since})
	}
	addJoined := func(r *opRun, state string) {
		for _, j := range r.joined {
			out = append(out, PendingOp{Rsc: r.req.Rsc.ID, Key: r.key, Op: r.req.Op, Interval: r.req.Interval,
				CallID: j.callID, State: state, Since: j.queued})
		}
	}
	for _, rs := range l.rscs {
		if rs.running != nil {
			add(rs.running, "running", rs.running.started)
			addJoined(rs.running, "running")
		}
		for _, r := range rs.queue {
			add(r, "queued", r.queued)
			addJoined(r, "queued")
		}
	}
	for _, rec := range l.recurring {
		out = append(out, PendingOp{Rsc: rec.req.Rsc.ID, Key: rec.key, Op: rec.req.Op, Interval: rec.req.Interval,
			CallID: rec.callID, State: "recurring", Since: rec.since})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CallID != out[j].CallID {
			return out[i].CallID < out[j].CallID
		}
		return out[i].State < out[j].State
	})
	return out
}

// Close stops accepting requests, cancels recurring monitors and queued
// operations (each reported as cancelled), kills running agents (reported
// as cancelled), waits for all LRM goroutines and for the delivery of every
// result, then returns. It must not be called from OnResult. Calling Close
// again returns ErrClosed.
func (l *LRM) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	for _, rec := range l.recurring {
		l.cancelRecurringLocked(rec, "lrm shutting down")
	}
	for _, rs := range l.rscs {
		for _, r := range rs.queue {
			l.pushRunLocked(r, l.cancelledResult(r, "lrm shutting down"))
		}
		rs.queue = nil
	}
	l.closed = true
	l.mu.Unlock()

	l.cancel()
	l.wg.Wait()

	l.mu.Lock()
	l.stopDisp = true
	l.mu.Unlock()
	l.signal()
	<-l.dispatchDone
	return nil
}

// enqueueLocked appends a run to its resource queue, starting a worker if
// the resource is idle. The caller holds l.mu and has checked !l.closed.
func (l *LRM) enqueueLocked(r *opRun) {
	// A newer operation: the finished one is no longer the last.
	delete(l.settling, r.req.Rsc.ID)
	rs, ok := l.rscs[r.req.Rsc.ID]
	if !ok {
		rs = &rscQueue{id: r.req.Rsc.ID}
		l.rscs[rs.id] = rs
	}
	rs.queue = append(rs.queue, r)
	if !rs.active {
		rs.active = true
		l.wg.Add(1)
		go l.worker(rs)
	}
}

// worker drains one resource's queue, one operation at a time.
func (l *LRM) worker(rs *rscQueue) {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		if len(rs.queue) == 0 {
			rs.active = false
			if l.rscs[rs.id] == rs {
				delete(l.rscs, rs.id)
			}
			l.mu.Unlock()
			return
		}
		r := rs.queue[0]
		rs.queue = rs.queue[1:]
		rs.running = r
		r.started = l.clock.Now()
		l.mu.Unlock()

		res := l.run(r)
		finished := l.clock.Now()

		l.mu.Lock()
		rs.running = nil
		l.completeLocked(r, res, finished)
		l.mu.Unlock()
		if r.done != nil {
			close(r.done)
		}
	}
}

func (l *LRM) executor(k agent.Key) Executor {
	switch k.Class {
	case "ocf":
		if l.builtin.Has(k) {
			return l.builtin
		}
		return l.ocf
	case "lsb":
		return l.lsb
	case "systemd":
		if l.systemd == nil {
			return &SystemdExecutor{}
		}
		return l.systemd
	default: // "service"
		if l.systemd != nil {
			return l.systemd
		}
		return l.lsb
	}
}

// run executes one operation with its timeout.
func (l *LRM) run(r *opRun) Result {
	ctx, cancel := context.WithTimeout(l.ctx, r.req.Timeout)
	defer cancel()
	a := Action{Rsc: r.req.Rsc, Op: r.req.Op, Interval: r.req.Interval, Timeout: r.req.Timeout,
		Params: r.req.Params, Meta: r.req.Meta}
	return l.executor(r.req.Rsc.Agent).Exec(ctx, a)
}

// completeLocked records a result and queues it for delivery if needed.
func (l *LRM) completeLocked(r *opRun, res Result, finished time.Time) {
	h, ok := l.history[r.key]
	if !ok || h.rc != res.RC {
		h = rcHistory{rc: res.RC, changed: finished}
		l.history[r.key] = h
	}
	out := OpResult{
		Rsc: r.req.Rsc, Op: r.req.Op, Interval: r.req.Interval, Key: r.key, CallID: r.callID,
		Term: r.term, UserData: r.req.UserData,
		RC: res.RC, Status: res.Status, Reason: res.Reason, Output: res.Output, Stderr: res.Stderr,
		QueueTime: r.started.Sub(r.queued), ExecTime: finished.Sub(r.started),
		Finished: finished, LastRCChange: h.changed,
	}
	if rec := r.rec; rec != nil {
		if rec.cancelled {
			return
		}
		// A merged request may have changed the identity while we ran.
		out.CallID, out.Term, out.UserData = rec.callID, rec.term, rec.req.UserData
		if rec.notified && rec.lastRC == res.RC && rec.lastSt == res.Status {
			return
		}
		rec.notified, rec.lastRC, rec.lastSt = true, res.RC, res.Status
	}
	l.log.Info("operation complete", "rsc", out.Rsc.ID, "op", out.Key, "call", out.CallID,
		"rc", int(out.RC), "status", out.Status.String(), "exec_ms", out.ExecTime.Milliseconds(), "reason", out.Reason)
	l.pushRunLocked(r, out)
	if joinOps[r.req.Op] && r.req.Interval == 0 {
		r.result = &out
		l.settling[r.req.Rsc.ID] = r
	}
}

// pushRunLocked queues run r's result res followed by the results of the
// requests joined to it (which then leave the run). The caller holds l.mu.
func (l *LRM) pushRunLocked(r *opRun, res OpResult) {
	l.pushLocked(res)
	for _, j := range r.joined {
		l.pushLocked(joinedResult(res, r, j))
	}
	r.joined = nil
}

// joinedResult is the result of request j, joined to run r whose result
// is res: the same outcome under j's identity.
func joinedResult(res OpResult, r *opRun, j joinedCall) OpResult {
	res.CallID, res.Term, res.UserData, res.JoinedTo = j.callID, j.term, j.userData, r.callID
	if !r.started.IsZero() && r.started.After(j.queued) {
		res.QueueTime = r.started.Sub(j.queued)
	} else {
		res.QueueTime = 0
	}
	return res
}

// recurringLoop runs a recurring monitor: once at once, then Interval
// after each completion, until cancelled.
func (l *LRM) recurringLoop(rec *recurringOp) {
	defer l.wg.Done()
	for {
		done := make(chan struct{})
		l.mu.Lock()
		if l.closed || rec.cancelled {
			l.mu.Unlock()
			return
		}
		rec.inflight = true
		l.enqueueLocked(&opRun{req: rec.req, key: rec.key, callID: rec.callID, term: rec.term,
			queued: l.clock.Now(), rec: rec, done: done})
		l.mu.Unlock()
		select {
		case <-done:
		case <-rec.stop:
			return
		}
		l.mu.Lock()
		rec.inflight = false
		select { // a kick from before the execution is stale
		case <-rec.kick:
		default:
		}
		interval := rec.req.Interval
		l.mu.Unlock()
		t := l.clock.NewTimer(interval)
		select {
		case <-t.C():
		case <-rec.kick:
			t.Stop()
		case <-rec.stop:
			t.Stop()
			return
		}
	}
}

// cancelRecurringLocked stops a recurring monitor, drops its queued
// execution and reports the cancellation.
func (l *LRM) cancelRecurringLocked(rec *recurringOp, why string) {
	if rec.cancelled {
		return
	}
	rec.cancelled = true
	close(rec.stop)
	if l.recurring[rec.key] == rec {
		delete(l.recurring, rec.key)
	}
	if rs, ok := l.rscs[rec.req.Rsc.ID]; ok {
		keep := rs.queue[:0]
		for _, r := range rs.queue {
			if r.rec != rec {
				keep = append(keep, r)
			}
		}
		rs.queue = keep
	}
	l.log.Debug("recurring op cancelled", "rsc", rec.req.Rsc.ID, "op", rec.key, "call", rec.callID, "why", why)
	l.pushLocked(l.cancelledResult(&opRun{req: rec.req, key: rec.key, callID: rec.callID, term: rec.term}, why))
}

func (l *LRM) cancelledResult(r *opRun, why string) OpResult {
	now := l.clock.Now()
	return OpResult{
		Rsc: r.req.Rsc, Op: r.req.Op, Interval: r.req.Interval, Key: r.key, CallID: r.callID,
		Term: r.term, UserData: r.req.UserData, RC: agent.Cancelled, Status: StatusCancelled,
		Reason: why, Finished: now, LastRCChange: l.history[r.key].changed,
	}
}

func (l *LRM) pushLocked(r OpResult) {
	l.results = append(l.results, r)
	l.signal()
}

func (l *LRM) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// dispatch delivers results to OnResult, one at a time, until Close.
func (l *LRM) dispatch() {
	defer close(l.dispatchDone)
	for {
		l.mu.Lock()
		batch := l.results
		l.results = nil
		stop := l.stopDisp
		l.mu.Unlock()
		for _, r := range batch {
			l.cfg.OnResult(r)
			if !l.cfg.HoldUntilSettled && r.JoinedTo == 0 {
				l.Settled(r.Rsc.ID, r.CallID)
			}
		}
		if len(batch) > 0 {
			continue
		}
		if stop {
			return
		}
		<-l.wake
	}
}
