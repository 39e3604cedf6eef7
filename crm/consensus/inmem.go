package consensus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/hashicorp/raft"
)

// ErrUnreachable is returned by the in-memory network for isolated or
// unknown peers.
var ErrUnreachable = errors.New("peer unreachable")

// InmemNetwork connects Nodes in one process through raft's InmemTransport
// and in-memory pipes for forwarding: fast, deterministic cluster tests with
// Isolate/Heal to simulate failures. Safe for concurrent use.
type InmemNetwork struct {
	mu    sync.Mutex
	nodes map[raft.ServerAddress]*inmemNode
}

type inmemNode struct {
	trans    *raft.InmemTransport
	fwd      *pipeLayer
	isolated bool
}

// NewInmemNetwork returns an empty network.
func NewInmemNetwork() *InmemNetwork {
	return &InmemNetwork{nodes: map[raft.ServerAddress]*inmemNode{}}
}

// NewTransport creates the transport for addr, replacing any previous one
// with that address (a restarted node), and connects it to every
// non-isolated peer.
func (n *InmemNetwork) NewTransport(addr string) *Transport {
	a := raft.ServerAddress(addr)
	_, t := raft.NewInmemTransport(a)
	fwd := &pipeLayer{net: n, addr: a, ch: make(chan net.Conn), closed: make(chan struct{})}
	node := &inmemNode{trans: t, fwd: fwd}
	n.mu.Lock()
	n.nodes[a] = node
	for pa, p := range n.nodes {
		if pa == a || p.isolated {
			continue
		}
		t.Connect(pa, p.trans)
		p.trans.Connect(a, t)
	}
	n.mu.Unlock()
	return &Transport{
		raft:    t,
		forward: fwd,
		close: func() error {
			_ = t.Close()
			return fwd.Close()
		},
	}
}

// Isolate cuts addr off from every peer in both directions.
func (n *InmemNetwork) Isolate(addr string) {
	a := raft.ServerAddress(addr)
	n.mu.Lock()
	defer n.mu.Unlock()
	node, ok := n.nodes[a]
	if !ok {
		return
	}
	node.isolated = true
	node.trans.DisconnectAll()
	for pa, p := range n.nodes {
		if pa != a {
			p.trans.Disconnect(a)
		}
	}
}

// Heal reconnects an isolated addr to every non-isolated peer.
func (n *InmemNetwork) Heal(addr string) {
	a := raft.ServerAddress(addr)
	n.mu.Lock()
	defer n.mu.Unlock()
	node, ok := n.nodes[a]
	if !ok {
		return
	}
	node.isolated = false
	for pa, p := range n.nodes {
		if pa == a || p.isolated {
			continue
		}
		node.trans.Connect(pa, p.trans)
		p.trans.Connect(a, node.trans)
	}
}

// pipeLayer is the in-memory ForwardLayer.
type pipeLayer struct {
	net    *InmemNetwork
	addr   raft.ServerAddress
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (p *pipeLayer) Accept() (net.Conn, error) {
	select {
	case c := <-p.ch:
		return c, nil
	case <-p.closed:
		return nil, net.ErrClosed
	}
}

func (p *pipeLayer) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

func (p *pipeLayer) Addr() net.Addr { return inmemAddr(p.addr) }

func (p *pipeLayer) DialContext(ctx context.Context, addr raft.ServerAddress) (net.Conn, error) {
	p.net.mu.Lock()
	self, target := p.net.nodes[p.addr], p.net.nodes[addr]
	reachable := self != nil && !self.isolated && target != nil && !target.isolated
	p.net.mu.Unlock()
	if !reachable {
		return nil, fmt.Errorf("dial %s: %w", addr, ErrUnreachable)
	}
	client, server := net.Pipe()
	select {
	case target.fwd.ch <- server:
		return client, nil
	case <-target.fwd.closed:
	case <-ctx.Done():
	}
	_ = client.Close()
	_ = server.Close()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return nil, fmt.Errorf("dial %s: %w", addr, ErrUnreachable)
}

type inmemAddr string

func (a inmemAddr) Network() string { return "inmem" }
func (a inmemAddr) String() string  { return string(a) }
