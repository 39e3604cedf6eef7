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
	tuning, tn := v.tuning(), v.trackNotify()
	for _, st := range s.Block {
		if b.tuningOption(st, st.Keyword(), tuning) || b.trackNotifyOption(st, tn) {
			continue
		}
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
				v.VirtualIPAddresses = append(v.VirtualIPAddresses, entries(st, b.sub(b.field(st)).address)...)
			}
		case "virtual_ipaddress_excluded":
			if b.needBlock(st) {
				v.VirtualIPAddressesExcluded = append(v.VirtualIPAddressesExcluded, entries(st, b.sub(b.field(st)).address)...)
			}
		case "virtual_routes":
			if b.needBlock(st) {
				rb := b.sub(b.field(st))
				routes := entries(st, rb.route)
				for _, r := range routes {
					if r.Dev == "" && !r.NoTrack {
						dec.d.warnf(r.Pos, rb.name, "route %s has no dev, so it cannot be tracked (add dev or no_track)", r.Dest)
					}
				}
				v.VirtualRoutes = append(v.VirtualRoutes, routes...)
			}
		case "virtual_rules":
			if b.needBlock(st) {
				v.VirtualRules = append(v.VirtualRules, entries(st, b.sub(b.field(st)).rule)...)
			}
		case "notify_master_rx_lower_pri":
			b.setCmd(st, &v.NotifyMasterRxLowerPri)
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

// require reports whether the block of s has a statement with keyword kw,
// reporting an error on the block otherwise.
func (b blk) require(s *stmt, kw string) bool {
	if b.present(s, kw) {
		return true
	}
	b.dec.d.errorf(s.Pos, b.name, ErrMissing, "%s is required", kw)
	return false
}

// vrrpTuning points at the settings that a vrrp_instance shares with
// global_defs. global_defs spells each keyword with a "vrrp_" prefix, and
// its value is the default for every instance (see finishInstance).
type vrrpTuning struct {
	garpMasterDelay, garpMasterRefresh, garpLowerPrioDelay         *Val[time.Duration]
	garpMasterRepeat, garpMasterRefreshRepeat, garpLowerPrioRepeat *Val[int]
	downTimerAdverts                                               *Val[int]
	skipCheckAdvAddr, checkUnicastSrc                              *Val[bool]
	lowerPrioNoAdvert, higherPrioSendAdvert                        *Val[bool]
}

func (g *GlobalDefs) tuning() vrrpTuning {
	return vrrpTuning{
		garpMasterDelay: &g.VRRPGarpMasterDelay, garpMasterRefresh: &g.VRRPGarpMasterRefresh,
		garpLowerPrioDelay: &g.VRRPGarpLowerPrioDelay, garpMasterRepeat: &g.VRRPGarpMasterRepeat,
		garpMasterRefreshRepeat: &g.VRRPGarpMasterRefreshRepeat, garpLowerPrioRepeat: &g.VRRPGarpLowerPrioRepeat,
		downTimerAdverts: &g.VRRPDownTimerAdverts, skipCheckAdvAddr: &g.VRRPSkipCheckAdvAddr,
		checkUnicastSrc: &g.VRRPCheckUnicastSrc, lowerPrioNoAdvert: &g.VRRPLowerPrioNoAdvert,
		higherPrioSendAdvert: &g.VRRPHigherPrioSendAdvert,
	}
}

func (v *VRRPInstance) tuning() vrrpTuning {
	return vrrpTuning{
		garpMasterDelay: &v.GarpMasterDelay, garpMasterRefresh: &v.GarpMasterRefresh,
		garpLowerPrioDelay: &v.GarpLowerPrioDelay, garpMasterRepeat: &v.GarpMasterRepeat,
		garpMasterRefreshRepeat: &v.GarpMasterRefreshRepeat, garpLowerPrioRepeat: &v.GarpLowerPrioRepeat,
		downTimerAdverts: &v.DownTimerAdverts, skipCheckAdvAddr: &v.SkipCheckAdvAddr,
		checkUnicastSrc: &v.CheckUnicastSrc, lowerPrioNoAdvert: &v.LowerPrioNoAdvert,
		higherPrioSendAdvert: &v.HigherPrioSendAdvert,
	}
}

// tuningOption parses st if kw (its keyword without global_defs' "vrrp_"
// prefix) is one of the shared settings, and reports whether it was.
func (b blk) tuningOption(st *stmt, kw string, t vrrpTuning) bool {
	switch kw {
	case "garp_master_delay":
		b.setTimer(st, t.garpMasterDelay, 0, maxTimer)
	case "garp_master_repeat":
		b.setInt(st, t.garpMasterRepeat, 0, 1<<31-1)
	case "garp_master_refresh":
		b.setTimer(st, t.garpMasterRefresh, 0, maxTimer)
	case "garp_master_refresh_repeat":
		b.setInt(st, t.garpMasterRefreshRepeat, 0, 1<<31-1)
	case "garp_lower_prio_delay":
		b.setTimer(st, t.garpLowerPrioDelay, 0, maxTimer)
	case "garp_lower_prio_repeat":
		b.setInt(st, t.garpLowerPrioRepeat, 0, 1<<31-1)
	case "down_timer_adverts":
		b.setInt(st, t.downTimerAdverts, 1, 100)
	case "skip_check_adv_addr":
		b.setFlag(st, t.skipCheckAdvAddr)
	case "check_unicast_src":
		b.setFlag(st, t.checkUnicastSrc)
	case "lower_prio_no_advert":
		b.setFlag(st, t.lowerPrioNoAdvert)
	case "higher_prio_send_advert":
		b.setFlag(st, t.higherPrioSendAdvert)
	default:
		return false
	}
	return true
}

// inheritFrom fills the settings an instance did not give from the global
// ones (g). Lower-priority gratuitous ARPs follow the global setting if one
// was given, else the instance's master settings.
func (t vrrpTuning) inheritFrom(g vrrpTuning) {
	t.garpMasterDelay.inherit(*g.garpMasterDelay)
	t.garpMasterRepeat.inherit(*g.garpMasterRepeat)
	t.garpMasterRefresh.inherit(*g.garpMasterRefresh)
	t.garpMasterRefreshRepeat.inherit(*g.garpMasterRefreshRepeat)
	if g.garpLowerPrioDelay.Set {
		t.garpLowerPrioDelay.inherit(*g.garpLowerPrioDelay)
	} else {
		t.garpLowerPrioDelay.inherit(*t.garpMasterDelay)
	}
	if g.garpLowerPrioRepeat.Set {
		t.garpLowerPrioRepeat.inherit(*g.garpLowerPrioRepeat)
	} else {
		t.garpLowerPrioRepeat.inherit(*t.garpMasterRepeat)
	}
	t.downTimerAdverts.inherit(*g.downTimerAdverts)
	t.skipCheckAdvAddr.inherit(*g.skipCheckAdvAddr)
	t.checkUnicastSrc.inherit(*g.checkUnicastSrc)
	t.lowerPrioNoAdvert.inherit(*g.lowerPrioNoAdvert)
	t.higherPrioSendAdvert.inherit(*g.higherPrioSendAdvert)
}

// trackNotify points at what vrrp_instance and vrrp_sync_group share: what
// they track and the scripts they notify.
type trackNotify struct {
	trackInterfaces                                             *[]TrackInterface
	trackScripts, trackFiles                                    *[]TrackRef
	notifyMaster, notifyBackup, notifyFault, notifyStop, notify *Val[Command]
	notifyPriorityChanges, smtpAlert                            *Val[bool]
}

func (v *VRRPInstance) trackNotify() trackNotify {
	return trackNotify{
		trackInterfaces: &v.TrackInterfaces, trackScripts: &v.TrackScripts, trackFiles: &v.TrackFiles,
		notifyMaster: &v.NotifyMaster, notifyBackup: &v.NotifyBackup, notifyFault: &v.NotifyFault,
		notifyStop: &v.NotifyStop, notify: &v.Notify,
		notifyPriorityChanges: &v.NotifyPriorityChanges, smtpAlert: &v.SMTPAlert,
	}
}

func (g *SyncGroup) trackNotify() trackNotify {
	return trackNotify{
		trackInterfaces: &g.TrackInterfaces, trackScripts: &g.TrackScripts, trackFiles: &g.TrackFiles,
		notifyMaster: &g.NotifyMaster, notifyBackup: &g.NotifyBackup, notifyFault: &g.NotifyFault,
		notifyStop: &g.NotifyStop, notify: &g.Notify,
		notifyPriorityChanges: &g.NotifyPriorityChanges, smtpAlert: &g.SMTPAlert,
	}
}

// trackNotifyOption parses st if it is one of the tracking or notify
// settings, and reports whether it was.
func (b blk) trackNotifyOption(st *stmt, t trackNotify) bool {
	switch st.Keyword() {
	case "track_interface":
		if b.needBlock(st) {
			*t.trackInterfaces = append(*t.trackInterfaces, b.sub(b.field(st)).trackInterfaces(st)...)
		}
	case "track_script":
		if b.needBlock(st) {
			*t.trackScripts = append(*t.trackScripts, b.sub(b.field(st)).trackRefs(st, 253, "no_reverse")...)
		}
	case "track_file":
		if b.needBlock(st) {
			*t.trackFiles = append(*t.trackFiles, b.sub(b.field(st)).trackRefs(st, 254, "noreverse")...)
		}
	case "notify_master":
		b.setCmd(st, t.notifyMaster)
	case "notify_backup":
		b.setCmd(st, t.notifyBackup)
	case "notify_fault":
		b.setCmd(st, t.notifyFault)
	case "notify_stop":
		b.setCmd(st, t.notifyStop)
	case "notify":
		b.setCmd(st, t.notify)
	case "notify_priority_changes":
		b.setFlag(st, t.notifyPriorityChanges)
	case "smtp_alert":
		b.setFlag(st, t.smtpAlert)
	default:
		return false
	}
	return true
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

// noBlock reports whether the list entry e has no { } block, reporting an
// error otherwise.
func (b blk) noBlock(e *stmt) bool {
	if e.HasBlock {
		b.errf(e, ErrSyntax, "unexpected { } block")
		return false
	}
	return true
}

// optValue returns the value that follows the option words[i] of e,
// checked by check (when not nil). A missing or invalid value is reported.
func (b blk) optValue(e *stmt, words []string, i int, check func(string) error) (string, bool) {
	if i+1 >= len(words) {
		b.errf(e, ErrMissing, "%s needs a value", words[i])
		return "", false
	}
	val := words[i+1]
	if check != nil {
		if err := check(val); err != nil {
			b.report(e, err)
			return "", false
		}
	}
	return val, true
}

// strOpt is an option of an address or route whose value is kept as a
// string: check vets the value (nil: any value) and dst says where it goes.
type strOpt[T any] struct {
	check func(string) error
	dst   func(*T) *string
}

// strOption stores the value after words[i] in x if words[i] is one of
// opts. handled reports whether it was; ok is false when the value is
// missing or invalid (and reported).
func strOption[T any](b blk, e *stmt, words []string, i int, opts map[string]strOpt[T], x *T) (handled, ok bool) {
	o, handled := opts[words[i]]
	if !handled {
		return false, false
	}
	val, ok := b.optValue(e, words, i, o.check)
	if ok {
		*o.dst(x) = val
	}
	return true, ok
}

var addrStrOpts = map[string]strOpt[Address]{
	"dev":           {checkIfName, func(a *Address) *string { return &a.Dev }},
	"scope":         {checkScope, func(a *Address) *string { return &a.Scope }},
	"label":         {checkLabel, func(a *Address) *string { return &a.Label }},
	"preferred_lft": {checkLifetime, func(a *Address) *string { return &a.PreferredLft }},
	"track_group":   {nil, func(a *Address) *string { return &a.TrackGroup }},
}

func checkLabel(s string) error {
	if len(s) > 15 {
		return verr(ErrValue, "label %q longer than 15 characters", s)
	}
	return nil
}

func checkLifetime(s string) error {
	if s == "forever" {
		return nil
	}
	_, err := parseInt(s, 0, 1<<32-1)
	return err
}

// address parses `ADDR[/PREFIX] [brd B] [dev X] [scope Z] [label L] ...`.
func (b blk) address(e *stmt) (*Address, bool) {
	if !b.noBlock(e) {
		return nil, false
	}
	p, err := parsePrefix(e.Keyword())
	if err != nil {
		b.report(e, err)
		return nil, false
	}
	a := &Address{Pos: e.Pos, Prefix: p}
	args := e.Args()
	for i := 0; i < len(args); i++ {
		if handled, ok := strOption(b, e, args, i, addrStrOpts, a); handled {
			if !ok {
				return nil, false
			}
			i++
			continue
		}
		switch opt := args[i]; opt {
		case "brd", "broadcast":
			val, ok := b.optValue(e, args, i, nil)
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
		case "peer":
			val, ok := b.optValue(e, args, i, nil)
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

var routeStrOpts = map[string]strOpt[Route]{
	"dev":   {checkIfName, func(r *Route) *string { return &r.Dev }},
	"oif":   {checkIfName, func(r *Route) *string { return &r.Dev }},
	"scope": {checkScope, func(r *Route) *string { return &r.Scope }},
	"table": {nil, func(r *Route) *string { return &r.Table }},
}

func (b blk) route(e *stmt) (*Route, bool) {
	if !b.noBlock(e) {
		return nil, false
	}
	r := &Route{Pos: e.Pos}
	words := e.Texts()
	isDefault, haveDest := false, false
	addrOpt := func(i int, dst *netip.Addr) bool {
		val, ok := b.optValue(e, words, i, nil)
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
		if handled, ok := strOption(b, e, words, i, routeStrOpts, r); handled {
			if !ok {
				return nil, false
			}
			i++
			continue
		}
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
		case w == "metric" || w == "priority" || w == "preference":
			val, ok := b.optValue(e, words, i, nil)
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
			val, ok := b.optValue(e, words, i, nil)
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

// rule parses an ip-rule like entry. Invalid addresses make keepalived
// skip the rule with a message, so they are warnings here too.
func (b blk) rule(e *stmt) (*Rule, bool) {
	if !b.noBlock(e) {
		return nil, false
	}
	r := &Rule{Pos: e.Pos}
	words := e.Texts()
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
	tn := g.trackNotify()
	for _, st := range s.Block {
		if b.trackNotifyOption(st, tn) {
			continue
		}
		switch st.Keyword() {
		case "group":
			g.Group = append(g.Group, b.wordList(st)...)
		case "notify_deleted":
			if len(st.Words) == 1 {
				if b.nargs(st, 0, 0) {
					g.NotifyDeleted.set(Command{}, st.Pos)
				}
			} else {
				b.setCmd(st, &g.NotifyDeleted)
			}
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
			b.setWeight(st, 253, &sc.Weight, &sc.Reverse)
		case "rise":
			b.setInt(st, &sc.Rise, 1, 1<<31-1)
		case "fall":
			b.setInt(st, &sc.Fall, 1, 1<<31-1)
		case "user":
			b.setUser(st, &sc.User, &sc.Group)
		case "init_fail":
			b.setFlag(st, &sc.InitFail)
		default:
			b.unknown(st)
		}
	}
	b.require(s, "script")
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
			b.setWeight(st, 1<<31-1, &t.Weight, &t.Reverse)
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
	b.require(s, "file")
	dec.cfg.TrackFiles = append(dec.cfg.TrackFiles, t)
}
