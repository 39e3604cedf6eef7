package vip

import (
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/agents/vip/ocf"
)

// Config is the parsed, validated parameter set of one VIP resource.
type Config struct {
	IP            netip.Addr
	PrefixLen     int    // -1 = derive from the interface holding a matching prefix
	Nic           string // "" = find the interface holding a matching prefix
	LabelSuffix   string // label without the "<nic>:" prefix ("" = none)
	BroadcastSet  bool   // broadcast given explicitly (Broadcast may be invalid = none)
	Broadcast     netip.Addr
	ARPCount      int
	ARPInterval   time.Duration
	ARPRepeat     time.Duration // second burst after this delay (0 = none)
	ARPBackground bool
	PreferredLft  uint32
	ValidLft      uint32
	NoDAD         bool
	DADTimeout    time.Duration
	DupCheck      bool
	DupTimeout    time.Duration
	NoPrefixRoute bool
	// Ignored lists IPaddr2 parameters that were accepted but have no
	// effect here (Validate logs them).
	Ignored []string
}

// ignoredParams are ocf:heartbeat:IPaddr2 parameters accepted for
// configuration compatibility that this agent does not implement.
var ignoredParams = []string{"lvs_support", "lvs_ipv6_addrlabel", "lvs_ipv6_addrlabel_value", "arp_mac",
	"arp_sender", "send_arp_opts", "flush_routes", "run_arping", "unique_clone_address", "network_namespace"}

// Params is the parameter table (also rendered as meta-data).
var Params = []ocf.ParamSpec{
	{Name: "ip", Required: true, Unique: true, Short: "IPv4 or IPv6 address",
		Long: "The virtual IP address to manage (IPv4 dotted quad or IPv6)."},
	{Name: "cidr_netmask", Type: "string", Short: "Netmask (prefix length)",
		Long: "Prefix length (e.g. 24) or IPv4 dotted netmask. Default: taken from the interface address whose network contains ip, else /32 or /128."},
	{Name: "nic", Short: "Network device",
		Long: "Device to add the address to. Default: the device holding an address whose network contains ip."},
	{Name: "label", Aliases: []string{"iflabel"}, Short: "Interface label (IPv4)",
		Long: "Label suffix; the address gets label <nic>:<label> (at most 15 characters in total). IPv4 only."},
	{Name: "broadcast", Short: "Broadcast address (IPv4)",
		Long: "Broadcast address; empty or '+' computes it from the prefix, 'none' or '-' sets none."},
	{Name: "arp_count", Type: "integer", Default: "5", Short: "Announcements per burst",
		Long: "Gratuitous ARPs (IPv4) or unsolicited neighbour advertisements (IPv6) sent per burst."},
	{Name: "arp_interval", Type: "integer", Default: "200", Short: "Milliseconds between announcements",
		Long: "Milliseconds between two announcements of a burst (0 = back to back)."},
	{Name: "arp_repeat_delay", Type: "integer", Default: "0", Short: "Seconds before a second burst",
		Long: "If not 0, send a second burst this many seconds after start (keepalived garp_master_delay)."},
	{Name: "arp_bg", Type: "boolean", Default: "true", Short: "Announce in the background",
		Long: "Send announcements after start returns (the first one is always sent before)."},
	{Name: "preferred_lft", Default: "forever", Short: "Preferred lifetime",
		Long: "Preferred lifetime in seconds or 'forever' (IPv6: 0 marks the address deprecated)."},
	{Name: "valid_lft", Default: "forever", Short: "Valid lifetime",
		Long: "Kernel valid lifetime in seconds or 'forever'. With a finite value the address disappears unless refreshed (see RefreshLifetime)."},
	{Name: "nodad", Type: "boolean", Default: "false", Short: "Skip IPv6 DAD",
		Long: "IPv6: add the address without duplicate address detection."},
	{Name: "dad_timeout", Type: "integer", Default: "3000", Short: "IPv6 DAD wait (ms)",
		Long: "IPv6: milliseconds start waits for duplicate address detection to finish."},
	{Name: "dup_check", Type: "boolean", Default: "true", Short: "Probe for duplicates in monitor",
		Long: "Monitor sends an ARP probe (IPv4) and fails if another host answers; IPv6 uses the kernel's DAD-failed flag."},
	{Name: "dup_check_timeout", Type: "integer", Default: "200", Short: "ARP probe wait (ms)",
		Long: "Milliseconds monitor waits for answers to its ARP probe."},
	{Name: "noprefixroute", Type: "boolean", Default: "false", Short: "No prefix route",
		Long: "Do not create the route for the address's network (IFA_F_NOPREFIXROUTE)."},
	{Name: "mac", Short: "Unsupported (CLUSTERIP)", Long: "IPaddr2's CLUSTERIP mode is not supported; setting it is an error."},
	{Name: "clusterip_hash", Short: "Unsupported (CLUSTERIP)", Long: "IPaddr2's CLUSTERIP mode is not supported; setting it is an error."},
}

func init() {
	for _, n := range ignoredParams {
		Params = append(Params, ocf.ParamSpec{Name: n, Short: "Accepted for IPaddr2 compatibility; ignored",
			Long: "Accepted so that ocf:heartbeat:IPaddr2 configurations validate; it has no effect."})
	}
}

var nicRe = regexp.MustCompile(`^[^/\s:]{1,15}$`)

func parseLifetime(name, v string) (uint32, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "forever" || v == "infinity" {
		return Forever, nil
	}
	v = strings.TrimSuffix(v, "sec")
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n >= math.MaxUint32 {
		return 0, ocf.Invalid(name, v, "must be a number of seconds or 'forever'")
	}
	return uint32(n), nil
}

// ParsePrefixLen accepts "24", "/24" or a dotted IPv4 netmask.
func ParsePrefixLen(name, v string, is4 bool) (int, error) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "/")
	max := 128
	if is4 {
		max = 32
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 || n > max {
			return 0, ocf.Invalid(name, v, "prefix length must be between 0 and %d", max)
		}
		return n, nil
	}
	if is4 {
		if m, err := netip.ParseAddr(v); err == nil && m.Is4() {
			b := m.As4()
			x := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			ones := 0
			for x&0x80000000 != 0 {
				ones++
				x <<= 1
			}
			if x == 0 {
				return ones, nil
			}
		}
	}
	return 0, ocf.Invalid(name, v, "not a prefix length or contiguous netmask")
}

// ParseParams validates params without touching the host.
func ParseParams(params map[string]string) (*Config, error) {
	if err := ocf.CheckKnown(params, Params); err != nil {
		return nil, err
	}
	c := &Config{PrefixLen: -1}
	ipStr := strings.TrimSpace(params["ip"])
	ip, err := ocf.UnicastIP("ip", ipStr)
	if err != nil {
		return nil, err
	}
	if ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return nil, ocf.Invalid("ip", ipStr, "not a usable unicast address")
	}
	c.IP = ip
	if v, ok := params["cidr_netmask"]; ok && strings.TrimSpace(v) != "" {
		if c.PrefixLen, err = ParsePrefixLen("cidr_netmask", v, ip.Is4()); err != nil {
			return nil, err
		}
	}
	if v := strings.TrimSpace(params["nic"]); v != "" {
		if !nicRe.MatchString(v) {
			return nil, ocf.Invalid("nic", v, "not a valid device name (1-15 characters, no '/', ':' or spaces)")
		}
		c.Nic = v
	}
	label := params["label"]
	if label == "" {
		label = params["iflabel"]
	}
	if label = strings.TrimSpace(label); label != "" {
		if !ip.Is4() {
			return nil, ocf.Invalid("label", label, "labels are only supported for IPv4 addresses")
		}
		if c.Nic != "" {
			label = strings.TrimPrefix(label, c.Nic+":")
		}
		if strings.ContainsAny(label, " \t/") {
			return nil, ocf.Invalid("label", label, "must not contain spaces or '/'")
		}
		if c.Nic != "" && len(c.Nic)+1+len(label) > 15 {
			return nil, ocf.Invalid("label", label, "%s:%s is longer than 15 characters", c.Nic, label)
		}
		c.LabelSuffix = label
	}
	switch b := strings.TrimSpace(params["broadcast"]); b {
	case "", "+":
	case "none", "-":
		if !ip.Is4() {
			return nil, ocf.Invalid("broadcast", b, "broadcast is only meaningful for IPv4")
		}
		c.BroadcastSet = true
	default:
		ba, err := netip.ParseAddr(b)
		if err != nil || !ba.Is4() || !ip.Is4() {
			return nil, ocf.Invalid("broadcast", b, "not an IPv4 address (IPv4 VIPs only)")
		}
		c.BroadcastSet, c.Broadcast = true, ba
	}
	if c.ARPCount, err = ocf.Int("arp_count", params["arp_count"], 5, 0, 1000); err != nil {
		return nil, err
	}
	ms, err := ocf.Int("arp_interval", params["arp_interval"], 200, 0, 60000)
	if err != nil {
		return nil, err
	}
	c.ARPInterval = time.Duration(ms) * time.Millisecond
	s, err := ocf.Int("arp_repeat_delay", params["arp_repeat_delay"], 0, 0, 3600)
	if err != nil {
		return nil, err
	}
	c.ARPRepeat = time.Duration(s) * time.Second
	if c.ARPBackground, err = ocf.Bool("arp_bg", params["arp_bg"], true); err != nil {
		return nil, err
	}
	if c.PreferredLft, err = parseLifetime("preferred_lft", params["preferred_lft"]); err != nil {
		return nil, err
	}
	if c.ValidLft, err = parseLifetime("valid_lft", params["valid_lft"]); err != nil {
		return nil, err
	}
	if c.ValidLft == 0 {
		return nil, ocf.Invalid("valid_lft", params["valid_lft"], "must be at least 1 second or 'forever'")
	}
	if c.ValidLft != Forever {
		if c.PreferredLft == Forever {
			c.PreferredLft = c.ValidLft
		}
		if c.PreferredLft > c.ValidLft {
			return nil, ocf.Invalid("preferred_lft", params["preferred_lft"], "must not exceed valid_lft (%d)", c.ValidLft)
		}
	}
	if c.NoDAD, err = ocf.Bool("nodad", params["nodad"], false); err != nil {
		return nil, err
	}
	if ms, err = ocf.Int("dad_timeout", params["dad_timeout"], 3000, 0, 60000); err != nil {
		return nil, err
	}
	c.DADTimeout = time.Duration(ms) * time.Millisecond
	if c.DupCheck, err = ocf.Bool("dup_check", params["dup_check"], true); err != nil {
		return nil, err
	}
	if ms, err = ocf.Int("dup_check_timeout", params["dup_check_timeout"], 200, 1, 10000); err != nil {
		return nil, err
	}
	c.DupTimeout = time.Duration(ms) * time.Millisecond
	if c.NoPrefixRoute, err = ocf.Bool("noprefixroute", params["noprefixroute"], false); err != nil {
		return nil, err
	}
	for _, n := range []string{"mac", "clusterip_hash"} {
		if v := strings.TrimSpace(params[n]); v != "" {
			return nil, ocf.Invalid(n, v, "IPaddr2 CLUSTERIP mode is not supported")
		}
	}
	for _, n := range ignoredParams {
		if _, ok := params[n]; ok {
			c.Ignored = append(c.Ignored, n)
		}
	}
	return c, nil
}

// Label returns the full kernel label ("<nic>:<suffix>"), or "".
func (c *Config) Label() string {
	if c.LabelSuffix == "" {
		return ""
	}
	return c.Nic + ":" + c.LabelSuffix
}

// broadcast computes the IPv4 broadcast address for the VIP.
func (c *Config) broadcast() netip.Addr {
	if !c.IP.Is4() {
		return netip.Addr{}
	}
	if c.BroadcastSet {
		return c.Broadcast
	}
	if c.PrefixLen >= 31 {
		return netip.Addr{}
	}
	b := c.IP.As4()
	host := uint32(1)<<(32-c.PrefixLen) - 1
	x := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}

// Addr returns the kernel address the config describes.
func (c *Config) Addr() Addr {
	a := Addr{
		Prefix:       netip.PrefixFrom(c.IP, c.PrefixLen),
		Label:        c.Label(),
		Broadcast:    c.broadcast(),
		PreferredLft: c.PreferredLft,
		ValidLft:     c.ValidLft,
	}
	if c.NoDAD && c.IP.Is6() {
		a.Flags |= FlagNoDAD
	}
	if c.NoPrefixRoute {
		a.Flags |= FlagNoPrefixRoute
	}
	return a
}
