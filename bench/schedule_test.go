package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

// benchCase is one synthetic CIB: a generator under ../shared/tools and
// its arguments (the same ones run.sh uses).
type benchCase struct {
	name string
	tool string
	args []string
}

var benchCases = []benchCase{
	{"16x1000", "gen_cib.py", []string{"--nodes", "16", "--resources", "1000", "--seed", "1"}},
	{"16x5000", "gen_cib.py", []string{"--nodes", "16", "--resources", "5000", "--seed", "1"}},
	{"16x2000-groups", "gen_cib.py", []string{"--nodes", "16", "--resources", "2000", "--seed", "1", "--groups", "200", "--group-size", "3"}},
	{"clones-100x100", "gen_clone_cib.py", []string{"--nodes", "100", "--clones", "100", "--locations", "100", "--state", "fresh"}},
}

// execDate is the execution-date the generators write.
var execDate = time.Unix(1700000000, 0).UTC()

// loadCase returns the CIB of c: $BENCH_CIB_DIR/<name>.xml when run.sh
// provides it, else generated into a temporary directory. It skips when
// neither the file nor ../shared/tools and python3 are available.
func loadCase(b *testing.B, c benchCase) []byte {
	b.Helper()
	if dir := os.Getenv("BENCH_CIB_DIR"); dir != "" {
		if data, err := os.ReadFile(filepath.Join(dir, c.name+".xml")); err == nil {
			return data
		}
	}
	tool := filepath.Join("..", "..", "shared", "tools", c.tool)
	if _, err := os.Stat(tool); err != nil {
		b.Skipf("skipping: generator not available (%v); ../shared is needed", err)
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skipf("skipping: python3 not found: %v", err)
	}
	out := filepath.Join(b.TempDir(), c.name+".xml")
	cmd := exec.Command(py, append(append([]string{tool}, c.args...), "-o", out)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s: %v\n%s", c.tool, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkReadCIB measures cib.Parse (XML reader plus typed model).
func BenchmarkReadCIB(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			data := loadCase(b, c)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cib.Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSchedule measures scheduler.Schedule alone on a parsed CIB.
func BenchmarkSchedule(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			parsed, err := cib.Parse(loadCase(b, c))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var actions int
			for b.Loop() {
				t, err := scheduler.ScheduleWith(parsed, execDate, scheduler.Options{NoScores: true})
				if err != nil {
					b.Fatal(err)
				}
				actions = len(t.Actions)
			}
			b.ReportMetric(float64(actions), "actions")
		})
	}
}
