package daemon

import (
	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/membership"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNextIncarnation(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	t0 := time.Unix(1_800_000_000, 0)
	first, err := nextIncarnation(dir, t0, log)
	if err != nil || first != uint64(t0.UnixNano()) {
		t.Fatalf("first start: %d %v, want the clock %d", first, err, t0.UnixNano())
	}
	// Clock set back an hour before the restart: still above the last one.
	second, err := nextIncarnation(dir, t0.Add(-time.Hour), log)
	if err != nil || second != first+1 {
		t.Fatalf("clock set back: %d %v, want %d", second, err, first+1)
	}
	// Clock ahead again: the clock wins.
	later := t0.Add(time.Minute)
	third, err := nextIncarnation(dir, later, log)
	if err != nil || third != uint64(later.UnixNano()) {
		t.Fatalf("clock ahead: %d %v, want %d", third, err, later.UnixNano())
	}
	b, _ := os.ReadFile(filepath.Join(dir, IncarnationFile))
	if strings.TrimSpace(string(b)) != strconv.FormatUint(third, 10) {
		t.Errorf("record %q, want %d", b, third)
	}
	// A garbled record is replaced, not fatal.
	if err := os.WriteFile(filepath.Join(dir, IncarnationFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := nextIncarnation(dir, t0, log); err != nil || got != uint64(t0.UnixNano()) {
		t.Errorf("garbled record: %d %v, want the clock", got, err)
	}
	// An unwritable data directory is an error, not a silent fallback.
	if os.Geteuid() != 0 {
		ro := t.TempDir()
		if err := os.Chmod(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		if _, err := nextIncarnation(ro, t0, log); err == nil {
			t.Error("read-only data directory: no error")
		}
	}
}

// TestIncarnationClearsFencedMark: a peer two-node mode fenced, which
// restarts with its clock set back a day, is visible again to the survivor
// (its incarnation counts on from the fenced one).
func TestIncarnationClearsFencedMark(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	t0 := time.Unix(1_800_000_000, 0)
	fenced, err := nextIncarnation(dir, t0, log)
	if err != nil {
		t.Fatal(err)
	}
	cur := &cib.CIB{Config: cib.Configuration{Nodes: []*cib.Node{{ID: "2", Uname: "n2",
		Instance: []*cib.NVSet{{ID: "n2-a", Pairs: []*cib.NVPair{{ID: "n2-a-1", Name: FencedIncarnationAttr,
			Value: strconv.FormatUint(fenced, 10)}}}}}}}}
	peer := func(inc uint64) []membership.Member {
		return []membership.Member{{Name: "n2", Meta: membership.Meta{Incarnation: inc}}}
	}
	if got := visibleMembers(cur, peer(fenced)); len(got) != 0 {
		t.Fatalf("the fenced process itself is visible: %v", got)
	}
	// What the clock alone would give after being set back: hidden for a day.
	if got := visibleMembers(cur, peer(uint64(t0.Add(-24*time.Hour).UnixNano()))); len(got) != 0 {
		t.Fatalf("clock-only incarnation visible: %v", got)
	}
	restarted, err := nextIncarnation(dir, t0.Add(-24*time.Hour), log)
	if err != nil {
		t.Fatal(err)
	}
	if got := visibleMembers(cur, peer(restarted)); len(got) != 1 {
		t.Errorf("restarted peer (incarnation %d, fenced %d) hidden", restarted, fenced)
	}
}
