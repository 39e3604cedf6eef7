package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/crm/consensus"
)

func TestClusterInitCertJoin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	e, out, errb := testEnv(nil)
	e.now = time.Now // certificates are checked against the real clock
	if code := dispatch(e, []string{"cluster", "init", "--pki-dir", dir, "--name", "n1", "--cluster-name", "c"}); code != exitOK {
		t.Fatalf("init: %d %s", code, errb.String())
	}
	for f, mode := range map[string]os.FileMode{"ca.key": 0o600, "ca.crt": 0o644, "n1.key": 0o600, "n1.crt": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: %v %v (want mode %04o)", f, fi, err, mode)
		}
	}
	if !strings.Contains(out.String(), "--tls-dir "+dir) {
		t.Fatalf("init output lacks the crmd flag:\n%s", out.String())
	}
	if code := dispatch(e, []string{"cluster", "init", "--pki-dir", dir, "--name", "n1"}); code != exitError {
		t.Fatalf("second init: %d", code)
	}
	if !strings.Contains(errb.String(), "refusing to replace") {
		t.Fatalf("second init message: %s", errb.String())
	}
	// Flags after the node name.
	if code := dispatch(e, []string{"cluster", "cert", "n2", "--pki-dir", dir, "--days", "30"}); code != exitOK {
		t.Fatalf("cert: %d %s", code, errb.String())
	}
	id, err := consensus.LoadTLSIdentity(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "n2.crt"), filepath.Join(dir, "n2.key"), consensus.RootOrCurrentUser)
	if err != nil || id.Name() != "n2" {
		t.Fatalf("n2 identity: %v", err)
	}
	if code := dispatch(e, []string{"cluster", "cert", "--pki-dir", dir, "../x"}); code != exitError {
		t.Fatalf("bad node name: %d", code)
	}
	out.Reset()
	bundle := filepath.Join(t.TempDir(), "b")
	if code := dispatch(e, []string{"cluster", "join", "n3", "--pki-dir", dir, "--out", bundle, "--seed", "10.0.0.1:7946"}); code != exitOK {
		t.Fatalf("join: %d %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(bundle, "ca.key")); !os.IsNotExist(err) {
		t.Fatal("the join bundle holds the CA key")
	}
	if _, err := consensus.LoadTLSIdentity(filepath.Join(bundle, "ca.crt"), filepath.Join(bundle, "n3.crt"), filepath.Join(bundle, "n3.key"), consensus.RootOrCurrentUser); err != nil {
		t.Fatalf("bundle: %v", err)
	}
	if !strings.Contains(out.String(), "crmd --name n3 --join 10.0.0.1:7946") {
		t.Fatalf("join output:\n%s", out.String())
	}
	if strings.Contains(out.String()+errb.String(), "PRIVATE KEY") {
		t.Fatal("key material printed")
	}
	if code := dispatch(e, []string{"cluster"}); code != exitUsage {
		t.Fatalf("no subcommand: %d", code)
	}
	if code := dispatch(e, []string{"cluster", "cert"}); code != exitUsage {
		t.Fatalf("cert without node: %d", code)
	}
}
