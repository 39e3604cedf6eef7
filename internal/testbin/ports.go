package testbin

import (
	"net"
	"strconv"
	"testing"
)

// FreePorts returns a base port P such that TCP ports P to P+n-1 and UDP
// port P were free on 127.0.0.1 when checked (by binding them and letting
// go again: another process may still take one before the test binds it).
// A crmd uses P for gossip (TCP and UDP) and the next two for raft and
// the node RPC, so n is usually 3. It fails t after 50 tries.
//
// Concurrency: safe to call from parallel tests (they may, rarely, get
// overlapping ranges, as with any free-port probe).
func FreePorts(t testing.TB, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p+n-1 > 65535 {
			continue
		}
		if portsFree(p, n) {
			return p
		}
	}
	t.Fatalf("no %d consecutive free loopback ports", n)
	return 0
}

// portsFree binds TCP p..p+n-1 and UDP p on loopback, then releases them.
func portsFree(p, n int) bool {
	var closers []func() error
	defer func() {
		for _, c := range closers {
			_ = c()
		}
	}()
	for off := 0; off < n; off++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+off))
		if err != nil {
			return false
		}
		closers = append(closers, l.Close)
	}
	u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	closers = append(closers, u.Close)
	return true
}
