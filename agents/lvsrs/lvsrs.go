// Package lvsrs is gocrm's LVS direct-routing real-server agent
// (ocf:gocrm:lvs-realserver): it puts the virtual IP on the loopback device
// (a /32 or /128 host address, so the real server accepts packets the
// director forwards unchanged) and, for IPv4, sets arp_ignore=1 and
// arp_announce=2 so the host never answers or announces ARP for the VIP.
// Stop removes the VIP and restores the previous sysctl values once no
// other VIP remains on the device.
//
// Kernel access goes through vip.AddrLinker and the Sysctl interface.
package lvsrs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vip/ocf"
)

// AgentName is the agent's OCF type (ocf:gocrm:lvs-realserver).
const AgentName = "lvs-realserver"

// Params is the parameter table (also rendered as meta-data).
var Params = []ocf.ParamSpec{
	{Name: "ip", Aliases: []string{"vip"}, Required: true, Unique: true, Short: "Virtual IP",
		Long: "The LVS virtual address (IPv4 or IPv6) to accept on this real server."},
	{Name: "nic", Default: "lo", Short: "Device for the VIP", Long: "Device holding the VIP (a non-ARP device: lo)."},
	{Name: "label", Short: "Label suffix (IPv4)", Long: "The address gets label <nic>:<label>."},
	{Name: "arp_ignore", Type: "integer", Default: "1", Short: "arp_ignore value",
		Long: "Value for net.ipv4.conf.{all,<arp_interfaces>}.arp_ignore (1: reply only for addresses on the receiving device)."},
	{Name: "arp_announce", Type: "integer", Default: "2", Short: "arp_announce value",
		Long: "Value for net.ipv4.conf.{all,<arp_interfaces>}.arp_announce (2: always use the best local source address)."},
	{Name: "arp_interfaces", Default: "lo", Short: "Devices to set besides 'all'",
		Long: "Space-separated devices whose arp_ignore/arp_announce are set in addition to 'all'."},
}

var devRe = regexp.MustCompile(`^[^/\s:.]{1,15}$`)

// Config is the parsed configuration.
type Config struct {
	IP          netip.Addr
	Nic         string
	Label       string
	ARPIgnore   int
	ARPAnnounce int
	Devices     []string // "all" first
}

// ParseParams validates params without touching the host.
func ParseParams(p map[string]string) (*Config, error) {
	if err := ocf.CheckKnown(p, Params); err != nil {
		return nil, err
	}
	ipStr := strings.TrimSpace(p["ip"])
	if ipStr == "" {
		ipStr = strings.TrimSpace(p["vip"])
	}
	ip, err := ocf.UnicastIP("ip", ipStr)
	if err != nil {
		return nil, err
	}
	c := &Config{IP: ip, Nic: "lo", ARPIgnore: 1, ARPAnnounce: 2}
	if v := strings.TrimSpace(p["nic"]); v != "" {
		if !devRe.MatchString(v) {
			return nil, ocf.Invalid("nic", v, "not a valid device name")
		}
		c.Nic = v
	}
	if v := strings.TrimSpace(p["label"]); v != "" {
		if !ip.Is4() {
			return nil, ocf.Invalid("label", v, "labels are only supported for IPv4 addresses")
		}
		v = strings.TrimPrefix(v, c.Nic+":")
		if len(c.Nic)+1+len(v) > 15 || strings.ContainsAny(v, " /") {
			return nil, ocf.Invalid("label", v, "%s:%s must be at most 15 characters without spaces", c.Nic, v)
		}
		c.Label = c.Nic + ":" + v
	}
	for _, x := range []struct {
		name string
		dst  *int
		max  int
	}{{"arp_ignore", &c.ARPIgnore, 8}, {"arp_announce", &c.ARPAnnounce, 2}} {
		n, err := ocf.Int(x.name, strings.TrimSpace(p[x.name]), *x.dst, 0, x.max)
		if err != nil {
			return nil, err
		}
		*x.dst = n
	}
	c.Devices = []string{"all"}
	devs := "lo"
	if v, ok := p["arp_interfaces"]; ok {
		devs = v
	}
	for _, d := range strings.Fields(devs) {
		if !devRe.MatchString(d) || d == "all" || d == "default" {
			return nil, ocf.Invalid("arp_interfaces", d, "not a valid device name")
		}
		c.Devices = append(c.Devices, d)
	}
	return c, nil
}

// Memory remembers the ARP sysctl values found before the first
// real-server VIP changed them. The sysctls are shared by every VIP on a
// host, so all agents of one host must share one Memory. Safe for
// concurrent use.
type Memory struct {
	mu    sync.Mutex
	saved map[string]string
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{saved: map[string]string{}} }

// save records v for k unless k is already recorded.
func (m *Memory) save(k, v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.saved[k]; !ok {
		m.saved[k] = v
	}
}

// take returns and forgets the recorded value of k.
func (m *Memory) take(k string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.saved[k]
	delete(m.saved, k)
	return v, ok
}

// hostMemory is the default Memory shared by agents created without one.
var hostMemory = NewMemory()

// Deps are the agent's injected dependencies.
type Deps struct {
	Addrs  vip.AddrLinker
	Sysctl Sysctl
	Memory *Memory // default: one process-wide Memory
	Logger *slog.Logger
}

// Agent manages one LVS-DR real-server VIP. Methods are safe for
// concurrent use; actions are serialised. The sysctl values found before
// they were first changed are kept in Deps.Memory and restored when the
// last VIP on the device stops; without a record (e.g. after a daemon
// restart) values the agent set are reset to the kernel default 0.
type Agent struct {
	d   Deps
	log *slog.Logger

	mu  sync.Mutex
	cfg *Config
}

// New returns an Agent.
func New(d Deps) *Agent {
	if d.Memory == nil {
		d.Memory = hostMemory
	}
	return &Agent{d: d, log: ocf.AgentLogger(d.Logger, AgentName)}
}

// MetaData returns the OCF meta-data XML.
func (a *Agent) MetaData() string {
	return ocf.AgentMeta(AgentName,
		"LVS direct-routing real server: VIP on lo without ARP",
		"Adds the LVS virtual IP as a host address on the loopback device and sets "+
			"arp_ignore=1 / arp_announce=2 so that this real server accepts directly routed "+
			"packets for the VIP without ever answering ARP for it. Stop restores the settings.",
		Params)
}

// Validate parses params (rc 2) and checks the devices exist (rc 6).
func (a *Agent) Validate(params map[string]string) error {
	c, err := ParseParams(params)
	if err != nil {
		return err
	}
	if _, err := a.d.Addrs.LinkByName(c.Nic); err != nil {
		if errors.Is(err, vip.ErrLinkNotFound) {
			return ocf.Unconfigured("nic", c.Nic, "no such network device on this host")
		}
		return fmt.Errorf("validate: %w", err)
	}
	if c.IP.Is4() {
		for _, d := range c.Devices[1:] {
			if _, err := a.d.Addrs.LinkByName(d); err != nil {
				return ocf.Unconfigured("arp_interfaces", d, "no such network device on this host")
			}
		}
	}
	a.mu.Lock()
	a.cfg = c
	a.mu.Unlock()
	return nil
}

func key(dev, name string) string { return "net/ipv4/conf/" + dev + "/" + name }

func (c *Config) addr() vip.Addr {
	return vip.Addr{
		Prefix: netip.PrefixFrom(c.IP, c.IP.BitLen()), Label: c.Label,
		PreferredLft: vip.Forever, ValidLft: vip.Forever, Flags: vip.FlagNoDAD,
	}
}

// Start sets the ARP sysctls (IPv4) and adds the VIP to the device.
// Sysctls go first so the host never answers ARP for the VIP.
func (a *Agent) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, err := ocf.Configured(a.cfg, AgentName)
	if err != nil {
		return err
	}
	if c.IP.Is4() {
		for _, dev := range c.Devices {
			for _, x := range []struct {
				name string
				val  int
			}{{"arp_ignore", c.ARPIgnore}, {"arp_announce", c.ARPAnnounce}} {
				k := key(dev, x.name)
				cur, err := a.d.Sysctl.Get(k)
				if err != nil {
					return fmt.Errorf("start: %w", err)
				}
				if cur != strconv.Itoa(x.val) {
					a.d.Memory.save(k, cur)
					if err := a.d.Sysctl.Set(k, strconv.Itoa(x.val)); err != nil {
						return fmt.Errorf("start: %w", err)
					}
				}
			}
		}
	}
	l, err := a.d.Addrs.LinkByName(c.Nic)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if err := a.d.Addrs.AddrReplace(l, c.addr()); err != nil {
		return fmt.Errorf("start: add VIP %s on %s: %w", c.IP, c.Nic, err)
	}
	if !l.Up {
		if err := a.d.Addrs.LinkSetUp(l); err != nil {
			return fmt.Errorf("start: %w", err)
		}
	}
	a.log.Info("real-server VIP added", "ip", c.IP.String(), "nic", c.Nic)
	return ctx.Err()
}

// otherVIPs reports whether the device holds non-loopback addresses of
// the family other than ip (other real-server VIPs sharing the sysctls).
func otherVIPs(addrs []vip.Addr, ip netip.Addr) bool {
	for _, x := range addrs {
		a := x.Prefix.Addr()
		if a != ip && !a.IsLoopback() && a.Is4() == ip.Is4() && !a.IsLinkLocalUnicast() {
			return true
		}
	}
	return false
}

// Stop removes the VIP (absent is success) and, when no other VIP is left
// on the device, restores the ARP sysctls.
func (a *Agent) Stop(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, err := ocf.Configured(a.cfg, AgentName)
	if err != nil {
		return err
	}
	l, err := a.d.Addrs.LinkByName(c.Nic)
	if errors.Is(err, vip.ErrLinkNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	addrs, err := a.d.Addrs.AddrList(l, 0)
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	removed := false
	for _, x := range addrs {
		if x.Prefix.Addr() == c.IP {
			if err := a.d.Addrs.AddrDel(l, x); err != nil && !errors.Is(err, vip.ErrAddrNotFound) {
				return fmt.Errorf("stop: delete VIP %s from %s: %w", x.Prefix, c.Nic, err)
			}
			removed = true
		}
	}
	if !c.IP.Is4() {
		return ctx.Err()
	}
	if otherVIPs(addrs, c.IP) {
		a.log.Info("other VIPs remain; ARP sysctls left in place", "nic", c.Nic)
		return ctx.Err()
	}
	for _, dev := range c.Devices {
		for _, x := range []struct {
			name string
			set  int
		}{{"arp_ignore", c.ARPIgnore}, {"arp_announce", c.ARPAnnounce}} {
			k := key(dev, x.name)
			v, ok := a.d.Memory.take(k)
			if !ok {
				cur, err := a.d.Sysctl.Get(k)
				if !removed || err != nil || cur != strconv.Itoa(x.set) {
					continue // not ours to reset
				}
				v = "0"
			}
			if err := a.d.Sysctl.Set(k, v); err != nil && !errors.Is(err, ErrNoSysctl) {
				return fmt.Errorf("stop: restore: %w", err)
			}
		}
	}
	return ctx.Err()
}

// Monitor returns ocf.RCSuccess when the VIP is on the device and (IPv4)
// the effective arp_ignore/arp_announce (the maximum of "all" and the
// device) are at least the configured values, ocf.RCNotRunning without the
// VIP, and ocf.RCErrGeneric when the VIP is present but the host would
// answer ARP for it.
func (a *Agent) Monitor(ctx context.Context) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, err := ocf.Configured(a.cfg, AgentName)
	if err != nil {
		return ocf.RCErrConfigured, err
	}
	l, err := a.d.Addrs.LinkByName(c.Nic)
	if errors.Is(err, vip.ErrLinkNotFound) {
		return ocf.RCNotRunning, nil
	}
	if err != nil {
		return ocf.RCErrGeneric, fmt.Errorf("monitor: %w", err)
	}
	addrs, err := a.d.Addrs.AddrList(l, 0)
	if err != nil {
		return ocf.RCErrGeneric, fmt.Errorf("monitor: %w", err)
	}
	found := false
	for _, x := range addrs {
		if x.Prefix.Addr() == c.IP {
			found = true
		}
	}
	if !found {
		return ocf.RCNotRunning, nil
	}
	if c.IP.Is4() {
		for _, dev := range c.Devices {
			for _, x := range []struct {
				name string
				want int
			}{{"arp_ignore", c.ARPIgnore}, {"arp_announce", c.ARPAnnounce}} {
				eff := 0
				for _, d := range []string{"all", dev} {
					v, err := a.d.Sysctl.Get(key(d, x.name))
					if err != nil {
						return ocf.RCErrGeneric, fmt.Errorf("monitor: %w", err)
					}
					n, _ := strconv.Atoi(v)
					eff = max(eff, n)
				}
				if eff < x.want {
					return ocf.RCErrGeneric, fmt.Errorf("monitor: VIP %s present but effective %s on %s is %d, want %d (host would answer ARP for the VIP)",
						c.IP, x.name, dev, eff, x.want)
				}
			}
		}
	}
	return ocf.RCSuccess, ctx.Err()
}
