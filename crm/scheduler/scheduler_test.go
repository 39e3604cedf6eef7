package scheduler_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

func parseCase(t *testing.T, name string) *cib.CIB {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(casesDir, name+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cib.Parse(data)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return c
}

func scheduleAt(t *testing.T, name string, now time.Time) *scheduler.Transition {
	t.Helper()
	tr, err := scheduler.Schedule(parseCase(t, name), now)
	if err != nil {
		t.Fatalf("schedule %s: %v", name, err)
	}
	return tr
}

func collapsed(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, collapse(l))
	}
	return out
}

func assignedTo(t *testing.T, tr *scheduler.Transition, rsc string) string {
	t.Helper()
	r := tr.Cluster.Resource(rsc)
	if r == nil {
		t.Fatalf("resource %s not found", rsc)
	}
	if r.Assigned == nil {
		return ""
	}
	return r.Assigned.Name
}

func score(t *testing.T, tr *scheduler.Transition, rsc, node string) int {
	t.Helper()
	for _, s := range tr.Cluster.Scores() {
		if s.Kind == "allocation" && s.Rsc == rsc && s.Node == node {
			return s.Score
		}
	}
	t.Fatalf("no allocation score for %s on %s", rsc, node)
	return 0
}

// The expectations with an explicit time were obtained from crm_simulate
// -t "<time>" on the same CIBs.
func TestInjectedClockOverridesExecutionDate(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		now  time.Time
		want []string
	}{
		// execution-date 2025-06-15: inside the rule's June range.
		{"rule-date-active", time.Time{}, []string{"Start A ( node3 )"}},
		{"rule-date-active", ts("2025-06-15T16:10:00Z"), []string{"Start A ( node3 )"}},
		// August: the date rule no longer matches, node2's +100 wins.
		{"rule-date-active", ts("2025-08-01T00:00:00Z"), []string{"Start A ( node2 )"}},
		// B's failure (2 min before execution-date) has not yet expired ...
		{"failure-timeout-expired", time.Time{}, []string{"Start A ( node1 )", "Start B ( node2 )"}},
		// ... but it has an hour later (failure-timeout=10min).
		{"failure-timeout-expired", ts("2025-06-15T16:10:00Z"), []string{"Start A ( node1 )", "Start B ( node1 )"}},
	}
	for _, tc := range tests {
		tr := scheduleAt(t, tc.name, tc.now)
		if got := collapsed(tr.Summary); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s at %v: got %q, want %q", tc.name, tc.now, got, tc.want)
		}
	}
}

func TestScoreArithmetic(t *testing.T) {
	tr := scheduleAt(t, "inf-plus-neginf", time.Time{})
	// INFINITY + -INFINITY = -INFINITY: A may not run on node1.
	if got := score(t, tr, "A", "node1"); got != -cib.Infinity {
		t.Errorf("A on node1: score %d, want -INFINITY", got)
	}
	if got := assignedTo(t, tr, "A"); got != "node2" {
		t.Errorf("A assigned to %q, want node2", got)
	}
	// INFINITY + 500 saturates at INFINITY.
	if got := score(t, tr, "B", "node3"); got != cib.Infinity {
		t.Errorf("B on node3: score %d, want INFINITY", got)
	}

	tr = scheduleAt(t, "score-sum", time.Time{})
	for node, want := range map[string]int{"node1": 50, "node2": 40, "node3": 30} {
		if got := score(t, tr, "A", node); got != want {
			t.Errorf("A on %s: score %d, want %d", node, got, want)
		}
	}
	if got := assignedTo(t, tr, "A"); got != "node1" {
		t.Errorf("A assigned to %q, want node1", got)
	}
}

func TestStickinessAgainstLocation(t *testing.T) {
	tr := scheduleAt(t, "stickiness-beats-location", time.Time{})
	// A: stickiness 200 > location 100, stays; B: 50 < 100, moves.
	if got := assignedTo(t, tr, "A"); got != "node1" {
		t.Errorf("A assigned to %q, want node1 (sticky)", got)
	}
	if got := assignedTo(t, tr, "B"); got != "node2" {
		t.Errorf("B assigned to %q, want node2", got)
	}
	if got := score(t, tr, "A", "node1"); got != 200 {
		t.Errorf("A on node1: score %d, want 200 (stickiness)", got)
	}
}

func TestColocationPullsPrimary(t *testing.T) {
	tr := scheduleAt(t, "colo-mandatory", time.Time{})
	// B (with A, INFINITY) prefers node3 by 500, more than A's own 100
	// on node2, so A is placed on node3 and B follows.
	for _, r := range []string{"A", "B"} {
		if got := assignedTo(t, tr, r); got != "node3" {
			t.Errorf("%s assigned to %q, want node3", r, got)
		}
		if got := tr.Cluster.Resource(r).NextRole; got != "Started" {
			t.Errorf("%s next role %q, want Started", r, got)
		}
	}
}

func TestTargetRoleStopped(t *testing.T) {
	tr := scheduleAt(t, "target-role-stopped", time.Time{})
	for _, r := range []string{"A", "B", "C"} {
		res := tr.Cluster.Resource(r)
		if res.Assigned != nil {
			t.Errorf("%s assigned to %s, want unassigned", r, res.Assigned.Name)
		}
		if res.NextRole != "Stopped" {
			t.Errorf("%s next role %q, want Stopped", r, res.NextRole)
		}
	}
	if got := len(tr.Cluster.Resource("A").RunningOn); got != 1 {
		t.Errorf("A running on %d nodes, want 1 (node1, before the transition)", got)
	}
}

func TestFencingAction(t *testing.T) {
	tr := scheduleAt(t, "fence-unclean", time.Time{})
	var fences []*scheduler.Action
	for _, a := range tr.GraphActions() {
		if a.Rsc == nil && a.Task == "stonith" {
			fences = append(fences, a)
		}
	}
	if len(fences) != 1 || fences[0].Node == nil || fences[0].Node.Name != "node3" || fences[0].FenceAction != "reboot" {
		t.Fatalf("fencing actions %v, want one reboot of node3", fences)
	}
	// The stop of A on the fenced node is implied by the fence: a pseudo
	// action ordered after it.
	var stop *scheduler.Action
	for _, a := range tr.GraphActions() {
		if a.Rsc != nil && a.Rsc.ID == "A" && a.Task == "stop" {
			stop = a
		}
	}
	if stop == nil || !stop.Pseudo {
		t.Fatalf("A stop on node3 = %v, want a pseudo action", stop)
	}
	found := false
	for _, in := range stop.Inputs() {
		found = found || in == fences[0]
	}
	if !found {
		t.Errorf("A stop is not ordered after the fencing of node3")
	}
}

func TestNoQuorumPolicies(t *testing.T) {
	want := map[string][]string{
		"noquorum-stop": {"Stop A ( node1 ) due to no quorum",
			"Start B ( node2 ) due to no quorum (blocked)", "Stop C ( node1 ) due to no quorum"},
		"noquorum-freeze": {"Start B ( node2 ) due to quorum freeze (blocked)", "Move C ( node1 -> node2 )"},
		"noquorum-ignore": {"Start B ( node2 )", "Move C ( node1 -> node2 )"},
	}
	for name, w := range want {
		tr := scheduleAt(t, name, time.Time{})
		if got := collapsed(tr.Summary); !reflect.DeepEqual(got, w) {
			t.Errorf("%s: got %q, want %q", name, got, w)
		}
		// Blocked actions are listed but never reach the graph.
		for _, a := range tr.GraphActions() {
			if !a.Runnable || a.Optional {
				t.Errorf("%s: graph holds %v (runnable=%v optional=%v)", name, a, a.Runnable, a.Optional)
			}
		}
	}
}

func TestScheduleIsDeterministicAndPure(t *testing.T) {
	for _, name := range []string{"clone-interleave", "fence-unclean", "group-member-fails", "order-set-require-any"} {
		c := parseCase(t, name)
		before := string(c.Marshal())
		first, err := scheduler.Schedule(c, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		second, err := scheduler.Schedule(c, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first.Summary, second.Summary) {
			t.Errorf("%s: summaries differ between runs:\n%q\n%q", name, first.Summary, second.Summary)
		}
		if a, b := graphLines(first), graphLines(second); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: graphs differ between runs", name)
		}
		if after := string(c.Marshal()); after != before {
			t.Errorf("%s: Schedule modified its input CIB", name)
		}
	}
}

func TestEmptyAndDegenerateCIBs(t *testing.T) {
	docs := map[string]string{
		"empty": `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">
  <configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>`,
		// a resource but no nodes, and a location naming an unknown
		// node: ignored, nothing to do.
		"no-nodes": `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">
  <configuration><crm_config/><nodes/>
    <resources><primitive id="A" class="ocf" provider="pacemaker" type="Dummy"/></resources>
    <constraints><rsc_location id="l2" rsc="A" node="ghost" score="10"/></constraints>
  </configuration><status/></cib>`,
	}
	for name, doc := range docs {
		c, err := cib.Parse([]byte(doc))
		if err != nil {
			t.Fatalf("%s: parse: %v", name, err)
		}
		tr, err := scheduler.Schedule(c, time.Unix(1750000000, 0))
		if err != nil {
			t.Fatalf("%s: schedule: %v", name, err)
		}
		if len(tr.Summary) != 0 || len(tr.GraphActions()) != 0 {
			t.Errorf("%s: want an empty transition, got summary %q, %d graph actions",
				name, tr.Summary, len(tr.GraphActions()))
		}
	}
}

func TestCloneInstanceNumbering(t *testing.T) {
	tr := scheduleAt(t, "clone-partial-running", time.Time{})
	// The history on node2 becomes instance 0; new instances take the
	// lowest free numbers on the remaining nodes.
	want := map[string]string{"cA:0": "node2", "cA:1": "node1", "cA:2": "node3"}
	for id, node := range want {
		if got := assignedTo(t, tr, id); got != node {
			t.Errorf("%s assigned to %q, want %s", id, got, node)
		}
	}
	if got := strings.Join(collapsed(tr.Summary), "|"); got != "Start cA:1 ( node1 )|Start cA:2 ( node3 )" {
		t.Errorf("summary %q", got)
	}
}

// TestHistoryID: actions of anonymous clone instances are named by the
// primitive's id (one history per node, as in Pacemaker's graph), and a
// history found under another id keeps it.
func TestHistoryID(t *testing.T) {
	const x = `<cib epoch="1" num_updates="0" admin_epoch="0" have-quorum="1"><configuration>
<crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources>
<clone id="anon"><primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/></clone>
<primitive id="p" class="ocf" provider="pacemaker" type="Dummy"/>
</resources><constraints/></configuration>
<status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="1"><lrm_resources>
<lrm_resource id="a:1" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="a:1_last_0" operation_key="a:1_start_0" operation="start" call-id="2" rc-code="0" op-status="0" interval="0" transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x"/></lrm_resource>
</lrm_resources></lrm></node_state>
<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/></status></cib>`
	c, err := cib.Parse([]byte(x))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := scheduler.Schedule(c, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	byNode := map[string]string{}
	for _, a := range tr.GraphActions() {
		if a.Rsc != nil && a.Task == "start" && a.Node != nil {
			byNode[a.Rsc.BaseID+"@"+a.Node.Name] = a.Rsc.HistoryID()
		}
	}
	// n2 has no history: the anonymous instance is named "a"; on n1 the
	// instance keeps the id its history was found under.
	if byNode["a@n2"] != "a" || byNode["a@n1"] != "a:1" || byNode["p@n1"]+byNode["p@n2"] != "p" {
		t.Errorf("history ids of starts: %v", byNode)
	}
	cl, err := scheduler.Unpack(c, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cl.Resources {
		for _, inst := range r.Children {
			if inst.BaseID == "a" && len(inst.RunningOn) == 1 && inst.HistoryID() != "a:1" {
				t.Errorf("instance found under a:1 on n1 named %s", inst.HistoryID())
			}
		}
	}
}
