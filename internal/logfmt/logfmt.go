// Package logfmt reads the key=value text lines that log/slog's text
// handler writes (crmd's log format), for the test harnesses and the CTS
// checker that read node logs.
package logfmt

import "strings"

// Parse splits one line of slog's text format (what crmd logs) into
// its key=value pairs. A value may be double-quoted with backslash
// escapes. When a key repeats, the first value wins: slog writes a
// logger's own attributes (such as the logging node) before the call's.
// It is a pure function.
func Parse(line string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		eq := strings.IndexByte(line[i:], '=')
		if eq < 0 {
			break
		}
		key := line[i : i+eq]
		i += eq + 1
		var val string
		if i < len(line) && line[i] == '"' {
			j := i + 1
			var b strings.Builder
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				b.WriteByte(line[j])
				j++
			}
			val = b.String()
			i = j + 1
		} else {
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			val = line[i : i+j]
			i += j
		}
		if _, dup := m[key]; !dup {
			m[key] = val
		}
	}
	return m
}
