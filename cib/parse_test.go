package cib

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const minimalCIB = `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config/>
    <nodes/>
    <resources/>
    <constraints/>
  </configuration>
  <status/>
</cib>
`

// richCIB exercises every part of the typed model.
const richCIB = `<?xml version="1.0"?>
<!-- a comment that is dropped -->
<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="7" num_updates="3" admin_epoch="0" have-quorum="1" dc-uuid="1" execution-date="1700000000">
  <configuration>
    <crm_config>
      <cluster_property_set id="opts">
        <nvpair id="opts-stonith" name="stonith-enabled" value="false"/>
        <nvpair id="opts-empty" name="placeholder" value=""/>
        <nvpair id="opts-novalue" name="novalue"/>
      </cluster_property_set>
      <cluster_property_set id="opts-night" score="10">
        <rule id="opts-night-rule" boolean-op="or">
          <date_expression id="opts-night-hours" operation="date_spec">
            <date_spec id="opts-night-spec" hours="0-6" weekdays="1-5"/>
          </date_expression>
          <date_expression id="opts-night-window" operation="in_range" start="2024-01-01">
            <duration id="opts-night-duration" days="2" hours="3"/>
          </date_expression>
        </rule>
        <nvpair id="opts-night-batch" name="batch-limit" value="5"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="n1" type="member" description="first &amp; best">
        <instance_attributes id="n1-attrs">
          <nvpair id="n1-site" name="site" value="east"/>
        </instance_attributes>
        <utilization id="n1-util">
          <nvpair id="n1-cpu" name="cpu" value="8"/>
        </utilization>
      </node>
      <node id="2" uname="n2"/>
    </nodes>
    <resources>
      <template id="tpl" class="ocf" provider="heartbeat" type="apache">
        <operations>
          <op id="tpl-mon" name="monitor" interval="30s" timeout="20s"/>
        </operations>
      </template>
      <primitive id="web" template="tpl">
        <instance_attributes id="web-params">
          <nvpair id="web-conf" name="configfile" value="/etc/a&lt;b&gt;.conf"/>
        </instance_attributes>
      </primitive>
      <primitive id="fence" class="stonith" type="fence_dummy"/>
      <group id="g" description="a group">
        <meta_attributes id="g-meta">
          <nvpair id="g-ordered" name="ordered" value="true"/>
        </meta_attributes>
        <primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2">
          <instance_attributes id="ip-params">
            <nvpair id="ip-ip" name="ip" value="192.0.2.5"/>
          </instance_attributes>
          <operations id="ip-ops">
            <op id="ip-start" name="start" interval="0" timeout="20s" on-fail="restart" requires="fencing"/>
            <op id="ip-mon" name="monitor" interval="10s" role="Started" enabled="true" start-delay="1s" interval-origin="00:00" record-pending="true" description="watch">
              <meta_attributes id="ip-mon-meta">
                <nvpair id="ip-mon-depth" name="OCF_CHECK_LEVEL" value="10"/>
              </meta_attributes>
              <instance_attributes id="ip-mon-inst">
                <nvpair id="ip-mon-x" name="x" value="1"/>
              </instance_attributes>
            </op>
            <op id="ip-mon2" id-ref="ip-mon"/>
          </operations>
          <utilization id="ip-util">
            <nvpair id="ip-util-cpu" name="cpu" value="1"/>
          </utilization>
        </primitive>
        <primitive id="svc" class="systemd" type="nginx" custom-attr="kept"/>
      </group>
      <clone id="ping-clone">
        <meta_attributes id="ping-clone-meta">
          <nvpair id="ping-clone-max" name="clone-max" value="2"/>
        </meta_attributes>
        <primitive id="ping" class="ocf" provider="pacemaker" type="ping"/>
      </clone>
      <master id="ms">
        <primitive id="stateful" class="ocf" provider="pacemaker" type="Stateful"/>
      </master>
      <clone id="grp-clone">
        <group id="cg">
          <primitive id="cg-a" class="ocf" provider="pacemaker" type="Dummy"/>
        </group>
      </clone>
      <bundle id="bun">
        <docker image="img" replicas="2"/>
        <network control-port="3121"/>
      </bundle>
    </resources>
    <constraints>
      <rsc_location id="loc-node" rsc="web" node="n1" score="100"/>
      <rsc_location id="loc-rule" rsc="g" role="Started" resource-discovery="exclusive">
        <rule id="loc-rule-r" score="-INFINITY" boolean-op="and">
          <expression id="loc-rule-e1" attribute="site" operation="ne" value="east"/>
          <expression id="loc-rule-e2" attribute="cpu" operation="gt" value="4" type="integer" value-source="literal"/>
          <rule id="loc-rule-nested" score-attribute="pref" boolean-op="or">
            <expression id="loc-rule-e3" attribute="#uname" operation="defined"/>
            <rsc_expression id="loc-rule-rsc" class="ocf" provider="heartbeat" type="IPaddr2"/>
            <op_expression id="loc-rule-op" name="monitor" interval="10s"/>
          </rule>
        </rule>
      </rsc_location>
      <rsc_location id="loc-pattern" rsc-pattern="^p.*" node="n2" score="-INFINITY"/>
      <rsc_location id="loc-set" node="n2" score="5">
        <resource_set id="loc-set-s">
          <resource_ref id="fence"/>
        </resource_set>
      </rsc_location>
      <rsc_location id="loc-ref" rsc="fence">
        <rule id-ref="loc-rule-r"/>
      </rsc_location>
      <rsc_colocation id="col" rsc="g" with-rsc="ping-clone" score="INFINITY" rsc-role="Started" with-rsc-role="Started" node-attribute="site" influence="false"/>
      <rsc_colocation id="col-set" score="500">
        <resource_set id="col-set-a" sequential="false" role="Promoted">
          <resource_ref id="ms"/>
        </resource_set>
        <resource_set id="col-set-b">
          <resource_ref id="web"/>
          <resource_ref id="g"/>
        </resource_set>
      </rsc_colocation>
      <rsc_order id="ord" first="ping-clone" then="g" first-action="start" then-action="start" kind="Mandatory" symmetrical="true"/>
      <rsc_order id="ord-opt" first="web" then="fence" kind="Optional" score="0"/>
      <rsc_order id="ord-set" kind="Serialize" require-all="false">
        <resource_set id="ord-set-a" require-all="false" ordering="group" action="start" kind="Optional">
          <resource_ref id="web"/>
          <resource_ref id="svc"/>
        </resource_set>
      </rsc_order>
      <rsc_order id="ord-tag" first="webtag" then="fence"/>
      <rsc_ticket id="tkt" rsc="web" ticket="T1" loss-policy="stop"/>
    </constraints>
    <fencing-topology id="ft">
      <fencing-level id="fl1" target="n1" index="1" devices="fence"/>
      <fencing-level id="fl2" target-pattern="n[0-9]" index="2" devices="fence,fence"/>
      <fencing-level id="fl3" target-attribute="site" target-value="east" index="3" devices="fence"/>
    </fencing-topology>
    <rsc_defaults id="rd">
      <meta_attributes id="rd-meta">
        <nvpair id="rd-stick" name="resource-stickiness" value="1"/>
      </meta_attributes>
    </rsc_defaults>
    <op_defaults>
      <meta_attributes id="od-meta" score="2">
        <nvpair id="od-timeout" name="timeout" value="30s"/>
      </meta_attributes>
    </op_defaults>
    <tags>
      <tag id="webtag">
        <obj_ref id="web"/>
        <obj_ref id="g"/>
      </tag>
    </tags>
    <acls>
      <acl_target id="alice">
        <role id="ro"/>
      </acl_target>
      <acl_role id="ro">
        <acl_permission id="ro-read" kind="read" xpath="/cib"/>
      </acl_role>
    </acls>
    <alerts>
      <alert id="a1" path="/usr/bin/true">
        <recipient id="a1-r" value="ops"/>
      </alert>
    </alerts>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member" crm-debug-origin="x">
      <transient_attributes id="1">
        <instance_attributes id="status-1">
          <nvpair id="status-1-fail" name="fail-count-web#monitor_10000" value="2"/>
        </instance_attributes>
      </transient_attributes>
      <lrm id="1">
        <lrm_resources>
          <lrm_resource id="web" class="ocf" provider="heartbeat" type="apache">
            <lrm_rsc_op id="web_last_0" operation_key="web_start_0" operation="start" crm-debug-origin="x" crm_feature_set="3.16.1" transition-key="1:2:0:abc" transition-magic="0:0;1:2:0:abc" exit-reason="" on_node="n1" call-id="5" rc-code="0" op-status="0" interval="0" last-rc-change="1699999990" last-run="1699999990" exec-time="10" queue-time="0" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
            <lrm_rsc_op id="web_monitor_30000" operation_key="web_monitor_30000" operation="monitor" interval="30000" call-id="6" rc-code="7" op-status="0" exit-reason="not running" on_node="n1"/>
          </lrm_resource>
        </lrm_resources>
      </lrm>
    </node_state>
    <node_state id="2" uname="n2" in_ccm="false" crmd="offline" join="down" expected="down"/>
  </status>
</cib>
`

// zeroLines clears every int field named Line, reachable through pointers,
// slices, structs and interfaces, so that documents re-indented by Marshal
// compare equal to their source.
func zeroLines(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			zeroLines(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			zeroLines(v.Index(i))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if v.Type().Field(i).Name == "Line" && f.Kind() == reflect.Int && f.CanSet() {
				f.SetInt(0)
				continue
			}
			zeroLines(f)
		}
	}
}

// roundTrip parses data, marshals it, parses that again and checks both
// parses agree (ignoring line numbers) and that Marshal is a fixpoint.
func roundTrip(t *testing.T, name string, data []byte) *CIB {
	t.Helper()
	c1, err := Parse(data)
	if err != nil {
		t.Fatalf("%s: parse: %v", name, err)
	}
	out1 := c1.Marshal()
	c2, err := Parse(out1)
	if err != nil {
		t.Fatalf("%s: re-parse of Marshal output: %v\n%s", name, err, out1)
	}
	out2 := c2.Marshal()
	if !bytes.Equal(out1, out2) {
		t.Errorf("%s: Marshal is not a fixpoint:\nfirst:\n%s\nsecond:\n%s", name, out1, out2)
	}
	a, b := c1, c2
	zeroLines(reflect.ValueOf(a))
	zeroLines(reflect.ValueOf(b))
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%s: parse(Marshal(parse(x))) differs from parse(x)", name)
	}
	return c1
}

func TestRoundTripMinimal(t *testing.T) {
	c := roundTrip(t, "minimal", []byte(minimalCIB))
	if c.GetAttr("validate-with") != "pacemaker-3.9" || c.GetAttr("epoch") != "1" || len(c.Config.Resources) != 0 {
		t.Errorf("unexpected content: %+v", c)
	}
}

func TestRoundTripRich(t *testing.T) {
	c := roundTrip(t, "rich", []byte(richCIB))
	cfg := &c.Config

	if c.GetAttr("execution-date") != "1700000000" || c.GetAttr("dc-uuid") != "1" {
		t.Errorf("cib attributes: %v", c.Attrs)
	}
	if len(cfg.CRMConfig) != 2 || len(cfg.CRMConfig[0].Pairs) != 3 || cfg.CRMConfig[1].Score != "10" || len(cfg.CRMConfig[1].Rules) != 1 {
		t.Fatalf("crm_config: %+v", cfg.CRMConfig)
	}
	p := cfg.CRMConfig[0].Pairs
	if !p[1].HasValue || p[1].Value != "" || p[2].HasValue {
		t.Errorf("empty vs missing value: %+v %+v", p[1], p[2])
	}
	night := cfg.CRMConfig[1].Rules[0]
	if night.BooleanOp != "or" || len(night.Exprs) != 2 {
		t.Fatalf("night rule: %+v", night)
	}
	if d, ok := night.Exprs[0].(*DateExpression); !ok || d.DateSpec == nil || d.DateSpec.ID != "opts-night-spec" || len(d.DateSpec.Fields) != 2 {
		t.Errorf("date_spec: %#v", night.Exprs[0])
	}
	if d, ok := night.Exprs[1].(*DateExpression); !ok || d.Duration == nil || d.Start != "2024-01-01" || len(d.Duration.Fields) != 2 {
		t.Errorf("duration: %#v", night.Exprs[1])
	}

	if len(cfg.Nodes) != 2 || cfg.Nodes[0].Description != "first & best" || len(cfg.Nodes[0].Instance) != 1 || len(cfg.Nodes[0].Utilization) != 1 {
		t.Errorf("nodes: %+v", cfg.Nodes)
	}
	if len(cfg.Templates) != 1 || cfg.Templates[0].Kind != KindTemplate || len(cfg.Templates[0].Ops) != 1 {
		t.Errorf("templates: %+v", cfg.Templates)
	}
	kinds := []string{}
	for _, r := range cfg.Resources {
		kinds = append(kinds, r.Kind+":"+r.ID)
	}
	if strings.Join(kinds, " ") != "primitive:web primitive:fence group:g clone:ping-clone master:ms clone:grp-clone bundle:bun" {
		t.Errorf("resources: %v", kinds)
	}
	ix := NewIndex(cfg)
	ip := ix.Resources["ip"]
	if ip == nil || ix.Parent["ip"].ID != "g" || ip.OpsID != "ip-ops" || len(ip.Ops) != 3 {
		t.Fatalf("ip: %+v", ip)
	}
	mon := ip.Ops[1]
	if mon.Interval != "10s" || mon.Role != "Started" || mon.StartDelay != "1s" || mon.IntervalOrigin != "00:00" || mon.RecordPending != "true" ||
		mon.Description != "watch" || len(mon.Meta) != 1 || len(mon.Instance) != 1 {
		t.Errorf("monitor op: %+v", mon)
	}
	if ip.Ops[2].IDRef != "ip-mon" {
		t.Errorf("op id-ref: %+v", ip.Ops[2])
	}
	if svc := ix.Resources["svc"]; svc == nil || len(svc.Extra) != 1 || svc.Extra[0] != (Attr{"custom-attr", "kept"}) {
		t.Errorf("unknown attributes must be kept: %+v", svc)
	}
	if web := ix.Resources["web"]; web.Template != "tpl" || web.Class != "" {
		t.Errorf("templated primitive: %+v", web)
	}
	if ix.Resources["cg-a"] == nil || ix.Parent["cg"].ID != "grp-clone" {
		t.Errorf("clone of group not indexed")
	}
	if bun := ix.Resources["bun"]; bun == nil || bun.Raw == nil || len(bun.Raw.Children) != 2 {
		t.Errorf("bundle kept raw: %+v", bun)
	}

	if len(cfg.Constraints) != 12 {
		t.Fatalf("%d constraints", len(cfg.Constraints))
	}
	lr := cfg.Constraints[1].(*Location)
	if lr.Role != "Started" || lr.ResourceDiscovery != "exclusive" || len(lr.Rules) != 1 || len(lr.Rules[0].Exprs) != 3 {
		t.Fatalf("location with rule: %+v", lr)
	}
	nested := lr.Rules[0].Exprs[2].(*Rule)
	if nested.ScoreAttribute != "pref" || len(nested.Exprs) != 3 {
		t.Errorf("nested rule: %+v", nested)
	}
	if _, ok := nested.Exprs[1].(*RscExpression); !ok {
		t.Errorf("rsc_expression: %#v", nested.Exprs[1])
	}
	if oe, ok := nested.Exprs[2].(*OpExpression); !ok || oe.Interval != "10s" {
		t.Errorf("op_expression: %#v", nested.Exprs[2])
	}
	if l := cfg.Constraints[2].(*Location); l.RscPattern != "^p.*" {
		t.Errorf("rsc-pattern: %+v", l)
	}
	if l := cfg.Constraints[3].(*Location); len(l.Sets) != 1 || l.Sets[0].Refs[0] != "fence" {
		t.Errorf("location set: %+v", l)
	}
	if l := cfg.Constraints[4].(*Location); l.Rules[0].IDRef != "loc-rule-r" || ix.ResolveRule(l.Rules[0]) != lr.Rules[0] {
		t.Errorf("rule id-ref: %+v", l.Rules[0])
	}
	col := cfg.Constraints[5].(*Colocation)
	if col.NodeAttribute != "site" || col.Influence != "false" || col.RscRole != "Started" || col.Score != "INFINITY" {
		t.Errorf("colocation: %+v", col)
	}
	cs := cfg.Constraints[6].(*Colocation)
	if len(cs.Sets) != 2 || cs.Sets[0].Sequential != "false" || cs.Sets[0].Role != "Promoted" || strings.Join(cs.Sets[1].Refs, ",") != "web,g" {
		t.Errorf("colocation sets: %+v", cs.Sets)
	}
	if o := cfg.Constraints[7].(*Order); o.FirstAction != "start" || o.Kind != "Mandatory" || o.Symmetrical != "true" {
		t.Errorf("order: %+v", o)
	}
	if o := cfg.Constraints[9].(*Order); o.Kind != "Serialize" || o.RequireAll != "false" || o.Sets[0].Ordering != "group" || o.Sets[0].Kind != "Optional" {
		t.Errorf("order set: %+v", o)
	}
	if rc, ok := cfg.Constraints[11].(*RawConstraint); !ok || rc.ConstraintID() != "tkt" || rc.El.Get("ticket") != "T1" {
		t.Errorf("rsc_ticket kept raw: %#v", cfg.Constraints[11])
	}

	if cfg.FencingID != "ft" || len(cfg.Fencing) != 3 || cfg.Fencing[1].TargetPattern != "n[0-9]" || cfg.Fencing[2].TargetValue != "east" {
		t.Errorf("fencing: %+v", cfg.Fencing)
	}
	if cfg.RscDefaultsID != "rd" || len(cfg.RscDefaults) != 1 || len(cfg.OpDefaults) != 1 || cfg.OpDefaults[0].Score != "2" {
		t.Errorf("defaults: %+v %+v", cfg.RscDefaults, cfg.OpDefaults)
	}
	if len(cfg.Tags) != 1 || strings.Join(cfg.Tags[0].Refs, ",") != "web,g" {
		t.Errorf("tags: %+v", cfg.Tags)
	}
	if len(cfg.Other) != 2 || cfg.Other[0].Name != "acls" || cfg.Other[1].Name != "alerts" {
		t.Errorf("other: %+v", cfg.Other)
	}

	if len(c.Status.Nodes) != 2 {
		t.Fatalf("status nodes: %d", len(c.Status.Nodes))
	}
	n1 := c.Status.Nodes[0]
	if n1.Uname != "n1" || n1.InCCM != "true" || n1.Crmd != "online" || n1.Join != "member" || n1.Expected != "member" ||
		len(n1.Transient) != 1 || n1.LRMID != "1" || len(n1.Resources) != 1 {
		t.Fatalf("node_state n1: %+v", n1)
	}
	ops := n1.Resources[0].Ops
	if len(ops) != 2 {
		t.Fatalf("lrm ops: %+v", ops)
	}
	st := ops[0]
	if st.Operation != "start" || st.OperationKey != "web_start_0" || st.CallID != 5 || st.RCCode != 0 || st.LastRCChange != 1699999990 ||
		st.LastRun != 1699999990 || st.OpDigest != "f2317cad3d54cec5d7d7aa7d0bf35cf8" || st.TransitionKey != "1:2:0:abc" || st.OnNode != "n1" ||
		st.Get("exec-time") != "10" {
		t.Errorf("start op: %+v", st)
	}
	if m := ops[1]; m.RCCode != 7 || m.ExitReason != "not running" || m.Get("interval") != "30000" {
		t.Errorf("monitor op: %+v", m)
	}
	if n2 := c.Status.Nodes[1]; n2.HasLRM || n2.HasTransient || n2.Crmd != "offline" {
		t.Errorf("node_state n2: %+v", n2)
	}

	// Special characters survive the round trip.
	out := string(c.Marshal())
	for _, want := range []string{`value="/etc/a&lt;b&gt;.conf"`, `description="first &amp; best"`, `<acl_permission id="ro-read" kind="read" xpath="/cib"/>`} {
		if !strings.Contains(out, want) {
			t.Errorf("Marshal output lacks %s", want)
		}
	}
}

// TestLRMOpIntervalIsMilliseconds: lrm_rsc_op records its interval in
// milliseconds (interval="30000" is a 30 s monitor, as in the operation key
// web_monitor_30000), unlike <op interval="30"> in the configuration.
func TestLRMOpIntervalIsMilliseconds(t *testing.T) {
	c, err := Parse([]byte(richCIB))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Status.Nodes[0].Resources[0].Ops[1]
	if m.OperationKey != "web_monitor_30000" || m.Interval != 30000 {
		t.Errorf("lrm_rsc_op %s interval=%q parsed as %d ms, want 30000", m.OperationKey, m.Get("interval"), m.Interval)
	}
	if st := c.Status.Nodes[0].Resources[0].Ops[0]; st.Interval != 0 {
		t.Errorf("start op interval %d", st.Interval)
	}
}

func TestSetAttr(t *testing.T) {
	c, err := Parse([]byte(minimalCIB))
	if err != nil {
		t.Fatal(err)
	}
	c.SetAttr("epoch", "2")
	c.SetAttr("have-quorum", "0")
	if c.GetAttr("epoch") != "2" || c.GetAttr("have-quorum") != "0" || c.GetAttr("missing") != "" {
		t.Errorf("attrs: %v", c.Attrs)
	}
	c2, err := Parse(c.Marshal())
	if err != nil || c2.GetAttr("epoch") != "2" {
		t.Errorf("after round trip: %v %v", c2, err)
	}
}

// withConfig wraps configuration children in a <cib>.
func withConfig(inner string) string {
	return "<cib epoch=\"1\">\n<configuration>\n" + inner + "\n</configuration>\n<status/>\n</cib>\n"
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name   string
		doc    string
		target error
		want   []string // substrings of the message
	}{
		{"malformed XML", "<cib>\n<configuration>\n<nodes>\n</configuration>\n</cib>", ErrSyntax, []string{"line 4"}},
		{"unclosed", "<cib>\n<configuration>", ErrSyntax, nil},
		{"empty document", "", ErrSyntax, nil},
		{"two roots", "<cib/>\n<cib/>", ErrSyntax, []string{"line 2"}},
		{"bad entity", "<cib a=\"&bogus;\"/>", ErrSyntax, nil},
		{"wrong root", "<configuration/>", ErrInvalid, []string{"<configuration>", "root element"}},
		{"no configuration", "<cib/>", ErrInvalid, []string{"missing <configuration>"}},
		{"primitive missing id", withConfig("<resources>\n<primitive class=\"ocf\" provider=\"heartbeat\" type=\"IPaddr2\"/>\n</resources>"),
			ErrInvalid, []string{"line 4", "<primitive>", "missing id"}},
		{"primitive missing class", withConfig("<resources><primitive id=\"p\" type=\"Dummy\"/></resources>"), ErrInvalid, []string{`id="p"`, "missing class"}},
		{"ocf without provider", withConfig("<resources><primitive id=\"p\" class=\"ocf\" type=\"Dummy\"/></resources>"), ErrInvalid, []string{`id="p"`, "provider"}},
		{"unknown resource element", withConfig("<resources><widget id=\"w\"/></resources>"), ErrInvalid, []string{"<widget"}},
		{"clone without child", withConfig("<resources><clone id=\"c\"/></resources>"), ErrInvalid, []string{`<clone id="c">`}},
		{"clone with two children", withConfig(`<resources><clone id="c"><primitive id="a" class="service" type="x"/><primitive id="b" class="service" type="x"/></clone></resources>`),
			ErrInvalid, []string{"only one"}},
		{"group of group", withConfig(`<resources><group id="g"><group id="h"><primitive id="a" class="service" type="x"/></group></group></resources>`),
			ErrInvalid, []string{`<group id="h">`}},
		{"node missing id", withConfig("<nodes>\n\n<node uname=\"n1\"/></nodes>"), ErrInvalid, []string{"line 5", "<node>", "missing id"}},
		{"node missing uname", withConfig("<nodes><node id=\"1\"/></nodes>"), ErrInvalid, []string{`<node id="1">`, "uname"}},
		{"nvset missing id", withConfig("<crm_config><cluster_property_set><nvpair id=\"x\" name=\"a\" value=\"b\"/></cluster_property_set></crm_config>"),
			ErrInvalid, []string{"<cluster_property_set>", "missing id"}},
		{"nvpair without name", withConfig(`<crm_config><cluster_property_set id="s"><nvpair id="x" value="b"/></cluster_property_set></crm_config>`),
			ErrInvalid, []string{`<nvpair id="x">`}},
		{"op missing name", withConfig(`<resources><primitive id="p" class="service" type="x"><operations><op id="o" interval="10s"/></operations></primitive></resources>`),
			ErrInvalid, []string{`<op id="o">`, "name"}},
		{"op bad interval", withConfig(`<resources><primitive id="p" class="service" type="x"><operations><op id="o" name="monitor" interval="often"/></operations></primitive></resources>`),
			ErrInvalid, []string{`<op id="o">`, "interval"}},
		{"constraint missing id", withConfig("<constraints><rsc_order first=\"a\" then=\"b\"/></constraints>"), ErrInvalid, []string{"<rsc_order>", "missing id"}},
		{"location bad score", withConfig(`<resources><primitive id="a" class="service" type="x"/></resources><constraints><rsc_location id="l" rsc="a" node="n" score="lots"/></constraints>`),
			ErrInvalid, []string{`<rsc_location id="l">`, "score"}},
		{"location without node or rule", withConfig(`<resources><primitive id="a" class="service" type="x"/></resources><constraints><rsc_location id="l" rsc="a" score="1"/></constraints>`),
			ErrInvalid, []string{`id="l"`}},
		{"order bad kind", withConfig(`<constraints><rsc_order id="o" first="a" then="b" kind="Sometimes"/></constraints>`), ErrInvalid, []string{`id="o"`, "Sometimes"}},
		{"colocation missing with-rsc", withConfig(`<constraints><rsc_colocation id="c" rsc="a" score="1"/></constraints>`), ErrInvalid, []string{`id="c"`}},
		{"rule bad boolean-op", withConfig(`<constraints><rsc_location id="l" rsc="a"><rule id="r" boolean-op="xor"/></rsc_location></constraints>`),
			ErrInvalid, []string{`<rule id="r">`, "xor"}},
		{"expression without attribute", withConfig(`<constraints><rsc_location id="l" rsc="a"><rule id="r"><expression id="e" operation="eq" value="1"/></rule></rsc_location></constraints>`),
			ErrInvalid, []string{`<expression id="e">`}},
		{"fencing level without devices", withConfig(`<fencing-topology><fencing-level id="f" target="n1" index="1"/></fencing-topology>`),
			ErrInvalid, []string{`<fencing-level id="f">`, "devices"}},
		{"fencing level bad index", withConfig(`<fencing-topology><fencing-level id="f" target="n1" index="one" devices="d"/></fencing-topology>`),
			ErrInvalid, []string{`<fencing-level id="f">`, "index"}},
		{"lrm_rsc_op without operation", "<cib><configuration/><status><node_state id=\"1\" uname=\"n1\"><lrm id=\"1\"><lrm_resources><lrm_resource id=\"r\"><lrm_rsc_op id=\"r_x\"/></lrm_resource></lrm_resources></lrm></node_state></status></cib>",
			ErrInvalid, []string{`<lrm_rsc_op id="r_x">`, "operation"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse([]byte(c.doc))
			if err == nil {
				t.Fatalf("no error; parsed %+v", got)
			}
			if got != nil {
				t.Errorf("non-nil CIB returned with error %v", err)
			}
			if !errors.Is(err, c.target) {
				t.Errorf("error %q does not wrap %v", err, c.target)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if c.target == ErrInvalid {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Errorf("error %T is not a *ParseError", err)
				}
			}
		})
	}
}

func TestDanglingReferences(t *testing.T) {
	prims := `<resources>
<primitive id="a" class="service" type="x"/>
<primitive id="b" class="service" type="x">
  <meta_attributes id-ref="nowhere"/>
</primitive>
</resources>`
	cases := []struct {
		name, doc, id, target, field string
	}{
		{"order then", withConfig(`<resources><primitive id="a" class="service" type="x"/></resources>
<constraints><rsc_order id="o1" first="a" then="ghost"/></constraints>`), "o1", "ghost", "then"},
		{"colocation rsc", withConfig(`<resources><primitive id="a" class="service" type="x"/></resources>
<constraints><rsc_colocation id="c1" rsc="ghost" with-rsc="a" score="1"/></constraints>`), "c1", "ghost", "rsc"},
		{"location rsc", withConfig(`<constraints><rsc_location id="l1" rsc="ghost" node="n1" score="1"/></constraints>`), "l1", "ghost", "rsc"},
		{"resource set ref", withConfig(`<resources><primitive id="a" class="service" type="x"/></resources>
<constraints><rsc_order id="o2"><resource_set id="s"><resource_ref id="a"/><resource_ref id="ghost"/></resource_set></rsc_order></constraints>`), "o2", "ghost", "resource_ref"},
		{"nvset id-ref", withConfig(prims), "b", "nowhere", "id-ref"},
		{"template", withConfig(`<resources><primitive id="p" template="no-such-template"/></resources>`), "p", "no-such-template", "template"},
		{"op id-ref", withConfig(`<resources><primitive id="p" class="service" type="x"><operations><op id="o" id-ref="no-op"/></operations></primitive></resources>`), "p", "no-op", "id-ref"},
		{"rule id-ref", withConfig(`<resources><primitive id="a" class="service" type="x"/></resources>
<constraints><rsc_location id="l2" rsc="a"><rule id-ref="no-rule"/></rsc_location></constraints>`), "", "no-rule", "id-ref"},
		{"nvpair id-ref", withConfig(`<crm_config><cluster_property_set id="s"><nvpair id="p" id-ref="no-pair"/></cluster_property_set></crm_config>`), "s", "no-pair", "id-ref"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc))
			if err == nil {
				t.Fatal("no error")
			}
			var re *RefError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %q is not a *RefError", err, err)
			}
			if re.Target != c.target || re.Field != c.field || (c.id != "" && re.ID != c.id) {
				t.Errorf("RefError %+v, want id %q field %q target %q", re, c.id, c.field, c.target)
			}
			if !errors.Is(err, ErrDanglingRef) {
				t.Errorf("error does not wrap ErrDanglingRef")
			}
			if !strings.Contains(err.Error(), c.target) {
				t.Errorf("message %q does not name %q", err, c.target)
			}
		})
	}
}

// TestDanglingRefIsInvalid checks the documented contract of ErrInvalid
// ("wrapped by every semantic error in a CIB document (dangling
// references, ...)").
func TestDanglingRefIsInvalid(t *testing.T) {
	_, err := Parse([]byte(withConfig(`<constraints><rsc_location id="l1" rsc="ghost" node="n1" score="1"/></constraints>`)))
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("dangling reference error %q does not wrap ErrInvalid", err)
	}
}

func TestProblemsListsAll(t *testing.T) {
	c := &CIB{Config: Configuration{
		Resources: []*Resource{{Kind: KindPrimitive, ID: "a", Class: "service", Type: "x"}},
		Constraints: []Constraint{
			&Order{ID: "o", First: "a", Then: "x1"},
			&Colocation{ID: "c", Rsc: "x2", WithRsc: "x3"},
			&Location{ID: "ok", Rsc: "a", Node: "n", Score: "1"},
		},
	}}
	probs := c.Problems()
	var targets []string
	for _, p := range probs {
		var re *RefError
		if errors.As(p, &re) {
			targets = append(targets, re.Target)
		}
	}
	if strings.Join(targets, ",") != "x1,x2,x3" {
		t.Errorf("problems = %v", probs)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "x1") {
		t.Errorf("Validate = %v, want the first problem", err)
	}
	c.Config.Constraints = c.Config.Constraints[2:]
	if err := c.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	// Tags are valid constraint targets.
	c.Config.Tags = []*Tag{{ID: "t", Refs: []string{"a"}}}
	c.Config.Constraints = append(c.Config.Constraints, &Order{ID: "ot", First: "t", Then: "a"})
	if err := c.Validate(); err != nil {
		t.Errorf("tag target: %v", err)
	}
}

func TestErrorTypes(t *testing.T) {
	pe := &ParseError{Line: 3, Element: "node", ID: "n1", Msg: "missing uname"}
	if pe.Error() != `line 3: <node id="n1">: missing uname` || !errors.Is(pe, ErrInvalid) {
		t.Errorf("ParseError: %q", pe.Error())
	}
	if (&ParseError{Element: "cib", Msg: "x"}).Error() != "<cib>: x" {
		t.Error("ParseError without line/id")
	}
	re := &RefError{Element: "rsc_order", ID: "o", Field: "then", Target: "b", Line: 9}
	if re.Error() != `line 9: <rsc_order id="o">: then "b" does not exist` || !errors.Is(re, ErrDanglingRef) {
		t.Errorf("RefError: %q", re.Error())
	}
}

func TestParseElementText(t *testing.T) {
	el, err := ParseElement([]byte("<a x=\"1\" y=\"2\">\n  <b>hello &amp; bye</b>\n  <!-- c -->\n  <?pi x?>\n  <c/>\n</a>"))
	if err != nil {
		t.Fatal(err)
	}
	if el.Name != "a" || len(el.Children) != 2 || el.Children[0].Text != "hello & bye" || el.Children[1].Line != 5 {
		t.Errorf("tree: %+v", el)
	}
	if !el.Has("x") || el.Has("z") || el.Get("x") != "1" {
		t.Errorf("attrs: %v", el.Attrs)
	}
	cl := el.Clone()
	cl.Children[0].Text = "changed"
	cl.Set("x", "9")
	if el.Children[0].Text != "hello & bye" || el.Get("x") != "1" {
		t.Error("Clone is not deep")
	}
	again, err := ParseElement([]byte(el.String()))
	if err != nil {
		t.Fatal(err)
	}
	zeroLines(reflect.ValueOf(again))
	zeroLines(reflect.ValueOf(el))
	if !reflect.DeepEqual(again, el) {
		t.Errorf("Element round trip:\n%s\n%s", el, again)
	}
	var nilEl *Element
	if nilEl.Clone() != nil {
		t.Error("Clone of nil")
	}
}

// TestNamespacedAttributeRoundTrip: a prefixed attribute must be written
// back with its prefix, not with the namespace URL encoding/xml resolves it
// to (which yields `urn:x:y="2"`, a document that does not re-parse).
func TestNamespacedAttributeRoundTrip(t *testing.T) {
	el, err := ParseElement([]byte(`<a xmlns:p="urn:x" p:y="2"/>`))
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseElement([]byte(el.String()))
	if err != nil {
		t.Fatalf("re-parse of %q: %v", el.String(), err)
	}
	if back.Get("p:y") != "2" {
		t.Errorf("attributes after round trip: %v", back.Attrs)
	}
}

func TestAttributeEscaping(t *testing.T) {
	v := "a\"b<c>&d\te\nf\rg'h"
	el := &Element{Name: "x", Attrs: []Attr{{"v", v}}}
	back, err := ParseElement([]byte(el.String()))
	if err != nil {
		t.Fatal(err)
	}
	if back.Get("v") != v {
		t.Errorf("attribute %q came back as %q", v, back.Get("v"))
	}
}

func TestParseExampleCIB(t *testing.T) {
	path := filepath.Join("..", "examples", "sample-cib.xml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	c := roundTrip(t, path, data)
	if len(c.Config.Nodes) != 3 || len(c.Status.Nodes) != 3 {
		t.Errorf("sample CIB: %d nodes, %d node_states", len(c.Config.Nodes), len(c.Status.Nodes))
	}
}

// sharedXML lists the scheduler suite's CIBs, or skips.
func sharedXML(t testing.TB) []string {
	dir := filepath.Join("..", "..", "shared", "pacemaker-scheduler", "xml")
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) == 0 {
		t.Skipf("skipping: no scheduler suite CIBs in %s (needs ../shared beside the repository)", dir)
	}
	return files
}

// TestSharedSuiteRoundTrip parses every CIB of Pacemaker's scheduler suite
// (all of which Pacemaker 2.1.5 accepts) and round-trips it.
func TestSharedSuiteRoundTrip(t *testing.T) {
	files := sharedXML(t)
	failed := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		c1, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			failed++
			continue
		}
		out1 := c1.Marshal()
		c2, err := Parse(out1)
		if err != nil {
			t.Errorf("%s: re-parse of Marshal output: %v", name, err)
			failed++
			continue
		}
		if !bytes.Equal(out1, c2.Marshal()) {
			t.Errorf("%s: Marshal is not a fixpoint", name)
			failed++
			continue
		}
		zeroLines(reflect.ValueOf(c1))
		zeroLines(reflect.ValueOf(c2))
		if !reflect.DeepEqual(c1, c2) {
			t.Errorf("%s: parse(Marshal(parse(x))) differs from parse(x)", name)
			failed++
		}
	}
	t.Logf("%d of %d suite CIBs round-trip", len(files)-failed, len(files))
}

func BenchmarkParseShared(b *testing.B) {
	files := sharedXML(b)
	var docs [][]byte
	total := 0
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, d)
		total += len(d)
	}
	b.SetBytes(int64(total))
	for b.Loop() {
		for _, d := range docs {
			if _, err := Parse(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkMarshalRich(b *testing.B) {
	c, err := Parse([]byte(richCIB))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = c.Marshal()
	}
}
