package router

import (
	"fmt"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/fsm"
)

// MemberOutput is the output of one member router of a Group; Instance is
// empty for the group's own notification (Output.Actions then holds one
// Notify with Group set).
type MemberOutput struct {
	Instance string
	Output
}

// Group is a vrrp_sync_group of routers (see fsm.Group). Like Router it is
// pure and must be driven by one goroutine; member routers must then only
// be driven through the group.
type Group struct {
	g       *fsm.Group
	routers map[string]*Router
}

// NewGroup builds a sync group from routers (named by their FSM.Name).
func NewGroup(name string, routers ...*Router) (*Group, error) {
	insts := make([]*fsm.Instance, len(routers))
	m := make(map[string]*Router, len(routers))
	for n, r := range routers {
		insts[n] = r.inst
		m[r.cfg.FSM.Name] = r
	}
	g, err := fsm.NewGroup(name, insts...)
	if err != nil {
		return nil, err
	}
	return &Group{g: g, routers: m}, nil
}

// FSM returns the group state machine (for status).
func (g *Group) FSM() *fsm.Group { return g.g }

// Step applies a non-packet event to the named member.
func (g *Group) Step(member string, ev fsm.Event) ([]MemberOutput, error) {
	acts, err := g.g.Step(member, ev)
	if err != nil {
		return nil, err
	}
	return g.split(acts), nil
}

// Receive checks a datagram received by the named member (see
// Router.Receive). A dropped packet yields one MemberOutput with Err set.
func (g *Group) Receive(member string, at time.Time, b []byte) ([]MemberOutput, error) {
	r, ok := g.routers[member]
	if !ok {
		return nil, fmt.Errorf("sync group %q: instance %q: %w", g.g.Name(), member, fsm.ErrUnknownMember)
	}
	p, err := r.checker.Receive(b)
	if err != nil {
		return []MemberOutput{{Instance: member, Output: Output{Err: err}}}, nil
	}
	r.syncAH(p)
	return g.Step(member, fsm.AdvertFromPacket(at, p))
}

// split groups the actions per instance, in first-appearance order, and
// encodes each member's adverts.
func (g *Group) split(acts []fsm.GroupAction) []MemberOutput {
	var order []string
	per := map[string][]fsm.Action{}
	for _, a := range acts {
		if _, seen := per[a.Instance]; !seen {
			order = append(order, a.Instance)
		}
		per[a.Instance] = append(per[a.Instance], a.Action)
	}
	out := make([]MemberOutput, 0, len(order))
	for _, name := range order {
		if r, ok := g.routers[name]; ok {
			out = append(out, MemberOutput{Instance: name, Output: r.run(per[name])})
		} else {
			out = append(out, MemberOutput{Instance: name, Output: Output{Actions: per[name]}})
		}
	}
	return out
}
