package heartbeat

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Transport summarises the ha.cf media for gossip membership, which talks
// unicast UDP/TCP on one port and joins members by address.
type Transport struct {
	// Interfaces are the devices of the UDP media, in file order, without
	// duplicates: bind gossip to an address of one of them.
	Interfaces []string
	// Port is the gossip port: the port of the first UDP medium.
	Port int
	// Peers are the ucast/ucast6 peer addresses (join seeds; the line naming
	// the local node is harmless).
	Peers []string
	// Multicast lists the mcast/mcast6 groups, which gossip does not use.
	Multicast []string
	// Serial lists serial devices, which gossip cannot use.
	Serial []string
}

// MapTransport maps the ha.cf media to a gossip transport and explains the
// mapping, one line per medium.
func MapTransport(cf *HACF) (Transport, string, []Warning) {
	var (
		tr    Transport
		b     strings.Builder
		warns []Warning
		ports []int
	)
	if cf == nil {
		return tr, "", nil
	}
	for _, m := range cf.Media {
		if m.Kind == "serial" {
			tr.Serial = append(tr.Serial, m.Dev)
			fmt.Fprintf(&b, "serial %s (%d baud) → not supported: use a second network path\n", m.Dev, m.Baud)
			continue
		}
		if !slices.Contains(tr.Interfaces, m.Dev) {
			tr.Interfaces = append(tr.Interfaces, m.Dev)
		}
		if tr.Port == 0 {
			tr.Port = m.Port
		}
		if !slices.Contains(ports, m.Port) {
			ports = append(ports, m.Port)
		}
		switch m.Kind {
		case "bcast":
			fmt.Fprintf(&b, "bcast %s port %d → gossip on %s (no broadcast: members are joined by address)\n", m.Dev, m.Port, m.Dev)
		case "ucast", "ucast6":
			if !slices.Contains(tr.Peers, m.Addr) {
				tr.Peers = append(tr.Peers, m.Addr)
			}
			fmt.Fprintf(&b, "%s %s %s port %d → join peer %s\n", m.Kind, m.Dev, m.Addr, m.Port, m.Addr)
		case "mcast", "mcast6":
			tr.Multicast = append(tr.Multicast, m.Addr)
			fmt.Fprintf(&b, "%s %s %s port %d → gossip on %s (no multicast: members are joined by address)\n", m.Kind, m.Dev, m.Addr, m.Port, m.Dev)
		}
	}
	if len(ports) > 1 {
		var ps []string
		for _, p := range ports {
			ps = append(ps, strconv.Itoa(p))
		}
		warns = append(warns, Warning{cf.File, 0, fmt.Sprintf("media use ports %s: gossip uses a single port, %d", strings.Join(ps, ", "), tr.Port)})
	}
	if tr.Port != 0 {
		fmt.Fprintf(&b, "gossip port %d on %s\n", tr.Port, strings.Join(tr.Interfaces, ", "))
	} else {
		warns = append(warns, Warning{cf.File, 0, "no UDP medium: configure a network path for gossip"})
	}
	return tr, b.String(), warns
}
