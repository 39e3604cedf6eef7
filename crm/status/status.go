// Package status renders the cluster status the way `crm_mon -1 -r`
// (Pacemaker 2.1.5) does, for `crm status`: a Cluster Summary header,
// the Node List and Full List of Resources (shared with crm/simulate's
// renderer), Failed Resource Actions, the fencing sections of crm_mon
// --fence-history (Failed Fencing Actions, Pending Fencing Actions or
// Fencing History, from a fencing history the caller passes in), and
// gocrm's own warnings (leftover cli-prefer/cli-ban constraints, fencing
// disabled, recovery waiting for the fencing of an UNCLEAN node). It also
// writes crm_mon's --output-as=xml document and a JSON rendering of the
// same data.
//
// The package is pure: it reads a parsed CIB and an injected "now" and
// writes to an io.Writer; no I/O of its own, no clock. A Report is
// immutable after Build and may be rendered from several goroutines.
package status

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
	"github.com/gocrm/gocrm/crm/simulate"
	"github.com/gocrm/gocrm/stonith/fsm"
)

// ErrNoCIB is returned by Build without a CIB.
var ErrNoCIB = errors.New("status: no CIB given")

// Options control Build.
type Options struct {
	// Now is the time the status is rendered at (failure expiry,
	// "Last updated"). Required: the caller injects the clock.
	Now time.Time
	// Location renders times (crm_mon uses the local zone); nil = UTC.
	Location *time.Location
	// Stack overrides the "Stack:" value (default: the
	// cluster-infrastructure property, else "unknown").
	Stack string
	// Request is echoed in the XML document's request attribute.
	Request string
	// DCVersion is used when the CIB has no dc-version property (a live
	// daemon reports its version).
	DCVersion string
	// FenceLevel selects the fencing sections (crm_mon --fence-history);
	// the zero value shows none, as crm_mon does for a CIB file.
	FenceLevel FenceLevel
	// FenceHistory is the fencing history from the daemon (any order).
	FenceHistory []fsm.Record
	// FenceHistoryError, when set, says why the history could not be
	// read; it is shown instead of the fencing sections.
	FenceHistoryError string
}

// FailedAction is one entry of "Failed Resource Actions".
type FailedAction struct {
	// OpKey is the operation key (RSC_TASK_INTERVAL) as recorded.
	OpKey string `json:"op_key"`
	// Rsc, Task and Interval (ms) are parsed from OpKey.
	Rsc      string `json:"resource"`
	Task     string `json:"task"`
	Interval int64  `json:"interval_ms"`
	Node     string `json:"node"`
	RC       int    `json:"rc"`
	// OpStatus is the execution status (0 done, 2 timed out, 4 error, ...).
	OpStatus     int    `json:"op_status"`
	ExitReason   string `json:"exit_reason,omitempty"`
	CallID       int    `json:"call"`
	LastRCChange int64  `json:"last_rc_change,omitempty"`
	ExecTimeMS   int64  `json:"exec_time_ms,omitempty"`
	QueueTimeMS  int64  `json:"queue_time_ms,omitempty"`
	ID           string `json:"id"`
}

// Report is everything crm status shows.
type Report struct {
	CIB     *cib.CIB
	Cluster *scheduler.Cluster
	Now     time.Time
	loc     *time.Location
	request string

	Stack     string
	DC        *scheduler.Node
	DCVersion string
	// Instances, Disabled and Blocked count primitive instances.
	Instances, Disabled, Blocked int
	// NodeLines and ResourceLines are the bulleted item lines of the
	// Node List and Full List of Resources sections.
	NodeLines, ResourceLines []string
	Failed                   []FailedAction
	// Warnings are gocrm's own notices (shown in the summary).
	Warnings []string

	fencing    []fsm.Record
	fenceLevel FenceLevel
	fenceErr   string
}

// Build unpacks c at opts.Now and gathers the report. It never modifies c.
func Build(c *cib.CIB, opts Options) (*Report, error) {
	if c == nil {
		return nil, ErrNoCIB
	}
	cl, err := scheduler.Unpack(c, opts.Now)
	if err != nil {
		return nil, fmt.Errorf("unpacking cluster status: %w", err)
	}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	r := &Report{CIB: c, Cluster: cl, Now: opts.Now, loc: loc, request: opts.Request, DC: cl.DCNode,
		fencing: append([]fsm.Record(nil), opts.FenceHistory...), fenceLevel: opts.FenceLevel, fenceErr: opts.FenceHistoryError}
	r.Stack = opts.Stack
	if r.Stack == "" {
		r.Stack = cl.Options["cluster-infrastructure"]
	}
	if r.Stack == "" {
		r.Stack = "unknown"
	}
	r.DCVersion = cl.Options["dc-version"]
	if r.DCVersion == "" {
		r.DCVersion = opts.DCVersion
	}
	r.Instances, r.Disabled, r.Blocked = simulate.InstanceCounts(cl)
	// The simulate renderer nests both lists under "* Node List:" and
	// "* Full List of Resources:" items; crm_mon makes them sections.
	var cur *[]string
	for _, l := range simulate.StatusText(cl, c) {
		switch l {
		case "  * Node List:":
			cur = &r.NodeLines
		case "  * Full List of Resources:":
			cur = &r.ResourceLines
		case "":
		default:
			if cur != nil {
				*cur = append(*cur, strings.TrimPrefix(l, "  "))
			}
		}
	}
	r.Failed = failedActions(c, cl)
	r.Warnings = append(warnings(c, cl), r.fencingWarnings()...)
	return r, nil
}

// warnings lists leftover move/ban constraints and disabled fencing.
func warnings(c *cib.CIB, cl *scheduler.Cluster) []string {
	var out []string
	for _, con := range c.Config.Constraints {
		loc, ok := con.(*cib.Location)
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(loc.ID, "cli-prefer-"):
			out = append(out, fmt.Sprintf("WARNING: constraint %s left by \"crm resource move\" pins %s; remove it with \"crm resource clear %s\"", loc.ID, loc.Rsc, loc.Rsc))
		case strings.HasPrefix(loc.ID, "cli-ban-"):
			out = append(out, fmt.Sprintf("WARNING: constraint %s left by \"crm resource ban/move\" keeps %s away; remove it with \"crm resource clear %s\"", loc.ID, loc.Rsc, loc.Rsc))
		}
	}
	if !cl.StonithEnabled {
		out = append(out, "WARNING: stonith-enabled=false: failed nodes are not fenced and data may be corrupted")
	}
	// A node that cannot write its data directory says so in this
	// transient attribute (crm/daemon StorageAttr) and stays out of
	// leadership until it can again.
	for _, n := range cl.Nodes {
		if v := n.Attrs[storageErrorAttr]; v != "" {
			out = append(out, fmt.Sprintf("WARNING: node %s cannot write its data directory: %s", n.Name, v))
		}
	}
	return out
}

// storageErrorAttr is the transient node attribute crmd sets while its
// data directory refuses writes (crm/daemon.StorageAttr).
const storageErrorAttr = "gocrm-storage-error"

// failedActions collects failed operations from the resource history in
// status order, the way crm_mon lists them.
func failedActions(c *cib.CIB, cl *scheduler.Cluster) []FailedAction {
	var out []FailedAction
	now := cl.Now.Unix()
	online := map[string]bool{}
	for _, n := range cl.Nodes {
		online[n.Name] = n.Online
	}
	for _, ns := range c.Status.Nodes {
		node := ns.Uname
		if node == "" {
			for _, n := range c.Config.Nodes {
				if n.ID == ns.ID {
					node = n.Uname
				}
			}
		}
		// Like crm_mon, failures are only listed for online nodes.
		if !online[node] {
			continue
		}
		for _, lr := range ns.Resources {
			ops := append([]*cib.LRMOp(nil), lr.Ops...)
			sort.SliceStable(ops, func(i, j int) bool { return ops[i].CallID < ops[j].CallID })
			for _, op := range ops {
				fa, ok := failedOp(op, node)
				if !ok {
					continue
				}
				if rsc := findResource(cl, lr.ID); rsc != nil && rsc.FailureTimeout > 0 && fa.LastRCChange > 0 && now >= fa.LastRCChange+rsc.FailureTimeout {
					continue
				}
				// One entry per operation key and node (the last-failure
				// record usually repeats the last result).
				dup := false
				for _, o := range out {
					if strings.EqualFold(o.OpKey, fa.OpKey) && strings.EqualFold(o.Node, fa.Node) {
						dup = true
					}
				}
				if !dup {
					out = append(out, fa)
				}
			}
		}
	}
	return out
}

func findResource(cl *scheduler.Cluster, id string) *scheduler.Resource {
	var walk func(rs []*scheduler.Resource) *scheduler.Resource
	base := id
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		base = id[:i]
	}
	walk = func(rs []*scheduler.Resource) *scheduler.Resource {
		for _, r := range rs {
			if r.ID == id || r.BaseID == base && r.Kind == cib.KindPrimitive {
				return r
			}
			if x := walk(r.Children); x != nil {
				return x
			}
		}
		return nil
	}
	return walk(cl.Resources)
}

// targetRC extracts the expected rc from a transition key
// ("action:transition:target-rc:uuid"); -1 when unknown.
func targetRC(op *cib.LRMOp) int {
	key := op.TransitionKey
	if key == "" {
		if m := op.TransitionMagic; m != "" {
			if _, rest, ok := strings.Cut(m, ";"); ok {
				key = rest
			}
		}
	}
	parts := strings.Split(key, ":")
	if len(parts) < 4 {
		return -1
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		return -1
	}
	return n
}

// Execution status codes (lrm_rsc_op op-status).
const (
	execPending      = -1
	execDone         = 0
	execCancelled    = 1
	execError        = 4
	execNotInstalled = 7
)

var execStatusText = map[int]string{
	0: "OK", 1: "Cancelled", 2: "Timed Out", 3: "Unsupported", 4: "Error",
	5: "Hard error", 6: "Fatal error", 7: "Not installed", 8: "Not connected",
	9: "Invalid", 10: "Unknown",
}

func isProbe(op *cib.LRMOp) bool { return op.Operation == "monitor" && op.Interval == 0 }

// failedOp decides whether a history entry is a failure crm_mon lists.
func failedOp(op *cib.LRMOp, node string) (FailedAction, bool) {
	if op.OpStatus == execPending || op.OpStatus == execCancelled || op.CallID < 0 && op.OpStatus == execDone {
		return FailedAction{}, false
	}
	probe := isProbe(op)
	// Masked probe failures (agent not installed / misconfigured on a
	// node it never ran on) are shown in the resource list instead.
	if probe && (op.RCCode == 5 || op.RCCode == 2 || op.OpStatus == execNotInstalled) {
		return FailedAction{}, false
	}
	// Completed and errored operations are judged against the expected
	// result (the executor's "error" may be the expected outcome).
	if op.OpStatus == execDone || op.OpStatus == execError {
		want := targetRC(op)
		switch {
		case op.RCCode == want:
			return FailedAction{}, false
		case want < 0 && op.RCCode == 0:
			return FailedAction{}, false
		case probe && (op.RCCode == 0 || op.RCCode == 7 || op.RCCode == 8):
			return FailedAction{}, false
		case op.Interval > 0 && op.RCCode == 3:
			// A recurring monitor the agent does not implement is
			// "not supported", not a failure.
			return FailedAction{}, false
		}
	}
	key := op.OperationKey
	if key == "" {
		key = op.ID
	}
	fa := FailedAction{OpKey: key, Node: node, RC: op.RCCode, OpStatus: op.OpStatus, ExitReason: op.ExitReason,
		CallID: op.CallID, LastRCChange: op.LastRCChange, ID: op.ID}
	fa.ExecTimeMS, _ = strconv.ParseInt(op.Get("exec-time"), 10, 64)
	fa.QueueTimeMS, _ = strconv.ParseInt(op.Get("queue-time"), 10, 64)
	fa.Rsc, fa.Task, fa.Interval = parseOpKey(key)
	return fa, true
}

// parseOpKey splits RSC_TASK_INTERVAL (the resource id may contain '_').
func parseOpKey(key string) (rsc, task string, interval int64) {
	i := strings.LastIndexByte(key, '_')
	if i <= 0 {
		return "unknown resource", "unknown action", 0
	}
	n, err := strconv.ParseInt(key[i+1:], 10, 64)
	if err != nil {
		return "unknown resource", "unknown action", 0
	}
	rest := key[:i]
	// Tasks that themselves contain '_' (migrate_to, migrate_from).
	for _, t := range []string{"migrate_to", "migrate_from", "notify", "start", "stop", "monitor", "promote", "demote", "reload-agent", "reload", "meta-data", "validate-all"} {
		if strings.HasSuffix(rest, "_"+t) {
			return rest[:len(rest)-len(t)-1], t, n
		}
	}
	j := strings.LastIndexByte(rest, '_')
	if j <= 0 {
		return "unknown resource", "unknown action", 0
	}
	return rest[:j], rest[j+1:], n
}

// actionText is crm_mon's name for an operation ("probe" for a one-shot
// monitor).
func actionText(task string, interval int64) string {
	if task == "monitor" && interval == 0 {
		return "probe"
	}
	return task
}

// readableInterval renders milliseconds like Pacemaker: "10s", "2m59.014s",
// "58ms", "1h".
func readableInterval(ms int64) string {
	if ms == 0 {
		return "0s"
	}
	var b strings.Builder
	const (
		sec  = 1000
		min  = 60 * sec
		hour = 60 * min
		day  = 24 * hour
	)
	if ms >= day {
		fmt.Fprintf(&b, "%dd", ms/day)
		ms %= day
	}
	if ms >= hour {
		fmt.Fprintf(&b, "%dh", ms/hour)
		ms %= hour
	}
	if ms >= min {
		fmt.Fprintf(&b, "%dm", ms/min)
		ms %= min
	}
	if ms >= sec {
		fmt.Fprintf(&b, "%d", ms/sec)
		if ms%sec != 0 {
			fmt.Fprintf(&b, ".%03d", ms%sec)
		}
		b.WriteString("s")
	} else if ms > 0 {
		if b.Len() == 0 {
			fmt.Fprintf(&b, "%dms", ms)
		} else {
			fmt.Fprintf(&b, "0.%03ds", ms)
		}
	}
	return b.String()
}

// ctime formats like C's ctime without the newline: "Thu Aug  9 18:55:40 2018".
func ctime(t time.Time) string { return t.Format("Mon Jan _2 15:04:05 2006") }

// Text returns the failed action as crm_mon's text line (without bullet).
func (f FailedAction) Text(loc *time.Location) string {
	var b strings.Builder
	b.WriteString(f.Rsc + " ")
	if f.Interval != 0 {
		b.WriteString(readableInterval(f.Interval) + "-interval ")
	}
	b.WriteString(actionText(f.Task, f.Interval) + " on " + f.Node)
	if f.OpStatus == execDone {
		fmt.Fprintf(&b, " returned '%s'", simulate.ExitText(f.RC))
		if f.ExitReason != "" {
			b.WriteString(" (" + f.ExitReason + ")")
		}
	} else {
		st, ok := execStatusText[f.OpStatus]
		if !ok {
			st = "Unknown"
		}
		b.WriteString(" could not be executed (" + st)
		if f.ExitReason != "" {
			b.WriteString(": " + f.ExitReason)
		}
		b.WriteString(")")
	}
	if f.LastRCChange > 0 {
		b.WriteString(" at " + ctime(time.Unix(f.LastRCChange, 0).In(loc)))
	}
	if f.ExecTimeMS > 0 {
		b.WriteString(" after " + readableInterval(f.ExecTimeMS))
	}
	return b.String()
}
