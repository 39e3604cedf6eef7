// Command tscompare compares the Transition Summary sections of two
// crm_simulate-style outputs as multisets of whitespace-collapsed lines.
//
//	tscompare [-show N] OURS THEIRS
//
// It prints one line "identical=yes|no ours=N theirs=N differing=N", then up
// to N differing lines ("- " only in ours, "+ " only in theirs). The exit
// status is 0 when both summaries were read (whatever the verdict), 2 on a
// usage error and 1 when a file cannot be read or has no summary.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gocrm/gocrm/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tscompare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	show := fs.Int("show", 5, "differing lines to print per side")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "usage: tscompare [-show N] OURS THEIRS")
		return 2
	}
	var sums [2][]string
	for i, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "tscompare: %v\n", err)
			return 1
		}
		sums[i], err = bench.ExtractSummary(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "tscompare: %s: %v\n", name, err)
			return 1
		}
	}
	d := bench.CompareSummaries(sums[0], sums[1])
	verdict := "no"
	if d.Identical() {
		verdict = "yes"
	}
	fmt.Fprintf(stdout, "identical=%s ours=%d theirs=%d differing=%d\n", verdict, len(sums[0]), len(sums[1]), d.Differing())
	for i, l := range d.OnlyOurs {
		if i >= *show {
			fmt.Fprintf(stdout, "- ... %d more\n", len(d.OnlyOurs)-i)
			break
		}
		fmt.Fprintf(stdout, "- %s\n", l)
	}
	for i, l := range d.OnlyTheirs {
		if i >= *show {
			fmt.Fprintf(stdout, "+ ... %d more\n", len(d.OnlyTheirs)-i)
			break
		}
		fmt.Fprintf(stdout, "+ %s\n", l)
	}
	return 0
}
