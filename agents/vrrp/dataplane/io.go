package dataplane

import (
	"context"
	"net/netip"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/router"
)

// Net opens VRRP sockets. Implementations must be safe for concurrent use.
type Net interface {
	// Open returns a socket for protocol proto (112, or 51 for AH) on the
	// interface, joined to groups (multicast, may be empty for unicast
	// only), with multicast loopback off and TTL / hop limit 255.
	Open(ifname string, ipv6 bool, proto int, groups []netip.Addr) (Conn, error)
}

// Conn is one VRRP socket. Read is called by one goroutine, Send by another;
// Close unblocks Read.
type Conn interface {
	// Read returns one received datagram with its IP header (for IPv6 a
	// header rebuilt from the control message) and when it was read.
	Read(buf []byte) (n int, err error)
	// Send sends one advert: IPv4 as the complete datagram (IP_HDRINCL),
	// IPv6 as the payload from src with hop limit 255.
	Send(d router.Datagram, src netip.Addr) error
	Close() error
}

// AgedConn is implemented by Conns that know when the kernel received a
// datagram (SO_TIMESTAMPNS). The dataplane then starts the master down
// timer at the kernel's receive time instead of the time its reader
// goroutine got to run, so scheduling delays under load do not lengthen the
// observed master down interval. Same concurrency contract as Conn.Read.
type AgedConn interface {
	// ReadAged is Read that also returns how long ago the kernel received
	// the datagram (0 if unknown).
	ReadAged(buf []byte) (n int, age time.Duration, err error)
}

// FramePreparer is implemented by FrameSenders that can set up their
// per-interface resources before the first frame, so that a takeover's
// gratuitous ARPs cost one send each instead of a socket set-up. Safe for
// concurrent use.
type FramePreparer interface {
	Prepare(ifname string) error
}

// FrameSender sends raw Ethernet frames (gratuitous ARPs, unsolicited
// NAs). Implementations must be safe for concurrent use.
type FrameSender interface {
	Send(ifname string, frame []byte) error
	Close() error
}

// LinkWatcher reports interface link state.
type LinkWatcher interface {
	// Watch calls emit with the current state of every interface, then
	// with every change, until ctx ends (emit is called from one
	// goroutine). It returns ctx's error or a setup failure.
	Watch(ctx context.Context, emit func(name string, up bool)) error
}

// Clock is the dataplane's time source (injected; tests may fake it).
// Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock. After uses a timerfd (CLOCK_MONOTONIC)
// read through the runtime poller: Go's own timers wake up to a
// millisecond late (epoll's millisecond timeout), which would show in every
// master down interval; it falls back to time.After if timerfd fails.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After delivers the time on the returned channel once d has passed.
func (SystemClock) After(d time.Duration) <-chan time.Time { return preciseAfter(d) }
