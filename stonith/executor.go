package stonith

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"sync"

	"github.com/gocrm/gocrm/stonith/fsm"
)

// Executor errors.
var (
	// ErrClosed: the executor was closed.
	ErrClosed = errors.New("fencing executor closed")
	// ErrFenceFailed: the operation ended in the failed state.
	ErrFenceFailed = errors.New("fencing failed")
)

// MaxHistory bounds the in-memory fencing history of an Executor.
const MaxHistory = 500

// Remote runs a plan step on another node's fencer. The DC integration
// implements it over the cluster RPC; the peer calls Executor.RunStep.
type Remote interface {
	// RunStep executes step (step.Device acting on target) on node and
	// returns nil only on confirmed success. It must honour ctx.
	RunStep(ctx context.Context, node, target string, step fsm.Step) error
}

// ExecutorConfig configures an Executor. Devices, topology and options
// can be replaced later with Reconfigure. A zero Options means
// fsm.DefaultOptions(); otherwise a missing action, timeout or attempt
// count takes its default.
type ExecutorConfig struct {
	// Node is the local node name.
	Node     string
	Options  fsm.Options
	Topology fsm.Topology
	Devices  []*Configured
	// RunsOn maps device id → node where its resource is active.
	RunsOn map[string]string
	// Remote runs steps whose executor is another node; nil runs every
	// step locally (single host, sandbox clusters).
	Remote Remote
	// Clock times delays and stamps records (RealClock if nil).
	Clock Clock
	// Rand draws pcmk_delay_max delays (seeded math/rand if nil). The
	// executor serialises its use.
	Rand   fsm.Rand
	Logger *slog.Logger
	// OnRecord is called with the pending record when an operation starts
	// and with the final record when it ends, from the operation's
	// goroutine; it must not block for long and must not call Close.
	OnRecord func(fsm.Record)
}

// Executor drives fencing operations (fsm.Operation) against real devices.
// Each operation runs on a goroutine owned by the Executor; Close cancels
// them and waits for their exit. Identical requests (same target and
// action) in flight are merged. With concurrent-fencing=false operations
// run one at a time. All methods are safe for concurrent use.
type Executor struct {
	mu       sync.Mutex
	cfg      ExecutorConfig
	devices  map[string]*Configured
	inflight map[string]*Handle
	history  []fsm.Record
	seq      int
	closed   bool
	sem      chan struct{}            // serialises operations when !Options.Concurrent
	limits   map[string]chan struct{} // pcmk_action_limit, by device id and limit
	randMu   sync.Mutex

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewExecutor returns a running executor.
func NewExecutor(cfg ExecutorConfig) (*Executor, error) {
	if cfg.Node == "" {
		return nil, fmt.Errorf("new fencing executor: %w", &fsm.ParamError{Param: "node", Msg: "empty"})
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Executor{inflight: map[string]*Handle{}, sem: make(chan struct{}, 1), limits: map[string]chan struct{}{}, ctx: ctx, cancel: cancel}
	e.setConfig(cfg)
	return e, nil
}

func (e *Executor) setConfig(cfg ExecutorConfig) {
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewSource(rand.Int63()))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := fsm.DefaultOptions()
	if cfg.Options == (fsm.Options{}) {
		cfg.Options = def
	}
	if cfg.Options.Action == "" {
		cfg.Options.Action = def.Action
	}
	if cfg.Options.Timeout <= 0 {
		cfg.Options.Timeout = def.Timeout
	}
	if cfg.Options.MaxAttempts < 1 {
		cfg.Options.MaxAttempts = def.MaxAttempts
	}
	e.cfg = cfg
	e.devices = make(map[string]*Configured, len(cfg.Devices))
	for _, d := range cfg.Devices {
		e.devices[d.ID] = d
	}
}

// Reconfigure replaces devices, topology, options and placement; running
// operations keep the configuration they started with. Node is kept.
func (e *Executor) Reconfigure(cfg ExecutorConfig) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cfg.Node = e.cfg.Node
	e.setConfig(cfg)
}

// Handle is a started fencing operation.
type Handle struct {
	done   chan struct{}
	cancel context.CancelFunc
	rec    fsm.Record
	plan   fsm.Plan
	err    error
}

// Done is closed when the operation has finished.
func (h *Handle) Done() <-chan struct{} { return h.done }

// Cancel asks the operation to stop (it ends as failed).
func (h *Handle) Cancel() { h.cancel() }

// Result returns the final record and error (nil when the target was
// fenced; wraps ErrFenceFailed, ErrNoDevice or ErrClosed otherwise). Valid
// only after Done is closed.
func (h *Handle) Result() (fsm.Record, error) { return h.rec, h.err }

// Plan returns the plan the operation followed (valid after Done).
func (h *Handle) Plan() fsm.Plan { return h.plan }

// Start begins fencing req.Target (asynchronously). If an operation for
// the same target and action is already running, its handle is returned.
// Empty req.ID and req.Origin are filled in.
func (e *Executor) Start(req fsm.Request) (*Handle, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	cfg := e.cfg
	if req.Action == "" {
		req.Action = cfg.Options.Action
	}
	key := req.Target + "/" + string(req.Action)
	if h, ok := e.inflight[key]; ok {
		return h, nil
	}
	e.seq++
	if req.Origin == "" {
		req.Origin = cfg.Node
	}
	if req.ID == "" {
		req.ID = fmt.Sprintf("%s-%d-%d", cfg.Node, cfg.Clock.Now().UnixNano(), e.seq)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	h := &Handle{done: make(chan struct{}), cancel: cancel}
	e.inflight[key] = h
	devs := make(map[string]*Configured, len(e.devices))
	for k, v := range e.devices {
		devs[k] = v
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer cancel()
		e.run(ctx, h, req, cfg, devs)
		e.mu.Lock()
		delete(e.inflight, key)
		e.addHistory(h.rec)
		e.mu.Unlock()
		close(h.done)
	}()
	return h, nil
}

// Fence fences req.Target and waits for the outcome. If ctx ends first it
// returns ctx's error; the operation itself continues (other callers may
// share it) until it finishes or the executor is closed.
func (e *Executor) Fence(ctx context.Context, req fsm.Request) (fsm.Record, error) {
	h, err := e.Start(req)
	if err != nil {
		return fsm.Record{}, fmt.Errorf("fence %s: %w", req.Target, err)
	}
	select {
	case <-h.Done():
		return h.Result()
	case <-ctx.Done():
		return fsm.Record{}, fmt.Errorf("fence %s: %w", req.Target, ctx.Err())
	}
}

// History returns the records of finished operations, oldest first.
func (e *Executor) History() []fsm.Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]fsm.Record(nil), e.history...)
}

func (e *Executor) addHistory(r fsm.Record) {
	e.history = append(e.history, r)
	if n := len(e.history) - MaxHistory; n > 0 {
		e.history = append([]fsm.Record(nil), e.history[n:]...)
	}
}

// Close cancels running operations (they end as failed) and waits for
// their goroutines. Later Start calls return ErrClosed.
func (e *Executor) Close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
}

type seqRand struct {
	e *Executor
	r fsm.Rand
}

func (s seqRand) Int63n(n int64) int64 {
	s.e.randMu.Lock()
	defer s.e.randMu.Unlock()
	return s.r.Int63n(n)
}

// run executes one operation; it is the body of the operation goroutine.
func (e *Executor) run(ctx context.Context, h *Handle, req fsm.Request, cfg ExecutorConfig, devs map[string]*Configured) {
	log := cfg.Logger.With("target", req.Target, "action", string(req.Action), "op", req.ID)
	emit := func(r fsm.Record) {
		if cfg.OnRecord != nil {
			cfg.OnRecord(r)
		}
	}
	if !cfg.Options.Concurrent {
		select {
		case e.sem <- struct{}{}:
			defer func() { <-e.sem }()
		case <-ctx.Done():
			now := cfg.Clock.Now()
			h.rec = fsm.Record{ID: req.ID, Target: req.Target, Action: req.Action, Origin: req.Origin, Client: req.Client,
				State: fsm.StateFailed, Created: now, Completed: now, Error: "cancelled: " + ctx.Err().Error()}
			h.err = fmt.Errorf("fence %s: %w: %s", req.Target, ErrFenceFailed, h.rec.Error)
			emit(h.rec)
			return
		}
	}
	infos := make([]fsm.DeviceInfo, 0, len(devs))
	for _, d := range devs {
		infos = append(infos, fsm.DeviceInfo{Spec: d.Spec, RunsOn: cfg.RunsOn[d.ID]})
	}
	req.DynamicLists, req.StatusOK = probe(ctx, devs, req.Target, cfg.Options, log, req.DynamicLists, req.StatusOK)
	plan, err := fsm.BuildPlan(cfg.Options, cfg.Topology, infos, req, seqRand{e, cfg.Rand})
	for _, s := range plan.Skipped {
		log.Warn("fencing level skipped", "reason", s)
	}
	h.plan = plan
	now := cfg.Clock.Now()
	if err != nil {
		h.rec = fsm.Record{ID: req.ID, Target: req.Target, Action: req.Action, Origin: req.Origin, Client: req.Client,
			State: fsm.StateFailed, Created: now, Completed: now, Error: err.Error()}
		h.err = err
		log.Error("cannot fence", "err", err)
		emit(h.rec)
		return
	}
	op := fsm.NewOperation(plan, req, cfg.Options, now)
	log.Info("fencing requested", "delay", plan.Delay, "levels", len(plan.Levels))
	emit(op.Record())
	for !op.Finished() {
		n := op.Next(cfg.Clock.Now())
		switch n.Kind {
		case fsm.NextWait:
			t := cfg.Clock.NewTimer(n.Until.Sub(cfg.Clock.Now()))
			select {
			case <-t.C():
			case <-ctx.Done():
				t.Stop()
				op.Cancel(cfg.Clock.Now(), ctx.Err().Error())
			}
		case fsm.NextRun:
			st := n.Step
			slg := log.With("device", st.Device, "device_action", string(st.Action), "executor", st.Executor,
				"attempt", n.Attempt, "level", n.Level, "try", n.Try)
			slg.Info("fencing step")
			err := e.runStep(ctx, cfg, devs, req.Target, st)
			if ctx.Err() != nil {
				op.Cancel(cfg.Clock.Now(), ctx.Err().Error())
				break
			}
			if err != nil {
				slg.Warn("fencing step failed", "err", err)
			}
			_ = op.Report(cfg.Clock.Now(), fsm.StepResult{Err: err})
		}
	}
	h.rec = op.Record()
	if h.rec.State != fsm.StateDone {
		h.err = fmt.Errorf("fence %s: %w: %s", req.Target, ErrFenceFailed, h.rec.Error)
		log.Error("fencing failed", "err", h.rec.Error)
	} else {
		log.Info("fencing succeeded", "delegate", h.rec.Delegate, "devices", h.rec.Devices)
	}
	emit(h.rec)
}

// RunStep executes one plan step with a local device, bounded by the
// step's timeout. The DC integration calls it when a peer asks this node
// to run a step (the server side of Remote).
func (e *Executor) RunStep(ctx context.Context, target string, step fsm.Step) error {
	e.mu.Lock()
	cfg := e.cfg
	devs := e.devices
	e.mu.Unlock()
	cfg.Remote = nil
	return e.runStep(ctx, cfg, devs, target, step)
}

func (e *Executor) runStep(ctx context.Context, cfg ExecutorConfig, devs map[string]*Configured, target string, st fsm.Step) error {
	if cfg.Remote != nil && st.Executor != "" && st.Executor != cfg.Node {
		if err := cfg.Remote.RunStep(ctx, st.Executor, target, st); err != nil {
			return &DeviceError{Device: st.Device, Target: target, Action: st.Action, Err: fmt.Errorf("on %s: %w", st.Executor, err)}
		}
		return nil
	}
	d, ok := devs[st.Device]
	if !ok {
		return &DeviceError{Device: st.Device, Target: target, Action: st.Action, Err: ErrNotInstalled}
	}
	timeout := st.Timeout
	if timeout <= 0 {
		timeout = d.Spec.Timeout(st.Action, cfg.Options.Timeout)
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if lim := e.limiter(d); lim != nil {
		select {
		case lim <- struct{}{}:
			defer func() { <-lim }()
		case <-sctx.Done():
			return &DeviceError{Device: st.Device, Target: target, Action: st.Action,
				Err: fmt.Errorf("%w waiting for pcmk_action_limit: %w", ErrTimeout, sctx.Err())}
		}
	}
	err := d.Device.Fence(sctx, target, st.Action)
	if err != nil && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
		err = fmt.Errorf("%w after %v: %w", ErrTimeout, timeout, err)
	}
	if err != nil {
		return &DeviceError{Device: st.Device, Target: target, Action: st.Action, Err: err}
	}
	return nil
}

// limiter returns the semaphore enforcing d's pcmk_action_limit (nil when
// unlimited).
func (e *Executor) limiter(d *Configured) chan struct{} {
	n := d.Spec.ActionLimit
	if n < 1 {
		return nil
	}
	key := fmt.Sprintf("%s/%d", d.ID, n)
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.limits[key]
	if !ok {
		l = make(chan struct{}, n)
		e.limits[key] = l
	}
	return l
}

// probe asks dynamic-list devices for their targets and status-check
// devices about target, skipping devices already answered in known.
func probe(ctx context.Context, devs map[string]*Configured, target string, opts fsm.Options, log *slog.Logger,
	lists map[string][]string, status map[string]bool) (map[string][]string, map[string]bool) {
	outL := map[string][]string{}
	for k, v := range lists {
		outL[k] = v
	}
	outS := map[string]bool{}
	for k, v := range status {
		outS[k] = v
	}
	for id, d := range devs {
		switch d.Spec.HostCheck {
		case fsm.CheckDynamicList:
			if _, ok := outL[id]; ok {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, d.Spec.Timeout(fsm.ActionList, opts.Timeout))
			l, err := d.Device.List(pctx)
			cancel()
			if err != nil {
				log.Warn("fence device list failed", "device", id, "err", err)
				continue
			}
			outL[id] = l
		case fsm.CheckStatus:
			if _, ok := outS[id]; ok {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, d.Spec.Timeout(fsm.ActionStatus, opts.Timeout))
			_, err := d.Device.Status(pctx, target)
			cancel()
			if err != nil {
				log.Warn("fence device status failed", "device", id, "err", err)
			}
			outS[id] = err == nil
		}
	}
	return outL, outS
}
