package track

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/fsm"
)

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		"/bin/check":                      {"/bin/check"},
		`  killall -0 haproxy `:           {"killall", "-0", "haproxy"},
		`/usr/bin/curl -s "http://x/a b"`: {"/usr/bin/curl", "-s", "http://x/a b"},
		`sh -c 'exit 1'`:                  {"sh", "-c", "exit 1"},
		`a ""`:                            {"a", ""},
	} {
		got, err := SplitCommand(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "   ", `a "b`} {
		if _, err := SplitCommand(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("SplitCommand(%q): %v", bad, err)
		}
	}
}

// fakeRunner returns scripted results; a nil entry blocks until the run's
// context ends (a timeout).
type fakeRunner struct {
	mu      sync.Mutex
	results []error
	block   map[int]bool
	calls   [][]string
}

func (f *fakeRunner) Run(ctx context.Context, argv []string) error {
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, argv)
	f.mu.Unlock()
	if f.block[n] {
		<-ctx.Done()
		return ctx.Err()
	}
	if n < len(f.results) {
		return f.results[n]
	}
	return nil
}

func collectScript(t *testing.T, tr *Tracker, s Script, n int) []bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan fsm.ScriptResult, n)
	done := make(chan error, 1)
	go func() {
		done <- tr.RunScript(ctx, s, func(r fsm.ScriptResult) {
			if r.Name != s.Name || r.At.IsZero() {
				t.Errorf("bad event %+v", r)
			}
			select {
			case ch <- r:
			default:
			}
		})
	}()
	var got []bool
	for len(got) < n {
		select {
		case r := <-ch:
			got = append(got, r.OK)
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d results", len(got))
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("RunScript returned %v", err)
	}
	return got
}

func TestRunScriptResultsAndTimeout(t *testing.T) {
	boom := errors.New("exit status 1")
	f := &fakeRunner{results: []error{nil, boom, nil, nil}, block: map[int]bool{2: true}}
	tr := &Tracker{Runner: f}
	got := collectScript(t, tr, Script{Name: "chk", Command: "check_it --fast", Interval: 5 * time.Millisecond, Timeout: 20 * time.Millisecond}, 4)
	if !slices.Equal(got, []bool{true, false, false, true}) {
		t.Fatalf("results %v (third run timed out)", got)
	}
	if !slices.Equal(f.calls[0], []string{"check_it", "--fast"}) {
		t.Fatalf("argv %q", f.calls[0])
	}
}

func TestRunScriptConfigErrors(t *testing.T) {
	tr := &Tracker{Runner: &fakeRunner{}}
	if err := tr.RunScript(context.Background(), Script{Name: "x"}, func(fsm.ScriptResult) {}); !errors.Is(err, ErrConfig) {
		t.Fatalf("empty command: %v", err)
	}
	if err := (&Tracker{}).RunScript(context.Background(), Script{Name: "x", Command: "true"}, func(fsm.ScriptResult) {}); !errors.Is(err, ErrConfig) {
		t.Fatalf("no runner: %v", err)
	}
}

func TestExecRunner(t *testing.T) {
	truePath, err1 := lookPath("true")
	falsePath, err2 := lookPath("false")
	sleepPath, err3 := lookPath("sleep")
	if err1 != nil || err2 != nil || err3 != nil {
		t.Skip("true/false/sleep not installed")
	}
	ctx := context.Background()
	if err := (ExecRunner{}).Run(ctx, []string{truePath}); err != nil {
		t.Fatalf("true: %v", err)
	}
	if err := (ExecRunner{}).Run(ctx, []string{falsePath}); err == nil {
		t.Fatal("false succeeded")
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := (ExecRunner{}).Run(tctx, []string{sleepPath, "10"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sleep past timeout: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	if err := (ExecRunner{}).Run(ctx, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("empty argv: %v", err)
	}
}

func lookPath(name string) (string, error) {
	for _, d := range []string{"/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

func TestReadValue(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tr := &Tracker{}
	for path, want := range map[string]int{
		write("a", "42\n"):         42,
		write("b", "  -7 extra\n"): -7,
		write("c", ""):             0,
		write("d", "abc"):          0,
		filepath.Join(dir, "none"): 0,
	} {
		if got := tr.ReadValue(path); got != want {
			t.Errorf("ReadValue(%s) = %d, want %d", filepath.Base(path), got, want)
		}
	}
}

func TestWatchFileEmitsFirstAndChanges(t *testing.T) {
	var mu sync.Mutex
	vals := []string{"1", "1", "1", "5", "5", "0"}
	n := 0
	tr := &Tracker{ReadFile: func(string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		v := vals[min(n, len(vals)-1)]
		n++
		return []byte(v), nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan int, 10)
	done := make(chan error, 1)
	go func() {
		done <- tr.WatchFile(ctx, File{Name: "f", Path: "/x", Interval: 2 * time.Millisecond}, func(v fsm.FileValue) { ch <- v.Value })
	}()
	var got []int
	for len(got) < 3 {
		select {
		case v := <-ch:
			got = append(got, v)
		case <-time.After(5 * time.Second):
			t.Fatalf("got %v", got)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{1, 5, 0}) {
		t.Fatalf("values %v, want [1 5 0]", got)
	}
	if err := tr.WatchFile(ctx, File{Name: "f"}, func(fsm.FileValue) {}); !errors.Is(err, ErrConfig) {
		t.Fatalf("no path: %v", err)
	}
}
