package simulate

import (
	"fmt"
	"strings"
)

// padSummary re-aligns Transition Summary resource lines the way
// crm_simulate 2.1.5 does. Its column widths live in static variables that
// grow as lines are formatted: the resource column to the longest id seen
// plus two, the right-aligned detail column to the longest detail. The
// summary is formatted once for the log before it is printed, so the
// printed lines use the widths reached over the whole summary. Lines that
// are not resource actions (fencing, shutdown) are returned unchanged.
func padSummary(lines []string) []string {
	rscWidth, detailWidth := 5, 5
	formatSummary(lines, &rscWidth, &detailWidth)
	return formatSummary(lines, &rscWidth, &detailWidth)
}

func formatSummary(lines []string, rscWidth, detailWidth *int) []string {
	out := make([]string, len(lines))
	for i, line := range lines {
		verb, rest, ok := strings.Cut(line, " ")
		rest = strings.TrimLeft(rest, " ")
		rsc, rest2, ok2 := strings.Cut(rest, " ")
		rest2 = strings.TrimLeft(rest2, " ")
		open := strings.HasPrefix(rest2, "( ")
		closeAt := strings.Index(rest2, " )")
		if !ok || !ok2 || !open || closeAt < 2 || strings.HasPrefix(line, "Fence") {
			out[i] = line
			continue
		}
		details := rest2[2:closeAt]
		tail := rest2[closeAt+2:]
		if len(rsc) > *rscWidth {
			*rscWidth = len(rsc) + 2
		}
		if len(details) > *detailWidth {
			*detailWidth = len(details)
		}
		out[i] = fmt.Sprintf("%-8s   %-*s   ( %*s )%s", verb, *rscWidth, rsc, *detailWidth, details, tail)
	}
	return out
}
