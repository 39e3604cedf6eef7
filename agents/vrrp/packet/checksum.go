package packet

import (
	"encoding/binary"
	"net/netip"
)

// sum16 adds b as big-endian 16-bit words (odd length padded with zero) to
// the running 32-bit one's-complement accumulator s.
func sum16(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// Checksum is the RFC 1071 Internet checksum of b.
func Checksum(b []byte) uint16 { return fold(sum16(0, b)) }

// pseudoChecksum is the checksum of msg preceded by the IPv4 (12 bytes) or
// IPv6 (40 bytes, RFC 8200 §8.1) pseudo-header for protocol 112.
func pseudoChecksum(msg []byte, src, dst netip.Addr) uint16 {
	var s uint32
	s = sum16(s, src.AsSlice())
	s = sum16(s, dst.AsSlice())
	if src.Is4() {
		s += ProtocolVRRP
		s += uint32(uint16(len(msg)))
	} else {
		l := uint32(len(msg))
		s += l>>16 + l&0xffff
		s += ProtocolVRRP
	}
	return fold(sum16(s, msg))
}
