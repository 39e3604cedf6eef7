package keepalived

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Parse parses the configuration text src of the file name. Includes are
// resolved through opts.FS relative to name (an FS path).
//
// The returned Config is never nil: it holds everything that could be
// parsed and all warnings even when err is non-nil. err, if not nil, is an
// ErrorList of *Error values naming file:line and field. Parse does not call
// Validate. It is safe for concurrent use.
func Parse(name string, src []byte, opts Options) (*Config, error) {
	d := &diag{}
	lx := newLexer(opts, d)
	if len(src) > maxFileSize {
		d.errorf(Pos{File: lx.display(name), Line: 1}, "", ErrLimit, "file larger than %d bytes", maxFileSize)
		return &Config{Warnings: d.warns}, d.err()
	}
	lx.lexFile(name, src)
	return decodeTokens(lx, d)
}

// ParseFile reads the file name (an FS path) from fsys and parses it; see
// Parse. opts.FS is replaced by fsys.
func ParseFile(fsys fs.FS, name string, opts Options) (*Config, error) {
	opts.FS = fsys
	d := &diag{}
	lx := newLexer(opts, d)
	data, err := readLimited(fsys, name)
	if err != nil {
		d.errorf(Pos{File: lx.display(name)}, "", ErrInclude, "reading configuration: %v", err)
		return &Config{Warnings: d.warns}, d.err()
	}
	lx.lexFile(name, data)
	return decodeTokens(lx, d)
}

// Load is ParseFile followed, if parsing succeeded, by Validate.
func Load(fsys fs.FS, name string, opts Options) (*Config, error) {
	cfg, err := ParseFile(fsys, name, opts)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func decodeTokens(lx *lexer, d *diag) (*Config, error) {
	cfg := &Config{}
	if !lx.stopped {
		stmts := buildTree(lx.toks, d)
		dec := &decoder{d: d, cfg: cfg}
		dec.top(stmts)
		dec.finish()
	}
	cfg.Files = lx.files
	cfg.Warnings = d.warns
	return cfg, d.err()
}

type decoder struct {
	d   *diag
	cfg *Config
}

// blk is the decoding context of one block: its name for messages.
type blk struct {
	dec  *decoder
	name string // e.g. "vrrp_instance VI_1"; empty at top level
}

func (b blk) field(s *stmt) string {
	if b.name == "" {
		return s.Keyword()
	}
	return b.name + ": " + s.Keyword()
}

func (b blk) errf(s *stmt, sentinel error, format string, args ...any) {
	b.dec.d.errorf(s.Pos, b.field(s), sentinel, format, args...)
}

func (b blk) warnf(s *stmt, format string, args ...any) {
	b.dec.d.warnf(s.Pos, b.field(s), format, args...)
}

func (b blk) unknown(s *stmt) {
	b.warnf(s, "unknown keyword, ignored")
}

func (b blk) unsupported(s *stmt) {
	b.warnf(s, "keepalived option not supported by gocrm, ignored")
}

// nargs checks the argument count: fewer than min is an error (false),
// more than max (max >= 0) a warning. A block where none is expected is a
// warning too.
func (b blk) nargs(s *stmt, min, max int) bool {
	n := len(s.Words) - 1
	if n < min {
		if min == 1 {
			b.errf(s, ErrMissing, "expects a value")
		} else {
			b.errf(s, ErrMissing, "expects at least %d values, got %d", min, n)
		}
		return false
	}
	if max >= 0 {
		b.extraArgs(s, max)
	}
	if s.HasBlock {
		b.warnf(s, "unexpected { } block ignored")
	}
	return true
}

// extraArgs warns that the arguments of s after the first n are ignored.
func (b blk) extraArgs(s *stmt, n int) {
	if args := s.Args(); len(args) > n {
		b.warnf(s, "extra arguments %q ignored", strings.Join(args[n:], " "))
	}
}

// needBlock reports whether s has a block, reporting an error otherwise.
func (b blk) needBlock(s *stmt) bool {
	if !s.HasBlock {
		b.errf(s, ErrSyntax, "expects a { } block")
		return false
	}
	return true
}

func (b blk) arg(s *stmt, i int) string {
	if i+1 < len(s.Words) {
		return s.Words[i+1].Text
	}
	return ""
}

func (b blk) sub(name string) blk { return blk{dec: b.dec, name: name} }

// ---- value parsers ----

// maxTimer is a generous upper bound for timers (about 24 days, as
// keepalived's timers are 32-bit milliseconds at most).
const maxTimer = 2147483 * time.Second

func parseInt(text string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, verr(ErrValue, "%q is not an integer", text)
	}
	if n < lo || n > hi {
		return n, verr(ErrRange, "%d not in %d..%d", n, lo, hi)
	}
	return n, nil
}

// parseTimer parses keepalived's <TIMER>: seconds with up to 6 decimals.
func parseTimer(text string) (time.Duration, error) {
	intPart, frac, _ := strings.Cut(text, ".")
	if (intPart == "" && frac == "") || len(frac) > 6 || len(intPart) > 10 || !allDigits(intPart) || !allDigits(frac) {
		return 0, verr(ErrValue, "%q is not a time in seconds (up to 6 decimals)", text)
	}
	var sec, us int64
	if intPart != "" {
		sec, _ = strconv.ParseInt(intPart, 10, 64)
	}
	if frac != "" {
		us, _ = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	}
	return time.Duration(sec)*time.Second + time.Duration(us)*time.Microsecond, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseBool(text string) (bool, error) {
	switch strings.ToLower(text) {
	case "on", "true", "yes":
		return true, nil
	case "off", "false", "no":
		return false, nil
	}
	return false, verr(ErrValue, "%q is not a boolean (on|off|true|false|yes|no)", text)
}

func parseAddr(text string) (netip.Addr, error) {
	a, err := netip.ParseAddr(text)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, verr(ErrValue, "%q is not an IP address", text)
	}
	return a.Unmap(), nil
}

// parsePrefix parses ADDR[/LEN]; a missing length means a host prefix.
func parsePrefix(text string) (netip.Prefix, error) {
	as, ls, hasLen := strings.Cut(text, "/")
	a, err := parseAddr(as)
	if err != nil {
		return netip.Prefix{}, verr(ErrValue, "%q is not an IP address or prefix", text)
	}
	bits := a.BitLen()
	if hasLen {
		n, err := strconv.Atoi(ls)
		if err != nil || !allDigits(ls) {
			return netip.Prefix{}, verr(ErrValue, "%q has an invalid prefix length", text)
		}
		if n < 0 || n > a.BitLen() {
			return netip.Prefix{}, verr(ErrRange, "prefix length %d in %q exceeds %d", n, text, a.BitLen())
		}
		bits = n
	}
	return netip.PrefixFrom(a, bits), nil
}

// valueError is a value parser's error: a sentinel and a message.
type valueError struct {
	sentinel error
	msg      string
}

func (e *valueError) Error() string { return e.sentinel.Error() + ": " + e.msg }
func (e *valueError) Unwrap() error { return e.sentinel }

func verr(sentinel error, format string, args ...any) error {
	return &valueError{sentinel: sentinel, msg: fmt.Sprintf(format, args...)}
}

// report turns a value parser error into an *Error for statement s.
func (b blk) report(s *stmt, err error) {
	var ve *valueError
	if errors.As(err, &ve) {
		b.dec.d.errorf(s.Pos, b.field(s), ve.sentinel, "%s", ve.msg)
		return
	}
	b.dec.d.errorf(s.Pos, b.field(s), ErrValue, "%v", err)
}

// ---- setters; each checks its statement fully ----

func (b blk) setStr(s *stmt, dst *Val[string]) {
	if b.nargs(s, 1, 1) {
		dst.set(b.arg(s, 0), s.Pos)
	}
}

func (b blk) intArg(s *stmt, i int, lo, hi int64) (int, bool) {
	n, err := parseInt(b.arg(s, i), lo, hi)
	if err != nil {
		b.report(s, err)
		return 0, false
	}
	return int(n), true
}

func (b blk) setInt(s *stmt, dst *Val[int], lo, hi int64) {
	if b.nargs(s, 1, 1) {
		b.setIntArg(s, 0, dst, lo, hi)
	}
}

// setIntArg sets dst from argument i of s and reports whether it did.
func (b blk) setIntArg(s *stmt, i int, dst *Val[int], lo, hi int64) bool {
	n, ok := b.intArg(s, i, lo, hi)
	if ok {
		dst.set(n, s.Pos)
	}
	return ok
}

func (b blk) timerArg(s *stmt, i int, lo, hi time.Duration) (time.Duration, bool) {
	t, err := parseTimer(b.arg(s, i))
	if err != nil {
		b.report(s, err)
		return 0, false
	}
	if t < lo || t > hi {
		b.errf(s, ErrRange, "%v not in %v..%v", t, lo, hi)
		return 0, false
	}
	return t, true
}

// secondsArg parses an <INTEGER> number of seconds.
func (b blk) secondsArg(s *stmt, i int, lo, hi int64) (time.Duration, bool) {
	n, err := parseInt(b.arg(s, i), lo, hi)
	if err != nil {
		b.report(s, err)
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

func (b blk) setSeconds(s *stmt, dst *Val[time.Duration], lo, hi int64) {
	if !b.nargs(s, 1, 1) {
		return
	}
	if t, ok := b.secondsArg(s, 0, lo, hi); ok {
		dst.set(t, s.Pos)
	}
}

func (b blk) setTimer(s *stmt, dst *Val[time.Duration], lo, hi time.Duration) {
	if !b.nargs(s, 1, 1) {
		return
	}
	if t, ok := b.timerArg(s, 0, lo, hi); ok {
		dst.set(t, s.Pos)
	}
}

// setFlag handles "keyword [BOOL]".
func (b blk) setFlag(s *stmt, dst *Val[bool]) {
	if !b.nargs(s, 0, 1) {
		return
	}
	v := true
	if len(s.Words) > 1 {
		var err error
		if v, err = parseBool(b.arg(s, 0)); err != nil {
			b.report(s, err)
			return
		}
	}
	dst.set(v, s.Pos)
}

// setConst handles argument-less flags with a fixed value (nopreempt,
// no_accept).
func (b blk) setConst(s *stmt, dst *Val[bool], v bool) {
	if b.nargs(s, 0, 0) {
		dst.set(v, s.Pos)
	}
}

func (b blk) setAddr(s *stmt, dst *Val[netip.Addr]) {
	if !b.nargs(s, 1, 1) {
		return
	}
	a, err := parseAddr(b.arg(s, 0))
	if err != nil {
		b.report(s, err)
		return
	}
	dst.set(a, s.Pos)
}

// setCmd handles `"script args" [user [group]]`.
func (b blk) setCmd(s *stmt, dst *Val[Command]) {
	if !b.nargs(s, 1, 3) {
		return
	}
	c := Command{Script: b.arg(s, 0), User: b.arg(s, 1), Group: b.arg(s, 2)}
	if strings.TrimSpace(c.Script) == "" {
		b.errf(s, ErrMissing, "empty script")
		return
	}
	dst.set(c, s.Pos)
}

// setUser handles "keyword USER [GROUP]".
func (b blk) setUser(s *stmt, user, group *Val[string]) {
	if !b.nargs(s, 1, 2) {
		return
	}
	user.set(b.arg(s, 0), s.Pos)
	if len(s.Words) > 2 {
		group.set(b.arg(s, 1), s.Pos)
	}
}

// setWeight handles "weight N [reverse]" with N in -lim..lim.
func (b blk) setWeight(s *stmt, lim int64, weight *Val[int], reverse *bool) {
	if !b.nargs(s, 1, 2) {
		return
	}
	if n, ok := b.intArg(s, 0, -lim, lim); ok {
		weight.set(n, s.Pos)
	}
	switch r := b.arg(s, 1); r {
	case "":
	case "reverse":
		*reverse = true
	default:
		b.warnf(s, "unknown option %q ignored", r)
	}
}

// wordList collects the words of the block of s, a list of names or
// addresses with one or more on each line.
func (b blk) wordList(s *stmt) []Val[string] {
	if !b.needBlock(s) {
		return nil
	}
	lb := b.sub(b.field(s))
	var out []Val[string]
	for _, e := range s.Block {
		if e.HasBlock {
			lb.warnf(e, "unexpected { } block ignored")
		}
		for _, w := range e.Words {
			out = append(out, Val[string]{V: w.Text, Pos: w.Pos, Set: true})
		}
	}
	return out
}

// entries parses each statement of the block of s with parse and returns
// the ones that parsed (parse reports the others).
func entries[T any](s *stmt, parse func(*stmt) (T, bool)) []T {
	var out []T
	for _, e := range s.Block {
		if v, ok := parse(e); ok {
			out = append(out, v)
		}
	}
	return out
}

func (b blk) setIfName(s *stmt, dst *Val[string]) { b.setChecked(s, dst, checkIfName) }

// setChecked handles "keyword VALUE" where check vets VALUE.
func (b blk) setChecked(s *stmt, dst *Val[string], check func(string) error) {
	if !b.nargs(s, 1, 1) {
		return
	}
	v := b.arg(s, 0)
	if err := check(v); err != nil {
		b.report(s, err)
		return
	}
	dst.set(v, s.Pos)
}

func checkIfName(name string) error {
	if name == "" || len(name) > 15 || strings.ContainsAny(name, "/ \t\"") || name == "." || name == ".." {
		return verr(ErrValue, "%q is not a valid interface name (1..15 characters, no '/' or spaces)", name)
	}
	return nil
}

// ---- top level ----

var topUnsupported = set("vrrp_track_process", "track_process", "bfd_instance", "garp_group", "track_group",
	"SSL", "linkbeat_interfaces", "use_pid_dir", "net_namespace_ipvs", "namespace_with_ipsets",
	"child_wait_time", "vrrp_garp_extra_if", "track_bfd", "vrrp_track_bfd")

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// namedBlocks decode the top-level "keyword NAME { ... }" blocks.
var namedBlocks = map[string]func(dec *decoder, name string, s *stmt){
	"vrrp_instance":        (*decoder).instance,
	"vrrp_sync_group":      (*decoder).syncGroup,
	"vrrp_script":          (*decoder).script,
	"track_file":           (*decoder).trackFileDef,
	"vrrp_track_file":      (*decoder).trackFileDef,
	"virtual_server_group": (*decoder).virtualServerGroup,
}

func (dec *decoder) top(stmts []*stmt) {
	b := blk{dec: dec}
	for _, s := range stmts {
		kw := s.Keyword()
		if decode, ok := namedBlocks[kw]; ok {
			if name, ok := b.named(s); ok {
				decode(dec, name, s)
			}
			continue
		}
		switch kw {
		case "global_defs":
			if b.needBlock(s) {
				dec.global(s)
			}
		case "virtual_server":
			if b.needBlock(s) {
				dec.virtualServer(s)
			}
		case "static_ipaddress":
			if b.needBlock(s) {
				dec.cfg.StaticAddresses = append(dec.cfg.StaticAddresses, entries(s, b.sub(kw).address)...)
			}
		case "static_routes":
			if b.needBlock(s) {
				dec.cfg.StaticRoutes = append(dec.cfg.StaticRoutes, entries(s, b.sub(kw).route)...)
			}
		case "static_rules":
			if b.needBlock(s) {
				dec.cfg.StaticRules = append(dec.cfg.StaticRules, entries(s, b.sub(kw).rule)...)
			}
		case "net_namespace":
			b.setStr(s, &dec.cfg.NetNamespace)
		case "instance":
			b.setStr(s, &dec.cfg.InstanceName)
		default:
			if topUnsupported[kw] {
				b.unsupported(s)
			} else {
				b.unknown(s)
			}
		}
	}
}

// named checks "keyword NAME { ... }".
func (b blk) named(s *stmt) (string, bool) {
	if len(s.Words) < 2 {
		b.errf(s, ErrMissing, "expects a name")
		return "", false
	}
	b.extraArgs(s, 1)
	if !b.needBlock(s) {
		return "", false
	}
	return s.Words[1].Text, true
}

// ---- global_defs ----

var globalUnsupported = set(
	"linkbeat_use_polling", "snmp_socket", "enable_traps", "enable_snmp_vrrp", "enable_snmp_keepalived",
	"enable_snmp_checker", "enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_dbus",
	"enable_dbus_read_only", "dbus_service_name", "checker_priority", "checker_rt_priority",
	"checker_no_swap", "checker_cpu_affinity", "checker_process_name", "vrrp_process_name",
	"bfd_process_name", "bfd_priority", "bfd_rt_priority", "bfd_no_swap", "bfd_cpu_affinity",
	"process_name", "vrrp_cpu_affinity", "vrrp_iptables", "vrrp_ipsets", "vrrp_nftables",
	"nftables_priority", "nftables_ifindex", "nftables_counters", "vrrp_netlink_cmd_rcv_bufs",
	"vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs", "vrrp_netlink_monitor_rcv_bufs_force",
	"lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs",
	"lvs_netlink_monitor_rcv_bufs_force", "process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force",
	"rs_init_notifies", "no_checker_emails", "smtp_helo_name", "smtp_alert", "smtp_alert_vrrp",
	"smtp_alert_checker", "no_email_faults", "checker_log_all_failures", "startup_script",
	"startup_script_timeout", "shutdown_script", "shutdown_script_timeout", "vrrp_garp_extra_if",
	"vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier", "umask", "random_seed", "local_name",
	"min_auto_priority_delay", "mem_check", "mem_check_log", "tmp_config_directory",
	"fifo_write_vrrp_states_on_reload", "reload_time_file", "reload_repeat", "reload_file",
	"config_save_dir", "default_interface", "disable_local_igmp", "data_use_instance",
	"vrrp_rlimit_rttime", "checker_rlimit_rttime", "bfd_rlimit_rttime", "vrrp_notify_priority_changes",
	"vrrp_track_process", "vrrp_netlink_timers", "lvs_id", "net_namespace", "namespace_with_ipsets",
	"instance", "use_pid_dir", "include_check", "vrrp_startup_delay_ignored", "lvs_sync_daemon_interface",
	"script_user_for_execution", "vrrp_delay_after_boot", "vrrp_use_process_cmdline",
	"vrrp_use_process_comm", "vrrp_notify_fifo_script_params", "log_unknown_vrids",
	"vrrp_log_unknown_vrids", "enable_traps_ipv6", "dynamic_interfaces_allow_if_changes")

func (dec *decoder) global(s *stmt) {
	g := &dec.cfg.Global
	if g.Pos.IsValid() {
		dec.d.warnf(s.Pos, "global_defs", "second global_defs block (first at %s); settings are merged", g.Pos)
	} else {
		g.Pos = s.Pos
	}
	b := blk{dec: dec, name: "global_defs"}
	tuning := g.tuning()
	const maxT = maxTimer
	for _, st := range s.Block {
		switch kw := st.Keyword(); kw {
		case "router_id":
			b.setStr(st, &g.RouterID)
		case "notification_email":
			g.NotificationEmail = append(g.NotificationEmail, b.wordList(st)...)
		case "notification_email_from":
			b.setStr(st, &g.NotificationEmailFrom)
		case "smtp_server":
			if b.nargs(st, 1, 2) {
				g.SMTPServer.set(strings.Join(st.Args(), " "), st.Pos)
			}
		case "smtp_connect_timeout":
			b.setTimer(st, &g.SMTPConnectTimeout, 0, maxT)
		case "vrrp_version":
			b.setInt(st, &g.VRRPVersion, 2, 3)
		case "vrrp_mcast_group4":
			b.setAddr(st, &g.VRRPMcastGroup4)
			if g.VRRPMcastGroup4.Set && (!g.VRRPMcastGroup4.V.Is4() || !g.VRRPMcastGroup4.V.IsMulticast()) {
				b.errf(st, ErrValue, "%s is not an IPv4 multicast address", g.VRRPMcastGroup4.V)
			}
		case "vrrp_mcast_group6":
			b.setAddr(st, &g.VRRPMcastGroup6)
			if g.VRRPMcastGroup6.Set && (!g.VRRPMcastGroup6.V.Is6() || !g.VRRPMcastGroup6.V.IsMulticast()) {
				b.errf(st, ErrValue, "%s is not an IPv6 multicast address", g.VRRPMcastGroup6.V)
			}
		case "vrrp_garp_interval":
			b.setTimer(st, &g.VRRPGarpInterval, 0, time.Second)
		case "vrrp_gna_interval":
			b.setTimer(st, &g.VRRPGnaInterval, 0, time.Second)
		case "vrrp_min_garp":
			b.setFlag(st, &g.VRRPMinGarp)
		case "vrrp_strict":
			b.setFlag(st, &g.VRRPStrict)
		case "vrrp_startup_delay":
			b.setTimer(st, &g.VRRPStartupDelay, 0, 3600*time.Second)
		case "vrrp_priority":
			b.setInt(st, &g.VRRPPriority, -20, 19)
		case "vrrp_rt_priority":
			b.setInt(st, &g.VRRPRTPriority, 1, 99)
		case "vrrp_no_swap":
			b.setFlag(st, &g.VRRPNoSwap)
		case "max_auto_priority":
			if b.nargs(st, 0, 1) {
				if len(st.Words) == 1 {
					g.MaxAutoPriority.set(-1, st.Pos)
				} else if n, ok := b.intArg(st, 0, -1, 99); ok {
					g.MaxAutoPriority.set(n, st.Pos)
				}
			}
		case "dynamic_interfaces":
			if b.nargs(st, 0, 1) {
				if len(st.Words) > 1 && b.arg(st, 0) != "allow_if_changes" {
					b.warnf(st, "unknown option %q ignored", b.arg(st, 0))
				}
				g.DynamicInterfaces.set(true, st.Pos)
			}
		case "script_user":
			b.setUser(st, &g.ScriptUser, &g.ScriptGroup)
		case "enable_script_security":
			b.setFlag(st, &g.EnableScriptSecurity)
		case "notify_fifo":
			b.setCmd(st, &g.NotifyFifo)
		case "notify_fifo_script":
			b.setCmd(st, &g.NotifyFifoScript)
		case "vrrp_notify_fifo":
			b.setCmd(st, &g.VRRPNotifyFifo)
		case "vrrp_notify_fifo_script":
			b.setCmd(st, &g.VRRPNotifyFifoScript)
		case "lvs_notify_fifo":
			b.setCmd(st, &g.LVSNotifyFifo)
		case "lvs_notify_fifo_script":
			b.setCmd(st, &g.LVSNotifyFifoScript)
		case "lvs_sync_daemon":
			if b.nargs(st, 1, -1) {
				if err := checkIfName(b.arg(st, 0)); err != nil {
					b.report(st, err)
				} else {
					g.LVSSyncDaemon.set(st.Args(), st.Pos)
				}
			}
		case "lvs_flush":
			b.setFlag(st, &g.LVSFlush)
		case "lvs_flush_on_stop":
			if b.nargs(st, 0, 1) {
				v := strings.ToUpper(b.arg(st, 0))
				if v != "" && v != "VS" {
					b.errf(st, ErrValue, "%q is not VS", b.arg(st, 0))
				} else {
					g.LVSFlushOnStop.set(v, st.Pos)
				}
			}
		case "lvs_timeouts":
			dec.lvsTimeouts(b, st)
		default:
			// The settings an instance shares with global_defs are
			// spelled here with a "vrrp_" prefix.
			if shared, isVRRP := strings.CutPrefix(kw, "vrrp_"); isVRRP && b.tuningOption(st, shared, tuning) {
				continue
			}
			if globalUnsupported[kw] {
				b.unsupported(st)
			} else {
				b.unknown(st)
			}
		}
	}
}

func (dec *decoder) lvsTimeouts(b blk, st *stmt) {
	if !b.nargs(st, 2, -1) {
		return
	}
	m := map[string]time.Duration{}
	args := st.Args()
	for i := 0; i < len(args); i++ {
		k := strings.ToLower(args[i])
		if k != "tcp" && k != "tcpfin" && k != "udp" {
			b.errf(st, ErrValue, "unknown timeout %q (tcp, tcpfin, udp)", args[i])
			return
		}
		if i+1 >= len(args) {
			b.errf(st, ErrMissing, "%s needs a value", k)
			return
		}
		i++
		t, ok := b.secondsArg(st, i, 0, 1<<31-1)
		if !ok {
			return
		}
		m[k] = t
	}
	dec.cfg.Global.LVSTimeouts.set(m, st.Pos)
}
