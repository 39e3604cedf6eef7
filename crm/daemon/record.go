package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/digest"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/crm/noderpc"
	"github.com/gocrm/gocrm/lrm"
)

// userData travels through the LRM with each request (Request.UserData)
// and tells the recorder how to record the result.
type userData struct {
	Key    string `json:"k,omitempty"` // transition key
	Digest string `json:"d,omitempty"` // op-digest
	Local  bool   `json:"l,omitempty"` // local stop (no-quorum policy, shutdown): not recorded
	// Agent is the configured agent when the LRM runs a stand-in (fence
	// devices), so the history names the real class and type.
	Agent string `json:"a,omitempty"`
}

// fenceDeviceKey is the built-in stand-in the LRM runs for resources of
// class stonith: starting a fence device only registers it (the DC's fencer
// configures devices from the CIB when it fences), so its start, stop and
// monitor track a "registered" marker like ocf:gocrm:Dummy does.
var fenceDeviceKey = agent.Key{Class: "ocf", Provider: "gocrm-fenced", Type: "device"}

// lrmKey maps a configured agent to the one the LRM runs.
func lrmKey(k agent.Key) agent.Key {
	if k.Class == "stonith" {
		return fenceDeviceKey
	}
	return k
}

func (u userData) encode() string {
	b, _ := json.Marshal(u)
	return string(b)
}

func decodeUserData(s string) userData {
	var u userData
	_ = json.Unmarshal([]byte(s), &u)
	return u
}

// recorder writes LRM results into the CIB (through raft) on one
// goroutine, in completion order, then wakes the RPC handler waiting for
// that call.
type recorder struct {
	d *Daemon

	qmu    sync.Mutex
	queue  []lrm.OpResult
	signal chan struct{}
	busy   bool
	closed bool

	wmu     sync.Mutex
	waiters map[int64]chan noderpc.ActionResult

	local localStops // resources stopped without the DC (localstop.go)
}

func newRecorder(d *Daemon) *recorder {
	return &recorder{d: d, signal: make(chan struct{}, 1), waiters: map[int64]chan noderpc.ActionResult{}}
}

// enqueue is the LRM's OnResult callback: it never blocks.
func (r *recorder) enqueue(res lrm.OpResult) {
	if decodeUserData(res.UserData).Local {
		// Local stops are never recorded: answer their waiter at once so
		// that they do not queue behind records waiting for a leader.
		r.wmu.Lock()
		ch := r.waiters[res.CallID]
		delete(r.waiters, res.CallID)
		r.wmu.Unlock()
		r.d.lrm.Settled(res.Rsc.ID, res.CallID)
		if ch != nil {
			ch <- noderpc.ActionResult{CallID: res.CallID, RC: int(res.RC), OpStatus: int(res.Status), Reason: res.Reason}
		}
		return
	}
	r.qmu.Lock()
	if !r.closed {
		r.queue = append(r.queue, res)
	}
	r.qmu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *recorder) close() {
	r.qmu.Lock()
	r.closed = true
	r.queue = nil
	r.qmu.Unlock()
}

// drain waits until the queue is empty (or ctx ends).
func (r *recorder) drain(ctx context.Context) {
	for {
		r.qmu.Lock()
		empty := len(r.queue) == 0 && !r.busy
		r.qmu.Unlock()
		if empty {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// expect registers a waiter for callID; call with wmu held around Execute.
func (r *recorder) expectLocked(callID int64) chan noderpc.ActionResult {
	ch := make(chan noderpc.ActionResult, 1)
	r.waiters[callID] = ch
	return ch
}

func (r *recorder) forget(callID int64) {
	r.wmu.Lock()
	delete(r.waiters, callID)
	r.wmu.Unlock()
}

func (r *recorder) run(ctx context.Context) {
	for {
		r.qmu.Lock()
		var res lrm.OpResult
		have := len(r.queue) > 0
		if have {
			res = r.queue[0]
			r.queue = r.queue[1:]
			r.busy = true
		}
		r.qmu.Unlock()
		if !have {
			select {
			case <-ctx.Done():
				return
			case <-r.signal:
			}
			continue
		}
		r.record(ctx, res)
		// Recorded: a DC planning from now on sees the result, so an
		// identical request is a new one (the LRM stops joining it).
		r.d.lrm.Settled(res.Rsc.ID, res.CallID)
		r.qmu.Lock()
		r.busy = false
		r.qmu.Unlock()
		r.wmu.Lock()
		ch := r.waiters[res.CallID]
		delete(r.waiters, res.CallID)
		r.wmu.Unlock()
		if ch != nil {
			ch <- noderpc.ActionResult{CallID: res.CallID, RC: int(res.RC), OpStatus: int(res.Status),
				Reason: res.Reason, ExecMS: res.ExecTime.Milliseconds()}
		}
	}
}

// targetOf extracts TARGET_RC from "ACTION:TRANSITION:TARGET_RC:UUID".
func targetOf(key string) int {
	parts := strings.Split(key, ":")
	if len(parts) >= 3 {
		if v, err := strconv.Atoi(parts[2]); err == nil {
			return v
		}
	}
	return 0
}

// isFailure reports whether a result counts as a failure (fail-count).
func isFailure(res lrm.OpResult, target int) bool {
	if res.Status != lrm.StatusDone {
		return true
	}
	if res.Op == lrm.OpMonitor && res.Interval == 0 {
		// Probes find resources running or stopped; neither is a failure.
		return res.RC != agent.OK && res.RC != agent.NotRunning && res.RC != agent.RunningPromoted
	}
	return int(res.RC) != target
}

// record writes one result (and on failure the fail-count) to the CIB,
// retrying while there is no leader.
func (r *recorder) record(ctx context.Context, res lrm.OpResult) {
	ud := decodeUserData(res.UserData)
	if res.Status == lrm.StatusCancelled || ud.Local {
		return
	}
	if res.Op == lrm.OpNotify {
		// Notifications leave no history (as in Pacemaker); the DC gets
		// the result through the RPC only.
		r.d.log.Info("notification result", "op", res.Key, "rc", int(res.RC))
		return
	}
	node := r.d.cfg.Name
	target := targetOf(ud.Key)
	interval := res.Interval.Milliseconds()
	id := res.Rsc.ID + "_last_0"
	if interval > 0 {
		id = res.Key
	}
	now := r.d.now().Unix()
	attrs := map[string]string{
		"id":               id,
		"operation_key":    res.Key,
		"operation":        res.Op,
		"crm-debug-origin": "do_update_resource",
		"crm_feature_set":  "3.16.1",
		"transition-key":   ud.Key,
		"transition-magic": fmt.Sprintf("%d:%d;%s", int(res.Status), int(res.RC), ud.Key),
		"exit-reason":      res.Reason,
		"on_node":          node,
		"call-id":          strconv.FormatInt(res.CallID, 10),
		"rc-code":          strconv.Itoa(int(res.RC)),
		"op-status":        strconv.Itoa(int(res.Status)),
		"interval":         strconv.FormatInt(interval, 10),
		"last-rc-change":   strconv.FormatInt(unixOr(r.d.clk.shift(res.LastRCChange), now), 10),
		"exec-time":        strconv.FormatInt(res.ExecTime.Milliseconds(), 10),
		"queue-time":       strconv.FormatInt(res.QueueTime.Milliseconds(), 10),
	}
	if interval == 0 {
		attrs["last-run"] = strconv.FormatInt(unixOr(r.d.clk.shift(res.Finished), now), 10)
	}
	if ud.Digest != "" {
		attrs["op-digest"] = ud.Digest
	}
	k := res.Rsc.Agent
	if ud.Agent != "" {
		if orig, err := agent.ParseKey(ud.Agent); err == nil {
			k = orig
		}
	}
	cmds := []store.Command{{Op: store.OpRecordOp, Node: node, Resource: res.Rsc.ID, Class: k.Class, Provider: k.Provider, Type: k.Type, Attrs: attrs}}
	failed := isFailure(res, target)
	if failed {
		fail := make(map[string]string, len(attrs))
		for a, v := range attrs {
			fail[a] = v
		}
		fail["id"] = res.Rsc.ID + "_last_failure_0"
		cmds = append(cmds, store.Command{Op: store.OpRecordOp, Node: node, Resource: res.Rsc.ID, Class: k.Class, Provider: k.Provider, Type: k.Type, Attrs: fail})
	}
	switch {
	case failed && res.JoinedTo != 0:
		// A request joined to an identical execution (a new DC re-issued
		// it) shares that execution's failure, counted once already.
		r.d.log.Warn("operation failed (joined)", "op", res.Key, "rc", int(res.RC), "status", res.Status.String(),
			"joined_to", res.JoinedTo, "reason", res.Reason)
	case failed:
		suffix := res.Rsc.ID + "#" + res.Op + "_" + strconv.FormatInt(interval, 10)
		cur := r.d.store.Current()
		count := "1"
		if res.Op == lrm.OpStart && !isFalse(crmOption(cur, "start-failure-is-fatal")) {
			count = "INFINITY"
		} else if old := transientAttr(cur, node, "fail-count-"+suffix); old == "INFINITY" {
			count = old
		} else if n, err := strconv.Atoi(old); err == nil {
			count = strconv.Itoa(n + 1)
		}
		// last-failure first: whoever sees the fail-count sees its time.
		cmds = append(cmds,
			store.Command{Op: store.OpSetNodeAttr, Node: node, Name: "last-failure-" + suffix, Value: strconv.FormatInt(now, 10), Transient: true},
			store.Command{Op: store.OpSetNodeAttr, Node: node, Name: "fail-count-" + suffix, Value: count, Transient: true})
		r.d.log.Warn("operation failed", "op", res.Key, "rc", int(res.RC), "status", res.Status.String(), "reason", res.Reason)
	default:
		r.d.log.Info("operation result", "op", res.Key, "rc", int(res.RC), "call", res.CallID)
	}
	for _, c := range cmds {
		r.d.applyRetry(ctx, c)
	}
}

func unixOr(t time.Time, def int64) int64 {
	if t.IsZero() {
		return def
	}
	return t.Unix()
}

// applyRetry commits c, retrying transient failures (no leader, forward
// errors) until ctx ends. Rejected commands are logged and dropped.
func (d *Daemon) applyRetry(ctx context.Context, c store.Command) {
	for delay := 50 * time.Millisecond; ; delay = min(delay*2, time.Second) {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := d.raft.Apply(actx, c.Encode())
		cancel()
		if err == nil {
			return
		}
		if errors.Is(err, consensus.ErrCommandRejected) {
			d.log.Error("CIB command rejected", "op", c.Op, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

func isFalse(s string) bool {
	switch strings.ToLower(s) {
	case "false", "no", "off", "0", "n", "f":
		return true
	}
	return false
}

func crmOption(c *cib.CIB, name string) string {
	for _, s := range c.Config.CRMConfig {
		for _, p := range s.Pairs {
			if p.Name == name {
				return p.Value
			}
		}
	}
	return ""
}

func nodeStateOf(c *cib.CIB, name string) *cib.NodeState {
	for _, ns := range c.Status.Nodes {
		if ns.Uname == name || (ns.Uname == "" && ns.ID == name) {
			return ns
		}
	}
	return nil
}

func transientAttr(c *cib.CIB, node, name string) string {
	ns := nodeStateOf(c, node)
	if ns == nil {
		return ""
	}
	for _, s := range ns.Transient {
		for _, p := range s.Pairs {
			if p.Name == name {
				return p.Value
			}
		}
	}
	return ""
}

// errArbiter: arbiters run no resources.
var errArbiter = errors.New("arbiter nodes run no resources")

// errTwoNodeWait: two-node-mode refuses starts while this node waits for
// all (has not heard a leader listing it since it started) or the pair is
// split.
var errTwoNodeWait = errors.New("two-node-mode: starting nothing until a leader lists this node and the pair is whole")

// errNotAnnounced: the node refuses actions until its first announcement
// has cleared the status of its previous incarnation (the clearing would
// wipe their history).
var errNotAnnounced = errors.New("node not announced yet: its old status is about to be cleared")

// handleAction is the noderpc handler: run an action from the DC.
func (d *Daemon) handleAction(ctx context.Context, req noderpc.ActionRequest) (noderpc.ActionResult, error) {
	if d.cfg.Arbiter {
		return noderpc.ActionResult{}, errArbiter
	}
	if !d.cleared.Load() {
		return noderpc.ActionResult{}, fmt.Errorf("%s %s: %w", req.Task, req.Rsc, errNotAnnounced)
	}
	if req.Term < d.lrm.Term() {
		return noderpc.ActionResult{}, fmt.Errorf("term %d < %d: %w", req.Term, d.lrm.Term(), noderpc.ErrStaleTerm)
	}
	ok := noderpc.ActionResult{RC: 0}
	if req.Rsc != "" {
		d.rec.local.forget(req.Rsc)
	}
	switch req.Task {
	case "do_shutdown":
		d.mu.Lock()
		if d.shutting {
			select {
			case <-d.shutdownOK:
			default:
				close(d.shutdownOK)
			}
		}
		d.mu.Unlock()
		return ok, nil
	case "cancel":
		task := req.CancelTask
		if task == "" {
			task = lrm.OpMonitor
		}
		err := d.lrm.CancelRecurring(req.Term, req.Rsc, task, time.Duration(req.IntervalMS)*time.Millisecond)
		if errors.Is(err, lrm.ErrStaleTerm) {
			return noderpc.ActionResult{}, fmt.Errorf("%w: %v", noderpc.ErrStaleTerm, err)
		}
		if err != nil && !errors.Is(err, lrm.ErrNotFound) {
			return noderpc.ActionResult{}, err
		}
		return ok, nil
	case "delete", "lrm_delete":
		if _, err := d.raft.Apply(ctx, store.Command{Op: store.OpDeleteHistory, Node: d.cfg.Name, Resource: req.Rsc}.Encode()); err != nil {
			return noderpc.ActionResult{}, err
		}
		return ok, nil
	}
	op := req.Task
	switch op {
	case "reload-agent", "reload":
		op = lrm.OpReload
	case lrm.OpStart, lrm.OpStop, lrm.OpMonitor, lrm.OpPromote, lrm.OpDemote, lrm.OpNotify, lrm.OpMigrateTo, lrm.OpMigrateFrom:
	default:
		return noderpc.ActionResult{}, fmt.Errorf("unsupported task %q", req.Task)
	}
	if (op == lrm.OpStart || op == lrm.OpPromote || op == lrm.OpMigrateFrom) && !d.tn.startAllowed() {
		return noderpc.ActionResult{}, fmt.Errorf("%s %s: %w", req.Task, req.Rsc, errTwoNodeWait)
	}
	key := agent.Key{Class: req.Class, Provider: req.Provider, Type: req.Type}
	ud := userData{Key: req.TransitionKey, Digest: req.OpDigest}
	if lk := lrmKey(key); lk != key {
		ud.Agent = key.String()
		key = lk
	}
	lreq := lrm.Request{
		Rsc:      lrm.Resource{ID: req.Rsc, Agent: key},
		Op:       op,
		Interval: time.Duration(req.IntervalMS) * time.Millisecond,
		Timeout:  time.Duration(req.TimeoutMS) * time.Millisecond,
		Params:   req.Params, Meta: req.Meta,
		UserData: ud.encode(),
		Tag:      req.TransitionKey, Reissues: req.PendingKey,
	}
	if op != lrm.OpMonitor && op != lrm.OpNotify && op != lrm.OpReload && !isFalse(crmOption(d.store.Current(), "record-pending")) {
		d.recordPending(ctx, req, agent.Key{Class: req.Class, Provider: req.Provider, Type: req.Type})
	}
	r := d.rec
	r.wmu.Lock()
	callID, err := d.lrm.Execute(req.Term, lreq)
	if err != nil {
		r.wmu.Unlock()
		if errors.Is(err, lrm.ErrStaleTerm) {
			return noderpc.ActionResult{}, fmt.Errorf("%w: %v", noderpc.ErrStaleTerm, err)
		}
		return noderpc.ActionResult{}, fmt.Errorf("execute %s %s: %w", req.Rsc, req.Task, err)
	}
	ch := r.expectLocked(callID)
	r.wmu.Unlock()
	select {
	case res := <-ch:
		return res, nil
	case <-ctx.Done():
		r.forget(callID)
		return noderpc.ActionResult{}, ctx.Err()
	}
}

// recordPending records an operation as in progress (op-status -1,
// call-id -1) under the id its result will replace, as Pacemaker does with
// record-pending: a DC elected while the action runs sees the resource
// starting (or stopping) and does not issue it again.
func (d *Daemon) recordPending(ctx context.Context, req noderpc.ActionRequest, k agent.Key) {
	key := lrm.OpKey(req.Rsc, req.Task, 0)
	attrs := map[string]string{
		"id":               req.Rsc + "_last_0",
		"operation_key":    key,
		"operation":        req.Task,
		"crm-debug-origin": "do_update_resource",
		"crm_feature_set":  "3.16.1",
		"transition-key":   req.TransitionKey,
		"transition-magic": fmt.Sprintf("%d:%d;%s", int(lrm.StatusPending), int(agent.Pending), req.TransitionKey),
		"on_node":          d.cfg.Name,
		"call-id":          "-1",
		"rc-code":          strconv.Itoa(int(agent.Pending)),
		"op-status":        strconv.Itoa(int(lrm.StatusPending)),
		"interval":         "0",
		"last-run":         strconv.FormatInt(d.now().Unix(), 10),
	}
	if req.OpDigest != "" {
		attrs["op-digest"] = req.OpDigest
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := d.raft.Apply(actx, store.Command{Op: store.OpRecordOp, Node: d.cfg.Name, Resource: req.Rsc,
		Class: k.Class, Provider: k.Provider, Type: k.Type, Attrs: attrs}.Encode())
	if err != nil {
		d.log.Warn("recording pending operation failed", "op", key, "err", err)
	}
}

// activeLocal lists the resources this node's history shows active, plus
// those with a registered recurring monitor.
func (d *Daemon) activeLocal() map[string]agent.Key {
	out := map[string]agent.Key{}
	if ns := nodeStateOf(d.store.Current(), d.cfg.Name); ns != nil {
		for _, lr := range ns.Resources {
			var last *cib.LRMOp
			for _, op := range lr.Ops {
				if op.OpStatus == -1 || op.Operation == "notify" || op.Operation == "cancel" {
					continue
				}
				if last == nil || op.CallID > last.CallID {
					last = op
				}
			}
			if last == nil || (last.Operation == "stop" && last.RCCode == 0) || (last.Operation == "monitor" && last.RCCode == 7) {
				continue
			}
			out[lr.ID] = agent.Key{Class: lr.Class, Provider: lr.Provider, Type: lr.Type}
		}
	}
	keys := map[string]agent.Key{}
	for _, p := range d.lrm.Pending() {
		if p.State == "recurring" {
			if _, ok := out[p.Rsc]; !ok {
				keys[p.Rsc] = agent.Key{}
			}
		}
	}
	// Resources only known from a recurring monitor: find their agent in
	// the configuration.
	cur := d.store.Current()
	for id := range keys {
		base := id
		if i := strings.LastIndex(id, ":"); i >= 0 {
			base = id[:i]
		}
		if def := cib.NewIndex(&cur.Config).Resources[base]; def != nil {
			out[id] = agent.Key{Class: def.Class, Provider: def.Provider, Type: def.Type}
		}
	}
	return out
}

// stopLocal stops every locally active resource through the LRM and waits
// (until ctx ends) for the stops. Results are not recorded.
func (d *Daemon) stopLocal(ctx context.Context, why string) {
	active := d.activeLocal()
	if len(active) == 0 {
		return
	}
	cur := d.store.Current()
	var chans []chan noderpc.ActionResult
	for id, k := range active {
		params := map[string]string{}
		timeout := time.Duration(digest.DefaultTimeoutMS) * time.Millisecond
		if in, err := digest.FromCIB(digest.Config{CIB: &cur.Config}, digest.NodeAttrs{"#uname": d.cfg.Name}, id, "stop", 0); err == nil {
			params = in.Params
			timeout = time.Duration(digest.TimeoutMS(in.Timeout)) * time.Millisecond
		}
		d.log.Warn("stopping resource locally", "rsc", id, "why", why)
		d.rec.wmu.Lock()
		callID, err := d.lrm.Execute(d.lrm.Term(), lrm.Request{Rsc: lrm.Resource{ID: id, Agent: lrmKey(k)}, Op: lrm.OpStop,
			Timeout: timeout, Params: params, Meta: map[string]string{"timeout": strconv.FormatInt(timeout.Milliseconds(), 10)},
			UserData: userData{Local: true}.encode()})
		if err == nil {
			chans = append(chans, d.rec.expectLocked(callID))
			d.rec.local.add(id)
		}
		d.rec.wmu.Unlock()
		if err != nil {
			d.log.Error("local stop refused", "rsc", id, "err", err)
		}
	}
	for _, ch := range chans {
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}
