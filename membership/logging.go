package membership

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"
)

// newStdLogger returns a *log.Logger whose lines are parsed for memberlist's
// "[LEVEL] memberlist: message" convention and re-emitted through l at the
// matching slog level. Lines without a level tag are logged at Info.
func newStdLogger(l *slog.Logger) (*log.Logger, *slogWriter) {
	w := &slogWriter{l: l}
	return log.New(w, "", 0), w
}

// slogWriter can be muted: memberlist's Shutdown does not wait for in-flight
// probe goroutines, which then log errors about closed sockets after the
// agent (and possibly its logger's owner) is gone.
type slogWriter struct {
	l     *slog.Logger
	muted atomic.Bool
}

func (w *slogWriter) Write(p []byte) (int, error) {
	if w.muted.Load() {
		return len(p), nil
	}
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		level, msg := parseStdLine(string(line))
		ctx := context.Background()
		if w.l.Enabled(ctx, level) {
			w.l.Log(ctx, level, msg)
		}
	}
	return len(p), nil
}

// parseStdLine splits "[WARN] memberlist: text" into (slog.LevelWarn, "text").
func parseStdLine(s string) (slog.Level, string) {
	level := slog.LevelInfo
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end > 0 {
			switch s[1:end] {
			case "TRACE", "DEBUG":
				level = slog.LevelDebug
			case "INFO":
				level = slog.LevelInfo
			case "WARN", "WARNING":
				level = slog.LevelWarn
			case "ERR", "ERROR":
				level = slog.LevelError
			default:
				return level, s
			}
			s = strings.TrimSpace(s[end+1:])
		}
	}
	s = strings.TrimPrefix(s, "memberlist: ")
	return level, s
}
