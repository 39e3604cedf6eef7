package status

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/stonith/fsm"
)

// FenceLevel is crm_mon's --fence-history level: how much of the fencing
// history a status shows.
type FenceLevel int

// Fence history levels (crm_mon --fence-history=0..3).
const (
	// FenceOff shows no fencing history (crm_mon with CIB_file: a file
	// has no fencer to ask).
	FenceOff FenceLevel = iota
	// FenceFailedPending shows failed and pending fencing actions, the
	// most recent of each kind (crm_mon's default).
	FenceFailedPending
	// FenceWithSuccesses adds the successful actions, unreduced (crm_mon
	// 2.1.5 shows the same at levels 2 and 3).
	FenceWithSuccesses
	// FenceFull shows the whole history without reduction.
	FenceFull
)

// ParseFenceLevel parses a --fence-history value ("" means 2, as crm_mon
// takes the option without a value).
func ParseFenceLevel(s string) (FenceLevel, error) {
	if s == "" {
		return FenceWithSuccesses, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 3 {
		return FenceOff, fmt.Errorf("fence history level %q: %w", s, ErrBadFenceLevel)
	}
	return FenceLevel(n), nil
}

// ErrBadFenceLevel is returned by ParseFenceLevel for values outside 0-3.
var ErrBadFenceLevel = errors.New("must be 0-3")

// Pacemaker's stonith op_state values, used as XML extended-status of a
// pending event (a gocrm pending record is always executing).
const stExec = 1

// fenceActionText is crm_mon's wording for a fencing action.
func fenceActionText(a fsm.Action) string {
	switch a {
	case fsm.ActionOn:
		return "unfencing"
	case fsm.ActionOff:
		return "turning off"
	case "":
		return "fencing"
	}
	return string(a)
}

func fenceStateText(s fsm.State) string {
	switch s {
	case fsm.StateFailed:
		return "failed"
	case fsm.StateDone:
		return "successful"
	}
	return "pending"
}

func finished(r fsm.Record) bool { return r.State == fsm.StateDone || r.State == fsm.StateFailed }

// FenceTime formats a completion time as Pacemaker 2.1.5's fencing
// history does (crm_mon, stonith_admin): "2026-11-24 03:33:03Z" in UTC,
// "2026-11-24 04:33:03 +01:00" elsewhere (seconds resolution).
func FenceTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return t.Format("2006-01-02 15:04:05") + zoneSuffix(t)
}

// zoneSuffix is Pacemaker's zone notation: "Z" for UTC, " +01:00" else.
func zoneSuffix(t time.Time) string {
	_, off := t.Zone()
	if off == 0 {
		return "Z"
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf(" %c%02d:%02d", sign, off/3600, off%3600/60)
}

// SortFenceHistory orders records the way Pacemaker lists them: pending
// operations first (most recently reported first), then finished ones by
// completion time, newest first (ties keep their order). recs is not
// modified.
func SortFenceHistory(recs []fsm.Record) []fsm.Record {
	var pending, done []fsm.Record
	for _, r := range recs {
		if finished(r) {
			done = append(done, r)
		} else {
			pending = append(pending, r)
		}
	}
	for i, j := 0, len(pending)-1; i < j; i, j = i+1, j-1 {
		pending[i], pending[j] = pending[j], pending[i]
	}
	sort.SliceStable(done, func(i, j int) bool { return done[i].Completed.After(done[j].Completed) })
	return append(pending, done...)
}

// ReduceFenceHistory keeps, of a sorted history, every pending record and
// only the most recent finished record per target, action and outcome (per
// executing node for failures), as crm_mon does at --fence-history=1.
func ReduceFenceHistory(sorted []fsm.Record) []fsm.Record {
	var out []fsm.Record
	for _, r := range sorted {
		dup := false
		if finished(r) {
			for _, o := range out {
				if strings.EqualFold(o.Target, r.Target) && o.Action == r.Action && o.State == r.State &&
					(r.State == fsm.StateDone || strings.EqualFold(o.Delegate, r.Delegate)) {
					dup = true
					break
				}
			}
		}
		if !dup {
			out = append(out, r)
		}
	}
	return out
}

// laterSucceeded returns the node from which a later fencing of the same
// target and action succeeded, for a failed record at index i of sorted
// (only records listed before it can be later); "" when none did.
func laterSucceeded(sorted []fsm.Record, i int) string {
	ev := sorted[i]
	if ev.State != fsm.StateFailed {
		return ""
	}
	other := ""
	for _, p := range sorted[:i] {
		if p.State != fsm.StateDone || !strings.EqualFold(p.Target, ev.Target) || p.Action != ev.Action || !ev.Completed.Before(p.Completed) {
			continue
		}
		if ev.Delegate == "" || strings.EqualFold(ev.Delegate, p.Delegate) {
			return orSome(p.Delegate)
		}
		if other == "" {
			other = orSome(p.Delegate)
		}
	}
	return other
}

func orSome(s string) string {
	if s == "" {
		return "some node"
	}
	return s
}

// FenceDescription renders one history record like Pacemaker's status
// displays. detail selects the technical form stonith_admin prints
// ("...: delegate=n1, client=crmd, origin=n1, completed='...'"), otherwise
// the human form crm_mon prints ("... by n1 for crmd@n1 last failed at
// ..."). full is false for crm_mon's condensed lists ("last failed"). later
// is the node a later attempt succeeded from ("" when none).
func FenceDescription(r fsm.Record, full, detail bool, later string, loc *time.Location) string {
	var b strings.Builder
	completed := ""
	if finished(r) {
		completed = FenceTime(r.Completed, loc)
	}
	b.WriteString(fenceActionText(r.Action) + " of " + r.Target)
	if !detail {
		if finished(r) && r.Delegate != "" {
			b.WriteString(" by " + r.Delegate)
		}
		b.WriteString(" for " + r.Client + "@" + r.Origin)
		if !full {
			b.WriteString(" last")
		}
	}
	b.WriteString(" " + fenceStateText(r.State))
	if r.State == fsm.StateFailed && r.Error != "" {
		b.WriteString(" (" + r.Error + ")")
	}
	if detail {
		b.WriteString(": ")
		if finished(r) && r.Delegate != "" {
			b.WriteString("delegate=" + r.Delegate + ", ")
		}
		b.WriteString("client=" + r.Client + ", origin=" + r.Origin)
		if completed != "" {
			switch {
			case full:
				b.WriteString(", completed")
			case r.State == fsm.StateFailed:
				b.WriteString(", last-failed")
			default:
				b.WriteString(", last-successful")
			}
			b.WriteString("='" + completed + "'")
		}
	} else if completed != "" {
		b.WriteString(" at " + completed)
	}
	if later != "" {
		b.WriteString(" (a later attempt from " + later + " succeeded)")
	}
	return b.String()
}

// FenceDetailLines renders a history as `stonith_admin --history '*'
// --verbose` lists it: sorted, unreduced, technical form, one line per
// record.
func FenceDetailLines(recs []fsm.Record, loc *time.Location) []string {
	sorted := SortFenceHistory(recs)
	out := make([]string, 0, len(sorted))
	for i, r := range sorted {
		out = append(out, FenceDescription(r, true, true, laterSucceeded(sorted, i), loc))
	}
	return out
}

// FenceEventElement is crm_mon's and stonith_admin's XML <fence_event>.
func FenceEventElement(r fsm.Record, loc *time.Location) *cib.Element {
	e := el("fence_event", "action", string(r.Action), "target", r.Target, "client", r.Client, "origin", r.Origin)
	switch r.State {
	case fsm.StateFailed:
		e.Set("status", "failed")
		if r.Error != "" {
			e.Set("exit-reason", r.Error)
		}
	case fsm.StateDone:
		e.Set("status", "success")
	default:
		e.Set("status", "pending")
		e.Set("extended-status", strconv.Itoa(stExec))
	}
	if r.Delegate != "" {
		e.Set("delegate", r.Delegate)
	}
	if finished(r) {
		e.Set("completed", FenceTime(r.Completed, loc))
	}
	return e
}

// fenceHistory is the history as this report shows it: sorted, and
// reduced at level 1 only (crm_mon 2.1.5 lists every record at levels 2
// and 3 and in XML).
func (r *Report) fenceHistory(xml bool) []fsm.Record {
	sorted := SortFenceHistory(r.fencing)
	if r.fenceLevel == FenceFailedPending && !xml {
		return ReduceFenceHistory(sorted)
	}
	return sorted
}

// fenceTextSections returns crm_mon's fencing sections of the text
// layout: "Failed Fencing Actions" (after Failed Resource Actions) and
// either "Fencing History" (levels 2 and 3) or "Pending Fencing Actions"
// (level 1), each as a title and item lines.
func (r *Report) fenceTextSections() (failed, history []string, historyTitle string) {
	if r.fenceLevel == FenceOff {
		return nil, nil, ""
	}
	if r.fenceErr != "" {
		return []string{"Failed to get fencing history: " + r.fenceErr}, nil, ""
	}
	h := r.fenceHistory(false)
	full := r.fenceLevel >= FenceWithSuccesses
	for i, rec := range h {
		if rec.State == fsm.StateFailed {
			failed = append(failed, FenceDescription(rec, full, false, laterSucceeded(h, i), r.loc))
		}
	}
	if full {
		historyTitle = "Fencing History"
		// Listed from the first record that did not fail; later
		// successes are looked up from there, as crm_mon does.
		start := -1
		for i, rec := range h {
			if rec.State != fsm.StateFailed {
				start = i
				break
			}
		}
		if start >= 0 {
			sub := h[start:]
			for i, rec := range sub {
				if rec.State != fsm.StateFailed {
					history = append(history, FenceDescription(rec, full, false, laterSucceeded(sub, i), r.loc))
				}
			}
		}
		return failed, history, historyTitle
	}
	historyTitle = "Pending Fencing Actions"
	for _, rec := range h {
		if finished(rec) {
			break
		}
		history = append(history, FenceDescription(rec, full, false, "", r.loc))
	}
	return failed, history, historyTitle
}

// fenceElement is crm_mon's XML <fence_history>: every event (full
// history) when it could be read, a status code when it could not, nothing
// when there is no event or fencing history is off.
func (r *Report) fenceElement() *cib.Element {
	if r.fenceLevel == FenceOff {
		return nil
	}
	if r.fenceErr != "" {
		// crm_mon reports the fencer query's exit code (1: generic error).
		return el("fence_history", "status", "1")
	}
	h := r.fenceHistory(true)
	if len(h) == 0 {
		return nil
	}
	fh := el("fence_history")
	for _, rec := range h {
		fh.Children = append(fh.Children, FenceEventElement(rec, r.loc))
	}
	return fh
}

// fencingWarnings explains, for every node that must be fenced, that
// recovery waits for it and how the last attempt went (gocrm's own notice;
// crm_mon only marks the node UNCLEAN).
func (r *Report) fencingWarnings() []string {
	if !r.Cluster.StonithEnabled {
		return nil
	}
	var out []string
	sorted := SortFenceHistory(r.fencing)
	for _, n := range r.Cluster.Nodes {
		if !n.Unclean {
			continue
		}
		var rscs []string
		for _, rs := range n.Running {
			rscs = append(rscs, rs.ID)
		}
		sort.Strings(rscs)
		why := "UNCLEAN"
		if n.UncleanReason != "" {
			why += ": " + n.UncleanReason
		}
		s := fmt.Sprintf("WARNING: node %s is %s and waits for fencing", n.Name, why)
		if len(rscs) > 0 {
			s = fmt.Sprintf("WARNING: recovery of %s waits for fencing of node %s (%s)", strings.Join(rscs, ", "), n.Name, why)
		}
		for _, rec := range sorted {
			if !strings.EqualFold(rec.Target, n.Name) {
				continue
			}
			// Only the most recent record tells about this wait (a
			// success is an older fencing: the node came back since).
			switch rec.State {
			case fsm.StateFailed:
				s += fmt.Sprintf("; last %s attempt failed at %s", fenceActionText(rec.Action), FenceTime(rec.Completed, r.loc))
				if rec.Error != "" {
					s += ": " + rec.Error
				}
			case fsm.StatePending:
				s += fmt.Sprintf("; %s in progress since %s", fenceActionText(rec.Action), FenceTime(rec.Created, r.loc))
			}
			break
		}
		out = append(out, s)
	}
	return out
}
