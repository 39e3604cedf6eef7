package main

// crmd's transport-security flags: raft and the node RPC run over mutual
// TLS with this node's certificate (see crm/consensus/tls.go). Without a
// certificate crmd refuses to start unless --insecure-transport is given.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/crm/daemon"
	crmsandbox "github.com/gocrm/gocrm/crm/sandbox"
)

type tlsFlags struct {
	fl                 *flag.FlagSet
	ca, cert, key, dir *string
	insecure           *bool
}

func addTLSFlags(fl *flag.FlagSet) *tlsFlags {
	return &tlsFlags{
		fl:   fl,
		ca:   fl.String("tls-ca", "", "cluster CA certificate (default: ca.crt next to --tls-cert, or in --tls-dir)"),
		cert: fl.String("tls-cert", "", "this node's certificate, CN = --name (default: DIR/NAME.crt of --tls-dir)"),
		key: fl.String("tls-key", "", "this node's TLS key, mode 0600 and owned by root or the crmd user "+
			"(default: --tls-cert with .key for .crt, or DIR/NAME.key of --tls-dir)"),
		dir: fl.String("tls-dir", consensus.DefaultPKIDir, "where --tls-ca/--tls-cert/--tls-key are looked up when not given "+
			"(created by: crm cluster init, crm cluster cert NODE)"),
		insecure: fl.Bool("insecure-transport", false, "run raft and node RPC over plain TCP without per-node "+
			"certificates (any gossip-key holder can act as any node; testing only)"),
	}
}

// apply fills the TLS part of cfg: explicit files, else the files of
// --tls-dir when that directory holds this node's certificate. A crmd
// started by a sandbox (crm sandbox, test/cts) without --tls-dir looks in
// the sandbox's pki directory instead of /etc/gocrm/pki.
func (f *tlsFlags) apply(cfg *daemon.Config) {
	cfg.InsecureTransport = *f.insecure
	ca, cert, key := *f.ca, *f.cert, *f.key
	if ca == "" && cert == "" && key == "" {
		if *f.insecure {
			return
		}
		explicit := false
		f.fl.Visit(func(fl *flag.Flag) { explicit = explicit || fl.Name == "tls-dir" })
		if sb := os.Getenv(crmsandbox.EnvDir); sb != "" && !explicit {
			*f.dir = filepath.Join(sb, "pki")
		}
		if _, err := os.Lstat(filepath.Join(*f.dir, consensus.NodeCertFile(cfg.Name))); err != nil {
			return // daemon.New reports the missing certificate
		}
		ca = filepath.Join(*f.dir, consensus.CACertFile)
		cert = filepath.Join(*f.dir, consensus.NodeCertFile(cfg.Name))
		key = filepath.Join(*f.dir, consensus.NodeKeyFile(cfg.Name))
	}
	if ca == "" && cert != "" {
		ca = filepath.Join(filepath.Dir(cert), consensus.CACertFile)
	}
	if key == "" && strings.HasSuffix(cert, ".crt") {
		key = strings.TrimSuffix(cert, ".crt") + ".key"
	}
	cfg.TLSCAFile, cfg.TLSCertFile, cfg.TLSKeyFile = ca, cert, key
}

// hint explains how to fix a missing certificate.
func (f *tlsFlags) hint(w io.Writer, cfg daemon.Config, err error) {
	if !errors.Is(err, daemon.ErrConfig) || cfg.TLSCertFile != "" || cfg.InsecureTransport {
		return
	}
	fmt.Fprintf(w, "crmd: no TLS certificate for node %q in %s: create the cluster CA with `crm cluster init --name NODE`, "+
		"a node certificate with `crm cluster cert %s`, or pass --tls-ca/--tls-cert/--tls-key; "+
		"--insecure-transport runs raft and node RPC over plain TCP (testing only)\n", cfg.Name, *f.dir, cfg.Name)
}
