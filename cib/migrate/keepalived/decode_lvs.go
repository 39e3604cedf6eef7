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
		n, err := parseInt(args[1], 1, 1<<32-1)
		if err != nil {
			top.report(s, err)
			return
		}
		vs.Kind, vs.Fwmark = VSFwmark, uint32(n)
		if len(args) > 2 {
			if args[2] != "inet" && args[2] != "inet6" {
				top.errf(s, ErrValue, "%q is not inet or inet6", args[2])
				return
			}
			vs.Family = args[2]
		}
	case len(args) >= 2 && args[0] == "group":
		vs.Kind, vs.Group = VSGroup, args[1]
		if len(args) > 2 {
			top.warnf(s, "extra arguments %q ignored", strings.Join(args[2:], " "))
		}
	case len(args) >= 1 && args[0] != "fwmark" && args[0] != "group":
		a, err := parseAddr(args[0])
		if err != nil {
			top.report(s, err)
			return
		}
		vs.Kind, vs.Addr = VSAddr, a
		if len(args) > 1 {
			p, err := parseInt(args[1], 0, 65535)
			if err != nil {
				top.report(s, err)
				return
			}
			vs.Port.set(int(p), s.Pos)
		}
		if len(args) > 2 {
			top.warnf(s, "extra arguments %q ignored", strings.Join(args[2:], " "))
		}
	default:
		top.errf(s, ErrMissing, "expects IP [PORT], fwmark N or group NAME")
		return
	}
	b := blk{dec: dec, name: "virtual_server " + strings.Join(args, " ")}
	for _, st := range s.Block {
		switch kw := st.Keyword(); kw {
		case "delay_loop":
			b.setTimer(st, &vs.DelayLoop, time.Microsecond, maxTimer)
		case "lb_algo", "lvs_sched":
			if b.nargs(st, 1, 1) {
				if a := b.arg(st, 0); lbAlgos[a] {
					vs.LBAlgo.set(a, st.Pos)
				} else {
					b.errf(st, ErrValue, "unknown scheduler %q (rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos)", a)
				}
			}
		case "lb_kind", "lvs_method":
			if b.nargs(st, 1, -1) {
				if k, ok := b.lbKind(st, b.arg(st, 0)); ok {
					vs.LBKind.set(k, st.Pos)
					if len(st.Words) > 2 {
						if k != LBTUN {
							b.warnf(st, "extra arguments %q ignored", strings.Join(st.Args()[1:], " "))
						} else {
							vs.TunnelOptions = st.Args()[1:]
						}
					}
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
			if b.nargs(st, 1, 1) {
				if f := b.arg(st, 0); f == "inet" || f == "inet6" {
					vs.IPFamily.set(f, st.Pos)
				} else {
					b.errf(st, ErrValue, "%q is not inet or inet6", f)
				}
			}
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
			if b.nargs(st, 1, -1) {
				if k, ok := b.lbKind(st, b.arg(st, 0)); ok {
					vs.SorryServerLVSMethod.set(k, st.Pos)
				}
			}
		case "alpha":
			b.setFlag(st, &vs.Alpha)
		case "omega":
			b.setFlag(st, &vs.Omega)
		case "ha_suspend":
			b.setFlag(st, &vs.HASuspend)
		case "inhibit_on_failure":
			b.setFlag(st, &vs.InhibitOnFailure)
		case "smtp_alert":
			b.setFlag(st, &vs.SMTPAlert)
		case "virtualhost":
			b.setStr(st, &vs.Virtualhost)
		case "connect_timeout":
			b.setTimer(st, &vs.ConnectTimeout, time.Microsecond, maxTimer)
		case "retry":
			b.setInt(st, &vs.Retry, 0, 1<<31-1)
		case "delay_before_retry":
			b.setTimer(st, &vs.DelayBeforeRetry, 0, maxTimer)
		case "warmup":
			b.setTimer(st, &vs.Warmup, 0, maxTimer)
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

func (b blk) lbKind(st *stmt, s string) (LBKind, bool) {
	switch k := LBKind(strings.ToUpper(s)); k {
	case LBNAT, LBDR, LBTUN:
		return k, true
	}
	b.errf(st, ErrValue, "%q is not NAT, DR or TUN", s)
	return "", false
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
	if len(args) > 1 {
		p, ok := vb.intArg(s, 1, 0, 65535)
		if !ok {
			return nil
		}
		rs.Port.set(p, s.Pos)
	}
	if len(args) > 2 {
		vb.warnf(s, "extra arguments %q ignored", strings.Join(args[2:], " "))
	}
	b := vb.sub(vb.name + ": real_server " + strings.Join(args, " "))
	for _, st := range s.Block {
		switch kw := st.Keyword(); kw {
		case "weight":
			b.setInt(st, &rs.Weight, 0, 65535)
		case "lvs_method", "lb_kind":
			if b.nargs(st, 1, -1) {
				if k, ok := b.lbKind(st, b.arg(st, 0)); ok {
					rs.LVSMethod.set(k, st.Pos)
				}
			}
		case "notify_up":
			b.setCmd(st, &rs.NotifyUp)
		case "notify_down":
			b.setCmd(st, &rs.NotifyDown)
		case "uthreshold":
			b.setInt(st, &rs.UThreshold, 0, 1<<31-1)
		case "lthreshold":
			b.setInt(st, &rs.LThreshold, 0, 1<<31-1)
		case "inhibit_on_failure":
			b.setFlag(st, &rs.InhibitOnFailure)
		case "alpha":
			b.setFlag(st, &rs.Alpha)
		case "connect_timeout":
			b.setTimer(st, &rs.ConnectTimeout, time.Microsecond, maxTimer)
		case "retry":
			b.setInt(st, &rs.Retry, 0, 1<<31-1)
		case "delay_before_retry":
			b.setTimer(st, &rs.DelayBeforeRetry, 0, maxTimer)
		case "warmup":
			b.setTimer(st, &rs.Warmup, 0, maxTimer)
		case "delay_loop":
			b.setTimer(st, &rs.DelayLoop, time.Microsecond, maxTimer)
		case "virtualhost":
			b.setStr(st, &rs.Virtualhost)
		case "smtp_alert":
			b.setFlag(st, &rs.SMTPAlert)
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
	if len(s.Words) > 1 {
		b.warnf(s, "extra arguments %q ignored", strings.Join(s.Args(), " "))
	}
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
			if cb.nargs(st, 1, 2) {
				user.set(cb.arg(st, 0), st.Pos)
				if len(st.Words) > 2 {
					group.set(cb.arg(st, 1), st.Pos)
				}
			}
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
			if cb.nargs(st, 1, 2) {
				if n, ok := cb.intArg(st, 0, -(1<<31 - 1), 1<<31-1); ok {
					c.Weight.set(n, st.Pos)
				}
				switch r := cb.arg(st, 1); r {
				case "":
				case "reverse":
					c.WeightReverse = true
				default:
					cb.warnf(st, "unknown option %q ignored", r)
				}
			}
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
		if !b.present(s, "misc_path") {
			b.dec.d.errorf(s.Pos, cb.name, ErrMissing, "misc_path is required")
			return nil
		}
	case CheckFile:
		if !b.present(s, "track_file") {
			b.dec.d.errorf(s.Pos, cb.name, ErrMissing, "track_file is required")
			return nil
		}
	case CheckBFD:
		if !b.present(s, "name") {
			b.dec.d.errorf(s.Pos, cb.name, ErrMissing, "name is required")
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

// connOption handles the connection options shared by all checkers; it
// reports whether the keyword was one of them.
func (b blk) connOption(st *stmt, c *Checker) bool {
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
	case "connect_timeout":
		b.setTimer(st, &c.ConnectTimeout, time.Microsecond, maxTimer)
	case "retry":
		b.setInt(st, &c.Retry, 0, 1<<31-1)
	case "nb_get_retry":
		b.warnf(st, "deprecated spelling of retry")
		b.setInt(st, &c.Retry, 0, 1<<31-1)
	case "delay_before_retry":
		b.setTimer(st, &c.DelayBeforeRetry, 0, maxTimer)
	case "warmup":
		b.setTimer(st, &c.Warmup, 0, maxTimer)
	case "delay_loop":
		b.setTimer(st, &c.DelayLoop, time.Microsecond, maxTimer)
	case "alpha":
		b.setFlag(st, &c.Alpha)
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
	if !b.present(s, "path") {
		b.dec.d.errorf(s.Pos, b.name, ErrMissing, "path is required")
	}
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
		if e.HasBlock {
			b.errf(e, ErrSyntax, "unexpected { } block")
			continue
		}
		args := e.Args()
		if e.Keyword() == "fwmark" {
			if !b.nargs(e, 1, 2) {
				continue
			}
			n, err := parseInt(args[0], 1, 1<<32-1)
			if err != nil {
				b.report(e, err)
				continue
			}
			en := VSGEntry{Pos: e.Pos, Fwmark: uint32(n)}
			if len(args) > 1 {
				if args[1] != "inet" && args[1] != "inet6" {
					b.errf(e, ErrValue, "%q is not inet or inet6", args[1])
					continue
				}
				en.Family = args[1]
			}
			g.Entries = append(g.Entries, en)
			continue
		}
		first, last, err := parseAddrRange(e.Keyword())
		if err != nil {
			b.report(e, err)
			continue
		}
		en := VSGEntry{Pos: e.Pos, Addr: first, RangeEnd: last}
		if len(args) > 1 {
			b.warnf(e, "extra arguments %q ignored", strings.Join(args[1:], " "))
		}
		if len(args) > 0 {
			p, err := parseInt(args[0], 0, 65535)
			if err != nil {
				b.report(e, err)
				continue
			}
			en.Port.set(int(p), e.Pos)
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
