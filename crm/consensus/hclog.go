package consensus

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// LevelTrace is the slog level used for hclog's Trace.
const LevelTrace = slog.LevelDebug - 4

// NewHCLogger adapts l to hclog.Logger, the logger type hashicorp/raft
// expects. Names become a "logger" attribute ("raft", "raft.net", ...), args
// become slog attributes and hclog.Format arguments are rendered with
// fmt.Sprintf. SetLevel filters on top of l's handler. The adapter is safe for
// concurrent use.
func NewHCLogger(l *slog.Logger) hclog.Logger {
	lv := &atomic.Int32{}
	lv.Store(int32(hclog.Trace))
	return &hcAdapter{l: l, base: l, level: lv}
}

type hcAdapter struct {
	l       *slog.Logger // base plus the "logger" name attribute
	base    *slog.Logger // without the name, so renaming never repeats it
	name    string
	implied []any
	level   *atomic.Int32 // shared with derived loggers, like hclog
}

var _ hclog.Logger = (*hcAdapter)(nil)

func toSlogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return LevelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (h *hcAdapter) enabled(l hclog.Level) bool {
	if l == hclog.Off || l < hclog.Level(h.level.Load()) {
		return false
	}
	return h.l.Enabled(context.Background(), toSlogLevel(l))
}

func (h *hcAdapter) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	if !h.enabled(level) {
		return
	}
	if len(args) == 1 {
		if f, ok := args[0].(hclog.Format); ok && len(f) > 0 {
			msg = msg + " " + fmt.Sprintf(fmt.Sprint(f[0]), f[1:]...)
			args = nil
		}
	}
	for i, a := range args {
		if f, ok := a.(hclog.Format); ok && len(f) > 0 {
			args[i] = fmt.Sprintf(fmt.Sprint(f[0]), f[1:]...)
		}
	}
	h.l.Log(context.Background(), toSlogLevel(level), msg, args...)
}

func (h *hcAdapter) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hcAdapter) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hcAdapter) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hcAdapter) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hcAdapter) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }
func (h *hcAdapter) IsTrace() bool                 { return h.enabled(hclog.Trace) }
func (h *hcAdapter) IsDebug() bool                 { return h.enabled(hclog.Debug) }
func (h *hcAdapter) IsInfo() bool                  { return h.enabled(hclog.Info) }
func (h *hcAdapter) IsWarn() bool                  { return h.enabled(hclog.Warn) }
func (h *hcAdapter) IsError() bool                 { return h.enabled(hclog.Error) }
func (h *hcAdapter) ImpliedArgs() []any            { return append([]any(nil), h.implied...) }
func (h *hcAdapter) Name() string                  { return h.name }
func (h *hcAdapter) SetLevel(l hclog.Level)        { h.level.Store(int32(l)) }
func (h *hcAdapter) GetLevel() hclog.Level         { return hclog.Level(h.level.Load()) }

func (h *hcAdapter) With(args ...any) hclog.Logger {
	c := *h
	c.implied = append(append([]any(nil), h.implied...), args...)
	c.base = h.base.With(args...)
	c.l = c.base
	if c.name != "" {
		c.l = c.base.With("logger", c.name)
	}
	return &c
}

// withName rebuilds the slog logger so "logger" appears exactly once.
func (h *hcAdapter) withName(name string) *hcAdapter {
	c := *h
	c.name = name
	c.l = h.base.With("logger", name)
	return &c
}

func (h *hcAdapter) Named(name string) hclog.Logger {
	if h.name != "" {
		name = h.name + "." + name
	}
	return h.withName(name)
}

func (h *hcAdapter) ResetNamed(name string) hclog.Logger { return h.withName(name) }

func (h *hcAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

// StandardWriter returns a writer that logs each line; with InferLevels a
// leading "[LEVEL]" tag selects the level, otherwise lines log at Info (or
// opts.ForceLevel).
func (h *hcAdapter) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	if opts == nil {
		opts = &hclog.StandardLoggerOptions{}
	}
	return &stdWriter{h: h, infer: opts.InferLevels || opts.InferLevelsWithTimestamp, force: opts.ForceLevel}
}

type stdWriter struct {
	h     *hcAdapter
	infer bool
	force hclog.Level
}

func (w *stdWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte{'\n'}) {
		s := string(line)
		if s == "" {
			continue
		}
		level := hclog.Info
		if w.force != hclog.NoLevel {
			level = w.force
		}
		if w.infer {
			level, s = inferLevel(s, level)
		}
		w.h.Log(level, s)
	}
	return len(p), nil
}

func inferLevel(s string, def hclog.Level) (hclog.Level, string) {
	if i := strings.Index(s, "["); i >= 0 {
		if j := strings.Index(s[i:], "]"); j > 0 {
			tag := s[i+1 : i+j]
			rest := strings.TrimSpace(s[i+j+1:])
			switch tag {
			case "TRACE":
				return hclog.Trace, rest
			case "DEBUG":
				return hclog.Debug, rest
			case "INFO":
				return hclog.Info, rest
			case "WARN", "WARNING":
				return hclog.Warn, rest
			case "ERR", "ERROR":
				return hclog.Error, rest
			}
		}
	}
	return def, s
}
