package simulate

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/cib"
)

// syntheticCIB builds a CIB with nodes nodes, rscs Dummy primitives (half
// of them running) and one anonymous clone.
func syntheticCIB(nodes, rscs int) string {
	var ns, rs, st strings.Builder
	lrm := make([]strings.Builder, nodes)
	for i := 0; i < rscs; i++ {
		id := fmt.Sprintf("rsc%d", i)
		rs.WriteString(dummy(id, `<operations><op id="`+id+`-mon" name="monitor" interval="10s"/></operations>`))
		if i%2 == 0 {
			lrm[i%nodes].WriteString(history(id, "start", i+2, 0, 0))
		}
	}
	rs.WriteString(`<clone id="cl">` + dummy("c", "") + `</clone>`)
	for i := 0; i < nodes; i++ {
		fmt.Fprintf(&ns, `<node id="n%d" uname="node%d"/>`, i, i)
		st.WriteString(upState(fmt.Sprintf("n%d", i), fmt.Sprintf("node%d", i), lrm[i].String()))
	}
	return cibXML(noStonith, ns.String(), rs.String(), "", st.String())
}

// BenchmarkSimulate measures a full -S run (unpack, schedule, graph
// execution, revised status, text rendering) on 8 nodes and 60 resources.
func BenchmarkSimulate(b *testing.B) {
	c, err := cib.Parse([]byte(syntheticCIB(8, 60)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Run(io.Discard, c, Options{Mode: ModeSimulate, Now: fixedNow}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLargeCIB measures what `crm simulate -x F -R` does (parse,
// unpack, status rendering, scheduling) on the CIB named by
// $CIB_BENCH_FILE, e.g. the 16 x 5000 file of
// ../shared/tools/gen_cib.py --nodes 16 --resources 5000 --seed 1.
func BenchmarkLargeCIB(b *testing.B) {
	path := os.Getenv("CIB_BENCH_FILE")
	if path == "" {
		b.Skip("CIB_BENCH_FILE not set: no large CIB to run on")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("reading CIB_BENCH_FILE: %v", err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		c, err := cib.Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		r, err := Simulate(c, Options{Mode: ModeRun, Now: fixedNow})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteText(io.Discard, r, Options{Mode: ModeRun, Now: fixedNow}); err != nil {
			b.Fatal(err)
		}
	}
}
