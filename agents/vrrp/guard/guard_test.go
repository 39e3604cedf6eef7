package guard

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/internal/clock"
)

func TestMain(m *testing.M) {
	if helperMain() {
		return
	}
	goleak.VerifyTestMain(m)
}

var (
	vip4 = netip.MustParsePrefix("10.99.0.50/24")
	vip6 = netip.MustParsePrefix("fd99::50/64")
)

func sampleHold() Holding {
	return Holding{
		Instance: "VI_1",
		VRID:     51,
		Addrs:    []Addr{{Dev: "eth0", Index: 2, Prefix: vip4}, {Dev: "eth1", Index: 3, Prefix: vip6}},
		Farewell: []Datagram{
			{Dev: "eth0", Src: netip.MustParseAddr("10.99.0.11"), Dst: netip.MustParseAddr("224.0.0.18"), IP: []byte{0x45, 1, 2, 3}},
			{Dev: "eth1", IPv6: true, Src: netip.MustParseAddr("fe80::1"), Dst: netip.MustParseAddr("ff02::12"), IP: []byte{0x60, 9}},
		},
		Linger: 1050 * time.Millisecond,
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, m := range []Message{
		{Kind: KindHello, Version: protoVersion},
		{Kind: KindBye},
		{Kind: KindRelease, Instance: "VI_1"},
		{Kind: KindHold, Hold: sampleHold()},
		{Kind: KindHold, Hold: Holding{Instance: "x", Addrs: []Addr{{Dev: "e", Index: 7, Prefix: vip4}}}},
	} {
		b, err := Encode(m)
		if err != nil {
			t.Fatalf("encode %v: %v", m.Kind, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("decode %v: %v", m.Kind, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%v round trip:\n got %+v\nwant %+v", m.Kind, got, m)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	full, err := Encode(Message{Kind: KindHold, Hold: sampleHold()})
	if err != nil {
		t.Fatal(err)
	}
	// Every strict prefix of a valid hold is truncated somewhere.
	for n := 0; n < len(full); n++ {
		if _, err := Decode(full[:n]); !errors.Is(err, ErrProtocol) {
			t.Fatalf("prefix of %d/%d bytes: err %v, want ErrProtocol", n, len(full), err)
		}
	}
	bad := map[string][]byte{
		"unknown kind":    {'Z'},
		"trailing bytes":  {'B', 0},
		"address length":  append(append([]byte{'O', 0, 1, 'x'}, make([]byte, 9)...), 0, 1, 0, 0, 0, 0, 0, 2, 5, 1, 2, 3, 4, 5, 24, 0, 0),
		"prefix too long": append(append([]byte{'O', 0, 1, 'x'}, make([]byte, 9)...), 0, 1, 0, 0, 0, 0, 0, 2, 4, 10, 0, 0, 1, 33, 0, 0),
	}
	for name, b := range bad {
		if _, err := Decode(b); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: err %v, want ErrProtocol", name, err)
		}
	}
	if _, err := Encode(Message{Kind: KindHello + 1}); !errors.Is(err, ErrProtocol) {
		t.Errorf("encode unknown kind: %v", err)
	}
	if _, err := Encode(Message{Kind: KindHold, Hold: Holding{Instance: "x", Addrs: []Addr{{Dev: "e"}}}}); !errors.Is(err, ErrProtocol) {
		t.Errorf("encode invalid prefix: %v", err)
	}
}

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	for _, m := range []Message{{Kind: KindRelease, Instance: "a"}, {Kind: KindBye}} {
		if err := WriteFrame(&buf, m); err != nil {
			t.Fatal(err)
		}
	}
	raw := append([]byte(nil), buf.Bytes()...)
	if m, err := ReadFrame(&buf); err != nil || m.Kind != KindRelease || m.Instance != "a" {
		t.Fatalf("first frame: %+v %v", m, err)
	}
	if m, err := ReadFrame(&buf); err != nil || m.Kind != KindBye {
		t.Fatalf("second frame: %+v %v", m, err)
	}
	if _, err := ReadFrame(&buf); err != io.EOF {
		t.Fatalf("end: %v, want io.EOF", err)
	}
	if _, err := ReadFrame(bytes.NewReader(raw[:6])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut frame: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0xff, 0, 0, 0, 1})); !errors.Is(err, ErrProtocol) {
		t.Fatalf("huge frame: %v, want ErrProtocol", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range []Message{{Kind: KindHold, Hold: sampleHold()}, {Kind: KindRelease, Instance: "VI_1"}, {Kind: KindBye}} {
		b, _ := Encode(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v does not wrap ErrProtocol", err)
			}
			return
		}
		b2, err := Encode(m)
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		m2, err := Decode(b2)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-decode: %v\n%+v\n%+v", err, m, m2)
		}
	})
}

func TestStatePlan(t *testing.T) {
	s := NewState()
	h1 := sampleHold()
	h2 := Holding{Instance: "VI_0", Addrs: []Addr{{Dev: "eth0", Index: 2, Prefix: netip.MustParsePrefix("10.99.0.60/24")}}}
	h3 := Holding{Instance: "VI_3", Addrs: []Addr{{Dev: "eth0", Index: 2, Prefix: netip.MustParsePrefix("10.99.0.70/24")}}}
	for _, m := range []Message{{Kind: KindHold, Hold: h1}, {Kind: KindHold, Hold: h2}, {Kind: KindHold, Hold: h3},
		{Kind: KindRelease, Instance: "VI_3"}, {Kind: KindRelease, Instance: "never-held"}} {
		if err := s.Apply(m); err != nil {
			t.Fatal(err)
		}
	}
	p := s.Plan()
	if !reflect.DeepEqual(p.Send, h1.Farewell) {
		t.Errorf("sends %+v, want VI_1's farewell", p.Send)
	}
	want := []Removal{{Instance: "VI_0", After: 0, Addrs: h2.Addrs}, {Instance: "VI_1", After: h1.Linger, Addrs: h1.Addrs,
		Successor: &AdvertKey{Dev: "eth0", VRID: 51}}}
	if !reflect.DeepEqual(p.Remove, want) {
		t.Errorf("removals %+v, want %+v", p.Remove, want)
	}
	// A hold without addresses forgets the instance.
	if err := s.Apply(Message{Kind: KindHold, Hold: Holding{Instance: "VI_0"}}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Plan().Remove); n != 1 {
		t.Errorf("%d removals after an empty hold, want 1", n)
	}
	for _, m := range []Message{{Kind: KindHello}, {Kind: KindHold}} {
		if err := s.Apply(m); !errors.Is(err, ErrProtocol) {
			t.Errorf("%v: err %v, want ErrProtocol", m.Kind, err)
		}
	}
	if err := s.Apply(Message{Kind: KindBye}); err != nil || !s.Bye() {
		t.Fatalf("bye: %v", err)
	}
	if p := s.Plan(); len(p.Send)+len(p.Remove) != 0 {
		t.Errorf("plan after bye: %+v", p)
	}
	if err := s.Apply(Message{Kind: KindRelease, Instance: "x"}); !errors.Is(err, ErrProtocol) {
		t.Errorf("message after bye: %v", err)
	}
}

// recSender records farewell adverts.
type recSender struct {
	mu   sync.Mutex
	sent []Datagram
	at   []time.Time
	clk  clock.Clock
}

func (r *recSender) Send(d Datagram) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, d)
	r.at = append(r.at, r.clk.Now())
	return nil
}

func (r *recSender) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

type serveRig struct {
	addrs  *vip.FakeAddrLinker
	send   *recSender
	clk    *clock.Fake
	client *Client
	peer   net.Conn // the daemon's raw end
	done   chan struct{}
	out    Outcome
	err    error
	cancel context.CancelFunc
}

func newServeRig(t *testing.T) *serveRig {
	t.Helper()
	r := &serveRig{
		addrs: vip.NewFakeAddrLinker(vip.Link{Name: "eth0", Index: 2, Up: true}, vip.Link{Name: "eth1", Index: 3, Up: true}),
		clk:   clock.NewFake(time.Unix(1000, 0)),
		done:  make(chan struct{}),
	}
	r.send = &recSender{clk: r.clk}
	for _, a := range []Addr{{Dev: "eth0", Index: 2, Prefix: vip4}, {Dev: "eth1", Index: 3, Prefix: vip6},
		{Dev: "eth0", Index: 2, Prefix: netip.MustParsePrefix("10.99.0.60/24")}} {
		if err := r.addrs.AddrReplace(vip.Link{Name: a.Dev, Index: a.Index}, vip.Addr{Prefix: a.Prefix}); err != nil {
			t.Fatal(err)
		}
	}
	daemonEnd, guardEnd := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		r.out, r.err = Serve(ctx, guardEnd, Deps{Addrs: r.addrs, Sender: r.send, Clock: r.clk})
	}()
	c, err := NewClient(daemonEnd, 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.client, r.peer = c, daemonEnd
	t.Cleanup(func() {
		cancel()
		daemonEnd.Close()
		<-r.done
	})
	return r
}

func (r *serveRig) wait(t *testing.T) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func (r *serveRig) has(p netip.Prefix, dev string) bool {
	for _, a := range r.addrs.Snapshot(dev) {
		if a.Prefix == p {
			return true
		}
	}
	return false
}

// The daemon dies (its end closes without bye): the farewell goes out at
// once, an instance without farewell loses its address at once, the
// other after its linger.
func TestServeOrphaned(t *testing.T) {
	r := newServeRig(t)
	h := sampleHold()
	other := Holding{Instance: "VI_0", Addrs: []Addr{{Dev: "eth0", Index: 2, Prefix: netip.MustParsePrefix("10.99.0.60/24")}}}
	for _, hh := range []Holding{h, other} {
		if err := r.client.Hold(hh); err != nil {
			t.Fatal(err)
		}
	}
	r.peer.Close() // SIGKILL as the guard sees it
	if !r.clk.BlockUntil(1, 5*time.Second) {
		t.Fatal("guard is not lingering on a timer")
	}
	if r.send.count() != 2 {
		t.Fatalf("%d adverts sent before the linger, want 2", r.send.count())
	}
	if r.has(netip.MustParsePrefix("10.99.0.60/24"), "eth0") {
		t.Error("VI_0's address (no farewell) not removed at once")
	}
	if !r.has(vip4, "eth0") || !r.has(vip6, "eth1") {
		t.Fatal("VI_1's addresses removed before the linger")
	}
	r.clk.Advance(h.Linger)
	r.wait(t)
	if r.out != OutcomeOrphaned || r.err != nil {
		t.Fatalf("outcome %v, %v; want orphaned", r.out, r.err)
	}
	if r.has(vip4, "eth0") || r.has(vip6, "eth1") {
		t.Error("VI_1's addresses still there after the linger")
	}
	if !reflect.DeepEqual(r.send.sent, h.Farewell) {
		t.Errorf("sent %+v, want %+v", r.send.sent, h.Farewell)
	}
	if err := r.client.Hold(h); !errors.Is(err, ErrClosed) {
		t.Errorf("Hold on a dead connection: %v, want ErrClosed", err)
	}
}

func TestServeBye(t *testing.T) {
	r := newServeRig(t)
	if err := r.client.Hold(sampleHold()); err != nil {
		t.Fatal(err)
	}
	if err := r.client.Close(); err != nil {
		t.Fatal(err)
	}
	r.wait(t)
	if r.out != OutcomeBye || r.err != nil {
		t.Fatalf("outcome %v, %v; want bye", r.out, r.err)
	}
	if !r.has(vip4, "eth0") || r.send.count() != 0 {
		t.Error("guard acted after a bye")
	}
	if err := r.client.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := r.client.Release("VI_1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Release after Close: %v, want ErrClosed", err)
	}
}

func TestServeReleasedThenOrphaned(t *testing.T) {
	r := newServeRig(t)
	if err := r.client.Hold(sampleHold()); err != nil {
		t.Fatal(err)
	}
	if err := r.client.Release("VI_1"); err != nil {
		t.Fatal(err)
	}
	r.peer.Close()
	r.wait(t)
	if r.out != OutcomeOrphaned || !r.has(vip4, "eth0") || r.send.count() != 0 {
		t.Errorf("outcome %v, vip present %v, %d sent: a released instance must be left alone", r.out, r.has(vip4, "eth0"), r.send.count())
	}
}

func TestServeProtocolErrorTouchesNothing(t *testing.T) {
	r := newServeRig(t)
	if err := r.client.Hold(sampleHold()); err != nil {
		t.Fatal(err)
	}
	r.peer.Write([]byte{0, 0, 0, 1, 'Z'})
	r.wait(t)
	if r.out != OutcomeAborted || !errors.Is(r.err, ErrProtocol) {
		t.Fatalf("outcome %v, %v; want aborted with ErrProtocol", r.out, r.err)
	}
	if !r.has(vip4, "eth0") || r.send.count() != 0 {
		t.Error("guard acted on a protocol error")
	}
}

func TestServeContextWhileDaemonLives(t *testing.T) {
	r := newServeRig(t)
	if err := r.client.Hold(sampleHold()); err != nil {
		t.Fatal(err)
	}
	r.cancel()
	r.wait(t)
	if r.out != OutcomeAborted || !r.has(vip4, "eth0") {
		t.Fatalf("outcome %v, vip present %v; want aborted, untouched", r.out, r.has(vip4, "eth0"))
	}
}

func TestNewClientRejectsNonGuard(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	go func() { _ = WriteFrame(b, Message{Kind: KindBye}) }()
	if _, err := NewClient(a, time.Second, nil); !errors.Is(err, ErrProtocol) {
		t.Errorf("bye instead of hello: %v, want ErrProtocol", err)
	}
	c, d := net.Pipe()
	defer d.Close()
	if _, err := NewClient(c, 50*time.Millisecond, nil); err == nil {
		t.Error("silent peer accepted")
	}
}

// fakeListener hands out one AdvertConn per interface, fed by the test.
type fakeListener struct {
	mu    sync.Mutex
	conns map[string]*fakeAdvertConn
}

type fakeAdvertConn struct {
	in   chan [2]uint8
	done chan struct{}
	once sync.Once
}

func (f *fakeListener) Listen(dev string, v6 bool) (AdvertConn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &fakeAdvertConn{in: make(chan [2]uint8, 8), done: make(chan struct{})}
	if f.conns == nil {
		f.conns = map[string]*fakeAdvertConn{}
	}
	f.conns[dev] = c
	return c, nil
}

func (f *fakeListener) conn(dev string) *fakeAdvertConn {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns[dev]
}

func (c *fakeAdvertConn) Next() (uint8, uint8, error) {
	select {
	case a := <-c.in:
		return a[0], a[1], nil
	case <-c.done:
		return 0, 0, io.EOF
	}
}

func (c *fakeAdvertConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

// The successor's first advert (same VRID, priority > 0) cuts the linger
// to the drain; other routers' adverts and priority-0 ones do not.
func TestServeSuccessorCutsLinger(t *testing.T) {
	addrs := vip.NewFakeAddrLinker(vip.Link{Name: "eth0", Index: 2, Up: true}, vip.Link{Name: "eth1", Index: 3, Up: true})
	for _, a := range []Addr{{Dev: "eth0", Index: 2, Prefix: vip4}, {Dev: "eth1", Index: 3, Prefix: vip6}} {
		if err := addrs.AddrReplace(vip.Link{Name: a.Dev, Index: a.Index}, vip.Addr{Prefix: a.Prefix}); err != nil {
			t.Fatal(err)
		}
	}
	clk := clock.NewFake(time.Unix(1000, 0))
	ls := &fakeListener{}
	daemonEnd, guardEnd := net.Pipe()
	done := make(chan Outcome, 1)
	go func() {
		out, _ := Serve(context.Background(), guardEnd, Deps{Addrs: addrs, Sender: &recSender{clk: clk}, Listener: ls, Clock: clk})
		done <- out
	}()
	c, err := NewClient(daemonEnd, 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := sampleHold() // VRID 51, farewell on eth0 first, linger 1.05 s
	if err := c.Hold(h); err != nil {
		t.Fatal(err)
	}
	daemonEnd.Close()
	if !clk.BlockUntil(1, 5*time.Second) || ls.conn("eth0") == nil {
		t.Fatal("guard is not lingering with a listener")
	}
	has := func() bool {
		for _, a := range addrs.Snapshot("eth0") {
			if a.Prefix == vip4 {
				return true
			}
		}
		return false
	}
	lc := ls.conn("eth0")
	lc.in <- [2]uint8{52, 100} // another router
	lc.in <- [2]uint8{51, 0}   // a priority-0 advert
	elapsed := time.Duration(0)
	step := func(d time.Duration) {
		for end := elapsed + d; elapsed < end; elapsed += 10 * time.Millisecond {
			time.Sleep(time.Millisecond)
			clk.Advance(10 * time.Millisecond)
		}
	}
	step(300 * time.Millisecond)
	if !has() {
		t.Fatal("VIP removed without a successor advert")
	}
	lc.in <- [2]uint8{51, 90}
	t1 := elapsed
	for has() && elapsed < h.Linger {
		step(10 * time.Millisecond)
	}
	if has() {
		t.Fatal("VIP still there after the full linger")
	}
	if got := elapsed - t1; got > 200*time.Millisecond {
		t.Errorf("VIP removed %v after the successor's advert, want about the 50 ms drain", got)
	}
	select {
	case out := <-done:
		if out != OutcomeOrphaned {
			t.Errorf("outcome %v", out)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}
