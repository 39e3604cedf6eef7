package consensus

// Mutual TLS for node-to-node traffic (raft, write forwarding and, through
// the same listener/dialer, the DC→node action RPC).
//
// Identity: every node holds a certificate whose CN and DNS SAN are its node
// name, signed by the cluster CA (tlspki.go). Both ends of every connection
// present their certificate; each end
//
//  1. verifies the peer's chain against the cluster CA (expiry included),
//  2. extracts the peer's node name from the certificate, and
//  3. authorises that name with a PeerAuthorizer: the name must belong to
//     the cluster (a gossip member or a server of the raft configuration).
//     A certificate signed by the CA for a node that is not in the cluster
//     is refused (the Nomad/Consul CVE-2021-37218/37219 lesson: "signed by
//     our CA" is not enough).
//
// The dialing side also checks that the peer is the node it meant to reach:
// the name expected at a raft address comes from the raft configuration or
// the members' gossiped raft addresses (PeerAuthorizer.RaftPeerName).
//
// Only TLS 1.3 is accepted. After a successful handshake the accepting side
// sends one acknowledgement byte (tlsAck) once it has authorised the client;
// the dialer waits for it, so a refusal surfaces in Dial (TLS 1.3 clients
// otherwise finish their handshake before the server has checked their
// certificate). Refusals are logged with the remote address and the reason
// (rate-limited per remote host and reason); key material never is.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gocrm/gocrm/membership"
	"github.com/hashicorp/raft"
)

// Sentinel errors of the mTLS layer.
var (
	// ErrPeerRejected: the peer's certificate is missing, not signed by the
	// cluster CA, expired, unusable for the role, or names another node
	// than the one dialled.
	ErrPeerRejected = errors.New("peer certificate rejected")
	// ErrPeerNotAuthorized: the certificate is valid but its node is not
	// in the cluster (neither a member nor in the raft configuration), or
	// no cluster node is known at the dialled address.
	ErrPeerNotAuthorized = errors.New("peer not authorized")
	// ErrRefusedByPeer: the peer closed the connection or sent a TLS alert
	// instead of the acknowledgement (it refused our certificate).
	ErrRefusedByPeer = errors.New("refused by peer")
)

// tlsAck is written by the accepting side once the client is authorised.
const tlsAck byte = 0x06

// tlsHandshakeTimeout bounds an inbound handshake plus acknowledgement.
const tlsHandshakeTimeout = 10 * time.Second

// maxPendingHandshakes bounds concurrent inbound handshakes per listener.
const maxPendingHandshakes = 64

// TLSIdentity is a node's TLS material: the cluster CA pool and the node's
// certificate and key. It is immutable and safe for concurrent use.
type TLSIdentity struct {
	name  string
	cert  tls.Certificate
	roots *x509.CertPool
	now   func() time.Time
}

// NewTLSIdentity builds an identity from PEM data: caPEM may hold several
// CA certificates (rotation); certPEM is the node certificate (optionally
// followed by intermediates); keyPEM its private key. The certificate must
// chain to a CA of caPEM, be currently valid and usable for TLS server and
// client authentication. Errors wrap ErrTLSFile and never include key
// bytes.
func NewTLSIdentity(caPEM, certPEM, keyPEM []byte) (*TLSIdentity, error) {
	cas, err := parseCerts(caPEM)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	roots := x509.NewCertPool()
	for _, c := range cas {
		roots.AddCert(c)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls errors describe the mismatch, never the key.
		return nil, fmt.Errorf("%w: node certificate and key: %v", ErrTLSFile, err)
	}
	id := &TLSIdentity{cert: cert, roots: roots, now: time.Now}
	leaf := cert.Leaf
	if leaf == nil {
		return nil, fmt.Errorf("%w: node certificate could not be parsed", ErrTLSFile)
	}
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := id.verifyChain(leaf, cert.Certificate[1:], u); err != nil {
			return nil, fmt.Errorf("%w: node certificate: %w", ErrTLSFile, err)
		}
	}
	name, err := CertNodeName(leaf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTLSFile, err)
	}
	id.name = name
	return id, nil
}

// LoadTLSIdentity reads the CA, certificate and key files. The key file
// must be a regular file with mode 0600 or 0400 passing check
// (membership.RequireRootOwner when nil), as for the gossip key; the
// certificate files must not be writable by group or other.
func LoadTLSIdentity(caFile, certFile, keyFile string, check membership.OwnerCheck) (*TLSIdentity, error) {
	kp, err := readSecretFile(keyFile, check)
	if err != nil {
		return nil, err
	}
	ca, err := readPublicFile(caFile)
	if err != nil {
		return nil, err
	}
	cp, err := readPublicFile(certFile)
	if err != nil {
		return nil, err
	}
	id, err := NewTLSIdentity(ca, cp, kp)
	if err != nil {
		return nil, fmt.Errorf("%s, %s, %s: %w", caFile, certFile, keyFile, err)
	}
	return id, nil
}

// Name is the node name the certificate asserts.
func (id *TLSIdentity) Name() string { return id.name }

// NotAfter is the expiry of the node certificate.
func (id *TLSIdentity) NotAfter() time.Time { return id.cert.Leaf.NotAfter }

// String names the identity without any key material.
func (id *TLSIdentity) String() string { return "TLSIdentity(" + id.name + ")" }

// LogValue keeps key material out of structured logs.
func (id *TLSIdentity) LogValue() slog.Value { return slog.StringValue(id.String()) }

// WithClock returns a copy that verifies peers at now() (tests).
func (id *TLSIdentity) WithClock(now func() time.Time) *TLSIdentity {
	c := *id
	c.now = now
	return &c
}

// CertNodeName returns the node name a certificate asserts: its CN, which
// must also be one of its DNS SANs when it has any; a certificate without
// CN must carry exactly one DNS SAN.
func CertNodeName(c *x509.Certificate) (string, error) {
	cn := c.Subject.CommonName
	switch {
	case cn != "" && (len(c.DNSNames) == 0 || slices.Contains(c.DNSNames, cn)):
		return cn, nil
	case cn != "":
		return "", fmt.Errorf("certificate CN %q is not among its DNS names %v", cn, c.DNSNames)
	case len(c.DNSNames) == 1:
		return c.DNSNames[0], nil
	}
	return "", errors.New("certificate names no node (no CN, not exactly one DNS name)")
}

func (id *TLSIdentity) verifyChain(leaf *x509.Certificate, rest [][]byte, usage x509.ExtKeyUsage) ([][]*x509.Certificate, error) {
	inter := x509.NewCertPool()
	for _, der := range rest {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("intermediate certificate: %w", err)
		}
		inter.AddCert(c)
	}
	return leaf.Verify(x509.VerifyOptions{Roots: id.roots, Intermediates: inter, CurrentTime: id.now(),
		KeyUsages: []x509.ExtKeyUsage{usage}})
}

// verifyPeer checks the peer's chain and returns its node name.
func (id *TLSIdentity) verifyPeer(cs tls.ConnectionState, usage x509.ExtKeyUsage) (string, error) {
	if len(cs.PeerCertificates) == 0 {
		return "", fmt.Errorf("%w: no certificate presented", ErrPeerRejected)
	}
	leaf := cs.PeerCertificates[0]
	var rest [][]byte
	for _, c := range cs.PeerCertificates[1:] {
		rest = append(rest, c.Raw)
	}
	desc := fmt.Sprintf("certificate %q (issuer %q, serial %x)", leaf.Subject.CommonName, leaf.Issuer.CommonName, leaf.SerialNumber)
	if _, err := id.verifyChain(leaf, rest, usage); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrPeerRejected, desc, err)
	}
	name, err := CertNodeName(leaf)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrPeerRejected, desc, err)
	}
	return name, nil
}

func (id *TLSIdentity) baseConfig() *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS13,
		MaxVersion:             tls.VersionTLS13,
		Certificates:           []tls.Certificate{id.cert},
		SessionTicketsDisabled: true,
		Time:                   id.now,
	}
}

// ServerConfig returns the TLS configuration of the accepting side: TLS 1.3
// only, client certificate required, chain verified against the cluster CA
// and the client's node name authorised by auth.
func (id *TLSIdentity) ServerConfig(auth PeerAuthorizer) *tls.Config {
	cfg := id.baseConfig()
	cfg.ClientAuth = tls.RequireAnyClientCert // verified below, with clearer errors
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		name, err := id.verifyPeer(cs, x509.ExtKeyUsageClientAuth)
		if err != nil {
			return err
		}
		if err := auth.AuthorizePeer(name); err != nil {
			return err
		}
		return nil
	}
	return cfg
}

// ClientConfig returns the TLS configuration for dialling node expect: the
// server's chain is verified against the cluster CA, its certificate must
// name expect, and expect must be authorised by auth.
func (id *TLSIdentity) ClientConfig(expect string, auth PeerAuthorizer) *tls.Config {
	cfg := id.baseConfig()
	cfg.ServerName = expect
	// Chain and name are verified in VerifyConnection (node names need not
	// be DNS host names; errors are clearer). The handshake still proves
	// possession of the certificate's key.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		name, err := id.verifyPeer(cs, x509.ExtKeyUsageServerAuth)
		if err != nil {
			return err
		}
		if name != expect {
			return fmt.Errorf("%w: the peer presents a certificate for %q, expected %q", ErrPeerRejected, name, expect)
		}
		return auth.AuthorizePeer(name)
	}
	return cfg
}

// PeerAuthorizer decides which nodes may talk to this one. Implementations
// must be safe for concurrent use; they are called during handshakes.
type PeerAuthorizer interface {
	// AuthorizePeer returns nil if the node named by a verified
	// certificate belongs to the cluster, else an error wrapping
	// ErrPeerNotAuthorized.
	AuthorizePeer(name string) error
	// RaftPeerName returns the node expected at a raft address.
	RaftPeerName(addr string) (name string, ok bool)
}

// ClusterAuthorizer authorises the node itself, the live gossip members and
// the servers of the raft configuration (a voter that is down or
// partitioned from gossip stays authorised while it is in the
// configuration). Its sources are set once the components exist; until
// then only the node itself is authorised. Safe for concurrent use.
type ClusterAuthorizer struct {
	self    string
	mu      sync.RWMutex
	members func() []membership.Member
	servers func() ([]Server, error)
}

// NewClusterAuthorizer returns an authorizer for node self with no sources.
func NewClusterAuthorizer(self string) *ClusterAuthorizer { return &ClusterAuthorizer{self: self} }

// SetMembers sets the gossip member source (membership.Agent.Members).
func (a *ClusterAuthorizer) SetMembers(f func() []membership.Member) {
	a.mu.Lock()
	a.members = f
	a.mu.Unlock()
}

// SetServers sets the raft configuration source (Node.Servers).
func (a *ClusterAuthorizer) SetServers(f func() ([]Server, error)) {
	a.mu.Lock()
	a.servers = f
	a.mu.Unlock()
}

func (a *ClusterAuthorizer) sources() (func() []membership.Member, func() ([]Server, error)) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.members, a.servers
}

// AuthorizePeer implements PeerAuthorizer.
func (a *ClusterAuthorizer) AuthorizePeer(name string) error {
	if name == a.self {
		return nil
	}
	members, servers := a.sources()
	if servers != nil {
		if ss, err := servers(); err == nil {
			for _, s := range ss {
				if s.ID == name {
					return nil
				}
			}
		}
	}
	if members != nil {
		for _, m := range members() {
			if m.Name == name {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: node %q is neither a cluster member nor in the raft configuration", ErrPeerNotAuthorized, name)
}

// RaftPeerName implements PeerAuthorizer: the raft configuration first,
// then the members' gossiped raft addresses.
func (a *ClusterAuthorizer) RaftPeerName(addr string) (string, bool) {
	members, servers := a.sources()
	if servers != nil {
		if ss, err := servers(); err == nil {
			for _, s := range ss {
				if s.Address == addr {
					return s.ID, true
				}
			}
		}
	}
	if members != nil {
		for _, m := range members() {
			if m.Meta.RaftAddr == addr {
				return m.Name, true
			}
		}
	}
	return "", false
}

// StaticPeers is a fixed PeerAuthorizer: node name → raft address. It must
// not be modified while in use.
type StaticPeers map[string]string

// AuthorizePeer implements PeerAuthorizer.
func (p StaticPeers) AuthorizePeer(name string) error {
	if _, ok := p[name]; ok {
		return nil
	}
	return fmt.Errorf("%w: node %q is not a cluster member", ErrPeerNotAuthorized, name)
}

// RaftPeerName implements PeerAuthorizer.
func (p StaticPeers) RaftPeerName(addr string) (string, bool) {
	for n, a := range p {
		if a == addr {
			return n, true
		}
	}
	return "", false
}

// MTLS dials and accepts mutually authenticated connections for one node.
// Safe for concurrent use.
type MTLS struct {
	id   *TLSIdentity
	auth PeerAuthorizer
	log  *slog.Logger
	lim  *logLimiter
}

// NewMTLS binds an identity to an authorizer; refusals are logged to log.
func NewMTLS(id *TLSIdentity, auth PeerAuthorizer, log *slog.Logger) *MTLS {
	return &MTLS{id: id, auth: auth, log: log.With("component", "mtls"), lim: newLogLimiter(10*time.Second, time.Now)}
}

// Identity returns the node identity.
func (m *MTLS) Identity() *TLSIdentity { return m.id }

// Authorizer returns the peer authorizer.
func (m *MTLS) Authorizer() PeerAuthorizer { return m.auth }

// Dial connects to addr, where node expect must answer, and returns the
// connection once both sides have verified and authorised each other. The
// context bounds the whole exchange. Errors wrap ErrPeerRejected,
// ErrPeerNotAuthorized or ErrRefusedByPeer when TLS refused the peer.
func (m *MTLS) Dial(ctx context.Context, addr, expect string) (net.Conn, error) {
	if err := m.auth.AuthorizePeer(expect); err != nil {
		m.refused("outbound", addr, expect, err)
		return nil, fmt.Errorf("mtls dial %s (%s): %w", addr, expect, err)
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mtls dial %s (%s): %w", addr, expect, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Now()) })
	defer stop()
	c := tls.Client(raw, m.id.ClientConfig(expect, m.auth))
	fail := func(err error) (net.Conn, error) {
		_ = c.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("mtls dial %s (%s): %w: %w", addr, expect, ctx.Err(), err)
		}
		m.refused("outbound", addr, expect, err)
		return nil, fmt.Errorf("mtls dial %s (%s): %w", addr, expect, err)
	}
	if err := c.HandshakeContext(ctx); err != nil {
		return fail(classify(err))
	}
	var b [1]byte
	if _, err := c.Read(b[:]); err != nil {
		if isRemoteAlert(err) {
			return fail(fmt.Errorf("%w: %w", ErrRefusedByPeer, err))
		}
		return fail(fmt.Errorf("no acknowledgement from the peer: %w", err))
	}
	if b[0] != tlsAck {
		return fail(fmt.Errorf("%w: unexpected acknowledgement byte %#x", ErrRefusedByPeer, b[0]))
	}
	if !stop() {
		return fail(ctx.Err())
	}
	_ = raw.SetDeadline(time.Time{})
	return c, nil
}

// classify wraps TLS alerts and protocol failures from the handshake.
func classify(err error) error {
	if errors.Is(err, ErrPeerRejected) || errors.Is(err, ErrPeerNotAuthorized) {
		return err
	}
	var rec tls.RecordHeaderError
	switch {
	case isRemoteAlert(err):
		return fmt.Errorf("%w: %w", ErrRefusedByPeer, err)
	case errors.As(err, &rec):
		return fmt.Errorf("%w: the peer does not speak TLS (plain-TCP peer?): %w", ErrRefusedByPeer, err)
	}
	return err
}

// isTLSRefusal reports whether err is a security refusal (logged at Warn)
// rather than a network failure.
func isTLSRefusal(err error) bool {
	var rec tls.RecordHeaderError
	return errors.Is(err, ErrPeerRejected) || errors.Is(err, ErrPeerNotAuthorized) || errors.Is(err, ErrRefusedByPeer) ||
		isRemoteAlert(err) || errors.As(err, &rec) || strings.Contains(err.Error(), "tls:")
}

// isRemoteAlert reports whether err is a TLS alert sent by the peer
// (crypto/tls reports them as a net.OpError with Op "remote error").
func isRemoteAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

func (m *MTLS) refused(dir, remote, peer string, err error) {
	if !isTLSRefusal(err) {
		m.log.Debug("mTLS connection failed", "direction", dir, "remote", remote, "err", err)
		return
	}
	host := remote
	if h, _, e := net.SplitHostPort(remote); e == nil {
		host = h
	}
	reason := err.Error()
	// Digits (times, serials, ports) in the reason do not make a new one.
	class := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, reason)
	ok, suppressed := m.lim.allow(dir + "|" + host + "|" + peer + "|" + class)
	if !ok {
		return
	}
	attrs := []any{"direction", dir, "remote", remote}
	if peer != "" {
		attrs = append(attrs, "expected_peer", peer)
	}
	attrs = append(attrs, "reason", reason)
	if suppressed > 0 {
		attrs = append(attrs, "suppressed", suppressed)
	}
	m.log.Warn("mTLS: connection refused", attrs...)
}

// Listen wraps inner: Accept returns only connections whose TLS handshake
// succeeded and whose client was authorised (and acknowledged). Handshakes
// run in goroutines owned by the listener, at most maxPendingHandshakes at
// a time, each bounded by tlsHandshakeTimeout. Close closes inner, aborts
// pending handshakes and waits for them. purpose names the listener in
// logs.
func (m *MTLS) Listen(inner net.Listener, purpose string) net.Listener {
	l := &tlsListener{m: m, inner: inner, purpose: purpose, ready: make(chan net.Conn),
		done: make(chan struct{}), failed: make(chan struct{}), sem: make(chan struct{}, maxPendingHandshakes),
		pending: map[net.Conn]struct{}{}}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

type tlsListener struct {
	m       *MTLS
	inner   net.Listener
	purpose string
	ready   chan net.Conn
	done    chan struct{}
	failed  chan struct{}
	err     error // set before failed is closed
	sem     chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	mu      sync.Mutex
	pending map[net.Conn]struct{}
	closed  bool
}

func (l *tlsListener) acceptLoop() {
	defer l.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		select {
		case l.sem <- struct{}{}:
		case <-l.done:
			return
		}
		c, err := l.inner.Accept()
		if err != nil {
			<-l.sem
			select {
			case <-l.done:
				return
			default:
			}
			if !errors.Is(err, net.ErrClosed) {
				// Transient (e.g. out of file descriptors): retry.
				l.m.log.Warn("mTLS: accept failed; retrying", "listener", l.purpose, "err", err, "retry_in", backoff)
				select {
				case <-time.After(backoff):
				case <-l.done:
					return
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			l.err = err
			close(l.failed)
			return
		}
		backoff = 5 * time.Millisecond
		if !l.track(c) {
			<-l.sem
			return
		}
		l.wg.Add(1)
		go l.handshake(c)
	}
}

func (l *tlsListener) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Close()
		return false
	}
	l.pending[c] = struct{}{}
	return true
}

func (l *tlsListener) untrack(c net.Conn) {
	l.mu.Lock()
	delete(l.pending, c)
	l.mu.Unlock()
}

func (l *tlsListener) handshake(raw net.Conn) {
	defer l.wg.Done()
	defer func() { <-l.sem }()
	defer l.untrack(raw)
	remote := raw.RemoteAddr().String()
	_ = raw.SetDeadline(time.Now().Add(tlsHandshakeTimeout))
	c := tls.Server(raw, l.m.id.ServerConfig(l.m.auth))
	if err := c.Handshake(); err != nil {
		_ = raw.Close()
		var rec tls.RecordHeaderError
		if errors.As(err, &rec) {
			err = fmt.Errorf("%w: not a TLS client (plain TCP?): %w", ErrPeerRejected, err)
		}
		l.m.refused("inbound "+l.purpose, remote, "", err)
		return
	}
	if _, err := c.Write([]byte{tlsAck}); err != nil {
		_ = raw.Close()
		l.m.log.Debug("mTLS: acknowledgement not delivered", "remote", remote, "err", err)
		return
	}
	_ = raw.SetDeadline(time.Time{})
	select {
	case l.ready <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-l.failed:
		select {
		case c := <-l.ready:
			return c, nil
		case <-l.done:
			return nil, net.ErrClosed
		default:
		}
		return nil, fmt.Errorf("mtls %s listener: %w", l.purpose, l.err)
	}
}

// Close implements net.Listener; it is idempotent.
func (l *tlsListener) Close() error {
	var err error
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		for c := range l.pending {
			_ = c.Close()
		}
		l.mu.Unlock()
		close(l.done)
		err = l.inner.Close()
		l.wg.Wait()
	})
	return err
}

func (l *tlsListener) Addr() net.Addr { return l.inner.Addr() }

// TLSStreamLayer is the mTLS StreamLayer for NewStreamTransport: it
// listens with MTLS.Listen and dials the node that PeerAuthorizer.
// RaftPeerName names at the raft address. Safe for concurrent use; Close
// (called by the Transport) stops the listener and its handshakes.
type TLSStreamLayer struct {
	net.Listener
	m         *MTLS
	advertise net.Addr
}

// NewTLSStreamLayer listens on bind (host:port, port 0 = any free port);
// advertise follows NewTCPStreamLayer's rules.
func NewTLSStreamLayer(bind string, advertise net.Addr, m *MTLS) (*TLSStreamLayer, error) {
	sl, err := NewTCPStreamLayer(bind, advertise)
	if err != nil {
		return nil, err
	}
	tcp := sl.(*tcpStreamLayer)
	return &TLSStreamLayer{Listener: m.Listen(tcp.Listener, "raft"), m: m, advertise: tcp.advertise}, nil
}

// Addr is the advertised address.
func (s *TLSStreamLayer) Addr() net.Addr { return s.advertise }

// Dial implements StreamLayer.
func (s *TLSStreamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	name, ok := s.m.auth.RaftPeerName(string(addr))
	if !ok {
		err := fmt.Errorf("%w: no cluster node is known at raft address %s", ErrPeerNotAuthorized, addr)
		s.m.refused("outbound", string(addr), "", err)
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.m.Dial(ctx, string(addr), name)
}

// Probe checks that node id answers at raft address addr with a valid
// certificate for id and accepts this node's certificate. Leaders call it
// before adding a server, so a node with a wrong certificate never enters
// the raft configuration.
func (s *TLSStreamLayer) Probe(ctx context.Context, id, addr string) error {
	c, err := s.m.Dial(ctx, addr, id)
	if err != nil {
		return err
	}
	return c.Close()
}

// NewTLSTransport is NewStreamTransport over NewTLSStreamLayer. It also
// returns the layer (for Probe).
func NewTLSTransport(bind string, advertise net.Addr, m *MTLS, logger *slog.Logger) (*Transport, *TLSStreamLayer, error) {
	sl, err := NewTLSStreamLayer(bind, advertise, m)
	if err != nil {
		return nil, nil, err
	}
	return NewStreamTransport(sl, logger), sl, nil
}

// PeerName returns the verified node name of an mTLS connection returned by
// MTLS.Dial or by Accept of an MTLS listener.
func PeerName(c net.Conn) (string, bool) {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return "", false
	}
	cs := tc.ConnectionState()
	if !cs.HandshakeComplete || len(cs.PeerCertificates) == 0 {
		return "", false
	}
	n, err := CertNodeName(cs.PeerCertificates[0])
	return n, err == nil
}

// logLimiter lets one log line per key through per interval and counts the
// rest. Safe for concurrent use.
type logLimiter struct {
	every time.Duration
	now   func() time.Time
	mu    sync.Mutex
	seen  map[string]*limEntry
}

type limEntry struct {
	last       time.Time
	suppressed int
}

func newLogLimiter(every time.Duration, now func() time.Time) *logLimiter {
	return &logLimiter{every: every, now: now, seen: map[string]*limEntry{}}
}

// allow reports whether to log key now and how many lines were suppressed
// since the last one.
func (l *logLimiter) allow(key string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.seen) > 1024 { // bound memory: forget entries past their window
		for k, e := range l.seen {
			if now.Sub(e.last) >= l.every {
				delete(l.seen, k)
			}
		}
	}
	e, ok := l.seen[key]
	if !ok {
		l.seen[key] = &limEntry{last: now}
		return true, 0
	}
	if now.Sub(e.last) < l.every {
		e.suppressed++
		return false, 0
	}
	n := e.suppressed
	e.last, e.suppressed = now, 0
	return true, n
}
