// Package vip is gocrm's built-in virtual IP agent (ocf:gocrm:IPaddr2): it
// adds, removes and monitors an IPv4 or IPv6 address on a network device
// through rtnetlink, announces it with gratuitous ARP (IPv4) or unsolicited
// neighbour advertisements (IPv6), and detects duplicates (ARP probe, IPv6
// DAD-failed flag). Parameters are compatible with ocf:heartbeat:IPaddr2.
//
// All kernel access goes through the AddrLinker and Neighbour interfaces
// (Netlink and RawNeighbour in production, FakeAddrLinker and FakeNeighbour
// in tests). Monitor and Stop always look at the kernel, never at cached
// state: a killed daemon is not a stopped resource.
package vip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/gocrm/gocrm/agents/vip/ocf"
)

// AgentName is the agent's OCF type (ocf:gocrm:IPaddr2).
const AgentName = "IPaddr2"

// Deps are the agent's injected dependencies.
type Deps struct {
	Addrs  AddrLinker
	Neigh  Neighbour
	Clock  ocf.Clock    // default ocf.SystemClock
	Logger *slog.Logger // default: discard
}

// Agent manages one virtual IP. Its methods are safe for concurrent use;
// actions are serialised by an internal mutex. Validate must succeed before
// Start, Stop, Monitor or RefreshLifetime (they return an error wrapping
// ocf.ErrNotConfigured otherwise). Background announcements started by
// Start are owned by the Agent and end on Stop, the next Start, or Close.
type Agent struct {
	d   Deps
	log *slog.Logger

	mu  sync.Mutex
	cfg *Config
	bg  *ocf.Job // background announcements
}

// New returns an Agent using d.
func New(d Deps) *Agent {
	if d.Clock == nil {
		d.Clock = ocf.SystemClock{}
	}
	return &Agent{d: d, log: ocf.AgentLogger(d.Logger, AgentName)}
}

// MetaData returns the OCF meta-data XML.
func (a *Agent) MetaData() string {
	return ocf.AgentMeta(AgentName,
		"Manages a virtual IPv4/IPv6 address (netlink, GARP/NA)",
		"Adds a virtual IP address to a network device, announces it with gratuitous ARP "+
			"or unsolicited neighbour advertisements, and checks that it is present and not "+
			"duplicated. Parameter-compatible with ocf:heartbeat:IPaddr2.",
		Params)
}

// Validate parses params (rc 2 on bad values) and checks them against the
// host read-only: the device must exist (rc 6) and, without cidr_netmask or
// nic, an interface network must contain ip. It records the configuration
// for the following actions.
func (a *Agent) Validate(params map[string]string) error {
	c, err := ParseParams(params)
	if err != nil {
		return err
	}
	if err := a.resolve(c); err != nil {
		return err
	}
	if len(c.Ignored) > 0 {
		a.log.Warn("IPaddr2 parameters ignored", "params", c.Ignored)
	}
	a.mu.Lock()
	a.cfg = c
	a.mu.Unlock()
	return nil
}

// resolve fills Nic and PrefixLen from the host when they were not given.
func (a *Agent) resolve(c *Config) error {
	if c.Nic != "" {
		l, err := a.d.Addrs.LinkByName(c.Nic)
		if err != nil {
			if errors.Is(err, ErrLinkNotFound) {
				return ocf.Unconfigured("nic", c.Nic, "no such network device on this host")
			}
			return fmt.Errorf("validate nic %s: %w", c.Nic, err)
		}
		if c.PrefixLen < 0 {
			c.PrefixLen = a.matchPrefix(l, c.IP)
		}
		if c.PrefixLen < 0 {
			c.PrefixLen = c.IP.BitLen()
		}
		return nil
	}
	links, err := a.d.Addrs.Links()
	if err != nil {
		return fmt.Errorf("validate: find device for %s: %w", c.IP, err)
	}
	for _, l := range links {
		if l.Loopback {
			continue
		}
		if p := a.matchPrefix(l, c.IP); p >= 0 {
			c.Nic = l.Name
			if c.PrefixLen < 0 {
				c.PrefixLen = p
			}
			break
		}
	}
	if c.Nic == "" {
		return ocf.Unconfigured("nic", "", "not given and no device has an address in a network containing %s", c.IP)
	}
	if c.LabelSuffix != "" && len(c.Label()) > 15 {
		return ocf.Invalid("label", c.LabelSuffix, "%s is longer than 15 characters", c.Label())
	}
	return nil
}

// matchPrefix returns the prefix length of an address on l (other than ip
// itself as a host route) whose network contains ip, or -1.
func (a *Agent) matchPrefix(l Link, ip netip.Addr) int {
	fam := 6
	if ip.Is4() {
		fam = 4
	}
	addrs, err := a.d.Addrs.AddrList(l, fam)
	if err != nil {
		return -1
	}
	for _, x := range addrs {
		if x.Prefix.Addr() == ip || x.Prefix.Bits() == ip.BitLen() {
			continue
		}
		if x.Prefix.Masked().Contains(ip) {
			return x.Prefix.Bits()
		}
	}
	return -1
}

func familyOf(ip netip.Addr) int {
	if ip.Is4() {
		return 4
	}
	return 6
}

// present returns the kernel's copies of the configured IP on l.
func (a *Agent) present(l Link, c *Config) ([]Addr, error) {
	addrs, err := a.d.Addrs.AddrList(l, familyOf(c.IP))
	if err != nil {
		return nil, err
	}
	var out []Addr
	for _, x := range addrs {
		if x.Prefix.Addr() == c.IP {
			out = append(out, x)
		}
	}
	return out, nil
}

// Start adds the address (idempotently, with AddrReplace), sets the
// device up, waits for IPv6 DAD unless nodad, and announces the address.
func (a *Agent) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, err := ocf.Configured(a.cfg, AgentName)
	if err != nil {
		return err
	}
	a.stopBackground()
	l, err := a.d.Addrs.LinkByName(c.Nic)
	if err != nil {
		if errors.Is(err, ErrLinkNotFound) {
			return fmt.Errorf("start %s: %w", c.IP, ocf.Unconfigured("nic", c.Nic, "no such network device"))
		}
		return fmt.Errorf("start %s: %w", c.IP, err)
	}
	want := c.Addr()
	existing, err := a.present(l, c)
	if err != nil {
		return fmt.Errorf("start %s on %s: %w", c.IP, l.Name, err)
	}
	for _, x := range existing {
		// A stale copy with another prefix would survive AddrReplace.
		if x.Prefix != want.Prefix {
			if err := a.d.Addrs.AddrDel(l, x); err != nil && !errors.Is(err, ErrAddrNotFound) {
				return fmt.Errorf("start %s: remove stale %s: %w", c.IP, x.Prefix, err)
			}
		}
	}
	if err := a.d.Addrs.AddrReplace(l, want); err != nil {
		return fmt.Errorf("start: add VIP %s on %s: %w", want.Prefix, l.Name, err)
	}
	if !l.Up {
		if err := a.d.Addrs.LinkSetUp(l); err != nil {
			return fmt.Errorf("start %s: %w", c.IP, err)
		}
	}
	a.log.Info("address added", "ip", want.Prefix.String(), "nic", l.Name, "label", want.Label)
	if c.IP.Is6() && !c.NoDAD {
		if err := a.waitDAD(ctx, l, c); err != nil {
			return err
		}
	}
	if c.ARPCount == 0 {
		return nil
	}
	// The first announcement always goes out before Start returns.
	if err := a.d.Neigh.Announce(ctx, l, c.IP); err != nil {
		a.log.Warn("announcement failed", "ip", c.IP.String(), "err", err)
	}
	if c.ARPBackground {
		a.bg = ocf.Go(func(bctx context.Context) { a.announce(bctx, l, c, 1) })
		return nil
	}
	a.announce(ctx, l, c, 1)
	return ctx.Err()
}

// announce sends the rest of the burst (already sent announcements are
// skipped) and the optional repeat burst.
func (a *Agent) announce(ctx context.Context, l Link, c *Config, sent int) {
	burst := func(from int) bool {
		for i := from; i < c.ARPCount; i++ {
			if i > 0 && c.ARPInterval > 0 {
				select {
				case <-ctx.Done():
					return false
				case <-a.d.Clock.After(c.ARPInterval):
				}
			}
			if err := a.d.Neigh.Announce(ctx, l, c.IP); err != nil {
				if ctx.Err() != nil {
					return false
				}
				a.log.Warn("announcement failed", "ip", c.IP.String(), "err", err)
			}
		}
		return true
	}
	if !burst(sent) || c.ARPRepeat <= 0 {
		return
	}
	select {
	case <-ctx.Done():
		return
	case <-a.d.Clock.After(c.ARPRepeat):
	}
	burst(0)
}

func (a *Agent) waitDAD(ctx context.Context, l Link, c *Config) error {
	deadline := a.d.Clock.Now().Add(c.DADTimeout)
	for {
		cur, err := a.present(l, c)
		if err != nil {
			return fmt.Errorf("start %s: DAD: %w", c.IP, err)
		}
		tentative := false
		for _, x := range cur {
			if x.Flags&FlagDADFailed != 0 {
				return fmt.Errorf("start %s on %s: %w (IPv6 duplicate address detection failed)", c.IP, l.Name, ocf.ErrDuplicate)
			}
			if x.Flags&FlagTentative != 0 {
				tentative = true
			}
		}
		if !tentative {
			return nil
		}
		if !a.d.Clock.Now().Before(deadline) {
			a.log.Warn("IPv6 DAD still tentative after timeout", "ip", c.IP.String(), "timeout", c.DADTimeout)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("start %s: waiting for DAD: %w", c.IP, ctx.Err())
		case <-a.d.Clock.After(100 * time.Millisecond):
		}
	}
}

// stopBackground cancels and waits for background announcements. Caller
// holds a.mu.
func (a *Agent) stopBackground() {
	a.bg.Stop()
	a.bg = nil
}

// Close ends background announcements; the address is left as it is.
func (a *Agent) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopBackground()
}

// Stop removes every copy of the address from the device. An address or a
// device that is already gone is success.
func (a *Agent) Stop(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, err := ocf.Configured(a.cfg, AgentName)
	if err != nil {
		return err
	}
	a.stopBackground()
	l, err := a.d.Addrs.LinkByName(c.Nic)
	if errors.Is(err, ErrLinkNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop %s: %w", c.IP, err)
	}
	existing, err := a.present(l, c)
	if err != nil {
		return fmt.Errorf("stop %s on %s: %w", c.IP, l.Name, err)
	}
	for _, x := range existing {
		if err := a.d.Addrs.AddrDel(l, x); err != nil && !errors.Is(err, ErrAddrNotFound) {
			return fmt.Errorf("stop: delete VIP %s from %s: %w", x.Prefix, l.Name, err)
		}
		a.log.Info("address removed", "ip", x.Prefix.String(), "nic", l.Name)
	}
	return ctx.Err()
}

// Monitor returns ocf.RCSuccess when the address is on the device and not
// duplicated, ocf.RCNotRunning when it (or the device) is absent, and
// ocf.RCErrGeneric with an error wrapping ocf.ErrDuplicate when another
// host claims it (ARP probe answer, IPv6 DAD failure).
func (a *Agent) Monitor(ctx context.Context) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, err := ocf.Configured(a.cfg, AgentName)
	if err != nil {
		return ocf.RCErrConfigured, err
	}
	l, err := a.d.Addrs.LinkByName(c.Nic)
	if errors.Is(err, ErrLinkNotFound) {
		return ocf.RCNotRunning, nil
	}
	if err != nil {
		return ocf.RCErrGeneric, fmt.Errorf("monitor %s: %w", c.IP, err)
	}
	cur, err := a.present(l, c)
	if err != nil {
		return ocf.RCErrGeneric, fmt.Errorf("monitor %s on %s: %w", c.IP, l.Name, err)
	}
	if len(cur) == 0 {
		return ocf.RCNotRunning, nil
	}
	for _, x := range cur {
		if x.Flags&FlagDADFailed != 0 {
			return ocf.RCErrGeneric, fmt.Errorf("monitor %s on %s: %w (IPv6 DAD failed)", c.IP, l.Name, ocf.ErrDuplicate)
		}
	}
	if c.DupCheck && c.IP.Is4() && len(l.HardwareAddr) == 6 {
		mac, err := a.d.Neigh.Probe(ctx, l, c.IP, c.DupTimeout)
		if err != nil {
			// A probe we cannot send says nothing about the address.
			a.log.Warn("ARP probe failed", "ip", c.IP.String(), "err", err)
		} else if mac != nil {
			return ocf.RCErrGeneric, fmt.Errorf("monitor %s on %s: %w (ARP probe answered by %s)", c.IP, l.Name, ocf.ErrDuplicate, mac)
		}
	}
	return ocf.RCSuccess, nil
}

// RefreshLifetime re-applies the configured lifetimes of a present address
// (a VRRP master calls it periodically so that the address expires by
// itself if the daemon dies). With valid_lft forever it does nothing. An
// absent address yields an error wrapping ocf.ErrNotRunning; it is not
// re-added.
func (a *Agent) RefreshLifetime(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, err := ocf.Configured(a.cfg, AgentName)
	if err != nil {
		return err
	}
	if c.ValidLft == Forever {
		return nil
	}
	l, err := a.d.Addrs.LinkByName(c.Nic)
	if errors.Is(err, ErrLinkNotFound) {
		return fmt.Errorf("refresh %s: device %s gone: %w", c.IP, c.Nic, ocf.ErrNotRunning)
	}
	if err != nil {
		return fmt.Errorf("refresh %s: %w", c.IP, err)
	}
	want := c.Addr()
	cur, err := a.present(l, c)
	if err != nil {
		return fmt.Errorf("refresh %s: %w", c.IP, err)
	}
	found := false
	for _, x := range cur {
		if x.Prefix == want.Prefix {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("refresh %s on %s: %w", c.IP, l.Name, ocf.ErrNotRunning)
	}
	if err := a.d.Addrs.AddrReplace(l, want); err != nil {
		return fmt.Errorf("refresh lifetime of %s on %s: %w", want.Prefix, l.Name, err)
	}
	return ctx.Err()
}

// RefreshInterval is how often RefreshLifetime should run: a third of
// valid_lft (at least 1 s), or 0 when the lifetime is infinite.
func (a *Agent) RefreshInterval() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg == nil || a.cfg.ValidLft == Forever {
		return 0
	}
	d := time.Duration(a.cfg.ValidLft) * time.Second / 3
	if d < time.Second {
		d = time.Second
	}
	return d
}

// Config returns a copy of the validated configuration, or nil.
func (a *Agent) Config() *Config {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg == nil {
		return nil
	}
	c := *a.cfg
	return &c
}
