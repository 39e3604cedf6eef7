package packet

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
)

// CheckConfig is what a virtual router expects of the adverts it receives.
type CheckConfig struct {
	Version uint8 // 2 or 3
	IPv6    bool
	VRID    uint8
	// AuthType and AuthPass configure keepalived's v2 authentication
	// (ignored for v3). Only the first 8 bytes of AuthPass count.
	AuthType AuthType
	AuthPass string
	// Interval is the own v2 advert_int in seconds; v2 adverts with another
	// interval are dropped (v3 adverts carry the master's interval, which
	// backups adopt).
	Interval uint16
	// VIPs is the configured address list; adverts must carry the same
	// count and the same addresses (in any order).
	VIPs []netip.Addr
	// Group is the multicast group (default 224.0.0.18 / ff02::12).
	Group netip.Addr
	// Unicast selects unicast-peer mode: the TTL rule is skipped and the
	// destination must be unicast.
	Unicast bool
	// Peers and CheckUnicastSource: in unicast mode, drop adverts whose
	// source is not a configured peer.
	Peers              []netip.Addr
	CheckUnicastSource bool
	// SkipCheckAdvAddr skips the address-list comparison while the
	// advert's source equals the last accepted one (keepalived
	// skip_check_adv_addr).
	SkipCheckAdvAddr bool
	// LocalAddrs are this router's own source addresses; adverts from them
	// are looped-back copies of our own.
	LocalAddrs []netip.Addr
	// NoOldUnicastChecksum disables accepting v3 unicast adverts whose
	// checksum was computed with the multicast group in the pseudo-header
	// (keepalived ≤ 1.3.6; keepalived 2.x auto-detects and accepts them).
	NoOldUnicastChecksum bool
}

// Checker applies keepalived's receive checks (vrrp.md §5.3) and counts
// drops per reason. A Checker is owned by one goroutine (it keeps the AH
// sequence counter); Stats may be read concurrently.
//
// AH anti-replay follows keepalived exactly: one counter per instance
// serves both directions. An AH advert is accepted only if its sequence
// number exceeds the counter, which then takes that value; every advert we
// send takes the next number (NextAHSeq). A router that was master, or heard
// one, therefore continues numbering above everything seen on the VRID, and
// keepalived peers accept its adverts after a takeover.
type Checker struct {
	cfg       CheckConfig
	key       []byte
	stats     Stats
	ahCounter uint32
	lastSrc   netip.Addr
	// AH sequence number to commit once every check passed.
	pendingSet bool
	pendingSeq uint32
}

// NewChecker validates cfg and returns a Checker.
func NewChecker(cfg CheckConfig) (*Checker, error) {
	if cfg.Version != 2 && cfg.Version != 3 {
		return nil, fmt.Errorf("check config: version %d: %w", cfg.Version, ErrVersion)
	}
	if cfg.Version == 2 && cfg.IPv6 {
		return nil, fmt.Errorf("check config: VRRPv2 is IPv4 only: %w", ErrFamily)
	}
	if cfg.Version == 3 || cfg.IPv6 {
		cfg.AuthType = AuthNone // keepalived ignores authentication for v3 and IPv6
	}
	if cfg.AuthType > AuthAH {
		return nil, fmt.Errorf("check config: auth type %d: %w", cfg.AuthType, ErrAuthType)
	}
	if !cfg.Group.IsValid() {
		cfg.Group = GroupIPv4
		if cfg.IPv6 {
			cfg.Group = GroupIPv6
		}
	}
	for i, a := range cfg.VIPs {
		if a.Is4() == cfg.IPv6 {
			return nil, fmt.Errorf("check config: VIP[%d] %v not of the instance's family: %w", i, a, ErrFamily)
		}
	}
	c := &Checker{cfg: cfg}
	if cfg.AuthType != AuthNone {
		c.key = AHKey(cfg.AuthPass)
	}
	return c, nil
}

// Stats returns the checker's counters.
func (c *Checker) Stats() *Stats { return &c.stats }

// NextAHSeq returns the AH sequence number for the next advert we send
// (the counter plus one). At 2^32−1 it stops increasing: peers then drop our
// adverts as replays and take over, as keepalived does when its counter
// cycles.
func (c *Checker) NextAHSeq() uint32 {
	if c.ahCounter < 0xffffffff {
		c.ahCounter++
	}
	return c.ahCounter
}

// SyncAHSeq raises the AH counter to at least seq. keepalived does this,
// with the received number + 1, when a master hears a lower-priority advert
// (a restarted peer counting from 1 again, or the loser of a healed
// partition), so that its next adverts are fresh for that peer.
func (c *Checker) SyncAHSeq(seq uint32) {
	c.ahCounter = max(c.ahCounter, seq)
}

// AHSeq returns the AH counter (highest number sent or accepted).
func (c *Checker) AHSeq() uint32 { return c.ahCounter }

// Receive decodes an IPv4 or IPv6 datagram (with its IP header) and checks
// it. Every failure is counted and returned wrapped around its sentinel.
func (c *Checker) Receive(b []byte) (*Packet, error) {
	p, err := Decode(b)
	if err != nil {
		c.stats.Drop(ReasonOf(err))
		return nil, err
	}
	return p, c.Check(p)
}

// ReceivePayload decodes a VRRP message received without its IP header
// (source, destination and TTL/hop limit from the socket's control message)
// and checks it.
func (c *Checker) ReceivePayload(msg []byte, src, dst netip.Addr, ttl uint8) (*Packet, error) {
	p, err := DecodePayload(msg, src, dst, ttl, nil)
	if err != nil {
		c.stats.Drop(ReasonOf(err))
		return nil, err
	}
	return p, c.Check(p)
}

// Check applies the receive checks to a decoded packet, counting the
// outcome. AH verification needs a packet decoded from the wire.
func (c *Checker) Check(p *Packet) error {
	if err := c.check(p); err != nil {
		c.stats.Drop(ReasonOf(err))
		return err
	}
	c.lastSrc = p.Src
	if c.pendingSet {
		c.ahCounter = c.pendingSeq
	}
	c.stats.accepted.Add(1)
	return nil
}

func (c *Checker) check(p *Packet) error {
	c.pendingSet = false
	cfg := &c.cfg
	a := &p.Advert
	if p.IPv6 != cfg.IPv6 {
		return fmt.Errorf("IPv6=%v packet for IPv6=%v instance: %w", p.IPv6, cfg.IPv6, ErrFamily)
	}
	if slices.Contains(cfg.LocalAddrs, p.Src) {
		return fmt.Errorf("advert from own address %v: %w", p.Src, ErrOwn)
	}
	// 1. AH present iff configured.
	wantAH := cfg.AuthType == AuthAH
	if (p.AH != nil) != wantAH {
		return fmt.Errorf("AH present=%v, configured=%v: %w", p.AH != nil, wantAH, ErrAHPresence)
	}
	// 2. Length: exact, enforced by the decoder (ErrLength).
	msg := p.msg
	if msg == nil {
		var err error
		if msg, err = AppendAdvert(nil, a, p.Src, p.Dst); err != nil {
			return err
		}
		binary.BigEndian.PutUint16(msg[6:8], a.Checksum)
	}
	if len(msg) != AdvertLen(a.Version, p.IPv6, len(a.Addrs)) {
		return fmt.Errorf("message of %d bytes: %w", len(msg), ErrLength)
	}
	// 3. TTL / hop limit 255 proves the sender is on-link (multicast).
	if !cfg.Unicast && p.TTL != 255 {
		return fmt.Errorf("TTL %d from %v: %w", p.TTL, p.Src, ErrTTL)
	}
	// 4. Version.
	if a.Version != cfg.Version {
		return fmt.Errorf("version %d from %v, configured %d: %w", a.Version, p.Src, cfg.Version, ErrVersion)
	}
	if a.VRID != cfg.VRID {
		return fmt.Errorf("VRID %d from %v, configured %d: %w", a.VRID, p.Src, cfg.VRID, ErrVRID)
	}
	// 5. v2 authentication and interval.
	if a.Version == 2 {
		if err := c.checkAuth(p); err != nil {
			return err
		}
		if a.Interval != cfg.Interval {
			return fmt.Errorf("advertisement interval %d s from %v, own %d s: %w", a.Interval, p.Src, cfg.Interval, ErrInterval)
		}
	} else if a.Interval == 0 {
		return fmt.Errorf("v3 interval 0 from %v: %w", p.Src, ErrInterval)
	}
	// 6. Type.
	if a.Type != TypeAdvertisement {
		return fmt.Errorf("type %d from %v: %w", a.Type, p.Src, ErrType)
	}
	// 7. Address count.
	if len(a.Addrs) != len(cfg.VIPs) {
		return fmt.Errorf("%d addresses from %v, configured %d: %w", len(a.Addrs), p.Src, len(cfg.VIPs), ErrAddrCount)
	}
	// 8. IP total length: enforced by the decoder (ErrTotalLength).
	// 9. Checksum.
	if !VerifyChecksum(msg, p.Src, p.Dst) {
		ok := false
		if a.Version == 3 && cfg.Unicast && !cfg.NoOldUnicastChecksum {
			ok = VerifyChecksum(msg, p.Src, cfg.Group)
		}
		if !ok {
			return fmt.Errorf("checksum 0x%04x from %v: %w", a.Checksum, p.Src, ErrChecksum)
		}
	}
	// 10. Multicast vs unicast.
	if cfg.Unicast == (p.Dst == cfg.Group || p.Dst.IsMulticast()) {
		return fmt.Errorf("destination %v (unicast mode %v): %w", p.Dst, cfg.Unicast, ErrDestination)
	}
	// 11. Address list.
	if !(cfg.SkipCheckAdvAddr && p.Src == c.lastSrc) {
		for _, ad := range a.Addrs {
			if !slices.Contains(cfg.VIPs, ad) {
				return fmt.Errorf("address %v from %v not configured: %w", ad, p.Src, ErrAddrList)
			}
		}
	}
	// 12. Unicast source.
	if cfg.Unicast && cfg.CheckUnicastSource && !slices.Contains(cfg.Peers, p.Src) {
		return fmt.Errorf("source %v is not a unicast peer: %w", p.Src, ErrUnicastSource)
	}
	return nil
}

func (c *Checker) checkAuth(p *Packet) error {
	a := &p.Advert
	if a.AuthType != c.cfg.AuthType {
		return fmt.Errorf("auth type %v from %v, configured %v: %w", a.AuthType, p.Src, c.cfg.AuthType, ErrAuthType)
	}
	switch a.AuthType {
	case AuthPass:
		if subtle.ConstantTimeCompare(a.AuthData[:], c.key) != 1 {
			return fmt.Errorf("password from %v: %w", p.Src, ErrAuthPass)
		}
	case AuthAH:
		ah := p.AH
		if p.wire == nil {
			return fmt.Errorf("AH advert from %v without its IP header: %w", p.Src, ErrAHAuth)
		}
		if ah.SPI != binary.BigEndian.Uint32(p.Src.AsSlice()) {
			return fmt.Errorf("AH SPI 0x%08x from %v: %w", ah.SPI, p.Src, ErrAHAuth)
		}
		icv := ComputeICV(p.wire, c.key)
		if subtle.ConstantTimeCompare(icv[:], ah.ICV[:]) != 1 {
			return fmt.Errorf("AH ICV from %v: %w", p.Src, ErrAHAuth)
		}
		if ah.Seq <= c.ahCounter {
			return fmt.Errorf("AH sequence %d from %v, counter %d: %w", ah.Seq, p.Src, c.ahCounter, ErrAHReplay)
		}
		c.pendingSet, c.pendingSeq = true, ah.Seq
	}
	return nil
}
