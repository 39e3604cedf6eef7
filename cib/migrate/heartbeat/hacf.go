package heartbeat

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// HACF is a parsed ha.cf: the raw directives in file order plus their
// interpretation.
//
// Directives and Stonith keep the stonith/stonith_host parameters as written,
// which often include passwords: do not log or print an HACF as a whole.
// Warnings and the translation never contain those parameters.
type HACF struct {
	File       string
	Directives []Directive

	// Nodes lists the members (node lines), lower-cased, in file order,
	// without duplicates.
	Nodes []string
	// Media are the communication paths in file order, each with the
	// udpport/baud in effect when it was declared.
	Media []Medium

	// Timers; the *Set fields say whether the directive was present.
	Keepalive, DeadTime, WarnTime, InitDead, DeadPing                time.Duration
	KeepaliveSet, DeadTimeSet, WarnTimeSet, InitDeadSet, DeadPingSet bool

	// AutoFailback is the effective failback policy: "on", "off" or
	// "legacy" (booleans normalised to on/off; nice_failback mapped).
	AutoFailback string
	// AutoFailbackFrom says where AutoFailback came from: "auto_failback",
	// "nice_failback" or "default".
	AutoFailbackFrom string

	// CRM is the value of the last crm/pacemaker directive ("" if none);
	// CRMEnabled is true for yes/on/respawn/true/1 (haresources ignored).
	CRM          string
	CRMDirective string // "crm" or "pacemaker"
	CRMLine      int
	CRMEnabled   bool

	// UDPPort is the last udpport value (694 when absent); each medium
	// carries the port in effect where it was declared.
	UDPPort int
	// Ping lists ping and ping_group lines (ipfail connectivity targets).
	Ping []PingTarget
	// Stonith holds the stonith and stonith_host lines (v1 STONITH).
	Stonith []Directive
	// Respawn and APIAuth hold the respawn and apiauth lines.
	Respawn, APIAuth []Directive
	// Watchdog is the watchdog device ("" when absent) and its line.
	Watchdog     string
	WatchdogLine int
	// Autojoin is none (default), other or any.
	Autojoin string
	// Logging.
	LogFacility, LogFile, DebugFile string
	UseLogd                         bool
	Debug                           int
	// Warnings are findings that do not stop heartbeat.
	Warnings []Warning
}

// Directive is one ha.cf line: the directive name and its arguments
// (comments removed).
type Directive struct {
	Line int
	Name string
	Args []string
}

// Medium is one heartbeat communication path.
type Medium struct {
	Line int
	Kind string // bcast, mcast, mcast6, ucast, ucast6, serial
	Dev  string // interface or tty
	// Addr is the multicast group (mcast*) or the peer (ucast*).
	Addr string
	Port int // UDP port (bcast/ucast: udpport in effect; mcast: own port)
	TTL  int // mcast only
	Loop bool
	Baud int // serial only: baud in effect
}

// PingTarget is a ping or ping_group line: a pseudo-member whose
// reachability ipfail uses.
type PingTarget struct {
	Line  int
	Group string // "" for a plain ping node
	Hosts []string
}

// Defaults heartbeat uses when the directive is absent.
const (
	DefaultKeepalive = time.Second
	DefaultDeadTime  = 30 * time.Second
	DefaultDeadPing  = 30 * time.Second
	DefaultUDPPort   = 694
	DefaultBaud      = 19200
)

type directiveKind int

const (
	dkKnown   directiveKind = iota // interpreted
	dkIgnored                      // tuning/internal: ignored with a warning
)

// hacfDirectives lists every directive heartbeat 3.0.6 accepts.
var hacfDirectives = map[string]directiveKind{
	"node": dkKnown, "ucast": dkKnown, "ucast6": dkKnown, "bcast": dkKnown, "mcast": dkKnown, "mcast6": dkKnown,
	"serial": dkKnown, "baud": dkKnown, "udpport": dkKnown,
	"keepalive": dkKnown, "deadtime": dkKnown, "warntime": dkKnown, "initdead": dkKnown, "deadping": dkKnown,
	"auto_failback": dkKnown, "nice_failback": dkKnown, "crm": dkKnown, "pacemaker": dkKnown,
	"ping": dkKnown, "ping_group": dkKnown, "respawn": dkKnown, "apiauth": dkKnown,
	"logfacility": dkKnown, "logfile": dkKnown, "debugfile": dkKnown, "use_logd": dkKnown, "debug": dkKnown,
	"watchdog": dkKnown, "stonith": dkKnown, "stonith_host": dkKnown, "autojoin": dkKnown,
	"compression": dkIgnored, "compression_threshold": dkIgnored, "traditional_compression": dkIgnored,
	"hbgenmethod": dkIgnored, "realtime": dkIgnored, "rtprio": dkIgnored, "msgfmt": dkIgnored,
	"uuidfrom": dkIgnored, "coredumps": dkIgnored, "conn_logd_time": dkIgnored, "hopfudge": dkIgnored,
	"hbaping": dkIgnored, "crm_daemon_dir": dkIgnored, "crmd_spawns_pengine": dkIgnored, "env": dkIgnored,
	"max_rexmit_delay": dkIgnored, "log_badpack": dkIgnored, "syslogmsgfmt": dkIgnored,
	"record_config_changes": dkIgnored, "record_pengine_inputs": dkIgnored, "enable_config_writes": dkIgnored,
	"memreserve": dkIgnored, "normalpoll": dkIgnored,
}

// ParseHACF parses ha.cf. Directives are applied top to bottom: udpport and
// baud affect only media declared after them. Unknown directives, missing
// arguments, bad values and a configuration heartbeat would refuse (no
// medium, no node without autojoin) are errors naming file:line.
func ParseHACF(name string, data []byte) (*HACF, error) {
	cf := &HACF{File: name, UDPPort: DefaultUDPPort, Autojoin: "none", Keepalive: DefaultKeepalive, DeadTime: DefaultDeadTime, DeadPing: DefaultDeadPing}
	p := hacfParser{cf: cf, baud: DefaultBaud, port: DefaultUDPPort, seen: map[string]int{}, nodes: map[string]int{}}
	for i, raw := range strings.Split(string(data), "\n") {
		text := strings.TrimSuffix(raw, "\r")
		if j := strings.IndexByte(text, '#'); j >= 0 {
			text = text[:j]
		}
		if !utf8.ValidString(text) {
			return nil, lineErr(ErrSyntax, name, i+1, "not valid UTF-8 text")
		}
		if strings.IndexFunc(text, isControl) >= 0 {
			return nil, lineErr(ErrSyntax, name, i+1, "control character in line")
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		d := Directive{Line: i + 1, Name: f[0], Args: f[1:]}
		cf.Directives = append(cf.Directives, d)
		if err := p.apply(d); err != nil {
			return nil, err
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return cf, nil
}

type hacfParser struct {
	cf         *HACF
	baud, port int
	portLine   int // line of the last udpport not yet used by a medium
	baudLine   int
	seen       map[string]int // single-valued directive -> line
	nodes      map[string]int
	afLine     int
	niceLine   int
	nice       string
}

func (p *hacfParser) warn(line int, format string, args ...any) {
	p.cf.Warnings = append(p.cf.Warnings, Warning{p.cf.File, line, fmt.Sprintf(format, args...)})
}

func (p *hacfParser) errf(sentinel error, d Directive, format string, args ...any) error {
	return lineErr(sentinel, p.cf.File, d.Line, "%s: "+format, append([]any{printable(d.Name)}, args...)...)
}

func (p *hacfParser) nargs(d Directive, min, max int) error {
	n := len(d.Args)
	if n < min {
		return p.errf(ErrSyntax, d, "needs at least %d argument(s), got %d", min, n)
	}
	if max >= 0 && n > max {
		return p.errf(ErrSyntax, d, "takes at most %d argument(s), got %d", max, n)
	}
	return nil
}

// single warns when a single-valued directive is repeated (the last one wins).
func (p *hacfParser) single(d Directive) {
	if prev, ok := p.seen[d.Name]; ok {
		p.warn(d.Line, "%s repeated (first at line %d): the last value wins", d.Name, prev)
	}
	p.seen[d.Name] = d.Line
}

func (p *hacfParser) apply(d Directive) error {
	cf := p.cf
	kind, ok := hacfDirectives[d.Name]
	if !ok {
		return p.errf(ErrUnknownDirective, d, "unknown directive (heartbeat refuses to start)")
	}
	if kind == dkIgnored {
		if len(d.Args) == 0 {
			return p.errf(ErrSyntax, d, "needs an argument")
		}
		p.warn(d.Line, "%s: heartbeat tuning/internal directive, no equivalent; ignored", d.Name)
		return nil
	}
	switch d.Name {
	case "node":
		if err := p.nargs(d, 1, -1); err != nil {
			return err
		}
		for _, n := range d.Args {
			ln := strings.ToLower(n)
			if !validNodeName(ln) {
				return p.errf(ErrSyntax, d, "invalid node name %q", n)
			}
			if prev, dup := p.nodes[ln]; dup {
				p.warn(d.Line, "node %s already declared at line %d", ln, prev)
				continue
			}
			p.nodes[ln] = d.Line
			cf.Nodes = append(cf.Nodes, ln)
		}
	case "udpport":
		if err := p.nargs(d, 1, 1); err != nil {
			return err
		}
		port, err := parsePort(d.Args[0])
		if err != nil {
			return p.errf(ErrSyntax, d, "%v", err)
		}
		if p.portLine != 0 {
			p.warn(p.portLine, "udpport %d is overridden at line %d before any bcast/ucast line uses it", p.port, d.Line)
		}
		p.port, p.portLine = port, d.Line
		cf.UDPPort = port
	case "baud":
		if err := p.nargs(d, 1, 1); err != nil {
			return err
		}
		b, err := strconv.Atoi(d.Args[0])
		if err != nil || b <= 0 {
			return p.errf(ErrSyntax, d, "bad baud rate %q", d.Args[0])
		}
		p.baud, p.baudLine = b, d.Line
	case "bcast":
		if err := p.nargs(d, 1, -1); err != nil {
			return err
		}
		for _, dev := range d.Args {
			cf.Media = append(cf.Media, Medium{Line: d.Line, Kind: "bcast", Dev: dev, Port: p.port})
		}
		p.portLine = 0
	case "ucast", "ucast6":
		if err := p.nargs(d, 2, 2); err != nil {
			return err
		}
		peer := d.Args[1]
		if addr, err := netip.ParseAddr(peer); err == nil {
			if (d.Name == "ucast") != addr.Is4() {
				return p.errf(ErrSyntax, d, "peer %q is not an IPv%s address", peer, map[bool]string{true: "4", false: "6"}[d.Name == "ucast"])
			}
			peer = addr.String()
		} else if validNodeName(peer) {
			p.warn(d.Line, "%s peer %q is a host name: it is resolved at start-up, prefer an address", d.Name, peer)
		} else {
			return p.errf(ErrSyntax, d, "bad peer address %q", peer)
		}
		cf.Media = append(cf.Media, Medium{Line: d.Line, Kind: d.Name, Dev: d.Args[0], Addr: peer, Port: p.port})
		p.portLine = 0
	case "mcast", "mcast6":
		if err := p.nargs(d, 5, 5); err != nil {
			return err
		}
		m, err := p.mcast(d)
		if err != nil {
			return err
		}
		cf.Media = append(cf.Media, m)
	case "serial":
		if err := p.nargs(d, 1, -1); err != nil {
			return err
		}
		for _, tty := range d.Args {
			cf.Media = append(cf.Media, Medium{Line: d.Line, Kind: "serial", Dev: tty, Baud: p.baud})
		}
		p.baudLine = 0
		p.warn(d.Line, "serial %s: serial rings are not supported; add a second network path instead", strings.Join(d.Args, " "))
	case "keepalive", "deadtime", "warntime", "initdead", "deadping":
		if err := p.nargs(d, 1, 1); err != nil {
			return err
		}
		p.single(d)
		v, err := ParseHBTime(d.Args[0])
		if err != nil {
			return p.errf(ErrSyntax, d, "%v", err)
		}
		switch d.Name {
		case "keepalive":
			if v <= 0 {
				return p.errf(ErrInvalid, d, "must be greater than 0")
			}
			cf.Keepalive, cf.KeepaliveSet = v, true
		case "deadtime":
			cf.DeadTime, cf.DeadTimeSet = v, true
		case "warntime":
			cf.WarnTime, cf.WarnTimeSet = v, true
		case "initdead":
			cf.InitDead, cf.InitDeadSet = v, true
		case "deadping":
			cf.DeadPing, cf.DeadPingSet = v, true
		}
	case "auto_failback":
		if err := p.nargs(d, 1, 1); err != nil {
			return err
		}
		p.single(d)
		v := strings.ToLower(d.Args[0])
		if v != "legacy" {
			b, ok := parseBool(v)
			if !ok {
				return p.errf(ErrSyntax, d, "bad value %q (on, off or legacy)", d.Args[0])
			}
			v = boolWord(b)
		}
		cf.AutoFailback, cf.AutoFailbackFrom, p.afLine = v, "auto_failback", d.Line
	case "nice_failback":
		if err := p.nargs(d, 1, 1); err != nil {
			return err
		}
		b, ok := parseBool(strings.ToLower(d.Args[0]))
		if !ok {
			return p.errf(ErrSyntax, d, "bad value %q (on or off)", d.Args[0])
		}
		p.nice, p.niceLine = boolWord(!b), d.Line
		p.warn(d.Line, "nice_failback is obsolete; nice_failback %s means auto_failback %s", d.Args[0], p.nice)
	case "crm", "pacemaker":
		if err := p.nargs(d, 1, 1); err != nil {
			return err
		}
		v := strings.ToLower(d.Args[0])
		enabled := false
		switch v {
		case "respawn":
			enabled = true
		default:
			b, ok := parseBool(v)
			if !ok {
				return p.errf(ErrSyntax, d, "bad value %q (yes, respawn or off)", d.Args[0])
			}
			enabled = b
		}
		cf.CRM, cf.CRMDirective, cf.CRMLine, cf.CRMEnabled = v, d.Name, d.Line, enabled
	case "ping":
		if err := p.nargs(d, 1, -1); err != nil {
			return err
		}
		for _, h := range d.Args {
			cf.Ping = append(cf.Ping, PingTarget{Line: d.Line, Hosts: []string{h}})
		}
	case "ping_group":
		if err := p.nargs(d, 2, -1); err != nil {
			return err
		}
		cf.Ping = append(cf.Ping, PingTarget{Line: d.Line, Group: d.Args[0], Hosts: append([]string(nil), d.Args[1:]...)})
	case "respawn":
		if err := p.nargs(d, 2, -1); err != nil {
			return err
		}
		cf.Respawn = append(cf.Respawn, d)
	case "apiauth":
		if err := p.nargs(d, 2, -1); err != nil {
			return err
		}
		for _, a := range d.Args[1:] {
			if !strings.HasPrefix(a, "uid=") && !strings.HasPrefix(a, "gid=") {
				return p.errf(ErrSyntax, d, "bad argument %q (uid=... or gid=...)", a)
			}
		}
		cf.APIAuth = append(cf.APIAuth, d)
	case "logfacility", "logfile", "debugfile", "watchdog":
		if err := p.nargs(d, 1, 1); err != nil {
			return err
		}
		p.single(d)
		switch d.Name {
		case "logfacility":
			cf.LogFacility = d.Args[0]
		case "logfile":
			cf.LogFile = d.Args[0]
		case "debugfile":
			cf.DebugFile = d.Args[0]
		case "watchdog":
			cf.Watchdog, cf.WatchdogLine = d.Args[0], d.Line
		}
	case "use_logd":
		if err := p.nargs(d, 1, 1); err != nil {
			return err
		}
		b, ok := parseBool(strings.ToLower(d.Args[0]))
		if !ok {
			return p.errf(ErrSyntax, d, "bad value %q (yes or no)", d.Args[0])
		}
		cf.UseLogd = b
	case "debug":
		if err := p.nargs(d, 1, 1); err != nil {
			return err
		}
		n, err := strconv.Atoi(d.Args[0])
		if err != nil || n < 0 || n > 255 {
			return p.errf(ErrSyntax, d, "bad level %q (0-255)", d.Args[0])
		}
		cf.Debug = n
	case "stonith":
		if err := p.nargs(d, 2, 2); err != nil {
			return err
		}
		cf.Stonith = append(cf.Stonith, d)
	case "stonith_host":
		if err := p.nargs(d, 2, -1); err != nil {
			return err
		}
		cf.Stonith = append(cf.Stonith, d)
	case "autojoin":
		if err := p.nargs(d, 1, 1); err != nil {
			return err
		}
		v := strings.ToLower(d.Args[0])
		if v != "none" && v != "other" && v != "any" {
			return p.errf(ErrSyntax, d, "bad value %q (none, other or any)", d.Args[0])
		}
		cf.Autojoin = v
	}
	return nil
}

func (p *hacfParser) mcast(d Directive) (Medium, error) {
	addr, err := netip.ParseAddr(d.Args[1])
	if err != nil || !addr.IsMulticast() || (d.Name == "mcast") != addr.Is4() {
		return Medium{}, p.errf(ErrSyntax, d, "bad multicast group %q", d.Args[1])
	}
	port, err := parsePort(d.Args[2])
	if err != nil {
		return Medium{}, p.errf(ErrSyntax, d, "%v", err)
	}
	ttl, err := strconv.Atoi(d.Args[3])
	if err != nil || ttl < 0 || ttl > 255 {
		return Medium{}, p.errf(ErrSyntax, d, "bad ttl %q (0-255)", d.Args[3])
	}
	var loop bool
	switch d.Args[4] {
	case "0":
	case "1":
		loop = true
	default:
		return Medium{}, p.errf(ErrSyntax, d, "bad loop %q (0 or 1)", d.Args[4])
	}
	return Medium{Line: d.Line, Kind: d.Name, Dev: d.Args[0], Addr: addr.String(), Port: port, TTL: ttl, Loop: loop}, nil
}

func (p *hacfParser) finish() error {
	cf := p.cf
	if p.portLine != 0 {
		p.warn(p.portLine, "udpport %d affects no medium: it only applies to bcast/ucast lines after it", p.port)
	}
	if p.baudLine != 0 {
		p.warn(p.baudLine, "baud affects no serial line: it only applies to serial lines after it")
	}
	switch {
	case p.afLine != 0:
		if p.niceLine != 0 {
			p.warn(p.niceLine, "nice_failback ignored: auto_failback is set at line %d", p.afLine)
		}
	case p.niceLine != 0:
		cf.AutoFailback, cf.AutoFailbackFrom = p.nice, "nice_failback"
	default:
		cf.AutoFailback, cf.AutoFailbackFrom = "legacy", "default"
		p.warn(0, "auto_failback not set: heartbeat defaults to legacy (fail back)")
	}
	if cf.CRMEnabled {
		// v2 mode: the medium/node requirements still hold, the resource
		// side does not come from haresources.
		p.warn(cf.CRMLine, "%s %s: heartbeat runs the CRM and ignores haresources", cf.CRMDirective, cf.CRM)
	}
	if len(cf.Media) == 0 {
		return lineErr(ErrInvalid, cf.File, 0, "no communication medium (bcast, mcast, mcast6, ucast, ucast6 or serial): heartbeat refuses to start")
	}
	if len(cf.Nodes) == 0 && cf.Autojoin == "none" {
		return lineErr(ErrInvalid, cf.File, 0, "no node lines and autojoin is none: the cluster has no members")
	}
	if cf.DeadTime <= cf.Keepalive {
		return lineErr(ErrInvalid, cf.File, p.seen["deadtime"], "deadtime %s must be greater than keepalive %s", fmtDur(cf.DeadTime), fmtDur(cf.Keepalive))
	}
	if cf.DeadTime < 2*cf.Keepalive {
		p.warn(p.seen["deadtime"], "deadtime %s is less than twice keepalive %s: one lost packet declares a node dead", fmtDur(cf.DeadTime), fmtDur(cf.Keepalive))
	}
	if cf.WarnTimeSet && cf.WarnTime >= cf.DeadTime {
		p.warn(p.seen["warntime"], "warntime %s is not below deadtime %s: no late-heartbeat warning before death", fmtDur(cf.WarnTime), fmtDur(cf.DeadTime))
	}
	if cf.InitDeadSet && cf.InitDead < 2*cf.DeadTime {
		p.warn(p.seen["initdead"], "initdead %s is below twice deadtime %s (recommended at least 2 x deadtime)", fmtDur(cf.InitDead), fmtDur(cf.DeadTime))
	}
	return nil
}

// ParseHBTime parses heartbeat's time syntax: a non-negative decimal number
// of seconds, or with a unit suffix s/sec, ms/msec, us/usec ("2", "1.5",
// "500ms").
func ParseHBTime(s string) (time.Duration, error) {
	num := strings.TrimRightFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' })
	unit := strings.ToLower(s[len(num):])
	var scale float64
	switch unit {
	case "", "s", "sec":
		scale = float64(time.Second)
	case "ms", "msec":
		scale = float64(time.Millisecond)
	case "us", "usec":
		scale = float64(time.Microsecond)
	default:
		return 0, fmt.Errorf("bad time %q: unknown unit %q (s, ms or us)", s, unit)
	}
	if num == "" || strings.ContainsAny(num, "+-eEpPxX_") {
		return 0, fmt.Errorf("bad time %q", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	d := v * scale
	if d > float64(365*24*time.Hour) {
		return 0, fmt.Errorf("bad time %q: more than a year", s)
	}
	return time.Duration(math.Round(d)), nil
}

func parsePort(s string) (int, error) {
	if s == "ha-cluster" {
		return DefaultUDPPort, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return n, nil
}

// parseBool accepts heartbeat's booleans (lower-cased input).
func parseBool(s string) (bool, bool) {
	switch s {
	case "true", "on", "yes", "y", "1":
		return true, true
	case "false", "off", "no", "n", "0":
		return false, true
	}
	return false, false
}

func boolWord(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// fmtDur prints a duration the way ha.cf users write it: "2s", "500ms",
// "1.5s".
func fmtDur(d time.Duration) string {
	switch {
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0 && d < time.Second:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	case d%time.Millisecond == 0:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	default:
		return d.String()
	}
}

func crmEnabledErr(cf *HACF) error {
	return lineErr(ErrCRMEnabled, cf.File, cf.CRMLine, "%s %s: heartbeat runs Pacemaker and ignores haresources; migrate its CIB (cibadmin -Q) instead", cf.CRMDirective, cf.CRM)
}
