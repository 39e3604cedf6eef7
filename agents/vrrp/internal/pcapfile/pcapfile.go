// Package pcapfile reads classic libpcap capture files (the golden VRRP
// vectors in ../shared/vrrp) for tests. It is pure: it parses bytes already
// in memory. Functions are safe for concurrent use.
package pcapfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// LinkTypeEthernet is the pcap link type of Ethernet captures.
const LinkTypeEthernet = 1

// ErrFormat reports a file that is not a classic pcap file or is truncated.
var ErrFormat = errors.New("pcapfile: bad format")

// Record is one captured packet.
type Record struct {
	Time    time.Time
	OrigLen int    // length on the wire
	Data    []byte // captured bytes
}

// File is a parsed capture.
type File struct {
	LinkType uint32
	SnapLen  uint32
	Records  []Record
}

// Parse parses a classic pcap file (microsecond or nanosecond timestamps,
// either byte order).
func Parse(b []byte) (*File, error) {
	if len(b) < 24 {
		return nil, fmt.Errorf("global header of %d bytes: %w", len(b), ErrFormat)
	}
	var bo binary.ByteOrder
	nano := false
	switch m := binary.LittleEndian.Uint32(b); m {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("magic 0x%08x: %w", m, ErrFormat)
	}
	f := &File{SnapLen: bo.Uint32(b[16:20]), LinkType: bo.Uint32(b[20:24])}
	b = b[24:]
	for i := 1; len(b) > 0; i++ {
		if len(b) < 16 {
			return nil, fmt.Errorf("record %d: header of %d bytes: %w", i, len(b), ErrFormat)
		}
		sec, frac := bo.Uint32(b[0:4]), bo.Uint32(b[4:8])
		incl, orig := bo.Uint32(b[8:12]), bo.Uint32(b[12:16])
		if uint64(incl) > uint64(len(b)-16) {
			return nil, fmt.Errorf("record %d: %d bytes captured, %d present: %w", i, incl, len(b)-16, ErrFormat)
		}
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		f.Records = append(f.Records, Record{
			Time:    time.Unix(int64(sec), ns).UTC(),
			OrigLen: int(orig),
			Data:    b[16 : 16+incl],
		})
		b = b[16+incl:]
	}
	return f, nil
}
