package consensus

// Cluster PKI: the cluster CA and per-node certificates used by the mTLS
// transport (tls.go), and the files they live in.
//
// A PKI directory (default /etc/gocrm/pki, `crm cluster init`) holds:
//
//	ca.crt       the cluster CA certificate (PEM, mode 0644)
//	ca.key       the CA private key (PEM PKCS#8, mode 0600; keep it on an
//	             admin node only, it is needed to issue node certificates)
//	NODE.crt     a node certificate (CN and DNS SAN = node name, usable as
//	             TLS server and client, signed by the CA)
//	NODE.key     its private key (mode 0600)
//
// Keys are ECDSA P-256. Files are created with O_EXCL (existing files are
// never overwritten, a planted symlink is never followed).

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/membership"
)

// ErrTLSFile is wrapped by errors about TLS certificate and key files:
// unreadable, malformed, insecure permissions or owner, mismatched key.
var ErrTLSFile = errors.New("invalid TLS file")

// File names inside a PKI directory.
const (
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"
)

// DefaultPKIDir is where `crm cluster init` puts the cluster PKI.
const DefaultPKIDir = "/etc/gocrm/pki"

// Default certificate lifetimes.
const (
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
	DefaultNodeValidity = 3 * 365 * 24 * time.Hour
)

// NodeCertFile and NodeKeyFile name a node's certificate and key in a PKI
// directory.
func NodeCertFile(node string) string { return node + ".crt" }

// NodeKeyFile: see NodeCertFile.
func NodeKeyFile(node string) string { return node + ".key" }

// ValidNodeName checks that name can be a certificate identity and a file
// name: 1-63 characters of letters, digits, '-', '_' and '.', not starting
// with '.' or '-'.
func ValidNodeName(name string) error {
	if name == "" || len(name) > 63 {
		return fmt.Errorf("%w: node name %q must have 1-63 characters", ErrTLSFile, name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok || (i == 0 && (r == '.' || r == '-')) {
			return fmt.Errorf("%w: node name %q: only letters, digits, '-', '_' and '.' are allowed (not leading '.' or '-')", ErrTLSFile, name)
		}
	}
	return nil
}

// CA is a cluster certificate authority. It is immutable and safe for
// concurrent use.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// NewCA creates a self-signed CA for the cluster, valid from now-1h (clock
// skew) for validity.
func NewCA(clusterName string, now time.Time, validity time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "gocrm cluster CA " + clusterName, Organization: []string{"gocrm"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	return &CA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// ParseCA loads a CA from PEM data (certificate and PKCS#8/SEC1 key).
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	certs, err := parseCerts(certPEM)
	if err != nil {
		return nil, err
	}
	cert := certs[0]
	if !cert.IsCA {
		return nil, fmt.Errorf("%w: certificate %q is not a CA", ErrTLSFile, cert.Subject.CommonName)
	}
	key, err := parseECKey(keyPEM)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%w: the CA key does not match the CA certificate", ErrTLSFile)
	}
	return &CA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})}, nil
}

// CertPEM returns the CA certificate in PEM.
func (ca *CA) CertPEM() []byte { return append([]byte(nil), ca.pem...) }

// Certificate returns the parsed CA certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// KeyPEM returns the CA private key (PKCS#8 PEM). Secret: write it only to a
// 0600 file, never log it.
func (ca *CA) KeyPEM() ([]byte, error) { return marshalKey(ca.key) }

// Issue creates a node certificate and key for node, valid in
// [notBefore, notAfter] (the CA's own validity is not enforced here so that
// tests can issue expired certificates).
func (ca *CA) Issue(node string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	if err := ValidNodeName(node); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key for %s: %w", node, err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: node, Organization: []string{"gocrm"}},
		DNSNames:              []string{node},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate for %s: %w", node, err)
	}
	kp, err := marshalKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), kp, nil
}

func randomSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil
}

func marshalKey(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parseCerts returns every CERTIFICATE block of data (at least one).
func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrTLSFile, len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no PEM CERTIFICATE block", ErrTLSFile)
	}
	return out, nil
}

// parseECKey parses an ECDSA private key. Errors never include key bytes.
func parseECKey(data []byte) (*ecdsa.PrivateKey, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%w: no PEM private key block", ErrTLSFile)
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: malformed PKCS#8 private key", ErrTLSFile)
			}
			ek, ok := k.(*ecdsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("%w: private key is %T, want ECDSA", ErrTLSFile, k)
			}
			return ek, nil
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: malformed EC private key", ErrTLSFile)
			}
			return k, nil
		}
	}
}

// RootOrCurrentUser is a membership.OwnerCheck accepting files owned by
// root or by the effective user of this process (the rule crmd applies to
// the gossip key and the TLS key).
func RootOrCurrentUser(path string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Geteuid() {
		return nil
	}
	return membership.RequireRootOwner(path, fi)
}

// readSecretFile reads a private key file: it must be a regular file (not a
// symlink) without group or other permissions and pass check
// (membership.RequireRootOwner when nil).
func readSecretFile(path string, check membership.OwnerCheck) ([]byte, error) {
	if check == nil {
		check = membership.RequireRootOwner
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTLSFile, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: key %s is not a regular file (mode %s)", ErrTLSFile, path, fi.Mode())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: key %s has mode %04o, must be 0600 (no group/other access)", ErrTLSFile, path, perm)
	}
	if err := check(path, fi); err != nil {
		return nil, fmt.Errorf("%w: key %s: %w", ErrTLSFile, path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTLSFile, err)
	}
	return data, nil
}

// readPublicFile reads a certificate file, refusing one that group or other
// may write (anyone able to edit the CA file could add their own CA).
func readPublicFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTLSFile, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file (mode %s)", ErrTLSFile, path, fi.Mode())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o: group/other must not be able to write it", ErrTLSFile, path, perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTLSFile, err)
	}
	return data, nil
}

// writeNew creates path with mode perm and writes data, failing if path
// exists (O_EXCL also refuses a planted symlink).
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// PKIOptions tunes InitPKI and IssueNodeCert. Zero values mean defaults.
type PKIOptions struct {
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// CAValidity and NodeValidity default to DefaultCAValidity and
	// DefaultNodeValidity.
	CAValidity   time.Duration
	NodeValidity time.Duration
	// OwnerCheck is applied to ca.key when issuing (RequireRootOwner when
	// nil; RootOrCurrentUser for sandboxes and tests).
	OwnerCheck membership.OwnerCheck
}

func (o PKIOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// InitPKI creates dir (mode 0700 if missing) with a new cluster CA and the
// certificate of the first node. It refuses to touch a directory that
// already holds a CA. It returns the paths it created.
func InitPKI(dir, clusterName, firstNode string, o PKIOptions) ([]string, error) {
	if err := ValidNodeName(firstNode); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(filepath.Join(dir, CAKeyFile)); err == nil {
		return nil, fmt.Errorf("%w: %s already holds a cluster CA (%s): refusing to replace it", ErrTLSFile, dir, CAKeyFile)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki dir: %w", err)
	}
	cav := o.CAValidity
	if cav <= 0 {
		cav = DefaultCAValidity
	}
	ca, err := NewCA(clusterName, o.now(), cav)
	if err != nil {
		return nil, err
	}
	kp, err := ca.KeyPEM()
	if err != nil {
		return nil, err
	}
	var created []string
	undo := func() {
		for _, p := range created {
			_ = os.Remove(p)
		}
	}
	keyPath := filepath.Join(dir, CAKeyFile)
	if err := writeNew(keyPath, kp, 0o600); err != nil {
		return nil, err
	}
	created = append(created, keyPath)
	certPath := filepath.Join(dir, CACertFile)
	if err := writeNew(certPath, ca.CertPEM(), 0o644); err != nil {
		undo()
		return nil, err
	}
	created = append(created, certPath)
	paths, err := issueInto(ca, dir, firstNode, o)
	if err != nil {
		undo()
		return nil, err
	}
	return append(created, paths...), nil
}

// LoadCA reads the CA of a PKI directory (ca.key checked like every key).
func LoadCA(dir string, check membership.OwnerCheck) (*CA, error) {
	kp, err := readSecretFile(filepath.Join(dir, CAKeyFile), check)
	if err != nil {
		return nil, err
	}
	cp, err := readPublicFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, err
	}
	return ParseCA(cp, kp)
}

// IssueNodeCert issues a certificate for node from the CA in dir and writes
// dir/NODE.crt and dir/NODE.key (refusing to overwrite them). It returns
// the certificate and key paths.
func IssueNodeCert(dir, node string, o PKIOptions) (certPath, keyPath string, err error) {
	if err := ValidNodeName(node); err != nil {
		return "", "", err
	}
	ca, err := LoadCA(dir, o.OwnerCheck)
	if err != nil {
		return "", "", err
	}
	paths, err := issueInto(ca, dir, node, o)
	if err != nil {
		return "", "", err
	}
	return paths[0], paths[1], nil
}

func issueInto(ca *CA, dir, node string, o PKIOptions) ([]string, error) {
	nv := o.NodeValidity
	if nv <= 0 {
		nv = DefaultNodeValidity
	}
	now := o.now()
	notAfter := now.Add(nv)
	if ca.cert.NotAfter.Before(notAfter) {
		notAfter = ca.cert.NotAfter
	}
	cp, kp, err := ca.Issue(node, now.Add(-time.Hour), notAfter)
	if err != nil {
		return nil, err
	}
	certPath := filepath.Join(dir, NodeCertFile(node))
	keyPath := filepath.Join(dir, NodeKeyFile(node))
	if _, err := os.Lstat(certPath); err == nil {
		return nil, fmt.Errorf("%w: %s exists: refusing to replace the certificate of %s", ErrTLSFile, certPath, node)
	}
	if err := writeNew(keyPath, kp, 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(certPath, cp, 0o644); err != nil {
		_ = os.Remove(keyPath)
		return nil, err
	}
	return []string{certPath, keyPath}, nil
}
