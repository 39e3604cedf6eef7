package keepalived

import (
	"fmt"
	"net/netip"
)

// Validate checks cross references and consistency between blocks:
// tracked scripts and files exist, sync group members exist and belong to
// one group only, virtual_server groups exist, names and (interface, VRID,
// family) triples are unique, address families agree. Problems that
// keepalived tolerates are appended to c.Warnings; the rest are returned as
// an ErrorList. Validate must not run concurrently with other uses of c.
func (c *Config) Validate() error {
	d := &diag{}
	c.validateNames(d)
	for _, v := range c.Instances {
		c.validateInstance(d, v)
	}
	c.validateSyncGroups(d)
	c.validateVRIDs(d)
	c.validateLVS(d)
	if len(c.Scripts) > 0 && !c.Global.EnableScriptSecurity.V {
		d.warnf(c.Scripts[0].Pos, "global_defs: enable_script_security",
			"tracking scripts are configured but script security is not enabled (keepalived reports a SECURITY VIOLATION); set script_user and enable_script_security")
	}
	c.Warnings = append(c.Warnings, d.warns...)
	return d.err()
}

func (c *Config) validateNames(d *diag) {
	seen := map[string]Pos{}
	check := func(kind, name string, p Pos) {
		k := kind + "\x00" + name
		if first, dup := seen[k]; dup {
			d.errorf(p, kind+" "+name, ErrDuplicate, "also defined at %s", first)
			return
		}
		seen[k] = p
	}
	for _, v := range c.Instances {
		check("vrrp_instance", v.Name, v.Pos)
	}
	for _, g := range c.SyncGroups {
		check("vrrp_sync_group", g.Name, g.Pos)
	}
	for _, s := range c.Scripts {
		check("vrrp_script", s.Name, s.Pos)
	}
	for _, t := range c.TrackFiles {
		check("track_file", t.Name, t.Pos)
	}
	for _, g := range c.VirtualServerGroups {
		check("virtual_server_group", g.Name, g.Pos)
	}
}

func (c *Config) checkTrackRefs(d *diag, owner string, scripts, files []TrackRef) {
	for _, r := range scripts {
		if c.Script(r.Name) == nil {
			d.errorf(r.Pos, owner+": track_script", ErrReference, "no vrrp_script named %q", r.Name)
		}
	}
	for _, r := range files {
		if c.TrackFile(r.Name) == nil {
			d.errorf(r.Pos, owner+": track_file", ErrReference, "no track_file named %q", r.Name)
		}
	}
}

func (c *Config) validateInstance(d *diag, v *VRRPInstance) {
	name := "vrrp_instance " + v.Name
	c.checkTrackRefs(d, name, v.TrackScripts, v.TrackFiles)

	var first *Address
	for _, a := range v.VirtualIPAddresses {
		if first == nil {
			first = a
			continue
		}
		if a.Prefix.Addr().Is4() != first.Prefix.Addr().Is4() {
			d.errorf(a.Pos, name+": virtual_ipaddress", ErrConflict,
				"%s is not of the same family as %s (line %d); use virtual_ipaddress_excluded for the other family",
				a.Prefix.Addr(), first.Prefix.Addr(), first.Pos.Line)
		}
	}
	if len(v.VirtualIPAddresses) > 255 {
		d.warnf(v.Pos, name+": virtual_ipaddress", "%d addresses; an advert carries at most 255", len(v.VirtualIPAddresses))
	}
	if first == nil && len(v.VirtualIPAddressesExcluded) == 0 {
		d.warnf(v.Pos, name, "no virtual_ipaddress: the instance manages no address")
	}
	if first == nil {
		return
	}
	is4 := first.Prefix.Addr().Is4()
	for _, p := range v.UnicastPeers {
		if p.Addr.Is4() != is4 {
			d.errorf(p.Pos, name+": unicast_peer", ErrConflict, "peer %s and virtual address %s are of different families", p.Addr, first.Prefix.Addr())
		}
	}
	if v.UnicastSrcIP.Set && v.UnicastSrcIP.V.Is4() != is4 {
		d.errorf(v.UnicastSrcIP.Pos, name+": unicast_src_ip", ErrConflict, "%s and virtual address %s are of different families", v.UnicastSrcIP.V, first.Prefix.Addr())
	}
	if v.McastDstIP.Set && v.McastDstIP.V.Is4() != is4 {
		d.errorf(v.McastDstIP.Pos, name+": mcast_dst_ip", ErrConflict, "%s and virtual address %s are of different families", v.McastDstIP.V, first.Prefix.Addr())
	}
}

func (c *Config) validateSyncGroups(d *diag) {
	member := map[string]string{} // instance -> group
	for _, g := range c.SyncGroups {
		name := "vrrp_sync_group " + g.Name
		c.checkTrackRefs(d, name, g.TrackScripts, g.TrackFiles)
		for _, m := range g.Group {
			if c.Instance(m.V) == nil {
				d.errorf(m.Pos, name+": group", ErrReference, "no vrrp_instance named %q", m.V)
				continue
			}
			if other, dup := member[m.V]; dup {
				if other == g.Name {
					d.errorf(m.Pos, name+": group", ErrDuplicate, "instance %q listed twice", m.V)
				} else {
					d.errorf(m.Pos, name+": group", ErrConflict, "instance %q is already in sync group %q", m.V, other)
				}
				continue
			}
			member[m.V] = g.Name
		}
		if len(g.Group) == 1 {
			d.warnf(g.Pos, name, "sync group has only one instance")
		}
	}
}

func (c *Config) validateVRIDs(d *diag) {
	type key struct {
		ifname string
		vrid   int
		v6     bool
	}
	seen := map[key]*VRRPInstance{}
	for _, v := range c.Instances {
		if !v.VirtualRouterID.Set {
			continue
		}
		v6, _ := vipFamily(v)
		k := key{v.Interface.V, v.VirtualRouterID.V, v6}
		if other, dup := seen[k]; dup {
			d.errorf(v.VirtualRouterID.Pos, "vrrp_instance "+v.Name+": virtual_router_id", ErrDuplicate,
				"VRID %d on %q already used by vrrp_instance %s (%s)", k.vrid, k.ifname, other.Name, other.Pos)
			continue
		}
		seen[k] = v
	}
}

func (c *Config) validateLVS(d *diag) {
	type vsKey struct {
		kind   VSKind
		addr   netip.Addr
		port   int
		fwmark uint32
		group  string
		proto  string
	}
	seen := map[vsKey]Pos{}
	for _, vs := range c.VirtualServers {
		name := vsName(vs)
		k := vsKey{kind: vs.Kind, addr: vs.Addr, port: vs.Port.V, fwmark: vs.Fwmark, group: vs.Group, proto: vs.Protocol.V}
		if vs.Kind == VSAddr && !vs.Port.Set && vs.PersistenceTimeout.V == 0 {
			d.errorf(vs.Pos, name, ErrMissing, "the port may only be omitted for a persistent service (persistence_timeout)")
		}
		c.validateFamilies(d, vs, name)
		if vs.Kind == VSFwmark {
			k.proto = ""
		}
		if first, dup := seen[k]; dup {
			d.errorf(vs.Pos, name, ErrDuplicate, "also defined at %s", first)
		} else {
			seen[k] = vs.Pos
		}
		if vs.Kind == VSGroup && c.VirtualServerGroup(vs.Group) == nil {
			d.errorf(vs.Pos, name, ErrReference, "no virtual_server_group named %q", vs.Group)
		}
		if vs.Hysteresis.Set && vs.Hysteresis.V >= vs.Quorum.V {
			d.warnf(vs.Hysteresis.Pos, name+": hysteresis", "hysteresis %d is not below quorum %d: the quorum can never be lost", vs.Hysteresis.V, vs.Quorum.V)
		}
		rsSeen := map[string]Pos{}
		for _, rs := range vs.RealServers {
			rk := fmt.Sprintf("%s/%d", rs.Addr, rs.Port.V)
			if first, dup := rsSeen[rk]; dup {
				d.errorf(rs.Pos, name+": real_server", ErrDuplicate, "%s port %d also defined at %s", rs.Addr, rs.Port.V, first)
			} else {
				rsSeen[rk] = rs.Pos
			}
			if len(rs.Checkers) == 0 {
				d.warnf(rs.Pos, name+": real_server", "no health checker: the real server is always considered up")
			}
			for _, ck := range rs.Checkers {
				if ck.Type == CheckFile && c.TrackFile(ck.TrackFile.V) == nil {
					d.errorf(ck.TrackFile.Pos, name+": FILE_CHECK: track_file", ErrReference, "no track_file named %q", ck.TrackFile.V)
				}
			}
		}
	}
}

func vsName(vs *VirtualServer) string {
	switch vs.Kind {
	case VSFwmark:
		return fmt.Sprintf("virtual_server fwmark %d", vs.Fwmark)
	case VSGroup:
		return "virtual_server group " + vs.Group
	}
	if !vs.Port.Set {
		return fmt.Sprintf("virtual_server %s", vs.Addr)
	}
	return fmt.Sprintf("virtual_server %s %d", vs.Addr, vs.Port.V)
}

// validateFamilies checks keepalived's address family rules: real and sorry
// servers that are not tunnelled must have the virtual server's family; a
// virtual_server_group mixing families needs tunnelled real servers and
// explicit fwmark families.
func (c *Config) validateFamilies(d *diag, vs *VirtualServer, name string) {
	fams := map[string]bool{}
	fwNoFamily := false
	switch vs.Kind {
	case VSAddr:
		fams[family(vs.Addr)] = true
	case VSFwmark:
		if vs.Family != "" {
			fams[vs.Family] = true
		} else if vs.IPFamily.Set {
			fams[vs.IPFamily.V] = true
		}
	case VSGroup:
		g := c.VirtualServerGroup(vs.Group)
		if g == nil {
			return
		}
		for _, e := range g.Entries {
			switch {
			case e.Addr.IsValid():
				fams[family(e.Addr)] = true
			case e.Family != "":
				fams[e.Family] = true
			default:
				fwNoFamily = true
			}
		}
		if len(fams) > 1 && fwNoFamily {
			d.errorf(vs.Pos, name, ErrConflict, "virtual_server_group %s mixes IPv4 and IPv6 and has fwmarks without inet/inet6", g.Name)
			return
		}
	}
	check := func(p Pos, what string, a netip.Addr, method LBKind) {
		if method == LBTUN || len(fams) == 0 {
			return
		}
		if len(fams) > 1 {
			// keepalived 2.2.7 loads this silently; IPVS cannot forward it.
			d.warnf(p, name+": "+what, "%s should use TUN forwarding: the virtual server group mixes address families", a)
			return
		}
		if !fams[family(a)] {
			d.errorf(p, name+": "+what, ErrConflict, "%s is not of the virtual server's address family (only TUN forwarding may differ)", a)
		}
	}
	for _, rs := range vs.RealServers {
		check(rs.Pos, "real_server", rs.Addr, rs.LVSMethod.V)
	}
	if ss := vs.SorryServer; ss != nil {
		m := vs.SorryServerLVSMethod.V
		if !vs.SorryServerLVSMethod.Set {
			m = vs.LBKind.V
		}
		check(ss.Pos, "sorry_server", ss.Addr, m)
	}
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "inet"
	}
	return "inet6"
}
