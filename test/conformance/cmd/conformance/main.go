// Command conformance runs `bin/crm simulate -x xml/NAME.xml -S` on every case
// of Pacemaker's scheduler regression subset (../shared/pacemaker-scheduler)
// and reports, per tier, how many cases match at L1 (Transition Summary
// multiset), L2 (+ Revised Cluster Status) and L3 (whole output, the suite's
// own whitespace-insensitive check), the failing cases, crashes, timeouts
// and the slowest case.
//
// Usage:
//
//	conformance [-dir DIR] [-bin bin/crm] [-only TIER[,TIER]] [-case NAME] [-json OUT] [-j 2] [-timeout 5s] [-strict]
//
// With -case it prints the level reached and a unified diff of the expected
// and actual outputs. It exits 0 after a report (even with failing cases,
// unless -strict), 0 with a SKIP message when the suite is absent, 2 on usage
// or harness errors, and 1 with -strict when some selected case is below L3.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/gocrm/gocrm/test/conformance"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "scheduler suite directory (default: ../shared/pacemaker-scheduler next to the module root)")
	bin := fs.String("bin", "", "crm binary (default: bin/crm under the module root)")
	only := fs.String("only", "", "comma-separated tiers to run ("+strings.Join(conformance.Tiers, ",")+")")
	one := fs.String("case", "", "run one case and print a unified diff of expected vs actual")
	jsonOut := fs.String("json", "", "write per-case results and tier totals as JSON to this file")
	workers := fs.Int("j", 2, "parallel cases")
	timeout := fs.Duration("timeout", 5*time.Second, "per-case timeout")
	strict := fs.Bool("strict", false, "exit 1 when any selected case is below L3")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "conformance: unexpected arguments %q\n", fs.Args())
		return 2
	}
	root, rootErr := conformance.FindModuleRoot(".")
	if *dir == "" {
		if rootErr != nil {
			fmt.Fprintf(stderr, "conformance: %v (use -dir)\n", rootErr)
			return 2
		}
		*dir = filepath.Join(filepath.Dir(root), "shared", "pacemaker-scheduler")
	}
	if *bin == "" {
		if rootErr != nil {
			fmt.Fprintf(stderr, "conformance: %v (use -bin)\n", rootErr)
			return 2
		}
		*bin = filepath.Join(root, "bin", "crm")
	}
	if _, err := os.Stat(filepath.Join(*dir, "cases.tsv")); err != nil {
		fmt.Fprintf(stdout, "SKIP: conformance: scheduler suite not found at %s (needs ../shared beside the repository)\n", *dir)
		return 0
	}
	absBin, err := filepath.Abs(*bin)
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	if st, err := os.Stat(absBin); err != nil || st.IsDir() {
		fmt.Fprintf(stderr, "conformance: crm binary %s not found (run make build)\n", absBin)
		return 2
	}
	var tiers []string
	if *only != "" {
		for _, t := range strings.Split(*only, ",") {
			t = strings.TrimSpace(t)
			known := false
			for _, k := range conformance.Tiers {
				known = known || k == t
			}
			if !known {
				fmt.Fprintf(stderr, "conformance: unknown tier %q (want one of %s)\n", t, strings.Join(conformance.Tiers, ", "))
				return 2
			}
			tiers = append(tiers, t)
		}
	}
	shadow, err := os.MkdirTemp("", "conformance-shadow-")
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	defer os.RemoveAll(shadow)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	results, err := conformance.Run(ctx, conformance.Config{
		Dir: *dir, Only: tiers, Case: *one, Workers: *workers, Timeout: *timeout,
		Sim: conformance.ExecSimulator{Bin: absBin, ShadowDir: shadow},
	})
	if err != nil {
		if errors.Is(err, conformance.ErrNoSuite) {
			fmt.Fprintf(stdout, "SKIP: conformance: %v\n", err)
			return 0
		}
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	wall := time.Since(start)

	if *one != "" {
		r := results[0]
		fmt.Fprintf(stdout, "case %s (tier %s): level L%d, %v\n", r.Name, r.Tier, r.Level, r.Duration.Round(time.Millisecond))
		if r.Failure != "" {
			fmt.Fprintf(stdout, "%s: %s\n", r.Failure, r.Error)
		}
		if d := conformance.UnifiedDiff(r.Expected, r.Actual, "summary/"+r.Name+".summary", "actual"); d != "" {
			fmt.Fprint(stdout, d)
		} else {
			fmt.Fprintln(stdout, "outputs match (whitespace and blank lines ignored)")
		}
	} else {
		fmt.Fprintf(stdout, "conformance: %d cases from %s with %s, %d workers, %v timeout, %v wall\n\n",
			len(results), *dir, absBin, *workers, *timeout, wall.Round(time.Millisecond))
		conformance.WriteReport(stdout, results)
	}
	if *jsonOut != "" {
		if err := writeJSON(*jsonOut, results); err != nil {
			fmt.Fprintf(stderr, "conformance: %v\n", err)
			return 2
		}
	}
	if *strict {
		for _, r := range results {
			if r.Level < 3 {
				return 1
			}
		}
	}
	return 0
}

func writeJSON(path string, results []conformance.Result) error {
	doc := struct {
		Tiers   []conformance.TierStats `json:"tiers"`
		Cases   []conformance.Result    `json:"cases"`
		Slowest string                  `json:"slowest"`
	}{conformance.Summarize(results), results, conformance.Slowest(results).Name}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
