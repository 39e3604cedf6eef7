package keepalived

import (
	"encoding/hex"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

var lbAlgos = set("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos")

var schedFlags = set("flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback")

func (dec *decoder) virtualServer(s *stmt) {
	vs := &VirtualServer{Pos: s.Pos}
	top := blk{dec: dec}
	args := s.Args()
	switch {
	case len(args) >= 2 && args[0] == "fwmark":
		mark, family, ok := top.fwmarkArgs(s, 1)
		if !ok {
			return
		}
		vs.Kind, vs.Fwmark, vs.Family = VSFwmark, mark, family
	case len(args) >= 2 && args[0] == "group":
		vs.Kind, vs.Group = VSGroup, args[1]
		top.extraArgs(s, 2)
	case len(args) >= 1 && args[0] != "fwmark" && args[0] != "group":
		a, err := parseAddr(args[0])
		if err != nil {
			top.report(s, err)
			return
		}
		vs.Kind, vs.Addr = VSAddr, a
		if len(args) > 1 && !top.setIntArg(s, 1, &vs.Port, 0, 65535) {
			return
		}
		top.extraArgs(s, 2)
	default:
		top.errf(s, ErrMissing, "expects IP [PORT], fwmark N or group NAME")
		return
	}
	b := blk{dec: dec, name: "virtual_server " + strings.Join(args, " ")}
	so := vs.serverOpts()
	for _, st := range s.Block {
		if b.serverOption(st, so) {
			continue
		}
		switch kw := st.Keyword(); kw {
		case "lb_algo", "lvs_sched":
			if b.nargs(st, 1, 1) {
				if a := b.arg(st, 0); lbAlgos[a] {
					vs.LBAlgo.set(a, st.Pos)
				} else {
					b.errf(st, ErrValue, "unknown scheduler %q (rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos)", a)
				}
			}
		case "lb_kind", "lvs_method":
			if b.setLBKind(st, &vs.LBKind) && len(st.Words) > 2 {
				if vs.LBKind.V != LBTUN {
					b.extraArgs(st, 1)
				} else {
					vs.TunnelOptions = st.Args()[1:]
				}
			}
		case "ops":
			b.setFlag(st, &vs.OPS)
		case "persistence_timeout":
			if b.nargs(st, 0, 1) {
				if len(st.Words) == 1 {
					vs.PersistenceTimeout.set(360*time.Second, st.Pos)
				} else if t, ok := b.secondsArg(st, 0, 1, 2678400); ok {
					vs.PersistenceTimeout.set(t, st.Pos)
				}
			}
		case "persistence_granularity":
			if b.nargs(st, 1, 1) {
				if n, err := parseMask(b.arg(st, 0)); err != nil {
					b.report(st, err)
				} else {
					vs.PersistenceGranularity.set(n, st.Pos)
				}
			}
		case "persistence_engine":
			b.setStr(st, &vs.PersistenceEngine)
		case "protocol":
			if b.nargs(st, 1, 1) {
				switch p := strings.ToUpper(b.arg(st, 0)); p {
				case "TCP", "UDP", "SCTP":
					vs.Protocol.set(p, st.Pos)
					if vs.Kind == VSFwmark {
						b.warnf(st, "protocol specified for fwmark virtual server; ignored by keepalived")
					}
				default:
					b.errf(st, ErrValue, "%q is not TCP, UDP or SCTP", b.arg(st, 0))
				}
			}
		case "ip_family":
			b.setChecked(st, &vs.IPFamily, checkFamily)
		case "quorum":
			b.setInt(st, &vs.Quorum, 1, 1<<31-1)
		case "hysteresis":
			b.setInt(st, &vs.Hysteresis, 0, 1<<31-1)
		case "quorum_up":
			b.setCmd(st, &vs.QuorumUp)
		case "quorum_down":
			b.setCmd(st, &vs.QuorumDown)
		case "sorry_server":
			if b.nargs(st, 1, 2) {
				a, err := parseAddr(b.arg(st, 0))
				if err != nil {
					b.report(st, err)
					continue
				}
				ss := &SorryServer{Pos: st.Pos, Addr: a}
				if len(st.Words) > 2 {
					p, ok := b.intArg(st, 1, 0, 65535)
					if !ok {
						continue
					}
					ss.Port = p
				}
				vs.SorryServer = ss
			}
		case "sorry_server_inhibit":
			b.setFlag(st, &vs.SorryServerInhibit)
		case "sorry_server_lvs_method":
			b.setLBKind(st, &vs.SorryServerLVSMethod)
		case "omega":
			b.setFlag(st, &vs.Omega)
		case "ha_suspend":
			b.setFlag(st, &vs.HASuspend)
		case "real_server":
			if rs := dec.realServer(b, st); rs != nil {
				vs.RealServers = append(vs.RealServers, rs)
			}
		case "snmp_name", "lvs_sync_daemon", "delay_loop_jitter":
			b.unsupported(st)
		default:
			if schedFlags[kw] {
				if b.nargs(st, 0, 0) {
					vs.SchedFlags = append(vs.SchedFlags, Val[string]{V: kw, Pos: st.Pos, Set: true})
				}
				continue
			}
			b.unknown(st)
		}
	}
	dec.cfg.VirtualServers = append(dec.cfg.VirtualServers, vs)
}

// setLBKind handles "keyword NAT|DR|TUN ..." (further arguments are the
// caller's) and reports whether it set dst.
func (b blk) setLBKind(st *stmt, dst *Val[LBKind]) bool {
	if !b.nargs(st, 1, -1) {
		return false
	}
	switch k := LBKind(strings.ToUpper(b.arg(st, 0))); k {
	case LBNAT, LBDR, LBTUN:
		dst.set(k, st.Pos)
		return true
	}
	b.errf(st, ErrValue, "%q is not NAT, DR or TUN", b.arg(st, 0))
	return false
}

// fwmarkArgs parses "MARK [inet|inet6]" from argument i of s on.
func (b blk) fwmarkArgs(s *stmt, i int) (mark uint32, family string, ok bool) {
	n, ok := b.intArg(s, i, 1, 1<<32-1)
	if !ok {
		return 0, "", false
	}
	if len(s.Words) > i+2 {
		family = b.arg(s, i+1)
		if err := checkFamily(family); err != nil {
			b.report(s, err)
			return 0, "", false
		}
	}
	return uint32(n), family, true
}

func checkFamily(s string) error {
	if s != "inet" && s != "inet6" {
		return verr(ErrValue, "%q is not inet or inet6", s)
	}
	return nil
}

// parseMask accepts a prefix length or a dotted IPv4 netmask.
func parseMask(s string) (int, error) {
	if allDigits(s) && s != "" {
		n, err := parseInt(s, 0, 128)
		return int(n), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, verr(ErrValue, "%q is not a netmask or prefix length", s)
	}
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := bits.LeadingZeros32(^v)
	if v<<n != 0 {
		return 0, verr(ErrValue, "netmask %q is not contiguous", s)
	}
	return n, nil
}

func (dec *decoder) realServer(vb blk, s *stmt) *RealServer {
	if !vb.needBlock(s) {
		return nil
	}
	args := s.Args()
	if len(args) < 1 {
		vb.errf(s, ErrMissing, "expects IP [PORT]")
		return nil
	}
	a, err := parseAddr(args[0])
	if err != nil {
		vb.report(s, err)
		return nil
	}
	rs := &RealServer{Pos: s.Pos, Addr: a}
	if len(args) > 1 && !vb.setIntArg(s, 1, &rs.Port, 0, 65535) {
		return nil
	}
	vb.extraArgs(s, 2)
	b := vb.sub(vb.name + ": real_server " + strings.Join(args, " "))
	so := rs.serverOpts()
	for _, st := range s.Block {
		if b.serverOption(st, so) {
			continue
		}
		switch kw := st.Keyword(); kw {
		case "weight":
			b.setInt(st, &rs.Weight, 0, 65535)
		case "lvs_method", "lb_kind":
			b.setLBKind(st, &rs.LVSMethod)
		case "notify_up":
			b.setCmd(st, &rs.NotifyUp)
		case "notify_down":
			b.setCmd(st, &rs.NotifyDown)
		case "uthreshold":
			b.setInt(st, &rs.UThreshold, 0, 1<<31-1)
		case "lthreshold":
			b.setInt(st, &rs.LThreshold, 0, 1<<31-1)
		case "snmp_name":
			b.unsupported(st)
		case "HTTP_GET", "SSL_GET", "TCP_CHECK", "MISC_CHECK", "SMTP_CHECK", "DNS_CHECK",
			"UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK":
			if c := b.checker(st, CheckerType(kw)); c != nil {
				rs.Checkers = append(rs.Checkers, c)
			}
		default:
			b.unknown(st)
		}
	}
	return rs
}

var dnsTypes = set("A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA")

// checker parses a health checker block.
func (b blk) checker(s *stmt, t CheckerType) *Checker {
	if !b.needBlock(s) {
		return nil
	}
	b.extraArgs(s, 0)
	c := &Checker{Pos: s.Pos, Type: t}
	cb := b.sub(b.name + ": " + string(t))
	var user, group Val[string]
	for _, st := range s.Block {
		kw := st.Keyword()
		if cb.connOption(st, c) {
			continue
		}
		isHTTP := t == CheckHTTP || t == CheckSSL
		switch {
		case isHTTP && kw == "url":
			if cb.needBlock(st) {
				c.URLs = append(c.URLs, cb.sub(cb.name+": url").url(st))
			}
		case isHTTP && kw == "http_protocol":
			if cb.nargs(st, 1, 1) {
				switch p := b.arg(st, 0); p {
				case "1.0", "1.0C", "1.0c", "1.1":
					c.HTTPProtocol.set(strings.ToUpper(p), st.Pos)
				default:
					cb.errf(st, ErrValue, "%q is not 1.0, 1.0C or 1.1", p)
				}
			}
		case isHTTP && kw == "fast_recovery":
			cb.setFlag(st, &c.FastRecovery)
		case isHTTP && kw == "virtualhost":
			cb.setStr(st, &c.Virtualhost)
		case t == CheckSSL && kw == "enable_sni":
			cb.setFlag(st, &c.EnableSNI)
		case isHTTP && (kw == "sni_name" || kw == "tls_compliant"):
			cb.unsupported(st)
		case t == CheckMisc && kw == "misc_path":
			cb.setCmd(st, &c.MiscPath)
		case t == CheckMisc && kw == "misc_timeout":
			cb.setSeconds(st, &c.MiscTimeout, 1, 1<<31-1)
		case t == CheckMisc && kw == "misc_dynamic":
			cb.setFlag(st, &c.MiscDynamic)
		case t == CheckMisc && kw == "user":
			cb.setUser(st, &user, &group)
		case t == CheckSMTP && kw == "helo_name":
			cb.setStr(st, &c.HeloName)
		case t == CheckSMTP && kw == "host":
			if cb.needBlock(st) {
				h := &Checker{Pos: st.Pos, Type: CheckSMTP}
				hb := cb.sub(cb.name + ": host")
				for _, e := range st.Block {
					if !hb.connOption(e, h) {
						hb.unknown(e)
					}
				}
				c.Hosts = append(c.Hosts, h)
			}
		case t == CheckDNS && kw == "type":
			if cb.nargs(st, 1, 1) {
				if v := strings.ToUpper(cb.arg(st, 0)); dnsTypes[v] {
					c.DNSType.set(v, st.Pos)
				} else {
					cb.errf(st, ErrValue, "unknown DNS type %q", cb.arg(st, 0))
				}
			}
		case t == CheckDNS && kw == "name":
			cb.setStr(st, &c.DNSName)
		case t == CheckUDP && kw == "payload":
			if cb.nargs(st, 1, 1) {
				if p, ok := cb.hexArg(st, 0); ok {
					c.Payload.set(p, st.Pos)
				}
			}
		case t == CheckUDP && kw == "require_reply":
			if cb.nargs(st, 0, 1) {
				var p []byte
				ok := true
				if len(st.Words) > 1 {
					p, ok = cb.hexArg(st, 0)
				}
				if ok {
					c.RequireReply.set(p, st.Pos)
				}
			}
		case t == CheckUDP && kw == "min_reply_length":
			cb.setInt(st, &c.MinReplyLength, 0, 65535)
		case t == CheckUDP && kw == "max_reply_length":
			cb.setInt(st, &c.MaxReplyLength, 0, 65535)
		case t == CheckFile && kw == "track_file":
			cb.setStr(st, &c.TrackFile)
		case t == CheckFile && kw == "dynamic":
			cb.setFlag(st, &c.Dynamic)
		case t == CheckFile && kw == "weight":
			cb.setWeight(st, 1<<31-1, &c.Weight, &c.WeightReverse)
		case t == CheckBFD && kw == "name":
			cb.setStr(st, &c.BFDName)
		default:
			cb.unknown(st)
		}
	}
	if user.Set {
		if !c.MiscPath.Set {
			cb.dec.d.errorf(user.Pos, cb.name+": user", ErrMissing, "user given without misc_path")
		} else {
			c.MiscPath.V.User, c.MiscPath.V.Group = user.V, group.V
		}
	}
	switch t {
	case CheckMisc:
		if !cb.require(s, "misc_path") {
			return nil
		}
	case CheckFile:
		if !cb.require(s, "track_file") {
			return nil
		}
	case CheckBFD:
		if !cb.require(s, "name") {
			return nil
		}
	case CheckHTTP, CheckSSL:
		if len(c.URLs) == 0 {
			b.dec.d.warnf(s.Pos, cb.name, "no url block; checker will request / expecting 2xx")
		}
	}
	return c
}

func (b blk) hexArg(st *stmt, i int) ([]byte, bool) {
	p, err := hex.DecodeString(b.arg(st, i))
	if err != nil {
		b.errf(st, ErrValue, "%q is not a hex string", b.arg(st, i))
		return nil, false
	}
	return p, true
}

// checkTimers points at the health check settings that virtual_server,
// real_server and the checkers share; each level inherits what it does
// not give from the level above (see finishVS and finishChecker).
type checkTimers struct {
	connectTimeout, delayBeforeRetry, warmup, delayLoop *Val[time.Duration]
	retry                                               *Val[int]
	alpha                                               *Val[bool]
}

func (vs *VirtualServer) checkTimers() checkTimers {
	return checkTimers{connectTimeout: &vs.ConnectTimeout, delayBeforeRetry: &vs.DelayBeforeRetry,
		warmup: &vs.Warmup, delayLoop: &vs.DelayLoop, retry: &vs.Retry, alpha: &vs.Alpha}
}

func (rs *RealServer) checkTimers() checkTimers {
	return checkTimers{connectTimeout: &rs.ConnectTimeout, delayBeforeRetry: &rs.DelayBeforeRetry,
		warmup: &rs.Warmup, delayLoop: &rs.DelayLoop, retry: &rs.Retry, alpha: &rs.Alpha}
}

func (c *Checker) checkTimers() checkTimers {
	return checkTimers{connectTimeout: &c.ConnectTimeout, delayBeforeRetry: &c.DelayBeforeRetry,
		warmup: &c.Warmup, delayLoop: &c.DelayLoop, retry: &c.Retry, alpha: &c.Alpha}
}

// timerOption parses st if it is one of the shared health check settings,
// and reports whether it was.
func (b blk) timerOption(st *stmt, t checkTimers) bool {
	switch st.Keyword() {
	case "connect_timeout":
		b.setTimer(st, t.connectTimeout, time.Microsecond, maxTimer)
	case "retry":
		b.setInt(st, t.retry, 0, 1<<31-1)
	case "delay_before_retry":
		b.setTimer(st, t.delayBeforeRetry, 0, maxTimer)
	case "warmup":
		b.setTimer(st, t.warmup, 0, maxTimer)
	case "delay_loop":
		b.setTimer(st, t.delayLoop, time.Microsecond, maxTimer)
	case "alpha":
		b.setFlag(st, t.alpha)
	default:
		return false
	}
	return true
}

// inheritFrom fills the settings not given at this level from the level
// above.
func (t checkTimers) inheritFrom(up checkTimers) {
	t.connectTimeout.inherit(*up.connectTimeout)
	t.retry.inherit(*up.retry)
	t.delayBeforeRetry.inherit(*up.delayBeforeRetry)
	t.warmup.inherit(*up.warmup)
	t.delayLoop.inherit(*up.delayLoop)
	t.alpha.inherit(*up.alpha)
}

// serverOpts points at the settings virtual_server and real_server share:
// the health check settings and a few more.
type serverOpts struct {
	checkTimers
	inhibitOnFailure, smtpAlert *Val[bool]
	virtualhost                 *Val[string]
}

func (vs *VirtualServer) serverOpts() serverOpts {
	return serverOpts{checkTimers: vs.checkTimers(),
		inhibitOnFailure: &vs.InhibitOnFailure, smtpAlert: &vs.SMTPAlert, virtualhost: &vs.Virtualhost}
}

func (rs *RealServer) serverOpts() serverOpts {
	return serverOpts{checkTimers: rs.checkTimers(),
		inhibitOnFailure: &rs.InhibitOnFailure, smtpAlert: &rs.SMTPAlert, virtualhost: &rs.Virtualhost}
}

// serverOption parses st if it is one of the settings virtual_server and
// real_server share, and reports whether it was.
func (b blk) serverOption(st *stmt, so serverOpts) bool {
	switch st.Keyword() {
	case "inhibit_on_failure":
		b.setFlag(st, so.inhibitOnFailure)
	case "smtp_alert":
		b.setFlag(st, so.smtpAlert)
	case "virtualhost":
		b.setStr(st, so.virtualhost)
	default:
		return b.timerOption(st, so.checkTimers)
	}
	return true
}

// connOption handles the connection options shared by all checkers; it
// reports whether the keyword was one of them.
func (b blk) connOption(st *stmt, c *Checker) bool {
	if b.timerOption(st, c.checkTimers()) {
		return true
	}
	switch st.Keyword() {
	case "connect_ip":
		b.setAddr(st, &c.ConnectIP)
	case "connect_port":
		b.setInt(st, &c.ConnectPort, 0, 65535)
	case "bindto", "bind_to":
		b.setAddr(st, &c.BindTo)
	case "bind_if":
		b.setIfName(st, &c.BindIf)
	case "bind_port":
		b.setInt(st, &c.BindPort, 0, 65535)
	case "fwmark":
		if b.nargs(st, 1, 1) {
			if n, ok := b.intArg(st, 0, 0, 1<<32-1); ok {
				c.Fwmark.set(uint32(n), st.Pos)
			}
		}
	case "nb_get_retry":
		b.warnf(st, "deprecated spelling of retry")
		b.setInt(st, &c.Retry, 0, 1<<31-1)
	case "log_all_failures":
		b.setFlag(st, &c.LogAllFailures)
	default:
		return false
	}
	return true
}

func (b blk) url(s *stmt) *URL {
	u := &URL{Pos: s.Pos}
	for _, st := range s.Block {
		switch st.Keyword() {
		case "path":
			b.setStr(st, &u.Path)
		case "digest":
			if b.nargs(st, 1, 1) {
				d := strings.ToLower(b.arg(st, 0))
				if _, err := hex.DecodeString(d); err != nil || len(d) != 32 {
					b.errf(st, ErrValue, "%q is not an MD5 digest (32 hex digits)", b.arg(st, 0))
				} else {
					u.Digest.set(d, st.Pos)
				}
			}
		case "status_code":
			if b.nargs(st, 1, -1) {
				for _, a := range st.Args() {
					r, err := parseStatusRange(a)
					if err != nil {
						b.report(st, err)
						break
					}
					u.StatusCodes = append(u.StatusCodes, r)
				}
			}
		case "virtualhost":
			b.setStr(st, &u.Virtualhost)
		case "regex":
			b.setStr(st, &u.Regex)
		case "regex_no_match":
			b.setFlag(st, &u.RegexNoMatch)
		case "regex_options":
			if b.nargs(st, 1, -1) {
				u.RegexOptions.set(strings.Join(st.Args(), " "), st.Pos)
			}
		case "regex_min_offset":
			b.setInt(st, &u.RegexMinOffset, 0, 1<<31-1)
		case "regex_max_offset":
			b.setInt(st, &u.RegexMaxOffset, 0, 1<<31-1)
		case "regex_stack":
			b.unsupported(st)
		default:
			b.unknown(st)
		}
	}
	b.require(s, "path")
	return u
}

func parseStatusRange(s string) (StatusRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	l, err := parseInt(lo, 100, 599)
	if err != nil {
		return StatusRange{}, err
	}
	h := l
	if isRange {
		if h, err = parseInt(hi, 100, 599); err != nil {
			return StatusRange{}, err
		}
		if h < l {
			return StatusRange{}, verr(ErrRange, "status range %q is reversed", s)
		}
	}
	return StatusRange{Lo: int(l), Hi: int(h)}, nil
}

func (dec *decoder) virtualServerGroup(name string, s *stmt) {
	g := &VirtualServerGroup{Name: name, Pos: s.Pos}
	b := blk{dec: dec, name: "virtual_server_group " + name}
	for _, e := range s.Block {
		if !b.noBlock(e) {
			continue
		}
		if e.Keyword() == "fwmark" {
			if !b.nargs(e, 1, 2) {
				continue
			}
			if mark, family, ok := b.fwmarkArgs(e, 0); ok {
				g.Entries = append(g.Entries, VSGEntry{Pos: e.Pos, Fwmark: mark, Family: family})
			}
			continue
		}
		first, last, err := parseAddrRange(e.Keyword())
		if err != nil {
			b.report(e, err)
			continue
		}
		en := VSGEntry{Pos: e.Pos, Addr: first, RangeEnd: last}
		b.extraArgs(e, 1)
		if len(e.Words) > 1 && !b.setIntArg(e, 0, &en.Port, 0, 65535) {
			continue
		}
		g.Entries = append(g.Entries, en)
	}
	dec.cfg.VirtualServerGroups = append(dec.cfg.VirtualServerGroups, g)
}

// parseAddrRange parses "A" or "A-N": N replaces the last octet (IPv4,
// decimal) or the last 16-bit group (IPv6, hex).
func parseAddrRange(s string) (netip.Addr, netip.Addr, error) {
	as, end, isRange := strings.Cut(s, "-")
	a, err := parseAddr(as)
	if err != nil {
		return a, a, err
	}
	if !isRange {
		return a, a, nil
	}
	if a.Is4() {
		n, err := parseInt(end, 0, 255)
		b := a.As4()
		if err != nil || n < int64(b[3]) {
			return a, a, verr(ErrValue, "%q is not a valid address range (end must be a last octet >= %d)", s, b[3])
		}
		b[3] = byte(n)
		return a, netip.AddrFrom4(b), nil
	}
	n, err := strconv.ParseUint(end, 16, 16)
	b := a.As16()
	cur := uint64(b[14])<<8 | uint64(b[15])
	if err != nil || n < cur {
		return a, a, verr(ErrValue, "%q is not a valid address range (end must be a last hex group >= %x)", s, cur)
	}
	b[14], b[15] = byte(n>>8), byte(n)
	return a, netip.AddrFrom16(b), nil
}
