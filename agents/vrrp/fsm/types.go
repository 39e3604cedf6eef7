package fsm

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/packet"
)

// State is a VRRP instance state.
type State uint8

// States. Stopped is final (after Shutdown).
const (
	Initialize State = iota
	Backup
	Master
	Fault
	Stopped
)

func (s State) String() string {
	switch s {
	case Initialize:
		return "Initialize"
	case Backup:
		return "Backup"
	case Master:
		return "Master"
	case Fault:
		return "Fault"
	case Stopped:
		return "Stop"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// ParseState parses a state name (case-insensitive; "STOP" = Stopped).
func ParseState(s string) (State, error) {
	for st := Initialize; st <= Stopped; st++ {
		if strings.EqualFold(s, st.String()) || (st == Stopped && strings.EqualFold(s, "stopped")) {
			return st, nil
		}
	}
	return 0, fmt.Errorf("unknown VRRP state %q", s)
}

// Event is an input to Step. Every event carries the time it happened
// (the injected clock); times must not go backwards.
type Event interface {
	When() time.Time
}

// Start brings the instance up (from Initialize).
type Start struct{ At time.Time }

// TimerExpired tells the instance that the deadline of its last SetTimer
// action has passed. Early or repeated calls are harmless.
type TimerExpired struct{ At time.Time }

// AdvertReceived is an advert that passed packet.Checker.
type AdvertReceived struct {
	At       time.Time
	Src      netip.Addr
	Priority uint8
	// Interval is the advertised interval (v3 backups adopt it).
	Interval time.Duration
}

// InterfaceChanged reports a tracked interface's link state.
type InterfaceChanged struct {
	At   time.Time
	Name string
	Up   bool
}

// ScriptResult reports one run of a tracked script (a timeout is a
// failure).
type ScriptResult struct {
	At   time.Time
	Name string
	OK   bool
}

// FileValue reports the integer currently in a tracked file.
type FileValue struct {
	At    time.Time
	Name  string
	Value int
}

// Shutdown stops the instance gracefully (SIGTERM): a master sends a
// priority-0 advert; the VIPs are removed.
type Shutdown struct{ At time.Time }

func (e Start) When() time.Time            { return e.At }
func (e TimerExpired) When() time.Time     { return e.At }
func (e AdvertReceived) When() time.Time   { return e.At }
func (e InterfaceChanged) When() time.Time { return e.At }
func (e ScriptResult) When() time.Time     { return e.At }
func (e FileValue) When() time.Time        { return e.At }
func (e Shutdown) When() time.Time         { return e.At }

// AdvertFromPacket converts a checked packet into an AdvertReceived event.
func AdvertFromPacket(at time.Time, p *packet.Packet) AdvertReceived {
	iv := time.Duration(p.Advert.Interval) * time.Second
	if p.Advert.Version == 3 {
		iv = time.Duration(p.Advert.Interval) * 10 * time.Millisecond
	}
	return AdvertReceived{At: at, Src: p.Src, Priority: p.Advert.Priority, Interval: iv}
}

// ActionKind says what an Action asks the host to do.
type ActionKind uint8

// Action kinds.
const (
	// SendAdvert: send one advert with Priority (and the instance's own
	// interval and VIPs), to the group or every unicast peer.
	SendAdvert ActionKind = iota + 1
	// AddVIPs / RemoveVIPs: configure or delete the instance's virtual
	// addresses (RemoveVIPs must succeed when they are already absent).
	AddVIPs
	RemoveVIPs
	// SendGARP: Count gratuitous ARPs (IPv4) / unsolicited NAs (IPv6) per
	// VIP, back to back.
	SendGARP
	// Notify: the instance (or group) entered State.
	Notify
	// SetTimer: deliver TimerExpired at At; a zero At cancels the timer.
	SetTimer
)

func (k ActionKind) String() string {
	switch k {
	case SendAdvert:
		return "SendAdvert"
	case AddVIPs:
		return "AddVIPs"
	case RemoveVIPs:
		return "RemoveVIPs"
	case SendGARP:
		return "SendGARP"
	case Notify:
		return "Notify"
	case SetTimer:
		return "SetTimer"
	}
	return fmt.Sprintf("ActionKind(%d)", uint8(k))
}

// Action is one instruction for the host, to be carried out in order.
type Action struct {
	Kind     ActionKind
	Priority uint8     // SendAdvert: priority to advertise; Notify: current priority
	Count    int       // SendGARP: per VIP
	State    State     // Notify
	At       time.Time // SetTimer
	// Group is set on a sync group's own Notify.
	Group string
	// Reason explains a Notify (for logs).
	Reason string
}

func (a Action) String() string {
	switch a.Kind {
	case SendAdvert:
		return fmt.Sprintf("SendAdvert(prio=%d)", a.Priority)
	case SendGARP:
		return fmt.Sprintf("SendGARP(%d)", a.Count)
	case Notify:
		if a.Group != "" {
			return fmt.Sprintf("Notify(group %s %v prio=%d)", a.Group, a.State, a.Priority)
		}
		return fmt.Sprintf("Notify(%v prio=%d: %s)", a.State, a.Priority, a.Reason)
	case SetTimer:
		if a.At.IsZero() {
			return "SetTimer(cancel)"
		}
		return fmt.Sprintf("SetTimer(%s)", a.At.Format(time.RFC3339Nano))
	}
	return a.Kind.String()
}
