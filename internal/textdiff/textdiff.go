// Package textdiff compares two texts line by line and renders the
// difference as a unified diff (the "--- a / +++ b / @@ -l,n +l,n @@"
// format of diff -u). It is the one line-diff implementation of the
// project: the crm shell's shadow-CIB diff and the conformance harness's
// summary diff both render through it.
//
// The package is pure (no I/O, no clock) and its functions are safe for
// concurrent use: they share no state.
package textdiff

import (
	"fmt"
	"strings"
)

// Context is the number of unchanged lines shown around each change.
const Context = 3

// Line is one line of an input text.
type Line struct {
	// N is the 1-based number of the line in the original text; hunk
	// headers show it, so callers that leave lines out keep the original
	// numbering.
	N int
	// Text is what the diff prints for the line.
	Text string
	// Key is what is compared: two lines match when their keys are equal
	// (Text itself for an exact comparison, or a normalised form of it).
	Key string
}

// Lines splits text at "\n" into lines compared exactly (Key == Text),
// numbered from 1. A final newline does not start another line, so ""
// and "\n" have no lines.
func Lines(text string) []Line {
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	parts := strings.Split(text, "\n")
	out := make([]Line, len(parts))
	for i, p := range parts {
		out[i] = Line{N: i + 1, Text: p, Key: p}
	}
	return out
}

// op is one step of an edit script: kind ' ' keeps a[a] (== b[b]), '-'
// deletes a[a], '+' inserts b[b]; the index of the absent side is -1.
type op struct {
	kind byte
	a, b int
}

// editScript returns a shortest edit script from a to b through a longest
// common subsequence of keys. At a tie it deletes before it inserts. It
// takes O(len(a)*len(b)) time and memory: the inputs are configurations
// and summaries of at most a few thousand lines.
func editScript(a, b []Line) []op {
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i].Key == b[j].Key {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i].Key == b[j].Key:
			ops = append(ops, op{' ', i, j})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] > lcs[i+1][j]):
			ops = append(ops, op{'+', -1, j})
			j++
		default:
			ops = append(ops, op{'-', i, -1})
			i++
		}
	}
	return ops
}

// Unified returns the unified diff from a to b with Context lines of
// context, headed "--- nameA" and "+++ nameB", or "" when every line
// matches. Hunk headers give the N of each side's first line in the hunk
// and the number of lines; a side with no line in a hunk (only possible
// when that side is empty) is shown as 0,0. Unchanged lines print a's
// Text.
func Unified(nameA, nameB string, a, b []Line) string {
	ops := editScript(a, b)
	var sb strings.Builder
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		// A hunk spans the changes less than 2*Context unchanged lines
		// apart, plus Context lines on each side.
		start := max(k-Context, 0)
		end := k
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*Context {
				end = min(end+Context, len(ops))
				break
			}
			end = run
		}
		if sb.Len() == 0 {
			fmt.Fprintf(&sb, "--- %s\n+++ %s\n", nameA, nameB)
		}
		aStart, bStart, aCount, bCount := 0, 0, 0, 0
		for _, o := range ops[start:end] {
			if o.a >= 0 {
				if aCount == 0 {
					aStart = a[o.a].N
				}
				aCount++
			}
			if o.b >= 0 {
				if bCount == 0 {
					bStart = b[o.b].N
				}
				bCount++
			}
		}
		fmt.Fprintf(&sb, "@@ -%d,%d +%d,%d @@\n", aStart, aCount, bStart, bCount)
		for _, o := range ops[start:end] {
			sb.WriteByte(o.kind)
			if o.kind == '+' {
				sb.WriteString(b[o.b].Text)
			} else {
				sb.WriteString(a[o.a].Text)
			}
			sb.WriteByte('\n')
		}
		k = end
	}
	return sb.String()
}
