// Package dataplane is the I/O shell around the pure VRRP router
// (agents/vrrp/router): it owns the raw protocol-112 sockets (IPv4 with
// IP_HDRINCL, multicast 224.0.0.18 joined on the interface, loopback off;
// IPv6 to ff02::12 with hop limit 255; unicast peers), a timer loop driven by
// an injected clock, the virtual addresses (added through agents/vip's
// rtnetlink code with a finite kernel lifetime renewed after every advert by
// a worker goroutine, so adverts never wait for the kernel's rtnl lock, and a
// SIGKILLed daemon's VIPs disappear by themselves even without its guard),
// the reports to the VIP guard (Deps.Guard, agents/vrrp/guard: installed
// VIPs and the priority-0 farewell adverts it sends if this process dies
// without stopping), gratuitous ARP /
// unsolicited NA bursts, notify scripts and the notify FIFO, and the tracked
// objects (vrrp_script and track_file through agents/vrrp/track, interface
// link state through netlink).
//
// Every decision (when to send, take over, yield, re-announce after a
// partition heals, burst GARPs) is the router's; the dataplane carries the
// resulting actions out in order, with one deliberate refinement at exit: a
// stopping master sends its priority-0 advert at once but keeps its VIPs
// until the successor's first advert (plus a 50 ms drain, at most one
// master down interval), so clients are served until the successor's
// gratuitous ARPs move them (graceful stop costs no outage).
//
// Timers use a timerfd (SystemClock): Go's runtime timers wake up to a
// millisecond late, which showed in every master down interval.
//
// Concurrency: a Dataplane is driven by Run, whose goroutine owns every
// router and sync group; receive, tracking and link goroutines and the
// lifetime refresher only feed it through channels and end before Run
// returns. Reload and Status may be
// called from other goroutines while Run is active.
package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/router"
	"github.com/gocrm/gocrm/agents/vrrp/track"
)

// Sentinel errors.
var (
	// ErrConfig is wrapped by invalid dataplane configurations.
	ErrConfig = errors.New("vrrp dataplane: invalid configuration")
	// ErrNotRunning is returned by Reload when Run is not active.
	ErrNotRunning = errors.New("vrrp dataplane: not running")
)

// Config is everything one VRRP daemon runs.
type Config struct {
	// Units are the standalone instances and sync groups.
	Units []Unit
	// Scripts are the vrrp_script definitions referenced by tracking.
	Scripts []track.Script
	// Files are the track_file definitions referenced by tracking.
	Files []track.File
	// NotifyFIFO, if set, receives one line per state change
	// ("INSTANCE "VI_1" MASTER 100"); the FIFO is created when missing.
	NotifyFIFO string
	// NotifyFIFOScript is started with the FIFO path as its last argument.
	NotifyFIFOScript []string
	// CrashHandover makes the guard (Deps.Guard) send a dead master's
	// priority-0 adverts and keep its VIPs until shortly after the
	// successor's first advert (at most guardLinger), so a backup takes
	// over after its skew time as after a graceful stop; without it the
	// guard deletes the VIPs at once.
	CrashHandover bool
}

// Unit is one standalone vrrp_instance (Group false, exactly one instance)
// or one vrrp_sync_group.
type Unit struct {
	// Name is the group name, or the instance name for a standalone unit.
	Name      string
	Group     bool
	Instances []Instance
	// Notify are the group's own notify scripts (sync groups only).
	Notify Notify
}

// Instance is one vrrp_instance.
type Instance struct {
	// Router is the pure router's configuration. An invalid
	// Router.FSM.PrimaryAddr is filled in from the interface (first IPv4
	// address, or the IPv6 link-local address).
	Router router.Config
	// Interface is the VRRP interface (adverts are sent and received there).
	Interface string
	// Addresses are the addresses installed while master: the advertised
	// VIPs and the excluded ones, each with its device.
	Addresses []VIP
	Notify    Notify
	// VIPLifetime is the kernel valid_lft of the addresses, refreshed on
	// every advert sent: 0 picks one from the advert interval (see
	// Lifetime), a negative value means forever (keepalived's behaviour).
	VIPLifetime time.Duration
	// GARPInterval spaces the frames of a burst (vrrp_garp_interval /
	// vrrp_gna_interval); 0 sends them back to back.
	GARPInterval time.Duration
}

// VIP is one address managed by an instance.
type VIP struct {
	Prefix    netip.Prefix
	Dev       string     // empty: the instance's interface
	Label     string     // IPv4 label (full, e.g. "eth0:1")
	Broadcast netip.Addr // IPv4 broadcast; invalid = none
}

// Notify holds the notify scripts as argv (exec'd without a shell). Any is
// keepalived's `notify`: it gets "INSTANCE|GROUP NAME STATE PRIORITY"
// appended.
type Notify struct {
	Master, Backup, Fault, Stop, Any []string
}

// Lifetime returns the kernel valid_lft used for a master's VIPs with the
// given advert interval when Instance.VIPLifetime is 0: twice the interval
// rounded up to whole seconds, keeping at least half a second of margin over
// one interval (the refresh period), so that after a crash the address is
// gone within about three intervals for 1 s adverts (the kernel checks
// lifetimes with one-second granularity).
func Lifetime(interval time.Duration) time.Duration {
	l := ceilSeconds(2 * interval)
	if min := ceilSeconds(interval + 500*time.Millisecond); l < min {
		l = min
	}
	return l
}

func ceilSeconds(d time.Duration) time.Duration {
	s := (d + time.Second - 1) / time.Second
	if s < 1 {
		s = 1
	}
	return s * time.Second
}

func (c *Config) validate() error {
	seen := map[string]bool{}
	for _, u := range c.Units {
		if u.Name == "" {
			return fmt.Errorf("unit without a name: %w", ErrConfig)
		}
		if len(u.Instances) == 0 || (!u.Group && len(u.Instances) != 1) {
			return fmt.Errorf("unit %q: %d instances: %w", u.Name, len(u.Instances), ErrConfig)
		}
		for _, in := range u.Instances {
			n := in.Router.FSM.Name
			if n == "" || seen[n] {
				return fmt.Errorf("unit %q: instance name %q empty or duplicate: %w", u.Name, n, ErrConfig)
			}
			seen[n] = true
			if in.Interface == "" {
				return fmt.Errorf("instance %q: no interface: %w", n, ErrConfig)
			}
		}
	}
	return nil
}
