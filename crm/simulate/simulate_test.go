package simulate

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
)

// cibXML assembles a small CIB document.
func cibXML(props, nodes, resources, constraints, status string) string {
	return fmt.Sprintf(`<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="n1">
  <configuration>
    <crm_config><cluster_property_set id="opts">%s</cluster_property_set></crm_config>
    <nodes>%s</nodes>
    <resources>%s</resources>
    <constraints>%s</constraints>
  </configuration>
  <status>%s</status>
</cib>`, props, nodes, resources, constraints, status)
}

const noStonith = `<nvpair id="o1" name="stonith-enabled" value="false"/>`

func twoNodes() string {
	return `<node id="n1" uname="node1"/><node id="n2" uname="node2"/>`
}

func upState(id, name, lrm string) string {
	return fmt.Sprintf(`<node_state id="%s" uname="%s" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="%s"><lrm_resources>%s</lrm_resources></lrm></node_state>`, id, name, id, lrm)
}

func dummy(id, extra string) string {
	return fmt.Sprintf(`<primitive id="%s" class="ocf" provider="pacemaker" type="Dummy">%s</primitive>`, id, extra)
}

// history records one operation of a Dummy resource.
func history(rsc, op string, call, rc, target int) string {
	return fmt.Sprintf(`<lrm_resource id="%s" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="%s_last_0" operation_key="%s_%s_0" operation="%s" transition-key="1:1:%d:x" transition-magic="0:%d;1:1:%d:x" call-id="%d" rc-code="%d" op-status="0" interval="0" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource>`,
		rsc, rsc, rsc, op, op, target, rc, target, call, rc)
}

func parse(t *testing.T, doc string) *cib.CIB {
	t.Helper()
	c, err := cib.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}

func simulateText(t *testing.T, c *cib.CIB, opts Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Run(&b, c, opts); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return b.String()
}

func wantLines(t *testing.T, got string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(got, l+"\n") {
			t.Errorf("output lacks line %q:\n%s", l, got)
		}
	}
}

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestNodeListVariants(t *testing.T) {
	nodes := `<node id="n1" uname="node1"/><node id="n2" uname="node2"><instance_attributes id="n2a"><nvpair id="n2s" name="standby" value="on"/></instance_attributes></node>
<node id="n3" uname="node3"/><node id="n4" uname="node4"><instance_attributes id="n4a"><nvpair id="n4m" name="maintenance" value="true"/></instance_attributes></node>
<node id="n10" uname="node10"><instance_attributes id="n10a"><nvpair id="n10s" name="standby" value="on"/></instance_attributes></node>`
	status := upState("n1", "node1", "") + upState("n2", "node2", "") + upState("n4", "node4", "")
	c := parse(t, cibXML(noStonith, nodes, "", "", status))
	got := simulateText(t, c, Options{Now: fixedNow})
	wantLines(t, got,
		"Current cluster status:",
		"  * Node List:",
		"    * Node node2: standby",
		"    * Node node4: maintenance",
		"    * Online: [ node1 ]",
		// node10 has no node_state: its configured standby is not shown.
		"    * OFFLINE: [ node3 node10 ]",
		"  * Full List of Resources:",
		"    * No resources",
	)
	if strings.Contains(got, "Transition Summary") {
		t.Errorf("status-only mode printed a transition:\n%s", got)
	}
}

func TestUncleanNodeWithStonith(t *testing.T) {
	props := `<nvpair id="o1" name="stonith-enabled" value="true"/>`
	res := `<primitive id="fence" class="stonith" type="fence_dummy"/>` + dummy("rsc1", "")
	status := upState("n1", "node1", history("fence", "start", 2, 0, 0)) +
		`<node_state id="n2" uname="node2" in_ccm="false" crmd="offline" join="down" expected="member"><lrm id="n2"><lrm_resources>` +
		history("rsc1", "start", 3, 0, 0) + `</lrm_resources></lrm></node_state>`
	c := parse(t, cibXML(props, twoNodes(), res, "", status))
	got := simulateText(t, c, Options{Mode: ModeSimulate, Now: fixedNow})
	wantLines(t, got,
		"    * Node node2: UNCLEAN (offline)",
		"    * rsc1\t(ocf:pacemaker:Dummy):\t Started node2 (UNCLEAN)",
		"    * fence\t(stonith:fence_dummy):\t Started node1",
		"  * Fencing node2 (reboot)",
		"Revised Cluster Status:",
		"    * OFFLINE: [ node2 ]",
		"    * rsc1\t(ocf:pacemaker:Dummy):\t Started node1",
	)
}

func TestSimulateStart(t *testing.T) {
	res := dummy("rsc1", `<operations><op id="rsc1-mon" name="monitor" interval="10s"/></operations>`)
	status := upState("n1", "node1", "") + upState("n2", "node2", "")
	c := parse(t, cibXML(noStonith, twoNodes(), res, "", status))
	before := string(c.Marshal())
	got := simulateText(t, c, Options{Mode: ModeSimulate, Now: fixedNow})
	wantLines(t, got,
		"    * rsc1\t(ocf:pacemaker:Dummy):\t Stopped",
		"Transition Summary:",
		"Executing Cluster Transition:",
		"  * Resource action: rsc1            monitor on node2",
		"  * Resource action: rsc1            monitor on node1",
		"  * Resource action: rsc1            start on node1",
		"  * Resource action: rsc1            monitor=10000 on node1",
		"Revised Cluster Status:",
		"    * rsc1\t(ocf:pacemaker:Dummy):\t Started node1",
	)
	// Probes run before the start, the recurring monitor after it.
	iProbe := strings.Index(got, "monitor on node1")
	iStart := strings.Index(got, "start on node1")
	iMon := strings.Index(got, "monitor=10000 on node1")
	if !(iProbe < iStart && iStart < iMon) {
		t.Errorf("wrong execution order:\n%s", got)
	}
	if string(c.Marshal()) != before {
		t.Error("Run modified the input CIB")
	}
}

func TestGroupCloneAndFlags(t *testing.T) {
	res := `<group id="g1">` + dummy("a", "") + dummy("b", `<meta_attributes id="bm"><nvpair id="bm1" name="target-role" value="Stopped"/></meta_attributes>`) + `</group>` +
		`<clone id="c1">` + dummy("cl", "") + `</clone>` +
		`<clone id="p1"><meta_attributes id="pm"><nvpair id="pm1" name="promotable" value="true"/></meta_attributes>` +
		`<primitive id="st" class="ocf" provider="pacemaker" type="Stateful"/></clone>` +
		dummy("u", `<meta_attributes id="um"><nvpair id="um1" name="is-managed" value="false"/></meta_attributes>`)
	stateful := func(role string, call int) string {
		op, rc := "start", 0
		if role == "Promoted" {
			op, rc = "promote", 0
		}
		return fmt.Sprintf(`<lrm_resource id="st" class="ocf" provider="pacemaker" type="Stateful"><lrm_rsc_op id="st_last_0" operation_key="st_%s_0" operation="%s" transition-key="1:1:0:x" transition-magic="0:%d;1:1:0:x" call-id="%d" rc-code="%d" op-status="0" interval="0"/></lrm_resource>`, op, op, rc, call, rc)
	}
	status := upState("n1", "node1", history("a", "start", 2, 0, 0)+history("cl", "start", 3, 0, 0)+stateful("Promoted", 4)+history("u", "start", 5, 0, 0)) +
		upState("n2", "node2", history("cl", "start", 2, 0, 0)+stateful("Started", 3)+history("b", "monitor", 4, 1, 7))
	c := parse(t, cibXML(noStonith, twoNodes(), res, "", status))
	got := simulateText(t, c, Options{Now: fixedNow})
	wantLines(t, got,
		"    * Resource Group: g1:",
		"      * a\t(ocf:pacemaker:Dummy):\t Started node1",
		"      * b\t(ocf:pacemaker:Dummy):\t FAILED node2 (disabled)",
		"    * Clone Set: c1 [cl]:",
		"      * Started: [ node1 node2 ]",
		"    * Clone Set: p1 [st] (promotable):",
		"      * Promoted: [ node1 ]",
		"      * Unpromoted: [ node2 ]",
		"    * u\t(ocf:pacemaker:Dummy):\t Started node1 (unmanaged)",
	)
	if !strings.Contains(got, "\n1 of 7 resource instances DISABLED and 0 BLOCKED from further action due to failure\n\nCurrent cluster status:\n") {
		t.Errorf("missing or wrong DISABLED notice:\n%s", got)
	}
}

func TestCloneStoppedList(t *testing.T) {
	nodes := twoNodes() + `<node id="n3" uname="node3"/>`
	res := `<clone id="c1">` + dummy("cl", "") + `</clone>`
	status := upState("n1", "node1", history("cl", "start", 2, 0, 0)) + upState("n2", "node2", "")
	c := parse(t, cibXML(noStonith, nodes, res, "", status))
	got := simulateText(t, c, Options{Now: fixedNow})
	wantLines(t, got,
		"    * Clone Set: c1 [cl]:",
		"      * Started: [ node1 ]",
		"      * Stopped: [ node2 node3 ]",
	)
}

func TestExecutionDateAndQuiet(t *testing.T) {
	doc := strings.Replace(cibXML(noStonith, twoNodes(), dummy("rsc1", ""), "", upState("n1", "node1", "")+upState("n2", "node2", "")),
		`dc-uuid="n1"`, `dc-uuid="n1" execution-date="1600000000"`, 1)
	c := parse(t, doc)
	got := simulateText(t, c, Options{Mode: ModeSimulate})
	if !strings.HasPrefix(got, "Using the original execution date of: 2020-09-13 12:26:40Z\n") {
		t.Errorf("missing execution date:\n%s", got)
	}
	if n := strings.Count(got, "Using the original execution date"); n != 2 {
		t.Errorf("execution date printed %d times, want 2", n)
	}
	got = simulateText(t, c, Options{Mode: ModeSimulate, Now: fixedNow})
	if !strings.HasPrefix(got, "Setting effective cluster time: 2026-01-02 03:04:05\n") {
		t.Errorf("missing effective time:\n%s", got)
	}
	got = simulateText(t, c, Options{Mode: ModeSimulate, Now: fixedNow, Quiet: true})
	if strings.Contains(got, "Current cluster status") || strings.Contains(got, "Revised") {
		t.Errorf("quiet output shows status:\n%s", got)
	}
}

func TestNoCIB(t *testing.T) {
	if err := Run(&bytes.Buffer{}, nil, Options{}); !errors.Is(err, ErrNoCIB) {
		t.Fatalf("Run(nil) = %v, want ErrNoCIB", err)
	}
}

func TestXMLOutput(t *testing.T) {
	res := dummy("rsc1", "")
	status := upState("n1", "node1", "") + upState("n2", "node2", "")
	c := parse(t, cibXML(noStonith, twoNodes(), res, "", status))
	r, err := Simulate(c, Options{Mode: ModeSimulate, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteXML(&b, r, Options{Mode: ModeSimulate}, "crm simulate -S"); err != nil {
		t.Fatal(err)
	}
	// Options.XML keeps the current status before scheduling; without it
	// WriteXML unpacks the CIB again. Both give the same document.
	r2, err := Simulate(c, Options{Mode: ModeSimulate, Now: fixedNow, XML: true})
	if err != nil {
		t.Fatal(err)
	}
	var b2 bytes.Buffer
	if err := WriteXML(&b2, r2, Options{Mode: ModeSimulate, XML: true}, "crm simulate -S"); err != nil {
		t.Fatal(err)
	}
	if b.String() != b2.String() {
		t.Fatalf("XML differs with Options.XML:\n%s\n---\n%s", b.String(), b2.String())
	}
	root, err := cib.ParseElement(b.Bytes())
	if err != nil {
		t.Fatalf("output is not XML: %v\n%s", err, b.String())
	}
	if root.Name != "pacemaker-result" || root.Child("cluster_status") == nil || root.Child("revised_cluster_status") == nil {
		t.Fatalf("unexpected document:\n%s", b.String())
	}
	acts := root.Child("actions")
	if acts == nil || len(acts.Children) != 1 || acts.Children[0].Get("action") != "start" || acts.Children[0].Get("node") != "node1" {
		t.Errorf("actions = %v", acts)
	}
	tr := root.Child("transition")
	if tr == nil || len(tr.Children) != 3 || tr.Children[2].Get("op") != "start" {
		t.Errorf("transition = %v", tr)
	}
	rev := root.Child("revised_cluster_status").Child("resources")
	if rev == nil || rev.Children[0].Get("role") != "Started" {
		t.Errorf("revised resources = %v", rev)
	}
}

func TestSummaryXMLParsing(t *testing.T) {
	cases := []struct {
		line  string
		attrs map[string]string
	}{
		{"Move       rsc1    ( node1 -> node2 )", map[string]string{"action": "move", "resource": "rsc1", "source": "node1", "dest": "node2"}},
		{"Stop       member2b     ( node1 )  due to node availability", map[string]string{"action": "stop", "node": "node1", "reason": "node availability"}},
		{"Promote    state1:0   ( Unpromoted -> Promoted sle12sp2-2 )", map[string]string{"role": "Unpromoted", "next-role": "Promoted", "source": "sle12sp2-2"}},
		{"Start      ClusterIP2     ( fc16-builder )  due to unrunnable ClusterIP start (blocked)", map[string]string{"reason": "unrunnable ClusterIP start", "blocked": "true"}},
		{"Restart    rsc2    ( node1 )  due to required rsc1 start", map[string]string{"action": "restart", "source": "node1", "reason": "required rsc1 start"}},
		{"Stop       drbd1:0       ( Promoted dktest2sles10 )  due to node availability", map[string]string{"role": "Promoted", "node": "dktest2sles10"}},
		{"Move       x   ( Promoted n1 -> Unpromoted n2 )", map[string]string{"role": "Promoted", "source": "n1", "next-role": "Unpromoted", "dest": "n2"}},
		{"Fence (reboot) node1 'peer is no longer part of the cluster'", map[string]string{"task": "Fence (reboot)", "node": "node1", "reason": "peer is no longer part of the cluster"}},
	}
	for _, tc := range cases {
		e := summaryXML(tc.line)
		for k, v := range tc.attrs {
			if got := e.Get(k); got != v {
				t.Errorf("%q: %s = %q, want %q", tc.line, k, got, v)
			}
		}
	}
}

func TestNaturalSort(t *testing.T) {
	names := []string{"node10", "node2", "Node1", "alpha"}
	sortNatural(names)
	if got := strings.Join(names, " "); got != "alpha Node1 node2 node10" {
		t.Errorf("sortNatural = %q", got)
	}
}

func TestPadSummary(t *testing.T) {
	in := []string{
		"Recover rsc4 ( node1 )",
		"Restart rsc5 ( node1 )  due to required rsc4 start",
		"Move rsc6 ( node1 -> node2 )",
		"Start child_rsc1 ( node2 )",
		"Fence (reboot) node3 'node is unclean'",
	}
	want := []string{
		"Recover    rsc4           (          node1 )",
		"Restart    rsc5           (          node1 )  due to required rsc4 start",
		"Move       rsc6           ( node1 -> node2 )",
		"Start      child_rsc1     (          node2 )",
		"Fence (reboot) node3 'node is unclean'",
	}
	got := padSummary(in)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
}

func TestPlainScoresOutput(t *testing.T) {
	res := `<group id="g1">` + dummy("a", "") + `</group>`
	status := upState("n1", "node1", "") + upState("n2", "node2", "")
	c := parse(t, cibXML(noStonith, twoNodes(), res, "", status))
	opts := Options{Mode: ModeSimulate, Now: fixedNow, ShowScores: true}
	got := simulateText(t, c, opts)
	for _, bad := range []string{"Current cluster status:", "* ", "Node List:", "Resource Group:", "Transition Summary:", "Online:"} {
		if strings.Contains(got, bad) {
			t.Errorf("plain output contains %q:\n%s", bad, got)
		}
	}
	wantLines(t, got,
		"[ node1 node2 ]",
		"a\t(ocf:pacemaker:Dummy):\t Stopped",
		"Resource action: a               start on node1",
		"a\t(ocf:pacemaker:Dummy):\t Started node1",
	)
	if !strings.Contains(got, "allocation score on node1: ") {
		t.Errorf("no allocation scores:\n%s", got)
	}
	quiet := simulateText(t, c, Options{Mode: ModeRun, Now: fixedNow, ShowScores: true, Quiet: true})
	for _, l := range strings.Split(strings.TrimSpace(quiet), "\n") {
		if !strings.Contains(l, " score on ") {
			t.Errorf("quiet score output has non-score line %q", l)
		}
	}
}
