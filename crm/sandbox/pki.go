package sandbox

// Sandbox certificates: Create makes a cluster CA and one certificate per
// node in DIR/pki (see consensus.InitPKI for the file layout), and every
// crmd gets --tls-dir DIR/pki, so sandbox clusters run raft and the node
// RPC over mutual TLS like production ones. A sandbox created before
// certificates existed (no DIR/pki) runs with --insecure-transport.

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gocrm/gocrm/crm/consensus"
)

// PKIDir returns DIR/pki.
func (s *Sandbox) PKIDir() string { return filepath.Join(s.dir, "pki") }

// createPKI creates the CA and the node certificates (keys mode 0600,
// owned by the invoking user) and records DIR/pki for Purge.
func (s *Sandbox) createPKI() error {
	names := s.Nodes()
	o := consensus.PKIOptions{OwnerCheck: consensus.RootOrCurrentUser}
	dir := s.PKIDir()
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("sandbox pki: %s already exists", dir)
	}
	if _, err := consensus.InitPKI(dir, s.st.ClusterName, names[0], o); err != nil {
		return fmt.Errorf("sandbox pki: %w", err)
	}
	s.st.Created = append(s.st.Created, dir)
	for _, n := range names[1:] {
		if _, _, err := consensus.IssueNodeCert(dir, n, o); err != nil {
			return fmt.Errorf("sandbox pki: %w", err)
		}
	}
	return nil
}

// TLSArgs returns the crmd transport-security flags of node name:
// --tls-dir DIR/pki, or --insecure-transport when the sandbox has no
// certificate for it (callers that build their own crmd command line,
// such as test/cts in network namespaces, must append them).
func (s *Sandbox) TLSArgs(name string) []string {
	if _, err := os.Stat(filepath.Join(s.PKIDir(), consensus.NodeCertFile(name))); err != nil {
		return []string{"--insecure-transport"}
	}
	return []string{"--tls-dir", s.PKIDir()}
}
