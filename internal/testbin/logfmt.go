package testbin

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

// ParseLogfmt splits one line of slog's text format (what crmd logs) into
// its key=value pairs. A value may be double-quoted with backslash
// escapes. When a key repeats, the first value wins: slog writes a
// logger's own attributes (such as the logging node) before the call's.
// It is a pure function.
func ParseLogfmt(line string) map[string]string {
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

// EachLine calls fn with every line of the file at path (lines up to
// 1 MiB long; a log file being written may end in a partial line). The
// error wraps the open or read failure (errors.Is(err, fs.ErrNotExist)
// for a missing file); lines already read were passed to fn.
func EachLine(path string, fn func(line string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read lines: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read lines of %s: %w", path, err)
	}
	return nil
}

// LogTail logs (t.Logf) the last n lines of the file at path, headed
// "--- tail of NAME:", typically a crmd's log after a failure. An
// unreadable file logs nothing. Safe to call from t.Cleanup.
func LogTail(t testing.TB, name, path string, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	t.Logf("--- tail of %s:\n%s", name, strings.Join(lines, "\n"))
}
