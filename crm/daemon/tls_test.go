package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/crm/noderpc"
)

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tlsFiles returns a Config carrying node's TLS files from dir.
func tlsFiles(dir, node string) Config {
	return Config{TLSCAFile: filepath.Join(dir, consensus.CACertFile),
		TLSCertFile: filepath.Join(dir, consensus.NodeCertFile(node)),
		TLSKeyFile:  filepath.Join(dir, consensus.NodeKeyFile(node)), KeyOwnerCheck: consensus.RootOrCurrentUser}
}

func TestTLSConfigValidation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	o := consensus.PKIOptions{OwnerCheck: consensus.RootOrCurrentUser}
	if _, err := consensus.InitPKI(dir, "c", "n1", o); err != nil {
		t.Fatal(err)
	}
	base := Config{Name: "n1", DataDir: t.TempDir(), BindAddr: "127.0.0.1", GossipPort: 7000,
		Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, Logger: slog.New(slog.DiscardHandler)}
	cfg := base
	if _, err := New(cfg); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "InsecureTransport") {
		t.Fatalf("no TLS, not insecure: %v", err)
	}
	cfg = base
	f := tlsFiles(dir, "n1")
	cfg.TLSCAFile, cfg.TLSCertFile, cfg.TLSKeyFile, cfg.KeyOwnerCheck = f.TLSCAFile, f.TLSCertFile, f.TLSKeyFile, f.KeyOwnerCheck
	if _, err := New(cfg); err != nil {
		t.Fatalf("good TLS files: %v", err)
	}
	cfg.InsecureTransport = true
	if _, err := New(cfg); !errors.Is(err, ErrConfig) {
		t.Fatalf("TLS and insecure together: %v", err)
	}
	cfg.InsecureTransport = false
	cfg.Name = "n2"
	if _, err := New(cfg); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `certificate is for node "n1"`) {
		t.Fatalf("certificate of another node: %v", err)
	}
	cfg.Name = "n1"
	if err := os.Chmod(cfg.TLSKeyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); !errors.Is(err, consensus.ErrTLSFile) || !strings.Contains(err.Error(), "mode 0644, must be 0600") {
		t.Fatalf("world-readable key: %v", err)
	}
	_ = os.Chmod(cfg.TLSKeyFile, 0o600)
	cfg.TLSKeyFile = ""
	if _, err := New(cfg); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing key file: %v", err)
	}
}

// TestTLSWrongCertificateCannotJoin: a three-node cluster over mutual TLS;
// a node with the gossip key but a certificate from another CA joins the
// gossip yet never enters the raft configuration and its RPCs are refused,
// while a node with a certificate from the cluster CA joins.
func TestTLSWrongCertificateCannotJoin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five daemons (~15 s)")
	}
	pki := filepath.Join(t.TempDir(), "pki")
	o := consensus.PKIOptions{OwnerCheck: consensus.RootOrCurrentUser}
	if _, err := consensus.InitPKI(pki, "c", "n1", o); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"n2", "n3", "n4"} {
		if _, _, err := consensus.IssueNodeCert(pki, n, o); err != nil {
			t.Fatal(err)
		}
	}
	roguePKI := filepath.Join(t.TempDir(), "rogue")
	if _, err := consensus.InitPKI(roguePKI, "c", "n5", o); err != nil {
		t.Fatal(err)
	}
	// The rogue also trusts the cluster CA (its certificate is public), so
	// the refusals tested are the cluster's.
	clusterCA, err := os.ReadFile(filepath.Join(pki, consensus.CACertFile))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(roguePKI, consensus.CACertFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(clusterCA); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var logs lockedBuf
	level := slog.LevelInfo
	tc := &testCluster{t: t, key: []byte("0123456789abcdef0123456789abcdef"), nodes: map[string]*Daemon{},
		dirs: map[string]string{}, cfgs: map[string]Config{}}
	t.Cleanup(func() {
		for _, d := range tc.nodes {
			d.Kill()
		}
		if t.Failed() || os.Getenv("GOCRM_TEST_DEBUG") != "" {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	var seeds []string
	start := func(name, dir string, expect int) *Daemon {
		t.Helper()
		cfg := tlsFiles(dir, name)
		cfg.Name, cfg.DataDir, cfg.BindAddr, cfg.GossipPort = name, t.TempDir(), "127.0.0.1", freePorts(t)
		cfg.BootstrapExpect, cfg.Keys, cfg.QuorumLease, cfg.Join = expect, [][]byte{tc.key}, 2*time.Second, seeds
		cfg.SocketPath = filepath.Join(t.TempDir(), "crmd.sock")
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
		d, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := d.Start(ctx); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		tc.nodes[name], tc.cfgs[name] = d, cfg
		seeds = append(seeds, "127.0.0.1:"+strconv.Itoa(cfg.GossipPort))
		return d
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		start(n, pki, 3)
	}
	for n, d := range tc.nodes {
		select {
		case <-d.Joined():
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not join over mTLS", n)
		}
	}
	rogue := start("n5", roguePKI, 0)
	good := start("n4", pki, 0)
	select {
	case <-good.Joined():
	case <-time.After(30 * time.Second):
		t.Fatal("n4 (certificate from the cluster CA) did not join")
	}
	// n4 is a raft voter now.
	waitFor(t, 15*time.Second, "n4 to become a raft voter", func() bool {
		ss, err := tc.nodes["n1"].Raft().Servers()
		if err != nil {
			return false
		}
		for _, s := range ss {
			if s.ID == "n4" && s.Voter {
				return true
			}
		}
		return false
	})
	// The rogue node is a gossip member (it has the gossip key)...
	waitFor(t, 10*time.Second, "n5 in the gossip membership", func() bool {
		for _, m := range tc.nodes["n1"].ml.Members() {
			if m.Name == "n5" {
				return true
			}
		}
		return false
	})
	// ...but after the DC tried to add it, it is in no raft configuration
	// and never joined.
	waitFor(t, 15*time.Second, "the DC's refusal of n5's certificate", func() bool {
		return strings.Contains(logs.String(), "not adding n5") && strings.Contains(logs.String(), "unknown authority")
	})
	select {
	case <-rogue.Joined():
		t.Fatal("the node with a certificate from another CA joined")
	default:
	}
	for n, d := range tc.nodes {
		ss, err := d.Raft().Servers()
		if err != nil {
			continue
		}
		for _, s := range ss {
			if s.ID == "n5" {
				t.Fatalf("n5 is in %s's raft configuration", n)
			}
		}
	}
	if ns := nodeStateOf(tc.nodes["n1"].Store().Current(), "n5"); ns != nil {
		t.Fatalf("n5 has a node_state in the CIB: %+v", ns)
	}
	// Its RPCs are refused: the rogue calling n1's node RPC, and n1
	// calling the rogue's.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n1addr := "127.0.0.1:" + strconv.Itoa(tc.cfgs["n1"].GossipPort+noderpc.PortOffset)
	key := noderpc.DeriveKey(tc.key)
	rc := &noderpc.Client{Key: key, Dial: func(ctx context.Context, a string) (net.Conn, error) {
		return rogue.sec.mtls.Dial(ctx, a, "n1")
	}}
	if _, err := rc.Call(ctx, n1addr, noderpc.ActionRequest{Term: 1 << 40, Task: "monitor"}); !errors.Is(err, consensus.ErrRefusedByPeer) {
		t.Fatalf("rogue → n1 node RPC: %v, want ErrRefusedByPeer", err)
	}
	c1 := tc.nodes["n1"].sec.rpcClient(key)
	n5addr := "127.0.0.1:" + strconv.Itoa(tc.cfgs["n5"].GossipPort+noderpc.PortOffset)
	if _, err := c1.Call(ctx, n5addr, noderpc.ActionRequest{Term: 1 << 40, Task: "monitor"}); !errors.Is(err, consensus.ErrPeerRejected) {
		t.Fatalf("n1 → rogue node RPC: %v, want ErrPeerRejected", err)
	}
	// A plain-TCP client (gossip key only) gets nothing either.
	if _, err := (&noderpc.Client{Key: key}).Call(ctx, n1addr, noderpc.ActionRequest{Term: 1 << 40, Task: "monitor"}); err == nil {
		t.Fatal("plain-TCP node RPC accepted")
	}
	// Refusals are logged after the alert reaches the client: wait.
	waitFor(t, 5*time.Second, "the refusals in the logs", func() bool {
		out := logs.String()
		for _, want := range []string{"mTLS: connection refused", "not a TLS client", `direction="inbound noderpc"`, `direction="inbound raft"`} {
			if !strings.Contains(out, want) {
				return false
			}
		}
		return true
	})
	if out := logs.String(); strings.Contains(out, "PRIVATE KEY") {
		t.Fatal("key material in the logs")
	}
	// Actions reach n4 over the mTLS node RPC: d1, banned from the
	// original nodes, runs there.
	waitFor(t, 20*time.Second, "n4 as a CIB node", func() bool {
		d := tc.dc()
		if d == nil {
			return false
		}
		names := map[string]bool{}
		for _, n := range d.Store().Current().Config.Nodes {
			names[n.Uname] = true
		}
		if names["n5"] {
			t.Fatal("n5 is a CIB node")
		}
		return names["n4"] && len(names) == 4
	})
	cur := tc.dc().Store().Current()
	cfg := strings.Replace(twoDummies, "<constraints>", `<constraints>
<rsc_location id="l1" rsc="d1" node="n1" score="-INFINITY"/>
<rsc_location id="l2" rsc="d1" node="n2" score="-INFINITY"/>
<rsc_location id="l3" rsc="d1" node="n3" score="-INFINITY"/>`, 1)
	// Through the DC: n5, outside raft, cannot apply anything.
	actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
	if _, err := tc.dc().Raft().Apply(actx, store.Command{Op: store.OpReplaceConfiguration, XML: withNodes(t, cur, cfg), ExpectEpoch: store.EpochString(cur)}.Encode()); err != nil {
		acancel()
		t.Fatalf("apply replace-configuration: %v", err)
	}
	acancel()
	waitFor(t, 30*time.Second, "d1 on n4", func() bool {
		d := tc.dc()
		if d == nil || !d.Idle() {
			return false
		}
		got := runningOn(d, "d1")
		return len(got) == 1 && got[0] == "n4"
	})
}

type fakeProber struct {
	mu    sync.Mutex
	calls []time.Time
	err   error
}

func (f *fakeProber) Probe(context.Context, string, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, time.Now())
	return f.err
}

// TestProbeBacksOff: after a failed certificate check the next attempt for
// the same node waits (so a rogue member is not hammered), and a context
// ending meanwhile returns without probing.
func TestProbeBacksOff(t *testing.T) {
	fp := &fakeProber{err: consensus.ErrPeerRejected}
	s := &transportSecurity{layer: fp, failed: map[string]probeFailure{}, log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	if err := s.probe(ctx, "r", "a"); !errors.Is(err, consensus.ErrPeerRejected) {
		t.Fatalf("first probe: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err := s.probe(short, "r", "a")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || len(fp.calls) != 1 {
		t.Fatalf("probe within the back-off: %v after %d probes", err, len(fp.calls))
	}
	if err := s.probe(ctx, "r", "a"); !errors.Is(err, consensus.ErrPeerRejected) {
		t.Fatalf("second probe: %v", err)
	}
	if gap := fp.calls[1].Sub(fp.calls[0]); gap < probeBackoffMin-50*time.Millisecond {
		t.Fatalf("second probe after %v, want >= %v", gap, probeBackoffMin)
	}
	// Another node is not delayed; success clears the record.
	fp.err = nil
	if err := s.probe(ctx, "good", "b"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.failed["good"]; ok {
		t.Fatal("success recorded as a failure")
	}
	if s.failed["r"].backoff != 2*probeBackoffMin {
		t.Fatalf("back-off after two failures = %v", s.failed["r"].backoff)
	}
}
