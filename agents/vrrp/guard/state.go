package guard

import (
	"fmt"
	"sort"
	"time"
)

// State is the guard's pure bookkeeping: what the daemon currently holds.
// It is not safe for concurrent use (Serve owns it).
type State struct {
	holds map[string]Holding
	bye   bool
}

// NewState returns an empty state.
func NewState() *State { return &State{holds: map[string]Holding{}} }

// Apply applies one message from the daemon. Hello is not a daemon
// message; nothing may follow a bye. Errors wrap ErrProtocol and leave the
// state unchanged.
func (s *State) Apply(m Message) error {
	if s.bye {
		return fmt.Errorf("%v after bye: %w", m.Kind, ErrProtocol)
	}
	switch m.Kind {
	case KindHold:
		if m.Hold.Instance == "" {
			return fmt.Errorf("hold without an instance name: %w", ErrProtocol)
		}
		if len(m.Hold.Addrs) == 0 {
			delete(s.holds, m.Hold.Instance)
			return nil
		}
		s.holds[m.Hold.Instance] = m.Hold
	case KindRelease:
		delete(s.holds, m.Instance)
	case KindBye:
		s.bye = true
		s.holds = map[string]Holding{}
	default:
		return fmt.Errorf("unexpected %v from the daemon: %w", m.Kind, ErrProtocol)
	}
	return nil
}

// Bye reports whether the daemon said bye.
func (s *State) Bye() bool { return s.bye }

// Held returns the instances currently held, by name.
func (s *State) Held() []Holding {
	out := make([]Holding, 0, len(s.holds))
	for _, h := range s.holds {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Instance < out[j].Instance })
	return out
}

// Removal is one instance's address deletion, After the daemon's death
// at the latest.
type Removal struct {
	Instance string
	After    time.Duration
	Addrs    []Addr
	// Successor, if set, identifies the adverts of the instance's
	// successor: the first one heard cuts the wait to the drain.
	Successor *AdvertKey
}

// AdvertKey identifies one virtual router's adverts on an interface.
type AdvertKey struct {
	Dev  string
	IPv6 bool
	VRID uint8
}

// Plan is what to do when the daemon died: send every farewell advert at
// once, then delete the addresses in Removals order (sorted by After).
type Plan struct {
	Send   []Datagram
	Remove []Removal
}

// Plan returns the actions for the daemon's death (empty after a bye).
func (s *State) Plan() Plan {
	var p Plan
	for _, h := range s.Held() {
		r := Removal{Instance: h.Instance, Addrs: h.Addrs}
		if len(h.Farewell) > 0 {
			p.Send = append(p.Send, h.Farewell...)
			r.After = h.Linger
			f := h.Farewell[0]
			r.Successor = &AdvertKey{Dev: f.Dev, IPv6: f.IPv6, VRID: h.VRID}
		}
		p.Remove = append(p.Remove, r)
	}
	sort.SliceStable(p.Remove, func(i, j int) bool { return p.Remove[i].After < p.Remove[j].After })
	return p
}
