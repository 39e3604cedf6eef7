package keepalived

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

var instanceUnsupported = set("track_process", "track_bfd", "use_vmac_addr", "native_ipv6",
	"kernel_rx_buf_size", "old_unicast_checksum", "debug", "garp_extra_if", "notify_deleted",
	"unicast_checksum_compat", "linkbeat_use_polling", "auth_hmac", "no_virtual_ipaddress",
	"v3_checksum_as_v2", "timer_expired_backup", "vrf", "use_ipvlan", "vrrp_track_process", "track_src_ip_fault",
	"notify_stop_priority", "smtp_alert_lower_prio", "iptables", "ipsets", "nftables")

func (dec *decoder) instance(name string, s *stmt) {
	v := &VRRPInstance{Name: name, Pos: s.Pos}
	b := blk{dec: dec, name: "vrrp_instance " + name}
	for _, st := range s.Block {
		switch kw := st.Keyword(); kw {
		case "state":
			if b.nargs(st, 1, 1) {
				switch strings.ToUpper(b.arg(st, 0)) {
				case "MASTER":
					v.State.set(StateMaster, st.Pos)
				case "BACKUP":
					v.State.set(StateBackup, st.Pos)
				default:
					b.errf(st, ErrValue, "%q is not MASTER or BACKUP", b.arg(st, 0))
				}
			}
		case "interface":
			b.setIfName(st, &v.Interface)
		case "virtual_router_id":
			b.setInt(st, &v.VirtualRouterID, 1, 255)
		case "priority":
			b.setInt(st, &v.Priority, 1, 255)
		case "advert_int":
			b.setTimer(st, &v.AdvertInt, 10*time.Millisecond, 255*time.Second)
		case "version":
			b.setInt(st, &v.Version, 2, 3)
		case "nopreempt":
			b.setConst(st, &v.Nopreempt, true)
		case "preempt":
			b.setConst(st, &v.Nopreempt, false)
		case "preempt_delay":
			b.setTimer(st, &v.PreemptDelay, 0, 1000*time.Second)
		case "unicast_src_ip", "mcast_src_ip":
			b.setAddr(st, &v.UnicastSrcIP)
		case "unicast_peer":
			if b.needBlock(st) {
				v.UnicastPeers = append(v.UnicastPeers, b.sub(b.name+": unicast_peer").unicastPeers(st)...)
			}
		case "unicast_ttl":
			b.setInt(st, &v.UnicastTTL, 0, 255)
		case "mcast_dst_ip":
			b.setAddr(st, &v.McastDstIP)
			if v.McastDstIP.Set && !v.McastDstIP.V.IsMulticast() {
				b.errf(st, ErrValue, "%s is not a multicast address", v.McastDstIP.V)
			}
		case "check_unicast_src":
			b.setFlag(st, &v.CheckUnicastSrc)
		case "unicast_fault_no_peer":
			b.setFlag(st, &v.UnicastFaultNoPeer)
		case "track_src_ip":
			b.setFlag(st, &v.TrackSrcIP)
		case "authentication":
			if b.needBlock(st) {
				v.Authentication = b.sub(b.name + ": authentication").authentication(st)
			}
		case "virtual_ipaddress":
			if b.needBlock(st) {
				v.VirtualIPAddresses = append(v.VirtualIPAddresses, b.sub(b.name+": "+kw).addresses(st)...)
			}
		case "virtual_ipaddress_excluded":
			if b.needBlock(st) {
				v.VirtualIPAddressesExcluded = append(v.VirtualIPAddressesExcluded, b.sub(b.name+": "+kw).addresses(st)...)
			}
		case "virtual_routes":
			if b.needBlock(st) {
				rb := b.sub(b.name + ": " + kw)
				routes := rb.routes(st)
				for _, r := range routes {
					if r.Dev == "" && !r.NoTrack {
						dec.d.warnf(r.Pos, rb.name, "route %s has no dev, so it cannot be tracked (add dev or no_track)", r.Dest)
					}
				}
				v.VirtualRoutes = append(v.VirtualRoutes, routes...)
			}
		case "virtual_rules":
			if b.needBlock(st) {
				v.VirtualRules = append(v.VirtualRules, b.sub(b.name+": "+kw).rules(st)...)
			}
		case "track_interface":
			if b.needBlock(st) {
				v.TrackInterfaces = append(v.TrackInterfaces, b.sub(b.name+": "+kw).trackInterfaces(st)...)
			}
		case "track_script":
			if b.needBlock(st) {
				v.TrackScripts = append(v.TrackScripts, b.sub(b.name+": "+kw).trackRefs(st, 253, "no_reverse")...)
			}
		case "track_file":
			if b.needBlock(st) {
				v.TrackFiles = append(v.TrackFiles, b.sub(b.name+": "+kw).trackRefs(st, 254, "noreverse")...)
			}
		case "notify_master":
			b.setCmd(st, &v.NotifyMaster)
		case "notify_backup":
			b.setCmd(st, &v.NotifyBackup)
		case "notify_fault":
			b.setCmd(st, &v.NotifyFault)
		case "notify_stop":
			b.setCmd(st, &v.NotifyStop)
		case "notify":
			b.setCmd(st, &v.Notify)
		case "notify_master_rx_lower_pri":
			b.setCmd(st, &v.NotifyMasterRxLowerPri)
		case "notify_priority_changes":
			b.setFlag(st, &v.NotifyPriorityChanges)
		case "smtp_alert":
			b.setFlag(st, &v.SMTPAlert)
		case "garp_master_delay":
			b.setTimer(st, &v.GarpMasterDelay, 0, maxTimer)
		case "garp_master_repeat":
			b.setInt(st, &v.GarpMasterRepeat, 0, 1<<31-1)
		case "garp_master_refresh":
			b.setTimer(st, &v.GarpMasterRefresh, 0, maxTimer)
		case "garp_master_refresh_repeat":
			b.setInt(st, &v.GarpMasterRefreshRepeat, 0, 1<<31-1)
		case "garp_lower_prio_delay":
			b.setTimer(st, &v.GarpLowerPrioDelay, 0, maxTimer)
		case "garp_lower_prio_repeat":
			b.setInt(st, &v.GarpLowerPrioRepeat, 0, 1<<31-1)
		case "use_vmac":
			b.useVMAC(st, &v.UseVMAC)
		case "vmac_xmit_base":
			b.setFlag(st, &v.VMACXmitBase)
		case "dont_track_primary":
			b.setFlag(st, &v.DontTrackPrimary)
		case "accept":
			b.setConst(st, &v.Accept, true)
		case "no_accept":
			b.setConst(st, &v.Accept, false)
		case "strict_mode":
			b.setFlag(st, &v.StrictMode)
		case "skip_check_adv_addr":
			b.setFlag(st, &v.SkipCheckAdvAddr)
		case "lower_prio_no_advert":
			b.setFlag(st, &v.LowerPrioNoAdvert)
		case "higher_prio_send_advert":
			b.setFlag(st, &v.HigherPrioSendAdvert)
		case "down_timer_adverts":
			b.setInt(st, &v.DownTimerAdverts, 1, 100)
		case "promote_secondaries":
			b.setFlag(st, &v.PromoteSecondaries)
		case "lvs_sync_daemon_interface":
			b.warnf(st, "obsolete keyword (removed in keepalived 2.x; use global_defs lvs_sync_daemon), ignored")
		default:
			if instanceUnsupported[kw] {
				b.unsupported(st)
			} else {
				b.unknown(st)
			}
		}
	}
	// Required fields; a keyword that was present but invalid has already
	// been reported.
	if !b.present(s, "virtual_router_id") {
		dec.d.errorf(v.Pos, b.name+": virtual_router_id", ErrMissing, "virtual_router_id is required")
	}
	if !b.present(s, "interface") && len(v.UnicastPeers) == 0 {
		dec.d.errorf(v.Pos, b.name+": interface", ErrMissing, "interface is required (unless unicast_peer is used)")
	}
	dec.cfg.Instances = append(dec.cfg.Instances, v)
}

// present reports whether the block of s has a statement with keyword kw.
func (b blk) present(s *stmt, kw string) bool {
	for _, st := range s.Block {
		if st.Keyword() == kw {
			return true
		}
	}
	return false
}

func (b blk) useVMAC(st *stmt, dst *Val[VMAC]) {
	if !b.nargs(st, 0, 2) {
		return
	}
	vm := VMAC{Enabled: true}
	for _, a := range st.Args() {
		if strings.Count(a, ":") == 5 {
			mac, ok := parseMAC(a)
			if !ok {
				b.errf(st, ErrValue, "%q is not a MAC address", a)
				return
			}
			if mac[0] == 0 && mac[1] == 0 && mac[2] == 0x5e && mac[3] == 0 && (mac[4] == 1 || mac[4] == 2) {
				b.warnf(st, "MAC %s is a standard VRRP MAC (RFC 5798) and cannot be configured; ignored", mac)
				continue
			}
			vm.MAC = mac
			continue
		}
		if err := checkIfName(a); err != nil {
			b.report(st, err)
			return
		}
		vm.Name = a
	}
	dst.set(vm, st.Pos)
}

func (b blk) unicastPeers(st *stmt) []UnicastPeer {
	var out []UnicastPeer
	for _, e := range st.Block {
		for i := 0; i < len(e.Words); i++ {
			w := e.Words[i].Text
			if w == "min_ttl" || w == "max_ttl" {
				if len(out) == 0 || i+1 >= len(e.Words) {
					b.errf(e, ErrMissing, "%s needs a peer and a value", w)
					return out
				}
				n, err := parseInt(e.Words[i+1].Text, 0, 255)
				if err != nil {
					b.report(e, err)
					return out
				}
				i++
				if w == "min_ttl" {
					out[len(out)-1].MinTTL.set(int(n), e.Pos)
				} else {
					out[len(out)-1].MaxTTL.set(int(n), e.Pos)
				}
				continue
			}
			a, err := parseAddr(w)
			if err != nil {
				b.report(e, err)
				continue
			}
			out = append(out, UnicastPeer{Pos: e.Pos, Addr: a})
		}
	}
	return out
}

func (b blk) authentication(st *stmt) *Authentication {
	a := &Authentication{Pos: st.Pos}
	for _, e := range st.Block {
		switch e.Keyword() {
		case "auth_type":
			if b.nargs(e, 1, 1) {
				switch t := AuthType(strings.ToUpper(b.arg(e, 0))); t {
				case AuthPass, AuthAH:
					a.Type.set(t, e.Pos)
				default:
					b.errf(e, ErrValue, "%q is not PASS or AH", b.arg(e, 0))
				}
			}
		case "auth_pass":
			if b.nargs(e, 1, 1) {
				p := b.arg(e, 0)
				if p == "" {
					b.errf(e, ErrMissing, "empty password")
					continue
				}
				if len(p) > 8 {
					b.warnf(e, "password longer than 8 characters; only the first 8 are used")
				}
				a.Pass.set(Secret(p), e.Pos)
			}
		default:
			b.unknown(e)
		}
	}
	if !a.Type.Set {
		b.dec.d.errorf(st.Pos, b.name, ErrMissing, "auth_type is required")
	}
	if a.Type.V == AuthPass && !a.Pass.Set {
		b.dec.d.errorf(st.Pos, b.name, ErrMissing, "auth_pass is required with auth_type PASS")
	}
	return a
}

// trackInterfaces parses `IF [weight N [reverse]]` entries.
func (b blk) trackInterfaces(st *stmt) []TrackInterface {
	var out []TrackInterface
	for _, e := range st.Block {
		name := e.Keyword()
		if err := checkIfName(name); err != nil {
			b.report(e, err)
			continue
		}
		w, rev, ok := b.weightOpts(e, 253, "")
		if !ok {
			continue
		}
		if slices.ContainsFunc(out, func(t TrackInterface) bool { return t.Name == name }) {
			b.warnf(e, "duplicate entry %q ignored", name)
			continue
		}
		out = append(out, TrackInterface{Pos: e.Pos, Name: name, Weight: w, Reverse: rev})
	}
	return out
}

// trackRefs parses `NAME [weight N] [reverse|NOREV]` entries.
func (b blk) trackRefs(st *stmt, maxW int64, norev string) []TrackRef {
	var out []TrackRef
	for _, e := range st.Block {
		w, rev, ok := b.weightOpts(e, maxW, norev)
		if !ok {
			continue
		}
		if slices.ContainsFunc(out, func(t TrackRef) bool { return t.Name == e.Keyword() }) {
			b.warnf(e, "duplicate entry %q ignored", e.Keyword())
			continue
		}
		out = append(out, TrackRef{Pos: e.Pos, Name: e.Keyword(), Weight: w, Reverse: rev})
	}
	return out
}

// weightOpts parses the words after a tracked name.
func (b blk) weightOpts(e *stmt, maxW int64, norev string) (w Val[int], rev, ok bool) {
	if e.HasBlock {
		b.warnf(e, "unexpected { } block ignored")
	}
	args := e.Args()
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "weight":
			if i+1 >= len(args) {
				b.errf(e, ErrMissing, "weight needs a value")
				return w, false, false
			}
			n, err := parseInt(args[i+1], -maxW, maxW)
			if err != nil {
				b.report(e, err)
				return w, false, false
			}
			w.set(int(n), e.Pos)
			i++
		case a == "reverse":
			rev = true
		case norev != "" && a == norev:
			rev = false
		default:
			b.warnf(e, "unknown option %q ignored", a)
		}
	}
	return w, rev, true
}

// ---- addresses, routes, rules ----

func (b blk) addresses(st *stmt) []*Address {
	var out []*Address
	for _, e := range st.Block {
		if a, ok := b.address(e); ok {
			out = append(out, a)
		}
	}
	return out
}

var scopes = set("global", "site", "link", "host", "nowhere", "universe")

func checkScope(s string) error {
	if scopes[s] {
		return nil
	}
	if _, err := parseInt(s, 0, 255); err == nil {
		return nil
	}
	return verr(ErrValue, "%q is not a scope (global, site, link, host, nowhere or 0..255)", s)
}

// address parses `ADDR[/PREFIX] [brd B] [dev X] [scope Z] [label L] ...`.
func (b blk) address(e *stmt) (*Address, bool) {
	if e.HasBlock {
		b.errf(e, ErrSyntax, "unexpected { } block")
		return nil, false
	}
	p, err := parsePrefix(e.Keyword())
	if err != nil {
		b.report(e, err)
		return nil, false
	}
	a := &Address{Pos: e.Pos, Prefix: p}
	args := e.Args()
	need := func(i int) (string, bool) {
		if i+1 >= len(args) {
			b.errf(e, ErrMissing, "%s needs a value", args[i])
			return "", false
		}
		return args[i+1], true
	}
	for i := 0; i < len(args); i++ {
		switch opt := args[i]; opt {
		case "brd", "broadcast":
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			i++
			switch val {
			case "-":
			case "+":
				if p.Addr().Is4() && p.Bits() < 31 {
					a.Broadcast = broadcast4(p)
				}
			default:
				bc, err := parseAddr(val)
				if err != nil {
					b.report(e, err)
					return nil, false
				}
				if bc.Is4() != p.Addr().Is4() {
					b.errf(e, ErrValue, "broadcast %s and address %s are of different families", bc, p.Addr())
					return nil, false
				}
				a.Broadcast = bc
			}
		case "dev":
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			i++
			if err := checkIfName(val); err != nil {
				b.report(e, err)
				return nil, false
			}
			a.Dev = val
		case "scope":
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			i++
			if err := checkScope(val); err != nil {
				b.report(e, err)
				return nil, false
			}
			a.Scope = val
		case "label":
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			i++
			if len(val) > 15 {
				b.errf(e, ErrValue, "label %q longer than 15 characters", val)
				return nil, false
			}
			a.Label = val
		case "peer":
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			i++
			pp, err := parsePrefix(val)
			if err != nil {
				b.report(e, err)
				return nil, false
			}
			a.Peer = pp
		case "preferred_lft":
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			i++
			if val != "forever" {
				if _, err := parseInt(val, 0, 1<<32-1); err != nil {
					b.report(e, err)
					return nil, false
				}
			}
			a.PreferredLft = val
		case "track_group":
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			i++
			a.TrackGroup = val
		case "home":
			a.Home = true
		case "-nodad", "nodad":
			a.NoDAD = true
		case "mngtmpaddr":
			a.MngTmpAddr = true
		case "noprefixroute":
			a.NoPrefixRoute = true
		case "autojoin":
			a.AutoJoin = true
		case "no_track":
			a.NoTrack = true
		case "use_vmac":
			a.UseVMAC = true
		default:
			b.warnf(e, "unknown address option %q ignored", opt)
		}
	}
	return a, true
}

func broadcast4(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

var routeTypes = set("blackhole", "unreachable", "prohibit", "throw", "local", "broadcast",
	"unicast", "anycast", "multicast", "nat")

var routeArgOpts = set("protocol", "track_group", "reordering", "vrf", "mtu", "advmss", "realm", "realms", "tos", "dsfield",
	"rtt", "rttvar", "rto_min", "ssthresh", "cwnd", "initcwnd", "initrwnd", "window", "features",
	"quickack", "hoplimit", "expires", "congctl", "pref", "fastopen_no_cookie", "ttl-propagate",
	"encap", "nhid", "weight")

func (b blk) routes(st *stmt) []*Route {
	var out []*Route
	for _, e := range st.Block {
		if r, ok := b.route(e); ok {
			out = append(out, r)
		}
	}
	return out
}

func (b blk) route(e *stmt) (*Route, bool) {
	if e.HasBlock {
		b.errf(e, ErrSyntax, "unexpected { } block")
		return nil, false
	}
	r := &Route{Pos: e.Pos}
	words := make([]string, len(e.Words))
	for i, w := range e.Words {
		words[i] = w.Text
	}
	isDefault, haveDest := false, false
	need := func(i int) (string, bool) {
		if i+1 >= len(words) {
			b.errf(e, ErrMissing, "%s needs a value", words[i])
			return "", false
		}
		return words[i+1], true
	}
	addrOpt := func(i int, dst *netip.Addr) bool {
		val, ok := need(i)
		if !ok {
			return false
		}
		a, err := parseAddr(val)
		if err != nil {
			b.report(e, err)
			return false
		}
		*dst = a
		return true
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "src":
			if !addrOpt(i, &r.Src) {
				return nil, false
			}
			i++
		case w == "via" || w == "gw":
			if w == "gw" {
				b.warnf(e, "'gw' is deprecated, use 'via'")
			}
			if i+1 < len(words) && (words[i+1] == "inet" || words[i+1] == "inet6") {
				i++
			}
			if !addrOpt(i, &r.Via) {
				return nil, false
			}
			i++
		case w == "or":
			b.warnf(e, "'or' (alternative gateway) is deprecated")
			if !addrOpt(i, &r.Or) {
				return nil, false
			}
			i++
		case w == "dev" || w == "oif":
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			if err := checkIfName(val); err != nil {
				b.report(e, err)
				return nil, false
			}
			r.Dev = val
			i++
		case w == "scope":
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			if err := checkScope(val); err != nil {
				b.report(e, err)
				return nil, false
			}
			r.Scope = val
			i++
		case w == "table":
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			r.Table = val
			i++
		case w == "metric" || w == "priority" || w == "preference":
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			n, err := parseInt(val, 0, 1<<32-1)
			if err != nil {
				b.report(e, err)
				return nil, false
			}
			r.Metric.set(int(n), e.Pos)
			i++
		case w == "no_track":
			r.NoTrack = true
		case w == "onlink" || w == "pervasive" || w == "add" || w == "append" || w == "prepend":
			r.setOpt(w, "")
		case w == "inet" || w == "inet6":
			r.Family = w
		case routeArgOpts[w]:
			val, ok := need(i)
			if !ok {
				return nil, false
			}
			i++
			if val == "lock" && i+1 < len(words) {
				i++
				val = "lock " + words[i]
			}
			r.setOpt(w, val)
		case w == "nexthop":
			b.warnf(e, "multipath 'nexthop' routes are not supported by gocrm; kept as an option")
			r.setOpt(w, strings.Join(words[i+1:], " "))
			i = len(words)
		case w == "to":
		case routeTypes[w] && !haveDest && r.Type == "":
			r.Type = w
		case !haveDest:
			haveDest = true
			if w == "default" || w == "all" {
				isDefault = true
				continue
			}
			p, err := parsePrefix(w)
			if err != nil {
				b.report(e, err)
				return nil, false
			}
			r.Dest = p
		default:
			b.warnf(e, "unknown route option %q ignored", w)
		}
	}
	if !haveDest {
		b.errf(e, ErrMissing, "route has no destination")
		return nil, false
	}
	if isDefault {
		if r.Via.Is6() || r.Src.Is6() || r.Family == "inet6" {
			r.Dest = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		} else {
			r.Dest = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	}
	if r.Family != "" && (r.Family == "inet") != r.Dest.Addr().Is4() {
		b.errf(e, ErrValue, "destination %s is not %s", r.Dest, r.Family)
		return nil, false
	}
	fam := r.Dest.Addr().Is4()
	for _, a := range []netip.Addr{r.Via, r.Src, r.Or} {
		if a.IsValid() && a.Is4() != fam {
			b.errf(e, ErrValue, "address %s and destination %s are of different families", a, r.Dest)
			return nil, false
		}
	}
	return r, true
}

func (r *Route) setOpt(k, v string) {
	if r.Options == nil {
		r.Options = map[string]string{}
	}
	r.Options[k] = v
}

var ruleArgOpts = set("iif", "oif", "fwmark", "tos", "dsfield", "goto", "realms", "suppress_prefixlength",
	"suppress_ifgroup", "uidrange", "sport", "dport", "ip_proto", "protocol", "tun_id", "nat", "map-to",
	"track_group")

func (b blk) rules(st *stmt) []*Rule {
	var out []*Rule
	for _, e := range st.Block {
		if r, ok := b.rule(e); ok {
			out = append(out, r)
		}
	}
	return out
}

// rule parses an ip-rule like entry. Invalid addresses make keepalived
// skip the rule with a message, so they are warnings here too.
func (b blk) rule(e *stmt) (*Rule, bool) {
	if e.HasBlock {
		b.errf(e, ErrSyntax, "unexpected { } block")
		return nil, false
	}
	r := &Rule{Pos: e.Pos}
	words := make([]string, len(e.Words))
	for i, w := range e.Words {
		words[i] = w.Text
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		var val string
		if i+1 < len(words) {
			val = words[i+1]
		}
		switch {
		case w == "from" || w == "to":
			if val == "" {
				b.errf(e, ErrMissing, "%s needs a value", w)
				return nil, false
			}
			i++
			if val == "all" {
				continue
			}
			p, err := parsePrefix(val)
			if err != nil {
				b.warnf(e, "%v; rule ignored (as keepalived does)", err)
				return nil, false
			}
			if w == "from" {
				r.From = p
			} else {
				r.To = p
			}
		case w == "table" || w == "lookup":
			if val == "" {
				b.errf(e, ErrMissing, "%s needs a value", w)
				return nil, false
			}
			r.Table = val
			i++
		case w == "preference" || w == "priority" || w == "order" || w == "pref" || w == "prio":
			n, err := parseInt(val, 0, 1<<32-1)
			if err != nil {
				b.report(e, err)
				return nil, false
			}
			r.Preference.set(int(n), e.Pos)
			i++
		case w == "no_track":
			r.NoTrack = true
		case w == "not":
			r.Not = true
		case w == "l3mdev" || w == "inet" || w == "inet6":
			r.setOpt(w, "")
		case w == "blackhole" || w == "prohibit" || w == "unreachable":
			r.setOpt("type", w)
		case ruleArgOpts[w]:
			if val == "" {
				b.errf(e, ErrMissing, "%s needs a value", w)
				return nil, false
			}
			r.setOpt(w, val)
			i++
		default:
			b.warnf(e, "unknown rule option %q ignored", w)
		}
	}
	if r.From.IsValid() && r.To.IsValid() && r.From.Addr().Is4() != r.To.Addr().Is4() {
		b.errf(e, ErrValue, "from %s and to %s are of different families", r.From, r.To)
		return nil, false
	}
	if !r.Preference.Set {
		b.warnf(e, "rule has no preference; keepalived assigns one, which is probably not what you want")
	}
	return r, true
}

func (r *Rule) setOpt(k, v string) {
	if r.Options == nil {
		r.Options = map[string]string{}
	}
	r.Options[k] = v
}

// ---- vrrp_sync_group ----

func (dec *decoder) syncGroup(name string, s *stmt) {
	g := &SyncGroup{Name: name, Pos: s.Pos}
	b := blk{dec: dec, name: "vrrp_sync_group " + name}
	for _, st := range s.Block {
		switch kw := st.Keyword(); kw {
		case "group":
			if b.needBlock(st) {
				for _, e := range st.Block {
					if e.HasBlock {
						b.sub(b.name+": group").warnf(e, "unexpected { } block ignored")
					}
					for _, w := range e.Words {
						g.Group = append(g.Group, Val[string]{V: w.Text, Pos: w.Pos, Set: true})
					}
				}
			}
		case "track_interface":
			if b.needBlock(st) {
				g.TrackInterfaces = append(g.TrackInterfaces, b.sub(b.name+": "+kw).trackInterfaces(st)...)
			}
		case "track_script":
			if b.needBlock(st) {
				g.TrackScripts = append(g.TrackScripts, b.sub(b.name+": "+kw).trackRefs(st, 253, "no_reverse")...)
			}
		case "track_file":
			if b.needBlock(st) {
				g.TrackFiles = append(g.TrackFiles, b.sub(b.name+": "+kw).trackRefs(st, 254, "noreverse")...)
			}
		case "notify_master":
			b.setCmd(st, &g.NotifyMaster)
		case "notify_backup":
			b.setCmd(st, &g.NotifyBackup)
		case "notify_fault":
			b.setCmd(st, &g.NotifyFault)
		case "notify_stop":
			b.setCmd(st, &g.NotifyStop)
		case "notify":
			b.setCmd(st, &g.Notify)
		case "notify_deleted":
			if len(st.Words) == 1 {
				if b.nargs(st, 0, 0) {
					g.NotifyDeleted.set(Command{}, st.Pos)
				}
			} else {
				b.setCmd(st, &g.NotifyDeleted)
			}
		case "smtp_alert":
			b.setFlag(st, &g.SMTPAlert)
		case "notify_priority_changes":
			b.setFlag(st, &g.NotifyPriorityChanges)
		case "sync_group_tracking_weight":
			b.setFlag(st, &g.SyncGroupTrackingWeight)
		case "global_tracking":
			b.warnf(st, "deprecated keyword (use sync_group_tracking_weight), ignored")
		case "track_process", "track_bfd":
			b.unsupported(st)
		default:
			if len(st.Words) == 1 && !st.HasBlock {
				b.warnf(st, "unknown keyword, ignored (obsolete member list? instances must be listed in group { })")
			} else {
				b.unknown(st)
			}
		}
	}
	if len(g.Group) == 0 {
		dec.d.warnf(s.Pos, b.name, "sync group has no member instances; ignored")
		return
	}
	dec.cfg.SyncGroups = append(dec.cfg.SyncGroups, g)
}

// ---- vrrp_script and track_file ----

func (dec *decoder) script(name string, s *stmt) {
	sc := &VRRPScript{Name: name, Pos: s.Pos}
	b := blk{dec: dec, name: "vrrp_script " + name}
	for _, st := range s.Block {
		switch st.Keyword() {
		case "script":
			if b.nargs(st, 1, 1) {
				if strings.TrimSpace(b.arg(st, 0)) == "" {
					b.errf(st, ErrMissing, "empty script")
				} else {
					sc.Script.set(b.arg(st, 0), st.Pos)
				}
			}
		case "interval":
			b.setSeconds(st, &sc.Interval, 1, 4294)
		case "timeout":
			b.setSeconds(st, &sc.Timeout, 0, 4294)
		case "weight":
			if b.nargs(st, 1, 2) {
				if n, ok := b.intArg(st, 0, -253, 253); ok {
					sc.Weight.set(n, st.Pos)
				}
				switch r := b.arg(st, 1); r {
				case "":
				case "reverse":
					sc.Reverse = true
				default:
					b.warnf(st, "unknown option %q ignored", r)
				}
			}
		case "rise":
			b.setInt(st, &sc.Rise, 1, 1<<31-1)
		case "fall":
			b.setInt(st, &sc.Fall, 1, 1<<31-1)
		case "user":
			if b.nargs(st, 1, 2) {
				sc.User.set(b.arg(st, 0), st.Pos)
				if len(st.Words) > 2 {
					sc.Group.set(b.arg(st, 1), st.Pos)
				}
			}
		case "init_fail":
			b.setFlag(st, &sc.InitFail)
		default:
			b.unknown(st)
		}
	}
	if !b.present(s, "script") {
		dec.d.errorf(s.Pos, b.name, ErrMissing, "script is required")
	}
	dec.cfg.Scripts = append(dec.cfg.Scripts, sc)
}

func (dec *decoder) trackFileDef(name string, s *stmt) {
	t := &TrackFileDef{Name: name, Pos: s.Pos}
	b := blk{dec: dec, name: s.Keyword() + " " + name}
	for _, st := range s.Block {
		switch st.Keyword() {
		case "file":
			if b.nargs(st, 1, 1) {
				t.File.set(b.arg(st, 0), st.Pos)
			}
		case "weight":
			if b.nargs(st, 1, 2) {
				if n, ok := b.intArg(st, 0, -(1<<31 - 1), 1<<31-1); ok {
					t.Weight.set(n, st.Pos)
				}
				switch r := b.arg(st, 1); r {
				case "":
				case "reverse":
					t.Reverse = true
				default:
					b.warnf(st, "unknown option %q ignored", r)
				}
			}
		case "init_file":
			if b.nargs(st, 0, 2) {
				var f InitFile
				ok := true
				for _, a := range st.Args() {
					if a == "overwrite" {
						f.Overwrite = true
						continue
					}
					n, err := strconv.Atoi(a)
					if err != nil {
						b.errf(st, ErrValue, "%q is not an integer or 'overwrite'", a)
						ok = false
						break
					}
					f.Value = n
				}
				if ok {
					t.InitFile.set(f, st.Pos)
				}
			}
		default:
			b.unknown(st)
		}
	}
	if !b.present(s, "file") {
		dec.d.errorf(s.Pos, b.name, ErrMissing, "file is required")
	}
	dec.cfg.TrackFiles = append(dec.cfg.TrackFiles, t)
}
