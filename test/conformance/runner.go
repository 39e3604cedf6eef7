package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Tiers of cases.tsv, in report order.
var Tiers = []string{"core-strict", "core", "promotable-strict", "promotable"}

// ErrNoSuite is returned when the scheduler suite directory is missing.
var ErrNoSuite = errors.New("scheduler suite not found")

// Case is one row of cases.tsv.
type Case struct {
	Name string
	Tier string
}

// LoadCases reads cases.tsv (tab-separated, header row naming the columns;
// "name" and "tier" are required).
func LoadCases(r io.Reader) ([]Case, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	lines := splitLines(string(data))
	if len(lines) == 0 {
		return nil, fmt.Errorf("cases.tsv: empty")
	}
	head := strings.Split(lines[0], "\t")
	nameCol, tierCol := -1, -1
	for i, h := range head {
		switch strings.TrimSpace(h) {
		case "name":
			nameCol = i
		case "tier":
			tierCol = i
		}
	}
	if nameCol < 0 || tierCol < 0 {
		return nil, fmt.Errorf("cases.tsv line 1: header lacks name or tier column")
	}
	var out []Case
	for i, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) <= nameCol || len(f) <= tierCol {
			return nil, fmt.Errorf("cases.tsv line %d: %d columns, want at least %d", i+2, len(f), max(nameCol, tierCol)+1)
		}
		out = append(out, Case{Name: f[nameCol], Tier: f[tierCol]})
	}
	return out, nil
}

// Simulator runs one case: it returns the combined stdout+stderr of
// `crm simulate -x XML -S`. A non-nil error means the run failed (non-zero
// exit, crash or timeout); output may still hold what was printed.
// Implementations must be safe for concurrent use.
type Simulator interface {
	Simulate(ctx context.Context, xmlPath string) (output []byte, err error)
}

// ScoreSimulator is optionally implemented by a Simulator that can also
// print allocation and promotion scores (`crm simulate -x XML -sSQ`).
type ScoreSimulator interface {
	Scores(ctx context.Context, xmlPath string) (output []byte, err error)
}

// ScoreLines returns the non-blank score lines of crm_simulate -sSQ output
// with the leading internal function name ("pcmk__primitive_assign: ")
// stripped, sorted: the suite's comparison for scores/NAME.scores.
func ScoreLines(text string) []string {
	var out []string
	for _, l := range splitLines(text) {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if i := strings.Index(l, ": "); i >= 0 && !strings.Contains(l[:i], " ") {
			l = l[i+2:]
		}
		out = append(out, Collapse(l))
	}
	sort.Strings(out)
	return out
}

// SimulatorFunc adapts a function to Simulator.
type SimulatorFunc func(ctx context.Context, xmlPath string) ([]byte, error)

// Simulate implements Simulator.
func (f SimulatorFunc) Simulate(ctx context.Context, xmlPath string) ([]byte, error) {
	return f(ctx, xmlPath)
}

// Failure classes of a run.
const (
	FailNone    = ""
	FailTimeout = "timeout"
	FailCrash   = "crash" // panic, fatal error or killed by a signal
	FailError   = "error" // non-zero exit
)

// ErrCrash may be wrapped by a Simulator's error to classify the run as a crash.
var ErrCrash = errors.New("simulator crashed")

// Result is the outcome of one case.
type Result struct {
	Name     string        `json:"name"`
	Tier     string        `json:"tier"`
	Level    int           `json:"level"` // 0..3, see Level
	Failure  string        `json:"failure,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// ScoresChecked is set when scores/NAME.scores exists and the simulator
	// prints scores; ScoresMatch then says whether the sorted,
	// prefix-stripped lines are equal.
	ScoresChecked bool   `json:"scores_checked,omitempty"`
	ScoresMatch   bool   `json:"scores_match,omitempty"`
	Expected      string `json:"-"`
	Actual        string `json:"-"`
}

// Config tells Run what to do.
type Config struct {
	Dir     string   // scheduler suite: cases.tsv, xml/, summary/
	Only    []string // tiers to run; empty = all
	Case    string   // run only this case when not empty
	Workers int      // parallel runs (default 2)
	Timeout time.Duration
	Sim     Simulator
}

// Run executes the selected cases with cfg.Workers goroutines and returns the
// results in cases.tsv order. It returns early only when ctx is cancelled or
// the suite cannot be read.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	f, err := os.Open(filepath.Join(cfg.Dir, "cases.tsv"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %v", ErrNoSuite, err)
		}
		return nil, err
	}
	cases, err := LoadCases(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	var sel []Case
	for _, c := range cases {
		if cfg.Case != "" && c.Name != cfg.Case {
			continue
		}
		if len(cfg.Only) > 0 && !contains(cfg.Only, c.Tier) {
			continue
		}
		sel = append(sel, c)
	}
	if cfg.Case != "" && len(sel) == 0 {
		return nil, fmt.Errorf("case %q not in %s/cases.tsv (or not in the selected tiers)", cfg.Case, cfg.Dir)
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = 2
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	results := make([]Result, len(sel))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = runOne(ctx, cfg.Dir, sel[i], cfg.Sim, timeout)
			}
		}()
	}
feed:
	for i := range sel {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func runOne(ctx context.Context, dir string, c Case, sim Simulator, timeout time.Duration) Result {
	r := Result{Name: c.Name, Tier: c.Tier}
	exp, err := os.ReadFile(filepath.Join(dir, "summary", c.Name+".summary"))
	if err != nil {
		r.Failure, r.Error = FailError, fmt.Sprintf("expected summary: %v", err)
		return r
	}
	r.Expected = string(exp)
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	out, err := sim.Simulate(cctx, filepath.Join(dir, "xml", c.Name+".xml"))
	r.Duration = time.Since(start)
	r.Actual = Normalize(string(out))
	switch {
	case errors.Is(cctx.Err(), context.DeadlineExceeded):
		r.Failure, r.Error = FailTimeout, fmt.Sprintf("no result within %v", timeout)
		return r
	case err != nil && (errors.Is(err, ErrCrash) || looksCrashed(r.Actual)):
		r.Failure, r.Error = FailCrash, err.Error()
	case err != nil:
		r.Failure, r.Error = FailError, err.Error()
	}
	r.Level = Level(r.Expected, r.Actual)
	if ss, ok := sim.(ScoreSimulator); ok && r.Failure == FailNone {
		if want, err := os.ReadFile(filepath.Join(dir, "scores", c.Name+".scores")); err == nil {
			sctx, scancel := context.WithTimeout(ctx, timeout)
			got, err := ss.Scores(sctx, filepath.Join(dir, "xml", c.Name+".xml"))
			scancel()
			r.ScoresChecked = true
			r.ScoresMatch = err == nil && equalLines(ScoreLines(string(want)), ScoreLines(string(got)))
		}
	}
	return r
}

func looksCrashed(out string) bool {
	return strings.Contains(out, "\npanic: ") || strings.HasPrefix(out, "panic: ") ||
		strings.Contains(out, "fatal error: ") || strings.Contains(out, "goroutine 1 [")
}

// TierStats aggregates results of one tier.
type TierStats struct {
	Tier     string   `json:"tier"`
	Cases    int      `json:"cases"`
	L1       int      `json:"l1"`
	L2       int      `json:"l2"`
	L3       int      `json:"l3"`
	Crashes  int      `json:"crashes"`
	Timeouts int      `json:"timeouts"`
	Errors   int      `json:"errors"`
	Scored   int      `json:"scored"`  // cases whose scores were compared
	Scores   int      `json:"scores"`  // of those, cases whose scores match
	FailL1   []string `json:"fail_l1"` // below L1
	FailL2   []string `json:"fail_l2"` // L1 but not L2
	FailL3   []string `json:"fail_l3"` // L2 but not L3
}

// Summarize groups results per tier (tiers in Tiers order, then unknown tiers
// sorted, then a "total" row).
func Summarize(results []Result) []TierStats {
	byTier := map[string]*TierStats{}
	var order []string
	for _, t := range Tiers {
		byTier[t] = &TierStats{Tier: t}
		order = append(order, t)
	}
	var extra []string
	total := &TierStats{Tier: "total"}
	for _, r := range results {
		ts, ok := byTier[r.Tier]
		if !ok {
			ts = &TierStats{Tier: r.Tier}
			byTier[r.Tier] = ts
			extra = append(extra, r.Tier)
		}
		for _, s := range []*TierStats{ts, total} {
			s.Cases++
			switch r.Failure {
			case FailCrash:
				s.Crashes++
			case FailTimeout:
				s.Timeouts++
			case FailError:
				s.Errors++
			}
			if r.ScoresChecked {
				s.Scored++
				if r.ScoresMatch {
					s.Scores++
				}
			}
			if r.Level >= 1 {
				s.L1++
			}
			if r.Level >= 2 {
				s.L2++
			}
			if r.Level >= 3 {
				s.L3++
			}
			switch r.Level {
			case 0:
				s.FailL1 = append(s.FailL1, r.Name)
			case 1:
				s.FailL2 = append(s.FailL2, r.Name)
			case 2:
				s.FailL3 = append(s.FailL3, r.Name)
			}
		}
	}
	sort.Strings(extra)
	order = append(order, extra...)
	var out []TierStats
	for _, t := range order {
		if byTier[t].Cases > 0 {
			out = append(out, *byTier[t])
		}
	}
	return append(out, *total)
}

// Slowest returns the result with the longest duration (zero Result if none).
func Slowest(results []Result) Result {
	var s Result
	for _, r := range results {
		if r.Duration > s.Duration {
			s = r
		}
	}
	return s
}

// WriteReport prints the per-tier table, failing case names per tier, the
// crashed/timed-out cases and the slowest case.
func WriteReport(w io.Writer, results []Result) {
	stats := Summarize(results)
	fmt.Fprintf(w, "%-18s %6s %6s %6s %6s %6s %8s %6s %7s\n", "tier", "cases", "L1", "L2", "L3", "crash", "timeout", "error", "scores")
	for _, s := range stats {
		scores := "-"
		if s.Scored > 0 {
			scores = fmt.Sprintf("%d/%d", s.Scores, s.Scored)
		}
		fmt.Fprintf(w, "%-18s %6d %6d %6d %6d %6d %8d %6d %7s\n", s.Tier, s.Cases, s.L1, s.L2, s.L3, s.Crashes, s.Timeouts, s.Errors, scores)
	}
	for _, s := range stats {
		if s.Tier == "total" {
			continue
		}
		if len(s.FailL1)+len(s.FailL2)+len(s.FailL3) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", s.Tier)
		printList(w, "  below L1", s.FailL1)
		printList(w, "  L1 only ", s.FailL2)
		printList(w, "  L2 only ", s.FailL3)
	}
	var bad []string
	for _, r := range results {
		if r.Failure == FailCrash || r.Failure == FailTimeout {
			bad = append(bad, fmt.Sprintf("%s (%s: %s)", r.Name, r.Failure, firstLine(r.Error)))
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(w, "\ncrashes and timeouts (%d):\n", len(bad))
		for _, b := range bad {
			fmt.Fprintf(w, "  %s\n", b)
		}
	}
	if s := Slowest(results); s.Name != "" {
		fmt.Fprintf(w, "\nslowest case: %s %v\n", s.Name, s.Duration.Round(time.Millisecond))
	}
}

func printList(w io.Writer, label string, names []string) {
	if len(names) == 0 {
		return
	}
	fmt.Fprintf(w, "%s (%d):", label, len(names))
	width := 0
	for _, n := range names {
		if width > 0 && width+len(n) > 90 {
			fmt.Fprint(w, "\n    ")
			width = 0
		}
		fmt.Fprint(w, " "+n)
		width += len(n) + 1
	}
	fmt.Fprintln(w)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
