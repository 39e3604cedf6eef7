// Package bench holds the side-by-side benchmark of `crm simulate -R`
// against Pacemaker's crm_simulate (run.sh, driven by `make bench`), the
// Transition Summary comparison it uses (ExtractSummary, CompareSummaries,
// and the tscompare command), and Go benchmarks of the CIB reader and the
// scheduler alone on synthetic CIBs from ../shared/tools.
//
// Everything here is pure and stateless; the functions are safe for
// concurrent use.
package bench
