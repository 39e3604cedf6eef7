package consensus

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// BenchmarkMTLSDial measures one mutually authenticated connection on
// loopback: TCP connect, TLS 1.3 handshake with both certificates verified
// and authorised, and the acceptance byte (what every forwarded write and
// every node RPC pays; raft pools its connections).
func BenchmarkMTLSDial(b *testing.B) {
	p := newTestPKI(b)
	peers := StaticPeers{"n1": "", "n2": ""}
	log := slog.New(slog.DiscardHandler)
	srv := NewMTLS(p.identity(b, p.ca, "n1", false), peers, log)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	l := srv.Listen(inner, "bench")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	defer func() { l.Close(); <-done }()
	cli := NewMTLS(p.identity(b, p.ca, "n2", false), peers, log)
	addr := inner.Addr().String()
	b.ResetTimer()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := cli.Dial(ctx, addr, "n1")
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
