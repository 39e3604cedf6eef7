package membership

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMetaRoundTrip(t *testing.T) {
	cases := []Meta{
		{Name: "n1", RaftAddr: "10.0.0.1:7000", Role: RoleVoter, Incarnation: 1},
		{Name: "witness", Role: RoleArbiter, Incarnation: 1<<64 - 1, Leaving: true},
		{Name: strings.Repeat("x", maxMetaString), RaftAddr: strings.Repeat("y", maxMetaString), Role: RoleVoter},
	}
	for _, m := range cases {
		b, err := m.Encode()
		if err != nil {
			t.Fatalf("Encode(%+v): %v", m, err)
		}
		if len(b) > MaxMetaSize {
			t.Fatalf("encoded %d bytes", len(b))
		}
		got, err := DecodeMeta(b)
		if err != nil || got != m {
			t.Fatalf("DecodeMeta = %+v, %v; want %+v", got, err, m)
		}
		// Trailing bytes from a compatible future revision are ignored.
		if got, err := DecodeMeta(append(b, 0xff, 0x01)); err != nil || got != m {
			t.Fatalf("with trailing bytes: %+v, %v", got, err)
		}
	}
	b, _ := Meta{Name: "n1", RaftAddr: "a:1", Role: RoleVoter, Incarnation: 5}.Encode()
	if len(b) != 1+1+1+1+1+2+1+3 {
		t.Errorf("encoding is not compact: %d bytes", len(b))
	}
}

func TestMetaRejects(t *testing.T) {
	good, _ := Meta{Name: "n1", RaftAddr: "a:1", Role: RoleVoter}.Encode()
	bad := map[string][]byte{
		"empty":         nil,
		"short":         {MetaVersion},
		"version":       append([]byte{2}, good[1:]...),
		"role":          append([]byte{MetaVersion, 9}, good[2:]...),
		"truncated":     good[:len(good)-1],
		"name too long": {MetaVersion, 1, 0, 0, 0xff, 0x01},
		"empty name":    {MetaVersion, 1, 0, 0, 0, 0},
		"oversize":      bytes.Repeat([]byte{1}, MaxMetaSize+1),
	}
	for name, b := range bad {
		if _, err := DecodeMeta(b); !errors.Is(err, ErrInvalidMeta) {
			t.Errorf("%s: err = %v, want ErrInvalidMeta", name, err)
		}
	}
	for name, m := range map[string]Meta{
		"no name":  {Role: RoleVoter},
		"bad role": {Name: "n", Role: 7},
		"long":     {Name: "n", RaftAddr: strings.Repeat("a", maxMetaString+1), Role: RoleVoter},
	} {
		if _, err := m.Encode(); !errors.Is(err, ErrInvalidMeta) {
			t.Errorf("Encode %s: err = %v", name, err)
		}
	}
	if r, err := ParseRole("arbiter"); err != nil || r != RoleArbiter || r.String() != "arbiter" {
		t.Errorf("ParseRole = %v, %v", r, err)
	}
	if _, err := ParseRole("witness"); err == nil {
		t.Error("ParseRole accepted unknown role")
	}
}

func FuzzDecodeMeta(f *testing.F) {
	b, _ := Meta{Name: "n1", RaftAddr: "127.0.0.1:7000", Role: RoleVoter, Incarnation: 3}.Encode()
	f.Add(b)
	f.Add([]byte{MetaVersion, 2, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMeta(b)
		if err != nil {
			return
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("decoded %+v does not re-encode: %v", m, err)
		}
		m2, err := DecodeMeta(enc)
		if err != nil || m2 != m {
			t.Fatalf("round trip %+v -> %+v, %v", m, m2, err)
		}
	})
}

func TestLoadKeyFile(t *testing.T) {
	k1, k2 := newKey(t), make([]byte, 16)
	p := writeKeyFile(t, 0o600, k1, k2)
	keys, err := LoadKeyFile(p, acceptAnyOwner)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !bytes.Equal(keys[0], k1) || !bytes.Equal(keys[1], k2) {
		t.Fatalf("keys = %x", keys)
	}
	if _, err := LoadKeyFile(writeKeyFile(t, 0o400, k1), acceptAnyOwner); err != nil {
		t.Errorf("mode 0400 refused: %v", err)
	}

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		p := writeKeyFile(t, mode, k1)
		_, err := LoadKeyFile(p, acceptAnyOwner)
		if !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), p) {
			t.Errorf("mode %04o: err = %v", mode, err)
		}
	}

	// The owner check is injectable and its error is returned as is.
	ownerErr := errors.New("owned by mallory")
	if _, err := LoadKeyFile(p, func(string, fs.FileInfo) error { return ownerErr }); !errors.Is(err, ownerErr) {
		t.Errorf("owner check: err = %v", err)
	}

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, content := range map[string]string{
		"empty":   "# nothing\n\n",
		"base64":  "not base64!!\n",
		"keysize": EncodeKey([]byte("short")) + "\n",
	} {
		if _, err := LoadKeyFile(write(name, content), acceptAnyOwner); !errors.Is(err, ErrKeyFile) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(link, acceptAnyOwner); !errors.Is(err, ErrKeyFile) {
		t.Errorf("symlink accepted: %v", err)
	}
	if _, err := LoadKeyFile(filepath.Join(dir, "missing"), acceptAnyOwner); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestRequireRootOwner(t *testing.T) {
	p := writeKeyFile(t, 0o600, newKey(t))
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	uid := fi.Sys().(*syscall.Stat_t).Uid
	err = RequireRootOwner(p, fi)
	if uid == 0 && err != nil {
		t.Fatalf("root-owned file refused: %v", err)
	}
	if uid != 0 && !errors.Is(err, ErrKeyFile) {
		t.Fatalf("file owned by uid %d accepted: %v", uid, err)
	}
	if os.Geteuid() != 0 {
		t.Skip("chown to a non-root uid needs root; the non-root branch was checked above")
	}
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Skipf("cannot chown: %v", err)
	}
	fi, _ = os.Lstat(p)
	if err := RequireRootOwner(p, fi); !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("non-root owner: err = %v", err)
	}
	if _, err := LoadKeyFile(p, nil); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("LoadKeyFile with default owner check accepted uid 65534: %v", err)
	}
}

func TestTimingFor(t *testing.T) {
	tm, err := TimingFor(0)
	if err != nil {
		t.Fatal(err)
	}
	want := Timing{ProbeInterval: 200 * time.Millisecond, ProbeTimeout: 100 * time.Millisecond,
		SuspicionMult: 3, SuspicionMaxTimeoutMult: 4, GossipInterval: 100 * time.Millisecond}
	if tm != want {
		t.Fatalf("default timing = %+v", tm)
	}
	if typ, worst := tm.Detection(3); typ != time.Second || worst != 1200*time.Millisecond {
		t.Errorf("Detection(3) = %s, %s", typ, worst)
	}
	if minS, maxS := tm.Suspicion(100); minS != 1200*time.Millisecond || maxS != 4800*time.Millisecond {
		t.Errorf("Suspicion(100) = %s, %s", minS, maxS)
	}
	if _, err := TimingFor(100 * time.Millisecond); err == nil {
		t.Error("budget below minimum accepted")
	}
	if _, err := New(Config{NodeName: "n", ClusterName: "c", Keys: [][]byte{newKey(t)}, FailureDetection: time.Millisecond, Logger: slog.New(slog.DiscardHandler)}); !errors.Is(err, ErrConfig) {
		t.Errorf("New with tiny budget: %v", err)
	}
}

func TestParseStdLine(t *testing.T) {
	for in, want := range map[string]struct {
		l   slog.Level
		msg string
	}{
		"[DEBUG] memberlist: Stream connection from=1": {slog.LevelDebug, "Stream connection from=1"},
		"[WARN] memberlist: Was able to connect":       {slog.LevelWarn, "Was able to connect"},
		"[ERR] memberlist: Failed fallback ping":       {slog.LevelError, "Failed fallback ping"},
		"[INFO] memberlist: Suspect n3":                {slog.LevelInfo, "Suspect n3"},
		"plain line":                                   {slog.LevelInfo, "plain line"},
		"[weird] text":                                 {slog.LevelInfo, "[weird] text"},
	} {
		l, msg := parseStdLine(in)
		if l != want.l || msg != want.msg {
			t.Errorf("parseStdLine(%q) = %v %q", in, l, msg)
		}
	}
	var buf bytes.Buffer
	lg, w := newStdLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	lg.Printf("[WARN] memberlist: hello %d", 42)
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), `msg="hello 42"`) {
		t.Errorf("adapter output %q", buf.String())
	}
	buf.Reset()
	w.muted.Store(true)
	lg.Printf("[ERR] memberlist: after shutdown")
	if buf.Len() != 0 {
		t.Errorf("muted writer logged %q", buf.String())
	}
}

func TestEventQueueDropsOldest(t *testing.T) {
	q := newEventQueue(2)
	ev := func(n string) Event { return Event{Kind: EventJoin, Member: Member{Name: n}} }
	q.push(ev("a"))
	q.push(ev("b"))
	if total := q.push(ev("c")); total != 1 {
		t.Fatalf("total = %d", total)
	}
	q.push(ev("d")) // drops b
	got1, got2 := <-q.ch, <-q.ch
	if got1.Member.Name != "c" || got1.Dropped != 1 {
		t.Errorf("first = %s dropped %d", got1.Member.Name, got1.Dropped)
	}
	// b carried no count, c (count 1) was... kept; d reports b's drop.
	if got2.Member.Name != "d" || got2.Dropped != 1 {
		t.Errorf("second = %s dropped %d", got2.Member.Name, got2.Dropped)
	}
	// Dropping an event that carried a count moves the count forward.
	q.push(ev("e"))
	q.push(ev("f"))
	q.push(ev("g")) // drops e: g.Dropped = 1
	q.push(ev("h")) // drops f: h.Dropped = 1
	q.push(ev("i")) // drops g (carried 1): i.Dropped = 2
	<-q.ch
	if last := <-q.ch; last.Member.Name != "i" || last.Dropped != 2 {
		t.Errorf("last = %s dropped %d", last.Member.Name, last.Dropped)
	}
	q.close()
	q.close()
	if q.push(ev("z")) != 0 {
		t.Error("push after close")
	}
}
