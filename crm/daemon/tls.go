package daemon

// Transport security of a node: raft, write forwarding and the node RPC run
// over mutual TLS (package consensus, tls.go) when the node has a
// certificate, or over plain TCP when Config.InsecureTransport says so
// explicitly (loud warning at start). Peers are authorised against the
// gossip members and the raft configuration; before the DC adds a raft
// server it checks the new node's certificate (a probe connection), so a
// node with a wrong certificate never enters the raft configuration even
// though it holds the gossip key.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/crm/dc"
	"github.com/gocrm/gocrm/crm/noderpc"
	"github.com/gocrm/gocrm/membership"
)

// transportSecurity is created by New and bound to the components in
// Start. mtls is nil for an insecure (plain TCP) node. Safe for concurrent
// use after Start.
type transportSecurity struct {
	mtls  *consensus.MTLS
	auth  *consensus.ClusterAuthorizer
	layer prober // the raft TLS layer (nil: insecure)
	log   *slog.Logger

	mu      sync.Mutex
	members func() []membership.Member
	failed  map[string]probeFailure
}

// prober checks a node's certificate at its raft address
// (*consensus.TLSStreamLayer).
type prober interface {
	Probe(ctx context.Context, id, addr string) error
}

type probeFailure struct {
	next    time.Time
	backoff time.Duration
	err     error
}

// Probe back-off for a node whose certificate check failed.
const (
	probeBackoffMin = time.Second
	probeBackoffMax = time.Minute
)

func newTransportSecurity(cfg *Config, log *slog.Logger) (*transportSecurity, error) {
	s := &transportSecurity{log: log, failed: map[string]probeFailure{}}
	id := cfg.TLS
	files := cfg.TLSCAFile != "" || cfg.TLSCertFile != "" || cfg.TLSKeyFile != ""
	switch {
	case id != nil && files:
		return nil, fmt.Errorf("%w: set either TLS or the TLS files, not both", ErrConfig)
	case files && (cfg.TLSCAFile == "" || cfg.TLSCertFile == "" || cfg.TLSKeyFile == ""):
		return nil, fmt.Errorf("%w: the TLS CA, certificate and key files are all required", ErrConfig)
	case files:
		var err error
		id, err = consensus.LoadTLSIdentity(cfg.TLSCAFile, cfg.TLSCertFile, cfg.TLSKeyFile, cfg.KeyOwnerCheck)
		if err != nil {
			return nil, fmt.Errorf("daemon: TLS: %w", err)
		}
	}
	if id == nil {
		if !cfg.InsecureTransport {
			return nil, fmt.Errorf("%w: no TLS certificate: raft and node RPC need mutual TLS (TLS files) unless InsecureTransport is set explicitly", ErrConfig)
		}
		return s, nil
	}
	if cfg.InsecureTransport {
		return nil, fmt.Errorf("%w: InsecureTransport and a TLS certificate are mutually exclusive", ErrConfig)
	}
	if id.Name() != cfg.Name {
		return nil, fmt.Errorf("%w: the TLS certificate is for node %q, this node is %q", ErrConfig, id.Name(), cfg.Name)
	}
	if left := time.Until(id.NotAfter()); left < 30*24*time.Hour {
		log.Warn("TLS certificate expires soon; issue a new one with: crm cluster cert NODE", "not_after", id.NotAfter())
	}
	s.auth = consensus.NewClusterAuthorizer(cfg.Name)
	s.mtls = consensus.NewMTLS(id, s.auth, log)
	return s, nil
}

// transport opens the raft transport (mTLS or, explicitly, plain TCP).
func (s *transportSecurity) transport(bind string, adv net.Addr, log *slog.Logger) (*consensus.Transport, error) {
	if s.mtls == nil {
		s.log.Warn("INSECURE TRANSPORT: raft, write forwarding and node RPC run over plain TCP without per-node " +
			"authentication; any holder of the gossip key can act as any node. Use --tls-ca/--tls-cert/--tls-key.")
		return consensus.NewTCPTransport(bind, adv, log)
	}
	tr, layer, err := consensus.NewTLSTransport(bind, adv, s.mtls, log)
	if err != nil {
		return nil, err
	}
	s.layer = layer
	s.log.Info("raft and node RPC use mutual TLS", "certificate", s.mtls.Identity().Name(),
		"not_after", s.mtls.Identity().NotAfter().UTC().Format(time.RFC3339))
	return tr, nil
}

// listen opens the node RPC listener.
func (s *transportSecurity) listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil || s.mtls == nil {
		return ln, err
	}
	return s.mtls.Listen(ln, "noderpc"), nil
}

// bindRaft makes the raft configuration an authorisation source.
func (s *transportSecurity) bindRaft(n *consensus.Node) {
	if s.auth != nil {
		s.auth.SetServers(n.Servers)
	}
}

// bindMembers makes the gossip members an authorisation source.
func (s *transportSecurity) bindMembers(a *membership.Agent) {
	s.mu.Lock()
	s.members = a.Members
	s.mu.Unlock()
	if s.auth != nil {
		s.auth.SetMembers(a.Members)
	}
}

// rpcClient returns the DC's node RPC client.
func (s *transportSecurity) rpcClient(key []byte) *noderpc.Client {
	c := &noderpc.Client{Key: key}
	if s != nil && s.mtls != nil {
		c.Dial = s.dialRPC
	}
	return c
}

// dialRPC connects to the node whose node RPC address is addr.
func (s *transportSecurity) dialRPC(ctx context.Context, addr string) (net.Conn, error) {
	s.mu.Lock()
	members := s.members
	s.mu.Unlock()
	name := ""
	if members != nil {
		for _, m := range members() {
			if a, err := noderpc.AddrFor(m.Addr.String()); err == nil && a == addr {
				name = m.Name
				break
			}
		}
	}
	if name == "" {
		return nil, fmt.Errorf("%w: no member has node RPC address %s", consensus.ErrPeerNotAuthorized, addr)
	}
	return s.mtls.Dial(ctx, addr, name)
}

// probe checks a node's certificate before it is added to raft, backing
// off (up to a minute) after failures so that a rogue member is neither
// added nor hammered.
func (s *transportSecurity) probe(ctx context.Context, id, addr string) error {
	if s == nil || s.layer == nil {
		return nil
	}
	s.mu.Lock()
	st := s.failed[id]
	s.mu.Unlock()
	if wait := time.Until(st.next); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("not adding %s to raft: its certificate check failed (%v): %w", id, st.err, ctx.Err())
		}
	}
	err := s.layer.Probe(ctx, id, addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.failed, id)
		return nil
	}
	b := min(max(2*st.backoff, probeBackoffMin), probeBackoffMax)
	s.failed[id] = probeFailure{next: time.Now().Add(b), backoff: b, err: err}
	return fmt.Errorf("not adding %s (%s) to raft: certificate check failed: %w", id, addr, err)
}

// dcRaft is the raft handle given to the DC: AddServer first checks the
// new node's certificate.
func (s *transportSecurity) dcRaft(n *consensus.Node) dc.Raft {
	if s == nil || s.layer == nil {
		return n
	}
	return probedRaft{Node: n, sec: s}
}

type probedRaft struct {
	*consensus.Node
	sec *transportSecurity
}

func (p probedRaft) AddServer(ctx context.Context, id, addr string) error {
	if err := p.sec.probe(ctx, id, addr); err != nil {
		return err
	}
	return p.Node.AddServer(ctx, id, addr)
}
