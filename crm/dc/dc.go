// Package dc is the Designated Controller: the leader-only loop of gocrm
// (Pacemaker's pacemaker-controld while it is DC). It runs on the raft
// leader for exactly one leadership term:
//
//  1. Barrier, so the local CIB holds every committed change;
//  2. record dc-uuid and have-quorum in the CIB;
//  3. loop: on every CIB change, membership event, action result or the
//     cluster-recheck-interval, reconcile membership (raft voters, CIB
//     nodes, offline marks), run the scheduler on the current CIB, and
//     drive the transition engine (package transition): dispatch resource
//     actions to nodes over noderpc (with the raft term, so a deposed DC is
//     refused), fencing through a Fencer, and run the controller's own node
//     tasks (clear_failcount, lrm_delete) as CIB commands. Transitions
//     that keep failing with the same plan are retried with a growing
//     delay (backoff.go).
//
// The loop ends when its context is cancelled (leadership lost). Wall-clock
// time enters only here (Config.Wall, passed to the pure scheduler) as does
// the clock of the engine's timeouts (Config.Now).
//
// Concurrency: a DC is driven by Run on one goroutine; Idle and
// TransitionCount may be called from any goroutine. Run owns one goroutine
// per action in flight and per raft-server addition, and waits for them.
package dc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/digest"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/crm/noderpc"
	"github.com/gocrm/gocrm/crm/scheduler"
	"github.com/gocrm/gocrm/crm/transition"
	"github.com/gocrm/gocrm/membership"
)

// Raft is the consensus interface the DC needs (implemented by
// *consensus.Node).
type Raft interface {
	Apply(ctx context.Context, cmd []byte) (consensus.Result, error)
	Barrier(ctx context.Context) error
	Servers() ([]consensus.Server, error)
	AddServer(ctx context.Context, id, addr string) error
}

// Members lists the live gossip members (implemented by
// *membership.Agent).
type Members interface {
	Members() []membership.Member
}

// Sender delivers an action to a node (implemented by *noderpc.Client).
type Sender interface {
	Call(ctx context.Context, addr string, req noderpc.ActionRequest) (noderpc.ActionResult, error)
}

// Fencer fences a node and returns nil only once the fencing is confirmed.
type Fencer interface {
	Fence(ctx context.Context, cur *cib.CIB, target, action string, online []string) error
}

// Config configures a DC.
type Config struct {
	// Node is this node's name; Term the raft term of this leadership.
	Node string
	Term uint64
	// Store is the local CIB (the raft FSM); Raft commits changes.
	Store   *store.Store
	Raft    Raft
	Members Members
	Sender  Sender
	// Fencer runs fencing actions; nil fails them (no device).
	Fencer Fencer
	// Events carries coalesced membership notifications (may be nil);
	// Failed carries names of members that failed or left (may be nil).
	Events <-chan struct{}
	Failed <-chan membership.Event
	// Now is the clock of timeouts, retries and grace periods (time.Now
	// if nil); its readings are only compared with each other.
	Now func() time.Time
	// Wall is the wall clock given to the scheduler (failure-timeout,
	// rules, CIB timestamps); Now if nil. A node whose wall clock jumps
	// must not see its timeouts jump with it, hence two clocks.
	Wall   func() time.Time
	Logger *slog.Logger
	// MissingGrace is how long a node marked online in the CIB may be
	// absent from membership before the DC marks it offline (default 2 s;
	// failure events act at once).
	MissingGrace time.Duration
	// ActionMargin is added to an action's timeout for the RPC and the
	// engine deadline (default 10 s).
	ActionMargin time.Duration
}

// DC is one leadership term's controller.
type DC struct {
	cfg  Config
	log  *slog.Logger
	uuid string
	// plant is the CTS planted bug (test only, see ctsplant.go); "" = none.
	plant string
	idle  atomic.Bool
	// idleCIB is the CIB on which the scheduler last planned nothing.
	idleCIB atomic.Pointer[cib.CIB]
	count   atomic.Int64

	wg      sync.WaitGroup
	results chan actionDone

	// loop state (Run goroutine only)
	runCtx       context.Context
	transitionID int
	eng          *transition.Engine
	actions      map[int]*scheduler.Action
	baseline     uint64
	// planned is the CIB the running transition was computed from (its
	// pending operations are what execute may re-issue).
	planned      *cib.CIB
	touched      map[string]bool // node + "\x00" + rsc of the running transition's actions
	lastKeys     string
	repeats      int
	missingSince map[string]time.Time
	retryAt      time.Time // re-plan after an incomplete transition (zero: none)
	adding       map[string]bool
	addDone      chan string

	// failure backoff (backoff.go)
	planSig    string // actions of the last planned transition
	failSig    string // actions of the last failed one
	failStreak int
	holdUntil  time.Time
	holdFor    uint64

	// inflight holds the cancel functions of node RPCs in progress, per
	// target node, so that losing a node fails its actions at once instead
	// of after their timeout (action goroutines and the Run goroutine).
	inflightMu sync.Mutex
	inflight   map[string]map[*context.CancelFunc]struct{}
}

type actionDone struct {
	id  int
	ok  bool
	err error
}

// New returns a DC; call Run.
func New(cfg Config) (*DC, error) {
	if cfg.Node == "" || cfg.Store == nil || cfg.Raft == nil || cfg.Members == nil || cfg.Sender == nil {
		return nil, errors.New("dc: Node, Store, Raft, Members and Sender are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Wall == nil {
		cfg.Wall = cfg.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MissingGrace <= 0 {
		cfg.MissingGrace = 2 * time.Second
	}
	if cfg.ActionMargin <= 0 {
		cfg.ActionMargin = 10 * time.Second
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	d := &DC{cfg: cfg, log: cfg.Logger.With("component", "dc", "term", cfg.Term), uuid: hex.EncodeToString(b[:]),
		results: make(chan actionDone, 64), missingSince: map[string]time.Time{}, adding: map[string]bool{},
		addDone: make(chan string, 16)}
	d.plant = plantFromEnv(d.log)
	return d, nil
}

// Idle reports whether no transition is running and the scheduler planned
// nothing on the current CIB.
func (d *DC) Idle() bool {
	return d.idle.Load() && d.idleCIB.Load() == d.cfg.Store.Current()
}

// TransitionCount returns how many transitions were started.
func (d *DC) TransitionCount() int64 { return d.count.Load() }

func (d *DC) apply(ctx context.Context, c store.Command) error {
	_, err := d.cfg.Raft.Apply(ctx, c.Encode())
	if err != nil {
		return fmt.Errorf("dc: %s %s: %w", c.Op, c.Node, err)
	}
	return nil
}

// Run is the DC loop. It returns when ctx ends (nil) or when the DC cannot
// establish itself (Barrier failed).
func (d *DC) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		d.wg.Wait()
	}()
	d.runCtx = ctx
	bctx, bcancel := context.WithTimeout(ctx, 10*time.Second)
	err := d.cfg.Raft.Barrier(bctx)
	bcancel()
	if err != nil {
		return fmt.Errorf("dc: barrier: %w", err)
	}
	for _, kv := range [][2]string{{"dc-uuid", d.cfg.Node}, {"have-quorum", "1"}} {
		if d.cfg.Store.Current().GetAttr(kv[0]) == kv[1] {
			continue
		}
		if err := d.apply(ctx, store.Command{Op: store.OpSetCIBAttr, Name: kv[0], Value: kv[1]}); err != nil {
			return err
		}
	}
	d.log.Info("became DC")
	notify := d.cfg.Store.Subscribe()
	dirty := true
	var recheckAt time.Time
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := d.cfg.Now()
		d.reconcile(ctx, now)
		retry := !d.retryAt.IsZero() && !now.Before(d.retryAt)
		if d.eng == nil && (dirty || retry || !now.Before(recheckAt)) && !d.holding(now) {
			dirty = false
			d.retryAt = time.Time{}
			recheckAt = now.Add(d.schedule(ctx, now))
		}
		if d.eng != nil {
			d.drive(ctx, now)
		}
		d.idle.Store(d.eng == nil && !dirty && d.lastKeys == "")
		wait := recheckAt.Sub(now)
		if !d.retryAt.IsZero() && d.retryAt.Sub(now) < wait {
			wait = d.retryAt.Sub(now)
		}
		if d.eng == nil && d.holding(now) {
			// Due triggers (dirty, retry, recheck) wait for the backoff.
			wait = d.holdUntil.Sub(now)
		}
		if d.eng != nil {
			if dl, ok := d.eng.NextDeadline(); ok && dl.Sub(now) < wait {
				wait = dl.Sub(now)
			}
		}
		if len(d.missingSince) > 0 && wait > 500*time.Millisecond {
			wait = 500 * time.Millisecond
		}
		if wait < time.Millisecond {
			wait = time.Millisecond
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			d.log.Info("DC stopped")
			return nil
		case <-notify:
			dirty = true
			if d.eng != nil {
				if fp := d.fingerprint(d.cfg.Store.Current()); fp != d.baseline {
					d.eng.Abort("CIB changed")
				}
			}
		case <-d.cfg.Events:
			dirty = true
		case ev := <-d.cfg.Failed:
			d.memberDown(ctx, ev)
			dirty = true
		case r := <-d.results:
			d.finish(r)
		case name := <-d.addDone:
			delete(d.adding, name)
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// memberDown marks a failed or departed member offline in the CIB.
func (d *DC) memberDown(ctx context.Context, ev membership.Event) {
	name := ev.Member.Name
	// Events may have waited in the queue while this node was not DC: a
	// member that is alive again (restarted, refuted) is not marked.
	for _, m := range d.cfg.Members.Members() {
		if m.Name == name && !m.Meta.Leaving {
			return
		}
	}
	ns := nodeState(d.cfg.Store.Current(), name)
	if ns == nil || (ns.InCCM != "true" && ns.Crmd != "online") {
		return
	}
	attrs := map[string]string{"in_ccm": "false", "crmd": "offline"}
	if ev.Kind == membership.EventLeave || ev.Member.Meta.Leaving {
		attrs["join"], attrs["expected"] = "down", "down"
	}
	d.log.Warn("node left the membership; marking it offline", "node", name, "event", ev.Kind.String())
	d.cancelInflight(name)
	if err := d.apply(ctx, store.Command{Op: store.OpNodeState, Node: name, Attrs: attrs}); err != nil {
		d.log.Error("marking node offline failed", "node", name, "err", err)
	}
}

func nodeState(c *cib.CIB, name string) *cib.NodeState {
	for _, ns := range c.Status.Nodes {
		if ns.Uname == name || (ns.Uname == "" && ns.ID == name) {
			return ns
		}
	}
	return nil
}

// reconcile adds raft voters for new members, adds missing nodes to the
// configuration and marks nodes absent from membership offline.
func (d *DC) reconcile(ctx context.Context, now time.Time) {
	members := d.cfg.Members.Members()
	live := map[string]membership.Member{}
	for _, m := range members {
		live[m.Name] = m
	}
	// Raft voters.
	if servers, err := d.cfg.Raft.Servers(); err == nil {
		have := map[string]bool{}
		for _, s := range servers {
			if s.Voter {
				have[s.ID] = true
			}
		}
		for _, s := range consensus.ServersFromMembers(members) {
			if have[s.ID] || d.adding[s.ID] {
				continue
			}
			d.adding[s.ID] = true
			d.wg.Add(1)
			go func(id, addr string) {
				defer d.wg.Done()
				actx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				if err := d.cfg.Raft.AddServer(actx, id, addr); err != nil {
					d.log.Warn("adding raft server failed", "node", id, "err", err)
				} else {
					d.log.Info("raft server added", "node", id, "addr", addr)
				}
				select {
				case d.addDone <- id:
				case <-ctx.Done():
				}
			}(s.ID, s.Address)
		}
	}
	cur := d.cfg.Store.Current()
	// Configuration nodes (arbiters are never CIB nodes: they run nothing).
	var missing []string
	for _, m := range members {
		if m.Meta.Role == membership.RoleArbiter {
			continue
		}
		found := false
		for _, n := range cur.Config.Nodes {
			if n.Uname == m.Name {
				found = true
			}
		}
		// Only nodes that announced themselves (their node_state exists)
		// are added: a node in <nodes> without a node_state would count as
		// unseen and be fenced at startup when stonith is enabled.
		if !found && nodeState(cur, m.Name) != nil {
			missing = append(missing, m.Name)
		}
	}
	if len(missing) > 0 {
		if err := d.addNodes(ctx, cur, missing); err != nil {
			d.log.Warn("adding nodes to the configuration failed", "nodes", missing, "err", err)
		}
	}
	// Nodes online in the CIB but absent from membership.
	for _, ns := range cur.Status.Nodes {
		name := ns.Uname
		if name == "" {
			name = ns.ID
		}
		if _, ok := live[name]; ok || (ns.InCCM != "true" && ns.Crmd != "online") {
			delete(d.missingSince, name)
			continue
		}
		since, ok := d.missingSince[name]
		if !ok {
			d.missingSince[name] = now
			continue
		}
		if now.Sub(since) >= d.cfg.MissingGrace {
			delete(d.missingSince, name)
			d.memberDown(ctx, membership.Event{Kind: membership.EventFailed, Member: membership.Member{Name: name}})
		}
	}
}

// addNodes appends nodes (id = name) to the configuration.
func (d *DC) addNodes(ctx context.Context, cur *cib.CIB, names []string) error {
	next := *cur
	next.Config.Nodes = append([]*cib.Node(nil), cur.Config.Nodes...)
	for _, n := range names {
		next.Config.Nodes = append(next.Config.Nodes, &cib.Node{ID: n, Uname: n})
	}
	next.Status = cib.Status{}
	d.log.Info("adding nodes to the configuration", "nodes", names)
	return d.apply(ctx, store.Command{Op: store.OpReplaceConfiguration, ExpectEpoch: store.EpochString(cur), XML: string(next.Marshal())})
}

// options returns the crm_config properties (first value wins).
func options(c *cib.CIB) map[string]string {
	out := map[string]string{}
	for _, s := range c.Config.CRMConfig {
		for _, p := range s.Pairs {
			if _, ok := out[p.Name]; !ok {
				out[p.Name] = p.Value
			}
		}
	}
	return out
}

// parseInterval parses a Pacemaker interval: a number with an optional
// unit (ms, s, m or min, h; seconds by default). Unparsable values give def.
func parseInterval(s string, def time.Duration) time.Duration {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return def
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return def
	}
	unit := map[string]time.Duration{"": time.Second, "s": time.Second, "sec": time.Second, "ms": time.Millisecond,
		"m": time.Minute, "min": time.Minute, "h": time.Hour, "hr": time.Hour}
	u, ok := unit[strings.TrimSpace(s[i:])]
	if !ok {
		return def
	}
	return time.Duration(n) * u
}

// schedule runs the scheduler and starts a transition; it returns the
// delay until the next periodic recheck.
func (d *DC) schedule(ctx context.Context, now time.Time) time.Duration {
	cur := d.cfg.Store.Current()
	opts := options(cur)
	recheck := parseInterval(opts["cluster-recheck-interval"], 15*time.Minute)
	if recheck <= 0 {
		recheck = 15 * time.Minute
	}
	tr, err := scheduler.Schedule(cur, d.cfg.Wall())
	if err != nil {
		d.log.Error("scheduler failed", "err", err)
		return min(recheck, 10*time.Second)
	}
	var keys []string
	real := 0
	for _, a := range tr.GraphActions() {
		if !a.Pseudo {
			real++
			node := ""
			if a.Node != nil {
				node = a.Node.Name
			}
			keys = append(keys, a.Key()+"@"+node)
		}
	}
	sort.Strings(keys)
	sig := strings.Join(keys, ",")
	d.planSig = sig // backoff.go
	if real == 0 {
		d.lastKeys, d.repeats = "", 0
		d.idleCIB.Store(cur)
		return recheck
	}
	if sig == d.lastKeys {
		d.repeats++
		if d.repeats >= 3 {
			// The same plan keeps coming back without changing anything
			// (an action whose result the scheduler cannot see): stop
			// looping until the recheck interval or a real change.
			d.log.Warn("identical transition planned repeatedly; waiting for a change", "actions", sig)
			d.lastKeys = ""
			return min(recheck, 30*time.Second)
		}
	} else {
		d.lastKeys, d.repeats = sig, 0
	}
	batch, _ := strconv.Atoi(opts["batch-limit"])
	if batch <= 0 {
		batch = 30
	}
	d.transitionID++
	d.count.Add(1)
	byID := map[int]*scheduler.Action{}
	for _, a := range tr.GraphActions() {
		byID[a.ID] = a
	}
	g := transition.FromSchedule(tr, d.transitionID, batch, func(a *scheduler.Action) time.Duration {
		if a.Task == "stonith" {
			return 5*time.Minute + d.cfg.ActionMargin
		}
		return time.Duration(d.timeoutMS(cur, tr.Cluster, a))*time.Millisecond + d.cfg.ActionMargin
	})
	eng, err := transition.New(g)
	if err != nil {
		d.log.Error("invalid transition graph", "err", err)
		return recheck
	}
	d.eng, d.actions = eng, byID
	d.touched = map[string]bool{}
	for _, a := range tr.GraphActions() {
		if a.Rsc != nil && a.Node != nil {
			d.touched[a.Node.Name+"\x00"+a.Rsc.HistoryID()] = true
		}
	}
	d.baseline = d.fingerprint(cur)
	d.planned = cur
	d.log.Info("transition started", "transition", d.transitionID, "actions", real, "summary", tr.Summary)
	return recheck
}

// retryDelay is how long the DC waits before planning again after an
// incomplete transition.
const retryDelay = 2 * time.Second

// drive dispatches ready actions, expires late ones and finishes the
// transition when it is over.
func (d *DC) drive(ctx context.Context, now time.Time) {
	for _, id := range d.eng.Expire(now) {
		d.log.Warn("action timed out", "transition", d.transitionID, "action", d.actions[id].String())
	}
	for _, id := range d.eng.Dispatch(now) {
		a := d.actions[id]
		cur, planned := d.cfg.Store.Current(), d.planned
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			ok, err := d.execute(ctx, cur, planned, a)
			select {
			case d.results <- actionDone{id: id, ok: ok, err: err}:
			case <-ctx.Done():
			}
		}()
	}
	if d.eng.Done() {
		s := d.eng.Summary()
		d.log.Info("transition finished", "transition", d.transitionID, "complete", s.Complete(),
			"confirmed", s.Confirmed, "failed", s.Failed, "timed_out", s.TimedOut, "aborted", s.Aborted, "reason", s.Reason)
		d.noteTransitionEnd(now, s.Failed > 0 || s.TimedOut > 0)
		if !s.Complete() {
			d.lastKeys = ""
			// A failed action (a fence device that failed, a node that
			// did not answer) is retried without waiting for a change.
			d.retryAt = now.Add(retryDelay)
		}
		d.eng, d.actions = nil, nil
	}
}

func (d *DC) finish(r actionDone) {
	if d.eng == nil {
		return
	}
	a := d.actions[r.id]
	if r.err != nil || !r.ok {
		d.log.Warn("action failed", "transition", d.transitionID, "action", a.String(), "err", r.err)
	} else {
		d.log.Debug("action confirmed", "transition", d.transitionID, "action", a.String())
	}
	if err := d.eng.Confirm(r.id, r.ok && r.err == nil); err != nil {
		d.log.Debug("late confirmation", "action", a.String(), "err", err)
	}
	d.drive(d.runCtx, d.cfg.Now())
}

// fingerprint hashes the parts of the CIB whose change requires a new plan.
// Operation histories of the resources the running transition acts on are
// left out: their entries change as the transition's own results are
// recorded (a failure among them aborts through its confirmation instead).
func (d *DC) fingerprint(c *cib.CIB) uint64 {
	return hashNodes(c, nil, func(w func(...string), ns *cib.NodeState) {
		for _, r := range ns.Resources {
			if d.eng != nil && d.touched[ns.Uname+"\x00"+r.ID] {
				continue
			}
			for _, op := range r.Ops {
				w(r.ID, op.ID, strconv.Itoa(op.CallID), strconv.Itoa(op.RCCode), strconv.Itoa(op.OpStatus))
			}
		}
	})
}

// digestInput resolves the definition of a's operation on its node.
func digestInput(cur *cib.CIB, cl *scheduler.Cluster, a *scheduler.Action) (digest.Input, error) {
	attrs := digest.NodeAttrs{}
	if a.Node != nil {
		for k, v := range a.Node.Attrs {
			attrs[k] = v
		}
	}
	var idx *cib.Index
	var now time.Time
	if cl != nil {
		idx, now = cl.Index, cl.Now
	}
	return digest.FromCIB(digest.Config{CIB: &cur.Config, Index: idx, Now: now}, attrs, a.Rsc.ID, a.Task, a.Interval)
}

func (d *DC) timeoutMS(cur *cib.CIB, cl *scheduler.Cluster, a *scheduler.Action) int64 {
	if a.Rsc == nil {
		return digest.DefaultTimeoutMS
	}
	in, err := digestInput(cur, cl, a)
	if err != nil {
		return digest.DefaultTimeoutMS
	}
	return digest.TimeoutMS(in.Timeout)
}

// targetRC is the result an action must return to succeed.
func targetRC(a *scheduler.Action) int {
	if a.Task != "monitor" {
		return 0
	}
	if a.Interval == 0 || a.StoppedRole {
		return 7
	}
	for _, op := range a.Rsc.Ops {
		if op.Name == "monitor" && op.Interval == a.Interval && op.Role == scheduler.RolePromoted {
			return 8
		}
	}
	return 0
}

// TransitionKey formats "ACTION:TRANSITION:TARGET_RC:UUID".
func TransitionKey(action, transition, targetRC int, uuid string) string {
	return fmt.Sprintf("%d:%d:%d:%s", action, transition, targetRC, uuid)
}

func (d *DC) onlineMembers() []string {
	var out []string
	for _, m := range d.cfg.Members.Members() {
		out = append(out, m.Name)
	}
	return out
}

// execute runs one graph action to completion.
func (d *DC) execute(ctx context.Context, cur, planned *cib.CIB, a *scheduler.Action) (bool, error) {
	node := ""
	if a.Node != nil {
		node = a.Node.Name
	}
	switch {
	case a.Task == "stonith":
		if d.cfg.Fencer == nil {
			return false, errors.New("no fencing executor")
		}
		act := a.FenceAction
		if act == "" {
			act = "reboot"
		}
		d.log.Warn("fencing node", "node", node, "action", act)
		online := slices.DeleteFunc(d.onlineMembers(), func(s string) bool { return s == node })
		if d.plant == plantSkipFenceWait { // CTS planted bug (test only): see ctsplant.go
			d.plantedFence(ctx, cur, node, act, online)
		} else if err := d.cfg.Fencer.Fence(ctx, cur, node, act, online); err != nil {
			return false, err // the fencer's error names the target
		}
		if act != "on" {
			if err := d.apply(ctx, store.Command{Op: store.OpClearNodeStatus, Node: node}); err != nil {
				return false, err
			}
		}
		return true, nil
	case a.Task == "clear_failcount":
		if a.Rsc == nil {
			return true, nil
		}
		ns := nodeState(cur, node)
		if ns == nil {
			return true, nil
		}
		for _, s := range ns.Transient {
			for _, p := range s.Pairs {
				if isFailAttrOf(p.Name, a.Rsc.HistoryID()) {
					if err := d.apply(ctx, store.Command{Op: store.OpDeleteNodeAttr, Node: node, Name: p.Name, Transient: true}); err != nil {
						return false, err
					}
				}
			}
		}
		return true, nil
	case a.Task == "delete" || a.Task == "lrm_delete":
		if a.Rsc == nil {
			return true, nil
		}
		if err := d.apply(ctx, store.Command{Op: store.OpDeleteHistory, Node: node, Resource: a.Rsc.HistoryID()}); err != nil {
			return false, err
		}
		return true, nil
	}
	// Everything else runs on the target node.
	addr := ""
	for _, m := range d.cfg.Members.Members() {
		if m.Name == node {
			addr, _ = noderpc.AddrFor(m.Addr.String())
		}
	}
	if addr == "" {
		return false, fmt.Errorf("node %q is not a live member", node)
	}
	req := noderpc.ActionRequest{Term: d.cfg.Term, Task: a.Task, IntervalMS: a.Interval}
	timeout := int64(digest.DefaultTimeoutMS)
	if a.Rsc != nil {
		rsc := a.Rsc
		req.Rsc, req.Class, req.Provider, req.Type = rsc.HistoryID(), rsc.Class, rsc.Provider, rsc.Type
		req.Params = maps(rsc.Params)
		req.Meta = map[string]string{}
		for k, v := range rsc.Meta {
			req.Meta[strings.ReplaceAll(k, "-", "_")] = v
		}
		req.TargetRC = targetRC(a)
		req.PendingKey = pendingKey(planned, node, req.Rsc, a.Task, a.Interval)
		if a.Task == "cancel" {
			req.CancelTask = "monitor"
		} else if in, err := digestInput(cur, nil, a); err == nil {
			timeout = digest.TimeoutMS(in.Timeout)
			req.OpDigest = digest.OpDigest(in)
			req.Params = maps(in.Params)
			for k, v := range in.OpParams {
				req.Params[k] = v
			}
		}
		req.Meta["timeout"] = strconv.FormatInt(timeout, 10)
		req.Meta["interval"] = strconv.FormatInt(a.Interval, 10)
		// Clone notifications (and the clone actions they surround) carry
		// the notify_* lists the agent reads as OCF_RESKEY_CRM_meta_*.
		for k, v := range a.NotifyMeta {
			req.Meta[k] = v
		}
	}
	req.TimeoutMS = timeout
	req.TransitionKey = TransitionKey(a.ID, d.transitionID, req.TargetRC, d.uuid)
	cctx, cancel := context.WithTimeout(ctx, time.Duration(timeout)*time.Millisecond+d.cfg.ActionMargin)
	defer cancel()
	defer d.trackInflight(node, &cancel)()
	res, err := d.cfg.Sender.Call(cctx, addr, req)
	if err != nil && errors.Is(cctx.Err(), context.Canceled) && ctx.Err() == nil {
		return false, fmt.Errorf("node %s was lost during the action: %w", node, err)
	}
	if err != nil {
		return false, err
	}
	if a.Task == "cancel" || a.Task == "do_shutdown" {
		return res.OpStatus == 0 && res.RC == 0, nil
	}
	if a.Task == "notify" && !res.Succeeded(req.TargetRC) {
		// A failed notification does not fail the transition (the agent
		// may not implement notify); the clone's own actions decide.
		d.log.Warn("notification failed", "rsc", req.Rsc, "node", node, "rc", res.RC, "status", res.OpStatus)
		return true, nil
	}
	return res.Succeeded(req.TargetRC), nil
}

// pendingKey returns the transition key of the pending record (op-status
// -1) of rsc's one-shot task on node in the CIB the transition was planned
// on, or "" if there is none: the DC is then re-issuing an operation it saw
// in flight (a DC elected while it ran), which the node must not run twice.
func pendingKey(planned *cib.CIB, node, rsc, task string, interval int64) string {
	if planned == nil || interval != 0 {
		return ""
	}
	ns := nodeState(planned, node)
	if ns == nil {
		return ""
	}
	for _, lr := range ns.Resources {
		if lr.ID != rsc {
			continue
		}
		for _, op := range lr.Ops {
			if op.OpStatus == -1 && op.Operation == task && op.Interval == 0 {
				return op.TransitionKey
			}
		}
	}
	return ""
}

// trackInflight registers cancel as an RPC in progress on node; the
// returned function unregisters it.
func (d *DC) trackInflight(node string, cancel *context.CancelFunc) func() {
	d.inflightMu.Lock()
	defer d.inflightMu.Unlock()
	if d.inflight == nil {
		d.inflight = map[string]map[*context.CancelFunc]struct{}{}
	}
	if d.inflight[node] == nil {
		d.inflight[node] = map[*context.CancelFunc]struct{}{}
	}
	d.inflight[node][cancel] = struct{}{}
	return func() {
		d.inflightMu.Lock()
		defer d.inflightMu.Unlock()
		delete(d.inflight[node], cancel)
	}
}

// cancelInflight fails every RPC in progress on a lost node.
func (d *DC) cancelInflight(node string) {
	d.inflightMu.Lock()
	defer d.inflightMu.Unlock()
	for c := range d.inflight[node] {
		(*c)()
	}
	if n := len(d.inflight[node]); n > 0 {
		d.log.Warn("failing actions in progress on a lost node", "node", node, "actions", n)
	}
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// isFailAttrOf reports whether name is a fail-count or last-failure
// attribute of resource rsc.
func isFailAttrOf(name, rsc string) bool {
	for _, p := range []string{"fail-count-", "last-failure-"} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			if rest == rsc || strings.HasPrefix(rest, rsc+"#") {
				return true
			}
		}
	}
	return false
}
