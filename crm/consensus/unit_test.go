package consensus

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/membership"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

func TestTimingValidate(t *testing.T) {
	for _, tm := range []Timing{DefaultTiming, WANTiming} {
		if err := tm.Validate(); err != nil {
			t.Errorf("%+v: %v", tm, err)
		}
	}
	bad := []Timing{
		{HeartbeatTimeout: time.Millisecond, ElectionTimeout: time.Second, LeaderLeaseTimeout: time.Millisecond, CommitTimeout: time.Millisecond},
		{HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond, LeaderLeaseTimeout: 200 * time.Millisecond, CommitTimeout: time.Millisecond},
		{HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond, LeaderLeaseTimeout: 50 * time.Millisecond, CommitTimeout: time.Millisecond},
	}
	for _, tm := range bad {
		if err := tm.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v accepted: %v", tm, err)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	net := NewInmemNetwork()
	base := func() Config {
		return Config{NodeID: "n1", DataDir: t.TempDir(), Transport: net.NewTransport("a"), FSM: &listFSM{}, Logger: slog.New(slog.DiscardHandler)}
	}
	for name, mod := range map[string]func(*Config){
		"no id":      func(c *Config) { c.NodeID = "" },
		"no dir":     func(c *Config) { c.DataDir = "" },
		"no fsm":     func(c *Config) { c.FSM = nil },
		"no logger":  func(c *Config) { c.Logger = nil },
		"neg expect": func(c *Config) { c.BootstrapExpect = -1 },
		"bad timing": func(c *Config) { c.Timing = Timing{HeartbeatTimeout: time.Second} },
	} {
		c := base()
		mod(&c)
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := New(Config{NodeID: "n1"}); !errors.Is(err, ErrConfig) {
		t.Errorf("no transport: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	type pt struct{ X int }
	cases := []struct {
		in   any
		want string
	}{{nil, ""}, {[]byte("b"), "b"}, {"s", "s"}, {pt{1}, `{"X":1}`}, {netip.MustParseAddr("10.0.0.1"), "\n\x00\x00\x01"}}
	for _, c := range cases {
		got, err := normalize(1, c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("normalize(%v) = %q, %v", c.in, got, err)
		}
	}
	_, err := normalize(7, errors.New("nope"))
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Index != 7 || !errors.Is(err, ErrCommandRejected) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("error response: %v", err)
	}
	if _, err := normalize(1, make(chan int)); err == nil {
		t.Error("unencodable response accepted")
	}
}

func TestStatsRoundTrip(t *testing.T) {
	s := Stats{State: raft.Candidate, Term: 9, LastIndex: 1 << 40, CommitIndex: 5, AppliedIndex: 4, Servers: 3}
	got, err := decodeStats(encodeStats(s))
	if err != nil || got != s {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, b := range [][]byte{nil, {1}, {1, 0x80}} {
		if _, err := decodeStats(b); !errors.Is(err, ErrForward) {
			t.Errorf("decodeStats(%x): %v", b, err)
		}
	}
}

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	if err := writeFrame(&buf, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	got, err := readFrame(&buf)
	if err != nil || string(got) != "abc" {
		t.Fatalf("%q %v", got, err)
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], maxFrame+1)
	if _, err := readFrame(bytes.NewReader(hdr[:])); !errors.Is(err, ErrForward) {
		t.Errorf("oversized frame: %v", err)
	}
	if err := writeFrame(&buf, make([]byte, maxFrame+1)); !errors.Is(err, ErrForward) {
		t.Errorf("oversized write: %v", err)
	}
	if _, err := decodeApplyReply([]byte{stOK}); !errors.Is(err, ErrForward) {
		t.Errorf("short reply: %v", err)
	}
	if _, err := decodeApplyReply([]byte{9, 1}); !errors.Is(err, ErrForward) {
		t.Errorf("bad status: %v", err)
	}
	re := &remoteError{code: codeLeadershipLost, msg: "x"}
	if !errors.Is(re, raft.ErrLeadershipLost) || !errors.Is(re, ErrForward) {
		t.Errorf("remote error mapping: %v", re)
	}
	if errorCode(errors.Join(errors.New("ctx"), raft.ErrNotLeader)) != codeNotLeader {
		t.Error("errorCode(ErrNotLeader)")
	}
}

// TestForwardServerRejectsGarbage talks the wire protocol directly over TCP.
func TestForwardServerRejectsGarbage(t *testing.T) {
	c := newCluster(t, true, nil)
	c.bootstrap("n1")
	c.leader(5 * time.Second)
	conn, err := net.DialTimeout("tcp", c.addrs["n1"], time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte{forwardMagic}); err != nil {
		t.Fatal(err)
	}
	for _, req := range [][]byte{{}, {99}, {opApply, 0}} {
		if err := writeFrame(conn, req); err != nil {
			t.Fatal(err)
		}
		resp, err := readFrame(conn)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp) < 2 || resp[0] != stError || resp[1] != codeBadRequest {
			t.Errorf("request %x: reply %x", req, resp)
		}
	}
	// A valid apply on the same connection still works.
	req := binary.BigEndian.AppendUint32([]byte{opApply}, 2000)
	req = append(req, "echo:raw"...)
	if err := writeFrame(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := readFrame(conn)
	if err != nil {
		t.Fatal(err)
	}
	res, err := decodeApplyReply(resp)
	if err != nil || string(res.Data) != "raw" {
		t.Fatalf("raw apply: %+v %v", res, err)
	}
	// A silent or unknown-protocol connection does not disturb raft.
	junk, err := net.DialTimeout("tcp", c.addrs["n1"], time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = junk.Write([]byte{0xee, 1, 2, 3})
	_ = junk.Close()
	if _, err := c.nodes["n1"].Apply(ctxT(t, 5*time.Second), []byte("still-ok")); err != nil {
		t.Fatal(err)
	}
}

func TestApplyWithoutLeader(t *testing.T) {
	c := newCluster(t, false, nil)
	n := c.start("lonely") // never bootstrapped: no leader ever
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := n.Apply(ctx, []byte("x")); !errors.Is(err, ErrNoLeader) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Apply without leader: %v", err)
	}
	if _, err := n.MaybeBootstrap(ctx, c.servers("lonely")); err != nil {
		t.Fatalf("MaybeBootstrap with expect=0: %v", err)
	}
	c.stop("lonely")
	if _, err := n.Apply(context.Background(), []byte("x")); !errors.Is(err, ErrShutdown) {
		t.Errorf("Apply after Shutdown: %v", err)
	}
	if err := n.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if _, ok := <-n.LeaderCh(); ok {
		t.Error("LeaderCh not closed after Shutdown")
	}
}

func TestTCPAdvertiseMustBeDialable(t *testing.T) {
	if _, err := NewTCPStreamLayer("0.0.0.0:0", nil); err == nil {
		t.Fatal("unspecified advertise address accepted")
	}
	sl, err := NewTCPStreamLayer("127.0.0.1:0", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 9})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	if sl.Addr().String() != "127.0.0.2:9" {
		t.Errorf("advertise = %s", sl.Addr())
	}
}

func TestHCLogAdapter(t *testing.T) {
	var buf bytes.Buffer
	l := NewHCLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: LevelTrace})))
	l.Named("raft").Named("net").With("peer", "n2").Warn("heartbeat failed", "backoff", "10ms")
	out := buf.String()
	for _, want := range []string{"level=WARN", `msg="heartbeat failed"`, "logger=raft.net", "peer=n2", "backoff=10ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	if strings.Count(out, "logger=") != 1 {
		t.Errorf("logger attribute repeated: %q", out)
	}
	buf.Reset()
	l.Info("fmt", hclog.Fmt("%d-%s", 3, "x"))
	if !strings.Contains(buf.String(), `msg="fmt 3-x"`) {
		t.Errorf("Format: %q", buf.String())
	}
	buf.Reset()
	l.SetLevel(hclog.Warn)
	l.Info("hidden")
	if buf.Len() != 0 || l.IsInfo() || !l.IsWarn() || l.GetLevel() != hclog.Warn {
		t.Errorf("SetLevel(Warn) let Info through: %q", buf.String())
	}
	l.SetLevel(hclog.Trace)
	l.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}).Print("[ERR] raft: disk full")
	if !strings.Contains(buf.String(), "level=ERROR") || !strings.Contains(buf.String(), `msg="raft: disk full"`) {
		t.Errorf("standard logger: %q", buf.String())
	}
	if l.With("a", 1).ImpliedArgs()[0] != "a" || l.Named("x").Name() != "x" || l.Named("x").ResetNamed("y").Name() != "y" {
		t.Error("With/Named/ResetNamed")
	}
	buf.Reset()
	l.Trace("t")
	if !strings.Contains(buf.String(), "level=DEBUG-4") {
		t.Errorf("trace level: %q", buf.String())
	}
}

func TestServersFromMembers(t *testing.T) {
	ms := []membership.Member{
		{Name: "a", Meta: membership.Meta{Name: "a", RaftAddr: "10.0.0.1:7000", Role: membership.RoleVoter}},
		{Name: "w", Meta: membership.Meta{Name: "w", RaftAddr: "10.0.0.9:7000", Role: membership.RoleArbiter}},
		{Name: "noaddr", Meta: membership.Meta{Name: "noaddr", Role: membership.RoleVoter}},
		{Name: "bye", Meta: membership.Meta{Name: "bye", RaftAddr: "10.0.0.3:7000", Role: membership.RoleVoter, Leaving: true}},
	}
	got := ServersFromMembers(ms)
	if len(got) != 2 || got[0] != (Server{ID: "a", Address: "10.0.0.1:7000", Voter: true}) || got[1].ID != "w" {
		t.Fatalf("got %+v", got)
	}
}

func TestTimingByName(t *testing.T) {
	for name, want := range map[string]Timing{"default": DefaultTiming, "fast": FastTiming, "wan": WANTiming} {
		got, err := TimingByName(name)
		if err != nil || got != want {
			t.Errorf("TimingByName(%q) = %+v, %v", name, got, err)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("profile %s: %v", name, err)
		}
	}
	if _, err := TimingByName("turbo"); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown profile: err = %v, want ErrConfig", err)
	}
}
