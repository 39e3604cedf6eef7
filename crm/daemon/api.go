package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/crm/scheduler"
	"github.com/gocrm/gocrm/membership"
	"github.com/hashicorp/raft"
)

// Version is reported by the status operation.
const Version = "gocrm-0.1"

// apiHandler implements api.Handler for the control socket.
type apiHandler struct{ d *Daemon }

func fail(code, msg string) api.Response { return api.Response{Code: code, Error: msg} }

func applyErr(err error) api.Response {
	switch {
	case errors.Is(err, consensus.ErrCommandRejected):
		return fail(api.CodeRejected, err.Error())
	case errors.Is(err, consensus.ErrNoLeader), errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost):
		return fail(api.CodeNoLeader, err.Error())
	}
	return fail(api.CodeInternal, err.Error())
}

// Handle implements api.Handler.
func (h *apiHandler) Handle(ctx context.Context, req api.Request) api.Response {
	d := h.d
	switch req.Op {
	case api.OpGetCIB:
		return api.Response{OK: true, CIB: string(d.store.Current().Marshal())}
	case api.OpApply:
		if req.Command == nil {
			return fail(api.CodeBadReq, "cib.apply needs a command")
		}
		if _, err := d.raft.Apply(ctx, req.Command.Encode()); err != nil {
			return applyErr(err)
		}
		return api.Response{OK: true}
	case api.OpStatus:
		return api.Response{OK: true, Status: h.status()}
	case api.OpFence:
		if req.Node == "" {
			return fail(api.CodeBadReq, "node.fence needs a node")
		}
		// Fencing is requested through the CIB, as crm_attribute
		// --name terminate does: the scheduler on the DC fences the
		// node (stonith-enabled must be true).
		if _, err := d.raft.Apply(ctx, store.Command{Op: store.OpSetNodeAttr, Node: req.Node, Name: "terminate", Value: "true", Transient: true}.Encode()); err != nil {
			return applyErr(err)
		}
		return api.Response{OK: true}
	case api.OpFenceConfirm:
		if req.Node == "" {
			return fail(api.CodeBadReq, "node.fence-confirm needs a node")
		}
		if !d.IsDC() {
			return fail(api.CodeBadReq, "manual fencing runs on the DC: confirm on the DC node")
		}
		if err := d.hub().Confirm(req.Node); err != nil {
			return fail(api.CodeRejected, err.Error())
		}
		return api.Response{OK: true}
	case api.OpFenceHistory, api.OpFenceDevices, api.OpFenceStatus:
		return h.fencing(ctx, req)
	case api.OpWait:
		timeout := time.Duration(req.TimeoutMS) * time.Millisecond
		if timeout <= 0 {
			timeout = time.Minute
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		for {
			if h.idle() {
				return api.Response{OK: true}
			}
			select {
			case <-wctx.Done():
				return fail(api.CodeInternal, "cluster not idle before the timeout")
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return fail(api.CodeBadReq, "unknown operation "+req.Op)
}

// idle reports whether the cluster has nothing left to do: a leader
// exists and the scheduler plans no real action on the current CIB.
func (h *apiHandler) idle() bool {
	if id, _ := h.d.raft.Leader(); id == "" {
		return false
	}
	tr, err := scheduler.Schedule(h.d.store.Current(), h.d.now())
	if err != nil {
		return false
	}
	for _, a := range tr.GraphActions() {
		if !a.Pseudo {
			return false
		}
	}
	return true
}

func (h *apiHandler) status() *api.Status {
	d := h.d
	id, _ := d.raft.Leader()
	st := &api.Status{Node: d.cfg.Name, DC: id, IsDC: d.IsDC(), Quorate: id != "", Version: Version}
	if s, err := d.raft.Stats(); err == nil {
		st.Term = s.Term
	}
	st.Idle = h.idle()
	for _, m := range d.ml.Members() {
		state := "alive"
		if m.Meta.Leaving {
			state = "left"
		}
		role := m.Meta.Role.String()
		if m.Meta.Role == 0 {
			role = membership.RoleVoter.String()
		}
		st.Members = append(st.Members, api.Member{Name: m.Name, Addr: m.Addr.String(), State: state, Role: role})
	}
	return st
}
