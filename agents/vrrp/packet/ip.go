package packet

import (
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // HMAC-MD5-96 is what keepalived's AH uses; interop only.
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Header sizes.
const (
	IPv4HeaderLen = 20
	IPv6HeaderLen = 40
	AHLen         = 24 // keepalived's AH header: 12 fixed bytes + 96-bit ICV
)

// DefaultTOS is the IPv4 TOS / IPv6 traffic class keepalived uses (network
// control).
const DefaultTOS = 0xc0

// AH is keepalived's IPsec Authentication Header (RFC 2402 layout).
type AH struct {
	NextHeader uint8  // 112
	PayloadLen uint8  // 4: (4+2)×4 = 24 bytes
	Reserved   uint16 // 0
	SPI        uint32 // the sender's IPv4 address
	Seq        uint32 // 1, 2, 3 … per advert
	ICV        [12]byte
}

// Packet is a VRRP advertisement with its IP header (and AH header with
// keepalived's auth_type AH).
type Packet struct {
	IPv6 bool
	// TOS is the IPv4 TOS or the IPv6 traffic class.
	TOS uint8
	// ID and FlagsFrag are IPv4 only.
	ID        uint16
	FlagsFrag uint16
	// FlowLabel is IPv6 only (20 bits).
	FlowLabel uint32
	// TTL is the IPv4 TTL or the IPv6 hop limit.
	TTL      uint8
	Src, Dst netip.Addr
	// Options are IPv4 header options as received (rare; re-encoded as is).
	Options []byte
	// HeaderChecksum is the IPv4 header checksum as decoded; encoding
	// always computes it.
	HeaderChecksum uint16
	// AH is set when the advert was carried in an AH header (IPv4 only).
	AH     *AH
	Advert Advert

	wire []byte // the decoded IP datagram (nil without an IP header)
	msg  []byte // the decoded VRRP message
}

// Message returns the VRRP message bytes the packet was decoded from (nil
// for packets built in memory).
func (p *Packet) Message() []byte { return p.msg }

// Decode decodes an IPv4 or IPv6 packet carrying a VRRP advert (directly or
// inside AH), selecting the family from the version nibble. It checks
// structure only; Checker applies the receive checks.
func Decode(b []byte) (*Packet, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty packet: %w", ErrShort)
	}
	switch b[0] >> 4 {
	case 4:
		return DecodeIPv4(b)
	case 6:
		return DecodeIPv6(b)
	}
	return nil, fmt.Errorf("IP version %d: %w", b[0]>>4, ErrIPHeader)
}

// DecodeIPv4 decodes an IPv4 datagram (as read from a raw socket with the
// header, or from a capture). Trailing bytes beyond the IP total length
// (Ethernet padding) are ignored; fragments are rejected.
func DecodeIPv4(b []byte) (*Packet, error) {
	if len(b) < IPv4HeaderLen {
		return nil, fmt.Errorf("IPv4 packet of %d bytes: %w", len(b), ErrShort)
	}
	if b[0]>>4 != 4 {
		return nil, fmt.Errorf("IP version %d, want 4: %w", b[0]>>4, ErrIPHeader)
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < IPv4HeaderLen || ihl > len(b) {
		return nil, fmt.Errorf("IPv4 header length %d of %d-byte packet: %w", ihl, len(b), ErrIPHeader)
	}
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if total < ihl || total > len(b) {
		return nil, fmt.Errorf("IPv4 total length %d, %d bytes present: %w", total, len(b), ErrTotalLength)
	}
	p := &Packet{
		TOS:            b[1],
		ID:             binary.BigEndian.Uint16(b[4:6]),
		FlagsFrag:      binary.BigEndian.Uint16(b[6:8]),
		TTL:            b[8],
		HeaderChecksum: binary.BigEndian.Uint16(b[10:12]),
		Src:            netip.AddrFrom4([4]byte(b[12:16])),
		Dst:            netip.AddrFrom4([4]byte(b[16:20])),
	}
	if p.FlagsFrag&0x3fff != 0 { // MF set or non-zero offset
		return nil, fmt.Errorf("IPv4 fragment (flags/offset 0x%04x): %w", p.FlagsFrag, ErrIPHeader)
	}
	if ihl > IPv4HeaderLen {
		p.Options = append([]byte(nil), b[IPv4HeaderLen:ihl]...)
	}
	payload := b[ihl:total]
	switch proto := b[9]; proto {
	case ProtocolVRRP:
	case ProtocolAH:
		if len(payload) < AHLen {
			return nil, fmt.Errorf("AH header of %d bytes: %w", len(payload), ErrShort)
		}
		ah := &AH{
			NextHeader: payload[0],
			PayloadLen: payload[1],
			Reserved:   binary.BigEndian.Uint16(payload[2:4]),
			SPI:        binary.BigEndian.Uint32(payload[4:8]),
			Seq:        binary.BigEndian.Uint32(payload[8:12]),
		}
		copy(ah.ICV[:], payload[12:AHLen])
		if ah.NextHeader != ProtocolVRRP || ah.PayloadLen != 4 {
			return nil, fmt.Errorf("AH next header %d, payload length %d (want 112, 4): %w",
				ah.NextHeader, ah.PayloadLen, ErrAHHeader)
		}
		p.AH = ah
		payload = payload[AHLen:]
	default:
		return nil, fmt.Errorf("IPv4 protocol %d: %w", proto, ErrProtocol)
	}
	a, err := ParseAdvert(payload, false)
	if err != nil {
		return nil, err
	}
	p.Advert = a
	p.wire = b[:total]
	p.msg = payload
	return p, nil
}

// DecodeIPv6 decodes an IPv6 packet whose next header is VRRP (no extension
// headers; keepalived sends none). Trailing bytes beyond the payload length
// are ignored.
func DecodeIPv6(b []byte) (*Packet, error) {
	if len(b) < IPv6HeaderLen {
		return nil, fmt.Errorf("IPv6 packet of %d bytes: %w", len(b), ErrShort)
	}
	vtf := binary.BigEndian.Uint32(b[0:4])
	if vtf>>28 != 6 {
		return nil, fmt.Errorf("IP version %d, want 6: %w", vtf>>28, ErrIPHeader)
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	if IPv6HeaderLen+plen > len(b) {
		return nil, fmt.Errorf("IPv6 payload length %d, %d bytes present: %w", plen, len(b)-IPv6HeaderLen, ErrTotalLength)
	}
	if nh := b[6]; nh != ProtocolVRRP {
		return nil, fmt.Errorf("IPv6 next header %d: %w", nh, ErrProtocol)
	}
	src := netip.AddrFrom16([16]byte(b[8:24]))
	dst := netip.AddrFrom16([16]byte(b[24:40]))
	p, err := DecodePayload(b[IPv6HeaderLen:IPv6HeaderLen+plen], src, dst, b[7], nil)
	if err != nil {
		return nil, err
	}
	p.TOS = uint8(vtf >> 20)
	p.FlowLabel = vtf & 0xfffff
	p.wire = b[:IPv6HeaderLen+plen]
	return p, nil
}

// DecodePayload builds a Packet from a VRRP message received without its IP
// header (an IPv6 raw socket, or an IPv4 socket that strips the header),
// with the addresses and TTL/hop limit taken from the socket's control
// message. fill, if not nil, may set further header fields.
func DecodePayload(msg []byte, src, dst netip.Addr, ttl uint8, fill func(*Packet)) (*Packet, error) {
	ipv6 := src.Is6() && !src.Is4In6()
	if !src.IsValid() || !dst.IsValid() || ipv6 != (dst.Is6() && !dst.Is4In6()) {
		return nil, fmt.Errorf("source %v and destination %v: %w", src, dst, ErrFamily)
	}
	a, err := ParseAdvert(msg, ipv6)
	if err != nil {
		return nil, err
	}
	p := &Packet{IPv6: ipv6, TTL: ttl, Src: src.Unmap(), Dst: dst.Unmap(), Advert: a, msg: msg}
	if fill != nil {
		fill(p)
	}
	return p, nil
}

// EncodeOptions control Encode.
type EncodeOptions struct {
	// AHKey is keepalived's auth_pass; when the packet has an AH header its
	// ICV is computed with it. Without a key the ICV in the packet is kept.
	AHKey []byte
}

// Encode encodes the packet with its IP header (as sent on a raw socket with
// IP_HDRINCL, or as the IPv6 header a capture shows), computing the VRRP
// checksum, the AH ICV (with opt.AHKey) and the IPv4 header checksum.
func Encode(p *Packet, opt EncodeOptions) ([]byte, error) {
	if p.IPv6 {
		return encodeIPv6(p)
	}
	return encodeIPv4(p, opt)
}

func encodeIPv4(p *Packet, opt EncodeOptions) ([]byte, error) {
	if !p.Src.Is4() || !p.Dst.Is4() {
		return nil, fmt.Errorf("encode IPv4: addresses %v, %v: %w", p.Src, p.Dst, ErrFamily)
	}
	if len(p.Options)%4 != 0 || len(p.Options) > 40 {
		return nil, fmt.Errorf("encode IPv4: %d bytes of options: %w", len(p.Options), ErrIPHeader)
	}
	ihl := IPv4HeaderLen + len(p.Options)
	proto := uint8(ProtocolVRRP)
	off := ihl
	if p.AH != nil {
		proto = ProtocolAH
		off += AHLen
	}
	b := make([]byte, off, off+AdvertLen(p.Advert.Version, false, len(p.Advert.Addrs)))
	b, err := AppendAdvert(b, &p.Advert, p.Src, p.Dst)
	if err != nil {
		return nil, err
	}
	if len(b) > 0xffff {
		return nil, fmt.Errorf("encode IPv4: %d bytes: %w", len(b), ErrTotalLength)
	}
	b[0] = 0x40 | uint8(ihl/4)
	b[1] = p.TOS
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:6], p.ID)
	binary.BigEndian.PutUint16(b[6:8], p.FlagsFrag)
	b[8] = p.TTL
	b[9] = proto
	copy(b[12:16], p.Src.AsSlice())
	copy(b[16:20], p.Dst.AsSlice())
	copy(b[IPv4HeaderLen:ihl], p.Options)
	if ah := p.AH; ah != nil {
		h := b[ihl : ihl+AHLen]
		h[0] = ah.NextHeader
		h[1] = ah.PayloadLen
		binary.BigEndian.PutUint16(h[2:4], ah.Reserved)
		binary.BigEndian.PutUint32(h[4:8], ah.SPI)
		binary.BigEndian.PutUint32(h[8:12], ah.Seq)
		if opt.AHKey != nil {
			icv := ComputeICV(b, opt.AHKey)
			copy(h[12:], icv[:])
		} else {
			copy(h[12:], ah.ICV[:])
		}
	}
	binary.BigEndian.PutUint16(b[10:12], Checksum(b[:ihl]))
	return b, nil
}

func encodeIPv6(p *Packet) ([]byte, error) {
	if !p.Src.Is6() || !p.Dst.Is6() || p.Src.Is4In6() || p.Dst.Is4In6() {
		return nil, fmt.Errorf("encode IPv6: addresses %v, %v: %w", p.Src, p.Dst, ErrFamily)
	}
	if p.AH != nil {
		return nil, fmt.Errorf("encode IPv6: keepalived has no AH over IPv6: %w", ErrAuthType)
	}
	b := make([]byte, IPv6HeaderLen, IPv6HeaderLen+AdvertLen(p.Advert.Version, true, len(p.Advert.Addrs)))
	b, err := AppendAdvert(b, &p.Advert, p.Src, p.Dst)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint32(b[0:4], 6<<28|uint32(p.TOS)<<20|p.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(b[4:6], uint16(len(b)-IPv6HeaderLen))
	b[6] = ProtocolVRRP
	b[7] = p.TTL
	copy(b[8:24], p.Src.AsSlice())
	copy(b[24:40], p.Dst.AsSlice())
	return b, nil
}

// AHKey returns keepalived's AH/PASS key for auth_pass: its first 8 bytes,
// NUL-padded to 8.
func AHKey(pass string) []byte {
	k := make([]byte, 8)
	copy(k, pass)
	return k
}

// ComputeICV computes keepalived's AH ICV (HMAC-MD5 truncated to 96 bits)
// over the IPv4 datagram pkt (IP header, AH header, VRRP message) with the
// mutable fields zeroed: TOS, flags/fragment offset, header checksum, the
// ICV itself, and the TTL when the destination is not multicast (keepalived
// zeroes it only in unicast mode). pkt is not modified. key is used as
// given; pass AHKey(auth_pass) for keepalived's key.
func ComputeICV(pkt []byte, key []byte) [12]byte {
	var icv [12]byte
	if len(pkt) < IPv4HeaderLen {
		return icv
	}
	ihl := int(pkt[0]&0x0f) * 4
	if ihl < IPv4HeaderLen || len(pkt) < ihl+AHLen {
		return icv
	}
	c := append([]byte(nil), pkt...)
	c[1] = 0
	c[6], c[7] = 0, 0
	c[10], c[11] = 0, 0
	if dst := netip.AddrFrom4([4]byte(c[16:20])); !dst.IsMulticast() {
		c[8] = 0
	}
	clear(c[ihl+12 : ihl+AHLen])
	m := hmac.New(md5.New, key)
	m.Write(c)
	copy(icv[:], m.Sum(nil))
	return icv
}
