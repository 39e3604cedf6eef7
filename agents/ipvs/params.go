package ipvs

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/agents/ipvs/check"
	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vip/ocf"
)

// Schedulers are the kernel IPVS schedulers the agent accepts.
var Schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}

// KnownScheduler reports whether name is a kernel IPVS scheduler.
func KnownScheduler(name string) bool { return slices.Contains(Schedulers, name) }

// RealServer is one configured real server.
type RealServer struct {
	Addr       netip.Addr
	Port       uint16
	Weight     int
	Forward    Forward
	UThreshold uint32
	LThreshold uint32
}

// CheckConfig is the health-check part of the configuration.
type CheckConfig struct {
	Type             string // "", "tcp", "http", "https", "misc"
	Port             uint16 // connect_port (0 = real server port)
	URL              string
	VirtualHost      string
	Status           []check.StatusRange
	Digest           string
	Command          []string
	MiscTimeout      time.Duration
	MiscDynamic      bool
	DelayLoop        time.Duration
	ConnectTimeout   time.Duration
	Retry            int
	DelayBeforeRetry time.Duration
	InhibitOnFailure bool
	Quorum           int
	Hysteresis       int
	Alpha            bool
}

// Config is the parsed configuration of one virtual service.
type Config struct {
	Service     Service
	RealServers []RealServer
	Sorry       *RealServer
	SorryInhib  bool
	Check       CheckConfig
}

// Params is the parameter table (also rendered as meta-data).
var Params = []ocf.ParamSpec{
	{Name: "vip", Aliases: []string{"ip"}, Unique: true, Short: "Virtual address",
		Long: "Virtual service address (IPv4 or IPv6). Required unless fwmark is set."},
	{Name: "port", Type: "integer", Short: "Virtual port", Long: "Virtual service port (1-65535; 0 only for persistent services)."},
	{Name: "protocol", Default: "tcp", Short: "tcp, udp or sctp"},
	{Name: "fwmark", Type: "integer", Short: "Firewall mark", Long: "Firewall-mark service instead of address/port."},
	{Name: "family", Default: "inet", Short: "inet or inet6 (fwmark services)"},
	{Name: "scheduler", Aliases: []string{"lb_algo", "lvs_sched"}, Default: "wlc",
		Short: "Scheduler", Long: "One of rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos."},
	{Name: "sched_flags", Short: "Scheduler flags", Long: "Comma-separated flag-1,flag-2,flag-3 (sh-fallback, sh-port, mh-fallback, mh-port)."},
	{Name: "ops", Type: "boolean", Default: "false", Short: "One-packet scheduling (UDP)"},
	{Name: "persistent", Aliases: []string{"persistence_timeout"}, Type: "integer", Default: "0",
		Short: "Persistence timeout (s)", Long: "Client affinity timeout in seconds; 0 = not persistent."},
	{Name: "persistence_granularity", Aliases: []string{"netmask"}, Short: "Persistence netmask",
		Long: "IPv4 netmask (dotted or prefix length) or IPv6 prefix length grouping clients."},
	{Name: "forward", Aliases: []string{"lb_kind", "lvs_method"}, Default: "nat", Short: "nat, dr or tun",
		Long: "Default forwarding method of real servers (NAT, DR gatewaying, TUN IP-in-IP)."},
	{Name: "weight", Type: "integer", Default: "1", Short: "Default real server weight"},
	{Name: "real_servers", Short: "Real servers",
		Long: "Semicolon-separated list: ADDR[:PORT] [weight=N] [forward=nat|dr|tun] [uthreshold=N] [lthreshold=N]; IPv6 as [ADDR]:PORT."},
	{Name: "sorry_server", Short: "Sorry server", Long: "ADDR[:PORT] [forward=...] installed while quorum is lost."},
	{Name: "sorry_server_inhibit", Type: "boolean", Default: "false", Short: "Keep sorry server at weight 0"},
	{Name: "check", Default: "none", Short: "none, tcp, http, https or misc"},
	{Name: "check_port", Aliases: []string{"connect_port"}, Type: "integer", Short: "Port to check (default: real server port)"},
	{Name: "check_url", Default: "/", Short: "HTTP path"},
	{Name: "check_virtualhost", Aliases: []string{"virtualhost"}, Short: "HTTP Host header"},
	{Name: "check_status", Aliases: []string{"status_code"}, Default: "200-299", Short: "Accepted status codes"},
	{Name: "check_digest", Aliases: []string{"digest"}, Short: "MD5 (hex) of the expected body"},
	{Name: "misc_path", Short: "MISC_CHECK command line"},
	{Name: "misc_timeout", Type: "integer", Short: "MISC_CHECK timeout (s, default delay_loop)"},
	{Name: "misc_dynamic", Type: "boolean", Default: "false", Short: "Weight = exit code - 2"},
	{Name: "delay_loop", Type: "integer", Default: "60", Short: "Seconds between checks"},
	{Name: "connect_timeout", Type: "integer", Default: "5", Short: "Check timeout (s)"},
	{Name: "retry", Aliases: []string{"nb_get_retry"}, Type: "integer", Short: "Retries before failing (default 1, misc 0)"},
	{Name: "delay_before_retry", Type: "integer", Short: "Seconds between retries (default 1, http/https 3)"},
	{Name: "inhibit_on_failure", Type: "boolean", Default: "false", Short: "Weight 0 instead of removal"},
	{Name: "quorum", Type: "integer", Default: "1", Short: "Minimum live weight"},
	{Name: "hysteresis", Type: "integer", Default: "0", Short: "Quorum hysteresis"},
	{Name: "alpha", Type: "boolean", Default: "false", Short: "Servers start down until checked"},
}

func get(p map[string]string, name string) string {
	if v, ok := p[name]; ok {
		return v
	}
	for _, s := range Params {
		if s.Name == name {
			for _, a := range s.Aliases {
				if v, ok := p[a]; ok {
					return v
				}
			}
		}
	}
	return ""
}

// ParseForward parses nat|masq, dr|route|gatewaying, tun|ipip|tunnel.
func ParseForward(name, v string) (Forward, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "nat", "masq", "masquerading", "m":
		return ForwardNAT, nil
	case "dr", "route", "gatewaying", "g", "direct":
		return ForwardDR, nil
	case "tun", "ipip", "tunnel", "i":
		return ForwardTUN, nil
	}
	return 0, ocf.Invalid(name, v, "unknown forwarding method (use nat, dr or tun)")
}

// parseHostPort parses ADDR, ADDR:PORT, [V6], [V6]:PORT.
func parseHostPort(name, s string, defPort uint16) (netip.Addr, uint16, error) {
	s = strings.TrimSpace(s)
	host, portStr := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return netip.Addr{}, 0, ocf.Invalid(name, s, "unterminated '['")
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return netip.Addr{}, 0, ocf.Invalid(name, s, "expected ':' after ']'")
			}
			portStr = rest[1:]
		}
	} else if strings.Count(s, ":") == 1 {
		host, portStr, _ = strings.Cut(s, ":")
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, 0, ocf.Invalid(name, s, "not a valid IP address")
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsMulticast() {
		return netip.Addr{}, 0, ocf.Invalid(name, s, "not a unicast address")
	}
	port := defPort
	if portStr != "" {
		n, err := strconv.Atoi(portStr)
		if err != nil || n < 1 || n > 65535 {
			return netip.Addr{}, 0, ocf.Invalid(name, s, "bad port %q (1-65535)", portStr)
		}
		port = uint16(n)
	}
	return a, port, nil
}

func parseServer(name, entry string, def RealServer) (RealServer, error) {
	f := strings.Fields(entry)
	if len(f) == 0 {
		return RealServer{}, ocf.Invalid(name, entry, "empty entry")
	}
	rs := def
	var err error
	if rs.Addr, rs.Port, err = parseHostPort(name, f[0], def.Port); err != nil {
		return RealServer{}, err
	}
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return RealServer{}, ocf.Invalid(name, entry, "option %q is not key=value", kv)
		}
		switch k {
		case "weight", "w":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65535 {
				return RealServer{}, ocf.Invalid(name, entry, "weight %q must be 0-65535", v)
			}
			rs.Weight = n
		case "forward", "fwd", "lb_kind":
			if rs.Forward, err = ParseForward(name, v); err != nil {
				return RealServer{}, err
			}
		case "uthreshold", "lthreshold":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return RealServer{}, ocf.Invalid(name, entry, "%s %q must be a non-negative integer", k, v)
			}
			if k == "uthreshold" {
				rs.UThreshold = uint32(n)
			} else {
				rs.LThreshold = uint32(n)
			}
		default:
			return RealServer{}, ocf.Invalid(name, entry, "unknown option %q", k)
		}
	}
	return rs, nil
}

// ParseParams validates params without touching the host.
func ParseParams(p map[string]string) (*Config, error) {
	if err := ocf.CheckKnown(p, Params); err != nil {
		return nil, err
	}
	c := &Config{}
	s := &c.Service
	mark, err := ocf.Int("fwmark", get(p, "fwmark"), 0, 0, 1<<31-1)
	if err != nil {
		return nil, err
	}
	vipStr := strings.TrimSpace(get(p, "vip"))
	var port int
	if mark != 0 {
		if vipStr != "" {
			return nil, ocf.Invalid("vip", vipStr, "must not be set together with fwmark")
		}
		s.FWMark = uint32(mark)
		switch fam := strings.TrimSpace(get(p, "family")); fam {
		case "", "inet", "ipv4", "4":
			s.Family = 4
		case "inet6", "ipv6", "6":
			s.Family = 6
		default:
			return nil, ocf.Invalid("family", fam, "use inet or inet6")
		}
	} else {
		if vipStr == "" {
			return nil, ocf.Invalid("vip", "", "required unless fwmark is set")
		}
		a, err := netip.ParseAddr(vipStr)
		if err != nil || a.Zone() != "" {
			return nil, ocf.Invalid("vip", vipStr, "not a valid IPv4 or IPv6 address")
		}
		a = a.Unmap()
		if a.IsUnspecified() || a.IsMulticast() {
			return nil, ocf.Invalid("vip", vipStr, "not a unicast address")
		}
		s.Addr = a
		s.Family = 4
		if a.Is6() {
			s.Family = 6
		}
		switch proto := strings.ToLower(strings.TrimSpace(get(p, "protocol"))); proto {
		case "", "tcp":
			s.Protocol = ProtoTCP
		case "udp":
			s.Protocol = ProtoUDP
		case "sctp":
			s.Protocol = ProtoSCTP
		default:
			return nil, ocf.Invalid("protocol", proto, "use tcp, udp or sctp")
		}
		ps := strings.TrimSpace(get(p, "port"))
		if ps == "" {
			return nil, ocf.Invalid("port", "", "required for an address service")
		}
		if port, err = ocf.Int("port", ps, 0, 0, 65535); err != nil {
			return nil, err
		}
		s.Port = uint16(port)
	}
	s.Scheduler = strings.ToLower(strings.TrimSpace(get(p, "scheduler")))
	if s.Scheduler == "" {
		s.Scheduler = "wlc"
	}
	if !KnownScheduler(s.Scheduler) {
		return nil, ocf.Invalid("scheduler", s.Scheduler, "unknown scheduler (one of %s)", strings.Join(Schedulers, " "))
	}
	for _, fl := range strings.FieldsFunc(get(p, "sched_flags"), func(r rune) bool { return r == ',' || r == ' ' }) {
		switch fl {
		case "flag-1", "sh-fallback", "mh-fallback":
			s.Flags |= FlagSched1
		case "flag-2", "sh-port", "mh-port":
			s.Flags |= FlagSched2
		case "flag-3":
			s.Flags |= FlagSched3
		default:
			return nil, ocf.Invalid("sched_flags", fl, "unknown flag (flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port)")
		}
	}
	ops, err := ocf.Bool("ops", get(p, "ops"), false)
	if err != nil {
		return nil, err
	}
	if ops {
		if s.Protocol != ProtoUDP && s.FWMark == 0 {
			return nil, ocf.Invalid("ops", "true", "one-packet scheduling needs protocol udp or a fwmark service")
		}
		s.Flags |= FlagOnePacket
	}
	timeout, err := ocf.Int("persistent", get(p, "persistent"), 0, 0, 1<<31-1)
	if err != nil {
		return nil, err
	}
	s.Netmask = defaultNetmask(s.Family)
	if timeout > 0 {
		s.Flags |= FlagPersistent
		s.Timeout = uint32(timeout)
		if g := strings.TrimSpace(get(p, "persistence_granularity")); g != "" {
			bits, err := vip.ParsePrefixLen("persistence_granularity", g, s.Family == 4)
			if err != nil {
				return nil, err
			}
			if s.Family == 6 {
				if bits < 1 {
					return nil, ocf.Invalid("persistence_granularity", g, "IPv6 prefix length must be 1-128")
				}
				s.Netmask = uint32(bits)
			} else {
				s.Netmask = ^uint32(0) << (32 - bits)
				if bits == 0 {
					s.Netmask = 0
				}
			}
		}
	} else if g := strings.TrimSpace(get(p, "persistence_granularity")); g != "" {
		return nil, ocf.Invalid("persistence_granularity", g, "only meaningful with persistent > 0")
	}
	if s.FWMark == 0 && s.Port == 0 && timeout == 0 {
		return nil, ocf.Invalid("port", "0", "port 0 (all ports) needs a persistent service")
	}

	def := RealServer{Port: s.Port, Weight: 1}
	if def.Weight, err = ocf.Int("weight", get(p, "weight"), 1, 0, 65535); err != nil {
		return nil, err
	}
	if f := get(p, "forward"); strings.TrimSpace(f) != "" {
		if def.Forward, err = ParseForward("forward", f); err != nil {
			return nil, err
		}
	}
	seen := map[DestKey]bool{}
	for _, e := range strings.Split(get(p, "real_servers"), ";") {
		if strings.TrimSpace(e) == "" {
			continue
		}
		rs, err := parseServer("real_servers", e, def)
		if err != nil {
			return nil, err
		}
		if rs.Addr.Is4() != (s.Family == 4) {
			return nil, ocf.Invalid("real_servers", e, "address family differs from the virtual service")
		}
		if rs.Port == 0 && s.FWMark == 0 && s.Port != 0 {
			return nil, ocf.Invalid("real_servers", e, "port missing")
		}
		k := DestKey{rs.Addr, rs.Port}
		if seen[k] {
			return nil, ocf.Invalid("real_servers", e, "listed twice")
		}
		seen[k] = true
		c.RealServers = append(c.RealServers, rs)
	}
	if ss := strings.TrimSpace(get(p, "sorry_server")); ss != "" {
		rs, err := parseServer("sorry_server", ss, def)
		if err != nil {
			return nil, err
		}
		if seen[DestKey{rs.Addr, rs.Port}] {
			return nil, ocf.Invalid("sorry_server", ss, "is also a real server")
		}
		if rs.Weight == 0 {
			rs.Weight = 1
		}
		c.Sorry = &rs
	}
	if c.SorryInhib, err = ocf.Bool("sorry_server_inhibit", get(p, "sorry_server_inhibit"), false); err != nil {
		return nil, err
	}
	if err := parseCheck(p, c); err != nil {
		return nil, err
	}
	return c, nil
}

func parseCheck(p map[string]string, c *Config) error {
	k := &c.Check
	var err error
	switch t := strings.ToLower(strings.TrimSpace(get(p, "check"))); t {
	case "", "none":
		k.Type = ""
	case "tcp", "tcp_check":
		k.Type = "tcp"
	case "http", "http_get":
		k.Type = "http"
	case "https", "ssl", "ssl_get":
		k.Type = "https"
	case "misc", "misc_check":
		k.Type = "misc"
	default:
		return ocf.Invalid("check", t, "use none, tcp, http, https or misc")
	}
	cp, err := ocf.Int("check_port", get(p, "check_port"), 0, 0, 65535)
	if err != nil {
		return err
	}
	k.Port = uint16(cp)
	k.URL = strings.TrimSpace(get(p, "check_url"))
	if k.URL == "" {
		k.URL = "/"
	}
	if !strings.HasPrefix(k.URL, "/") {
		return ocf.Invalid("check_url", k.URL, "must start with '/'")
	}
	k.VirtualHost = strings.TrimSpace(get(p, "check_virtualhost"))
	if k.Status, err = check.ParseStatusRanges(get(p, "check_status")); err != nil {
		return ocf.Invalid("check_status", get(p, "check_status"), "%v", err)
	}
	if d := strings.ToLower(strings.TrimSpace(get(p, "check_digest"))); d != "" {
		if len(d) != 32 || strings.Trim(d, "0123456789abcdef") != "" {
			return ocf.Invalid("check_digest", d, "must be 32 hex digits (MD5)")
		}
		k.Digest = d
	}
	dl, err := ocf.Int("delay_loop", get(p, "delay_loop"), 60, 1, 86400)
	if err != nil {
		return err
	}
	k.DelayLoop = time.Duration(dl) * time.Second
	ct, err := ocf.Int("connect_timeout", get(p, "connect_timeout"), 5, 1, 3600)
	if err != nil {
		return err
	}
	k.ConnectTimeout = time.Duration(ct) * time.Second
	defRetry, defDelay := 1, 1
	switch k.Type {
	case "misc":
		defRetry = 0
	case "http", "https":
		defDelay = 3
	}
	if k.Retry, err = ocf.Int("retry", get(p, "retry"), defRetry, 0, 100); err != nil {
		return err
	}
	dbr, err := ocf.Int("delay_before_retry", get(p, "delay_before_retry"), defDelay, 0, 3600)
	if err != nil {
		return err
	}
	k.DelayBeforeRetry = time.Duration(dbr) * time.Second
	if mp := strings.TrimSpace(get(p, "misc_path")); mp != "" {
		k.Command = strings.Fields(mp)
	}
	if k.Type == "misc" && len(k.Command) == 0 {
		return ocf.Invalid("misc_path", "", "required for check=misc")
	}
	mt, err := ocf.Int("misc_timeout", get(p, "misc_timeout"), dl, 1, 86400)
	if err != nil {
		return err
	}
	k.MiscTimeout = time.Duration(mt) * time.Second
	if k.MiscDynamic, err = ocf.Bool("misc_dynamic", get(p, "misc_dynamic"), false); err != nil {
		return err
	}
	if k.InhibitOnFailure, err = ocf.Bool("inhibit_on_failure", get(p, "inhibit_on_failure"), false); err != nil {
		return err
	}
	if k.Quorum, err = ocf.Int("quorum", get(p, "quorum"), 1, 0, 1<<30); err != nil {
		return err
	}
	if k.Hysteresis, err = ocf.Int("hysteresis", get(p, "hysteresis"), 0, 0, 1<<30); err != nil {
		return err
	}
	if k.Alpha, err = ocf.Bool("alpha", get(p, "alpha"), false); err != nil {
		return err
	}
	return nil
}

// String renders the real server for logs.
func (r RealServer) String() string {
	return fmt.Sprintf("%s w=%d %s", AddrPort(r.Addr, r.Port), r.Weight, r.Forward)
}
