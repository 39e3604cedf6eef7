package pcapfile

import (
	"encoding/binary"
	"errors"
	"testing"
)

type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func build(bo order, magic uint32, recs ...[]byte) []byte {
	b := bo.AppendUint32(nil, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 65535)
	b = bo.AppendUint32(b, LinkTypeEthernet)
	for i, r := range recs {
		b = bo.AppendUint32(b, uint32(100+i))
		b = bo.AppendUint32(b, 500)
		b = bo.AppendUint32(b, uint32(len(r)))
		b = bo.AppendUint32(b, uint32(len(r)))
		b = append(b, r...)
	}
	return b
}

func TestParseBothByteOrders(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		f, err := Parse(build(bo, 0xa1b2c3d4, []byte{1, 2, 3}, []byte{4}))
		if err != nil {
			t.Fatalf("%v: %v", bo, err)
		}
		if f.LinkType != LinkTypeEthernet || len(f.Records) != 2 {
			t.Fatalf("%v: got %+v", bo, f)
		}
		if string(f.Records[0].Data) != "\x01\x02\x03" || f.Records[1].Time.Unix() != 101 ||
			f.Records[0].Time.Nanosecond() != 500000 {
			t.Fatalf("%v: records %+v", bo, f.Records)
		}
	}
	f, err := Parse(build(binary.LittleEndian, 0xa1b23c4d, []byte{1}))
	if err != nil || f.Records[0].Time.Nanosecond() != 500 {
		t.Fatalf("nanosecond file: %+v %v", f, err)
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	good := build(binary.LittleEndian, 0xa1b2c3d4, []byte{1, 2, 3})
	for name, b := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte{0, 0, 0, 0}, good[4:]...),
		"truncated": good[:len(good)-1],
		"header":    good[:30],
	} {
		if _, err := Parse(b); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
}
