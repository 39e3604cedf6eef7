package vip

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netns"
)

const (
	etherTypeARP  = 0x0806
	etherTypeIPv6 = 0x86dd
)

// ipv6AllNodes is ff02::1 and its multicast MAC 33:33:00:00:00:01.
var (
	ipv6AllNodes    = netip.MustParseAddr("ff02::1")
	ipv6AllNodesMAC = net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}
)

// RawNeighbour implements Neighbour with AF_PACKET sockets (mdlayher/packet)
// and ARP packets from mdlayher/arp; IPv6 advertisements are built by hand.
// It needs CAP_NET_RAW. Each call opens and closes its own socket, so a
// RawNeighbour is safe for concurrent use.
type RawNeighbour struct {
	ns netns.NsHandle // namespace the sockets are opened in; None = caller's
}

// NewRawNeighbour returns a RawNeighbour for the caller's namespace.
func NewRawNeighbour() *RawNeighbour { return &RawNeighbour{ns: netns.None()} }

// NewRawNeighbourAt returns a RawNeighbour that opens its sockets in ns.
// The caller keeps ownership of ns and must keep it open while in use.
func NewRawNeighbourAt(ns netns.NsHandle) *RawNeighbour { return &RawNeighbour{ns: ns} }

// InNetns runs fn on a locked OS thread switched into ns (if ns is valid)
// and switches back. Sockets created by fn stay in ns. If switching back
// fails the thread is left locked so the runtime discards it.
func InNetns(ns netns.NsHandle, fn func() error) error {
	if !ns.IsOpen() {
		return fn()
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("get current netns: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns: %w", err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		return errors.Join(ferr, fmt.Errorf("restore netns: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}

func (r *RawNeighbour) listen(link Link, proto int) (*packet.Conn, error) {
	ifi := &net.Interface{Index: link.Index, Name: link.Name, HardwareAddr: link.HardwareAddr}
	var c *packet.Conn
	err := InNetns(r.ns, func() error {
		var err error
		c, err = packet.Listen(ifi, packet.Raw, proto, nil)
		return err
	})
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("open packet socket on %s (needs CAP_NET_RAW): %w", link.Name, err)
		}
		return nil, fmt.Errorf("open packet socket on %s: %w", link.Name, err)
	}
	return c, nil
}

func arpFrame(op arp.Operation, src net.HardwareAddr, sip netip.Addr, tha net.HardwareAddr, tip netip.Addr, dst net.HardwareAddr) ([]byte, error) {
	p, err := arp.NewPacket(op, src, sip, tha, tip)
	if err != nil {
		return nil, fmt.Errorf("build ARP packet: %w", err)
	}
	pb, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("marshal ARP packet: %w", err)
	}
	f := &ethernet.Frame{Destination: dst, Source: src, EtherType: ethernet.EtherTypeARP, Payload: pb}
	return f.MarshalBinary()
}

// GratuitousARP returns the two Ethernet frames of one announcement: an ARP
// request and an ARP reply, both broadcast with sender = target = ip.
func GratuitousARP(mac net.HardwareAddr, ip netip.Addr) ([][]byte, error) {
	var out [][]byte
	for _, op := range []arp.Operation{arp.OperationRequest, arp.OperationReply} {
		f, err := arpFrame(op, mac, ip, ethernet.Broadcast, ip, ethernet.Broadcast)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// UnsolicitedNA returns the Ethernet frame of an unsolicited Neighbour
// Advertisement (RFC 4861 §7.2.6) for ip: from ip to ff02::1, hop limit 255,
// override flag set, with a target link-layer address option.
func UnsolicitedNA(mac net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	if !ip.Is6() || ip.Is4In6() {
		return nil, fmt.Errorf("unsolicited NA needs an IPv6 address, got %s", ip)
	}
	if len(mac) != 6 {
		return nil, fmt.Errorf("unsolicited NA needs a 6-byte MAC, got %q", mac)
	}
	// ICMPv6: type, code, checksum, flags(4), target(16), option(8).
	icmp := make([]byte, 32)
	icmp[0] = 136 // Neighbor Advertisement
	binary.BigEndian.PutUint32(icmp[4:8], 0x20000000)
	t := ip.As16()
	copy(icmp[8:24], t[:])
	icmp[24] = 2 // target link-layer address
	icmp[25] = 1 // length in units of 8 bytes
	copy(icmp[26:32], mac)

	src, dst := ip.As16(), ipv6AllNodes.As16()
	binary.BigEndian.PutUint16(icmp[2:4], icmpv6Checksum(src, dst, icmp))

	ip6 := make([]byte, 40)
	ip6[0] = 0x60
	binary.BigEndian.PutUint16(ip6[4:6], uint16(len(icmp)))
	ip6[6] = 58  // ICMPv6
	ip6[7] = 255 // hop limit (RFC 4861 requires 255)
	copy(ip6[8:24], src[:])
	copy(ip6[24:40], dst[:])

	f := &ethernet.Frame{Destination: ipv6AllNodesMAC, Source: mac, EtherType: ethernet.EtherTypeIPv6, Payload: append(ip6, icmp...)}
	return f.MarshalBinary()
}

func icmpv6Checksum(src, dst [16]byte, payload []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(src[:])
	add(dst[:])
	var l [8]byte
	binary.BigEndian.PutUint32(l[0:4], uint32(len(payload)))
	l[7] = 58
	add(l[:])
	add(payload)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// Announce implements Neighbour.
func (r *RawNeighbour) Announce(ctx context.Context, link Link, ip netip.Addr) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(link.HardwareAddr) != 6 {
		return fmt.Errorf("announce %s on %s: device has no Ethernet address", ip, link.Name)
	}
	var (
		frames [][]byte
		dst    net.HardwareAddr
		proto  int
		err    error
	)
	if ip.Is4() {
		frames, err = GratuitousARP(link.HardwareAddr, ip)
		dst, proto = ethernet.Broadcast, etherTypeARP
	} else {
		var f []byte
		f, err = UnsolicitedNA(link.HardwareAddr, ip)
		frames, dst, proto = [][]byte{f}, ipv6AllNodesMAC, etherTypeIPv6
	}
	if err != nil {
		return fmt.Errorf("announce %s on %s: %w", ip, link.Name, err)
	}
	c, err := r.listen(link, proto)
	if err != nil {
		return fmt.Errorf("announce %s: %w", ip, err)
	}
	defer c.Close()
	for _, f := range frames {
		if _, err := c.WriteTo(f, &packet.Addr{HardwareAddr: dst}); err != nil {
			return fmt.Errorf("announce %s on %s: send: %w", ip, link.Name, err)
		}
	}
	return nil
}

// Probe implements Neighbour.
func (r *RawNeighbour) Probe(ctx context.Context, link Link, ip netip.Addr, timeout time.Duration) (net.HardwareAddr, error) {
	if !ip.Is4() {
		return nil, fmt.Errorf("ARP probe for %s: not an IPv4 address", ip)
	}
	if len(link.HardwareAddr) != 6 {
		return nil, fmt.Errorf("ARP probe for %s on %s: device has no Ethernet address", ip, link.Name)
	}
	c, err := r.listen(link, etherTypeARP)
	if err != nil {
		return nil, fmt.Errorf("ARP probe for %s: %w", ip, err)
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.SetReadDeadline(deadline); err != nil {
		return nil, fmt.Errorf("ARP probe for %s: %w", ip, err)
	}
	// RFC 5227 probe: sender IP 0.0.0.0, target MAC zero, target IP ip.
	f, err := arpFrame(arp.OperationRequest, link.HardwareAddr, netip.IPv4Unspecified(),
		net.HardwareAddr{0, 0, 0, 0, 0, 0}, ip, ethernet.Broadcast)
	if err != nil {
		return nil, fmt.Errorf("ARP probe for %s: %w", ip, err)
	}
	if _, err := c.WriteTo(f, &packet.Addr{HardwareAddr: ethernet.Broadcast}); err != nil {
		return nil, fmt.Errorf("ARP probe for %s on %s: send: %w", ip, link.Name, err)
	}
	buf := make([]byte, 1514)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, nil
			}
			return nil, fmt.Errorf("ARP probe for %s on %s: read: %w", ip, link.Name, err)
		}
		if mac := Conflict(buf[:n], link.HardwareAddr, ip); mac != nil {
			return mac, nil
		}
	}
}

// Conflict reports the sender MAC if frame is an ARP packet from another
// host (sender MAC != own) claiming ip as its sender address; else nil.
func Conflict(frame []byte, own net.HardwareAddr, ip netip.Addr) net.HardwareAddr {
	var f ethernet.Frame
	if err := f.UnmarshalBinary(frame); err != nil || f.EtherType != ethernet.EtherTypeARP {
		return nil
	}
	var p arp.Packet
	if err := p.UnmarshalBinary(f.Payload); err != nil {
		return nil
	}
	if p.SenderIP != ip || bytesEqual(p.SenderHardwareAddr, own) {
		return nil
	}
	return p.SenderHardwareAddr
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
