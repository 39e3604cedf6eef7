package packet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// EtherTypes used by VRRP and GARP.
const (
	EtherTypeIPv4 = 0x0800
	EtherTypeARP  = 0x0806
	EtherTypeIPv6 = 0x86dd
)

// MAC is an Ethernet address (convert a net.HardwareAddr h with
// MAC(h) after checking len(h) == 6).
type MAC [6]byte

func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// BroadcastMAC is the Ethernet broadcast address.
var BroadcastMAC = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// VirtualMAC returns the RFC virtual router MAC: 00:00:5e:00:01:VRID for
// IPv4, 00:00:5e:00:02:VRID for IPv6 (keepalived use_vmac).
func VirtualMAC(ipv6 bool, vrid uint8) MAC {
	if ipv6 {
		return MAC{0x00, 0x00, 0x5e, 0x00, 0x02, vrid}
	}
	return MAC{0x00, 0x00, 0x5e, 0x00, 0x01, vrid}
}

// MulticastMAC returns the Ethernet address of an IP multicast group
// (01:00:5e + low 23 bits for IPv4, 33:33 + low 32 bits for IPv6); ok is
// false if ip is not multicast.
func MulticastMAC(ip netip.Addr) (m MAC, ok bool) {
	if !ip.IsMulticast() {
		return m, false
	}
	b := ip.AsSlice()
	if ip.Is4() {
		return MAC{0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]}, true
	}
	return MAC{0x33, 0x33, b[12], b[13], b[14], b[15]}, true
}

// EthernetFrame returns an Ethernet II frame around payload.
func EthernetFrame(dst, src MAC, etherType uint16, payload []byte) []byte {
	b := make([]byte, 0, 14+len(payload))
	b = append(b, dst[:]...)
	b = append(b, src[:]...)
	b = binary.BigEndian.AppendUint16(b, etherType)
	return append(b, payload...)
}

// GARPFrame returns keepalived's gratuitous ARP for vip: an ARP request
// broadcast from mac with sender = target = vip and target hardware address
// ff:ff:ff:ff:ff:ff (golden vector #2). It returns nil if vip is not IPv4.
func GARPFrame(mac MAC, vip netip.Addr) []byte {
	if !vip.Is4() {
		return nil
	}
	arp := make([]byte, 0, 28)
	arp = append(arp, 0, 1, 0x08, 0x00, 6, 4, 0, 1) // Ethernet, IPv4, request
	arp = append(arp, mac[:]...)
	arp = append(arp, vip.AsSlice()...)
	arp = append(arp, BroadcastMAC[:]...)
	arp = append(arp, vip.AsSlice()...)
	return EthernetFrame(BroadcastMAC, mac, EtherTypeARP, arp)
}

// AllNodesIPv6 is ff02::1, the destination of unsolicited neighbour
// advertisements.
var AllNodesIPv6 = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 0x01})

// UnsolicitedNAFrame returns keepalived's unsolicited neighbour
// advertisement for an IPv6 VIP (the IPv6 counterpart of GARPFrame), as
// captured from keepalived 2.2.7: Ethernet 33:33:00:00:00:01 from mac,
// IPv6 from the VIP itself to ff02::1 with hop limit 255, ICMPv6 type 136
// with only the Override flag, target = VIP, and a target link-layer
// address option carrying mac. It returns nil if vip is not IPv6.
func UnsolicitedNAFrame(mac MAC, vip netip.Addr) []byte {
	if !vip.Is6() || vip.Is4In6() {
		return nil
	}
	icmp := make([]byte, 0, 32)
	icmp = append(icmp, 136, 0, 0, 0)  // neighbour advertisement, checksum below
	icmp = append(icmp, 0x20, 0, 0, 0) // Override
	icmp = append(icmp, vip.AsSlice()...)
	icmp = append(icmp, 2, 1) // target link-layer address, 8 bytes
	icmp = append(icmp, mac[:]...)
	var s uint32
	s = sum16(s, vip.AsSlice())
	s = sum16(s, AllNodesIPv6.AsSlice())
	s += uint32(len(icmp)) + 58 // upper-layer length, next header ICMPv6
	binary.BigEndian.PutUint16(icmp[2:4], fold(sum16(s, icmp)))

	ip := make([]byte, IPv6HeaderLen, IPv6HeaderLen+len(icmp))
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:6], uint16(len(icmp)))
	ip[6] = 58
	ip[7] = 255
	copy(ip[8:24], vip.AsSlice())
	copy(ip[24:40], AllNodesIPv6.AsSlice())
	ip = append(ip, icmp...)
	dst, _ := MulticastMAC(AllNodesIPv6)
	return EthernetFrame(dst, mac, EtherTypeIPv6, ip)
}
