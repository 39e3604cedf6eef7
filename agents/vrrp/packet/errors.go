package packet

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// Reason is why a received packet was dropped. Reasons are listed in the
// order keepalived's vrrp_check_packet applies its checks (vrrp.md §5.3),
// preceded by the structural ones.
type Reason uint8

// Drop reasons.
const (
	ReasonShort         Reason = iota // truncated packet
	ReasonMalformed                   // bad IP/AH header structure, wrong protocol or family
	ReasonOwn                         // our own advert looped back
	ReasonAHPresence                  // AH present but not configured, or missing but configured
	ReasonLength                      // VRRP length ≠ 8 + addresses (+ 8 for v2)
	ReasonTTL                         // TTL / hop limit ≠ 255 (multicast)
	ReasonVersion                     // VRRP version ≠ configured
	ReasonVRID                        // advert for another virtual router
	ReasonAuthType                    // v2 auth type ≠ configured
	ReasonAuthPass                    // v2 PASS password mismatch
	ReasonAHAuth                      // AH ICV or SPI mismatch
	ReasonAHReplay                    // AH sequence number not above the highest accepted
	ReasonInterval                    // v2 interval ≠ own (or v3 interval 0)
	ReasonType                        // type ≠ ADVERTISEMENT
	ReasonAddrCount                   // address count ≠ configured VIP count
	ReasonTotalLength                 // IP total / payload length inconsistent
	ReasonChecksum                    // bad VRRP checksum
	ReasonDestination                 // multicast received in unicast mode or vice versa
	ReasonAddrList                    // address list ≠ configured VIPs
	ReasonUnicastSource               // unicast source is not a configured peer
	numReasons
)

var reasonNames = [numReasons]string{
	"short", "malformed", "own-advert", "ah-presence", "length", "ttl", "version", "vrid",
	"auth-type", "auth-pass", "ah-auth", "ah-replay", "interval", "type", "address-count",
	"total-length", "checksum", "destination", "address-list", "unicast-source",
}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Reasons returns every drop reason in check order.
func Reasons() []Reason {
	rs := make([]Reason, numReasons)
	for i := range rs {
		rs[i] = Reason(i)
	}
	return rs
}

// Sentinel errors, one per drop reason (test with errors.Is).
var (
	ErrShort          = errors.New("vrrp: packet too short")
	ErrIPHeader       = errors.New("vrrp: malformed IP header")
	ErrProtocol       = errors.New("vrrp: not a VRRP protocol number")
	ErrAHHeader       = errors.New("vrrp: malformed AH header")
	ErrFamily         = errors.New("vrrp: address family mismatch")
	ErrOwn            = errors.New("vrrp: own advert")
	ErrAHPresence     = errors.New("vrrp: AH presence does not match configuration")
	ErrLength         = errors.New("vrrp: message length does not match address count")
	ErrTTL            = errors.New("vrrp: TTL/hop limit is not 255")
	ErrVersion        = errors.New("vrrp: wrong version")
	ErrVRID           = errors.New("vrrp: advert for another VRID")
	ErrAuthType       = errors.New("vrrp: wrong authentication type")
	ErrAuthPass       = errors.New("vrrp: invalid password")
	ErrAHAuth         = errors.New("vrrp: AH authentication failed")
	ErrAHReplay       = errors.New("vrrp: AH sequence number replayed")
	ErrInterval       = errors.New("vrrp: advertisement interval mismatch")
	ErrType           = errors.New("vrrp: not an advertisement")
	ErrAddrCount      = errors.New("vrrp: address count mismatch")
	ErrTotalLength    = errors.New("vrrp: IP length mismatch")
	ErrChecksum       = errors.New("vrrp: bad checksum")
	ErrDestination    = errors.New("vrrp: multicast/unicast destination mismatch")
	ErrAddrList       = errors.New("vrrp: address list mismatch")
	ErrUnicastSource  = errors.New("vrrp: unicast source is not a configured peer")
	errReasonSentinel = [numReasons][]error{
		ReasonShort:         {ErrShort},
		ReasonMalformed:     {ErrIPHeader, ErrProtocol, ErrAHHeader, ErrFamily},
		ReasonOwn:           {ErrOwn},
		ReasonAHPresence:    {ErrAHPresence},
		ReasonLength:        {ErrLength},
		ReasonTTL:           {ErrTTL},
		ReasonVersion:       {ErrVersion},
		ReasonVRID:          {ErrVRID},
		ReasonAuthType:      {ErrAuthType},
		ReasonAuthPass:      {ErrAuthPass},
		ReasonAHAuth:        {ErrAHAuth},
		ReasonAHReplay:      {ErrAHReplay},
		ReasonInterval:      {ErrInterval},
		ReasonType:          {ErrType},
		ReasonAddrCount:     {ErrAddrCount},
		ReasonTotalLength:   {ErrTotalLength},
		ReasonChecksum:      {ErrChecksum},
		ReasonDestination:   {ErrDestination},
		ReasonAddrList:      {ErrAddrList},
		ReasonUnicastSource: {ErrUnicastSource},
	}
)

// ReasonOf maps an error returned by this package to its drop reason.
// Unknown errors are ReasonMalformed.
func ReasonOf(err error) Reason {
	for r, errs := range errReasonSentinel {
		for _, e := range errs {
			if errors.Is(err, e) {
				return Reason(r)
			}
		}
	}
	return ReasonMalformed
}

// Stats counts accepted packets and drops per reason. The zero value is
// ready; all methods are safe for concurrent use.
type Stats struct {
	accepted atomic.Uint64
	drops    [numReasons]atomic.Uint64
}

// Drop counts one dropped packet.
func (s *Stats) Drop(r Reason) {
	if r < numReasons {
		s.drops[r].Add(1)
	}
}

// Dropped returns the drop count for r.
func (s *Stats) Dropped(r Reason) uint64 {
	if r < numReasons {
		return s.drops[r].Load()
	}
	return 0
}

// Accepted returns how many packets passed every check.
func (s *Stats) Accepted() uint64 { return s.accepted.Load() }

// TotalDropped returns the sum of all drop counters.
func (s *Stats) TotalDropped() uint64 {
	var n uint64
	for i := range s.drops {
		n += s.drops[i].Load()
	}
	return n
}

// Snapshot returns the non-zero drop counters by reason name, plus
// "accepted".
func (s *Stats) Snapshot() map[string]uint64 {
	m := map[string]uint64{"accepted": s.Accepted()}
	for i := range s.drops {
		if v := s.drops[i].Load(); v != 0 {
			m[Reason(i).String()] = v
		}
	}
	return m
}
