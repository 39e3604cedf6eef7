package ra

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func loadFixture(t *testing.T) *Metadata {
	t.Helper()
	data, err := os.ReadFile("testdata/fixture.xml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

func TestParseFixture(t *testing.T) {
	m := loadFixture(t)
	if m.Name != "Fixture" || m.Version != "1.1" || m.ShortDesc != "Test fixture" {
		t.Errorf("header %q %q %q", m.Name, m.Version, m.ShortDesc)
	}
	if m.LongDesc != "A fixture agent used by the ra tests.\nIt spans two lines." {
		t.Errorf("longdesc %q (English must win over German)", m.LongDesc)
	}
	if len(m.Parameters) != 4 {
		t.Fatalf("%d parameters", len(m.Parameters))
	}
	addr, _ := m.Param("addr")
	if !addr.Required || !addr.Unique || addr.Reloadable || addr.Type != "string" || addr.HasDefault {
		t.Errorf("addr %+v", addr)
	}
	mode, _ := m.Param("mode")
	if !mode.Reloadable || mode.Type != "select" || mode.Default != "fast" || strings.Join(mode.Options, ",") != "fast,slow" {
		t.Errorf("mode %+v", mode)
	}
	same, _ := m.Param("same")
	if same.UniqueGroup != "g1" || !same.HasDefault || same.Default != "" || same.Type != "integer" {
		t.Errorf("same %+v", same)
	}
	old, _ := m.Param("old")
	if !old.Deprecated || old.Type != "string" {
		t.Errorf("old %+v", old)
	}
	mons := m.ActionsNamed("monitor")
	if len(mons) != 2 || mons[0].Role != "Promoted" || mons[0].Depth != "0" || mons[1].Interval != "11s" {
		t.Errorf("monitors %+v", mons)
	}
	if st := m.ActionsNamed("stop"); len(st) != 1 || st[0].Timeout != "30s" {
		t.Errorf("stop %+v", st)
	}
}

func TestParseErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":       "  \n",
		"not xml":     "usage: agent {start|stop}",
		"wrong root":  `<foo/>`,
		"truncated":   `<resource-agent name="x"><parameters>`,
		"nameless":    `<resource-agent name="x"><parameters><parameter/></parameters></resource-agent>`,
		"duplicate":   `<resource-agent name="x"><parameters><parameter name="a"/><parameter name="a"/></parameters></resource-agent>`,
		"action name": `<resource-agent name="x"><actions><action timeout="1s"/></actions></resource-agent>`,
	} {
		if _, err := Parse([]byte(doc)); !errors.Is(err, ErrBadMetadata) {
			t.Errorf("%s: err %v, want ErrBadMetadata", name, err)
		}
	}
}

func TestParseFenceDialect(t *testing.T) {
	m, err := Parse([]byte(`<?xml version="1.0"?><resource-agent name="fence_x" shortdesc="Fence agent for X">
<longdesc>Fences X.</longdesc><parameters><parameter name="ip" required="0"><content type="string"/>
<shortdesc lang="en">IP</shortdesc></parameter></parameters><actions><action name="on"/></actions></resource-agent>`))
	if err != nil {
		t.Fatal(err)
	}
	if m.ShortDesc != "Fence agent for X" || m.LongDesc != "Fences X." || len(m.Parameters) != 1 {
		t.Errorf("%+v", m)
	}
}

func TestValidate(t *testing.T) {
	m := loadFixture(t)
	if err := Validate(m, map[string]string{"addr": "10.0.0.1", "mode": "slow"}); err != nil {
		t.Errorf("valid params: %v", err)
	}
	err := Validate(m, map[string]string{"foo": "1", "bar": "2", "mode": "medium", "addr": " "})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v", err)
	}
	if strings.Join(ve.Unknown, ",") != "bar,foo" || strings.Join(ve.Missing, ",") != "addr" || strings.Join(ve.Invalid, ",") != "mode=medium" {
		t.Errorf("%+v", ve)
	}
	for _, s := range []error{ErrUnknownParam, ErrMissingParam, ErrBadValue} {
		if !errors.Is(err, s) {
			t.Errorf("error does not wrap %v", s)
		}
	}
	want := `required parameter "addr" not defined; parameter "bar" is not known; parameter "foo" is not known; parameter "mode": value "medium" is not one of the allowed options`
	if err.Error() != want {
		t.Errorf("message\n got %s\nwant %s", err, want)
	}
	err = Validate(m, map[string]string{})
	if !errors.Is(err, ErrMissingParam) || errors.Is(err, ErrUnknownParam) {
		t.Errorf("only missing: %v", err)
	}
	if Validate(nil, map[string]string{"x": "y"}) != nil {
		t.Error("nil meta-data must not fail")
	}
}

func TestRenderFixture(t *testing.T) {
	got := Render("ocf:test:Fixture", loadFixture(t))
	want := `Test fixture (ocf:test:Fixture)

A fixture agent used by the ra tests.
It spans two lines.

Parameters (*: required, []: default):

addr* (string): Address
    Address to serve.

mode (select, [fast]): Mode
    How to run.

same (integer): 
    Same text

old (string): Old
    Old knob.

Operations' defaults (advisory minimum):

    start         timeout=20s
    stop          timeout=30s
    monitor       depth=0 timeout=20s interval=10s role=Promoted
    monitor       timeout=20s interval=11s role=Unpromoted
`
	if got != want {
		t.Errorf("Render:\n%s\nwant:\n%s", got, want)
	}
	if got := Render("lsb:x", &Metadata{}); got != "lsb:x\n" {
		t.Errorf("empty render %q", got)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"20s": 20 * time.Second, "20": 20 * time.Second, "500ms": 500 * time.Millisecond,
		"1m": time.Minute, "2min": 2 * time.Minute, "1h": time.Hour, "1.5s": 1500 * time.Millisecond,
		"PT1M30S": 90 * time.Second, "P1DT1H": 25 * time.Hour, " 10 s": 10 * time.Second,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "s", "10x", "P1Y", "PT", "PT5", "-5s", "P5H", "P"} {
		if d, err := ParseDuration(bad); !errors.Is(err, ErrBadDuration) {
			t.Errorf("ParseDuration(%q) = %v, %v", bad, d, err)
		}
	}
}

func TestTimeoutWarningsAndDefaultOps(t *testing.T) {
	m := loadFixture(t)
	got := TimeoutWarnings(m, []Op{
		{Name: "start", Timeout: "5s"},
		{Name: "stop", Timeout: "30"},
		{Name: "stop", Timeout: "PT29S"},
		{Name: "monitor", Role: "Slave", Interval: "11s", Timeout: "15s"},
		{Name: "monitor", Role: "Master", Interval: "10s", Timeout: "1m"},
		{Name: "monitor", Interval: "5s"},
		{Name: "migrate_to", Timeout: "1s"},
	})
	want := []string{
		"specified timeout 5s for start is smaller than the advised 20s",
		"specified timeout PT29S for stop is smaller than the advised 30s",
		"specified timeout 15s for monitor is smaller than the advised 20s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ops := DefaultOps(m)
	if len(ops) != 4 || ops[0] != (Op{Name: "start", Timeout: "20s"}) || ops[3] != (Op{Name: "monitor", Role: "Unpromoted", Interval: "11s", Timeout: "20s"}) {
		t.Errorf("default ops %+v", ops)
	}
}

func TestColumns(t *testing.T) {
	names := []string{"ClusterMon", "Dummy", "HealthCPU", "HealthIOWait", "HealthSMART", "Stateful", "SysInfo"}
	want := "ClusterMon      Dummy           HealthCPU       HealthIOWait    HealthSMART\n" +
		"Stateful        SysInfo         \n"
	if got := Columns(names, 80); got != want {
		t.Errorf("Columns:\n%q\nwant\n%q", got, want)
	}
	if got := Columns([]string{"a-very-long-agent-name-that-does-not-fit-in-eighty-columns-at-all-really", "b"}, 80); got != "a-very-long-agent-name-that-does-not-fit-in-eighty-columns-at-all-really\nb\n" {
		t.Errorf("one column: %q", got)
	}
	if Columns(nil, 80) != "" {
		t.Error("empty list")
	}
}
