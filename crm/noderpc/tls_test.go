package noderpc

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/crm/consensus"
)

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func identity(t *testing.T, ca *consensus.CA, trust []byte, node string) *consensus.TLSIdentity {
	t.Helper()
	cp, kp, err := ca.Issue(node, time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	id, err := consensus.NewTLSIdentity(trust, cp, kp)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestCallOverMTLS: the DC's client reaches the node over mTLS; a client
// with a certificate from another CA, one for a node outside the cluster
// and a plain-TCP client are refused before any action runs.
func TestCallOverMTLS(t *testing.T) {
	ca, err := consensus.NewCA("c", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := consensus.NewCA("other", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	members := consensus.StaticPeers{"n1": "", "dc": ""}
	var logs logBuf
	log := slog.New(slog.NewTextHandler(&logs, nil))
	srvTLS := consensus.NewMTLS(identity(t, ca, ca.CertPEM(), "n1"), members, log)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := inner.Addr().String()
	key := DeriveKey([]byte("0123456789abcdef"))
	node := &fakeNode{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	s := &Server{Handler: node, Key: key, Logger: log}
	go func() { done <- s.Serve(ctx, srvTLS.Listen(inner, "noderpc")) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	client := func(m *consensus.MTLS) *Client {
		return &Client{Key: key, Dial: func(ctx context.Context, a string) (net.Conn, error) { return m.Dial(ctx, a, "n1") }}
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	good := client(consensus.NewMTLS(identity(t, ca, ca.CertPEM(), "dc"), members, log))
	if _, err := good.Call(cctx, addr, ActionRequest{Term: 1, Task: "start"}); err != nil {
		t.Fatalf("call over mTLS: %v\n%s", err, logs.String())
	}
	both := append(ca.CertPEM(), other.CertPEM()...)
	bad := map[string]*Client{
		"other CA":   client(consensus.NewMTLS(identity(t, other, both, "dc"), members, log)),
		"non-member": client(consensus.NewMTLS(identity(t, ca, ca.CertPEM(), "intruder"), members, log)),
		"plain TCP":  {Key: key},
	}
	for name, c := range bad {
		if _, err := c.Call(cctx, addr, ActionRequest{Term: 2, Task: "start"}); err == nil {
			t.Errorf("%s: call succeeded", name)
		} else if name != "plain TCP" && !errors.Is(err, consensus.ErrRefusedByPeer) {
			t.Errorf("%s: err = %v, want ErrRefusedByPeer", name, err)
		}
	}
	node.mu.Lock()
	n := len(node.got)
	node.mu.Unlock()
	if n != 1 {
		t.Fatalf("handler ran %d actions, want 1 (only the good client's)", n)
	}
	// The server logs a refusal after sending its alert, so the client can
	// be told before the line is written: wait for it.
	wants := []string{"unknown authority", "is not a cluster member", "not a TLS client"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := logs.String()
		missing := ""
		for _, want := range wants {
			if !strings.Contains(out, want) {
				missing = want
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", missing, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
