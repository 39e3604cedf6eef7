package fsm

import (
	"errors"
	"fmt"
)

// ErrUnknownMember is returned by Group.Step for an instance not in the group.
var ErrUnknownMember = errors.New("vrrp fsm: not a member of the sync group")

// GroupAction is an action of one member instance, or of the group itself
// (Instance empty, Kind Notify with Group set).
type GroupAction struct {
	Instance string
	Action
}

// Group is a vrrp_sync_group: member instances change state together. One
// member in FAULT puts every member in FAULT until all are clear; one member
// becoming MASTER makes the backups MASTER; a master yielding to a
// higher-priority advert makes the other masters BACKUP. Like Instance it
// is pure and must be driven by one goroutine; the members must only be
// stepped through the group.
type Group struct {
	name    string
	members []*Instance
	index   map[string]int
	state   State
}

// NewGroup builds a sync group of instances (named by their Config.Name).
func NewGroup(name string, members ...*Instance) (*Group, error) {
	if len(members) == 0 {
		return nil, fmt.Errorf("sync group %q: no member instances: %w", name, ErrConfig)
	}
	g := &Group{name: name, members: members, index: map[string]int{}}
	for n, m := range members {
		mn := m.cfg.Name
		if mn == "" {
			return nil, fmt.Errorf("sync group %q: member %d has no name: %w", name, n, ErrConfig)
		}
		if _, dup := g.index[mn]; dup {
			return nil, fmt.Errorf("sync group %q: instance %q listed twice: %w", name, mn, ErrConfig)
		}
		g.index[mn] = n
	}
	return g, nil
}

// Name returns the group's name.
func (g *Group) Name() string { return g.name }

// State returns the state the group last notified (Initialize before).
func (g *Group) State() State { return g.state }

// Member returns the named member (for status; do not Step it directly).
func (g *Group) Member(name string) (*Instance, bool) {
	n, ok := g.index[name]
	if !ok {
		return nil, false
	}
	return g.members[n], true
}

// Step applies ev to the named member, then propagates the member's state
// change to the others. Actions are returned member by member, the stepped
// member first, then the group's own Notify.
func (g *Group) Step(member string, ev Event) ([]GroupAction, error) {
	n, ok := g.index[member]
	if !ok {
		return nil, fmt.Errorf("sync group %q: instance %q: %w", g.name, member, ErrUnknownMember)
	}
	t := ev.When()
	for _, m := range g.members {
		m.out = nil
		if t.After(m.now) {
			m.now = t
		}
	}
	m := g.members[n]
	g.refreshGroupFault()
	before := m.state
	m.apply(ev)
	after := m.state

	why := fmt.Sprintf("sync group %s: %s %v", g.name, member, after)
	g.refreshGroupFault()
	for _, o := range g.members {
		o.applyFault(why)
	}
	switch {
	case before != Master && after == Master:
		for _, o := range g.members {
			if o != m && o.state == Backup {
				o.becomeMaster(why)
			}
		}
	case before == Master && after == Backup:
		for _, o := range g.members {
			if o != m && o.state == Master {
				o.becomeBackup(why)
			}
		}
	}

	var out []GroupAction
	order := append([]*Instance{m}, g.members[:n]...)
	order = append(order, g.members[n+1:]...)
	for _, o := range order {
		o.syncTimer()
		for _, a := range o.out {
			out = append(out, GroupAction{Instance: o.cfg.Name, Action: a})
		}
		o.out = nil
	}
	if s, ok := g.common(); ok && s != g.state && s != Initialize {
		g.state = s
		out = append(out, GroupAction{Action: Action{Kind: Notify, State: s, Group: g.name, Reason: why}})
	}
	return out, nil
}

// refreshGroupFault marks every member faulty while another member has a
// fault of its own.
func (g *Group) refreshGroupFault() {
	for _, o := range g.members {
		o.groupFault = false
		for _, p := range g.members {
			if p != o && p.ownFault {
				o.groupFault = true
			}
		}
	}
}

// common returns the members' state if they all agree.
func (g *Group) common() (State, bool) {
	s := g.members[0].state
	for _, o := range g.members[1:] {
		if o.state != s {
			return 0, false
		}
	}
	return s, true
}
