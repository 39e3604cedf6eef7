package textdiff

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// testdata/equivalence.json holds 500 random cases rendered by the two line
// diffs this package replaced (crm/shell's UnifiedDiff over exact lines,
// test/conformance's UnifiedDiff over lines compared without whitespace,
// blank lines left out): Unified must render them byte for byte.
type equivalenceCase struct {
	Mode         string // "exact" (crm shell) or "squeezed" (conformance)
	NameA, NameB string
	A, B         string
	Want         string
}

func TestEquivalentToFormerDiffs(t *testing.T) {
	data, err := os.ReadFile("testdata/equivalence.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []equivalenceCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("testdata/equivalence.json: %v", err)
	}
	if len(cases) < 500 {
		t.Fatalf("%d cases, want 500", len(cases))
	}
	modes := map[string]int{}
	for i, c := range cases {
		var a, b []Line
		switch c.Mode {
		case "exact":
			a, b = Lines(c.A), Lines(c.B)
		case "squeezed":
			a, b = squeezedLines(c.A), squeezedLines(c.B)
		default:
			t.Fatalf("case %d: mode %q", i, c.Mode)
		}
		modes[c.Mode]++
		if got := Unified(c.NameA, c.NameB, a, b); got != c.Want {
			t.Errorf("case %d (%s) a=%q b=%q:\ngot\n%s\nwant\n%s", i, c.Mode, c.A, c.B, got, c.Want)
		}
	}
	if modes["exact"] == 0 || modes["squeezed"] == 0 {
		t.Errorf("cases per mode: %v", modes)
	}
}

// squeezedLines builds Lines the way test/conformance does: CRLF read as
// LF, lines compared with all whitespace removed, blank lines left out.
func squeezedLines(text string) []Line {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var out []Line
	for _, l := range Lines(text) {
		if l.Key = strings.Join(strings.Fields(l.Text), ""); l.Key != "" {
			out = append(out, l)
		}
	}
	return out
}
