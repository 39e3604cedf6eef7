package cib

import (
	"strings"
	"testing"
)

func TestLint(t *testing.T) {
	x := `<cib validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources>
 <primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>
 <primitive id="b" class="ocf" provider="pacemaker" type="Dummy"/>
</resources>
<constraints>
 <rsc_location id="a-on-n1" rsc="a" node="n1" score="INFINITY"/>
 <rsc_location id="a-not-n1" rsc="a" node="n1" score="-INFINITY"/>
 <rsc_location id="a-on-n9" rsc="a" node="n9" score="100"/>
 <rsc_location id="b-zero" rsc="b" node="n2" score="0"/>
 <rsc_colocation id="a-with-b" rsc="a" with-rsc="b" score="INFINITY"/>
 <rsc_colocation id="a-apart-b" rsc="a" with-rsc="b" score="-INFINITY"/>
 <rsc_colocation id="b-self" rsc="b" with-rsc="b" score="100"/>
 <rsc_order id="a-then-b" first="a" then="b"/>
 <rsc_order id="b-then-a" first="b" then="a" kind="Mandatory"/>
 <rsc_order id="b-then-a-opt" first="b" then="a" kind="Optional"/>
</constraints></configuration><status/></cib>`
	c, err := Parse([]byte(x))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(Lint(&c.Config), "\n")
	for _, want := range []string{
		"locations a-on-n1 and a-not-n1 conflict",
		"location a-on-n9: node n9 is not configured",
		"location b-zero: score 0 has no effect",
		"colocations a-with-b and a-apart-b conflict",
		"colocation b-self: b is colocated with itself",
		"orders a-then-b and b-then-a: a and b must each start before the other",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lint lacks %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "b-then-a-opt") {
		t.Errorf("an optional order is not a loop:\n%s", got)
	}
	// A clean configuration gives nothing.
	clean := strings.NewReplacer(`<rsc_location id="a-not-n1" rsc="a" node="n1" score="-INFINITY"/>`, "",
		`<rsc_location id="a-on-n9" rsc="a" node="n9" score="100"/>`, "",
		`<rsc_location id="b-zero" rsc="b" node="n2" score="0"/>`, "",
		`<rsc_colocation id="a-apart-b" rsc="a" with-rsc="b" score="-INFINITY"/>`, "",
		`<rsc_colocation id="b-self" rsc="b" with-rsc="b" score="100"/>`, "",
		`<rsc_order id="b-then-a" first="b" then="a" kind="Mandatory"/>`, "").Replace(x)
	c, err = Parse([]byte(clean))
	if err != nil {
		t.Fatal(err)
	}
	if l := Lint(&c.Config); len(l) != 0 {
		t.Errorf("clean configuration: %q", l)
	}
}
