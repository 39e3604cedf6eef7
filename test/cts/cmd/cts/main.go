// Command cts runs gocrm's randomized fault campaign (package test/cts)
// against freshly started crmd processes and prints one line per fault,
// a table of faults by kind with recovery-time percentiles and violations,
// and, last, exactly "faults N violations V". It exits 1 when an invariant
// was violated, 2 when the cluster could not be set up or recover.
//
//	cts -seed 7 -faults 20 -crmd bin/crmd -crm bin/crm
//
// As root the nodes run in network namespaces (partitions, packet loss)
// with a tmpfs per data directory (disk full); otherwise on 127.0.0.1 with
// the process and resource faults only (-netns=false forces that).
// -topo twonode runs the smaller campaign of a two-node-mode pair.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/test/cts"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("cts", flag.ContinueOnError)
	fl.SetOutput(stderr)
	root := os.Geteuid() == 0
	seed := fl.Uint64("seed", 1, "random seed (the fault sequence is reproducible per seed)")
	faults := fl.Int("faults", 20, "number of faults")
	crmd := fl.String("crmd", "bin/crmd", "crmd binary")
	crm := fl.String("crm", "bin/crm", "crm binary")
	netns := fl.Bool("netns", root, "run nodes in network namespaces (root): partitions and netem")
	tmpfs := fl.Bool("tmpfs", root, "tmpfs per node data directory (root): disk-full faults")
	kinds := fl.String("kinds", "", "comma-separated fault kinds (default all): "+strings.Join(cts.KindNames(), ","))
	plant := fl.String("plant", "", "planted bug for the checker self-test (skip-fence-wait)")
	budget := fl.Duration("budget", 40*time.Minute, "time budget for the whole campaign")
	lease := fl.Duration("lease", 2*time.Second, "crmd --quorum-lease")
	settle := fl.Duration("settle-timeout", 30*time.Second, "bound on every wait for the cluster to settle")
	keep := fl.String("keep-logs", "", "directory receiving the node logs when a violation is found")
	dir := fl.String("dir", "", "parent directory of the lab (default: a temporary directory)")
	httpd := fl.String("httpd", "", "web server binary (test/cts/cmd/ctshttpd): an ocf:gocrm:httpd resource grouped with the VIP (netns mode)")
	topo := fl.String("topo", "3+1", "cluster: 3+1 (three nodes and an arbiter) or twonode (a two-node-mode pair; faults kill, freeze, partition)")
	verbose := fl.Bool("v", false, "log the harness's own progress to stderr")
	if err := fl.Parse(args); err != nil {
		return 64
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return a
	}
	for _, b := range []string{*crmd, *crm} {
		if _, err := os.Stat(b); err != nil {
			fmt.Fprintf(stderr, "cts: %v (build with: go build -o bin/ ./cmd/crmd ./cmd/crm)\n", err)
			return 2
		}
	}
	if *topo != "3+1" && *topo != "twonode" {
		fmt.Fprintf(stderr, "cts: unknown -topo %q (3+1 or twonode)\n", *topo)
		return 64
	}
	if *httpd != "" {
		*httpd = abs(*httpd)
	}
	var ks []string
	if *kinds != "" {
		ks = strings.Split(*kinds, ",")
		for _, k := range ks {
			if !slices.Contains(cts.KindNames(), k) && !slices.Contains(cts.TwoNodeKindNames(), k) {
				fmt.Fprintf(stderr, "cts: unknown fault kind %q (known: %s)\n", k, strings.Join(cts.KindNames(), ","))
				return 64
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := cts.Run(ctx, cts.Config{Seed: *seed, Faults: *faults, CRMD: abs(*crmd), CRM: abs(*crm), Dir: *dir,
		Netns: *netns, Tmpfs: *tmpfs, Plant: *plant, Kinds: ks, Lease: *lease, SettleTimeout: *settle,
		Budget: *budget, KeepLogs: *keep, HTTPD: *httpd, TwoNode: *topo == "twonode", Out: stdout, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "cts:", err)
		return 2
	}
	if len(res.Violations) > 0 {
		return 1
	}
	if res.Setup != nil {
		return 2
	}
	return 0
}
