package dropin

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/dataplane"
	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
	"github.com/gocrm/gocrm/agents/vrrp/router"
	"github.com/gocrm/gocrm/agents/vrrp/track"
	"github.com/gocrm/gocrm/cib/migrate/keepalived"
)

// Notice is a remark about a keepalived feature the drop-in accepts but
// does not (fully) carry out.
type Notice struct {
	Pos keepalived.Pos
	Msg string
}

func (n Notice) String() string {
	if n.Pos.IsValid() {
		return n.Pos.String() + ": " + n.Msg
	}
	return n.Msg
}

// VRRPConfig converts the vrrp_* part of a parsed keepalived.conf into the
// dataplane's configuration, with notices for what it cannot honour.
func VRRPConfig(kc *keepalived.Config) (dataplane.Config, []Notice) {
	var out dataplane.Config
	var notes []Notice
	note := func(p keepalived.Pos, f string, a ...any) { notes = append(notes, Notice{p, fmt.Sprintf(f, a...)}) }

	inGroup := map[string]*keepalived.SyncGroup{}
	for _, g := range kc.SyncGroups {
		for _, m := range g.Group {
			inGroup[m.V] = g
		}
	}
	usedScripts, usedFiles := map[string]bool{}, map[string]bool{}
	conv := func(v *keepalived.VRRPInstance, g *keepalived.SyncGroup) (dataplane.Instance, bool) {
		in, ok := convInstance(kc, v, g, note)
		for _, t := range in.Router.FSM.TrackScripts {
			usedScripts[t.Name] = true
		}
		for _, t := range in.Router.FSM.TrackFiles {
			usedFiles[t.Name] = true
		}
		return in, ok
	}
	for _, g := range kc.SyncGroups {
		u := dataplane.Unit{Name: g.Name, Group: true, Notify: convNotify(g.NotifyMaster, g.NotifyBackup, g.NotifyFault, g.NotifyStop, g.Notify)}
		for _, m := range g.Group {
			v := kc.Instance(m.V)
			if v == nil {
				continue
			}
			if in, ok := conv(v, g); ok {
				u.Instances = append(u.Instances, in)
			}
		}
		if len(u.Instances) == 0 {
			note(g.Pos, "vrrp_sync_group %s: no usable member; ignored", g.Name)
			continue
		}
		out.Units = append(out.Units, u)
	}
	for _, v := range kc.Instances {
		if inGroup[v.Name] != nil {
			continue
		}
		if in, ok := conv(v, nil); ok {
			out.Units = append(out.Units, dataplane.Unit{Name: v.Name, Instances: []dataplane.Instance{in}})
		}
	}
	for _, s := range kc.Scripts {
		if !usedScripts[s.Name] {
			continue
		}
		if s.User.Set {
			note(s.Pos, "vrrp_script %s: user %s ignored (scripts run as the daemon's user)", s.Name, s.User.V)
		}
		out.Scripts = append(out.Scripts, track.Script{Name: s.Name, Command: s.Script.V, Interval: s.Interval.V, Timeout: s.Timeout.V})
	}
	for _, f := range kc.TrackFiles {
		if usedFiles[f.Name] {
			out.Files = append(out.Files, track.File{Name: f.Name, Path: f.File.V, Interval: time.Second})
		}
	}
	gl := &kc.Global
	fifo, script := gl.VRRPNotifyFifo, gl.VRRPNotifyFifoScript
	if !fifo.Set {
		fifo, script = gl.NotifyFifo, gl.NotifyFifoScript
	}
	if fifo.Set {
		out.NotifyFIFO = fifo.V.Script
		if script.Set {
			out.NotifyFIFOScript = script.V.Argv()
		}
	}
	if gl.VRRPStrict.V {
		note(gl.Pos, "vrrp_strict: strict RFC checks are not enforced")
	}
	for _, a := range kc.StaticAddresses {
		note(a.Pos, "static_ipaddress %s ignored (configure it with the system's network configuration)", a.Prefix)
	}
	if len(kc.StaticRoutes) > 0 || len(kc.StaticRules) > 0 {
		note(keepalived.Pos{}, "static_routes/static_rules ignored")
	}
	return out, notes
}

func convNotify(master, backup, fault, stop, any keepalived.Val[keepalived.Command]) dataplane.Notify {
	argv := func(c keepalived.Val[keepalived.Command]) []string {
		if !c.Set || c.V.Script == "" {
			return nil
		}
		return c.V.Argv()
	}
	return dataplane.Notify{Master: argv(master), Backup: argv(backup), Fault: argv(fault), Stop: argv(stop), Any: argv(any)}
}

func convInstance(kc *keepalived.Config, v *keepalived.VRRPInstance, g *keepalived.SyncGroup, note func(keepalived.Pos, string, ...any)) (dataplane.Instance, bool) {
	name := "vrrp_instance " + v.Name
	if len(v.VirtualIPAddresses) == 0 {
		note(v.Pos, "%s: no virtual_ipaddress; instance not run", name)
		return dataplane.Instance{}, false
	}
	ipv6 := v.VirtualIPAddresses[0].Prefix.Addr().Is6()
	fc := fsm.Config{
		Name:              v.Name,
		VRID:              uint8(v.VirtualRouterID.V),
		Version:           uint8(v.Version.V),
		Priority:          uint8(v.Priority.V),
		AdvertInterval:    v.AdvertInt.V,
		InitialMaster:     v.State.V == keepalived.StateMaster,
		NoPreempt:         v.Nopreempt.V,
		PreemptDelay:      v.PreemptDelay.V,
		DownTimerAdverts:  v.DownTimerAdverts.V,
		LowerPrioNoAdvert: v.LowerPrioNoAdvert.V,
	}
	if v.UnicastSrcIP.Set {
		fc.PrimaryAddr = v.UnicastSrcIP.V
	}
	fc.GARP = fsm.GARPConfig{
		MasterDelay:         garpDelay(v.GarpMasterDelay),
		MasterRepeat:        v.GarpMasterRepeat.V,
		MasterRefresh:       garpDelay(v.GarpMasterRefresh),
		MasterRefreshRepeat: v.GarpMasterRefreshRepeat.V,
		LowerPrioDelay:      garpDelay(v.GarpLowerPrioDelay),
		LowerPrioRepeat:     v.GarpLowerPrioRepeat.V,
	}
	if !v.GarpMasterRefresh.Set {
		fc.GARP.MasterRefresh = 0 // our default: refresh on (fsm.DefaultGARPRefresh)
	}
	if kc.Global.VRRPMinGarp.V {
		fc.GARP.MasterRepeat, fc.GARP.MasterDelay = 1, -1
	}
	// keepalived tracks the VRRP interface itself unless dont_track_primary.
	if !v.DontTrackPrimary.V && v.Interface.V != "" {
		fc.TrackInterfaces = append(fc.TrackInterfaces, fsm.TrackInterface{Name: v.Interface.V})
	}
	addTI := func(ts []keepalived.TrackInterface) {
		for _, t := range ts {
			if t.Name == v.Interface.V && t.Weight.V == 0 && !v.DontTrackPrimary.V {
				continue
			}
			fc.TrackInterfaces = append(fc.TrackInterfaces, fsm.TrackInterface{Name: t.Name, Weight: t.Weight.V, Reverse: t.Reverse})
		}
	}
	addTS := func(ts []keepalived.TrackRef, zeroWeight bool) {
		for _, t := range ts {
			s := kc.Script(t.Name)
			if s == nil {
				continue
			}
			w := s.Weight.V
			if t.Weight.Set {
				w = t.Weight.V
			}
			if zeroWeight {
				w = 0
			}
			fc.TrackScripts = append(fc.TrackScripts, fsm.TrackScript{Name: t.Name, Weight: w, Rise: s.Rise.V, Fall: s.Fall.V,
				Reverse: t.Reverse != s.Reverse, InitFail: s.InitFail.V})
		}
	}
	addTF := func(ts []keepalived.TrackRef, zeroWeight bool) {
		for _, t := range ts {
			f := kc.TrackFile(t.Name)
			if f == nil {
				continue
			}
			w, set := f.Weight.V, true
			if t.Weight.Set {
				w = t.Weight.V
			}
			if zeroWeight {
				w = 0
			}
			tf := fsm.TrackFile{Name: t.Name, Weight: w, WeightSet: set, Reverse: t.Reverse != f.Reverse}
			if f.InitFile.Set {
				tf.InitValue = f.InitFile.V.Value
			}
			fc.TrackFiles = append(fc.TrackFiles, tf)
		}
	}
	// As keepalived: in a sync group, member tracking weights are forced
	// to 0 unless sync_group_tracking_weight.
	zero := g != nil && !g.SyncGroupTrackingWeight.V
	addTI(v.TrackInterfaces)
	addTS(v.TrackScripts, zero)
	addTF(v.TrackFiles, zero)
	if g != nil {
		addTI(g.TrackInterfaces)
		addTS(g.TrackScripts, zero)
		addTF(g.TrackFiles, zero)
	}
	if zero {
		for i := range fc.TrackInterfaces {
			fc.TrackInterfaces[i].Weight = 0
		}
	}

	rc := router.Config{FSM: fc, IPv6: ipv6, SkipCheckAdvAddr: v.SkipCheckAdvAddr.V, CheckUnicastSource: v.CheckUnicastSrc.V,
		UnicastTTL: uint8(v.UnicastTTL.V)}
	if v.McastDstIP.Set || kc.Global.VRRPMcastGroup4.Set || kc.Global.VRRPMcastGroup6.Set {
		rc.Group = v.McastDstIP.V
	}
	for _, a := range v.VirtualIPAddresses {
		if a.Prefix.Addr().Is6() != ipv6 {
			note(a.Pos, "%s: virtual_ipaddress %s: mixed address families; skipped (use virtual_ipaddress_excluded)", name, a.Prefix)
			continue
		}
		rc.VIPs = append(rc.VIPs, a.Addr())
	}
	for _, p := range v.UnicastPeers {
		rc.UnicastPeers = append(rc.UnicastPeers, p.Addr)
	}
	if a := v.Authentication; a != nil && fc.Version == 2 {
		switch a.Type.V {
		case keepalived.AuthPass:
			rc.AuthType = packet.AuthPass
		case keepalived.AuthAH:
			rc.AuthType = packet.AuthAH
		}
		rc.AuthPass = a.Pass.V.Reveal()
	}
	in := dataplane.Instance{Router: rc, Interface: v.Interface.V,
		Notify: convNotify(v.NotifyMaster, v.NotifyBackup, v.NotifyFault, v.NotifyStop, v.Notify)}
	if ipv6 {
		in.GARPInterval = kc.Global.VRRPGnaInterval.V
	} else {
		in.GARPInterval = kc.Global.VRRPGarpInterval.V
	}
	addAddr := func(a *keepalived.Address) {
		x := dataplane.VIP{Prefix: a.Prefix, Dev: a.Dev, Label: a.Label, Broadcast: a.Broadcast}
		if a.Scope != "" && a.Scope != "global" {
			note(a.Pos, "%s: %s scope %s ignored (added with global scope)", name, a.Prefix, a.Scope)
		}
		if a.UseVMAC || a.Peer.IsValid() {
			note(a.Pos, "%s: %s: use_vmac/peer options ignored", name, a.Prefix)
		}
		in.Addresses = append(in.Addresses, x)
	}
	for _, a := range v.VirtualIPAddresses {
		addAddr(a)
	}
	for _, a := range v.VirtualIPAddressesExcluded {
		addAddr(a)
	}
	if v.UseVMAC.V.Enabled {
		note(v.UseVMAC.Pos, "%s: use_vmac not supported; the interface's own MAC is used", name)
	}
	if len(v.VirtualRoutes) > 0 || len(v.VirtualRules) > 0 {
		note(v.Pos, "%s: virtual_routes/virtual_rules not supported; ignored", name)
	}
	if v.Accept.Set && !v.Accept.V {
		note(v.Accept.Pos, "%s: no_accept not enforced", name)
	}
	if v.NotifyMasterRxLowerPri.Set {
		note(v.NotifyMasterRxLowerPri.Pos, "%s: notify_master_rx_lower_pri not supported", name)
	}
	return in, true
}

// garpDelay maps a keepalived delay (0 = off) to fsm's convention (0 =
// default, negative = off).
func garpDelay(v keepalived.Val[time.Duration]) time.Duration {
	if v.V == 0 {
		return -1
	}
	return v.V
}

// LVSParams converts a virtual_server into the IPVS agent's parameters.
func LVSParams(kc *keepalived.Config, vs *keepalived.VirtualServer) (map[string]string, []Notice, error) {
	var notes []Notice
	note := func(p keepalived.Pos, f string, a ...any) { notes = append(notes, Notice{p, fmt.Sprintf(f, a...)}) }
	p := map[string]string{}
	switch vs.Kind {
	case keepalived.VSAddr:
		p["vip"] = vs.Addr.String()
		p["port"] = strconv.Itoa(vs.Port.V)
	case keepalived.VSFwmark:
		p["fwmark"] = strconv.FormatUint(uint64(vs.Fwmark), 10)
		if vs.Family == "inet6" {
			p["family"] = "inet6"
		}
	default:
		return nil, nil, fmt.Errorf("%s: virtual_server group %s is not supported", vs.Pos, vs.Group)
	}
	p["protocol"] = strings.ToLower(vs.Protocol.V)
	p["scheduler"] = vs.LBAlgo.V
	p["forward"] = strings.ToLower(string(vs.LBKind.V))
	if vs.PersistenceTimeout.V > 0 {
		p["persistent"] = strconv.Itoa(int(vs.PersistenceTimeout.V / time.Second))
	}
	if vs.PersistenceGranularity.Set {
		p["persistence_granularity"] = strconv.Itoa(vs.PersistenceGranularity.V)
	}
	if vs.OPS.V {
		p["ops"] = "true"
	}
	var flags []string
	for _, f := range vs.SchedFlags {
		flags = append(flags, f.V)
	}
	if len(flags) > 0 {
		p["sched_flags"] = strings.Join(flags, ",")
	}
	hostport := func(a netip.Addr, port int) string {
		if port == 0 {
			return a.String()
		}
		return netip.AddrPortFrom(a, uint16(port)).String()
	}
	var rss []string
	var ck *keepalived.Checker
	var rsFirst *keepalived.RealServer
	for _, rs := range vs.RealServers {
		s := hostport(rs.Addr, rs.Port.V) + " weight=" + strconv.Itoa(rs.Weight.V) + " forward=" + strings.ToLower(string(rs.LVSMethod.V))
		if rs.UThreshold.Set {
			s += " uthreshold=" + strconv.Itoa(rs.UThreshold.V)
		}
		if rs.LThreshold.Set {
			s += " lthreshold=" + strconv.Itoa(rs.LThreshold.V)
		}
		rss = append(rss, s)
		for _, c := range rs.Checkers {
			if ck == nil {
				ck, rsFirst = c, rs
			} else if c.Type != ck.Type {
				note(c.Pos, "%s checker on %s: one checker type per virtual server; using %s", c.Type, rs.Addr, ck.Type)
			}
		}
		if len(rs.Checkers) > 1 {
			note(rs.Pos, "real_server %s: only the first checker is run", rs.Addr)
		}
	}
	p["real_servers"] = strings.Join(rss, ";")
	if ss := vs.SorryServer; ss != nil {
		p["sorry_server"] = hostport(ss.Addr, ss.Port)
	}
	if vs.SorryServerInhibit.V {
		p["sorry_server_inhibit"] = "true"
	}
	p["quorum"] = strconv.Itoa(vs.Quorum.V)
	if vs.Hysteresis.Set {
		p["hysteresis"] = strconv.Itoa(vs.Hysteresis.V)
	}
	if vs.Alpha.V {
		p["alpha"] = "true"
	}
	if vs.InhibitOnFailure.V {
		p["inhibit_on_failure"] = "true"
	}
	if vs.QuorumUp.Set || vs.QuorumDown.Set || vs.Omega.V || vs.HASuspend.V {
		note(vs.Pos, "virtual_server: quorum_up/quorum_down/omega/ha_suspend not supported")
	}
	if ck != nil {
		secs := func(d time.Duration) string { return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second))) }
		p["delay_loop"] = secs(rsFirst.DelayLoop.V)
		if ck.DelayLoop.Set {
			p["delay_loop"] = secs(ck.DelayLoop.V)
		}
		ct := rsFirst.ConnectTimeout.V
		if ck.ConnectTimeout.Set {
			ct = ck.ConnectTimeout.V
		}
		p["connect_timeout"] = secs(ct)
		if ck.Retry.Set {
			p["retry"] = strconv.Itoa(ck.Retry.V)
		} else if rsFirst.Retry.Set {
			p["retry"] = strconv.Itoa(rsFirst.Retry.V)
		}
		if ck.DelayBeforeRetry.Set {
			p["delay_before_retry"] = secs(ck.DelayBeforeRetry.V)
		} else if rsFirst.DelayBeforeRetry.Set {
			p["delay_before_retry"] = secs(rsFirst.DelayBeforeRetry.V)
		}
		if ck.ConnectPort.Set {
			p["check_port"] = strconv.Itoa(ck.ConnectPort.V)
		}
		if rsFirst.InhibitOnFailure.V {
			p["inhibit_on_failure"] = "true"
		}
		switch ck.Type {
		case keepalived.CheckTCP:
			p["check"] = "tcp"
		case keepalived.CheckHTTP, keepalived.CheckSSL:
			p["check"] = "http"
			if ck.Type == keepalived.CheckSSL {
				p["check"] = "https"
			}
			if len(ck.URLs) > 0 {
				u := ck.URLs[0]
				p["check_url"] = u.Path.V
				if u.Digest.Set {
					p["check_digest"] = u.Digest.V
				}
				var codes []string
				for _, r := range u.StatusCodes {
					if r.Lo == r.Hi {
						codes = append(codes, strconv.Itoa(r.Lo))
					} else {
						codes = append(codes, fmt.Sprintf("%d-%d", r.Lo, r.Hi))
					}
				}
				if len(codes) > 0 {
					p["check_status"] = strings.Join(codes, " ")
				}
				if len(ck.URLs) > 1 {
					note(ck.Pos, "%s: only the first url is checked", ck.Type)
				}
			}
			vh := ck.Virtualhost.V
			if vh == "" {
				vh = rsFirst.Virtualhost.V
			}
			if vh != "" {
				p["check_virtualhost"] = vh
			}
		case keepalived.CheckMisc:
			p["check"] = "misc"
			p["misc_path"] = ck.MiscPath.V.Script
			if ck.MiscTimeout.Set {
				p["misc_timeout"] = secs(ck.MiscTimeout.V)
			}
			if ck.MiscDynamic.V {
				p["misc_dynamic"] = "true"
			}
		default:
			note(ck.Pos, "%s is not supported; real servers are not health-checked", ck.Type)
		}
	}
	return p, notes, nil
}
