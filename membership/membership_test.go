package membership

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testLogger routes logs into t.Log (only shown on failure or -v).
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newKey(t testing.TB) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func acceptAnyOwner(string, fs.FileInfo) error { return nil }

// writeKeyFile writes keys in key-file format with the given mode.
func writeKeyFile(t testing.TB, mode os.FileMode, keys ...[]byte) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# gocrm gossip keys, primary first\n")
	for _, k := range keys {
		b.WriteString(EncodeKey(k) + "\n")
	}
	p := filepath.Join(t.TempDir(), "gossip.key")
	if err := os.WriteFile(p, []byte(b.String()), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // umask-proof
		t.Fatal(err)
	}
	return p
}

type agentOpts struct {
	cluster string
	key     []byte
	budget  time.Duration
}

func startAgent(t testing.TB, name string, o agentOpts) *Agent {
	t.Helper()
	a, err := New(Config{
		NodeName:         name,
		ClusterName:      o.cluster,
		BindAddr:         "127.0.0.1",
		KeyFile:          writeKeyFile(t, 0o600, o.key),
		OwnerCheck:       acceptAnyOwner,
		RaftAddr:         "127.0.0.1:7000",
		Incarnation:      1,
		FailureDetection: o.budget,
		Logger:           testLogger(t).With("node", name),
	})
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatalf("Start(%s): %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown(%s): %v", name, err)
		}
	})
	return a
}

func addrOf(t testing.TB, a *Agent) string {
	t.Helper()
	m, err := a.LocalMember()
	if err != nil {
		t.Fatal(err)
	}
	return m.Addr.String()
}

func memberNames(a *Agent) []string {
	var names []string
	for _, m := range a.Members() {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	return names
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitEvent reads events from a until one matches kind and node.
func waitEvent(t testing.TB, a *Agent, kind EventKind, node string, timeout time.Duration) Event {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-a.Events():
			if !ok {
				t.Fatalf("event channel closed while waiting for %s %s", kind, node)
			}
			if ev.Kind == kind && ev.Member.Name == node {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no %s event for %s within %s", kind, node, timeout)
		}
	}
}

func threeNodes(t testing.TB, o agentOpts) []*Agent {
	t.Helper()
	as := []*Agent{startAgent(t, "n1", o), startAgent(t, "n2", o), startAgent(t, "n3", o)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, a := range as[1:] {
		if _, err := a.Join(ctx, []string{addrOf(t, as[0])}); err != nil {
			t.Fatalf("join: %v", err)
		}
	}
	for _, a := range as {
		waitFor(t, 5*time.Second, "3 members", func() bool { return len(a.Members()) == 3 })
	}
	return as
}

func TestJoinEventsAndMetadata(t *testing.T) {
	key := newKey(t)
	as := threeNodes(t, agentOpts{cluster: "c1", key: key})
	if got := strings.Join(memberNames(as[2]), ","); got != "n1,n2,n3" {
		t.Fatalf("members = %s", got)
	}
	// n1 saw itself and both joiners (in whatever order they arrived).
	seen := map[string]bool{}
	timeout := time.After(5 * time.Second)
	for len(seen) < 3 {
		select {
		case ev := <-as[0].Events():
			if ev.Kind != EventJoin {
				continue
			}
			seen[ev.Member.Name] = true
			if ev.Member.Meta.Name != ev.Member.Name || ev.Member.Meta.Role != RoleVoter || ev.Member.Meta.RaftAddr != "127.0.0.1:7000" {
				t.Errorf("join event meta = %+v", ev.Member.Meta)
			}
			if !ev.Member.Addr.Addr().IsLoopback() {
				t.Errorf("addr = %s", ev.Member.Addr)
			}
		case <-timeout:
			t.Fatalf("join events seen: %v", seen)
		}
	}
	// Metadata update propagates as EventUpdate.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := as[1].UpdateMeta(ctx, Meta{Name: "n2", RaftAddr: "127.0.0.1:7002", Role: RoleArbiter, Incarnation: 2}); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, as[0], EventUpdate, "n2", 5*time.Second)
	if ev.Member.Meta.Role != RoleArbiter || ev.Member.Meta.Incarnation != 2 || ev.Member.Meta.RaftAddr != "127.0.0.1:7002" {
		t.Errorf("update meta = %+v", ev.Member.Meta)
	}
	for _, m := range as[0].Members() {
		if m.Name == "n2" && m.Meta.Role != RoleArbiter {
			t.Errorf("Members() not updated: %+v", m)
		}
	}
	waitFor(t, 5*time.Second, "n2's own record updated", func() bool {
		self, err := as[1].LocalMember()
		return err == nil && self.Meta.Role == RoleArbiter
	})
	if err := as[1].UpdateMeta(ctx, Meta{Name: "other", Role: RoleVoter}); !errors.Is(err, ErrInvalidMeta) {
		t.Errorf("renaming via UpdateMeta: err = %v, want ErrInvalidMeta", err)
	}
}

func TestGracefulLeave(t *testing.T) {
	as := threeNodes(t, agentOpts{cluster: "c1", key: newKey(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := as[2].Leave(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, as[0], EventLeave, "n3", 5*time.Second)
	waitFor(t, 5*time.Second, "n3 gone", func() bool { return len(as[1].Members()) == 2 })
}

func TestFailureDetection(t *testing.T) {
	as := threeNodes(t, agentOpts{cluster: "c1", key: newKey(t)})
	d := measureFailure(t, as[0], as[2], "n3")
	typical, worst := as[0].Timing().Detection(3)
	t.Logf("failed peer detected after %s (typical %s, worst %s)", d, typical, worst)
	// Generous bound: this is a correctness check, the speed target is
	// measured by BenchmarkFailureDetection.
	if d > 4*worst {
		t.Errorf("detection took %s, more than 4x the computed worst case %s", d, worst)
	}
	if got := strings.Join(memberNames(as[1]), ","); got != "n1,n2" {
		waitFor(t, 5*time.Second, "n2 drops n3", func() bool { return len(as[1].Members()) == 2 })
	}
}

// measureFailure shuts victim down without a leave and returns how long
// observer takes to emit EventFailed for it.
func measureFailure(t testing.TB, observer, victim *Agent, name string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Drain stale events first.
	for len(observer.Events()) > 0 {
		<-observer.Events()
	}
	start := time.Now()
	if err := victim.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, observer, EventFailed, name, 20*time.Second)
	return ev.Time.Sub(start)
}

// BenchmarkFailureDetection reports the time from a peer's crash (shutdown
// without leave) to EventFailed in a 3-node loopback cluster with the
// default budget. Run: go test ./membership -run ^$ -bench FailureDetection -benchtime 5x
func BenchmarkFailureDetection(b *testing.B) {
	var samples []time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		key := newKey(b)
		as := threeNodes(b, agentOpts{cluster: fmt.Sprintf("bench%d", i), key: key})
		time.Sleep(300 * time.Millisecond) // let probing settle
		b.StartTimer()
		samples = append(samples, measureFailure(b, as[0], as[2], "n3"))
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	b.ReportMetric(float64(samples[len(samples)/2].Milliseconds()), "median-ms")
	b.ReportMetric(float64(samples[len(samples)-1].Milliseconds()), "max-ms")
}

func TestNoFalsePositiveUnderCPULoad(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping 3 s CPU-load test in -short mode")
	}
	if raceEnabled {
		t.Skip("skipping timing-sensitive CPU-load test under the race detector (5-10x slowdown)")
	}
	as := threeNodes(t, agentOpts{cluster: "c1", key: newKey(t)})
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < runtime.NumCPU(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for !stop.Load() {
				for j := 0; j < 1e5; j++ {
					x += j
				}
			}
			_ = x
		}()
	}
	deadline := time.After(3 * time.Second)
loop:
	for {
		select {
		case ev := <-as[0].Events():
			if ev.Kind == EventFailed || ev.Kind == EventLeave {
				t.Errorf("false positive under CPU load: %s %s", ev.Kind, ev.Member.Name)
			}
		case <-deadline:
			break loop
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := len(as[1].Members()); n != 3 {
		t.Errorf("n2 sees %d members after load, want 3", n)
	}
}

func TestWrongKeyCannotJoin(t *testing.T) {
	a := startAgent(t, "n1", agentOpts{cluster: "c1", key: newKey(t)})
	b := startAgent(t, "n2", agentOpts{cluster: "c1", key: newKey(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := b.Join(ctx, []string{addrOf(t, a)}); !errors.Is(err, ErrJoin) {
		t.Fatalf("join with wrong key: err = %v, want ErrJoin", err)
	}
	time.Sleep(300 * time.Millisecond)
	if len(a.Members()) != 1 || len(b.Members()) != 1 {
		t.Fatalf("members after rejected join: a=%v b=%v", memberNames(a), memberNames(b))
	}
}

func TestWrongLabelCannotJoin(t *testing.T) {
	key := newKey(t)
	a := startAgent(t, "n1", agentOpts{cluster: "c1", key: key})
	b := startAgent(t, "n2", agentOpts{cluster: "c2", key: key})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := b.Join(ctx, []string{addrOf(t, a)}); !errors.Is(err, ErrJoin) {
		t.Fatalf("join with wrong label: err = %v, want ErrJoin", err)
	}
	time.Sleep(300 * time.Millisecond)
	if len(a.Members()) != 1 || len(b.Members()) != 1 {
		t.Fatalf("members after rejected join: a=%v b=%v", memberNames(a), memberNames(b))
	}
}

func TestNewRefusesUnsafeKeyFile(t *testing.T) {
	key := newKey(t)
	p := writeKeyFile(t, 0o644, key)
	_, err := New(Config{NodeName: "n1", ClusterName: "c", KeyFile: p, OwnerCheck: acceptAnyOwner, Logger: testLogger(t)})
	if !errors.Is(err, ErrKeyFile) {
		t.Fatalf("err = %v, want ErrKeyFile", err)
	}
	if msg := err.Error(); !strings.Contains(msg, p) || !strings.Contains(msg, "0644") {
		t.Errorf("error %q should name the file and its mode", msg)
	}
	if _, err := New(Config{NodeName: "n1", ClusterName: "c", Logger: testLogger(t)}); !errors.Is(err, ErrConfig) {
		t.Errorf("no key: err = %v, want ErrConfig", err)
	}
}

func TestShutdownIsIdempotentAndClosesEvents(t *testing.T) {
	a := startAgent(t, "n1", agentOpts{cluster: "c1", key: newKey(t)})
	ctx := context.Background()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for range a.Events() { //nolint:revive // drain until closed
	}
	if _, err := a.Join(ctx, []string{"127.0.0.1:1"}); !errors.Is(err, ErrShutdown) {
		t.Errorf("Join after Shutdown: %v", err)
	}
	if err := a.Start(ctx); !errors.Is(err, ErrShutdown) {
		t.Errorf("Start after Shutdown: %v", err)
	}
}

// TestKeyRotationSecondaryKey: a node whose key file lists the old key as
// primary and a new key as secondary still talks to a node that only has
// the old key (step one of a rolling rotation).
func TestKeyRotationSecondaryKey(t *testing.T) {
	oldKey, newKey2 := newKey(t), newKey(t)
	a := startAgent(t, "n1", agentOpts{cluster: "c1", key: oldKey})
	b, err := New(Config{
		NodeName: "n2", ClusterName: "c1", BindAddr: "127.0.0.1",
		KeyFile:    writeKeyFile(t, 0o600, oldKey, newKey2),
		OwnerCheck: acceptAnyOwner, RaftAddr: "127.0.0.1:7001",
		Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := b.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()
	if _, err := b.Join(ctx, []string{addrOf(t, a)}); err != nil {
		t.Fatalf("join with old primary + new secondary key: %v", err)
	}
	waitFor(t, 5*time.Second, "2 members", func() bool { return len(a.Members()) == 2 })
}
