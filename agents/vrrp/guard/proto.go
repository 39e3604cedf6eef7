// Package guard is the VIP guard of the VRRP daemon (`crmd keepalived`): a
// tiny helper process, started once by the daemon in its own session, that
// is told over a socket which virtual addresses the daemon currently owns
// and which priority-0 adverts announce its departure. When that socket
// reaches end-of-file without a "bye" (the daemon was SIGKILLed or
// crashed), the guard sends the priority-0 adverts at once (the backup
// takes over after its skew time instead of a master down interval, as
// after a graceful stop), keeps the addresses until a drain after the
// successor's first advert, or at most the linger the daemon gave (clients
// are served until the successor's gratuitous ARPs move them), then
// deletes them through netlink and exits. A daemon that stops cleanly
// says bye and the guard exits without touching anything.
//
// The package holds the wire protocol (length-prefixed frames, Encode /
// Decode), the pure guard state (State: messages in, Plan out), the guard
// side (Serve, with the netlink deleter, advert sender and clock injected)
// and the daemon side (Client, Spawn).
package guard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// Sentinel errors.
var (
	// ErrProtocol is wrapped by malformed or unexpected messages.
	ErrProtocol = errors.New("vip guard: protocol error")
	// ErrClosed is returned by Client methods once the guard is gone or
	// the client was closed.
	ErrClosed = errors.New("vip guard: closed")
)

// Kind is a message type.
type Kind byte

// Message kinds.
const (
	// KindHello is the guard's greeting (guard → daemon), sent once ready.
	KindHello Kind = 'H'
	// KindHold reports an instance's installed addresses and farewell
	// adverts (replacing what was held for the instance).
	KindHold Kind = 'O'
	// KindRelease reports that an instance's addresses were removed.
	KindRelease Kind = 'R'
	// KindBye announces a clean exit: the guard exits without acting.
	KindBye Kind = 'B'
)

func (k Kind) String() string {
	switch k {
	case KindHello:
		return "hello"
	case KindHold:
		return "hold"
	case KindRelease:
		return "release"
	case KindBye:
		return "bye"
	}
	return fmt.Sprintf("kind(%#x)", byte(k))
}

// protoVersion is carried in the hello.
const protoVersion = 1

// MaxFrame bounds one frame's body.
const MaxFrame = 1 << 20

// Addr is one address the daemon installed.
type Addr struct {
	Dev    string // device name (for logs and as a fallback)
	Index  int    // device index (what the deletion uses)
	Prefix netip.Prefix
}

// Datagram is one farewell advert (priority 0), ready to send.
type Datagram struct {
	Dev  string // interface to send on
	IPv6 bool
	Src  netip.Addr
	Dst  netip.Addr
	// IP is the complete datagram: IPv4 with its header (sent with
	// IP_HDRINCL); IPv6 with its 40-byte header (the payload after it is
	// what a raw IPv6 socket sends).
	IP []byte
}

// Holding is what one instance owns while master.
type Holding struct {
	Instance string
	// VRID identifies the successor's adverts (see Deps.Listener).
	VRID  uint8
	Addrs []Addr
	// Farewell are the priority-0 adverts to send when the daemon dies
	// (one per destination); empty: delete the addresses at once.
	Farewell []Datagram
	// Linger is how long the addresses stay after the farewell adverts
	// at most (the successor's skew time and gratuitous ARPs); a
	// successor's advert heard earlier cuts it to Deps.Drain. Ignored
	// without farewell adverts.
	Linger time.Duration
}

// Message is one protocol message.
type Message struct {
	Kind Kind
	// Version is set in a hello.
	Version uint8
	// Hold is set for KindHold.
	Hold Holding
	// Instance is set for KindRelease.
	Instance string
}

// Encode returns the message body (without the frame length).
func Encode(m Message) ([]byte, error) {
	b := []byte{byte(m.Kind)}
	switch m.Kind {
	case KindHello:
		b = append(b, m.Version)
	case KindBye:
	case KindRelease:
		var err error
		if b, err = putString(b, m.Instance); err != nil {
			return nil, err
		}
	case KindHold:
		h := m.Hold
		var err error
		if b, err = putString(b, h.Instance); err != nil {
			return nil, err
		}
		b = append(b, h.VRID)
		if h.Linger < 0 {
			return nil, fmt.Errorf("negative linger %v: %w", h.Linger, ErrProtocol)
		}
		b = binary.BigEndian.AppendUint64(b, uint64(h.Linger))
		if len(h.Addrs) > 0xffff || len(h.Farewell) > 0xffff {
			return nil, fmt.Errorf("%d addresses, %d adverts: %w", len(h.Addrs), len(h.Farewell), ErrProtocol)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(h.Addrs)))
		for _, a := range h.Addrs {
			if b, err = putString(b, a.Dev); err != nil {
				return nil, err
			}
			if a.Index < 0 || a.Index > 0x7fffffff {
				return nil, fmt.Errorf("device index %d: %w", a.Index, ErrProtocol)
			}
			b = binary.BigEndian.AppendUint32(b, uint32(a.Index))
			if !a.Prefix.IsValid() {
				return nil, fmt.Errorf("invalid prefix on %s: %w", a.Dev, ErrProtocol)
			}
			b = putAddr(b, a.Prefix.Addr())
			b = append(b, byte(a.Prefix.Bits()))
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(h.Farewell)))
		for _, d := range h.Farewell {
			if b, err = putString(b, d.Dev); err != nil {
				return nil, err
			}
			var fl byte
			if d.IPv6 {
				fl = 1
			}
			b = append(b, fl)
			b = putAddr(b, d.Src)
			b = putAddr(b, d.Dst)
			if len(d.IP) > 0xffff {
				return nil, fmt.Errorf("advert of %d bytes: %w", len(d.IP), ErrProtocol)
			}
			b = binary.BigEndian.AppendUint16(b, uint16(len(d.IP)))
			b = append(b, d.IP...)
		}
	default:
		return nil, fmt.Errorf("encode %v: %w", m.Kind, ErrProtocol)
	}
	if len(b) > MaxFrame {
		return nil, fmt.Errorf("message of %d bytes: %w", len(b), ErrProtocol)
	}
	return b, nil
}

func putString(b []byte, s string) ([]byte, error) {
	if len(s) > 0xffff {
		return nil, fmt.Errorf("string of %d bytes: %w", len(s), ErrProtocol)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...), nil
}

// putAddr writes a length byte (0, 4 or 16) and the address bytes.
func putAddr(b []byte, a netip.Addr) []byte {
	s := a.AsSlice() // nil for the zero Addr
	b = append(b, byte(len(s)))
	return append(b, s...)
}

// dec is a bounds-checked reader; the first failure sticks.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("truncated or bad %s: %w", what, ErrProtocol)
	}
}

func (d *dec) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.fail(what)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) u8(what string) byte {
	if v := d.take(1, what); v != nil {
		return v[0]
	}
	return 0
}

func (d *dec) u16(what string) int {
	if v := d.take(2, what); v != nil {
		return int(binary.BigEndian.Uint16(v))
	}
	return 0
}

func (d *dec) u32(what string) uint32 {
	if v := d.take(4, what); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *dec) u64(what string) uint64 {
	if v := d.take(8, what); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *dec) str(what string) string {
	return string(d.take(d.u16(what), what))
}

func (d *dec) addr(what string) netip.Addr {
	n := int(d.u8(what))
	if n != 0 && n != 4 && n != 16 {
		d.fail(what)
		return netip.Addr{}
	}
	v := d.take(n, what)
	if n == 0 || v == nil {
		return netip.Addr{}
	}
	a, _ := netip.AddrFromSlice(v)
	return a
}

// Decode parses a message body. Errors wrap ErrProtocol.
func Decode(b []byte) (Message, error) {
	if len(b) == 0 {
		return Message{}, fmt.Errorf("empty message: %w", ErrProtocol)
	}
	m := Message{Kind: Kind(b[0])}
	d := &dec{b: b[1:]}
	switch m.Kind {
	case KindHello:
		m.Version = d.u8("hello version")
	case KindBye:
	case KindRelease:
		m.Instance = d.str("instance name")
	case KindHold:
		h := &m.Hold
		h.Instance = d.str("instance name")
		h.VRID = d.u8("vrid")
		lg := d.u64("linger")
		if lg > uint64(time.Hour) {
			d.fail("linger")
		}
		h.Linger = time.Duration(lg)
		n := d.u16("address count")
		for i := 0; i < n && d.err == nil; i++ {
			var a Addr
			a.Dev = d.str("device name")
			idx := d.u32("device index")
			if idx > 0x7fffffff {
				d.fail("device index")
			}
			a.Index = int(idx)
			ip := d.addr("address")
			bits := int(d.u8("prefix length"))
			if d.err == nil {
				if !ip.IsValid() || bits > ip.BitLen() {
					d.fail("address prefix")
					break
				}
				a.Prefix = netip.PrefixFrom(ip, bits)
			}
			h.Addrs = append(h.Addrs, a)
		}
		n = d.u16("advert count")
		for i := 0; i < n && d.err == nil; i++ {
			var g Datagram
			g.Dev = d.str("advert device")
			fl := d.u8("advert flags")
			if fl > 1 {
				d.fail("advert flags")
			}
			g.IPv6 = fl == 1
			g.Src = d.addr("advert source")
			g.Dst = d.addr("advert destination")
			g.IP = append([]byte(nil), d.take(d.u16("advert length"), "advert")...)
			if d.err == nil && (!g.Dst.IsValid() || g.Dst.Is6() != g.IPv6 || len(g.IP) == 0) {
				d.fail("advert addresses")
			}
			h.Farewell = append(h.Farewell, g)
		}
	default:
		return Message{}, fmt.Errorf("unknown message kind %#x: %w", b[0], ErrProtocol)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d trailing bytes after %v: %w", len(d.b), m.Kind, ErrProtocol)
	}
	if d.err != nil {
		return Message{}, fmt.Errorf("decode %v: %w", m.Kind, d.err)
	}
	return m, nil
}

// WriteFrame writes one message as a frame (4-byte big-endian length, then
// the body).
func WriteFrame(w io.Writer, m Message) error {
	body, err := Encode(m)
	if err != nil {
		return err
	}
	buf := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(body)), uint32(len(body)))
	buf = append(buf, body...)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write %v to vip guard: %w", m.Kind, err)
	}
	return nil
}

// ReadFrame reads one frame and decodes it. A clean end of stream before a
// frame starts returns io.EOF; a frame cut short returns an error wrapping
// io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader) (Message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return Message{}, io.EOF
		}
		return Message{}, fmt.Errorf("read frame header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > MaxFrame {
		return Message{}, fmt.Errorf("frame of %d bytes: %w", n, ErrProtocol)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Message{}, fmt.Errorf("read frame body: %w", err)
	}
	return Decode(body)
}
