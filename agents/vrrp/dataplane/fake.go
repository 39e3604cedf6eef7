package dataplane

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/router"
)

// Segment is an in-memory L2 segment joining FakeNets: every advert sent
// by one node's socket reaches every other node's socket of the same family
// (and protocol) on the segment, like multicast flooded by a switch. Cut
// partitions one node off (a silent partition). Safe for concurrent use.
type Segment struct {
	mu    sync.Mutex
	conns []*fakeConn
	cut   map[string]bool
}

// NewSegment returns an empty segment.
func NewSegment() *Segment { return &Segment{cut: map[string]bool{}} }

// Cut isolates (true) or reconnects (false) the named node.
func (s *Segment) Cut(node string, isolated bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut[node] = isolated
}

// FakeNet is a Net whose sockets live on a Segment under a node name.
type FakeNet struct {
	Seg  *Segment
	Node string
}

// Open implements Net.
func (f *FakeNet) Open(ifname string, ipv6 bool, proto int, _ []netip.Addr) (Conn, error) {
	c := &fakeConn{seg: f.Seg, node: f.Node, v6: ipv6, proto: proto, in: make(chan []byte, 256), done: make(chan struct{})}
	f.Seg.mu.Lock()
	f.Seg.conns = append(f.Seg.conns, c)
	f.Seg.mu.Unlock()
	return c, nil
}

type fakeConn struct {
	seg   *Segment
	node  string
	v6    bool
	proto int
	in    chan []byte
	done  chan struct{}
	once  sync.Once
}

func (c *fakeConn) Read(buf []byte) (int, error) {
	select {
	case b := <-c.in:
		return copy(buf, b), nil
	case <-c.done:
		return 0, errors.New("fake socket closed")
	}
}

func (c *fakeConn) Send(d router.Datagram, _ netip.Addr) error {
	c.seg.mu.Lock()
	defer c.seg.mu.Unlock()
	if c.seg.cut[c.node] {
		return nil
	}
	for _, o := range c.seg.conns {
		if o.node == c.node || o.v6 != c.v6 || o.proto != c.proto || c.seg.cut[o.node] {
			continue
		}
		select {
		case <-o.done:
		case o.in <- append([]byte(nil), d.IP...):
		default: // receive buffer full: dropped, like a socket
		}
	}
	return nil
}

func (c *fakeConn) Close() error {
	c.once.Do(func() { close(c.done) })
	c.seg.mu.Lock()
	defer c.seg.mu.Unlock()
	for i, o := range c.seg.conns {
		if o == c {
			c.seg.conns = append(c.seg.conns[:i], c.seg.conns[i+1:]...)
			break
		}
	}
	return nil
}

// Frame is one frame recorded by FakeFrames.
type Frame struct {
	Dev   string
	Bytes []byte
}

// FakeFrames records frames (and the devices prepared through
// FramePreparer). Safe for concurrent use.
type FakeFrames struct {
	mu       sync.Mutex
	frames   []Frame
	prepared []string
}

// Prepare implements FramePreparer.
func (f *FakeFrames) Prepare(dev string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prepared = append(f.prepared, dev)
	return nil
}

// Prepared returns the devices Prepare was called for, in order.
func (f *FakeFrames) Prepared() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.prepared...)
}

// Send implements FrameSender.
func (f *FakeFrames) Send(dev string, b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames = append(f.frames, Frame{dev, append([]byte(nil), b...)})
	return nil
}

// Close implements FrameSender.
func (f *FakeFrames) Close() error { return nil }

// Frames returns the frames sent so far.
func (f *FakeFrames) Frames() []Frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Frame(nil), f.frames...)
}

// FakeLinks is a LinkWatcher driven by Set. Safe for concurrent use.
type FakeLinks struct {
	mu    sync.Mutex
	state map[string]bool
	subs  []chan [2]any
}

// NewFakeLinks returns links in the given initial states.
func NewFakeLinks(state map[string]bool) *FakeLinks {
	m := map[string]bool{}
	for k, v := range state {
		m[k] = v
	}
	return &FakeLinks{state: m}
}

// Set changes a link's state and tells the watchers.
func (f *FakeLinks) Set(name string, up bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state[name] = up
	for _, s := range f.subs {
		s <- [2]any{name, up}
	}
}

// Watch implements LinkWatcher.
func (f *FakeLinks) Watch(ctx context.Context, emit func(string, bool)) error {
	ch := make(chan [2]any, 64)
	f.mu.Lock()
	init := map[string]bool{}
	for k, v := range f.state {
		init[k] = v
	}
	f.subs = append(f.subs, ch)
	f.mu.Unlock()
	for k, v := range init {
		emit(k, v)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-ch:
			emit(e[0].(string), e[1].(bool))
		}
	}
}

// FakeClock is a Clock moved by Advance. Safe for concurrent use.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	c  chan time.Time
}

// NewFakeClock returns a clock reading start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now implements Clock.
func (f *FakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After implements Clock.
func (f *FakeClock) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan time.Time, 1)
	if d <= 0 {
		c <- f.now
		return c
	}
	f.waiters = append(f.waiters, fakeWaiter{f.now.Add(d), c})
	return c
}

// Advance moves the clock forward and fires the timers that came due.
func (f *FakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	keep := f.waiters[:0]
	for _, w := range f.waiters {
		if !w.at.After(f.now) {
			w.c <- f.now
			continue
		}
		keep = append(keep, w)
	}
	f.waiters = keep
}
