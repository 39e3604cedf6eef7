package conformance

import (
	"fmt"
	"strings"
)

type numbered struct {
	n    int // 1-based line number in the original text
	text string
	key  string
}

func nonBlank(text string) []numbered {
	var out []numbered
	for i, l := range splitLines(text) {
		k := squeeze(l)
		if k == "" {
			continue
		}
		out = append(out, numbered{n: i + 1, text: l, key: k})
	}
	return out
}

type editOp struct {
	kind byte // ' ', '-', '+'
	a, b int  // indexes into the a and b slices (-1 when absent)
}

// editScript computes a shortest edit script by longest common subsequence.
// Inputs are small (summaries have at most a few thousand lines).
func editScript(a, b []numbered) []editOp {
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case a[i].key == b[j].key:
				lcs[i][j] = lcs[i+1][j+1] + 1
			case lcs[i+1][j] >= lcs[i][j+1]:
				lcs[i][j] = lcs[i+1][j]
			default:
				lcs[i][j] = lcs[i][j+1]
			}
		}
	}
	var ops []editOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i].key == b[j].key:
			ops = append(ops, editOp{' ', i, j})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] > lcs[i+1][j]):
			ops = append(ops, editOp{'+', -1, j})
			j++
		default:
			ops = append(ops, editOp{'-', i, -1})
			i++
		}
	}
	return ops
}

// UnifiedDiff returns a unified diff (3 lines of context) from expected to
// actual, comparing lines the way the suite does (all whitespace ignored,
// blank lines ignored; blank lines are left out of the diff). Line numbers
// in hunk headers refer to the original texts. It returns "" when the texts
// match.
func UnifiedDiff(expected, actual, nameExpected, nameActual string) string {
	a, b := nonBlank(expected), nonBlank(actual)
	ops := editScript(a, b)
	const context = 3
	var sb strings.Builder
	changed := false
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		// Hunk: extend while changes are within 2*context of each other.
		start := max(k-context, 0)
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
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		if !changed {
			fmt.Fprintf(&sb, "--- %s\n+++ %s\n", nameExpected, nameActual)
			changed = true
		}
		aStart, bStart, aCount, bCount := 0, 0, 0, 0
		for _, op := range ops[start:end] {
			if op.a >= 0 {
				if aCount == 0 {
					aStart = a[op.a].n
				}
				aCount++
			}
			if op.b >= 0 {
				if bCount == 0 {
					bStart = b[op.b].n
				}
				bCount++
			}
		}
		fmt.Fprintf(&sb, "@@ -%d,%d +%d,%d @@\n", aStart, aCount, bStart, bCount)
		for _, op := range ops[start:end] {
			switch op.kind {
			case ' ':
				sb.WriteString(" " + a[op.a].text + "\n")
			case '-':
				sb.WriteString("-" + a[op.a].text + "\n")
			case '+':
				sb.WriteString("+" + b[op.b].text + "\n")
			}
		}
		k = end
	}
	return sb.String()
}
