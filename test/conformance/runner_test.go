package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoadCases(t *testing.T) {
	in := "name\ttier\tbuckets\nsimple1\tcore-strict\tx\n\nsimple2\tcore\t\n"
	got, err := LoadCases(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Case{{"simple1", "core-strict"}, {"simple2", "core"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := LoadCases(strings.NewReader("a\tb\nx\ty\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("missing header columns: err = %v", err)
	}
	if _, err := LoadCases(strings.NewReader("tier\tname\nonly-one-column\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("short row: err = %v", err)
	}
	if _, err := LoadCases(strings.NewReader("")); err == nil {
		t.Error("empty file accepted")
	}
}

// fakeSuite writes a suite whose expected output for case NAME is
// "Transition Summary:\n  * Start NAME ( n1 )\nRevised Cluster Status:\n ok\n".
func fakeSuite(t *testing.T, cases map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"xml", "summary"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var tsv strings.Builder
	tsv.WriteString("name\ttier\tdescription\n")
	names := []string{"a", "b", "c", "d", "e", "f"}
	for _, n := range names {
		tier, ok := cases[n]
		if !ok {
			continue
		}
		fmt.Fprintf(&tsv, "%s\t%s\tdesc\n", n, tier)
		if err := os.WriteFile(filepath.Join(dir, "summary", n+".summary"), []byte(summaryFor(n)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "xml", n+".xml"), []byte("<cib/>"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cases.tsv"), []byte(tsv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func summaryFor(n string) string {
	return "Current cluster status:\n ocf:x\nTransition Summary:\n  * Start " + n + " ( n1 )\nRevised Cluster Status:\n ok\n"
}

func TestRun(t *testing.T) {
	dir := fakeSuite(t, map[string]string{"a": "core-strict", "b": "core-strict", "c": "core", "d": "core", "e": "promotable", "f": "core"})
	var running, peak atomic.Int32
	sim := SimulatorFunc(func(ctx context.Context, xml string) ([]byte, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		name := strings.TrimSuffix(filepath.Base(xml), ".xml")
		time.Sleep(5 * time.Millisecond)
		switch name {
		case "a": // exact, with legacy spelling fixed by Normalize
			return []byte(strings.Replace(summaryFor(name), "ocf:x", "ocf::x", 1)), nil
		case "b": // L2: current status differs
			return []byte(strings.Replace(summaryFor(name), " ocf:x\n", " y\n", 1)), nil
		case "c": // L1: revised differs
			return []byte(strings.Replace(summaryFor(name), "ok", "bad", 1)), nil
		case "d": // timeout
			<-ctx.Done()
			return nil, ctx.Err()
		case "e": // crash
			return []byte("panic: boom\n\ngoroutine 1 [running]:\n"), errors.New("exit status 2")
		default: // f: error exit with wrong output
			return []byte("usage\n"), errors.New("exit status 1")
		}
	})
	res, err := Run(context.Background(), Config{Dir: dir, Workers: 2, Timeout: 200 * time.Millisecond, Sim: sim})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Result{}
	var order []string
	for _, r := range res {
		got[r.Name] = r
		order = append(order, r.Name)
	}
	if strings.Join(order, "") != "abcdef" {
		t.Errorf("results order %v, want cases.tsv order", order)
	}
	for name, want := range map[string]struct {
		level   int
		failure string
	}{"a": {3, ""}, "b": {2, ""}, "c": {1, ""}, "d": {0, FailTimeout}, "e": {0, FailCrash}, "f": {0, FailError}} {
		if r := got[name]; r.Level != want.level || r.Failure != want.failure {
			t.Errorf("%s: level %d failure %q, want %d %q (err %s)", name, r.Level, r.Failure, want.level, want.failure, r.Error)
		}
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d concurrent runs with 2 workers", p)
	}
	if s := Slowest(res); s.Name != "d" {
		t.Errorf("slowest = %s, want the timed-out case", s.Name)
	}

	stats := Summarize(res)
	byTier := map[string]TierStats{}
	for _, s := range stats {
		byTier[s.Tier] = s
	}
	if tiers := fmt.Sprint(func() []string {
		var o []string
		for _, s := range stats {
			o = append(o, s.Tier)
		}
		return o
	}()); tiers != "[core-strict core promotable total]" {
		t.Errorf("tier rows %s", tiers)
	}
	tot := byTier["total"]
	if tot.Cases != 6 || tot.L1 != 3 || tot.L2 != 2 || tot.L3 != 1 || tot.Timeouts != 1 || tot.Crashes != 1 || tot.Errors != 1 {
		t.Errorf("total = %+v", tot)
	}
	if cs := byTier["core"]; fmt.Sprint(cs.FailL1, cs.FailL2, cs.FailL3) != "[d f] [c] []" {
		t.Errorf("core failing lists = %v %v %v", cs.FailL1, cs.FailL2, cs.FailL3)
	}

	var buf bytes.Buffer
	WriteReport(&buf, res)
	for _, want := range []string{"core-strict", "below L1 (2): d f", "L1 only  (1): c", "L2 only  (1): b", "d (timeout", "e (crash", "slowest case: d"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestRunSelection(t *testing.T) {
	dir := fakeSuite(t, map[string]string{"a": "core-strict", "b": "core", "c": "core"})
	var calls atomic.Int32
	sim := SimulatorFunc(func(ctx context.Context, xml string) ([]byte, error) {
		calls.Add(1)
		return []byte(summaryFor(strings.TrimSuffix(filepath.Base(xml), ".xml"))), nil
	})
	res, err := Run(context.Background(), Config{Dir: dir, Only: []string{"core"}, Sim: sim})
	if err != nil || len(res) != 2 || res[0].Name != "b" || calls.Load() != 2 {
		t.Fatalf("Only core: %v %v (calls %d)", res, err, calls.Load())
	}
	res, err = Run(context.Background(), Config{Dir: dir, Case: "a", Sim: sim})
	if err != nil || len(res) != 1 || res[0].Level != 3 {
		t.Fatalf("Case a: %+v %v", res, err)
	}
	if _, err := Run(context.Background(), Config{Dir: dir, Case: "zz", Sim: sim}); err == nil {
		t.Error("unknown case accepted")
	}
	if _, err := Run(context.Background(), Config{Dir: filepath.Join(dir, "nope"), Sim: sim}); !errors.Is(err, ErrNoSuite) {
		t.Errorf("missing suite: err = %v, want ErrNoSuite", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Config{Dir: dir, Sim: sim}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: err = %v", err)
	}
}

// TestSuiteFormat checks the shared suite's summaries have the shape the
// comparison assumes: every section header once, in order, and only the
// known preamble lines before the first one.
func TestSuiteFormat(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "pacemaker-scheduler")
	files, _ := filepath.Glob(filepath.Join(dir, "summary", "*.summary"))
	if len(files) == 0 {
		t.Skipf("skipping: no scheduler suite at %s (needs ../shared beside the repository)", dir)
	}
	headers := []string{HeaderCurrent, HeaderSummary, HeaderExecuting, HeaderRevised}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		next := 0
		for i, l := range strings.Split(string(data), "\n") {
			tl := strings.TrimSpace(l)
			if next < len(headers) && tl == headers[next] {
				next++
				continue
			}
			for _, h := range headers {
				if tl == h {
					t.Errorf("%s:%d: header %q out of order", f, i+1, h)
				}
			}
			if next == 0 && tl != "" && !strings.HasPrefix(tl, "Using the original execution date of:") &&
				!strings.Contains(tl, "resource instances DISABLED") && tl != "*** Resource management is DISABLED ***" &&
				tl != "The cluster will not attempt to start, stop or recover services" {
				t.Errorf("%s:%d: unexpected preamble line %q", f, i+1, l)
			}
		}
		if next != len(headers) {
			t.Errorf("%s: only %d of %d section headers", f, next, len(headers))
		}
		s := string(data)
		if Level(s, s) != 3 {
			t.Errorf("%s does not match itself", f)
		}
	}
}
