package simulate

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

// Mode selects how much of crm_simulate's work Run does.
type Mode int

const (
	// ModeStatus only shows the current cluster status.
	ModeStatus Mode = iota
	// ModeRun also schedules and prints the Transition Summary (-R).
	ModeRun
	// ModeSimulate also executes the transition and shows the revised
	// status (-S).
	ModeSimulate
)

// Options control Run.
type Options struct {
	Mode Mode
	// Now is the effective cluster time. When zero, the CIB's
	// execution-date is used (and announced), else the Unix epoch.
	Now time.Time
	// NowText is how Now was given (echoed in "Setting effective cluster
	// time"); when empty, Now is printed in UTC.
	NowText string
	// Fallback is the time used when Now is zero and the CIB has no
	// execution-date (the command line passes the wall clock here).
	Fallback time.Time
	// Quiet suppresses the status sections (-Q).
	Quiet bool
	// XML tells Simulate that WriteXML will render the result: the current
	// status is then kept as XML before scheduling (WriteXML without it
	// unpacks the CIB again).
	XML bool
	// ShowScores prints allocation scores (-s) and switches the text
	// output to crm_simulate's plain style; it needs Mode >= ModeRun.
	ShowScores bool
}

// ErrNoCIB is returned when Run is given no CIB.
var ErrNoCIB = errors.New("simulate: no CIB given")

// Result is the structured outcome of a simulation, as rendered by Run.
type Result struct {
	// ExecutionDate is the CIB's execution-date in use, or zero.
	ExecutionDate time.Time
	// Disabled, Blocked and Instances count primitive instances for the
	// "N of M resource instances DISABLED" notice.
	Disabled, Blocked, Instances int
	// MaintenanceMode reports cluster-wide maintenance-mode.
	MaintenanceMode bool
	// Current and Revised are the rendered status blocks.
	Current, Revised []string
	// Scores are the allocation and promotion score lines (-s).
	Scores []string
	// Summary holds the Transition Summary lines (without "* ").
	Summary []string
	// Executed holds the simulated graph actions in execution order.
	Executed []Executed
	// Transition is the scheduler's result (nil in ModeStatus).
	Transition *scheduler.Transition
	// CurrentCluster and RevisedCluster are the unpacked states.
	// CurrentCluster is nil after a ModeRun or ModeSimulate run: the
	// scheduler took it over (Transition.Cluster is what it became).
	CurrentCluster, RevisedCluster *scheduler.Cluster

	currentCIB, revisedCIB *cib.CIB
	// currentXML is the current status as crm_simulate's XML, rendered
	// before scheduling took CurrentCluster over.
	currentXML *cib.Element
	// now is the effective time the CIB was unpacked at.
	now time.Time
	// currentLines and revisedLines are the structured status renderings.
	currentLines, revisedLines []statusLine
}

// effectiveNow returns the time to schedule at and, if it came from the
// CIB, the execution date.
func effectiveNow(c *cib.CIB, now, fallback time.Time) (time.Time, time.Time) {
	if !now.IsZero() {
		return now, time.Time{}
	}
	if ed := c.GetAttr("execution-date"); ed != "" {
		if n, err := strconv.ParseInt(ed, 10, 64); err == nil {
			t := time.Unix(n, 0).UTC()
			return t, t
		}
	}
	if !fallback.IsZero() {
		return fallback, time.Time{}
	}
	return time.Unix(0, 0).UTC(), time.Time{}
}

// countInstances mirrors pe__count_common.
func countInstances(rs []*scheduler.Resource, res *Result) {
	for _, r := range rs {
		if len(r.Children) > 0 {
			countInstances(r.Children, res)
			continue
		}
		if r.Kind != cib.KindPrimitive {
			continue
		}
		if r.Orphan && (r.Role == scheduler.RoleStopped || r.Role == "" || r.Role == scheduler.RoleUnknown) {
			continue
		}
		res.Instances++
		if isDisabled(r) {
			res.Disabled++
		}
		if r.Blocked {
			res.Blocked++
		}
	}
}

// Simulate computes everything crm_simulate would show for c. It never
// modifies c, and other goroutines may read c meanwhile; it reads c from
// one goroutine of its own besides the caller's, finished before it
// returns.
func Simulate(c *cib.CIB, opts Options) (*Result, error) {
	if c == nil {
		return nil, ErrNoCIB
	}
	now, ed := effectiveNow(c, opts.Now, opts.Fallback)
	res := &Result{ExecutionDate: ed, currentCIB: c}
	// The display facts read only the CIB: gather them on another core
	// while the CIB is unpacked (both only read c). The goroutine is
	// waited for before going on, error or not.
	factsc := make(chan *historyFacts, 1)
	go func() { factsc <- gatherFacts(c) }()
	cur, err := scheduler.Unpack(c, now)
	facts := <-factsc
	if err != nil {
		return nil, fmt.Errorf("unpacking current status: %w", err)
	}
	res.CurrentCluster = cur
	res.MaintenanceMode = cur.MaintenanceMode
	countInstances(cur.Resources, res)
	res.currentLines = renderStatusFacts(cur, facts, true)
	res.Current = fancyLines(res.currentLines)
	if opts.Mode == ModeStatus {
		return res, nil
	}
	// The current status is rendered; its XML form is kept now, then the
	// unpacked cluster is handed to the scheduler (which changes it)
	// instead of unpacking the CIB a second time.
	if opts.XML {
		res.currentXML = statusXMLFacts("cluster_status", cur, facts)
	}
	res.CurrentCluster = nil
	res.now = now
	t, err := scheduler.ScheduleCluster(cur, scheduler.Options{NoScores: !opts.ShowScores})
	if err != nil {
		return nil, fmt.Errorf("scheduling: %w", err)
	}
	res.Transition = t
	res.Summary = t.Summary
	res.Scores = formatScores(t.Cluster.Scores())
	if opts.Mode == ModeRun {
		return res, nil
	}
	fired := executeGraph(t)
	sim := copyForSimulation(c)
	ed2 := &statusEditor{cib: sim, now: now}
	for _, a := range fired {
		res.Executed = append(res.Executed, describe(a))
		switch {
		case a.Pseudo:
		case isFencing(a):
			if a.Node != nil {
				ed2.fence(a.Node, a.FenceAction)
			}
		case clusterTasks[a.Task] && a.Task != "lrm_delete":
			// Controller-internal actions leave no resource history.
		default:
			ed2.record(a, -1)
		}
	}
	rev, err := scheduler.Unpack(sim, now)
	if err != nil {
		return nil, fmt.Errorf("unpacking revised status: %w", err)
	}
	res.RevisedCluster = rev
	res.revisedCIB = sim
	res.revisedLines = renderStatus(rev, sim, false)
	res.Revised = fancyLines(res.revisedLines)
	return res, nil
}

// FormatExecutionDate renders a time the way crm_simulate announces the
// CIB's execution date.
func FormatExecutionDate(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05") + "Z"
}

// formatScores renders score lines as crm_simulate -s prints them.
func formatScores(scores []scheduler.ScoreLine) []string {
	out := make([]string, 0, len(scores))
	for _, sl := range scores {
		if sl.Kind == "promotion" {
			out = append(out, fmt.Sprintf("%s promotion score on %s: %s", sl.Rsc, sl.Node, cib.ScoreString(sl.Score)))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s allocation score on %s: %s", sl.Func, sl.Rsc, sl.Node, cib.ScoreString(sl.Score)))
	}
	return out
}

// WriteText renders r as crm_simulate 2.1.5's text output. With
// ShowScores the output switches to crm_simulate's plain style: no section
// titles, list headers, bullets or indentation.
func WriteText(w io.Writer, r *Result, opts Options) error {
	var b strings.Builder
	plain := opts.ShowScores
	dateLine := ""
	switch {
	case !opts.Now.IsZero():
		shown := opts.NowText
		if shown == "" {
			shown = opts.Now.UTC().Format("2006-01-02 15:04:05")
		}
		dateLine = "Setting effective cluster time: " + shown + "\n"
	case !r.ExecutionDate.IsZero():
		dateLine = "Using the original execution date of: " + FormatExecutionDate(r.ExecutionDate) + "\n"
	}
	title := func(t string) {
		if !plain {
			b.WriteString(t + "\n")
		}
	}
	status := func(lines []statusLine) {
		if plain {
			writeLines(&b, plainLines(lines))
		} else {
			writeLines(&b, fancyLines(lines))
		}
	}
	if opts.Quiet {
		dateLine = ""
	}
	b.WriteString(dateLine)
	if !opts.Quiet {
		if r.MaintenanceMode {
			b.WriteString("\n              *** Resource management is DISABLED ***\n")
			b.WriteString("  The cluster will not attempt to start, stop or recover services\n\n")
		}
		if r.Disabled > 0 || r.Blocked > 0 {
			fmt.Fprintf(&b, "%d of %d resource instances DISABLED and %d BLOCKED from further action due to failure\n\n",
				r.Disabled, r.Instances, r.Blocked)
		}
		title("Current cluster status:")
		status(r.currentLines)
	}
	if opts.ShowScores && opts.Mode >= ModeRun {
		// crm_simulate prints the spacer before the scores unless quiet,
		// and even then when simulating.
		if !opts.Quiet || opts.Mode == ModeSimulate {
			b.WriteString("\n")
		}
		writeLines(&b, r.Scores)
	}
	if opts.Mode >= ModeRun && !opts.Quiet {
		b.WriteString("\n")
		title("Transition Summary:")
		for _, l := range padSummary(r.Summary) {
			if plain {
				b.WriteString(l + "\n")
			} else {
				b.WriteString("  * " + l + "\n")
			}
		}
	}
	if opts.Mode == ModeSimulate && !opts.Quiet {
		b.WriteString("\n")
		title("Executing Cluster Transition:")
		for _, x := range r.Executed {
			if plain {
				b.WriteString(x.String() + "\n")
			} else {
				b.WriteString("  * " + x.String() + "\n")
			}
		}
		b.WriteString(dateLine)
		b.WriteString("\n")
		title("Revised Cluster Status:")
		status(r.revisedLines)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeLines(b *strings.Builder, lines []string) {
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\n")
	}
}

// Run simulates c and writes the text output to w.
func Run(w io.Writer, c *cib.CIB, opts Options) error {
	r, err := Simulate(c, opts)
	if err != nil {
		return err
	}
	return WriteText(w, r, opts)
}
