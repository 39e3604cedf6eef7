package conformance

import (
	"fmt"
	"strings"
	"testing"
)

func TestUnifiedDiffEqual(t *testing.T) {
	if d := UnifiedDiff("a\n\nb  c\n", "a\nb c\n\n", "x", "y"); d != "" {
		t.Errorf("whitespace-only difference gave a diff:\n%s", d)
	}
	if d := UnifiedDiff("", "", "x", "y"); d != "" {
		t.Errorf("empty inputs gave %q", d)
	}
}

func TestUnifiedDiffChange(t *testing.T) {
	exp := "l1\nl2\nl3\nl4\nl5\nold\nl7\nl8\nl9\nl10\nl11\n"
	act := "l1\nl2\nl3\nl4\nl5\nnew\nl7\nl8\nl9\nl10\nl11\n"
	want := `--- exp
+++ act
@@ -3,7 +3,7 @@
 l3
 l4
 l5
-old
+new
 l7
 l8
 l9
`
	if d := UnifiedDiff(exp, act, "exp", "act"); d != want {
		t.Errorf("diff:\n%s\nwant:\n%s", d, want)
	}
}

func TestUnifiedDiffHunks(t *testing.T) {
	var a, b []string
	for i := 1; i <= 30; i++ {
		a = append(a, fmt.Sprintf("line%d", i))
		switch i {
		case 2: // deleted
		case 25:
			b = append(b, "changed25")
		default:
			b = append(b, fmt.Sprintf("line%d", i))
		}
	}
	b = append(b, "added")
	d := UnifiedDiff(strings.Join(a, "\n"), strings.Join(b, "\n"), "a", "b")
	if n := strings.Count(d, "@@ -"); n != 2 {
		t.Fatalf("%d hunks, want 2:\n%s", n, d)
	}
	for _, want := range []string{"@@ -1,5 +1,4 @@\n line1\n-line2\n line3\n", "-line25\n+changed25\n", "+added\n"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	// Applying the diff's - and + lines must turn a's multiset into b's.
	minus, plus := 0, 0
	for _, l := range strings.Split(d, "\n")[2:] { // skip the ---/+++ header
		switch {
		case strings.HasPrefix(l, "-"):
			minus++
		case strings.HasPrefix(l, "+"):
			plus++
		}
	}
	if minus != 2 || plus != 2 {
		t.Errorf("%d deletions and %d insertions, want 2 and 2:\n%s", minus, plus, d)
	}
}

func TestUnifiedDiffDisjoint(t *testing.T) {
	d := UnifiedDiff("a\nb\n", "c\n", "x", "y")
	want := "--- x\n+++ y\n@@ -1,2 +1,1 @@\n-a\n-b\n+c\n"
	if d != want {
		t.Errorf("diff = %q, want %q", d, want)
	}
}
