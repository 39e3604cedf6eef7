package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gocrm/gocrm/crm/consensus"
)

func TestCreateMakesNodeCertificates(t *testing.T) {
	s := fakeSandbox(t, 3)
	for _, n := range s.Nodes() {
		id, err := consensus.LoadTLSIdentity(filepath.Join(s.PKIDir(), consensus.CACertFile),
			filepath.Join(s.PKIDir(), consensus.NodeCertFile(n)), filepath.Join(s.PKIDir(), consensus.NodeKeyFile(n)),
			consensus.RootOrCurrentUser)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if id.Name() != n {
			t.Fatalf("certificate of %s names %q", n, id.Name())
		}
		args, err := s.Args(n)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.Index(args, "--tls-dir")
		if i < 0 || args[i+1] != s.PKIDir() || slices.Contains(args, "--insecure-transport") {
			t.Fatalf("%s args lack --tls-dir %s: %v", n, s.PKIDir(), args)
		}
	}
	fi, err := os.Stat(filepath.Join(s.PKIDir(), consensus.CAKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("CA key: %v %v", fi, err)
	}
	// A sandbox without certificates (made before they existed) runs
	// insecure, explicitly.
	if err := os.Remove(filepath.Join(s.PKIDir(), "n2.crt")); err != nil {
		t.Fatal(err)
	}
	args, _ := s.Args("n2")
	if !slices.Contains(args, "--insecure-transport") {
		t.Fatalf("n2 without certificate: %v", args)
	}
	if err := s.Purge(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.PKIDir()); !os.IsNotExist(err) {
		t.Fatalf("pki dir survives Purge: %v", err)
	}
}
