package consensus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/internal/testbin"
	"github.com/gocrm/gocrm/membership"
	"github.com/hashicorp/raft"
)

// syncBuf is a goroutine-safe log sink.
type syncBuf = testbin.SyncBuffer

func bufLogger(b *syncBuf) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testPKI holds two CAs and the key material issued from them.
type testPKI struct {
	ca, other *CA
	keys      [][]byte // every private key PEM issued (must never be logged)
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	now := time.Now()
	ca, err := NewCA("test", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{ca: ca, other: other}
	for _, c := range []*CA{ca, other} {
		k, err := c.KeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		p.keys = append(p.keys, k)
	}
	return p
}

// identity issues a certificate for node from ca (valid for the next hour
// unless expired) and returns the identity trusting p.ca only.
func (p *testPKI) identity(t testing.TB, ca *CA, node string, expired bool) *TLSIdentity {
	t.Helper()
	nb, na := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	if expired {
		nb, na = time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
	}
	cp, kp, err := ca.Issue(node, nb, na)
	if err != nil {
		t.Fatal(err)
	}
	p.keys = append(p.keys, kp)
	trust := p.ca.CertPEM()
	if ca == p.other {
		// The rogue node trusts the real CA too, so that it goes on with
		// the handshake and the other side's verdict is what is tested.
		trust = append(trust, ca.CertPEM()...)
	}
	if expired {
		// NewTLSIdentity refuses an expired own certificate: build it
		// with a clock from when it was valid.
		id, err := newIdentityAt(trust, cp, kp, nb.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return id.WithClock(time.Now)
	}
	id, err := NewTLSIdentity(trust, cp, kp)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// newIdentityAt is NewTLSIdentity with the validity checked at a given time.
func newIdentityAt(caPEM, certPEM, keyPEM []byte, at time.Time) (*TLSIdentity, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	cas, err := parseCerts(caPEM)
	if err != nil {
		return nil, err
	}
	id := &TLSIdentity{cert: cert, now: func() time.Time { return at }}
	id.roots = x509.NewCertPool()
	for _, c := range cas {
		id.roots.AddCert(c)
	}
	name, err := CertNodeName(cert.Leaf)
	if err != nil {
		return nil, err
	}
	id.name = name
	return id, nil
}

func (p *testPKI) assertNoSecrets(t *testing.T, logs string) {
	t.Helper()
	if strings.Contains(logs, "PRIVATE KEY") {
		t.Fatal("a private key PEM header appears in the logs")
	}
	for _, k := range p.keys {
		body := strings.Join(strings.Split(string(k), "\n")[1:3], "")
		if len(body) > 20 && strings.Contains(logs, body[:20]) {
			t.Fatal("private key material appears in the logs")
		}
	}
}

// acceptAll collects connections accepted on l until it is closed.
func acceptAll(l net.Listener) (<-chan net.Conn, func()) {
	ch := make(chan net.Conn, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				close(ch)
				return
			}
			ch <- c
		}
	}()
	return ch, func() {
		_ = l.Close()
		<-done
		for c := range ch {
			_ = c.Close()
		}
	}
}

func dialCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestMTLSGoodPeersConnect(t *testing.T) {
	p := newTestPKI(t)
	peers := StaticPeers{"n1": "", "n2": ""}
	var logs syncBuf
	srv := NewMTLS(p.identity(t, p.ca, "n1", false), peers, bufLogger(&logs))
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := srv.Listen(inner, "test")
	accepted, stop := acceptAll(l)
	defer stop()
	cli := NewMTLS(p.identity(t, p.ca, "n2", false), peers, bufLogger(&logs))
	c, err := cli.Dial(dialCtx(t), inner.Addr().String(), "n1")
	if err != nil {
		t.Fatalf("good peer refused: %v\n%s", err, logs.String())
	}
	defer c.Close()
	if n, ok := PeerName(c); !ok || n != "n1" {
		t.Fatalf("client sees peer %q, %v", n, ok)
	}
	if v := c.(*tls.Conn).ConnectionState().Version; v != tls.VersionTLS13 {
		t.Fatalf("TLS version %#x, want 1.3", v)
	}
	var s net.Conn
	select {
	case s = <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("server did not accept")
	}
	defer s.Close()
	if n, ok := PeerName(s); !ok || n != "n2" {
		t.Fatalf("server sees peer %q, %v", n, ok)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if strings.Contains(logs.String(), "refused") {
		t.Fatalf("unexpected refusal logged:\n%s", logs.String())
	}
}

func TestMTLSServerRefusesBadClients(t *testing.T) {
	p := newTestPKI(t)
	// n3 and n4 are members: their refusal must come from the certificate.
	peers := StaticPeers{"n1": "", "n2": "", "n3": "", "n4": ""}
	var srvLogs, cliLogs syncBuf
	srv := NewMTLS(p.identity(t, p.ca, "n1", false), peers, bufLogger(&srvLogs))
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := inner.Addr().String()
	l := srv.Listen(inner, "raft")
	accepted, stop := acceptAll(l)
	defer stop()

	cases := []struct {
		name, node string
		id         *TLSIdentity
		wantLog    string
	}{
		{"other CA", "n3", p.identity(t, p.other, "n3", false), "unknown authority"},
		{"expired", "n4", p.identity(t, p.ca, "n4", true), "expired"},
		{"non-member", "n9", p.identity(t, p.ca, "n9", false), `is not a cluster member`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The client trusts the server (its peers include n1) so only
			// the server's verdict matters.
			cli := NewMTLS(tc.id, StaticPeers{"n1": ""}, bufLogger(&cliLogs))
			c, err := cli.Dial(dialCtx(t), addr, "n1")
			if err == nil {
				c.Close()
				t.Fatal("dial succeeded; want refusal")
			}
			if tc.name != "other CA" && !errors.Is(err, ErrRefusedByPeer) {
				t.Fatalf("err = %v, want ErrRefusedByPeer", err)
			}
			waitLog(t, &srvLogs, tc.wantLog)
		})
	}
	t.Run("plain TCP", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(make([]byte, 64)); err == nil && n > 0 {
			// A TLS alert may come back; the connection must then close.
			if _, err := c.Read(make([]byte, 64)); err == nil {
				t.Fatal("plain TCP client was not disconnected")
			}
		}
		waitLog(t, &srvLogs, "not a TLS client")
	})
	t.Run("TLS 1.2 client", func(t *testing.T) {
		id := p.identity(t, p.ca, "n2", false)
		cfg := id.ClientConfig("n1", peers)
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
		c, err := tls.Dial("tcp", addr, cfg)
		if err == nil {
			c.Close()
			t.Fatal("TLS 1.2 handshake succeeded")
		}
		waitLog(t, &srvLogs, "version")
	})
	select {
	case c := <-accepted:
		n, _ := PeerName(c)
		t.Fatalf("a refused client was accepted (peer %q)", n)
	default:
	}
	// A good client still gets through afterwards.
	cli := NewMTLS(p.identity(t, p.ca, "n2", false), peers, bufLogger(&cliLogs))
	c, err := cli.Dial(dialCtx(t), addr, "n1")
	if err != nil {
		t.Fatalf("good client refused: %v", err)
	}
	c.Close()
	select {
	case s := <-accepted:
		if n, _ := PeerName(s); n != "n2" {
			t.Fatalf("accepted %q, want n2", n)
		}
		s.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("good client not accepted")
	}
	t.Logf("server log:\n%s", srvLogs.String())
	p.assertNoSecrets(t, srvLogs.String()+cliLogs.String())
}

func waitLog(t *testing.T, b *syncBuf, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", want, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, want) && !strings.Contains(line, "mTLS: connection refused") {
			t.Fatalf("refusal line lacks the standard message: %s", line)
		}
	}
}

func TestMTLSClientRefusesBadServers(t *testing.T) {
	p := newTestPKI(t)
	cases := []struct {
		name    string
		srvID   *TLSIdentity
		expect  string
		peers   StaticPeers
		wantErr error
		wantMsg string
	}{
		{"other CA", p.identity(t, p.other, "n1", false), "n1", StaticPeers{"n1": "", "n2": ""}, ErrPeerRejected, "unknown authority"},
		{"expired", p.identity(t, p.ca, "n1", true), "n1", StaticPeers{"n1": "", "n2": ""}, ErrPeerRejected, "expired"},
		{"wrong node", p.identity(t, p.ca, "n3", false), "n1", StaticPeers{"n1": "", "n2": "", "n3": ""}, ErrPeerRejected, `certificate for "n3", expected "n1"`},
		{"non-member", p.identity(t, p.ca, "n9", false), "n9", StaticPeers{"n2": ""}, ErrPeerNotAuthorized, "not a cluster member"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuf
			// The server accepts anyone the client could be.
			srv := NewMTLS(tc.srvID, StaticPeers{"n2": ""}, bufLogger(&logs))
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			_, stop := acceptAll(srv.Listen(inner, "test"))
			defer stop()
			cli := NewMTLS(p.identity(t, p.ca, "n2", false), tc.peers, bufLogger(&logs))
			c, err := cli.Dial(dialCtx(t), inner.Addr().String(), tc.expect)
			if err == nil {
				c.Close()
				t.Fatal("dial succeeded")
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.wantErr, tc.wantMsg)
			}
			waitLog(t, &logs, strings.ReplaceAll(tc.wantMsg, `"`, `\"`))
		})
	}
}

func TestTLSStreamLayerDialsByRaftAddress(t *testing.T) {
	p := newTestPKI(t)
	var logs syncBuf
	a1 := NewClusterAuthorizer("n1")
	s1, err := NewTLSStreamLayer("127.0.0.1:0", nil, NewMTLS(p.identity(t, p.ca, "n1", false), a1, bufLogger(&logs)))
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	a2 := NewClusterAuthorizer("n2")
	s2, err := NewTLSStreamLayer("127.0.0.1:0", nil, NewMTLS(p.identity(t, p.ca, "n2", false), a2, bufLogger(&logs)))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	addr1 := s1.Addr().String()
	if _, err := s2.Dial(raft.ServerAddress(addr1), time.Second); !errors.Is(err, ErrPeerNotAuthorized) {
		t.Fatalf("dial of an unknown raft address: %v, want ErrPeerNotAuthorized", err)
	}
	servers := func() ([]Server, error) {
		return []Server{{ID: "n1", Address: addr1, Voter: true}, {ID: "n2", Address: s2.Addr().String(), Voter: true}}, nil
	}
	a1.SetServers(servers)
	a2.SetServers(servers)
	accepted, stop := acceptAll(s1)
	defer stop()
	c, err := s2.Dial(raft.ServerAddress(addr1), 2*time.Second)
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, logs.String())
	}
	c.Close()
	<-accepted
	if err := s2.Probe(dialCtx(t), "n1", addr1); err != nil {
		t.Fatalf("probe n1: %v", err)
	}
	<-accepted
	if err := s2.Probe(dialCtx(t), "n2", addr1); !errors.Is(err, ErrPeerRejected) {
		t.Fatalf("probe expecting n2 at n1's address: %v, want ErrPeerRejected", err)
	}
}

func TestClusterAuthorizer(t *testing.T) {
	a := NewClusterAuthorizer("self")
	if err := a.AuthorizePeer("self"); err != nil {
		t.Fatal(err)
	}
	if err := a.AuthorizePeer("m1"); !errors.Is(err, ErrPeerNotAuthorized) {
		t.Fatalf("no sources: %v", err)
	}
	a.SetMembers(func() []membership.Member {
		return []membership.Member{{Name: "m1", Meta: membership.Meta{RaftAddr: "10.0.0.1:1"}}}
	})
	a.SetServers(func() ([]Server, error) {
		return []Server{{ID: "r1", Address: "10.0.0.2:1"}, {ID: "r2", Address: "10.0.0.1:1"}}, nil
	})
	for _, n := range []string{"m1", "r1", "r2"} {
		if err := a.AuthorizePeer(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if err := a.AuthorizePeer("x"); !errors.Is(err, ErrPeerNotAuthorized) || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("x: %v", err)
	}
	// The raft configuration wins over gossip for an address.
	if n, ok := a.RaftPeerName("10.0.0.1:1"); !ok || n != "r2" {
		t.Fatalf("RaftPeerName = %q, %v", n, ok)
	}
	if _, ok := a.RaftPeerName("10.0.0.9:1"); ok {
		t.Fatal("unknown address resolved")
	}
}

func TestLogLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLogLimiter(10*time.Second, func() time.Time { return now })
	if ok, _ := l.allow("a"); !ok {
		t.Fatal("first line suppressed")
	}
	for range 3 {
		if ok, _ := l.allow("a"); ok {
			t.Fatal("repeat within the window logged")
		}
	}
	if ok, _ := l.allow("b"); !ok {
		t.Fatal("other key suppressed")
	}
	now = now.Add(10 * time.Second)
	if ok, n := l.allow("a"); !ok || n != 3 {
		t.Fatalf("after the window: %v, suppressed %d (want 3)", ok, n)
	}
}

func TestPKIFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	o := PKIOptions{OwnerCheck: RootOrCurrentUser}
	created, err := InitPKI(dir, "c1", "n1", o)
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 4 {
		t.Fatalf("created %v", created)
	}
	modes := map[string]os.FileMode{CAKeyFile: 0o600, CACertFile: 0o644, "n1.key": 0o600, "n1.crt": 0o644}
	for f, m := range modes {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != m {
			t.Errorf("%s mode %04o, want %04o", f, fi.Mode().Perm(), m)
		}
	}
	if _, err := InitPKI(dir, "c1", "n1", o); !errors.Is(err, ErrTLSFile) {
		t.Fatalf("second init: %v", err)
	}
	cp, kp, err := IssueNodeCert(dir, "n2", o)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := IssueNodeCert(dir, "n2", o); err == nil {
		t.Fatal("re-issue overwrote n2's certificate")
	}
	if _, _, err := IssueNodeCert(dir, "../evil", o); err == nil {
		t.Fatal("path-like node name accepted")
	}
	ca := filepath.Join(dir, CACertFile)
	id, err := LoadTLSIdentity(ca, cp, kp, RootOrCurrentUser)
	if err != nil {
		t.Fatal(err)
	}
	if id.Name() != "n2" || time.Until(id.NotAfter()) < 365*24*time.Hour {
		t.Fatalf("identity %q until %s", id.Name(), id.NotAfter())
	}
	// Key with group read: refused with a clear message.
	if err := os.Chmod(kp, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTLSIdentity(ca, cp, kp, RootOrCurrentUser); !errors.Is(err, ErrTLSFile) || !strings.Contains(err.Error(), "mode 0640") {
		t.Fatalf("0640 key: %v", err)
	}
	_ = os.Chmod(kp, 0o600)
	// Owner check failing (e.g. not root).
	deny := func(path string, _ os.FileInfo) error { return errors.New(path + " is not owned by root") }
	if _, err := LoadTLSIdentity(ca, cp, kp, deny); err == nil || !strings.Contains(err.Error(), "not owned by root") {
		t.Fatalf("owner check: %v", err)
	}
	// Symlinked key.
	link := filepath.Join(dir, "link.key")
	if err := os.Symlink(kp, link); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTLSIdentity(ca, cp, link, RootOrCurrentUser); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("symlinked key: %v", err)
	}
	// World-writable CA file.
	if err := os.Chmod(ca, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTLSIdentity(ca, cp, kp, RootOrCurrentUser); err == nil || !strings.Contains(err.Error(), "write") {
		t.Fatalf("writable CA: %v", err)
	}
	_ = os.Chmod(ca, 0o644)
	// A key from another node.
	if _, err := LoadTLSIdentity(ca, cp, filepath.Join(dir, "n1.key"), RootOrCurrentUser); err == nil {
		t.Fatal("mismatched key accepted")
	}
}

func TestCertNodeName(t *testing.T) {
	p := newTestPKI(t)
	id := p.identity(t, p.ca, "node-a.example", false)
	if id.Name() != "node-a.example" {
		t.Fatalf("name %q", id.Name())
	}
	if err := ValidNodeName("a/b"); err == nil {
		t.Fatal("slash accepted")
	}
	if err := ValidNodeName(".hidden"); err == nil {
		t.Fatal("leading dot accepted")
	}
}

func TestNewTLSIdentityRefusesBadOwnCertificate(t *testing.T) {
	p := newTestPKI(t)
	cp, kp, err := p.ca.Issue("n1", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewTLSIdentity(p.ca.CertPEM(), cp, kp); !errors.Is(err, ErrTLSFile) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired own certificate: %v", err)
	}
	cp, kp, err = p.other.Issue("n1", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewTLSIdentity(p.ca.CertPEM(), cp, kp); !errors.Is(err, ErrTLSFile) || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("certificate from another CA: %v", err)
	}
	if _, err := NewTLSIdentity(p.ca.CertPEM(), cp, []byte("garbage")); !errors.Is(err, ErrTLSFile) {
		t.Fatalf("garbage key: %v", err)
	}
	if _, err := NewTLSIdentity([]byte("no pem"), cp, kp); !errors.Is(err, ErrTLSFile) {
		t.Fatalf("garbage CA: %v", err)
	}
}

func TestTLSIdentityNeverPrintsKey(t *testing.T) {
	p := newTestPKI(t)
	id := p.identity(t, p.ca, "n1", false)
	var b syncBuf
	bufLogger(&b).Info("identity", "id", id)
	out := fmt.Sprintf("%v %+v %s", id, id, id) + b.String()
	if !strings.Contains(out, "TLSIdentity(n1)") {
		t.Fatalf("identity not named: %s", out)
	}
	p.assertNoSecrets(t, out)
	if strings.Contains(out, "PrivateKey") {
		t.Fatalf("key field printed: %s", out)
	}
}
