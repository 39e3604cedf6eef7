package textdiff

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLines(t *testing.T) {
	cases := map[string][]Line{
		"":           nil,
		"\n":         nil,
		"a":          {{1, "a", "a"}},
		"a\n":        {{1, "a", "a"}},
		"a\n\nb c\n": {{1, "a", "a"}, {2, "", ""}, {3, "b c", "b c"}},
		"a\n\n":      {{1, "a", "a"}, {2, "", ""}},
	}
	for in, want := range cases {
		got := Lines(in)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Lines(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestUnifiedEqual(t *testing.T) {
	if d := Unified("a", "b", Lines("x\ny\n"), Lines("x\ny\n")); d != "" {
		t.Errorf("equal texts: %q", d)
	}
	if d := Unified("a", "b", nil, nil); d != "" {
		t.Errorf("empty texts: %q", d)
	}
	// Keys decide, not texts: unchanged lines print a's text.
	a := []Line{{1, "x  y", "xy"}}
	b := []Line{{4, "x y", "xy"}}
	if d := Unified("a", "b", a, b); d != "" {
		t.Errorf("equal keys: %q", d)
	}
}

func TestUnifiedGolden(t *testing.T) {
	cases := []struct{ a, b, want string }{
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n",
			"--- A\n+++ B\n@@ -2,9 +2,10 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n 10\n+11\n"},
		{"", "new\n", "--- A\n+++ B\n@@ -0,0 +1,1 @@\n+new\n"},
		{"old\n", "", "--- A\n+++ B\n@@ -1,1 +0,0 @@\n-old\n"},
		{"a\nb\n", "c\n", "--- A\n+++ B\n@@ -1,2 +1,1 @@\n-a\n-b\n+c\n"},
		// Two hunks: the changes are more than 2*Context lines apart.
		{"c1\nx\nc2\nc3\nc4\nc5\nc6\nc7\nc8\ny\nc9\n", "c1\nX\nc2\nc3\nc4\nc5\nc6\nc7\nc8\nY\nc9\n",
			"--- A\n+++ B\n@@ -1,5 +1,5 @@\n c1\n-x\n+X\n c2\n c3\n c4\n@@ -7,5 +7,5 @@\n c6\n c7\n c8\n-y\n+Y\n c9\n"},
		// One hunk: exactly 2*Context unchanged lines between the changes.
		{"x\nc1\nc2\nc3\nc4\nc5\nc6\ny\n", "X\nc1\nc2\nc3\nc4\nc5\nc6\nY\n",
			"--- A\n+++ B\n@@ -1,8 +1,8 @@\n-x\n+X\n c1\n c2\n c3\n c4\n c5\n c6\n-y\n+Y\n"},
	}
	for _, c := range cases {
		if got := Unified("A", "B", Lines(c.a), Lines(c.b)); got != c.want {
			t.Errorf("Unified(%q, %q) =\n%s\nwant\n%s", c.a, c.b, got, c.want)
		}
	}
}

// TestUnifiedOriginalNumbers: hunk headers use each line's N, so a caller
// that drops lines (blank ones, say) keeps the original numbering.
func TestUnifiedOriginalNumbers(t *testing.T) {
	a := []Line{{2, "p", "p"}, {5, "q", "q"}}
	b := []Line{{1, "p", "p"}, {3, "r", "r"}}
	want := "--- A\n+++ B\n@@ -2,2 +1,2 @@\n p\n-q\n+r\n"
	if got := Unified("A", "B", a, b); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestUnifiedRoundTrip: applying a random diff's hunks to a gives b, and
// the unchanged plus deleted lines are a, the unchanged plus added ones b.
func TestUnifiedRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range 300 {
		a, b := randomText(r, false), randomText(r, false)
		d := Unified("A", "B", Lines(a), Lines(b))
		if (d == "") != (a == b) {
			t.Fatalf("a == b is %v but diff is %q", a == b, d)
		}
		if d == "" {
			continue
		}
		if got := applyHunks(t, Lines(a), d); got != strings.TrimSuffix(b, "\n") {
			t.Fatalf("patching %q with\n%s\ngave %q, want %q", a, d, got, b)
		}
	}
}

// applyHunks applies a unified diff to a (each hunk's "-N" says where)
// and returns the result joined by "\n".
func applyHunks(t *testing.T, a []Line, diff string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(diff, "\n"), "\n")[2:]
	var out []string
	next := 0 // index in a of the next line not yet copied
	for _, l := range lines {
		if strings.HasPrefix(l, "@@ ") {
			var as, ac, bs, bc int
			if _, err := fmt.Sscanf(l, "@@ -%d,%d +%d,%d @@", &as, &ac, &bs, &bc); err != nil {
				t.Fatalf("hunk header %q: %v", l, err)
			}
			if ac == 0 {
				as = 1 // only for an empty a
			}
			for ; next < as-1; next++ {
				out = append(out, a[next].Text)
			}
			continue
		}
		switch l[0] {
		case ' ':
			if a[next].Text != l[1:] {
				t.Fatalf("context %q does not match a's line %d %q", l, next+1, a[next].Text)
			}
			out = append(out, l[1:])
			next++
		case '-':
			if a[next].Text != l[1:] {
				t.Fatalf("deletion %q does not match a's line %d %q", l, next+1, a[next].Text)
			}
			next++
		case '+':
			out = append(out, l[1:])
		default:
			t.Fatalf("bad diff line %q", l)
		}
	}
	for ; next < len(a); next++ {
		out = append(out, a[next].Text)
	}
	return strings.Join(out, "\n")
}

// randomText is up to 40 lines over a small alphabet, so that texts share
// lines; with blanks, it also has blank lines and whitespace variants.
func randomText(r *rand.Rand, blanks bool) string {
	words := []string{"a", "b", "c", "d", "e", "f"}
	if blanks {
		words = append(words, "", "  ", "a ", " b", "c  d", "cd")
	}
	var sb strings.Builder
	for range r.IntN(40) {
		sb.WriteString(words[r.IntN(len(words))])
		sb.WriteByte('\n')
	}
	s := sb.String()
	if r.IntN(4) == 0 {
		s = strings.TrimSuffix(s, "\n")
	}
	return s
}
