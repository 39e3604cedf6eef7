package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// dumpRetries bounds retries of dumps interrupted by concurrent changes
// (netlink.ErrDumpInterrupted).
const dumpRetries = 5

// Netlink is the AddrLinker over vishvananda/netlink. It works in the
// network namespace it was opened for and never switches the calling
// thread's namespace. Safe for concurrent use (netlink.Handle serialises
// requests per socket).
type Netlink struct {
	h *netlink.Handle
}

// NewNetlink opens a handle in the caller's current network namespace.
func NewNetlink() (*Netlink, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open rtnetlink: %w", err)
	}
	return &Netlink{h: h}, nil
}

// NewNetlinkAt opens a handle in the network namespace ns.
func NewNetlinkAt(ns netns.NsHandle) (*Netlink, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open rtnetlink in netns: %w", err)
	}
	return &Netlink{h: h}, nil
}

// Close releases the netlink socket.
func (n *Netlink) Close() { n.h.Close() }

func toLink(l netlink.Link) Link {
	a := l.Attrs()
	return Link{
		Name:         a.Name,
		Index:        a.Index,
		Up:           a.Flags&net.FlagUp != 0,
		Loopback:     a.Flags&net.FlagLoopback != 0,
		HardwareAddr: a.HardwareAddr,
	}
}

func nlLink(l Link) netlink.Link {
	return &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: l.Name, Index: l.Index}}
}

// LinkByName implements AddrLinker.
func (n *Netlink) LinkByName(name string) (Link, error) {
	l, err := n.h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return Link{}, fmt.Errorf("device %s: %w", name, ErrLinkNotFound)
		}
		return Link{}, fmt.Errorf("look up device %s: %w", name, err)
	}
	return toLink(l), nil
}

// Links implements AddrLinker.
func (n *Netlink) Links() ([]Link, error) {
	var (
		ls  []netlink.Link
		err error
	)
	for range dumpRetries {
		ls, err = n.h.LinkList()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	out := make([]Link, 0, len(ls))
	for _, l := range ls {
		out = append(out, toLink(l))
	}
	return out, nil
}

// LinkSetUp implements AddrLinker.
func (n *Netlink) LinkSetUp(l Link) error {
	if err := n.h.LinkSetUp(nlLink(l)); err != nil {
		return fmt.Errorf("set %s up: %w", l.Name, err)
	}
	return nil
}

func family(f int) int {
	switch f {
	case 4:
		return netlink.FAMILY_V4
	case 6:
		return netlink.FAMILY_V6
	}
	return netlink.FAMILY_ALL
}

// AddrList implements AddrLinker.
func (n *Netlink) AddrList(l Link, fam int) ([]Addr, error) {
	var (
		as  []netlink.Addr
		err error
	)
	for range dumpRetries {
		as, err = n.h.AddrList(nlLink(l), family(fam))
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", l.Name, err)
	}
	out := make([]Addr, 0, len(as))
	for _, a := range as {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		ones, _ := a.Mask.Size()
		x := Addr{
			Prefix:       netip.PrefixFrom(ip, ones),
			Label:        a.Label,
			PreferredLft: uint32(a.PreferedLft),
			ValidLft:     uint32(a.ValidLft),
			Flags:        a.Flags,
		}
		if b, ok := netip.AddrFromSlice(a.Broadcast); ok {
			x.Broadcast = b.Unmap()
		}
		out = append(out, x)
	}
	return out, nil
}

func toNl(a Addr) *netlink.Addr {
	ip := net.IP(a.Prefix.Addr().AsSlice())
	bits := 128
	if a.Prefix.Addr().Is4() {
		bits = 32
	}
	na := &netlink.Addr{
		IPNet: &net.IPNet{IP: ip, Mask: net.CIDRMask(a.Prefix.Bits(), bits)},
		Label: a.Label,
		Flags: a.Flags & (FlagNoDAD | FlagNoPrefixRoute),
	}
	if a.Prefix.Addr().Is4() {
		if a.Broadcast.IsValid() {
			na.Broadcast = net.IP(a.Broadcast.AsSlice())
		} else {
			na.Broadcast = net.IPv4zero // suppress netlink's automatic broadcast
		}
	}
	if a.ValidLft != Forever || a.PreferredLft != Forever {
		na.ValidLft = int(a.ValidLft)
		na.PreferedLft = int(a.PreferredLft)
	}
	return na
}

// AddrReplace implements AddrLinker.
func (n *Netlink) AddrReplace(l Link, a Addr) error {
	if err := n.h.AddrReplace(nlLink(l), toNl(a)); err != nil {
		return fmt.Errorf("add %s on %s: %w", a.Prefix, l.Name, err)
	}
	return nil
}

// AddrDel implements AddrLinker.
func (n *Netlink) AddrDel(l Link, a Addr) error {
	if err := n.h.AddrDel(nlLink(l), toNl(a)); err != nil {
		if errors.Is(err, syscall.EADDRNOTAVAIL) {
			return fmt.Errorf("delete %s from %s: %w", a.Prefix, l.Name, ErrAddrNotFound)
		}
		if errors.Is(err, syscall.ENODEV) {
			return fmt.Errorf("delete %s from %s: %w", a.Prefix, l.Name, ErrLinkNotFound)
		}
		return fmt.Errorf("delete %s from %s: %w", a.Prefix, l.Name, err)
	}
	return nil
}
