package agent

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestEnvLog(t *testing.T) {
	Env{}.Log().Info("dropped") // must not panic
	var b strings.Builder
	l := slog.New(slog.NewTextHandler(&b, nil))
	if (Env{Logger: l}).Log() != l {
		t.Fatal("Log did not return the configured logger")
	}
}

func TestFileInstance(t *testing.T) {
	for _, tc := range []struct {
		rsc, unique, want string
	}{
		{"web", "", "web"},
		{"web:1", "", "web:1"},
		{"web:1", "true", "web:1"},
		{"web:1", "false", "web"},
		{"web:x", "false", "web:x"},
		{"../../etc/passwd", "", "passwd"},
		{"a/b:2", "false", "b"},
		{"", "", "/"},
		{"..", "", "/"},
		{"/", "false", "/"},
	} {
		c := Call{Resource: tc.rsc, Meta: map[string]string{}}
		if tc.unique != "" {
			c.Meta["globally_unique"] = tc.unique
		}
		if got := c.FileInstance(); got != tc.want {
			t.Errorf("FileInstance(%q, globally_unique=%q) = %q, want %q", tc.rsc, tc.unique, got, tc.want)
		}
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("Sleep without cancellation reported false")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if Sleep(ctx, time.Hour) {
		t.Fatal("Sleep on a done context reported true")
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("Sleep did not return promptly on a done context")
	}
}
