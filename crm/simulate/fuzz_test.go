package simulate

import (
	"bytes"
	"testing"

	"github.com/gocrm/gocrm/cib"
)

// FuzzSummaryParsing checks that re-padding and XML conversion of arbitrary
// summary lines never panic and keep every line's words.
func FuzzSummaryParsing(f *testing.F) {
	for _, s := range []string{
		"Move       rsc1    ( node1 -> node2 )",
		"Start rsc ( n ) due to x (blocked)",
		"Fence (reboot) node1 'peer is unclean'",
		"( )", "Stop x ( ", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		out := padSummary([]string{line, line})
		if len(out) != 2 {
			t.Fatalf("padSummary returned %d lines", len(out))
		}
		_ = summaryXML(line)
	})
}

// FuzzSimulate runs the whole pipeline on mutated CIBs: parse errors are
// fine, panics are not.
func FuzzSimulate(f *testing.F) {
	f.Add(cibXML(noStonith, twoNodes(), dummy("rsc1", ""), "", upState("n1", "node1", history("rsc1", "start", 2, 0, 0))))
	f.Add(cibXML(noStonith, twoNodes(), `<clone id="c">`+dummy("x", "")+`</clone>`, "", upState("n2", "node2", history("x", "monitor", 3, 1, 7))))
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := cib.Parse([]byte(doc))
		if err != nil {
			return
		}
		r, err := Simulate(c, Options{Mode: ModeSimulate, Now: fixedNow})
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteText(&b, r, Options{Mode: ModeSimulate}); err != nil {
			t.Fatal(err)
		}
		if err := WriteXML(&b, r, Options{Mode: ModeSimulate}, "fuzz"); err != nil {
			t.Fatal(err)
		}
	})
}
