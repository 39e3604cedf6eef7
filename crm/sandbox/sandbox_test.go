package sandbox

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	stsandbox "github.com/gocrm/gocrm/stonith/sandbox"
)

var _ stsandbox.Killer = (*Killer)(nil)

const fakeEnv = "GOCRM_SANDBOX_FAKE_CRMD"

// TestMain doubles as a fake crmd: with fakeEnv set the test binary just
// waits for SIGTERM (started by Sandbox.Start with crmd's arguments).
func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) == "1" {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGPIPE)
		os.Stderr.WriteString("fake crmd " + strconv.Itoa(os.Getpid()) + " started\n")
		select {
		case sig := <-ch:
			os.Stderr.WriteString("fake crmd: " + sig.String() + "\n")
		case <-time.After(2 * time.Minute):
			os.Stderr.WriteString("fake crmd: timeout\n")
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func fakeSandbox(t *testing.T, nodes int) *Sandbox {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, "1")
	dir := filepath.Join(t.TempDir(), "sb")
	s, err := Create(Config{Dir: dir, Nodes: nodes, CRMD: self})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range s.Nodes() {
				if b, err := os.ReadFile(s.LogFile(n)); err == nil {
					t.Logf("%s log:\n%s", n, tail(string(b), 2000))
				}
			}
		}
		_ = s.Down(context.Background(), 5*time.Second)
	})
	return s
}

func TestCreateLayoutAndPurge(t *testing.T) {
	s := fakeSandbox(t, 3)
	if got := s.Nodes(); !slices.Equal(got, []string{"n1", "n2", "n3"}) {
		t.Fatalf("nodes = %v", got)
	}
	st, err := os.Stat(s.KeyFile())
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, st.Mode())
	}
	ports := map[int]bool{}
	for _, n := range s.State().Nodes {
		for k := 0; k < 3; k++ {
			if ports[n.Port+k] {
				t.Errorf("port %d used twice", n.Port+k)
			}
			ports[n.Port+k] = true
		}
	}
	args, err := s.Args("n2")
	if err != nil {
		t.Fatal(err)
	}
	joins := 0
	for i, a := range args {
		if a == "--join" {
			joins++
		}
		if a == "--socket" && args[i+1] != filepath.Join(s.Dir(), "n2", "crmd.sock") {
			t.Errorf("socket = %s", args[i+1])
		}
	}
	if joins != 2 {
		t.Errorf("n2 joins %d peers, want 2: %v", joins, args)
	}
	if _, err := Create(Config{Dir: s.Dir(), Nodes: 1, CRMD: "/bin/true"}); !errors.Is(err, ErrExists) {
		t.Errorf("second Create: %v", err)
	}
	o, err := Open(s.Dir(), nil)
	if err != nil || !slices.Equal(o.Nodes(), s.Nodes()) {
		t.Fatalf("Open: %v", err)
	}
	if _, err := Open(t.TempDir(), nil); !errors.Is(err, ErrNotSandbox) {
		t.Errorf("Open of a plain dir: %v", err)
	}
	foreign := filepath.Join(s.Dir(), "keep.txt")
	os.WriteFile(foreign, []byte("not ours"), 0o644)
	if err := s.Purge(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Error("Purge removed a file it did not create")
	}
	for _, p := range []string{s.KeyFile(), s.NodeDir("n1"), filepath.Join(s.Dir(), StateFile)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not purged", p)
		}
	}
}

func TestStartStopKill(t *testing.T) {
	s := fakeSandbox(t, 2)
	ctx := context.Background()
	if err := s.Start(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if !s.Running("n1") || s.Running("n2") {
		t.Fatalf("running: n1 %v n2 %v", s.Running("n1"), s.Running("n2"))
	}
	if err := s.Start(ctx, "n1"); !errors.Is(err, ErrRunning) {
		t.Errorf("double start: %v", err)
	}
	if err := s.Start(ctx, "n9"); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("unknown node: %v", err)
	}
	k := NewKiller(s.Dir(), nil)
	if up, err := k.Running(ctx, "n1"); err != nil || !up {
		t.Errorf("killer running n1 = %v %v", up, err)
	}
	if nodes, _ := k.Nodes(ctx); len(nodes) != 2 {
		t.Errorf("killer nodes = %v", nodes)
	}
	if err := k.Kill(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if s.Running("n1") {
		t.Fatal("n1 survived the killer")
	}
	if _, err := os.Stat(s.PIDFile("n1")); !errors.Is(err, os.ErrNotExist) {
		t.Error("pid file left after kill")
	}
	if err := s.Start(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx, "n1", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if s.Running("n1") {
		t.Fatal("n1 still running after Stop")
	}
	if err := s.Stop(ctx, "n2", time.Second); err != nil {
		t.Errorf("stopping a stopped node: %v", err)
	}
}

func TestStopRefusesForeignProcess(t *testing.T) {
	s := fakeSandbox(t, 2)
	ctx := context.Background()
	// Our own pid: not a crmd of this sandbox.
	os.WriteFile(s.PIDFile("n2"), []byte(strconv.Itoa(os.Getpid())), 0o644)
	if err := s.Stop(ctx, "n2", time.Second); !errors.Is(err, ErrNotOurs) {
		t.Errorf("stop with foreign pid: %v", err)
	}
	// n1's crmd is not n2's.
	if err := s.Start(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	pid, err := s.PID("n1")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(s.PIDFile("n2"), []byte(strconv.Itoa(pid)), 0o644)
	if err := s.Kill(ctx, "n2"); !errors.Is(err, ErrNotOurs) {
		t.Errorf("kill n2 with n1's pid: %v", err)
	}
	if !s.Running("n1") {
		t.Error("n1 was signalled through n2's pid file")
	}
	os.Remove(s.PIDFile("n2"))
}

// TestLiveCluster runs a real 3-node sandbox with bin/crmd.
func TestLiveCluster(t *testing.T) {
	crmd, err := filepath.Abs(filepath.Join("..", "..", "bin", "crmd"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(crmd); err != nil {
		t.Skipf("bin/crmd not built (make build): %v", err)
	}
	if testing.Short() {
		t.Skip("starts three crmd processes")
	}
	dir := filepath.Join(t.TempDir(), "sb")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, dc, err := Up(ctx, Config{Dir: dir, Nodes: 3, CRMD: crmd}, 60*time.Second)
	if s != nil {
		defer func() {
			_ = s.Down(context.Background(), 20*time.Second)
			if t.Failed() {
				for _, n := range s.Nodes() {
					if b, err := os.ReadFile(s.LogFile(n)); err == nil {
						t.Logf("%s log tail:\n%s", n, tail(string(b), 2000))
					}
				}
			}
		}()
	}
	if err != nil {
		t.Fatal(err)
	}
	if dc == "" {
		t.Fatal("no DC")
	}
	victim := "n1"
	if dc == "n1" {
		victim = "n2"
	}
	if err := s.Kill(ctx, victim); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx, victim); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitReady(ctx, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.Down(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, n := range s.Nodes() {
		if s.Running(n) {
			t.Errorf("%s still running after Down", n)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
