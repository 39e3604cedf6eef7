package consensus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// StreamLayer is the connection layer under the TCP transport: a listener
// for inbound connections and a dialer for outbound ones (the same contract
// as raft.StreamLayer). NewTCPStreamLayer is plain TCP; NewTLSStreamLayer
// (tls.go) is mutual TLS with the peer's certificate authorised against the
// cluster members on both sides.
// Addr must return an address peers can dial (never 0.0.0.0).
type StreamLayer interface {
	net.Listener
	Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error)
}

// ForwardLayer carries the write-forwarding RPC: inbound connections from
// followers (Accept) and outbound ones to the leader (DialContext), both
// addressed by raft server address.
type ForwardLayer interface {
	net.Listener
	DialContext(ctx context.Context, addr raft.ServerAddress) (net.Conn, error)
}

// Transport bundles the raft transport and the forwarding layer of one node.
// A Node takes ownership of it; it cannot be reused after the Node shuts down
// (raft closes its transport on Shutdown).
type Transport struct {
	raft    raft.Transport
	forward ForwardLayer
	close   func() error
	once    sync.Once
	err     error
}

// LocalAddr is the raft address peers use for this node.
func (t *Transport) LocalAddr() string { return string(t.raft.LocalAddr()) }

// Close releases listeners and connections. It is idempotent.
func (t *Transport) Close() error {
	t.once.Do(func() {
		if t.close != nil {
			t.err = t.close()
		}
	})
	return t.err
}

// forwardMagic is the first byte of a forwarding connection. raft's
// NetworkTransport starts every connection with an RPC type byte (0-4), so
// the two protocols share one port.
const forwardMagic byte = 'F'

// NewTCPStreamLayer listens on bind (host:port, port 0 = any free port).
// advertise is the address given to peers; nil means the listener's address,
// which must then not be unspecified (0.0.0.0 or ::).
func NewTCPStreamLayer(bind string, advertise net.Addr) (StreamLayer, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("raft listen on %s: %w", bind, err)
	}
	adv := advertise
	if adv == nil {
		adv = ln.Addr()
	}
	tcp, ok := adv.(*net.TCPAddr)
	if !ok || tcp.IP == nil || tcp.IP.IsUnspecified() {
		_ = ln.Close()
		return nil, fmt.Errorf("raft advertise address %v is not dialable by peers: set an explicit advertise address", adv)
	}
	return &tcpStreamLayer{Listener: ln, advertise: adv}, nil
}

type tcpStreamLayer struct {
	net.Listener
	advertise net.Addr
}

func (t *tcpStreamLayer) Addr() net.Addr { return t.advertise }

func (t *tcpStreamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(addr), timeout)
}

// NewTCPTransport is NewStreamTransport over NewTCPStreamLayer.
func NewTCPTransport(bind string, advertise net.Addr, logger *slog.Logger) (*Transport, error) {
	sl, err := NewTCPStreamLayer(bind, advertise)
	if err != nil {
		return nil, err
	}
	return NewStreamTransport(sl, logger), nil
}

// NewStreamTransport multiplexes raft's NetworkTransport and the forwarding
// RPC over one StreamLayer: the first byte of each inbound connection selects
// the protocol. The mux owns sl and closes it (and every connection it
// accepted) in Transport.Close.
func NewStreamTransport(sl StreamLayer, logger *slog.Logger) *Transport {
	m := newMux(sl, logger.With("component", "raft-mux"))
	m.start()
	nt := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:                  &muxRaftLayer{sub: m.raft, base: sl},
		MaxPool:                 3,
		Timeout:                 10 * time.Second,
		Logger:                  NewHCLogger(logger.With("component", "raft-net")),
		MsgpackUseNewTimeFormat: true,
	})
	return &Transport{
		raft:    nt,
		forward: &muxForwardLayer{sub: m.fwd, base: sl},
		close: func() error {
			err := nt.Close()
			return errors.Join(err, m.close())
		},
	}
}

// mux splits inbound connections of a StreamLayer by first byte.
type mux struct {
	base StreamLayer
	log  *slog.Logger
	raft *subListener
	fwd  *subListener

	done chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	shut  bool
}

func newMux(base StreamLayer, log *slog.Logger) *mux {
	m := &mux{base: base, log: log, done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	m.raft = newSubListener(base.Addr(), m.done)
	m.fwd = newSubListener(base.Addr(), m.done)
	return m
}

func (m *mux) start() {
	m.wg.Add(1)
	go m.acceptLoop()
}

// peekTimeout bounds how long an inbound connection may stay silent before
// sending its protocol byte.
const peekTimeout = 10 * time.Second

func (m *mux) acceptLoop() {
	defer m.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := m.base.Accept()
		if err != nil {
			select {
			case <-m.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			m.log.Warn("accept failed", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-m.done:
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		tc := m.track(c)
		if tc == nil {
			return
		}
		m.wg.Add(1)
		go m.route(tc)
	}
}

func (m *mux) route(c net.Conn) {
	defer m.wg.Done()
	var b [1]byte
	_ = c.SetReadDeadline(time.Now().Add(peekTimeout))
	if _, err := io.ReadFull(c, b[:]); err != nil {
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if b[0] == forwardMagic {
		m.fwd.deliver(c)
		return
	}
	m.raft.deliver(&prefixConn{Conn: c, first: b[0], pending: true})
}

// track registers c so close can sever it; it returns nil after close.
func (m *mux) track(c net.Conn) net.Conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shut {
		_ = c.Close()
		return nil
	}
	tc := &trackedConn{Conn: c, m: m}
	m.conns[tc] = struct{}{}
	return tc
}

func (m *mux) close() error {
	m.mu.Lock()
	if m.shut {
		m.mu.Unlock()
		return nil
	}
	m.shut = true
	close(m.done)
	conns := make([]net.Conn, 0, len(m.conns))
	for c := range m.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	err := m.base.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	m.wg.Wait()
	return err
}

type trackedConn struct {
	net.Conn
	m    *mux
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.m.mu.Lock()
		delete(c.m.conns, c)
		c.m.mu.Unlock()
	})
	return c.Conn.Close()
}

// prefixConn replays the peeked protocol byte.
type prefixConn struct {
	net.Conn
	mu      sync.Mutex
	first   byte
	pending bool
}

func (p *prefixConn) Read(b []byte) (int, error) {
	p.mu.Lock()
	if p.pending && len(b) > 0 {
		p.pending = false
		b[0] = p.first
		p.mu.Unlock()
		return 1, nil
	}
	p.mu.Unlock()
	return p.Conn.Read(b)
}

// subListener is a net.Listener fed by the mux.
type subListener struct {
	addr    net.Addr
	ch      chan net.Conn
	closed  chan struct{}
	muxDone <-chan struct{}
	once    sync.Once
}

func newSubListener(addr net.Addr, muxDone <-chan struct{}) *subListener {
	return &subListener{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{}), muxDone: muxDone}
}

func (s *subListener) deliver(c net.Conn) {
	select {
	case s.ch <- c:
	case <-s.closed:
		_ = c.Close()
	case <-s.muxDone:
		_ = c.Close()
	}
}

func (s *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.ch:
		return c, nil
	case <-s.closed:
		return nil, net.ErrClosed
	case <-s.muxDone:
		return nil, net.ErrClosed
	}
}

func (s *subListener) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func (s *subListener) Addr() net.Addr { return s.addr }

// muxRaftLayer is the raft.StreamLayer view of the mux.
type muxRaftLayer struct {
	sub  *subListener
	base StreamLayer
}

func (l *muxRaftLayer) Accept() (net.Conn, error) { return l.sub.Accept() }
func (l *muxRaftLayer) Close() error              { return l.sub.Close() }
func (l *muxRaftLayer) Addr() net.Addr            { return l.sub.Addr() }
func (l *muxRaftLayer) Dial(a raft.ServerAddress, t time.Duration) (net.Conn, error) {
	return l.base.Dial(a, t)
}

// muxForwardLayer is the ForwardLayer view of the mux.
type muxForwardLayer struct {
	sub  *subListener
	base StreamLayer
}

func (l *muxForwardLayer) Accept() (net.Conn, error) { return l.sub.Accept() }
func (l *muxForwardLayer) Close() error              { return l.sub.Close() }
func (l *muxForwardLayer) Addr() net.Addr            { return l.sub.Addr() }

func (l *muxForwardLayer) DialContext(ctx context.Context, a raft.ServerAddress) (net.Conn, error) {
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return nil, context.DeadlineExceeded
	}
	c, err := l.base.Dial(a, timeout)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetWriteDeadline(dl)
	}
	if _, err := c.Write([]byte{forwardMagic}); err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = c.SetWriteDeadline(time.Time{})
	return c, nil
}
