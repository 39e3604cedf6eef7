package digest

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
)

const sharedDir = "../../../shared/pacemaker-scheduler"

// nodeAttrs builds the attributes rules see for a node: #uname, #id, #kind,
// configured node instance attributes and transient attributes.
func nodeAttrs(ix *cib.Index, ns *cib.NodeState, now time.Time) NodeAttrs {
	a := NodeAttrs{"#uname": ns.Uname, "#id": ns.ID, "#kind": "cluster"}
	ctx := &cib.RuleContext{Now: now, NodeAttrs: map[string]string{"#uname": ns.Uname}, Index: ix}
	cib.UnpackNVSets(ns.Transient, ctx, "", a)
	if n, ok := ix.Nodes[ns.Uname]; ok {
		cib.UnpackNVSets(n.Instance, ctx, "", a)
	}
	return a
}

func recordedOf(op *cib.LRMOp) Recorded { return RecordedFromLRMOp(op) }

// expected is what a case's summary file says the 2.1.5 scheduler did.
type expected struct {
	acted   map[string]bool // "rsc node" with a non-probe resource action
	other   map[string]bool // "rsc node" and "rsc" with an action other than a recurring monitor or cancel
	monitor map[string]bool // "rsc node interval" of recurring monitors (re)created
	fenced  map[string]bool // nodes fenced by the transition
	reload  map[string]bool // "rsc node" with "Reload" in the summary
	restart map[string]bool // "rsc node" restarted due to definition change
}

func baseRsc(id string) string {
	if i := strings.LastIndexByte(id, ':'); i > 0 {
		return id[:i]
	}
	return id
}

func key(rsc, node string) string { return baseRsc(rsc) + " " + node }

func readExpected(name string) (expected, bool) {
	e := expected{map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}}
	data, err := os.ReadFile(filepath.Join(sharedDir, "summary", name+".summary"))
	if err != nil {
		return e, false
	}
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "Transition Summary"):
			section = "summary"
			continue
		case strings.HasPrefix(line, "Executing Cluster Transition"):
			section = "exec"
			continue
		case strings.HasPrefix(line, "Revised Cluster Status"):
			section = ""
		}
		f := strings.Fields(line)
		switch section {
		case "summary":
			// "* Reload     rsc     ( node )" or
			// "* Restart    rsc     ( [Role] node )  due to resource definition change"
			if len(f) < 5 || f[0] != "*" {
				continue
			}
			close := -1
			for i, w := range f {
				if w == ")" {
					close = i
					break
				}
			}
			if close < 4 {
				continue
			}
			k := key(f[2], f[close-1])
			if f[1] == "Reload" {
				e.reload[k] = true
			}
			if f[1] == "Restart" && strings.Contains(line, "due to resource definition change") {
				e.restart[k] = true
			}
		case "exec":
			if len(f) >= 3 && f[1] == "Fencing" {
				e.fenced[f[2]] = true
			}
			if len(f) < 6 || f[1] != "Resource" || f[2] != "action:" || f[4] == "monitor" {
				continue
			}
			k := key(f[3], f[len(f)-1])
			e.acted[k] = true
			if iv, ok := strings.CutPrefix(f[4], "monitor="); ok {
				e.monitor[k+" "+iv] = true
			} else if !strings.HasPrefix(f[4], "cancel=") {
				e.other[k] = true
				e.other[baseRsc(f[3])] = true
			}
		}
	}
	return e, true
}

// checkedOps returns the history entries Pacemaker's scheduler compares
// digests for: those of a resource that is active on the node (a start,
// migrate_from, promote/demote or successful monitor after the last
// successful stop), from the start onwards, that are recurring or are a
// monitor, start, promote or migrate_from.
func checkedOps(ops []*cib.LRMOp) []*cib.LRMOp {
	sorted := append([]*cib.LRMOp(nil), ops...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].CallID < sorted[j].CallID })
	start, stop, impliedMon, impliedClone := -1, -1, -1, -1
	for i, op := range sorted {
		switch {
		case op.Operation == "stop" && op.OpStatus == 0:
			stop = i
		case op.Operation == "start" || op.Operation == "migrate_from":
			start = i
		case impliedMon <= stop && op.Operation == "monitor":
			if op.RCCode == 0 || op.RCCode == 8 {
				impliedMon = i
			}
		case op.Operation == "promote" || op.Operation == "demote":
			impliedClone = i
		}
	}
	if start == -1 {
		if impliedClone != -1 {
			start = impliedClone
		} else {
			start = impliedMon
		}
	}
	if start < 0 || start < stop {
		return nil
	}
	if last := sorted[len(sorted)-1]; last.RCCode == 7 && last.Interval == 0 {
		return nil // a probe found it stopped
	}
	var out []*cib.LRMOp
	for _, op := range sorted[start:] {
		switch {
		case op.Interval > 0, op.Operation == "monitor", op.Operation == "start",
			op.Operation == "promote", op.Operation == "migrate_from":
			out = append(out, op)
		}
	}
	return out
}

type sharedStats struct {
	ops, match           int // every entry with an op-digest
	checked, checkedOK   int // entries the scheduler checks, digest equal
	restart, restartOK   int
	secure, secureOK     int
	verdicts             map[Action]int
	explained            int
	reschedules          int // monitors re-created without another action
	reloads, restarts    int // summary lines reproduced
	errors               []string
	definitionChangeRscs int
}

func loadCase(t *testing.T, path string) (*cib.CIB, Config, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	c, err := cib.Parse(data)
	if err != nil {
		t.Logf("%s: parse: %v (skipped)", path, err)
		return nil, Config{}, false
	}
	now := time.Unix(0, 0).UTC()
	if ed := c.GetAttr("execution-date"); ed != "" {
		if n, err := strconv.ParseInt(ed, 10, 64); err == nil {
			now = time.Unix(n, 0).UTC()
		}
	}
	return c, Config{CIB: &c.Config, Index: cib.NewIndex(&c.Config), Now: now}, true
}

func runSharedCase(t *testing.T, path string, st *sharedStats) {
	c, cfg, ok := loadCase(t, path)
	if !ok {
		return
	}
	name := strings.TrimSuffix(filepath.Base(path), ".xml")
	exp, _ := readExpected(name)
	verdict := map[string]Action{}
	fail := func(msg string) { st.errors = append(st.errors, name+": "+msg) }
	for _, ns := range c.Status.Nodes {
		na := nodeAttrs(cfg.Index, ns, cfg.Now)
		for _, lr := range ns.Resources {
			if r, ok := cfg.Index.Resources[baseRsc(lr.ID)]; ok && r.Type != "" && lr.Type != "" && r.Type != lr.Type {
				continue // agent changed: history is deleted, not checked
			}
			checked := map[*cib.LRMOp]bool{}
			for _, op := range checkedOps(lr.Ops) {
				checked[op] = true
			}
			for _, op := range lr.Ops {
				rec := recordedOf(op)
				if !rec.HasOpDigest {
					continue
				}
				in, err := FromCIB(cfg, na, lr.ID, op.Operation, op.Interval)
				if errors.Is(err, ErrNoResource) || errors.Is(err, ErrOrphanOp) {
					continue // not checked by Pacemaker either
				}
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				st.ops++
				if OpDigest(in) == rec.OpDigest {
					st.match++
				} else if os.Getenv("DIGEST_DEBUG") == "all" && !checked[op] {
					t.Logf("unchecked %s: %s on %s: recorded %s (fs %s) canonical %q", name, op.ID, ns.Uname, rec.OpDigest, rec.FeatureSet, Canonical(allParams(in)))
				}
				if !checked[op] {
					continue
				}
				st.checked++
				act, cmp := Check(in, rec, Options{Sanitized: true, CIBFeatureSet: c.GetAttr("crm_feature_set")})
				st.verdicts[act]++
				if cmp.All == rec.OpDigest {
					st.checkedOK++
				} else if os.Getenv("DIGEST_DEBUG") != "" {
					t.Logf("%s: %s on %s: %s vs recorded %s (fs %s) canonical %q", name, op.ID, ns.Uname, act, rec.OpDigest, rec.FeatureSet, Canonical(allParams(in)))
				}
				if rec.HasRestart {
					st.restart++
					if cmp.Restart == rec.RestartDigest {
						st.restartOK++
					} else if os.Getenv("DIGEST_DEBUG") != "" {
						t.Logf("restart %s: %s on %s: verdict %s, list %q, fs %s", name, op.ID, ns.Uname, act, rec.ForceRestart, rec.FeatureSet)
					}
				}
				if rec.HasSecure {
					st.secure++
					if cmp.Secure == rec.SecureDigest {
						st.secureOK++
					} else if os.Getenv("DIGEST_DEBUG") != "" {
						t.Logf("secure %s: %s on %s: verdict %s, list %q, fs %s, canonical %q", name, op.ID, ns.Uname, act, rec.SecureParams, rec.FeatureSet, Canonical(secureParamSet(in, rec.SecureParams, rec.HasSecureParams, rec.FeatureSet)))
					}
				}
				k := key(lr.ID, ns.Uname)
				if op.Interval > 0 && cleanHistory(lr.Ops) && exp.monitor[k+" "+strconv.FormatInt(op.Interval, 10)] && !exp.other[baseRsc(lr.ID)] && !exp.fenced[ns.Uname] {
					st.reschedules++
					if act != Reschedule {
						fail(op.ID + " on " + ns.Uname + ": Pacemaker re-creates the monitor but verdict is " + act.String())
					}
				}
				if rank(act) > rank(verdict[k]) {
					verdict[k] = act
				}
				if act != NoAction {
					if exp.acted[k] || exp.fenced[ns.Uname] {
						st.explained++
					} else {
						fail(op.ID + " on " + ns.Uname + ": " + act.String() + " (" + cmp.Result.String() + ") but Pacemaker does nothing; canonical " + strconv.Quote(Canonical(allParams(in))) + " recorded " + rec.OpDigest)
					}
				}
			}
		}
	}
	for k := range exp.reload {
		if verdict[k] == Reload {
			st.reloads++
		} else {
			fail("expected Reload of " + k + ", verdict " + verdict[k].String())
		}
	}
	for k := range exp.restart {
		st.definitionChangeRscs++
		if verdict[k] == ForceRestart || verdict[k] == Reload {
			st.restarts++
		} else {
			fail("expected definition-change restart of " + k + ", verdict " + verdict[k].String())
		}
	}
}

// TestSharedCases recomputes the digests of every lrm_rsc_op in the shared
// Pacemaker 2.1.5 scheduler inputs, compares them with the recorded ones,
// and checks the definition-change verdicts against the expected
// transitions: no restart/reload/reschedule where Pacemaker does nothing to
// the resource on that node, and every "Reload" and "Restart ... due to
// resource definition change" of the summaries reproduced.
func TestSharedCases(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedDir, "xml", "*.xml"))
	if len(files) == 0 {
		t.Skip("../shared/pacemaker-scheduler/xml is absent")
	}
	sort.Strings(files)
	st := sharedStats{verdicts: map[Action]int{}}
	for _, f := range files {
		runSharedCase(t, f, &st)
	}
	t.Logf("all entries with op-digest: %d/%d match", st.match, st.ops)
	t.Logf("entries the scheduler checks: op-digest %d/%d, restart %d/%d, secure %d/%d",
		st.checkedOK, st.checked, st.restartOK, st.restart, st.secureOK, st.secure)
	t.Logf("verdicts: %v; non-none verdicts explained by an expected action: %d", st.verdicts, st.explained)
	t.Logf("summary lines reproduced: Reload %d, definition-change Restart %d/%d; lone monitor re-creations checked: %d",
		st.reloads, st.restarts, st.definitionChangeRscs, st.reschedules)
	for _, m := range st.errors {
		t.Error(m)
	}
}

// rank orders verdicts for one resource on one node: a restart supersedes a
// reload, which supersedes monitor reschedules.
func rank(a Action) int {
	return map[Action]int{NoAction: 0, Reschedule: 1, Reload: 2, ForceRestart: 3}[a]
}

// cleanHistory reports whether every entry of a resource's history
// succeeded (probes may report "not running"), so that a re-created monitor
// can only be a reschedule.
func cleanHistory(ops []*cib.LRMOp) bool {
	for _, op := range ops {
		probe := op.Operation == "monitor" && op.Interval == 0
		ok := op.OpStatus == 0 && (op.RCCode == 0 || op.RCCode == 8 || probe && op.RCCode == 7)
		if !ok {
			return false
		}
	}
	return true
}
