package crmsyntax

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/cib"
)

func run(t *testing.T, src string) (*Session, error) {
	t.Helper()
	s := NewSession(&cib.Configuration{}, nil)
	return s, s.Exec(src)
}

func mustRun(t *testing.T, src string) *Session {
	t.Helper()
	s, err := run(t, src)
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	return s
}

func TestErrorsNameLineAndColumn(t *testing.T) {
	src := "primitive a Dummy\n\n# comment\nlocation l a \\\n   rule -inf: foo bogus 3\nprimitive b Dummy\n"
	s, err := run(t, src)
	if err == nil {
		t.Fatal("expected an error")
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not *Error", err)
	}
	if e.Line != 5 || e.Col != 19 {
		t.Errorf("error at line %d column %d, want line 5 column 19: %v", e.Line, e.Col, e)
	}
	if !errors.Is(err, ErrSyntax) {
		t.Errorf("error does not wrap ErrSyntax: %v", err)
	}
	if !strings.Contains(err.Error(), "line 5, column 19") {
		t.Errorf("message does not name the position: %v", err)
	}
	// the statements around the bad one still applied
	if len(s.cfg.Resources) != 2 || len(s.cfg.Constraints) != 0 {
		t.Errorf("got %d resources, %d constraints; want 2, 0", len(s.cfg.Resources), len(s.cfg.Constraints))
	}
	_, err = run(t, `primitive a Dummy params x="unterminated`)
	if !errors.As(err, &e) || e.Line != 1 || e.Col != 28 {
		t.Errorf("unterminated quote: %v", err)
	}
}

func TestLexerQuotingAndContinuations(t *testing.T) {
	s := mustRun(t, "primitive p Dummy \\\n\tparams a='x y' b=\"q\\\"q\" c=plain \\\n\tmeta d=\"1 2\"\n")
	r := s.cfg.Resources[0]
	got := map[string]string{}
	for _, set := range append(r.Instance, r.Meta...) {
		for _, p := range set.Pairs {
			got[p.Name] = p.Value
		}
	}
	want := map[string]string{"a": "x y", "b": `q"q`, "c": "plain", "d": "1 2"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
	out := s.Show(ShowOptions{})
	if !strings.Contains(out, `params a="x y" b="q\"q" c=plain`) {
		t.Errorf("show quoting:\n%s", out)
	}
}

func TestGeneratedIDs(t *testing.T) {
	s := mustRun(t, `node n1 attributes a=1
primitive p Dummy params x=1 params 2: y=2 meta m=1 op monitor interval=10s op start timeout=20s op monitor interval=10s role=Slave OCF_CHECK_LEVEL=10
location l p rule 50: #uname eq n1 or #uname eq n2 rule -inf: date spec hours=1-5
colocation c inf: p ( a b )
fencing_topology n1: s1 s2
property no-quorum-policy=stop
`)
	el := s.ConfigElement()
	ids := map[string]bool{}
	collectIDs(el, ids)
	for _, id := range []string{
		"n1-instance_attributes", "n1-instance_attributes-a",
		"p-instance_attributes", "p-instance_attributes-x", "p-instance_attributes-0", "p-instance_attributes-0-y",
		"p-meta_attributes-m", "p-monitor-10s", "p-start-0", "p-monitor-10s-0",
		"p-monitor-10s-0-instance_attributes-OCF_CHECK_LEVEL",
		"l-rule", "l-rule-expression", "l-rule-expression-0", "l-rule-0", "l-rule-0-expression", "l-rule-0-expression-date_spec",
		"c-0", "c-1", "fencing", "fencing-0", "cib-bootstrap-options-no-quorum-policy",
	} {
		if !ids[id] {
			t.Errorf("id %s not generated", id)
		}
	}
	if op := s.cfg.Resources[0].Ops[1]; op.Interval != "0" {
		t.Errorf("op start without interval got interval %q, want 0", op.Interval)
	}
}

func TestDuplicatesAndMissingObjects(t *testing.T) {
	s, err := run(t, "primitive a Dummy\nprimitive a Dummy params x=1\ngroup g a b\n")
	if !errors.Is(err, ErrDuplicateID) || !errors.Is(err, ErrMissingObject) {
		t.Fatalf("want duplicate and missing-object errors, got %v", err)
	}
	if len(s.cfg.Resources) != 1 || s.cfg.Resources[0].ID != "g" || len(s.cfg.Resources[0].Children) != 1 {
		t.Fatalf("group g should hold a: %+v", s.cfg.Resources)
	}
	if len(s.cfg.Resources[0].Children[0].Instance) != 0 {
		t.Error("the refused second primitive changed the first")
	}
	if err := s.Exec("group g2 a\n"); err == nil {
		t.Error("a resource in two groups was accepted")
	}
}

func TestShowDialects(t *testing.T) {
	s := mustRun(t, `primitive d ocf:linbit:drbd op monitor interval=29s role=Master
ms ms_d d meta notify=true master-max=1
primitive w Dummy
colocation c inf: w ms_d:Master
location l ms_d rule $role=Slave -inf: #uname eq n2
property stonith-enabled=true
`)
	classic := Show(s.cfg)
	for _, want := range []string{"ms ms_d d \\\n\tmeta notify=true master-max=1", "role=Master", "c inf: w ms_d:Master", "$role=Slave", "stonith-enabled=true"} {
		if !strings.Contains(classic, want) {
			t.Errorf("classic show lacks %q:\n%s", want, classic)
		}
	}
	cur := ShowWith(s.cfg, ShowOptions{Dialect: Current})
	for _, want := range []string{"clone ms_d d \\\n\tmeta notify=true promoted-max=1 promotable=true", "role=Promoted", "ms_d:Promoted", "$role=Unpromoted", "fencing-enabled=true"} {
		if !strings.Contains(cur, want) {
			t.Errorf("current show lacks %q:\n%s", want, cur)
		}
	}
	if strings.Contains(cur, "ms ms_d") || strings.Contains(cur, "Master") {
		t.Errorf("current dialect still uses classic words:\n%s", cur)
	}
	// the current dialect reads back into an equivalent configuration
	again := mustRun(t, cur)
	if got := ShowWith(again.cfg, ShowOptions{Dialect: Current}); got != cur {
		t.Errorf("current dialect does not round trip:\n%s\n---\n%s", cur, got)
	}
}

func TestSecretsMasked(t *testing.T) {
	s := mustRun(t, "primitive st stonith:fence_ipmilan params password=secret passwd=x login=admin\n")
	out := Show(s.cfg)
	if strings.Contains(out, "secret") || !strings.Contains(out, `password="******"`) || !strings.Contains(out, `passwd="******"`) {
		t.Errorf("secrets not masked:\n%s", out)
	}
	out = ShowWith(s.cfg, ShowOptions{Obscure: []string{"login"}})
	if !strings.Contains(out, `login="******"`) || !strings.Contains(out, "password=secret") {
		t.Errorf("custom obscure pattern:\n%s", out)
	}
	if out := ShowWith(s.cfg, ShowOptions{NoObscure: true}); !strings.Contains(out, "password=secret") {
		t.Errorf("NoObscure:\n%s", out)
	}
}

func TestDeleteShrinksSetsAndRenameUpdatesRefs(t *testing.T) {
	s := mustRun(t, `primitive d1 Dummy
primitive d2 Dummy
primitive d3 Dummy
primitive d4 Dummy
order o1 Serialize: d1 d2 ( d3 d4 )
colocation c1 inf: d4 ( d1 d2 d3 )
colocation c2 inf: d1 d2 d3 d4
clone cl d1
location l cl 100: n1
delete d2 d4
rename d3 x3
delete cl
`)
	out := s.Show(ShowOptions{})
	for _, want := range []string{"order o1 Serialize: d1 x3", "colocation c1 inf: ( d1 x3 )", "colocation c2 inf: x3 d1", "location l d1 100: n1"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if err := s.Exec("delete nosuch\n"); !errors.Is(err, ErrMissingObject) {
		t.Errorf("delete of a missing object: %v", err)
	}
}

func TestFilterSed(t *testing.T) {
	s := mustRun(t, "primitive p1 Dummy\nprimitive p2 Dummy\nprimitive d1 Dummy\ngroup g1 p1 p2\n")
	if err := s.Exec(`filter "sed '/g1/s/p1/d1/'"` + "\n"); err != nil {
		t.Fatal(err)
	}
	if out := s.Show(ShowOptions{}); !strings.Contains(out, "group g1 d1 p2") || !strings.Contains(out, "primitive p1 Dummy") {
		t.Errorf("filter result:\n%s", out)
	}
}

func TestCheckCommit(t *testing.T) {
	s := mustRun(t, "primitive a Dummy\nprimitive b Dummy\ncolocation c inf: a b\n")
	if err := s.CheckCommit(); err != nil {
		t.Errorf("valid configuration refused: %v", err)
	}
	s = mustRun(t, "primitive a Dummy\ncolocation c inf: a missing\n")
	if err := CheckCommit(s.cfg); !errors.Is(err, ErrCommit) || !errors.Is(err, cib.ErrDanglingRef) {
		t.Errorf("dangling reference accepted: %v", err)
	}
	s, _ = run(t, "group g nothing meta target-role=Stopped\n")
	if err := s.CheckCommit(); !errors.Is(err, ErrCommit) {
		t.Errorf("empty group accepted: %v", err)
	}
}

func TestApplyAndComments(t *testing.T) {
	cfg := &cib.Configuration{}
	if err := Apply(cfg, "node n1\nprimitive p Dummy\n"); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Nodes) != 1 || len(cfg.Resources) != 1 {
		t.Fatalf("Apply did not change cfg: %+v", cfg)
	}
	s := mustRun(t, "# the web server\nprimitive web Dummy\n")
	if out := s.Show(ShowOptions{}); out != "# the web server\nprimitive web Dummy\n" {
		t.Errorf("comment not kept: %q", out)
	}
	if out := s.Show(ShowOptions{NoComments: true}); out != "primitive web Dummy\n" {
		t.Errorf("NoComments: %q", out)
	}
}

func TestShowFromParsedCIBUsesHeuristicOrder(t *testing.T) {
	s := mustRun(t, "primitive p Dummy op start timeout=20s op monitor interval=10s timeout=5s role=Slave\n")
	c, err := cib.Parse((&cib.CIB{Config: *s.cfg}).Marshal())
	if err != nil {
		t.Fatal(err)
	}
	want := "primitive p Dummy \\\n\top start timeout=20s interval=0 \\\n\top monitor interval=10s role=Slave timeout=5s\n"
	if got := Show(&c.Config); got != want {
		t.Errorf("show of a parsed CIB:\n%q\nwant\n%q", got, want)
	}
}

func TestShowSelectedIDs(t *testing.T) {
	s := mustRun(t, "node n1\nprimitive a Dummy\nprimitive b Dummy\nclone c b\nlocation l a 10: n1\nfencing_topology n1: a\nproperty x=1\n")
	got := s.Show(ShowOptions{IDs: []string{"a", "c", "l", "fencing_topology", "cib-bootstrap-options"}})
	want := "primitive a Dummy\nclone c b\nlocation l a 10: n1\nfencing_topology a\nproperty cib-bootstrap-options: \\\n\tx=1\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func BenchmarkParseAndShow(b *testing.B) {
	data, err := os.ReadFile("testdata/oracle-extra/misc-1/input.crm")
	if err != nil {
		b.Fatal(err)
	}
	src := string(data)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s := NewSession(&cib.Configuration{}, nil)
		_ = s.Exec(src)
		_ = s.Show(ShowOptions{})
	}
}

func TestUpdateReplacesInPlace(t *testing.T) {
	s := mustRun(t, `primitive a Dummy params x=1
primitive b Dummy
primitive c Dummy
group g a b
location l g 100: n1
colocation co inf: c g
fencing_topology n1: c
`)
	// the "edit" flow: show one object, change it, apply the text
	text := s.Show(ShowOptions{IDs: []string{"a"}})
	text = strings.Replace(text, "x=1", "x=2 y=3", 1)
	if err := s.Update(text + "group g b a\nlocation l g -inf: n2\n"); err != nil {
		t.Fatal(err)
	}
	out := s.Show(ShowOptions{})
	for _, want := range []string{"primitive a Dummy \\\n\tparams x=2 y=3", "group g b a", "location l g -inf: n2", "colocation co inf: c g", "fencing_topology \\\n\tn1: c"} {
		if !strings.Contains(out, want) {
			t.Errorf("after update, show lacks %q:\n%s", want, out)
		}
	}
	ids := map[string]bool{}
	collectIDs(s.ConfigElement(), ids)
	if !ids["a-instance_attributes-x"] || ids["a-instance_attributes-0"] {
		t.Errorf("replacement did not reuse the generated ids: %v", ids)
	}
	// a group that drops a member leaves it at top level; a failing
	// replacement keeps the old object
	if err := s.Update("group g a\n"); err != nil {
		t.Fatal(err)
	}
	if err := s.Update("primitive c Dummy params bad\"quote\n"); err == nil {
		t.Fatal("bad statement accepted")
	}
	out = s.Show(ShowOptions{})
	if !strings.Contains(out, "group g a\n") || !strings.Contains(out, "primitive b Dummy") || !strings.Contains(out, "primitive c Dummy\n") {
		t.Errorf("after group update:\n%s", out)
	}
	if len(s.cfg.Resources) != 3 {
		t.Errorf("want g, b and c at top level, got %d resources", len(s.cfg.Resources))
	}
	// Exec (not Update) still refuses duplicates
	if err := s.Exec("primitive a Dummy\n"); !errors.Is(err, ErrDuplicateID) {
		t.Errorf("Exec accepted a duplicate: %v", err)
	}
}

func TestMonitorAndTicket(t *testing.T) {
	s := mustRun(t, `primitive p Dummy
primitive q Dummy
monitor p:Master 10s:20s
rsc_ticket t1 tk: p q:Started loss-policy=fence
rsc_ticket t2 tk: q
delete q
`)
	out := s.Show(ShowOptions{})
	for _, want := range []string{"op monitor role=Master interval=10s timeout=20s", "rsc_ticket t1 tk: p loss-policy=fence"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "t2") {
		t.Errorf("ticket on a deleted resource kept:\n%s", out)
	}
	if err := s.Exec("rsc_ticket t3 tk: p missing\n"); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckCommit(); !errors.Is(err, ErrCommit) {
		t.Errorf("ticket on a missing resource accepted: %v", err)
	}
}

// TestLoadUpdateMergesDefaults: "load update" sets the given properties and
// defaults and keeps the others (crmsh 4.4.1 does the same); Update, used
// by edit, replaces the set whole.
func TestLoadUpdateMergesDefaults(t *testing.T) {
	base := "property stonith-enabled=false no-quorum-policy=ignore\nrsc_defaults migration-threshold=3\n"
	cfg := &cib.Configuration{}
	s := NewSession(cfg, nil)
	if err := s.Exec(base); err != nil {
		t.Fatal(err)
	}
	if err := s.LoadUpdate("property two-node-mode=true\nrsc_defaults resource-stickiness=100\n"); err != nil {
		t.Fatal(err)
	}
	out := s.Show(ShowOptions{NoObscure: true})
	for _, want := range []string{"stonith-enabled=false", "no-quorum-policy=ignore", "two-node-mode=true", "migration-threshold=3", "resource-stickiness=100"} {
		if !strings.Contains(out, want) {
			t.Errorf("after load update, %q is missing:\n%s", want, out)
		}
	}
	if err := s.Update("property cib-bootstrap-options: stonith-enabled=true\n"); err != nil {
		t.Fatal(err)
	}
	if out := s.Show(ShowOptions{NoObscure: true}); strings.Contains(out, "no-quorum-policy") || !strings.Contains(out, "stonith-enabled=true") {
		t.Errorf("Update must replace the property set:\n%s", out)
	}
}
