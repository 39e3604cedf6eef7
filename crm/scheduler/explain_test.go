package scheduler_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

// explainCIB builds a small CIB: three nodes (n3 optionally standby), the
// given resources, constraints, options and status.
func explainCIB(t *testing.T, quorum, options, resources, constraints, status string) *cib.CIB {
	t.Helper()
	return explainCIBNodes(t, `<node id="1" uname="n1"/><node id="2" uname="n2"/><node id="3" uname="n3"/>`, quorum, options, resources, constraints, status)
}

func explainCIBNodes(t *testing.T, nodes, quorum, options, resources, constraints, status string) *cib.CIB {
	t.Helper()
	if !strings.Contains(options, "stonith-enabled") {
		options = `<nvpair id="o1" name="stonith-enabled" value="false"/>` + options
	}
	x := `<cib validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0" have-quorum="` + quorum + `">
  <configuration>
    <crm_config><cluster_property_set id="o">` + options + `</cluster_property_set></crm_config>
    <nodes>` + nodes + `</nodes>
    <resources>` + resources + `</resources>
    <constraints>` + constraints + `</constraints>
  </configuration>
  <status>` + status + `</status>
</cib>`
	c, err := cib.Parse([]byte(x))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func nodeState(id, name, lrm string) string {
	return `<node_state id="` + id + `" uname="` + name + `" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="` + id + `"><lrm_resources>` + lrm + `</lrm_resources></lrm></node_state>`
}

func started(rsc string) string {
	return `<lrm_resource id="` + rsc + `" class="ocf" provider="pacemaker" type="Dummy">
  <lrm_rsc_op id="` + rsc + `_last_0" operation_key="` + rsc + `_start_0" operation="start" transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x" call-id="3" rc-code="0" op-status="0" interval="0"/>
</lrm_resource>`
}

func dummy(id, meta string) string {
	return `<primitive id="` + id + `" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="` + id + `-m">` + meta + `</meta_attributes></primitive>`
}

func explain(t *testing.T, c *cib.CIB, rsc string) *scheduler.Explanation {
	t.Helper()
	e, _, err := scheduler.Explain(c, time.Unix(1700000000, 0), rsc)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// steps renders one node's contributions as "delta reason" lines.
func steps(t *testing.T, e *scheduler.Explanation, prim, node string) (int, []string) {
	t.Helper()
	for _, p := range e.Primitives {
		if p.ID != prim {
			continue
		}
		for _, n := range p.Nodes {
			if n.Node == node {
				var out []string
				for _, s := range n.Steps {
					out = append(out, s.Delta()+" "+s.Reason)
				}
				return n.Score, out
			}
		}
	}
	t.Fatalf("no explanation for %s on %s", prim, node)
	return 0, nil
}

func assigned(t *testing.T, e *scheduler.Explanation, prim string) string {
	t.Helper()
	for _, p := range e.Primitives {
		if p.ID == prim {
			return p.Assigned
		}
	}
	t.Fatalf("no explanation for %s", prim)
	return ""
}

func wantSteps(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n got: %q\nwant: %q", got, want)
	}
}

// Stickiness 100 on n1 beats a location preference of 50 for n2: by hand,
// n1 = 0 + 100 = 100, n2 = 0 + 50 = 50, n3 = 0; the resource stays on n1.
func TestExplainStickinessBeatsLocation(t *testing.T) {
	c := explainCIB(t, "1", "",
		dummy("ip", `<nvpair id="s" name="resource-stickiness" value="100"/>`),
		`<rsc_location id="prefer-n2" rsc="ip" node="n2" score="50"/>`,
		nodeState("1", "n1", started("ip"))+nodeState("2", "n2", "")+nodeState("3", "n3", ""))
	e := explain(t, c, "ip")
	s, st := steps(t, e, "ip", "n1")
	if s != 100 {
		t.Errorf("n1 score %d, want 100", s)
	}
	wantSteps(t, st, "=0 symmetric-cluster: every node starts at its base score (0 unless the node has a score)", "+100 resource-stickiness=100: active here")
	s, st = steps(t, e, "ip", "n2")
	if s != 50 {
		t.Errorf("n2 score %d, want 50", s)
	}
	wantSteps(t, st, "=0 symmetric-cluster: every node starts at its base score (0 unless the node has a score)", "+50 location constraint prefer-n2")
	if a := assigned(t, e, "ip"); a != "n1" {
		t.Errorf("assigned %q, want n1", a)
	}
	for _, l := range e.Summary {
		// No op-digest is recorded, so Pacemaker (and we) restart in place.
		if !strings.HasPrefix(l, "Restart") {
			t.Errorf("summary %q, want ip to stay on n1", e.Summary)
		}
	}
	// With stickiness 10 the location wins: n1 = 10 < n2 = 50, ip moves.
	c = explainCIB(t, "1", "",
		dummy("ip", `<nvpair id="s" name="resource-stickiness" value="10"/>`),
		`<rsc_location id="prefer-n2" rsc="ip" node="n2" score="50"/>`,
		nodeState("1", "n1", started("ip"))+nodeState("2", "n2", "")+nodeState("3", "n3", ""))
	e = explain(t, c, "ip")
	if a := assigned(t, e, "ip"); a != "n2" {
		t.Errorf("assigned %q, want n2", a)
	}
	if len(e.Summary) != 1 || !strings.HasPrefix(e.Summary[0], "Move") {
		t.Errorf("summary %q, want one Move", e.Summary)
	}
}

// A chain web -> app -> db (each INFINITY "with"), db banned from n1 and
// preferring n3 by 10: by hand every member gets -INFINITY on n1 through the
// chain, db's +10 on n3 flows to its dependents when they are placed, and
// web ends up on n3 after colocation with app.
func TestExplainColocationChain(t *testing.T) {
	c := explainCIB(t, "1", "",
		dummy("db", "")+dummy("app", "")+dummy("web", ""),
		`<rsc_location id="db-not-n1" rsc="db" node="n1" score="-INFINITY"/>
		 <rsc_location id="db-likes-n3" rsc="db" node="n3" score="10"/>
		 <rsc_colocation id="app-with-db" rsc="app" with-rsc="db" score="INFINITY"/>
		 <rsc_colocation id="web-with-app" rsc="web" with-rsc="app" score="INFINITY"/>`,
		nodeState("1", "n1", "")+nodeState("2", "n2", "")+nodeState("3", "n3", ""))
	e := explain(t, c, "db")
	s, st := steps(t, e, "db", "n1")
	if s != -cib.Infinity {
		t.Errorf("db n1 score %d", s)
	}
	wantSteps(t, st, "=0 symmetric-cluster: every node starts at its base score (0 unless the node has a score)", "-INFINITY location constraint db-not-n1")
	if a := assigned(t, e, "db"); a != "n3" {
		t.Errorf("db assigned %q, want n3", a)
	}
	e = explain(t, c, "web")
	s, st = steps(t, e, "web", "n2")
	if s != -cib.Infinity {
		t.Errorf("web n2 score %d, want -INFINITY", s)
	}
	wantSteps(t, st, "=0 symmetric-cluster: every node starts at its base score (0 unless the node has a score)", "-INFINITY colocation web-with-app (with app, score INFINITY)")
	if a := assigned(t, e, "web"); a != "n3" {
		t.Errorf("web assigned %q, want n3", a)
	}
}

// A fail count of 3 with migration-threshold=3 bans the node: by hand n1 =
// 0 + 100 (stickiness) then -INFINITY (ban).
func TestExplainFailcountBan(t *testing.T) {
	st := `<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
  <transient_attributes id="1"><instance_attributes id="s1"><nvpair id="fc" name="fail-count-db#monitor_10000" value="3"/></instance_attributes></transient_attributes>
  <lrm id="1"><lrm_resources>` + started("db") + `</lrm_resources></lrm></node_state>`
	c := explainCIB(t, "1", "",
		dummy("db", `<nvpair id="s" name="resource-stickiness" value="100"/><nvpair id="mt" name="migration-threshold" value="3"/>`),
		"", st+nodeState("2", "n2", "")+nodeState("3", "n3", ""))
	e := explain(t, c, "db")
	s, steps := steps(t, e, "db", "n1")
	if s != -cib.Infinity {
		t.Errorf("n1 score %d", s)
	}
	wantSteps(t, steps, "=0 symmetric-cluster: every node starts at its base score (0 unless the node has a score)", "+100 resource-stickiness=100: active here",
		"-INFINITY fail count 3 of db reached migration-threshold=3")
	if a := assigned(t, e, "db"); a != "n2" {
		t.Errorf("assigned %q, want n2 (first of the equal nodes)", a)
	}
}

// Without quorum and no-quorum-policy=stop, a running resource keeps its
// scores but its start elsewhere is blocked and it is stopped: the
// explanation names the policy and the stop.
func TestExplainNoQuorum(t *testing.T) {
	c := explainCIB(t, "0", `<nvpair id="nq" name="no-quorum-policy" value="stop"/>`,
		dummy("db", ""), "",
		nodeState("1", "n1", started("db"))+nodeState("2", "n2", "")+nodeState("3", "n3", ""))
	e := explain(t, c, "db")
	if e.Quorum != "stop" {
		t.Errorf("quorum %q, want stop", e.Quorum)
	}
	if len(e.Summary) != 1 || !strings.HasPrefix(e.Summary[0], "Stop") {
		t.Errorf("summary %q, want a Stop", e.Summary)
	}
	var b strings.Builder
	e.WriteText(&b, "")
	for _, want := range []string{"no-quorum-policy=stop", "stop db on n1"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

func TestExplainStandbyAndUnknown(t *testing.T) {
	c := explainCIBNodes(t, `<node id="1" uname="n1"><instance_attributes id="n1a"><nvpair id="sb" name="standby" value="on"/></instance_attributes></node><node id="2" uname="n2"/><node id="3" uname="n3"/>`,
		"1", "", dummy("db", ""), "",
		nodeState("1", "n1", "")+nodeState("2", "n2", "")+nodeState("3", "n3", ""))
	e := explain(t, c, "db")
	var b strings.Builder
	e.WriteText(&b, "n1")
	if !strings.Contains(b.String(), "node is standby") || strings.Contains(b.String(), "n2:") {
		t.Errorf("text for n1:\n%s", b.String())
	}
	if _, _, err := scheduler.Explain(c, time.Time{}, "nope"); !errors.Is(err, scheduler.ErrUnknownResource) {
		t.Errorf("unknown resource: err %v", err)
	}
}

// shutdown-lock=true: a resource on a cleanly shutting-down node is locked
// there (banned elsewhere) and stops instead of moving; a lock recorded in
// the history of an offline node keeps it stopped until the lock expires,
// then the history is deleted (lrm_delete) and it may start elsewhere.
func TestShutdownLock(t *testing.T) {
	opts := `<nvpair id="sl" name="shutdown-lock" value="true"/><nvpair id="sll" name="shutdown-lock-limit" value="5m"/>`
	shutting := `<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
  <transient_attributes id="1"><instance_attributes id="t1"><nvpair id="sd" name="shutdown" value="1699999990"/></instance_attributes></transient_attributes>
  <lrm id="1"><lrm_resources>` + started("db") + `</lrm_resources></lrm></node_state>`
	c := explainCIB(t, "1", opts, dummy("db", ""), "", shutting+nodeState("2", "n2", "")+nodeState("3", "n3", ""))
	e := explain(t, c, "db")
	if len(e.Summary) != 1 || !strings.HasPrefix(e.Summary[0], "Stop") || !strings.Contains(e.Summary[0], "node availability") {
		t.Errorf("summary %q, want db stopped due to node availability", e.Summary)
	}
	_, st := steps(t, e, "db", "n2")
	if len(st) < 2 || !strings.Contains(st[len(st)-1], "shutdown-lock: locked to n1") {
		t.Errorf("n2 steps %q, want a shutdown-lock ban", st)
	}
	// Without the option the resource moves.
	c = explainCIB(t, "1", "", dummy("db", ""), "", shutting+nodeState("2", "n2", "")+nodeState("3", "n3", ""))
	if e := explain(t, c, "db"); len(e.Summary) != 1 || !strings.HasPrefix(e.Summary[0], "Move") {
		t.Errorf("without shutdown-lock: summary %q, want a Move", e.Summary)
	}
	// A lock in an offline node's history (read only with fencing enabled,
	// as Pacemaker skips offline nodes' histories otherwise): at 1699999900
	// (100 s before now, limit 5 min) db stays stopped; at 1699999000 the
	// lock has expired.
	opts += `<nvpair id="se" name="stonith-enabled" value="true"/>`
	fence := `<primitive id="fence" class="stonith" type="fence_dummy"/>`
	for _, tc := range []struct {
		at      string
		started bool
	}{{"1699999900", false}, {"1699999000", true}} {
		off := `<node_state id="1" uname="n1" in_ccm="false" crmd="offline" join="down" expected="down"><lrm id="1"><lrm_resources>
  <lrm_resource id="db" class="ocf" provider="pacemaker" type="Dummy" shutdown-lock="` + tc.at + `">
    <lrm_rsc_op id="db_last_0" operation_key="db_stop_0" operation="stop" transition-key="2:1:0:x" transition-magic="0:0;2:1:0:x" call-id="4" rc-code="0" op-status="0" interval="0"/>
  </lrm_resource></lrm_resources></lrm></node_state>`
		c = explainCIB(t, "1", opts, fence+dummy("db", ""), "", off+nodeState("2", "n2", "")+nodeState("3", "n3", ""))
		e, tr, err := scheduler.Explain(c, time.Unix(1700000000, 0), "db")
		if err != nil {
			t.Fatal(err)
		}
		gotStart := len(e.Summary) > 0 && strings.HasPrefix(e.Summary[len(e.Summary)-1], "Start")
		if gotStart != tc.started {
			t.Errorf("lock at %s: summary %q, started=%v want %v", tc.at, e.Summary, gotStart, tc.started)
		}
		deleted := false
		for _, a := range tr.GraphActions() {
			deleted = deleted || a.Task == "lrm_delete"
		}
		if deleted != tc.started {
			t.Errorf("lock at %s: lrm_delete scheduled=%v, want %v", tc.at, deleted, tc.started)
		}
	}
}
