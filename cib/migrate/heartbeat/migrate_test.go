package heartbeat

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrateFromFS(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/ha.d/haresources":  {Data: []byte("node1 IPaddr::172.16.100.1/16/eth0 httpd\n")},
		"etc/ha.d/ha.cf":        {Data: []byte("keepalive 2\ndeadtime 30\ninitdead 120\nbcast eth0\nauto_failback off\nnode node1 node2\n")},
		"etc/ha.d/authkeys":     {Data: []byte("auth 1\n1 sha1 topsecretvalue\n"), Mode: 0o600},
		"etc/ha.d/authkeys.bad": {Data: []byte("auth 1\n1 sha1 topsecretvalue\n"), Mode: 0o644},
		"etc/ha.d/authkeys.crc": {Data: []byte("auth 1\n1 crc\n"), Mode: 0o600},
	}
	in, err := LoadInputs(fsys, "etc/ha.d/haresources", "etc/ha.d/ha.cf", "etc/ha.d/authkeys")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	in.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	res, err := Migrate(in)
	if err != nil {
		t.Fatal(err)
	}
	want := "node node1\nnode node2\n" +
		"primitive IPaddr_172_16_100_1 ocf:heartbeat:IPaddr params ip=172.16.100.1 cidr_netmask=16 nic=eth0\n" +
		"primitive httpd lsb:httpd\ngroup group_1 IPaddr_172_16_100_1 httpd\nlocation pref_group_1 group_1 100: node1\n" +
		"rsc_defaults resource-stickiness=200\nproperty stonith-enabled=false\n"
	if res.CRM != want {
		t.Errorf("crm:\n%s\nwant:\n%s", res.CRM, want)
	}
	if res.ClusterKey == nil || res.Authkeys == nil || res.Timing.SuspicionMult != 14 {
		t.Fatalf("result incomplete: key %v timing %+v", res.ClusterKey, res.Timing)
	}
	if !strings.Contains(res.Explanation, "keepalive 2s → gossip probe interval 2s") || !strings.Contains(res.Explanation, "deadtime 30s → node declared dead after 30s") {
		t.Errorf("explanation:\n%s", res.Explanation)
	}
	if !strings.Contains(logs.String(), res.ClusterKey.Fingerprint()) || strings.Contains(logs.String(), "topsecretvalue") {
		t.Errorf("logs: %s", logs.String())
	}

	in.Authkeys, in.AuthkeysMode, in.AuthkeysName = fsys["etc/ha.d/authkeys.bad"].Data, 0o644, "authkeys.bad"
	if _, err := Migrate(in); !errors.Is(err, ErrAuthkeys) || !strings.Contains(err.Error(), "authkeys.bad: mode 644") {
		t.Errorf("bad mode: %v", err)
	}

	in2, err := LoadInputs(fsys, "etc/ha.d/haresources", "etc/ha.d/ha.cf", "etc/ha.d/authkeys.crc")
	if err != nil {
		t.Fatal(err)
	}
	res, err = Migrate(in2)
	if err != nil {
		t.Fatal(err)
	}
	ws := warningsText(res.Warnings)
	if res.ClusterKey != nil || !strings.Contains(ws, "active authkeys key has no secret") || !strings.Contains(ws, "active key uses crc") {
		t.Errorf("crc: key %v warnings\n%s", res.ClusterKey, ws)
	}

	in3, err := LoadInputs(fsys, "etc/ha.d/haresources", "etc/ha.d/ha.cf", "")
	if err != nil || in3.Authkeys != nil {
		t.Fatalf("no authkeys: %v", err)
	}
	if res, err := Migrate(in3); err != nil || res.Authkeys != nil || res.ClusterKey != nil {
		t.Errorf("no authkeys: %v %+v", err, res)
	}
	if _, err := LoadInputs(fsys, "missing", "etc/ha.d/ha.cf", ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestMigrateErrors(t *testing.T) {
	good := []byte("bcast eth0\nnode a b\n")
	cases := []struct {
		in   Inputs
		want error
		text string
	}{
		{Inputs{HACF: []byte("bcast eth0\nnode a\ncrm respawn\n"), HAResources: []byte("a x\n")}, ErrCRMEnabled, "ha.cf:3: crm respawn"},
		{Inputs{HACF: []byte("bogus 1\n"), HAResources: []byte("a x\n")}, ErrUnknownDirective, "ha.cf:1: bogus"},
		{Inputs{HACF: good, HAResources: []byte("a x\nb x\n"), HAResourcesName: "/etc/ha.d/haresources"}, ErrInvalid, "/etc/ha.d/haresources:2: group key \"x\""},
	}
	for _, c := range cases {
		_, err := Migrate(c.in)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("error %v, want %v containing %q", err, c.want, c.text)
		}
	}
}

// TestAuthkeysModeFromDisk copies the 644 sample into a temporary directory
// and takes the mode from the file system (git keeps only the x bit, so the
// mode is set here).
func TestAuthkeysModeFromDisk(t *testing.T) {
	shared := sharedCases(t)
	dir := t.TempDir()
	for name, src := range map[string]string{
		"haresources": filepath.Join(shared, "cases", "01-user-ip-httpd", "haresources"),
		"ha.cf":       filepath.Join(shared, "cases", "01-user-ip-httpd", "ha.cf"),
		"authkeys":    filepath.Join(shared, "authkeys", "09-bad-mode-644.keys"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), readFile(t, src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keys := filepath.Join(dir, "authkeys")
	if err := os.Chmod(keys, 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := LoadInputs(os.DirFS(dir), "haresources", "ha.cf", "authkeys")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Migrate(in); !errors.Is(err, ErrAuthkeys) || !strings.Contains(err.Error(), "authkeys: mode 644: must not be readable by group/other (600)") {
		t.Fatalf("mode 644: %v", err)
	}
	if err := os.Chmod(keys, 0o600); err != nil {
		t.Fatal(err)
	}
	if in, err = LoadInputs(os.DirFS(dir), "haresources", "ha.cf", "authkeys"); err != nil {
		t.Fatal(err)
	}
	res, err := Migrate(in)
	if err != nil || res.ClusterKey == nil {
		t.Fatalf("mode 600: %v", err)
	}
}
