// Package ipvs is gocrm's built-in IPVS virtual service agent
// (ocf:gocrm:lvs): it reconciles one kernel IPVS virtual service (TCP, UDP,
// SCTP or firewall-mark; any kernel scheduler; persistence; real servers
// with NAT, DR or TUN forwarding and weights) to its configuration, never
// touching other services, and optionally runs keepalived-style health
// checks (package check) that take failed real servers out and put them
// back. List renders the kernel table exactly like `ipvsadm -Ln` (also the
// --stats and --rate variants).
//
// Kernel access goes through the IPVS interface: Kernel (moby/ipvs plus a
// generic-netlink probe, because moby/ipvs silently does nothing on a
// kernel without IP_VS) in production, Fake in tests.
package ipvs

import (
	"errors"
	"fmt"
	"net/netip"
)

// Protocol numbers.
const (
	ProtoTCP  = 6
	ProtoUDP  = 17
	ProtoSCTP = 132
)

// Service flags (IP_VS_SVC_F_*).
const (
	FlagPersistent = 0x0001
	FlagHashed     = 0x0002
	FlagOnePacket  = 0x0004
	FlagSched1     = 0x0008
	FlagSched2     = 0x0010
	FlagSched3     = 0x0020
)

// Forward is a real server's forwarding method (IP_VS_CONN_F_FWD_MASK bits).
type Forward uint32

// Forwarding methods.
const (
	ForwardNAT   Forward = 0 // masquerading
	ForwardLocal Forward = 1 // local node (set by the kernel for local addresses)
	ForwardTUN   Forward = 2 // IP-in-IP tunnelling
	ForwardDR    Forward = 3 // direct routing (gatewaying)
)

// String returns ipvsadm's name for the method (Masq, Local, Tunnel, Route).
func (f Forward) String() string {
	switch f & 7 {
	case ForwardNAT:
		return "Masq"
	case ForwardLocal:
		return "Local"
	case ForwardTUN:
		return "Tunnel"
	case ForwardDR:
		return "Route"
	}
	return fmt.Sprintf("fwd%d", uint32(f))
}

// Sentinel errors of IPVS implementations.
var (
	ErrNoService     = errors.New("no such IPVS service")
	ErrNoDestination = errors.New("no such IPVS destination")
	ErrExists        = errors.New("IPVS object already exists")
)

// Key identifies a virtual service: (family, protocol, address, port) or
// (family, fwmark).
type Key struct {
	Family   int // 4 or 6
	Protocol int // ProtoTCP, ProtoUDP, ProtoSCTP; 0 for fwmark services
	Addr     netip.Addr
	Port     uint16
	FWMark   uint32
}

// String renders the key like ipvsadm's service column ("TCP  10.0.0.1:80").
func (k Key) String() string {
	if k.FWMark != 0 {
		if k.Family == 6 {
			return fmt.Sprintf("FWM  %d IPv6", k.FWMark)
		}
		return fmt.Sprintf("FWM  %d", k.FWMark)
	}
	return fmt.Sprintf("%-4s %s", ProtoName(k.Protocol), AddrPort(k.Addr, k.Port))
}

// ProtoName returns TCP, UDP, SCTP or the number.
func ProtoName(p int) string {
	switch p {
	case ProtoTCP:
		return "TCP"
	case ProtoUDP:
		return "UDP"
	case ProtoSCTP:
		return "SCTP"
	}
	return fmt.Sprint(p)
}

// AddrPort renders "10.0.0.1:80" or "[fd00::1]:80".
func AddrPort(a netip.Addr, port uint16) string {
	if a.Is6() {
		return fmt.Sprintf("[%s]:%d", a, port)
	}
	return fmt.Sprintf("%s:%d", a, port)
}

// Stats are IPVS counters and rate estimates.
type Stats struct {
	Conns, InPkts, OutPkts, InBytes, OutBytes uint64
	CPS, InPPS, OutPPS, InBPS, OutBPS         uint64
}

// Service is a virtual service.
type Service struct {
	Key
	Scheduler string
	Flags     uint32 // FlagPersistent, FlagOnePacket, FlagSched*; FlagHashed is masked on read
	Timeout   uint32 // persistence timeout, seconds
	// Netmask is the persistence granularity: for IPv4 the mask in network
	// byte order packed big-endian (0xffffff00 = /24), for IPv6 the prefix length.
	Netmask uint32
	PEName  string
	Stats   Stats
}

// Destination is a real server of a service.
type Destination struct {
	Addr          netip.Addr
	Port          uint16
	Weight        int
	Forward       Forward
	UThreshold    uint32
	LThreshold    uint32
	ActiveConns   uint32
	InactiveConns uint32
	PersistConns  uint32
	Stats         Stats
}

// DestKey identifies a destination within a service.
type DestKey struct {
	Addr netip.Addr
	Port uint16
}

// Key returns the destination's identity.
func (d Destination) Key() DestKey { return DestKey{d.Addr, d.Port} }

// Info is the kernel's IPVS version and connection table size.
type Info struct {
	Version  uint32 // e.g. 0x010201 for 1.2.1
	ConnSize uint32
}

// VersionString renders "1.2.1".
func (i Info) VersionString() string {
	return fmt.Sprintf("%d.%d.%d", i.Version>>16&0xff, i.Version>>8&0xff, i.Version&0xff)
}

// IPVS is the agent's view of the kernel IPVS table. Implementations must
// be safe for concurrent use. Lookups and mutations identify services by
// Key and destinations by DestKey; errors wrap ErrNoService,
// ErrNoDestination or ErrExists where they apply.
type IPVS interface {
	Info() (Info, error)
	Services() ([]Service, error)
	NewService(s Service) error
	UpdateService(s Service) error
	DelService(k Key) error
	Destinations(k Key) ([]Destination, error)
	NewDestination(k Key, d Destination) error
	UpdateDestination(k Key, d Destination) error
	DelDestination(k Key, d DestKey) error
}
