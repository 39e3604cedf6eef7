package main

import (
	"strings"
	"testing"
)

const explainTestCIB = `<cib validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"><instance_attributes id="n2a"><nvpair id="n2s" name="standby" value="on"/></instance_attributes></node></nodes>
    <resources><primitive id="db" class="ocf" provider="pacemaker" type="Dummy"/></resources>
    <constraints><rsc_location id="db-likes-n2" rsc="db" node="n2" score="500"/></constraints>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>`

func TestExplainCommand(t *testing.T) {
	e, out, errb := testEnv(map[string]string{"c.xml": explainTestCIB})
	if code := dispatch(e, []string{"explain", "-x", "c.xml", "db"}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	// By hand: n2 = 0 + 500 but standby, so db starts on n1 (score 0).
	for _, want := range []string{
		"Resource db", "next: n1", "n2: 500", "+500           location constraint db-likes-n2",
		"node is standby: cannot run resources", "n1: 0  <- chosen", "start db on n1", "Start      db",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	e, out, _ = testEnv(map[string]string{"c.xml": explainTestCIB})
	if code := dispatch(e, []string{"explain", "--xml-file=c.xml", "db", "n1"}); code != exitOK || strings.Contains(out.String(), "n2:") {
		t.Errorf("node filter: exit %d\n%s", code, out)
	}
	e, _, errb = testEnv(map[string]string{"c.xml": explainTestCIB})
	if code := dispatch(e, []string{"explain", "-x", "c.xml", "nope"}); code != exitUsage || !strings.Contains(errb.String(), "no such resource") {
		t.Errorf("unknown resource: exit %d: %s", code, errb)
	}
	e, _, errb = testEnv(map[string]string{"c.xml": explainTestCIB})
	if code := dispatch(e, []string{"explain", "-x", "c.xml", "db", "n9"}); code != exitUsage || !strings.Contains(errb.String(), "no such node") {
		t.Errorf("unknown node: exit %d: %s", code, errb)
	}
}
