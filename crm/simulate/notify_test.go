package simulate

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/cib"
)

// simulateFile runs crm simulate -S on a CIB file.
func simulateFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cib.Parse(data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var buf bytes.Buffer
	if err := Run(&buf, c, Options{Mode: ModeSimulate, Fallback: suiteNow}); err != nil {
		t.Fatalf("simulate %s: %v", path, err)
	}
	return buf.String()
}

// sectionDiff compares the named sections of two crm_simulate outputs in
// order and describes the first difference ("" when equal).
func sectionDiff(want, got string, secs ...string) string {
	w, g := sections(want), sections(got)
	for _, sec := range secs {
		a, b := w[sec], g[sec]
		for i := 0; i < len(a) || i < len(b); i++ {
			var x, y string
			if i < len(a) {
				x = a[i]
			}
			if i < len(b) {
				y = b[i]
			}
			if x != y {
				return sec + " line " + strconv.Itoa(i+1) + ":\n  want " + x + "\n  got  " + y +
					"\n--- want\n" + strings.Join(a, "\n") + "\n--- got\n" + strings.Join(b, "\n")
			}
		}
	}
	return ""
}

// notifySharedCases are cases of Pacemaker's suite with clone
// notifications whose whole output we reproduce.
var notifySharedCases = []string{
	"bug-1572-1", "bug-1685", "bug-1765", "bug-lf-2358", "clone-no-shuffle",
	"colocation_constraint_stops_unpromoted", "failed-demote-recovery", "inc10",
	"interleave-pseudo-stop", "interleave-restart", "interleave-stop", "probe-0",
	"promoted-depend", "promoted-dependent-ban", "promoted-notify", "promoted-score-startup",
}

// TestNotifySharedCases checks the executed transition (notification
// pseudo actions, "notify" resource actions and their order) of the
// suite's notification cases.
func TestNotifySharedCases(t *testing.T) {
	dir := sharedCases(t)
	for _, name := range notifySharedCases {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(dir, "summary", name+".summary"))
			if err != nil {
				t.Fatal(err)
			}
			got := simulateFile(t, filepath.Join(dir, "xml", name+".xml"))
			if d := sectionDiff(string(want), got, "executing", "revised"); d != "" {
				t.Fatal(d)
			}
		})
	}
}

// TestNotifyRecorded compares the whole output for the random notifying
// clusters of testdata/notify (gen.py) with crm_simulate's, recorded by
// testdata/notify/regen.sh.
func TestNotifyRecorded(t *testing.T) { checkRecorded(t, "testdata/notify") }

// checkRecorded compares the whole output for every dir/NAME.xml with
// crm_simulate's, recorded as dir/NAME.out (testdata/record.sh).
func checkRecorded(t *testing.T, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s (err=%v)", dir, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".xml") + ".out")
			if err != nil {
				t.Fatal(err)
			}
			got := simulateFile(t, f)
			if d := sectionDiff(string(want), got, "current", "summary", "executing", "revised"); d != "" {
				t.Fatal(d)
			}
		})
	}
}
