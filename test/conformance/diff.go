package conformance

import "github.com/gocrm/gocrm/internal/textdiff"

// nonBlank numbers text's lines, keyed the way the suite compares them
// (all whitespace removed), leaving blank lines out.
func nonBlank(text string) []textdiff.Line {
	var out []textdiff.Line
	for i, l := range splitLines(text) {
		k := squeeze(l)
		if k == "" {
			continue
		}
		out = append(out, textdiff.Line{N: i + 1, Text: l, Key: k})
	}
	return out
}

// UnifiedDiff returns a unified diff (3 lines of context) from expected to
// actual, comparing lines the way the suite does (all whitespace ignored,
// blank lines ignored; blank lines are left out of the diff). Line numbers
// in hunk headers refer to the original texts. It returns "" when the texts
// match.
func UnifiedDiff(expected, actual, nameExpected, nameActual string) string {
	return textdiff.Unified(nameExpected, nameActual, nonBlank(expected), nonBlank(actual))
}
