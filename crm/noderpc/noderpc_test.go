package noderpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fakeNode struct {
	mu   sync.Mutex
	term uint64
	got  []ActionRequest
}

func (f *fakeNode) HandleAction(_ context.Context, req ActionRequest) (ActionResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.Term < f.term {
		return ActionResult{}, fmt.Errorf("node: %w", ErrStaleTerm)
	}
	f.term = req.Term
	f.got = append(f.got, req)
	if req.Task == "explode" {
		return ActionResult{}, errors.New("boom")
	}
	return ActionResult{CallID: int64(len(f.got)), RC: 0}, nil
}

func startServer(t *testing.T, h Handler, key []byte) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	s := &Server{Handler: h, Key: key}
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return l.Addr().String()
}

func TestCallAndStaleTerm(t *testing.T) {
	key := DeriveKey([]byte("0123456789abcdef"))
	node := &fakeNode{}
	addr := startServer(t, node, key)
	c := &Client{Key: key}
	ctx := context.Background()
	res, err := c.Call(ctx, addr, ActionRequest{Term: 5, Task: "start", Rsc: "d1", TransitionKey: "1:1:0:x"})
	if err != nil || res.CallID != 1 {
		t.Fatalf("call: %+v %v", res, err)
	}
	if _, err := c.Call(ctx, addr, ActionRequest{Term: 4, Task: "stop", Rsc: "d1"}); !errors.Is(err, ErrStaleTerm) {
		t.Fatalf("stale term: %v", err)
	}
	if _, err := c.Call(ctx, addr, ActionRequest{Term: 5, Task: "explode"}); !errors.Is(err, ErrRemote) {
		t.Fatalf("remote error: %v", err)
	}
	if !res.Succeeded(0) || res.Succeeded(7) {
		t.Fatal("Succeeded")
	}
}

func TestWrongKeyIsDropped(t *testing.T) {
	node := &fakeNode{}
	addr := startServer(t, node, DeriveKey([]byte("right-key-000000")))
	c := &Client{Key: DeriveKey([]byte("wrong-key-000000"))}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Call(ctx, addr, ActionRequest{Term: 1, Task: "start"}); err == nil {
		t.Fatal("call with the wrong key succeeded")
	}
	node.mu.Lock()
	defer node.mu.Unlock()
	if len(node.got) != 0 {
		t.Fatalf("handler ran for an unauthenticated request: %+v", node.got)
	}
}

func TestReplayWindow(t *testing.T) {
	key := DeriveKey([]byte("0123456789abcdef"))
	node := &fakeNode{}
	addr := startServer(t, node, key)
	c := &Client{Key: key}
	old := time.Now().Add(-time.Hour).UnixMilli()
	if _, err := c.Call(context.Background(), addr, ActionRequest{Term: 1, Task: "start", SentUnixMS: old}); !errors.Is(err, ErrAuth) {
		t.Fatalf("old request: %v", err)
	}
}

func TestAddrFor(t *testing.T) {
	got, err := AddrFor("127.0.0.1:7946")
	if err != nil || got != "127.0.0.1:7948" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := AddrFor("nope"); err == nil {
		t.Fatal("bad address accepted")
	}
}

// slowNode answers only when its context ends.
type slowNode struct{}

func (slowNode) HandleAction(ctx context.Context, _ ActionRequest) (ActionResult, error) {
	<-ctx.Done()
	return ActionResult{}, ctx.Err()
}

func TestCallHonoursContext(t *testing.T) {
	key := DeriveKey([]byte("0123456789abcdef"))
	addr := startServer(t, slowNode{}, key)
	c := &Client{Key: key}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Call(ctx, addr, ActionRequest{Term: 1, Task: "start"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("call returned after %v", d)
	}
}

// countingDialer counts the connections a client opens.
type countingDialer struct {
	mu sync.Mutex
	n  int
}

func (d *countingDialer) dial(ctx context.Context, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.n++
	d.mu.Unlock()
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", addr)
}

func (d *countingDialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

// TestConnectionReuse: sequential calls to a node share one connection;
// concurrent calls use one each; Close drops the idle ones.
func TestConnectionReuse(t *testing.T) {
	key := DeriveKey([]byte("0123456789abcdef"))
	node := &fakeNode{}
	addr := startServer(t, node, key)
	d := &countingDialer{}
	c := &Client{Key: key, Dial: d.dial}
	defer c.Close()
	for i := 0; i < 5; i++ {
		if _, err := c.Call(context.Background(), addr, ActionRequest{Term: 1, Task: "start", Rsc: "r"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.count(); got != 1 {
		t.Fatalf("5 sequential calls opened %d connections, want 1", got)
	}
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Call(context.Background(), addr, ActionRequest{Term: 1, Task: "monitor", Rsc: "r"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := d.count(); got < 1 || got > 3 {
		t.Fatalf("connections after concurrent calls: %d", got)
	}
	node.mu.Lock()
	n := len(node.got)
	node.mu.Unlock()
	if n != 8 {
		t.Fatalf("node ran %d actions, want 8 (each exactly once)", n)
	}
}

// TestReusedConnectionOfRestartedNode: the node restarted since the last
// call (its idle connection is dead): the request is sent once on a new
// connection and runs exactly once.
func TestReusedConnectionOfRestartedNode(t *testing.T) {
	key := DeriveKey([]byte("0123456789abcdef"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	first := &fakeNode{}
	ctx1, cancel1 := context.WithCancel(context.Background())
	done1 := make(chan error, 1)
	go func() { done1 <- (&Server{Handler: first, Key: key}).Serve(ctx1, l) }()
	d := &countingDialer{}
	c := &Client{Key: key, Dial: d.dial}
	defer c.Close()
	if _, err := c.Call(context.Background(), addr, ActionRequest{Term: 1, Task: "start"}); err != nil {
		t.Fatal(err)
	}
	cancel1() // the node goes away, closing its connections
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	second := &fakeNode{}
	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- (&Server{Handler: second, Key: key}).Serve(ctx2, l2) }()
	defer func() {
		cancel2()
		<-done2
	}()
	if _, err := c.Call(context.Background(), addr, ActionRequest{Term: 1, Task: "monitor"}); err != nil {
		t.Fatalf("call after restart: %v", err)
	}
	if d.count() != 2 {
		t.Fatalf("dials = %d, want 2 (the dead idle connection replaced once)", d.count())
	}
	second.mu.Lock()
	defer second.mu.Unlock()
	if len(second.got) != 1 || len(first.got) != 1 {
		t.Fatalf("actions: first node %d, restarted node %d; want 1 each", len(first.got), len(second.got))
	}
}
