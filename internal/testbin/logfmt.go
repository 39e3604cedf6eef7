package testbin

import (
	"bufio"
	"fmt"
	"github.com/gocrm/gocrm/internal/logfmt"
	"os"
	"strings"
	"testing"
)

// ParseLogfmt is logfmt.Parse (kept for the tests that call it by this name).
var ParseLogfmt = logfmt.Parse

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
