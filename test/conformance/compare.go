// Package conformance scores gocrm's `crm simulate -S` output against the
// expected summaries of Pacemaker's scheduler regression suite
// (../shared/pacemaker-scheduler).
//
// It holds the pure comparison logic (section splitting, normalisation and
// the L1/L2/L3 ladder of ../shared/docs/scheduler-semantics.md §2.2), a unified
// diff for reports, and a runner that executes cases in parallel through an
// injected Simulator. The command test/conformance/cmd/conformance wires the
// runner to the bin/crm binary.
//
// All functions in this package are safe for concurrent use; Run owns the
// goroutines it starts and waits for them before returning.
package conformance

import (
	"regexp"
	"sort"
	"strings"
)

// Section headers of crm_simulate -S output, in output order.
const (
	HeaderCurrent   = "Current cluster status:"
	HeaderSummary   = "Transition Summary:"
	HeaderExecuting = "Executing Cluster Transition:"
	HeaderRevised   = "Revised Cluster Status:"
)

// Sections is crm_simulate -S output split at its section headers. Each
// slice holds the raw lines after the header up to the next header (blank
// lines included). Preamble holds the lines before the first header, such as
// "Using the original execution date of: ..." or the "N of M resource
// instances DISABLED" notice.
type Sections struct {
	Preamble  []string
	Current   []string
	Summary   []string
	Executing []string
	Revised   []string
	// Headers records which headers were present.
	Headers map[string]bool
}

// Split cuts an output into its sections. A header is recognised when a line,
// with surrounding whitespace removed, equals it exactly.
func Split(text string) Sections {
	s := Sections{Headers: map[string]bool{}}
	cur := &s.Preamble
	for _, line := range splitLines(text) {
		switch strings.TrimSpace(line) {
		case HeaderCurrent:
			cur = &s.Current
		case HeaderSummary:
			cur = &s.Summary
		case HeaderExecuting:
			cur = &s.Executing
		case HeaderRevised:
			cur = &s.Revised
		default:
			*cur = append(*cur, line)
			continue
		}
		s.Headers[strings.TrimSpace(line)] = true
	}
	return s
}

func splitLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// Collapse trims a line and replaces each run of whitespace with one space.
func Collapse(line string) string {
	return strings.Join(strings.Fields(line), " ")
}

// squeeze removes all whitespace, like diff --ignore-all-space.
func squeeze(line string) string {
	return strings.Join(strings.Fields(line), "")
}

var (
	reOCF     = regexp.MustCompile(`ocf::`)
	reMasters = regexp.MustCompile(`Masters:`)
	reSlaves  = regexp.MustCompile(`Slaves:`)
	reMaster  = regexp.MustCompile(` Master( |\[|$)`)
	reSlave   = regexp.MustCompile(` Slave `)
)

// Normalize applies the regression suite's sed step to an actual output
// (ocf:: → ocf:, legacy Master/Slave role names → Promoted/Unpromoted). Like
// sed, the role substitutions apply to the first match on each line only.
func Normalize(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		l = reOCF.ReplaceAllString(l, "ocf:")
		l = replaceFirst(reMasters, l, "Promoted:")
		l = replaceFirst(reSlaves, l, "Unpromoted:")
		l = replaceFirst(reMaster, l, " Promoted$1")
		l = replaceFirst(reSlave, l, " Unpromoted ")
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

func replaceFirst(re *regexp.Regexp, s, repl string) string {
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return s
	}
	var dst []byte
	dst = re.ExpandString(dst, repl, s, m)
	return s[:m[0]] + string(dst) + s[m[1]:]
}

// SummaryLines returns the Transition Summary entries of an output,
// whitespace-collapsed, blank lines dropped, sorted (a multiset).
func SummaryLines(text string) []string {
	return sortedCollapsed(Split(text).Summary)
}

func sortedCollapsed(lines []string) []string {
	var out []string
	for _, l := range lines {
		if c := Collapse(l); c != "" {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func squeezedNonBlank(lines []string) []string {
	var out []string
	for _, l := range lines {
		if c := squeeze(l); c != "" {
			out = append(out, c)
		}
	}
	return out
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// MatchL1 reports whether the Transition Summary sections hold the same lines
// as a multiset, whitespace-collapsed. Both outputs must have the header.
func MatchL1(expected, actual string) bool {
	e, a := Split(expected), Split(actual)
	if e.Headers[HeaderSummary] != a.Headers[HeaderSummary] {
		return false
	}
	return equalLines(sortedCollapsed(e.Summary), sortedCollapsed(a.Summary))
}

// MatchRevised reports whether the Revised Cluster Status sections are equal
// in order, ignoring all whitespace and blank lines.
func MatchRevised(expected, actual string) bool {
	e, a := Split(expected), Split(actual)
	if e.Headers[HeaderRevised] != a.Headers[HeaderRevised] {
		return false
	}
	return equalLines(squeezedNonBlank(e.Revised), squeezedNonBlank(a.Revised))
}

// MatchL2 is MatchL1 and MatchRevised.
func MatchL2(expected, actual string) bool {
	return MatchL1(expected, actual) && MatchRevised(expected, actual)
}

// MatchWhole compares two whole outputs the way the suite's
// `diff --ignore-all-space --ignore-blank-lines` does.
func MatchWhole(expected, actual string) bool {
	return equalLines(squeezedNonBlank(splitLines(expected)), squeezedNonBlank(splitLines(actual)))
}

// MatchL3 is MatchL2 and MatchWhole.
func MatchL3(expected, actual string) bool {
	return MatchL2(expected, actual) && MatchWhole(expected, actual)
}

// Level returns the highest level of the ladder reached: 0 (L1 fails), 1, 2
// or 3. Levels are cumulative: L3 requires L2 requires L1. actual should
// already be normalised with Normalize.
func Level(expected, actual string) int {
	if !MatchL1(expected, actual) {
		return 0
	}
	if !MatchRevised(expected, actual) {
		return 1
	}
	if !MatchWhole(expected, actual) {
		return 2
	}
	return 3
}
