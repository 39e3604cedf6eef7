package scheduler_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

// The cases under testdata/cases are small CIBs written for these tests
// (testdata/mkcases.py builds them from testdata/cases.py; synthetic-* come
// from syntheticCIB in bench_test.go). NAME.summary, NAME.scores and
// NAME.graph hold what Pacemaker 2.1.5's crm_simulate produces for them
// (testdata/regen.sh); the tests need neither crm_simulate nor ../shared.

const casesDir = "testdata/cases"

// knownBugs lists cases whose Transition Summary is currently wrong. Each is
// skipped with its diagnosis so the suite stays green while the bug is open;
// once the case matches, the test fails until its entry is removed.
var knownBugs = map[string]string{
	"group-unmanaged-member": "G = gA, gB (is-managed=false), gC, banned from node1 where " +
		"all run: want 'Stop gC ( node1 ) due to required gB start', got 'Stop gC ( node1 ) " +
		"due to node availability'. Pacemaker's scores show gC still gets 0 on node1 (we " +
		"-INFINITY) and gB 0 on node2, i.e. gC is assigned and only stopped by propagation " +
		"from the blocked unmanaged gB",
}

// knownScoreBugs lists cases whose allocation or promotion scores differ from
// crm_simulate's while the bug is open.
var knownScoreBugs = map[string]string{}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read expected output: %v", err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = collapse(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func scheduleFile(t testing.TB, path string) *scheduler.Transition {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read CIB: %v", err)
	}
	c, err := cib.Parse(data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	// A zero time makes the scheduler use the CIB's execution-date, as
	// crm_simulate does.
	tr, err := scheduler.Schedule(c, time.Time{})
	if err != nil {
		t.Fatalf("schedule %s: %v", path, err)
	}
	return tr
}

func caseNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(casesDir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s (err=%v)", casesDir, err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".xml"))
	}
	sort.Strings(names)
	return names
}

// multisetDiff returns the lines only in want and only in got.
func multisetDiff(want, got []string) (missing, extra []string) {
	count := map[string]int{}
	for _, l := range want {
		count[l]++
	}
	for _, l := range got {
		count[l]--
	}
	for _, l := range want {
		if count[l] > 0 {
			missing = append(missing, l)
			count[l]--
		}
	}
	for l, n := range count {
		for ; n < 0; n++ {
			extra = append(extra, l)
		}
	}
	sort.Strings(extra)
	return missing, extra
}

// judge fails the test on a difference, unless the case is a known bug:
// then it is skipped with its diagnosis, and a known bug that no longer
// shows fails the test so that its entry gets removed.
func judge(t *testing.T, known map[string]string, mapName, name, diff string) {
	t.Helper()
	why, isKnown := known[name]
	switch {
	case isKnown && diff == "":
		t.Fatalf("%s now matches crm_simulate: delete its entry from %s", name, mapName)
	case isKnown:
		t.Skip("known bug: " + why)
	case diff != "":
		t.Fatal(diff)
	}
}

func TestOracleSummaries(t *testing.T) {
	for _, name := range caseNames(t) {
		t.Run(name, func(t *testing.T) {
			want := readLines(t, filepath.Join(casesDir, name+".summary"))
			tr := scheduleFile(t, filepath.Join(casesDir, name+".xml"))
			var got []string
			for _, l := range tr.Summary {
				got = append(got, collapse(l))
			}
			judge(t, knownBugs, "knownBugs", name, summaryDiff(want, got))
		})
	}
}

// summaryDiff compares Transition Summaries as multisets, then in order
// (Pacemaker's line order is deterministic).
func summaryDiff(want, got []string) string {
	missing, extra := multisetDiff(want, got)
	if len(missing) > 0 || len(extra) > 0 {
		return fmt.Sprintf("transition summary differs from crm_simulate\nmissing: %q\nextra:   %q\nwant: %q\ngot:  %q",
			missing, extra, want, got)
	}
	for i := range want {
		if want[i] != got[i] {
			return fmt.Sprintf("line %d: want %q, got %q (order differs)\nwant: %q\ngot:  %q", i, want[i], got[i], want, got)
		}
	}
	return ""
}

func formatScore(s int) string {
	switch {
	case s >= cib.Infinity:
		return "INFINITY"
	case s <= -cib.Infinity:
		return "-INFINITY"
	}
	return fmt.Sprint(s)
}

// TestOracleScores compares the primitive allocation scores
// (pcmk__primitive_assign lines) of every case with crm_simulate -sSQ.
func TestOracleScores(t *testing.T) {
	const fn = "pcmk__primitive_assign"
	for _, name := range caseNames(t) {
		t.Run(name, func(t *testing.T) {
			var want []string
			for _, l := range readLines(t, filepath.Join(casesDir, name+".scores")) {
				if rest, ok := strings.CutPrefix(l, fn+": "); ok && strings.Contains(rest, " allocation score on ") {
					want = append(want, rest)
				}
			}
			tr := scheduleFile(t, filepath.Join(casesDir, name+".xml"))
			var got []string
			for _, s := range tr.Cluster.Scores() {
				if s.Kind == "allocation" && s.Func == fn {
					got = append(got, fmt.Sprintf("%s allocation score on %s: %s", s.Rsc, s.Node, formatScore(s.Score)))
				}
			}
			diff := ""
			if missing, extra := multisetDiff(want, got); len(missing) > 0 || len(extra) > 0 {
				diff = fmt.Sprintf("allocation scores differ from crm_simulate\nmissing: %q\nextra:   %q", missing, extra)
			}
			judge(t, knownScoreBugs, "knownScoreBugs", name, diff)
		})
	}
}

// TestOracleAllScores compares every score line of every case (the clone,
// group and primitive allocation scores and the promotion scores) with
// crm_simulate -sSQ.
func TestOracleAllScores(t *testing.T) {
	for _, name := range caseNames(t) {
		t.Run(name, func(t *testing.T) {
			want := readLines(t, filepath.Join(casesDir, name+".scores"))
			tr := scheduleFile(t, filepath.Join(casesDir, name+".xml"))
			var got []string
			for _, s := range tr.Cluster.Scores() {
				switch s.Kind {
				case "allocation":
					got = append(got, fmt.Sprintf("%s: %s allocation score on %s: %s", s.Func, s.Rsc, s.Node, formatScore(s.Score)))
				case "promotion":
					got = append(got, fmt.Sprintf("%s promotion score on %s: %s", s.Rsc, s.Node, formatScore(s.Score)))
				default:
					t.Fatalf("unknown score kind %q", s.Kind)
				}
			}
			diff := ""
			if missing, extra := multisetDiff(want, got); len(missing) > 0 || len(extra) > 0 {
				diff = fmt.Sprintf("scores differ from crm_simulate\nmissing: %q\nextra:   %q", missing, extra)
			}
			judge(t, knownScoreBugs, "knownScoreBugs", name, diff)
		})
	}
}
