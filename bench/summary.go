package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ErrNoSummary is returned by ExtractSummary when the output has no
// "Transition Summary:" section.
var ErrNoSummary = errors.New("no Transition Summary section")

// ExtractSummary returns the lines of the "Transition Summary:" section of
// crm_simulate-style text output, each with its runs of white space
// collapsed to one space and trimmed. The section ends at the first line
// that is neither blank nor indented (the next heading).
func ExtractSummary(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var lines []string
	in, found := false, false
	for sc.Scan() {
		line := sc.Text()
		if !in {
			if strings.TrimSpace(line) == "Transition Summary:" {
				in, found = true, true
			}
			continue
		}
		if line == "" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			in = false
			continue
		}
		lines = append(lines, strings.Join(strings.Fields(line), " "))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading output: %w", err)
	}
	if !found {
		return nil, ErrNoSummary
	}
	return lines, nil
}

// SummaryDiff is the multiset difference of two summaries.
type SummaryDiff struct {
	OnlyOurs   []string // lines ours has more often than theirs, sorted
	OnlyTheirs []string // lines theirs has more often than ours, sorted
}

// Identical reports whether the two multisets were equal.
func (d SummaryDiff) Identical() bool { return len(d.OnlyOurs) == 0 && len(d.OnlyTheirs) == 0 }

// Differing is the number of lines in either difference.
func (d SummaryDiff) Differing() int { return len(d.OnlyOurs) + len(d.OnlyTheirs) }

// CompareSummaries compares two summaries as multisets of lines.
func CompareSummaries(ours, theirs []string) SummaryDiff {
	count := make(map[string]int, len(ours))
	for _, l := range ours {
		count[l]++
	}
	for _, l := range theirs {
		count[l]--
	}
	var d SummaryDiff
	for l, n := range count {
		for ; n > 0; n-- {
			d.OnlyOurs = append(d.OnlyOurs, l)
		}
		for ; n < 0; n++ {
			d.OnlyTheirs = append(d.OnlyTheirs, l)
		}
	}
	sort.Strings(d.OnlyOurs)
	sort.Strings(d.OnlyTheirs)
	return d
}
