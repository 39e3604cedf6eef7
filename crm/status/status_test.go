package status

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
)

const sampleCIB = `<cib epoch="3" num_updates="1" admin_epoch="0" have-quorum="1" dc-uuid="1" cib-last-written="Fri Jul 13 13:50:59 2012" update-user="root" update-client="cibadmin" update-origin="node1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
      <nvpair id="o2" name="dc-version" value="2.1.5-1"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="rsc1" class="ocf" provider="pacemaker" type="Dummy"/>
      <group id="grp">
        <primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>
        <primitive id="b" class="ocf" provider="pacemaker" type="Dummy"/>
      </group>
    </resources>
    <constraints>
      <rsc_location id="cli-prefer-rsc1" rsc="rsc1" role="Started" node="node2" score="INFINITY"/>
      <rsc_location id="cli-ban-a-on-node1" rsc="a" role="Started" node="node1" score="-INFINITY"/>
    </constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources>
        <lrm_resource id="rsc1" class="ocf" provider="pacemaker" type="Dummy">
          <lrm_rsc_op id="rsc1_last_0" operation_key="rsc1_start_0" operation="start" transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x" call-id="2" rc-code="0" op-status="0" interval="0"/>
          <lrm_rsc_op id="rsc1_monitor_10000" operation_key="rsc1_monitor_10000" operation="monitor" transition-key="2:1:0:x" transition-magic="0:7;2:1:0:x" call-id="3" rc-code="7" op-status="0" interval="10000" last-rc-change="1000000000" exec-time="2500"/>
          <lrm_rsc_op id="rsc1_last_failure_0" operation_key="rsc1_monitor_10000" operation="monitor" transition-key="2:1:0:x" transition-magic="0:7;2:1:0:x" call-id="3" rc-code="7" op-status="0" interval="10000" last-rc-change="1000000000" exec-time="2500"/>
        </lrm_resource>
        <lrm_resource id="a" class="ocf" provider="pacemaker" type="Dummy">
          <lrm_rsc_op id="a_last_0" operation_key="a_monitor_0" operation="monitor" transition-key="1:1:7:x" transition-magic="0:7;1:1:7:x" call-id="1" rc-code="7" op-status="0" interval="0"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>`

func build(t *testing.T) *Report {
	t.Helper()
	c, err := cib.Parse([]byte(sampleCIB))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(c, Options{Now: time.Unix(1000000100, 0), Request: "crm status"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTextLayout(t *testing.T) {
	r := build(t)
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Cluster Summary:\n",
		"  * Current DC: node1 (version 2.1.5-1) - partition with quorum\n",
		"  * Last change:  Fri Jul 13 13:50:59 2012 by root via cibadmin on node1\n",
		"  * 2 nodes configured\n",
		"  * 3 resource instances configured\n",
		"cli-prefer-rsc1",
		"cli-ban-a-on-node1",
		"WARNING: stonith-enabled=false",
		"\nNode List:\n  * Online: [ node1 node2 ]\n",
		"\nFull List of Resources:\n",
		"  * Resource Group: grp:\n",
		"\nFailed Resource Actions:\n  * rsc1 10s-interval monitor on node1 returned 'not running' at Sun Sep  9 01:46:40 2001 after 2.500s\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// The last-failure record repeats the monitor failure: listed once.
	if n := strings.Count(out, "10s-interval monitor"); n != 1 {
		t.Errorf("failure listed %d times, want 1", n)
	}
	// The probe that found a stopped also-expected result is no failure.
	if strings.Contains(out, "a probe") {
		t.Errorf("expected probe result listed as failure:\n%s", out)
	}
}

func TestXMLAndJSON(t *testing.T) {
	r := build(t)
	var b bytes.Buffer
	if err := r.WriteXML(&b); err != nil {
		t.Fatal(err)
	}
	root, err := cib.ParseElement(b.Bytes())
	if err != nil {
		t.Fatalf("XML does not parse: %v\n%s", err, b.String())
	}
	if root.Name != "pacemaker-result" || root.Get("request") != "crm status" {
		t.Errorf("root = <%s request=%q>", root.Name, root.Get("request"))
	}
	for _, name := range []string{"summary", "nodes", "resources", "node_history", "failures", "status"} {
		if root.Child(name) == nil {
			t.Errorf("missing <%s>", name)
		}
	}
	dc := root.Child("summary").Child("current_dc")
	if dc == nil || dc.Get("name") != "node1" || dc.Get("with_quorum") != "true" {
		t.Errorf("current_dc = %v", dc)
	}
	n1 := root.Child("nodes").Children[0]
	for k, v := range map[string]string{"name": "node1", "online": "true", "is_dc": "true", "resources_running": "1", "type": "member"} {
		if n1.Get(k) != v {
			t.Errorf("node1 %s=%q, want %q", k, n1.Get(k), v)
		}
	}
	f := root.Child("failures").Children[0]
	if f.Get("op_key") != "rsc1_monitor_10000" || f.Get("exitstatus") != "not running" || f.Get("status") != "complete" || f.Get("exec") != "2500" {
		t.Errorf("failure = %s", f)
	}
	if b := root.Child("bans"); b == nil || len(b.Children) != 1 || b.Children[0].Get("id") != "cli-ban-a-on-node1" || b.Children[0].Get("weight") != "-1000000" {
		t.Errorf("bans = %v", b)
	}
	if root.Child("status").Get("code") != "0" {
		t.Error("status code")
	}
	b.Reset()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	res := doc["pacemaker-result"]
	if res == nil || res["nodes"] == nil || res["summary"] == nil {
		t.Errorf("JSON lacks nodes/summary: %s", b.String())
	}
}

func TestNoStonithWarningWhenEnabled(t *testing.T) {
	doc := strings.Replace(sampleCIB, `value="false"`, `value="true"`, 1)
	c, err := cib.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(c, Options{Now: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range r.Warnings {
		if strings.Contains(w, "stonith") {
			t.Errorf("unexpected warning %q", w)
		}
	}
	if len(r.Warnings) != 2 {
		t.Errorf("warnings = %q, want the two cli- constraints", r.Warnings)
	}
}

func TestReadableInterval(t *testing.T) {
	for ms, want := range map[int64]string{10000: "10s", 58: "58ms", 30160: "30.160s", 179014: "2m59.014s", 3600000: "1h", 90000: "1m30s", 15001: "15.001s"} {
		if got := readableInterval(ms); got != want {
			t.Errorf("readableInterval(%d) = %q, want %q", ms, got, want)
		}
	}
}

func TestParseOpKey(t *testing.T) {
	for key, want := range map[string][3]string{
		"rsc1_monitor_10000":        {"rsc1", "monitor", "10000"},
		"my_rsc_start_0":            {"my_rsc", "start", "0"},
		"vm_migrate_to_0":           {"vm", "migrate_to", "0"},
		"dolly-dollies-0_monitor_0": {"dolly-dollies-0", "monitor", "0"},
		"garbage":                   {"unknown resource", "unknown action", "0"},
	} {
		rsc, task, iv := parseOpKey(key)
		if rsc != want[0] || task != want[1] || strconv.FormatInt(iv, 10) != want[2] {
			t.Errorf("parseOpKey(%q) = %q %q %d", key, rsc, task, iv)
		}
	}
}

func TestNoCIB(t *testing.T) {
	if _, err := Build(nil, Options{}); err != ErrNoCIB {
		t.Errorf("err = %v", err)
	}
}

// TestStorageErrorWarning: a node whose data directory refuses writes
// (crmd sets the transient attribute) is named in the warnings, in text and
// in the structured report.
func TestStorageErrorWarning(t *testing.T) {
	doc := strings.Replace(sampleCIB, `<node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member"/>`,
		`<node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="2"><instance_attributes id="status-2">
        <nvpair id="status-2-se" name="gocrm-storage-error" value="/var/lib/gocrm: no space left on device"/>
      </instance_attributes></transient_attributes>
    </node_state>`, 1)
	c, err := cib.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(c, Options{Now: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	want := "WARNING: node node2 cannot write its data directory: /var/lib/gocrm: no space left on device"
	found := false
	for _, w := range r.Warnings {
		if w == want {
			found = true
		}
		if strings.Contains(w, "node1 cannot write") {
			t.Errorf("healthy node1 reported: %q", w)
		}
	}
	if !found {
		t.Errorf("warnings = %q, want %q", r.Warnings, want)
	}
}
