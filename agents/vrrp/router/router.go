// Package router joins the VRRP codec and state machine into one pure
// virtual router: raw received packets go through keepalived's receive
// checks (packet.Checker) into the state machine (fsm.Instance), and the
// machine's SendAdvert actions come back as encoded datagrams (IPv4 with its
// header for an IP_HDRINCL raw socket, or the bare VRRP message for IPv6),
// with keepalived's IP ID and AH sequence counters. The data plane only
// moves bytes, runs the remaining actions and fires the timer.
//
// A Router is pure (no I/O, no goroutines, no clock: times come in the
// events) and must be driven by one goroutine; Stats may be read
// concurrently.
package router

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/packet"
)

// ErrConfig is wrapped by configuration errors.
var ErrConfig = errors.New("vrrp router: invalid configuration")

// Config is one vrrp_instance.
type Config struct {
	FSM fsm.Config
	// IPv6 selects a VRRPv3 IPv6 instance (FSM.PrimaryAddr is then the
	// interface's link-local address).
	IPv6 bool
	// VIPs are the virtual addresses, in advert order (keepalived peers
	// need the same list).
	VIPs []netip.Addr
	// AuthType/AuthPass: keepalived's VRRPv2 authentication (interop only:
	// PASS is clear text, AH uses HMAC-MD5-96).
	AuthType packet.AuthType
	AuthPass string
	// Group overrides the multicast group (224.0.0.18 / ff02::12).
	Group netip.Addr
	// UnicastPeers switches to unicast mode: one copy of every advert to
	// each peer; received adverts need not have TTL 255.
	UnicastPeers []netip.Addr
	// CheckUnicastSource drops unicast adverts from non-peers.
	CheckUnicastSource bool
	// UnicastTTL is the TTL of unicast adverts (default 255).
	UnicastTTL uint8
	// SkipCheckAdvAddr: keepalived skip_check_adv_addr.
	SkipCheckAdvAddr bool
	// TOS is the IPv4 TOS / IPv6 traffic class (default 0xc0).
	TOS uint8
}

// Datagram is one advert to send.
type Datagram struct {
	Dst netip.Addr
	// IP is the complete IPv4 datagram (header included, for IP_HDRINCL)
	// or the complete IPv6 packet (for captures and AF_PACKET senders).
	IP []byte
	// Payload is the VRRP message alone with its checksum filled in (for
	// sockets that build the IP header themselves: TTL/hop limit 255 and
	// the TOS must then be set on the socket).
	Payload []byte
}

// Output is what the host must do after a Step or Receive, in order: send
// the datagrams produced by each SendAdvert, and run the other actions.
type Output struct {
	// Actions are the state machine's actions. The datagrams of its
	// SendAdvert actions are in Sends, in order (one per destination).
	Actions []fsm.Action
	Sends   []Datagram
	// Err is set when a packet was dropped by the receive checks (wraps
	// a packet sentinel error; packet.ReasonOf gives the counter).
	Err error
}

// Router is one virtual router.
type Router struct {
	cfg     Config
	inst    *fsm.Instance
	checker *packet.Checker
	key     []byte
	ipID    uint16
	dsts    []netip.Addr
}

// New validates cfg and builds the router (in Initialize; Step it a
// fsm.Start).
func New(cfg Config) (*Router, error) {
	if cfg.TOS == 0 {
		cfg.TOS = packet.DefaultTOS
	}
	if cfg.UnicastTTL == 0 {
		cfg.UnicastTTL = 255
	}
	if cfg.IPv6 && cfg.FSM.Version != 3 {
		return nil, fmt.Errorf("instance %q: IPv6 needs VRRP version 3: %w", cfg.FSM.Name, ErrConfig)
	}
	if cfg.FSM.Version == 3 || cfg.IPv6 {
		cfg.AuthType, cfg.AuthPass = packet.AuthNone, "" // as keepalived: ignored for v3/IPv6
	}
	if cfg.AuthType != packet.AuthNone && cfg.AuthPass == "" {
		return nil, fmt.Errorf("instance %q: auth_type %v without auth_pass: %w", cfg.FSM.Name, cfg.AuthType, ErrConfig)
	}
	src := cfg.FSM.PrimaryAddr
	if src.IsValid() && src.Is4() == cfg.IPv6 {
		return nil, fmt.Errorf("instance %q: source %v is not of the instance's family: %w", cfg.FSM.Name, src, ErrConfig)
	}
	if len(cfg.VIPs) == 0 || len(cfg.VIPs) > 255 {
		return nil, fmt.Errorf("instance %q: %d virtual addresses (need 1..255): %w", cfg.FSM.Name, len(cfg.VIPs), ErrConfig)
	}
	for _, p := range cfg.UnicastPeers {
		if p.Is4() == cfg.IPv6 || p.IsMulticast() {
			return nil, fmt.Errorf("instance %q: unicast peer %v: %w", cfg.FSM.Name, p, ErrConfig)
		}
	}
	inst, err := fsm.New(cfg.FSM)
	if err != nil {
		return nil, err
	}
	r := &Router{cfg: cfg, inst: inst}
	r.cfg.FSM = inst.Config()
	if !r.cfg.Group.IsValid() {
		r.cfg.Group = packet.GroupIPv4
		if cfg.IPv6 {
			r.cfg.Group = packet.GroupIPv6
		}
	}
	r.dsts = []netip.Addr{r.cfg.Group}
	if len(cfg.UnicastPeers) > 0 {
		r.dsts = cfg.UnicastPeers
	}
	r.checker, err = packet.NewChecker(packet.CheckConfig{
		Version:            cfg.FSM.Version,
		IPv6:               cfg.IPv6,
		VRID:               cfg.FSM.VRID,
		AuthType:           cfg.AuthType,
		AuthPass:           cfg.AuthPass,
		Interval:           uint16(r.cfg.FSM.AdvertInterval / time.Second),
		VIPs:               cfg.VIPs,
		Group:              r.cfg.Group,
		Unicast:            len(cfg.UnicastPeers) > 0,
		Peers:              cfg.UnicastPeers,
		CheckUnicastSource: cfg.CheckUnicastSource,
		SkipCheckAdvAddr:   cfg.SkipCheckAdvAddr,
		LocalAddrs:         []netip.Addr{src},
	})
	if err != nil {
		return nil, fmt.Errorf("instance %q: %w: %w", cfg.FSM.Name, ErrConfig, err)
	}
	if cfg.AuthType != packet.AuthNone {
		r.key = packet.AHKey(cfg.AuthPass)
	}
	return r, nil
}

// Instance returns the state machine (for status; do not Step it directly).
func (r *Router) Instance() *fsm.Instance { return r.inst }

// Stats returns the receive counters.
func (r *Router) Stats() *packet.Stats { return r.checker.Stats() }

// Step applies a non-packet event (Start, TimerExpired, tracking,
// Shutdown).
func (r *Router) Step(ev fsm.Event) Output {
	return r.run(r.inst.Step(ev))
}

// Receive checks a datagram read with its IP header and, if it passes,
// feeds it to the state machine. A dropped packet is counted, returned in
// Output.Err and changes nothing else.
func (r *Router) Receive(at time.Time, b []byte) Output {
	p, err := r.checker.Receive(b)
	return r.received(at, p, err)
}

// ReceivePayload is Receive for a VRRP message read without its IP header;
// src, dst and the TTL/hop limit come from the socket's control message.
func (r *Router) ReceivePayload(at time.Time, msg []byte, src, dst netip.Addr, ttl uint8) Output {
	p, err := r.checker.ReceivePayload(msg, src, dst, ttl)
	return r.received(at, p, err)
}

func (r *Router) received(at time.Time, p *packet.Packet, err error) Output {
	if err != nil {
		return Output{Err: err}
	}
	r.syncAH(p)
	return r.run(r.inst.Step(fsm.AdvertFromPacket(at, p)))
}

// syncAH applies keepalived's AH counter resync: a master hearing a
// lower-priority advert moves its counter past the advert's sequence
// number (see packet.Checker).
func (r *Router) syncAH(p *packet.Packet) {
	if p.AH != nil && r.inst.State() == fsm.Master && p.Advert.Priority != 0 && p.Advert.Priority < r.inst.Priority() {
		r.checker.SyncAHSeq(p.AH.Seq + 1)
	}
}

func (r *Router) run(acts []fsm.Action) Output {
	out := Output{Actions: acts}
	for _, a := range acts {
		if a.Kind != fsm.SendAdvert {
			continue
		}
		for _, d := range r.dsts {
			dg, err := r.encode(a.Priority, d)
			if err != nil {
				// Configuration was validated; an encoding failure is a bug
				// worth surfacing rather than a silent drop.
				out.Err = fmt.Errorf("instance %q: encode advert: %w", r.cfg.FSM.Name, err)
				continue
			}
			out.Sends = append(out.Sends, dg)
		}
	}
	return out
}

// Advert returns the advert this router sends with priority prio.
func (r *Router) Advert(prio uint8) packet.Advert {
	c := r.cfg.FSM
	a := packet.Advert{Version: c.Version, Type: packet.TypeAdvertisement, VRID: c.VRID, Priority: prio,
		Addrs: r.cfg.VIPs}
	if c.Version == 2 {
		a.Interval = uint16(c.AdvertInterval / time.Second)
		a.AuthType = r.cfg.AuthType
		if r.cfg.AuthType == packet.AuthPass {
			copy(a.AuthData[:], r.key)
		}
	} else {
		a.Interval = uint16(c.AdvertInterval / (10 * time.Millisecond))
	}
	return a
}

func (r *Router) encode(prio uint8, dst netip.Addr) (Datagram, error) {
	src := r.cfg.FSM.PrimaryAddr
	ttl := uint8(255)
	if dst != r.cfg.Group {
		ttl = r.cfg.UnicastTTL
	}
	p := &packet.Packet{IPv6: r.cfg.IPv6, TOS: r.cfg.TOS, TTL: ttl, Src: src, Dst: dst, Advert: r.Advert(prio)}
	var opt packet.EncodeOptions
	if !r.cfg.IPv6 {
		r.ipID++
		if r.ipID == 0 {
			r.ipID = 1
		}
		p.ID = r.ipID
	}
	if r.cfg.AuthType == packet.AuthAH {
		p.AH = &packet.AH{NextHeader: packet.ProtocolVRRP, PayloadLen: 4,
			SPI: binary.BigEndian.Uint32(src.AsSlice()), Seq: r.checker.NextAHSeq()}
		opt.AHKey = r.key
	}
	ip, err := packet.Encode(p, opt)
	if err != nil {
		return Datagram{}, err
	}
	hl := packet.IPv4HeaderLen
	if r.cfg.IPv6 {
		hl = packet.IPv6HeaderLen
	} else if p.AH != nil {
		hl += packet.AHLen
	}
	return Datagram{Dst: dst, IP: ip, Payload: ip[hl:]}, nil
}
