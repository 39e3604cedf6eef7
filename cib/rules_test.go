package cib

import (
	"fmt"
	"testing"
	"time"
)

func expr(attr, op, value, typ string) *Expression {
	return &Expression{ID: "e", Attribute: attr, Operation: op, Value: value, Type: typ}
}

func TestEvalExpressionOperations(t *testing.T) {
	ctx := &RuleContext{NodeAttrs: map[string]string{
		"#uname": "node1", "rack": "R2", "cpus": "8", "load": "0.75", "ver": "2.10.1", "empty": "",
	}}
	cases := []struct {
		attr, op, value, typ string
		want                 bool
	}{
		// #uname and strings (case-insensitive, like strcasecmp)
		{"#uname", "eq", "node1", "", true},
		{"#uname", "eq", "NODE1", "", true},
		{"#uname", "eq", "node2", "", false},
		{"#uname", "ne", "node2", "", true},
		{"#uname", "ne", "node1", "", false},
		{"rack", "eq", "r2", "string", true},
		{"rack", "lt", "r3", "string", true},
		{"rack", "gt", "r10", "string", true}, // lexical: "r2" > "r10"
		{"empty", "eq", "", "", true},
		// integers
		{"cpus", "gt", "4", "integer", true},
		{"cpus", "gt", "8", "integer", false},
		{"cpus", "gte", "8", "integer", true},
		{"cpus", "lt", "16", "integer", true},
		{"cpus", "lte", "7", "integer", false},
		{"cpus", "eq", "8", "integer", true},
		{"cpus", "eq", "08", "integer", true},
		{"cpus", "ne", "8", "integer", false},
		{"cpus", "gt", "10", "", false}, // default type for gt without a dot is integer: 8 < 10
		{"cpus", "lt", "10", "", true},  // (a string comparison would say "8" > "10")
		// numbers
		{"load", "lt", "1", "number", true},
		{"load", "gt", "0.5", "number", true},
		{"load", "gt", "0.8", "", false}, // '.' makes the default type number
		{"load", "gte", "0.75", "number", true},
		{"load", "eq", "0.750", "number", true},
		{"load", "eq", "0.750", "string", false},
		// versions
		{"ver", "gt", "2.9", "version", true}, // 10 > 9 numerically
		{"ver", "gt", "2.9", "string", false}, // but not as strings
		{"ver", "lt", "2.10.2", "version", true},
		{"ver", "eq", "2.10.1", "version", true},
		{"ver", "gte", "3", "version", false},
		{"ver", "eq", "2.10.1.0", "version", true},
		// defined / not_defined
		{"rack", "defined", "", "", true},
		{"nope", "defined", "", "", false},
		{"nope", "not_defined", "", "", true},
		{"rack", "not_defined", "", "", false},
		{"empty", "defined", "", "", true},
		// a missing attribute only satisfies ne
		{"nope", "eq", "x", "", false},
		{"nope", "ne", "x", "", true},
		{"nope", "lt", "5", "integer", false},
		{"nope", "gt", "5", "integer", false},
	}
	for _, c := range cases {
		if got := EvalExpression(expr(c.attr, c.op, c.value, c.typ), ctx); got != c.want {
			t.Errorf("%s %s %q (type %q) = %v, want %v", c.attr, c.op, c.value, c.typ, got, c.want)
		}
	}
}

func TestEvalExpressionValueSource(t *testing.T) {
	ctx := &RuleContext{
		NodeAttrs: map[string]string{"site": "east", "weight": "5"},
		Params:    map[string]string{"wanted_site": "east"},
		Meta:      map[string]string{"min_weight": "3"},
	}
	e := &Expression{Attribute: "site", Operation: "eq", Value: "wanted_site", ValueSource: "param"}
	if !EvalExpression(e, ctx) {
		t.Error("value-source=param: site should equal the resource parameter")
	}
	e.ValueSource = "literal"
	if EvalExpression(e, ctx) {
		t.Error("value-source=literal compares with the literal text")
	}
	m := &Expression{Attribute: "weight", Operation: "gt", Value: "min_weight", ValueSource: "meta", Type: "integer"}
	if !EvalExpression(m, ctx) {
		t.Error("value-source=meta: 5 > 3")
	}
}

func TestEvalRuleBoolean(t *testing.T) {
	ctx := &RuleContext{NodeAttrs: map[string]string{"#uname": "n1", "a": "1", "b": "2"}}
	yes := expr("a", "eq", "1", "")
	no := expr("b", "eq", "1", "")
	cases := []struct {
		name string
		r    *Rule
		want bool
	}{
		{"empty rule", &Rule{ID: "r"}, true},
		{"and default, all true", &Rule{ID: "r", Exprs: []any{yes, yes}}, true},
		{"and default, one false", &Rule{ID: "r", Exprs: []any{yes, no}}, false},
		{"and explicit", &Rule{ID: "r", BooleanOp: "and", Exprs: []any{no, yes}}, false},
		{"or, one true", &Rule{ID: "r", BooleanOp: "or", Exprs: []any{no, yes}}, true},
		{"or, none true", &Rule{ID: "r", BooleanOp: "or", Exprs: []any{no, no}}, false},
		{"nested or inside and", &Rule{ID: "r", Exprs: []any{yes, &Rule{ID: "s", BooleanOp: "or", Exprs: []any{no, yes}}}}, true},
		{"nested and inside or", &Rule{ID: "r", BooleanOp: "or", Exprs: []any{no, &Rule{ID: "s", Exprs: []any{yes, no}}}}, false},
		{"three levels", &Rule{ID: "r", Exprs: []any{&Rule{ID: "s", Exprs: []any{&Rule{ID: "t", BooleanOp: "or", Exprs: []any{yes}}}}}}, true},
		{"#uname only", &Rule{ID: "r", Exprs: []any{expr("#uname", "eq", "n1", "")}}, true},
	}
	for _, c := range cases {
		if got := EvalRule(c.r, ctx); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEvalRuleRoleAndResourceExpressions(t *testing.T) {
	r := &Rule{ID: "r", Role: "Master", Exprs: []any{expr("#uname", "eq", "n1", "")}}
	attrs := map[string]string{"#uname": "n1"}
	if !EvalRule(r, &RuleContext{NodeAttrs: attrs, Role: "Promoted"}) {
		t.Error("legacy role Master should match Promoted")
	}
	if EvalRule(r, &RuleContext{NodeAttrs: attrs, Role: "Unpromoted"}) {
		t.Error("role Master must not match Unpromoted")
	}
	for in, want := range map[string]string{"master": "Promoted", "Slave": "Unpromoted", "started": "Started", "Stopped": "Stopped", "Promoted": "Promoted", "weird": "weird"} {
		if got := NormalizeRole(in); got != want {
			t.Errorf("NormalizeRole(%q) = %q, want %q", in, got, want)
		}
	}

	ctx := &RuleContext{RscClass: "ocf", RscProv: "heartbeat", RscType: "IPaddr2", OpName: "monitor", OpInterval: 10000, HasOp: true}
	for _, c := range []struct {
		x    any
		want bool
	}{
		{&RscExpression{Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"}, true},
		{&RscExpression{Class: "ocf"}, true},
		{&RscExpression{Type: "apache"}, false},
		{&RscExpression{Class: "stonith"}, false},
		{&OpExpression{Name: "monitor"}, true},
		{&OpExpression{Name: "monitor", Interval: "10s"}, true},
		{&OpExpression{Name: "monitor", Interval: "10000ms"}, true},
		{&OpExpression{Name: "monitor", Interval: "20s"}, false},
		{&OpExpression{Name: "start"}, false},
	} {
		if got := EvalRule(&Rule{ID: "r", Exprs: []any{c.x}}, ctx); got != c.want {
			t.Errorf("%#v: got %v, want %v", c.x, got, c.want)
		}
	}
	noOp := *ctx
	noOp.HasOp = false
	if EvalRule(&Rule{ID: "r", Exprs: []any{&OpExpression{Name: "monitor"}}}, &noOp) {
		t.Error("op_expression outside an operation context must be false")
	}
}

func mustDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := ParseISODate(s)
	if err != nil {
		t.Fatalf("ParseISODate(%q): %v", s, err)
	}
	return d
}

func TestParseISODate(t *testing.T) {
	utc := func(y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
	}
	for in, want := range map[string]time.Time{
		"2024-03-01":                utc(2024, 3, 1, 0, 0, 0),
		"2024-03-01 12:30:15":       utc(2024, 3, 1, 12, 30, 15),
		"2024-03-01T12:30:15Z":      utc(2024, 3, 1, 12, 30, 15),
		"2024-03-01T12:30":          utc(2024, 3, 1, 12, 30, 0),
		"2024-03-01T12":             utc(2024, 3, 1, 12, 0, 0),
		"2024-03-01T12:30:15+02:00": utc(2024, 3, 1, 10, 30, 15),
		"2024-03-01T12:30:15-0130":  utc(2024, 3, 1, 14, 0, 15),
		"2024-061":                  utc(2024, 3, 1, 0, 0, 0), // ordinal, leap year
		"2023-061":                  utc(2023, 3, 2, 0, 0, 0),
		"2024-W09-5":                utc(2024, 3, 1, 0, 0, 0), // ISO week date
		"2021-W01-1":                utc(2021, 1, 4, 0, 0, 0),
		"2020-W53-7":                utc(2021, 1, 3, 0, 0, 0),
		"2024":                      utc(2024, 1, 1, 0, 0, 0),
		"1700000000":                time.Unix(1700000000, 0).UTC(),
	} {
		got, err := ParseISODate(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseISODate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "2024-13-01", "2024/03/01", "2024-03-01Tab:cd", "24-3-1"} {
		if got, err := ParseISODate(in); err == nil {
			t.Errorf("ParseISODate(%q) = %v, want an error", in, got)
		}
	}
}

func TestEvalDateRanges(t *testing.T) {
	now := mustDate(t, "2024-03-01 12:00:00")
	cases := []struct {
		d    DateExpression
		want bool
	}{
		{DateExpression{Operation: "in_range", Start: "2024-01-01", End: "2024-12-31"}, true},
		{DateExpression{Operation: "in_range", Start: "2024-03-02"}, false},
		{DateExpression{Operation: "in_range", Start: "2024-03-01 12:00:00"}, true}, // start is inclusive
		{DateExpression{Operation: "in_range", End: "2024-03-01 12:00:00"}, true},   // end is inclusive
		{DateExpression{Operation: "in_range", End: "2024-03-01 11:59:59"}, false},
		{DateExpression{Operation: "in_range", Start: "2023-01-01", End: "2023-12-31"}, false},
		{DateExpression{Operation: "in_range"}, false},
		{DateExpression{Operation: "in_range", Start: "garbage"}, false},
		{DateExpression{Operation: "gt", Start: "2024-02-29"}, true},
		{DateExpression{Operation: "gt", Start: "2024-03-02"}, false},
		{DateExpression{Operation: "gt", Start: "2024-03-01 12:00:00"}, false}, // strictly after
		{DateExpression{Operation: "gt"}, false},
		{DateExpression{Operation: "lt", End: "2024-03-02"}, true},
		{DateExpression{Operation: "lt", End: "2024-03-01"}, false},
		{DateExpression{Operation: "lt", End: "2024-03-01 12:00:00"}, false}, // strictly before
		{DateExpression{Operation: "lt"}, false},
		{DateExpression{Operation: "bogus", Start: "2000-01-01"}, false},
	}
	for _, c := range cases {
		if got := EvalDate(&c.d, now); got != c.want {
			t.Errorf("%+v at %v = %v, want %v", c.d, now, got, c.want)
		}
	}
}

func TestEvalDateDuration(t *testing.T) {
	start := "2024-01-31 00:00:00"
	cases := []struct {
		fields []Attr
		now    string
		want   bool
	}{
		{[]Attr{{"hours", "2"}}, "2024-01-31 01:59:59", true},
		{[]Attr{{"hours", "2"}}, "2024-01-31 02:00:01", false},
		{[]Attr{{"days", "1"}, {"minutes", "30"}}, "2024-02-01 00:29:00", true},
		{[]Attr{{"days", "1"}, {"minutes", "30"}}, "2024-02-01 00:31:00", false},
		{[]Attr{{"weeks", "1"}}, "2024-02-06 23:00:00", true},
		{[]Attr{{"weeks", "1"}}, "2024-02-07 00:00:01", false},
		{[]Attr{{"months", "1"}}, "2024-02-15 00:00:00", true},
		{[]Attr{{"years", "1"}}, "2024-12-31 00:00:00", true},
		{[]Attr{{"years", "1"}}, "2025-02-01 00:00:00", false},
		{[]Attr{{"seconds", "90"}}, "2024-01-31 00:01:30", true},
		{[]Attr{{"seconds", "90"}}, "2024-01-31 00:01:31", false},
		{[]Attr{{"hours", "1"}}, "2024-01-30 23:59:59", false}, // before start
	}
	for _, c := range cases {
		d := &DateExpression{Operation: "in_range", Start: start, Duration: &DateSpec{ID: "d", Fields: c.fields}}
		if got := EvalDate(d, mustDate(t, c.now)); got != c.want {
			t.Errorf("start %s + %v at %s = %v, want %v", start, c.fields, c.now, got, c.want)
		}
	}
	// An explicit end wins over a duration.
	d := &DateExpression{Operation: "in_range", Start: start, End: "2024-01-31 00:10:00", Duration: &DateSpec{Fields: []Attr{{"days", "5"}}}}
	if EvalDate(d, mustDate(t, "2024-02-02")) {
		t.Error("end should take precedence over duration")
	}
}

func TestEvalDateSpec(t *testing.T) {
	// 2024-03-01 is a Friday (weekday 5), ISO week 9, day 61 of the year.
	now := mustDate(t, "2024-03-01 14:30:45")
	cases := []struct {
		fields []Attr
		want   bool
	}{
		{[]Attr{{"hours", "9-17"}}, true},
		{[]Attr{{"hours", "9-14"}}, true},
		{[]Attr{{"hours", "15-23"}}, false},
		{[]Attr{{"hours", "14"}}, true},
		{[]Attr{{"hours", "9-17"}, {"weekdays", "1-5"}}, true},
		{[]Attr{{"weekdays", "6-7"}}, false},
		{[]Attr{{"weekdays", "5"}}, true},
		{[]Attr{{"monthdays", "1"}}, true},
		{[]Attr{{"monthdays", "2-31"}}, false},
		{[]Attr{{"months", "3"}}, true},
		{[]Attr{{"months", "4-12"}}, false},
		{[]Attr{{"yeardays", "61"}}, true},
		{[]Attr{{"yeardays", "1-60"}}, false},
		{[]Attr{{"weeks", "9"}}, true},
		{[]Attr{{"weeks", "10-52"}}, false},
		{[]Attr{{"years", "2024"}}, true},
		{[]Attr{{"years", "2020-2023"}}, false},
		{[]Attr{{"years", "2023-"}}, true}, // open-ended range
		{[]Attr{{"weekyears", "2024"}}, true},
		{[]Attr{{"minutes", "0-29"}}, false},
		{[]Attr{{"minutes", "30"}, {"seconds", "45"}}, true},
		{[]Attr{{"seconds", "0-44"}}, false},
		{[]Attr{{"hours", "x"}}, false},
		{nil, true}, // an empty date_spec matches everything
	}
	for _, c := range cases {
		d := &DateExpression{Operation: "date_spec", DateSpec: &DateSpec{ID: "s", Fields: c.fields}}
		if got := EvalDate(d, now); got != c.want {
			t.Errorf("date_spec %v at %v = %v, want %v", c.fields, now, got, c.want)
		}
	}
	if EvalDate(&DateExpression{Operation: "date_spec"}, now) {
		t.Error("date_spec operation without a date_spec element must be false")
	}
	// ISO week-numbering year differs from the calendar year around New Year:
	// 2021-01-03 is in week 53 of 2020.
	ny := mustDate(t, "2021-01-03 10:00:00")
	if !EvalDate(&DateExpression{Operation: "date_spec", DateSpec: &DateSpec{Fields: []Attr{{"weekyears", "2020"}, {"weeks", "53"}, {"weekdays", "7"}}}}, ny) {
		t.Error("2021-01-03 should be weekyear 2020, week 53, Sunday (7)")
	}
}

func TestEvalRuleWithDate(t *testing.T) {
	r := &Rule{ID: "business-hours", Exprs: []any{
		&DateExpression{ID: "d", Operation: "date_spec", DateSpec: &DateSpec{ID: "s", Fields: []Attr{{"hours", "9-16"}, {"weekdays", "1-5"}}}},
		expr("#uname", "eq", "n1", ""),
	}}
	attrs := map[string]string{"#uname": "n1"}
	if !EvalRule(r, &RuleContext{Now: mustDate(t, "2024-03-01 10:00"), NodeAttrs: attrs}) {
		t.Error("Friday 10:00 is within business hours")
	}
	if EvalRule(r, &RuleContext{Now: mustDate(t, "2024-03-02 10:00"), NodeAttrs: attrs}) {
		t.Error("Saturday is not")
	}
}

func TestCompareVersion(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "1.0.0", 0}, {"1.2", "1.10", -1}, {"2", "1.99", 1},
		{"3.16.1", "3.16.2", -1}, {"", "0", 0}, {"1.x", "1.0", 0},
	} {
		if got := CompareVersion(c.a, c.b); got != c.want {
			t.Errorf("CompareVersion(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := CompareVersion(c.b, c.a); got != -c.want {
			t.Errorf("CompareVersion(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func pairs(kv ...string) []*NVPair {
	var out []*NVPair
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &NVPair{ID: fmt.Sprintf("p%d-%s", i, kv[i]), Name: kv[i], Value: kv[i+1], HasValue: true})
	}
	return out
}

func TestUnpackNVSetsPrecedence(t *testing.T) {
	ctx := &RuleContext{NodeAttrs: map[string]string{"#uname": "n1"}}
	sets := []*NVSet{
		{Kind: "meta_attributes", ID: "low", Pairs: pairs("a", "low", "b", "low")},
		{Kind: "meta_attributes", ID: "high", Score: "10", Pairs: pairs("a", "high")},
		{Kind: "meta_attributes", ID: "tie", Pairs: pairs("b", "tie", "c", "tie")},
		{Kind: "meta_attributes", ID: "inf", Score: "INFINITY", Pairs: pairs("d", "inf")},
		{Kind: "meta_attributes", ID: "neg", Score: "-5", Pairs: pairs("d", "neg", "e", "neg")},
	}
	got := UnpackNVSets(sets, ctx, "", nil)
	// Equal scores: the later set wins (Pacemaker 2.1.5 collects sets
	// newest-first; confirmed with crm_simulate).
	want := map[string]string{"a": "high", "b": "tie", "c": "tie", "d": "inf", "e": "neg"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// firstID is taken first whatever its score.
	got = UnpackNVSets(sets, ctx, "tie", nil)
	if got["b"] != "tie" || got["a"] != "high" {
		t.Errorf("firstID=tie: got %v", got)
	}
	// Values already in the map win over every set (first value wins).
	got = UnpackNVSets(sets, ctx, "", map[string]string{"a": "preset"})
	if got["a"] != "preset" || got["b"] != "tie" {
		t.Errorf("preset map: got %v", got)
	}
	// Within one set, the first pair for a name wins too.
	got = UnpackNVSets([]*NVSet{{Kind: "meta_attributes", ID: "dup", Pairs: pairs("x", "1", "x", "2")}}, ctx, "", nil)
	if got["x"] != "1" {
		t.Errorf("duplicate pair in one set: got %v", got)
	}
	// An empty value is still a value.
	got = UnpackNVSets([]*NVSet{{Kind: "meta_attributes", ID: "e", Pairs: pairs("x", "")}, {Kind: "meta_attributes", ID: "f", Score: "-1", Pairs: pairs("x", "later")}}, ctx, "", nil)
	if v, ok := got["x"]; !ok || v != "" {
		t.Errorf("empty value: got %q, %v", v, ok)
	}
	// "#default" removes a value set by a higher-precedence set.
	got = UnpackNVSets([]*NVSet{{Kind: "meta_attributes", ID: "h", Score: "5", Pairs: pairs("y", "high")}, {Kind: "meta_attributes", ID: "l", Pairs: pairs("y", "#default")}}, ctx, "", nil)
	if _, ok := got["y"]; ok {
		t.Errorf("#default: got %v", got)
	}
}

func TestUnpackNVSetsRules(t *testing.T) {
	onN1 := &Rule{ID: "on-n1", Exprs: []any{expr("#uname", "eq", "n1", "")}}
	onN2 := &Rule{ID: "on-n2", Exprs: []any{expr("#uname", "eq", "n2", "")}}
	sets := []*NVSet{
		{Kind: "instance_attributes", ID: "n2-only", Score: "100", Rules: []*Rule{onN2}, Pairs: pairs("port", "2222")},
		{Kind: "instance_attributes", ID: "n1-only", Score: "50", Rules: []*Rule{onN1}, Pairs: pairs("port", "1111")},
		{Kind: "instance_attributes", ID: "default", Pairs: pairs("port", "22", "user", "root")},
	}
	for node, want := range map[string]string{"n1": "1111", "n2": "2222", "n3": "22"} {
		got := UnpackNVSets(sets, &RuleContext{NodeAttrs: map[string]string{"#uname": node}}, "", nil)
		if got["port"] != want || got["user"] != "root" {
			t.Errorf("on %s: got %v, want port=%s user=root", node, got, want)
		}
	}
	// Without a context, sets with rules are skipped.
	if got := UnpackNVSets(sets, nil, "", nil); got["port"] != "22" {
		t.Errorf("nil ctx: got %v", got)
	}
	// A set with a date rule applies only inside the window.
	dated := []*NVSet{
		{Kind: "meta_attributes", ID: "maint-window", Score: "1", Rules: []*Rule{{ID: "w", Exprs: []any{
			&DateExpression{ID: "d", Operation: "in_range", Start: "2024-03-01", End: "2024-03-02"}}}}, Pairs: pairs("is-managed", "false")},
		{Kind: "meta_attributes", ID: "base", Pairs: pairs("is-managed", "true")},
	}
	for now, want := range map[string]string{"2024-03-01 06:00": "false", "2024-03-05": "true"} {
		got := UnpackNVSets(dated, &RuleContext{Now: mustDate(t, now)}, "", nil)
		if got["is-managed"] != want {
			t.Errorf("at %s: is-managed=%q, want %q", now, got["is-managed"], want)
		}
	}
}

func TestUnpackNVSetsIDRefs(t *testing.T) {
	doc := `<cib><configuration><crm_config/><nodes/>
  <resources>
    <primitive id="a" class="ocf" provider="pacemaker" type="Dummy">
      <meta_attributes id="shared-meta">
        <nvpair id="shared-stick" name="resource-stickiness" value="50"/>
      </meta_attributes>
    </primitive>
    <primitive id="b" class="ocf" provider="pacemaker" type="Dummy">
      <meta_attributes id-ref="shared-meta"/>
      <instance_attributes id="b-params">
        <nvpair id="b-stick-ref" id-ref="shared-stick"/>
        <rule id-ref="never"/>
      </instance_attributes>
    </primitive>
  </resources>
  <constraints>
    <rsc_location id="l" rsc="a"><rule id="never" score="0"><expression id="never-e" attribute="#uname" operation="eq" value="nobody"/></rule></rsc_location>
  </constraints>
</configuration></cib>`
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(&c.Config)
	b := ix.Resources["b"]
	ctx := &RuleContext{NodeAttrs: map[string]string{"#uname": "n1"}, Index: ix}
	if got := UnpackNVSets(b.Meta, ctx, "", nil); got["resource-stickiness"] != "50" {
		t.Errorf("meta via id-ref: %v", got)
	}
	// The instance set's rule refers to rule "never", which is false.
	if got := UnpackNVSets(b.Instance, ctx, "", nil); len(got) != 0 {
		t.Errorf("instance set with false rule via id-ref: %v", got)
	}
	b.Instance[0].Rules = nil
	if got := UnpackNVSets(b.Instance, ctx, "", nil); got["resource-stickiness"] != "50" {
		t.Errorf("nvpair id-ref: %v", got)
	}
}

// TestEvalExpressionParseFallback pins Pacemaker 2.1.5's handling of values
// that do not parse as the requested type (rules.c compare_attr_expr_vals):
// integers are read with strtoll semantics (a leading integer is enough,
// "1.5" is 1), and when either side has no leading integer, or either side
// is not a number for type=number, the two values are compared as strings.
func TestEvalExpressionParseFallback(t *testing.T) {
	ctx := &RuleContext{NodeAttrs: map[string]string{"frac": "1.5", "word": "abc", "n": "7"}}
	cases := []struct {
		attr, op, value, typ string
		want                 bool
	}{
		{"frac", "eq", "1", "integer", true},    // strtoll("1.5") = 1
		{"frac", "gt", "1", "integer", false},   // 1 > 1 is false
		{"word", "eq", "ABC", "integer", true},  // no digits: string comparison (case-insensitive)
		{"word", "ne", "abc", "integer", false}, // string comparison again
		{"word", "gt", "abb", "integer", true},  // "abc" > "abb" as strings
		{"word", "eq", "abc", "number", true},   // not a number: string comparison
		{"n", "lt", "seven", "integer", true},   // "7" < "seven" as strings
		{"n", "eq", "7", "integer", true},
	}
	for _, c := range cases {
		if got := EvalExpression(expr(c.attr, c.op, c.value, c.typ), ctx); got != c.want {
			t.Errorf("%s=%q %s %q (type %s) = %v, want %v", c.attr, ctx.NodeAttrs[c.attr], c.op, c.value, c.typ, got, c.want)
		}
	}
}
