package daemon

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/crm/scheduler"
	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fsm"
)

// maxFenceHistory bounds the fencing records a node keeps (the oldest
// finished ones are dropped first).
const maxFenceHistory = stonith.MaxHistory

// fenceMonitorTimeout bounds one device's monitor for stonith.status.
const fenceMonitorTimeout = 20 * time.Second

// fenceHistory is the in-memory fencing history of this node: one record
// per fencing operation it ran, updated from pending to done or failed
// (the finished records also go to the CIB, see persistFence). The zero
// value is ready; all methods are safe for concurrent use.
type fenceHistory struct {
	mu   sync.Mutex
	recs []fsm.Record // arrival order of the operations
	seq  atomic.Uint64
	// persistMu serialises this node's read-modify-write of its CIB
	// history attribute and guards lastFail.
	persistMu sync.Mutex
	// lastFail is when a failure was last written to the CIB, by
	// target/action (see persistFence).
	lastFail map[string]time.Time
}

// record stores r, replacing the earlier state of the same operation
// (executor OnRecord callback: pending at start, final at the end).
func (h *fenceHistory) record(r fsm.Record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.recs {
		if h.recs[i].ID == r.ID {
			h.recs[i] = r
			return
		}
	}
	h.recs = append(h.recs, r)
	for len(h.recs) > maxFenceHistory {
		// Drop the oldest finished record; pending ones are still
		// running and must stay visible.
		i := slices.IndexFunc(h.recs, func(x fsm.Record) bool { return x.State != fsm.StatePending })
		if i < 0 {
			i = 0
		}
		h.recs = slices.Delete(h.recs, i, i+1)
	}
}

// failed records an operation that failed before any device was tried
// and returns its record.
func (h *fenceHistory) failed(origin, target string, act fsm.Action, reason string, now time.Time) fsm.Record {
	r := fsm.Record{ID: fmt.Sprintf("%s-nodev-%d-%d", origin, now.UnixNano(), h.seq.Add(1)), Target: target,
		Action: act, Origin: origin, Client: "crmd", State: fsm.StateFailed, Created: now, Completed: now, Error: reason}
	h.record(r)
	return r
}

// list returns the records for target (all when target is "" or "*"),
// in arrival order.
func (h *fenceHistory) list(target string) []fsm.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []fsm.Record
	for _, r := range h.recs {
		if target == "" || target == "*" || strings.EqualFold(r.Target, target) {
			out = append(out, r)
		}
	}
	return out
}

// The fencing history in the CIB: every node that fences keeps its most
// recent finished records in an attribute of its own node_state, as
// fsm.MarshalHistory JSON. Pacemaker's status schema accepts any
// attribute there and its tools ignore it; the DC's plan fingerprint does
// not include it, so writing it never aborts a transition. The attribute
// survives the node's fencing and restarts (only the LRM history and the
// transient attributes are cleared), so the history outlives a change of
// DC and is read by every node.
const (
	fenceHistoryAttr  = "gocrm-fence-history"
	maxPersistedFence = 20
	fencePersistLimit = 2 * time.Second
	// failPersistEvery spaces the CIB writes of repeated failures of one
	// target and action: every CIB change makes the DC plan again at
	// once, so writing each failure would turn the DC's paced retries of
	// a broken device into a tight fencing loop. The DC's own history
	// keeps every failure in memory; successes are always written.
	failPersistEvery = 15 * time.Second
)

// cibFenceRecords returns the records stored in node's history attribute
// of c (all nodes when node is ""); unreadable values are skipped.
func cibFenceRecords(c *cib.CIB, node string) []fsm.Record {
	var out []fsm.Record
	for _, ns := range c.Status.Nodes {
		if node != "" && ns.Uname != node {
			continue
		}
		for _, a := range ns.Attrs {
			if a.Name != fenceHistoryAttr || a.Value == "" {
				continue
			}
			if recs, err := fsm.UnmarshalHistory([]byte(a.Value)); err == nil {
				out = append(out, recs...)
			}
		}
	}
	return out
}

// mergeFenceRecords merges record lists by operation id (a finished state
// wins over pending), ordered by creation time then id.
func mergeFenceRecords(lists ...[]fsm.Record) []fsm.Record {
	byID := map[string]fsm.Record{}
	var order []string
	for _, l := range lists {
		for _, r := range l {
			old, ok := byID[r.ID]
			if !ok {
				order = append(order, r.ID)
			}
			if !ok || old.State == fsm.StatePending {
				byID[r.ID] = r
			}
		}
	}
	out := make([]fsm.Record, 0, len(order))
	for _, id := range order {
		out = append(out, byID[id])
	}
	slices.SortStableFunc(out, func(a, b fsm.Record) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// persistFence adds a finished record to this node's history attribute in
// the CIB (the maxPersistedFence most recent are kept) when this node is
// the DC. Failures are logged: the fencing outcome does not depend on its
// history.
func (d *Daemon) persistFence(ctx context.Context, r fsm.Record) {
	// Only the DC writes: a node fencing without a raft leader (the
	// two-node race) must not wait for a commit that cannot happen.
	if r.State == fsm.StatePending || !d.IsDC() {
		return
	}
	h := &d.fenceHist
	h.persistMu.Lock()
	defer h.persistMu.Unlock()
	key := r.Target + "/" + string(r.Action)
	if r.State == fsm.StateFailed {
		if last, ok := h.lastFail[key]; ok && r.Completed.Sub(last) < failPersistEvery && r.Completed.Sub(last) >= 0 {
			return
		}
		if h.lastFail == nil {
			h.lastFail = map[string]time.Time{}
		}
		h.lastFail[key] = r.Completed
	} else {
		delete(h.lastFail, key)
	}
	recs := mergeFenceRecords(cibFenceRecords(d.store.Current(), d.cfg.Name), []fsm.Record{r})
	if n := len(recs) - maxPersistedFence; n > 0 {
		recs = recs[n:]
	}
	b, err := fsm.MarshalHistory(recs)
	if err != nil {
		d.log.Error("fencing history not written to the CIB", "err", err)
		return
	}
	actx, cancel := context.WithTimeout(ctx, fencePersistLimit)
	defer cancel()
	cmd := store.Command{Op: store.OpNodeState, Node: d.cfg.Name, Attrs: map[string]string{fenceHistoryAttr: string(b)}}
	if _, err := d.raft.Apply(actx, cmd.Encode()); err != nil {
		d.log.Warn("fencing history not written to the CIB", "target", r.Target, "op", r.ID, "err", err)
	}
}

// fencing answers the stonith.* API operations.
func (h *apiHandler) fencing(ctx context.Context, req api.Request) api.Response {
	d := h.d
	out := &api.Fencing{Node: d.cfg.Name, IsDC: d.IsDC()}
	switch req.Op {
	case api.OpFenceHistory:
		// This node's own records (pending ones included) and the
		// finished ones every node stored in the CIB.
		for _, r := range mergeFenceRecords(d.fenceHist.list(""), cibFenceRecords(d.store.Current(), "")) {
			if req.Node == "" || req.Node == "*" || strings.EqualFold(r.Target, req.Node) {
				out.History = append(out.History, r)
			}
		}
	case api.OpFenceDevices, api.OpFenceStatus:
		devs, err := d.fenceDevices(ctx, d.store.Current(), req.Op == api.OpFenceStatus, req.Node)
		if err != nil {
			return fail(api.CodeInternal, err.Error())
		}
		if req.Node != "" && len(devs) == 0 {
			return fail(api.CodeBadReq, fmt.Sprintf("no fence device %q is configured", req.Node))
		}
		out.Devices = devs
	default:
		return fail(api.CodeBadReq, "unknown operation "+req.Op)
	}
	return api.Response{OK: true, Fencing: out}
}

// fenceDevices describes the stonith primitives of cur (only the one named
// only, when set): whether their parameters configure a device here, where
// they run and, with monitor, the result of their monitor action.
func (d *Daemon) fenceDevices(ctx context.Context, cur *cib.CIB, monitor bool, only string) ([]api.FenceDevice, error) {
	reg, err := d.fenceRegistry()
	if err != nil {
		return nil, fmt.Errorf("fence plugin registry: %w", err)
	}
	var prims []*cib.Resource
	stonithPrimitives(cur.Config.Resources, &prims)
	where := map[string][]string{}
	if cl, err := scheduler.Unpack(cur, d.now()); err == nil {
		var walk func([]*scheduler.Resource)
		walk = func(rs []*scheduler.Resource) {
			for _, r := range rs {
				for _, n := range r.RunningOn {
					where[r.BaseID] = append(where[r.BaseID], n.Name)
				}
				walk(r.Children)
			}
		}
		walk(cl.Resources)
	}
	log := d.log.With("component", "stonith")
	var out []api.FenceDevice
	for _, r := range prims {
		if only != "" && r.ID != only {
			continue
		}
		fd := api.FenceDevice{ID: r.ID, Type: r.Type, RunningOn: where[r.ID]}
		slices.Sort(fd.RunningOn)
		conf, err := reg.Configure(ctx, r.ID, r.Type, firstPairs(r.Instance), 0, log)
		switch {
		case err != nil:
			fd.Error = err.Error()
		case monitor:
			mctx, cancel := context.WithTimeout(ctx, fenceMonitorTimeout)
			if err := conf.Device.Monitor(mctx); err != nil {
				fd.Monitor = err.Error()
			} else {
				fd.Monitor = "OK"
			}
			cancel()
		}
		out = append(out, fd)
	}
	return out, nil
}
