// Package packet is the VRRP wire-format codec: VRRPv2 (RFC 3768, IPv4) and
// VRRPv3 (RFC 5798, IPv4 and IPv6) advertisements, keepalived's VRRPv2
// authentication (PASS and IPsec-AH with HMAC-MD5-96) for interoperability,
// the IPv4/IPv6 headers keepalived writes itself (IP_HDRINCL), checksums with
// the VRRPv3 pseudo-headers, Ethernet/GARP helpers, and keepalived's receive
// checks with per-reason drop counters (see Checker).
//
// The package is pure: it performs no I/O, owns no goroutines and never
// panics on hostile input. All functions are safe for concurrent use; a
// Checker is owned by one goroutine except for its Stats, which may be read
// concurrently.
package packet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Protocol numbers used by VRRP.
const (
	ProtocolVRRP = 112 // IP protocol / IPv6 next header of VRRP
	ProtocolAH   = 51  // IPsec Authentication Header (keepalived auth_type AH)
)

// TypeAdvertisement is the only VRRP packet type.
const TypeAdvertisement = 1

// Priority values with a special meaning.
const (
	PriorityStop  = 0   // the master is leaving: backups take over after the skew time
	PriorityOwner = 255 // the address owner
)

// Multicast groups VRRP advertisements are sent to.
var (
	GroupIPv4 = netip.AddrFrom4([4]byte{224, 0, 0, 18})
	GroupIPv6 = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 0x12})
)

// AuthType is the VRRPv2 authentication type (byte 4 of a v2 advert).
type AuthType uint8

// VRRPv2 authentication types. RFC 3768 knows only AuthNone; PASS and AH
// come from RFC 2338 and are what keepalived implements.
const (
	AuthNone AuthType = 0
	AuthPass AuthType = 1
	AuthAH   AuthType = 2
)

func (a AuthType) String() string {
	switch a {
	case AuthNone:
		return "none"
	case AuthPass:
		return "PASS"
	case AuthAH:
		return "AH"
	}
	return fmt.Sprintf("auth(%d)", uint8(a))
}

// Advert is one decoded VRRP advertisement (the VRRP message only, without
// IP or AH headers).
type Advert struct {
	Version  uint8 // 2 or 3
	Type     uint8 // TypeAdvertisement
	VRID     uint8
	Priority uint8
	// AuthType is the VRRPv2 authentication type; always zero for v3.
	AuthType AuthType
	// Interval is the advertisement interval in the version's unit:
	// whole seconds for v2 (8 bits), centiseconds for v3 (12 bits).
	Interval uint16
	// Reserved holds the 4 reserved bits of a v3 advert (sent as zero).
	Reserved uint8
	// Checksum is the checksum as decoded. Encoders always compute it.
	Checksum uint16
	// Addrs are the virtual addresses carried (all of the packet's family).
	Addrs []netip.Addr
	// AuthData is the v2 8-byte authentication trailer (PASS password
	// NUL-padded, or zero).
	AuthData [8]byte
}

// addrLen returns the size of one address for the family of the advert.
func addrLen(ipv6 bool) int {
	if ipv6 {
		return 16
	}
	return 4
}

// AdvertLen returns the encoded length of a advert with n addresses.
func AdvertLen(version uint8, ipv6 bool, n int) int {
	l := 8 + n*addrLen(ipv6)
	if version == 2 {
		l += 8
	}
	return l
}

// ParseAdvert decodes a VRRP message. ipv6 selects the address size. The
// checksum is recorded, not verified (see VerifyChecksum). Errors wrap the
// package's sentinel errors (ErrShort, ErrLength, ErrVersion, ErrFamily).
func ParseAdvert(b []byte, ipv6 bool) (Advert, error) {
	var a Advert
	if len(b) < 8 {
		return a, fmt.Errorf("vrrp message of %d bytes: %w", len(b), ErrShort)
	}
	a.Version = b[0] >> 4
	a.Type = b[0] & 0x0f
	a.VRID = b[1]
	a.Priority = b[2]
	n := int(b[3])
	a.Checksum = binary.BigEndian.Uint16(b[6:8])
	switch a.Version {
	case 2:
		if ipv6 {
			return a, fmt.Errorf("vrrp version 2 over IPv6: %w", ErrFamily)
		}
		a.AuthType = AuthType(b[4])
		a.Interval = uint16(b[5])
	case 3:
		v := binary.BigEndian.Uint16(b[4:6])
		a.Reserved = uint8(v >> 12)
		a.Interval = v & 0x0fff
	default:
		return a, fmt.Errorf("vrrp version %d: %w", a.Version, ErrVersion)
	}
	want := AdvertLen(a.Version, ipv6, n)
	if len(b) != want {
		return a, fmt.Errorf("vrrp v%d message with %d addresses is %d bytes, want %d: %w",
			a.Version, n, len(b), want, ErrLength)
	}
	al := addrLen(ipv6)
	a.Addrs = make([]netip.Addr, n)
	for i := range n {
		p := b[8+i*al : 8+(i+1)*al]
		if ipv6 {
			a.Addrs[i] = netip.AddrFrom16([16]byte(p))
		} else {
			a.Addrs[i] = netip.AddrFrom4([4]byte(p))
		}
	}
	if a.Version == 2 {
		copy(a.AuthData[:], b[8+n*al:])
	}
	return a, nil
}

// AppendAdvert appends the encoded advert to b, computing its checksum. For
// v3 the pseudo-header uses src and dst (the real destination: the group, or
// the unicast peer); v2 has no pseudo-header and ignores them.
func AppendAdvert(b []byte, a *Advert, src, dst netip.Addr) ([]byte, error) {
	ipv6 := src.Is6() && !src.Is4In6()
	if err := a.validate(ipv6); err != nil {
		return b, err
	}
	if a.Version == 3 && (!src.IsValid() || !dst.IsValid() || src.Is6() != dst.Is6()) {
		return b, fmt.Errorf("vrrp v3 pseudo-header needs source and destination of one family (got %v, %v): %w",
			src, dst, ErrFamily)
	}
	start := len(b)
	b = append(b, a.Version<<4|a.Type&0x0f, a.VRID, a.Priority, uint8(len(a.Addrs)))
	if a.Version == 2 {
		b = append(b, uint8(a.AuthType), uint8(a.Interval))
	} else {
		b = binary.BigEndian.AppendUint16(b, uint16(a.Reserved&0x0f)<<12|a.Interval&0x0fff)
	}
	b = append(b, 0, 0)
	for _, ad := range a.Addrs {
		b = append(b, ad.AsSlice()...)
	}
	if a.Version == 2 {
		b = append(b, a.AuthData[:]...)
	}
	msg := b[start:]
	binary.BigEndian.PutUint16(msg[6:8], advertChecksum(a.Version, msg, src, dst))
	return b, nil
}

func (a *Advert) validate(ipv6 bool) error {
	switch a.Version {
	case 2:
		if ipv6 {
			return fmt.Errorf("encode: vrrp version 2 over IPv6: %w", ErrFamily)
		}
		if a.Interval > 0xff {
			return fmt.Errorf("encode: v2 interval %d s exceeds 255: %w", a.Interval, ErrInterval)
		}
	case 3:
		if a.Interval > 0x0fff {
			return fmt.Errorf("encode: v3 interval %d cs exceeds 4095: %w", a.Interval, ErrInterval)
		}
		if a.AuthType != AuthNone {
			return fmt.Errorf("encode: v3 has no authentication (%v): %w", a.AuthType, ErrAuthType)
		}
	default:
		return fmt.Errorf("encode: vrrp version %d: %w", a.Version, ErrVersion)
	}
	if len(a.Addrs) > 255 {
		return fmt.Errorf("encode: %d addresses exceed 255: %w", len(a.Addrs), ErrAddrCount)
	}
	for i, ad := range a.Addrs {
		if !ad.IsValid() || (ad.Is4() == ipv6) {
			return fmt.Errorf("encode: address[%d] %v is not of the packet's family: %w", i, ad, ErrFamily)
		}
	}
	return nil
}

// advertChecksum computes the checksum of msg (whose checksum field must be
// zero) for the given version.
func advertChecksum(version uint8, msg []byte, src, dst netip.Addr) uint16 {
	if version == 2 {
		return Checksum(msg)
	}
	return pseudoChecksum(msg, src, dst)
}

// VerifyChecksum reports whether the checksum of the encoded VRRP message msg
// is correct for the given source and destination (used only by v3).
func VerifyChecksum(msg []byte, src, dst netip.Addr) bool {
	if len(msg) < 8 {
		return false
	}
	version := msg[0] >> 4
	if version == 3 && (!src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4()) {
		return false
	}
	// A correct message sums to zero including its own checksum field.
	if version == 2 {
		return Checksum(msg) == 0
	}
	return pseudoChecksum(msg, src, dst) == 0
}
