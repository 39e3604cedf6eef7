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
