package main

// crm cluster: the cluster PKI for mutual TLS between crmd nodes (raft and
// node RPC). init creates the CA and the first node's certificate; cert
// issues a node certificate; join writes a bundle for a new node (CA
// certificate, node certificate and key, never the CA key) and prints the
// crmd command line to start it.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gocrm/gocrm/crm/consensus"
)

func init() {
	register(&command{
		name:    "cluster",
		summary: "cluster certificates for mutual TLS: init, cert NODE, join NODE",
		run:     runCluster,
	})
}

const clusterUsage = `usage: crm cluster init [--pki-dir DIR] [--name NODE] [--cluster-name NAME] [--days N]
           create the cluster CA (DIR/ca.key, mode 0600) and NODE's certificate
       crm cluster cert NODE [--pki-dir DIR] [--days N]
           issue DIR/NODE.crt and DIR/NODE.key from the cluster CA
       crm cluster join NODE [--pki-dir DIR] [--out BUNDLE] [--seed ADDR:PORT] [--days N]
           issue NODE's certificate (unless it exists) and write BUNDLE (default
           DIR/NODE.bundle) with ca.crt, NODE.crt and NODE.key to copy to NODE's
           /etc/gocrm/pki; the CA key never leaves DIR
DIR defaults to /etc/gocrm/pki; certificates are valid for N days (default 1095).
crmd finds its certificate with --tls-dir DIR (or --tls-ca/--tls-cert/--tls-key).
`

func runCluster(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, clusterUsage)
		return exitUsage
	}
	sub := args[0]
	fl := flag.NewFlagSet("crm cluster "+sub, flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	host, _ := os.Hostname()
	dir := fl.String("pki-dir", consensus.DefaultPKIDir, "PKI directory")
	name := fl.String("name", host, "first node (init)")
	cluster := fl.String("cluster-name", "gocrm", "cluster name (init)")
	days := fl.Int("days", int(consensus.DefaultNodeValidity/(24*time.Hour)), "node certificate validity in days")
	out := fl.String("out", "", "bundle directory (join)")
	seed := fl.String("seed", "", "gossip ADDR:PORT of a running node (join)")
	pos, err := parseInterleaved(fl, args[1:])
	if err != nil {
		fmt.Fprintf(e.stderr, "crm cluster %s: %v\n%s", sub, err, clusterUsage)
		return exitUsage
	}
	if *days <= 0 {
		fmt.Fprintf(e.stderr, "crm cluster %s: --days must be positive\n", sub)
		return exitUsage
	}
	o := consensus.PKIOptions{Now: e.now, NodeValidity: time.Duration(*days) * 24 * time.Hour,
		OwnerCheck: consensus.RootOrCurrentUser}
	wantPos := 1
	if sub == "init" {
		wantPos = 0
	}
	if sub != "init" && sub != "cert" && sub != "join" {
		fmt.Fprintf(e.stderr, "crm cluster: unknown subcommand %q\n%s", sub, clusterUsage)
		return exitUsage
	}
	if len(pos) != wantPos {
		fmt.Fprintf(e.stderr, "crm cluster %s: wrong number of arguments\n%s", sub, clusterUsage)
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "crm cluster %s: %v\n", sub, err)
		return exitError
	}
	switch sub {
	case "init":
		created, err := consensus.InitPKI(*dir, *cluster, *name, o)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(e.stdout, "cluster CA and certificate of %s created:\n", *name)
		for _, p := range created {
			fmt.Fprintf(e.stdout, "  %s\n", p)
		}
		fmt.Fprintf(e.stdout, "start crmd on %s with --name %s --tls-dir %s\n", *name, *name, *dir)
		fmt.Fprintf(e.stdout, "add nodes with: crm cluster join NODE --pki-dir %s (keep %s on this machine only)\n",
			*dir, filepath.Join(*dir, consensus.CAKeyFile))
	case "cert":
		cert, key, err := consensus.IssueNodeCert(*dir, pos[0], o)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(e.stdout, "certificate of %s: %s\nkey (mode 0600): %s\n", pos[0], cert, key)
	case "join":
		bundle, err := joinBundle(*dir, pos[0], *out, o)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(e.stdout, "bundle for %s written to %s (ca.crt, %s, %s)\n", pos[0], bundle,
			consensus.NodeCertFile(pos[0]), consensus.NodeKeyFile(pos[0]))
		fmt.Fprintf(e.stdout, "copy it to %s:%s (directory 0700, key 0600, owned by root), then run there:\n",
			pos[0], consensus.DefaultPKIDir)
		join := "--join SEED_ADDR:PORT"
		if *seed != "" {
			join = "--join " + *seed
		}
		fmt.Fprintf(e.stdout, "  crmd --name %s %s --keyfile /etc/gocrm/authkey --tls-dir %s\n", pos[0], join, consensus.DefaultPKIDir)
	}
	return exitOK
}

// joinBundle issues node's certificate unless it exists and copies the
// public CA certificate and node's certificate and key to a new bundle
// directory (mode 0700).
func joinBundle(dir, node, out string, o consensus.PKIOptions) (string, error) {
	if err := consensus.ValidNodeName(node); err != nil {
		return "", err
	}
	if out == "" {
		out = filepath.Join(dir, node+".bundle")
	}
	certPath := filepath.Join(dir, consensus.NodeCertFile(node))
	keyPath := filepath.Join(dir, consensus.NodeKeyFile(node))
	if _, err := os.Lstat(certPath); errors.Is(err, os.ErrNotExist) {
		if _, _, err := consensus.IssueNodeCert(dir, node, o); err != nil {
			return "", err
		}
	}
	// The existing material must be valid for node (and its key safe).
	id, err := consensus.LoadTLSIdentity(filepath.Join(dir, consensus.CACertFile), certPath, keyPath, o.OwnerCheck)
	if err != nil {
		return "", err
	}
	if id.Name() != node {
		return "", fmt.Errorf("%s names %q, not %q", certPath, id.Name(), node)
	}
	if err := os.Mkdir(out, 0o700); err != nil {
		return "", fmt.Errorf("bundle: %w", err)
	}
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{{consensus.CACertFile, 0o644}, {consensus.NodeCertFile(node), 0o644}, {consensus.NodeKeyFile(node), 0o600}} {
		data, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return "", fmt.Errorf("bundle: %w", err)
		}
		if err := writeExcl(filepath.Join(out, f.name), data, f.mode); err != nil {
			return "", fmt.Errorf("bundle: %w", err)
		}
	}
	return out, nil
}

func writeExcl(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseInterleaved parses flags that may come before or after positional
// arguments.
func parseInterleaved(fl *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		rest := fl.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if strings.HasPrefix(rest[0], "-") && rest[0] != "-" {
			return nil, fmt.Errorf("unexpected %q", rest[0])
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
