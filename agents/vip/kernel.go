package vip

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// Forever is the kernel's "infinite" address lifetime (seconds).
const Forever uint32 = 0xffffffff

// Kernel address flags (IFA_F_*) the agent looks at.
const (
	FlagNoDAD     = 0x02
	FlagDADFailed = 0x08
	FlagDeprecate = 0x20
	FlagTentative = 0x40
	// FlagNoPrefixRoute is IFA_F_NOPREFIXROUTE (no route for the prefix).
	FlagNoPrefixRoute = 0x200
)

// Sentinel errors returned by AddrLinker implementations.
var (
	ErrLinkNotFound = errors.New("network device not found")
	ErrAddrNotFound = errors.New("address not assigned")
)

// Link is the subset of a network device the agents need.
type Link struct {
	Name         string
	Index        int
	Up           bool // administratively up (IFF_UP)
	Loopback     bool
	HardwareAddr net.HardwareAddr
}

// Addr is one interface address.
type Addr struct {
	Prefix       netip.Prefix // address and prefix length (address not masked)
	Label        string       // IPv4 only; "" lets the kernel use the device name
	Broadcast    netip.Addr   // IPv4 only; invalid = none
	PreferredLft uint32       // seconds; Forever for infinite
	ValidLft     uint32       // seconds; Forever for infinite
	Flags        int          // IFA_F_* flags (read: as reported; write: NODAD and NOPREFIXROUTE honoured)
}

// AddrLinker is the agent's view of rtnetlink. Implementations must be safe
// for concurrent use. Family is 4, 6 or 0 (both).
type AddrLinker interface {
	// LinkByName returns the device, or an error wrapping ErrLinkNotFound.
	LinkByName(name string) (Link, error)
	// Links returns every device.
	Links() ([]Link, error)
	// LinkSetUp sets the device administratively up.
	LinkSetUp(link Link) error
	// AddrList returns the device's addresses of the family.
	AddrList(link Link, family int) ([]Addr, error)
	// AddrReplace adds the address or updates it in place (idempotent).
	AddrReplace(link Link, a Addr) error
	// AddrDel removes the address; an absent address yields an error
	// wrapping ErrAddrNotFound.
	AddrDel(link Link, a Addr) error
}

// Neighbour sends address announcements and duplicate-address probes on a
// link. Implementations must be safe for concurrent use.
type Neighbour interface {
	// Announce sends one announcement for ip: for IPv4 a gratuitous ARP
	// request followed by a gratuitous ARP reply (sender = target = ip,
	// broadcast), for IPv6 an unsolicited Neighbour Advertisement to
	// ff02::1 with the override flag.
	Announce(ctx context.Context, link Link, ip netip.Addr) error
	// Probe sends an RFC 5227 ARP probe for the IPv4 address ip and listens
	// for timeout; it returns the hardware address of another host that
	// claims ip, or nil if none answered.
	Probe(ctx context.Context, link Link, ip netip.Addr, timeout time.Duration) (net.HardwareAddr, error)
}
