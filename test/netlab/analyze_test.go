package netlab

import (
	"encoding/xml"
	"slices"
	"testing"
	"time"
)

// The analysis of the client's probes needs no lab: synthetic timelines.
func TestAnalyzeOutage(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	good := func(at int, node string) probe {
		return probe{start: ms(at), end: ms(at + 2), ok: true, node: node, data: "d"}
	}
	bad := func(at int) probe { return probe{start: ms(at), end: ms(at + 50), err: "timeout"} }
	probes := []probe{
		bad(-500), good(-20, "n1"), good(-10, "n1"),
		bad(0),           // noise: n1 answers again afterwards
		good(10, "n1"),   // last answer of the old server
		bad(20), bad(80), // the outage
		good(300, "n2"), // first answer of the new one
		good(310, "n2"),
	}
	o := analyze(probes, t0, "n2", "d")
	if o.firstFail != 20*time.Millisecond || o.firstNew != 302*time.Millisecond || o.outage != 282*time.Millisecond {
		t.Errorf("got first failure %v, first new %v, outage %v; want 20ms, 302ms, 282ms", o.firstFail, o.firstNew, o.outage)
	}
	if o.failed != 3 || o.preFailures != 1 || !slices.Equal(o.servers, []string{"n1", "n2"}) || o.wrongData != 0 {
		t.Errorf("got %+v", o)
	}
	if o.maxGap != 290*time.Millisecond {
		t.Errorf("max gap %v, want 290ms", o.maxGap)
	}

	// Interleaved servers and foreign data are reported; no failure
	// means no outage.
	probes = []probe{good(5, "n1"), good(15, "n2"), good(25, "n1"), good(35, "n2")}
	probes[3].data = "other"
	o = analyze(probes, t0, "n2", "d")
	if !slices.Equal(o.servers, []string{"n1", "n2", "n1", "n2"}) || o.wrongData != 1 || o.outage != 0 || o.firstFail != -1 {
		t.Errorf("got %+v", o)
	}
}

func TestGroupNodeAndLogfmt(t *testing.T) {
	const doc = `<crm_mon><summary><current_dc present="true" name="n2"/></summary>
<nodes><node name="n1" online="true" standby="true"/><node name="n2" online="true"/><node name="n3" online="false"/></nodes>
<resources><group id="g-web" number_resources="3">
 <resource id="fs" role="Started" active="true" failed="false" blocked="false"><node name="n2"/></resource>
 <resource id="vip" role="Started" active="true" failed="false" blocked="false"><node name="n2"/></resource>
 <resource id="web" role="Started" active="true" failed="false" blocked="false"><node name="n2"/></resource>
</group></resources></crm_mon>`
	var s statusXML
	if err := xml.Unmarshal([]byte(doc), &s); err != nil {
		t.Fatal(err)
	}
	if g := s.groupNode("g-web"); g != "n2" {
		t.Errorf("group on %q, want n2", g)
	}
	if on, sb := s.node("n1"); !on || !sb {
		t.Errorf("n1 online %v standby %v", on, sb)
	}
	if got := s.online(); !slices.Equal(got, []string{"n1", "n2"}) {
		t.Errorf("online %v", got)
	}
	s.Resources.Groups[0].Resources[1].Role = "Stopped"
	if g := s.groupNode("g-web"); g != "" {
		t.Errorf("group with a stopped member on %q", g)
	}

	kv := parseLogfmt(`time=2026-11-24T03:05:43.742Z level=INFO msg="operation complete" node=n1 rsc=web op=web_stop_0 exec_ms=4 reason="a \"b\"" node=n9`)
	if kv["msg"] != "operation complete" || kv["op"] != "web_stop_0" || kv["exec_ms"] != "4" || kv["reason"] != `a "b"` || kv["node"] != "n1" {
		t.Errorf("parsed %v", kv)
	}
}
