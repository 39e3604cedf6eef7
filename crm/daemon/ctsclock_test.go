package daemon

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWallClockHook(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	path := filepath.Join(t.TempDir(), "offset")
	if err := os.WriteFile(path, []byte("1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Refused outside a sandbox: host time.
	if c := newWallClockEnv(log, path, ""); time.Until(c.Now()).Abs() > time.Minute {
		t.Fatalf("offset honoured without GOCRM_SANDBOX_DIR: %v", c.Now())
	}
	c := newWallClockEnv(log, path, "/sandbox")
	if d := c.Now().Round(0).Sub(time.Now().Round(0)); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("wall offset %v, want about 1h", d)
	}
	// Jump back: visible after the re-read interval.
	if err := os.WriteFile(path, []byte("-1h"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(clockReread + 20*time.Millisecond)
	if d := c.Now().Round(0).Sub(time.Now().Round(0)); d > -59*time.Minute || d < -61*time.Minute {
		t.Fatalf("wall offset after the jump %v, want about -1h", d)
	}
	if !c.shift(time.Time{}).IsZero() {
		t.Fatal("shift moved the zero time")
	}
	host := time.Now()
	if d := c.shift(host).Round(0).Sub(host.Round(0)); d != -time.Hour {
		t.Fatalf("shift of an LRM date by %v, want -1h", d)
	}
	// A bad file keeps the last offset; a missing one means none.
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(clockReread + 20*time.Millisecond)
	if d := c.Now().Round(0).Sub(time.Now().Round(0)); d > -59*time.Minute {
		t.Fatalf("bad file changed the offset to %v", d)
	}
	_ = os.Remove(path)
	time.Sleep(clockReread + 20*time.Millisecond)
	if d := c.Now().Round(0).Sub(time.Now().Round(0)); d.Abs() > time.Minute {
		t.Fatalf("missing file: offset %v, want 0", d)
	}
	if tm := c.NewTimer(time.Millisecond); tm == nil {
		t.Fatal("no timer")
	}
}
