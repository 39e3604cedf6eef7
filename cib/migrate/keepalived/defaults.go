package keepalived

import (
	"net/netip"
	"time"
)

// keepalived 2.2.7 defaults.
var (
	defaultMcast4 = netip.MustParseAddr("224.0.0.18")
	defaultMcast6 = netip.MustParseAddr("ff02::12")
)

// finish checks required fields and fills in defaults (Set stays false).
func (dec *decoder) finish() {
	g := &dec.cfg.Global
	g.VRRPVersion.def(2)
	g.VRRPMcastGroup4.def(defaultMcast4)
	g.VRRPMcastGroup6.def(defaultMcast6)
	g.VRRPGarpMasterDelay.def(5 * time.Second)
	g.VRRPGarpMasterRepeat.def(5)
	g.VRRPGarpMasterRefreshRepeat.def(1)
	g.VRRPGarpLowerPrioDelay.inherit(g.VRRPGarpMasterDelay)
	g.VRRPGarpLowerPrioRepeat.inherit(g.VRRPGarpMasterRepeat)
	g.VRRPDownTimerAdverts.def(3)
	g.SMTPConnectTimeout.def(30 * time.Second)
	for _, v := range dec.cfg.Instances {
		dec.finishInstance(v)
	}
	for _, s := range dec.cfg.Scripts {
		s.Interval.def(time.Second)
		s.Timeout.inherit(s.Interval)
		if s.Timeout.Set && s.Timeout.V == 0 {
			s.Timeout.V = s.Interval.V
		}
		s.Rise.def(1)
		s.Fall.def(1)
		s.User.inherit(g.ScriptUser)
		s.Group.inherit(g.ScriptGroup)
	}
	for _, t := range dec.cfg.TrackFiles {
		t.Weight.def(1)
	}
	for _, vs := range dec.cfg.VirtualServers {
		dec.finishVS(vs)
	}
}

func (dec *decoder) finishInstance(v *VRRPInstance) {
	g := &dec.cfg.Global
	name := "vrrp_instance " + v.Name
	if !v.Priority.Set {
		if v.State.Set && v.State.V == StateMaster {
			v.Priority.V = 255
		} else {
			v.Priority.V = 100
		}
	}
	if !v.State.Set && v.Priority.V == 255 {
		v.State.V = StateMaster
	}

	// Version: the instance's, else the global one; IPv6 needs VRRPv3.
	v.Version.inherit(g.VRRPVersion)
	if fam6, ok := vipFamily(v); ok && fam6 && v.Version.V == 2 {
		if v.Version.Set || g.VRRPVersion.Set {
			pos := v.Version.Pos
			if !pos.IsValid() {
				pos = v.Pos
			}
			dec.d.warnf(pos, name+": version", "IPv6 virtual addresses need VRRP version 3; using 3")
		}
		v.Version.V = 3
	}

	// advert_int: v2 whole seconds, v3 centiseconds up to 40.95 s.
	v.AdvertInt.def(time.Second)
	if v.AdvertInt.Set {
		ai := v.AdvertInt.V
		switch v.Version.V {
		case 2:
			if ai%time.Second != 0 {
				r := ai.Round(time.Second)
				if r < time.Second {
					r = time.Second
				}
				dec.d.warnf(v.AdvertInt.Pos, name+": advert_int", "VRRPv2 needs whole seconds; %v rounded to %v", ai, r)
				v.AdvertInt.V = r
			}
		case 3:
			if ai > 4095*10*time.Millisecond {
				dec.d.errorf(v.AdvertInt.Pos, name+": advert_int", ErrRange, "%v exceeds 40.95s (VRRPv3)", ai)
			} else if ai%(10*time.Millisecond) != 0 {
				r := ai.Round(10 * time.Millisecond)
				dec.d.warnf(v.AdvertInt.Pos, name+": advert_int", "VRRPv3 uses 10 ms units; %v rounded to %v", ai, r)
				v.AdvertInt.V = r
			}
		}
	}

	if v.State.V == StateMaster && v.Nopreempt.V {
		dec.d.warnf(v.State.Pos, name+": state", "nopreempt needs initial state BACKUP; using BACKUP (as keepalived does)")
		v.State.V = StateBackup
	}
	if v.State.V == StateMaster && v.PreemptDelay.V > 0 {
		dec.d.warnf(v.PreemptDelay.Pos, name+": preempt_delay", "preempt_delay has no effect with initial state MASTER")
	}
	if a := v.Authentication; a != nil {
		switch {
		case v.Version.V == 3:
			dec.d.warnf(a.Pos, name+": authentication", "authentication is not supported with VRRP version 3; ignored")
		case v.State.V == StateMaster && a.Type.V == AuthAH:
			dec.d.warnf(v.State.Pos, name+": state", "initial state MASTER is incompatible with AH authentication; using BACKUP (as keepalived does)")
			v.State.V = StateBackup
		}
	}

	v.StrictMode.inherit(g.VRRPStrict)
	v.Accept.def(!v.StrictMode.V)
	if v.StrictMode.V {
		if v.Authentication != nil {
			dec.d.warnf(v.Authentication.Pos, name+": authentication", "not allowed in strict mode (vrrp_strict)")
		}
		if len(v.UnicastPeers) > 0 {
			dec.d.warnf(v.UnicastPeers[0].Pos, name+": unicast_peer", "unicast is not allowed in strict mode (vrrp_strict)")
		}
	}
	v.UnicastTTL.def(255)
	if fam6, _ := vipFamily(v); fam6 {
		v.McastDstIP.inherit(g.VRRPMcastGroup6)
	} else {
		v.McastDstIP.inherit(g.VRRPMcastGroup4)
	}
	v.tuning().inheritFrom(g.tuning())
	for _, p := range v.UnicastPeers {
		if (p.MinTTL.Set || p.MaxTTL.Set) && !v.CheckUnicastSrc.Set {
			v.CheckUnicastSrc.V = true // min_ttl/max_ttl imply check_unicast_src
		}
	}
}

// vipFamily returns whether the instance's first virtual address is IPv6
// (ok false when it has none).
func vipFamily(v *VRRPInstance) (ipv6, ok bool) {
	if len(v.VirtualIPAddresses) == 0 {
		return false, false
	}
	return v.VirtualIPAddresses[0].Prefix.Addr().Is6(), true
}

func (dec *decoder) finishVS(vs *VirtualServer) {
	name := vsName(vs)
	if vs.OPS.V && vs.Protocol.Set && vs.Protocol.V != "UDP" {
		dec.d.warnf(vs.OPS.Pos, name+": ops", "one-packet scheduling requires protocol UDP; ignored (as keepalived does)")
		vs.OPS.V = false
	}
	vs.DelayLoop.def(60 * time.Second)
	vs.LBAlgo.def("wlc")
	vs.LBKind.def(LBNAT)
	vs.Protocol.def("TCP")
	vs.Quorum.def(1)
	vs.ConnectTimeout.def(5 * time.Second)
	for _, rs := range vs.RealServers {
		rs.LVSMethod.inherit(vs.LBKind)
		if vs.Kind == VSAddr {
			if !rs.Port.Set {
				rs.Port.V = vs.Port.V
			} else if m := rs.LVSMethod.V; (m == LBDR || m == LBTUN) && vs.Port.Set && rs.Port.V != vs.Port.V {
				dec.d.warnf(rs.Pos, name+": real_server", "port %d differs from the virtual server's %d, which %s forwarding cannot change; using %d (as keepalived does)",
					rs.Port.V, vs.Port.V, m, vs.Port.V)
				rs.Port.V = vs.Port.V
			}
		}
		rs.Weight.def(1)
		rs.InhibitOnFailure.inherit(vs.InhibitOnFailure)
		rs.Virtualhost.inherit(vs.Virtualhost)
		rs.checkTimers().inheritFrom(vs.checkTimers())
		for _, c := range rs.Checkers {
			finishChecker(c, rs)
		}
	}
}

func finishChecker(c *Checker, rs *RealServer) {
	c.ConnectIP.def(rs.Addr)
	c.ConnectPort.inherit(rs.Port)
	c.checkTimers().inheritFrom(rs.checkTimers())
	// Pos is valid when a value was given at this or an enclosing level.
	given := func(p Pos) bool { return p.IsValid() }
	if !given(c.Retry.Pos) {
		switch c.Type {
		case CheckDNS:
			c.Retry.V = 3
		case CheckMisc:
			c.Retry.V = 0
		default:
			c.Retry.V = 1
		}
	}
	if !given(c.DelayBeforeRetry.Pos) {
		switch c.Type {
		case CheckHTTP, CheckSSL:
			c.DelayBeforeRetry.V = 3 * time.Second
		case CheckDNS:
			c.DelayBeforeRetry.V = c.DelayLoop.V
		default:
			c.DelayBeforeRetry.V = time.Second
		}
	}
	switch c.Type {
	case CheckHTTP, CheckSSL:
		c.HTTPProtocol.def("1.0")
		c.Virtualhost.inherit(rs.Virtualhost)
	case CheckDNS:
		c.DNSType.def("SOA")
		c.DNSName.def(".")
	case CheckMisc:
		c.MiscTimeout.inherit(c.DelayLoop)
	}
	for _, h := range c.Hosts {
		h.ConnectIP.inherit(c.ConnectIP)
		h.ConnectPort.inherit(c.ConnectPort)
		h.BindTo.inherit(c.BindTo)
		h.ConnectTimeout.inherit(c.ConnectTimeout)
		h.Retry.inherit(c.Retry)
		h.DelayBeforeRetry.inherit(c.DelayBeforeRetry)
	}
}
