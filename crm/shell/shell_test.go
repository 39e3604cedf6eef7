package shell

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/agents/ra"
	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
)

// fakeRunner records the commands handed to it.
type fakeRunner struct {
	calls   []string
	shadows []string
	fail    map[string]bool
}

func (f *fakeRunner) Run(ctx context.Context, level, args []string, stdout, stderr io.Writer) error {
	line := strings.Join(append(append([]string(nil), level...), args...), " ")
	f.calls = append(f.calls, line)
	name, _, _ := ShadowFromContext(ctx)
	f.shadows = append(f.shadows, name)
	if f.fail[line] {
		io.WriteString(stderr, "boom\n")
		return errors.New("exit status 1")
	}
	io.WriteString(stdout, "ran "+line+"\n")
	return nil
}

// fakeMeta is an AgentMeta with fixed answers.
type fakeMeta struct{}

func (fakeMeta) Agents(context.Context) ([]string, error) {
	return []string{"ocf:heartbeat:IPaddr2", "ocf:pacemaker:Dummy"}, nil
}

func (fakeMeta) Params(_ context.Context, agent string) ([]string, error) {
	if agent == "IPaddr2" || agent == "ocf:heartbeat:IPaddr2" {
		return []string{"ip", "cidr_netmask", "nic"}, nil
	}
	return nil, errors.New("no such agent")
}

type answers []bool

func (a *answers) Ask(string) (bool, bool) {
	if len(*a) == 0 {
		return false, false
	}
	v := (*a)[0]
	*a = (*a)[1:]
	return v, true
}

const baseCIB = `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="3" num_updates="0" admin_epoch="0">
<configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
<resources><primitive id="web" class="ocf" provider="heartbeat" type="apache"/><primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"><instance_attributes id="vip-instance_attributes"><nvpair id="vip-instance_attributes-ip" name="ip" value="10.0.0.1"/></instance_attributes></primitive></resources>
<constraints><rsc_colocation id="c1" rsc="web" with-rsc="vip" score="INFINITY"/></constraints></configuration><status/></cib>`

type harness struct {
	sh       *Shell
	run      *fakeRunner
	out, err *bytes.Buffer
	file     string
	dir      string
}

func newHarness(t *testing.T, mod func(*Options)) *harness {
	t.Helper()
	return newHarnessTB(t, mod)
}

func newHarnessF(f *testing.F) *harness { return newHarnessTB(f, nil) }

func newHarnessTB(t testing.TB, mod func(*Options)) *harness {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "cib.xml")
	if err := os.WriteFile(file, []byte(baseCIB), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &harness{run: &fakeRunner{fail: map[string]bool{}}, out: &bytes.Buffer{}, err: &bytes.Buffer{}, file: file, dir: dir}
	o := Options{Runner: h.run, Live: &FileStore{Path: file}, ShadowDir: filepath.Join(dir, "shadows"),
		Meta: fakeMeta{}, Node: "node1", Stdout: h.out, Stderr: h.err}
	if mod != nil {
		mod(&o)
	}
	sh, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.sh = sh
	return h
}

func (h *harness) exec(t *testing.T, line string) error {
	t.Helper()
	return h.sh.Exec(context.Background(), line, Source{})
}

func (h *harness) cib(t *testing.T) *cib.CIB {
	t.Helper()
	c, err := (&FileStore{Path: h.file}).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func hasResource(c *cib.CIB, id string) bool {
	return contains(resourceIDs(&c.Config, false), id)
}

func TestLevelsNavigation(t *testing.T) {
	h := newHarness(t, nil)
	steps := []struct {
		line   string
		prompt string
	}{
		{"configure", "crm(live/node1)configure# "},
		{"up", "crm(live/node1)# "},
		{"cfg", "crm(live/node1)configure# "},
		{"cd ../resource", "crm(live/node1)resource# "},
		{"end", "crm(live/node1)# "},
		{"cd node", "crm(live/node1)node# "},
		{"cd ..", "crm(live/node1)# "},
		{"rsc", "crm(live/node1)resource# "},
		{"cd", "crm(live/node1)# "},
	}
	for _, st := range steps {
		if err := h.exec(t, st.line); err != nil {
			t.Fatalf("%q: %v", st.line, err)
		}
		if got := h.sh.Prompt(); got != st.prompt {
			t.Fatalf("after %q prompt = %q, want %q", st.line, got, st.prompt)
		}
	}
	if err := h.exec(t, "frobnicate"); !errors.Is(err, ErrUnknownCommand) {
		t.Errorf("unknown command: %v", err)
	}
	if !strings.Contains(h.err.String(), `ERROR: unknown command: "frobnicate"`) {
		t.Errorf("stderr %q", h.err.String())
	}
	if err := h.exec(t, "cd nosuch"); !errors.Is(err, ErrUsage) {
		t.Errorf("cd nosuch: %v", err)
	}
	if err := h.exec(t, "quit"); !errors.Is(err, ErrQuit) {
		t.Errorf("quit: %v", err)
	}
}

func TestRunnerDelegation(t *testing.T) {
	h := newHarness(t, nil)
	for _, l := range []string{"status", "resource start web", "resource", "stop 'web'", "up", "node standby node2", "verify",
		"stonith", "history", "up", "stonith list"} {
		if err := h.exec(t, l); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
	}
	want := []string{"status", "resource start web", "resource stop web", "node standby node2", "configure verify",
		"stonith history", "stonith list"}
	if !reflect.DeepEqual(h.run.calls, want) {
		t.Errorf("calls = %q, want %q", h.run.calls, want)
	}
	h.run.fail["resource stop web"] = true
	if err := h.exec(t, "resource stop web"); !errors.Is(err, ErrCommandFailed) {
		t.Errorf("failing command: %v", err)
	}
	if err := h.exec(t, "resource frob"); !errors.Is(err, ErrUnknownCommand) {
		t.Errorf("unknown resource command: %v", err)
	}
}

func TestCompletion(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	check := func(line string, want ...string) {
		t.Helper()
		got := h.sh.Complete(ctx, line)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Complete(%q) = %q, want %q", line, got, want)
		}
	}
	check("conf", "configure ")
	check("c", "cd ", "cfg ", "cib ", "configure ")
	check("resource st", "start ", "status ", "stop ")
	check("resource start ", "vip ", "web ")
	check("node standby n", "node1 ", "node2 ")
	if err := h.exec(t, "configure"); err != nil {
		t.Fatal(err)
	}
	check("sh", "show ")
	check("show v", "vip ")
	check("delete c", "c1 ", "cib-bootstrap-options ")
	check("primitive p ocf:h", "ocf:heartbeat:IPaddr2 ")
	check("primitive p IPaddr2 params ", "cidr_netmask=", "ip=", "meta ", "nic=", "op ", "params ", "utilization ")
	check("primitive p IPaddr2 params ip=1.2.3.4 ", "cidr_netmask=", "meta ", "nic=", "op ", "params ", "utilization ")
	check("primitive p IPaddr2 params ip=1.2.3.4 op mon", "monitor ")
	check("group g w", "web ")
	check("location l1 v", "vip ")
	check("location l1 vip 100: n", "node1 ", "node2 ")
	// ids created in the session complete at once
	if err := h.exec(t, "primitive vip2 Dummy"); err != nil {
		t.Fatal(err)
	}
	check("show vi", "vip ", "vip2 ")
	check("cib use ", "live ")
	if err := h.exec(t, "cib new s1 empty"); err != nil {
		t.Fatal(err)
	}
	check("cib use ", "live ", "s1 ")
	// WordCompleter keeps the head and tail of the line
	head, cands, tail := h.sh.WordCompleter(ctx)("show w rest", 6)
	if head != "show " || tail != " rest" || !reflect.DeepEqual(cands, []string{"web "}) {
		t.Errorf("WordCompleter = %q %q %q", head, cands, tail)
	}
}

func TestConfigureSessionCommit(t *testing.T) {
	h := newHarness(t, nil)
	for _, l := range []string{"configure", "primitive d1 ocf:pacemaker:Dummy op monitor interval=10s", "group g d1"} {
		if err := h.exec(t, l); err != nil {
			t.Fatalf("%q: %v\n%s", l, err, h.err)
		}
	}
	if hasResource(h.cib(t), "d1") {
		t.Fatal("change committed before commit")
	}
	h.out.Reset()
	if err := h.exec(t, "show d1"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.out.String(), "primitive d1 ocf:pacemaker:Dummy") {
		t.Errorf("show d1 = %q", h.out)
	}
	h.out.Reset()
	if err := h.exec(t, "show changed"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.out.String(), "group g d1") || strings.Contains(h.out.String(), "web") {
		t.Errorf("show changed = %q", h.out)
	}
	if err := h.exec(t, "commit"); err != nil {
		t.Fatalf("commit: %v\n%s", err, h.err)
	}
	c := h.cib(t)
	if !hasResource(c, "d1") || c.GetAttr("epoch") != "4" {
		t.Errorf("after commit: d1 %v epoch %s", hasResource(c, "d1"), c.GetAttr("epoch"))
	}
	// a second change committed when the level is left (non-interactive)
	if err := h.exec(t, "delete g"); err != nil {
		t.Fatal(err)
	}
	if err := h.exec(t, "up"); err != nil {
		t.Fatal(err)
	}
	if hasResource(h.cib(t), "g") {
		t.Error("leaving the level did not commit")
	}
}

func TestCommitRefusedOnErrorsAndStale(t *testing.T) {
	h := newHarness(t, nil)
	_ = h.exec(t, "configure")
	if err := h.exec(t, "location l1 nosuch 100: node1"); err != nil {
		t.Fatalf("location: %v", err)
	}
	if err := h.exec(t, "commit"); !errors.Is(err, ErrNotCommitted) {
		t.Fatalf("commit with dangling reference: %v", err)
	}
	if err := h.exec(t, "refresh"); err != nil {
		t.Fatal(err)
	}
	if err := h.exec(t, "primitive d9 Dummy"); err != nil {
		t.Fatal(err)
	}
	// someone else changes the CIB meanwhile
	cur := h.cib(t)
	next, err := store.ApplyTo(cur, store.Command{Op: store.OpReplaceConfiguration, ExpectEpoch: store.EpochString(cur), XML: cur.Config.Element().String()})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.file, next.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	err = h.exec(t, "commit")
	if !errors.Is(err, store.ErrStaleEpoch) {
		t.Fatalf("stale commit: %v", err)
	}
	if hasResource(h.cib(t), "d9") {
		t.Error("stale commit wrote")
	}
}

func TestInteractiveLeaveAsks(t *testing.T) {
	ans := answers{false}
	h := newHarness(t, func(o *Options) { o.Interactive = true; o.Ask = &ans })
	_ = h.exec(t, "configure")
	_ = h.exec(t, "primitive d1 Dummy")
	if err := h.exec(t, "up"); err != nil {
		t.Fatal(err)
	}
	if hasResource(h.cib(t), "d1") {
		t.Error("answer no still committed")
	}
	ans = answers{true, true} // commit? and commit despite the stonith warning?
	_ = h.exec(t, "configure")
	_ = h.exec(t, "primitive d2 Dummy")
	if err := h.exec(t, "quit"); !errors.Is(err, ErrQuit) {
		t.Fatal(err)
	}
	if !hasResource(h.cib(t), "d2") {
		t.Error("answer yes did not commit")
	}
}

func TestBatchErrorsNameFileLine(t *testing.T) {
	h := newHarness(t, nil)
	script := "# setup\nconfigure\nprimitive d1 Dummy\nprimitive d1 Dummy\n\nprimitive d2 Dummy \\\n  op monitor interval=10s\nlocation l1 d2 100 node1\nbogus\n"
	err := h.sh.RunBatch(context.Background(), strings.NewReader(script), "s.crm")
	if !errors.Is(err, ErrCommandFailed) {
		t.Fatalf("RunBatch: %v", err)
	}
	msgs := h.err.String()
	for _, want := range []string{"ERROR: s.crm:4:11: ", "ERROR: s.crm:8:16: ", `ERROR: s.crm:9: unknown command: configure "bogus"`} {
		if !strings.Contains(msgs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msgs)
		}
	}
	c := h.cib(t)
	if !hasResource(c, "d1") || !hasResource(c, "d2") {
		t.Error("end of -f input did not commit the valid statements")
	}
	// a clean batch succeeds
	h2 := newHarness(t, nil)
	if err := h2.sh.RunBatch(context.Background(), strings.NewReader("configure primitive x Dummy\nresource start x\n"), "ok.crm"); err != nil {
		t.Fatalf("clean batch: %v\n%s", err, h2.err)
	}
	if !hasResource(h2.cib(t), "x") || !reflect.DeepEqual(h2.run.calls, []string{"resource start x"}) {
		t.Errorf("clean batch: calls %q", h2.run.calls)
	}
}

func TestEditLoadSave(t *testing.T) {
	var edits []func(string) string
	h := newHarness(t, func(o *Options) {
		o.Editor = func(_ context.Context, path string) error {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f := edits[0]
			edits = edits[1:]
			return os.WriteFile(path, []byte(f(string(data))), 0o600)
		}
	})
	_ = h.exec(t, "configure")
	edits = append(edits, func(s string) string { return strings.Replace(s, "10.0.0.1", "10.0.0.2", 1) })
	if err := h.exec(t, "edit vip"); err != nil {
		t.Fatalf("edit: %v\n%s", err, h.err)
	}
	h.out.Reset()
	_ = h.exec(t, "show vip")
	if !strings.Contains(h.out.String(), "ip=10.0.0.2") {
		t.Errorf("after edit: %q", h.out)
	}
	// broken text: batch mode gives up without changing anything
	edits = append(edits, func(s string) string { return s + "primitive broken\n" })
	if err := h.exec(t, "edit"); !errors.Is(err, ErrCommandFailed) {
		t.Errorf("broken edit: %v", err)
	}
	if !strings.Contains(h.err.String(), "ERROR: edited text:") {
		t.Errorf("edit errors: %s", h.err)
	}
	// whole-config edit removing an object
	edits = append(edits, func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "colocation") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	})
	if err := h.exec(t, "edit"); err != nil {
		t.Fatalf("edit: %v\n%s", err, h.err)
	}
	save := filepath.Join(h.dir, "saved.crm")
	if err := h.exec(t, "save "+save); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(save)
	if strings.Contains(string(data), "colocation") || !strings.Contains(string(data), "10.0.0.2") {
		t.Errorf("saved: %s", data)
	}
	upd := filepath.Join(h.dir, "upd.crm")
	os.WriteFile(upd, []byte("primitive extra Dummy\n"), 0o644)
	if err := h.exec(t, "load update "+upd); err != nil {
		t.Fatal(err)
	}
	if err := h.exec(t, "commit"); err != nil {
		t.Fatalf("commit: %v\n%s", err, h.err)
	}
	c := h.cib(t)
	if !hasResource(c, "extra") || len(c.Config.Constraints) != 0 {
		t.Errorf("after load update+commit: %v", objectIDs(&c.Config))
	}
	if err := h.exec(t, "load replace "+save); err != nil {
		t.Fatal(err)
	}
	if err := h.exec(t, "commit"); err != nil {
		t.Fatal(err)
	}
	if hasResource(h.cib(t), "extra") {
		t.Error("load replace kept extra")
	}
	os.WriteFile(upd, []byte("primitive bad Dummy\nprimitive\n"), 0o644)
	if err := h.exec(t, "load replace "+upd); !errors.Is(err, ErrCommandFailed) || !strings.Contains(h.err.String(), upd+":2") {
		t.Errorf("bad load: %v\n%s", err, h.err)
	}
}

func TestShadows(t *testing.T) {
	h := newHarness(t, nil)
	for _, l := range []string{"cib new test", "cib use test", "configure", "primitive s1 Dummy", "commit"} {
		if err := h.exec(t, l); err != nil {
			t.Fatalf("%q: %v\n%s", l, err, h.err)
		}
	}
	if h.sh.Prompt() != "crm(test/node1)configure# " {
		t.Errorf("prompt %q", h.sh.Prompt())
	}
	if hasResource(h.cib(t), "s1") {
		t.Fatal("shadow commit reached the live CIB")
	}
	if err := h.exec(t, "cib new test"); !errors.Is(err, ErrShadowExists) {
		t.Errorf("duplicate cib new: %v", err)
	}
	// the Runner learns about the shadow
	_ = h.exec(t, "up")
	_ = h.exec(t, "resource start s1")
	if n := len(h.run.shadows); n == 0 || h.run.shadows[n-1] != "test" {
		t.Errorf("runner shadows %q", h.run.shadows)
	}
	h.out.Reset()
	if err := h.exec(t, "cib diff"); err != nil {
		t.Fatal(err)
	}
	if d := h.out.String(); !strings.Contains(d, "--- live\n+++ shadow.test\n") || !strings.Contains(d, "\n+primitive s1 Dummy\n") {
		t.Errorf("diff:\n%s", d)
	}
	if err := h.exec(t, "cib delete test"); !errors.Is(err, ErrUsage) {
		t.Errorf("deleting the shadow in use: %v", err)
	}
	if err := h.exec(t, "cib commit test"); err != nil {
		t.Fatal(err)
	}
	if !hasResource(h.cib(t), "s1") {
		t.Error("cib commit did not reach the live CIB")
	}
	_ = h.exec(t, "cib use live")
	if err := h.exec(t, "cib delete test"); err != nil {
		t.Fatal(err)
	}
	h.out.Reset()
	_ = h.exec(t, "cib list")
	if h.out.String() != "" {
		t.Errorf("list after delete: %q", h.out)
	}
	if err := h.exec(t, "cib use nosuch"); !errors.Is(err, ErrNoShadow) {
		t.Errorf("use nosuch: %v", err)
	}
	if err := h.exec(t, "cib new ../x"); !errors.Is(err, ErrBadShadowName) {
		t.Errorf("bad name: %v", err)
	}
}

func TestShadowState(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "sub", ".in-use")
	if n, err := LoadShadowState(f); n != "" || err != nil {
		t.Fatalf("empty state: %q %v", n, err)
	}
	if err := SaveShadowState(f, "abc"); err != nil {
		t.Fatal(err)
	}
	if n, _ := LoadShadowState(f); n != "abc" {
		t.Errorf("state %q", n)
	}
	if err := SaveShadowState(f, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f); !os.IsNotExist(err) {
		t.Error("state not removed")
	}
}

func TestUnifiedDiff(t *testing.T) {
	if d := UnifiedDiff("a", "b", "x\ny\n", "x\ny\n"); d != "" {
		t.Errorf("equal: %q", d)
	}
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"
	b := "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n"
	want := "--- a\n+++ b\n@@ -2,9 +2,10 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n 10\n+11\n"
	if d := UnifiedDiff("a", "b", a, b); d != want {
		t.Errorf("diff =\n%s\nwant\n%s", d, want)
	}
	want2 := "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+new\n"
	if d := UnifiedDiff("a", "b", "", "new\n"); d != want2 {
		t.Errorf("diff from empty = %q", d)
	}
}

func TestSplitWords(t *testing.T) {
	cases := map[string][]string{
		`a b  c`:                  {"a", "b", "c"},
		`set "x y" 'z w'`:         {"set", "x y", "z w"},
		`p d params ip="1 2" x=1`: {"p", "d", "params", "ip=1 2", "x=1"},
		"a \\\n b":                {"a", "b"},
		`esc\ aped`:               {"esc aped"},
	}
	for in, want := range cases {
		got, err := SplitWords(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := SplitWords(`a "b`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestCatalogMeta(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "resource.d", "test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := `#!/bin/sh
[ "$1" = meta-data ] || exit 3
cat <<'X'
<?xml version="1.0"?>
<resource-agent name="Fake"><version>1.0</version><parameters>
<parameter name="alpha" unique="0"><content type="string"/></parameter>
<parameter name="old" deprecated="true"><content type="string"/></parameter>
<parameter name="beta"><content type="string"/></parameter>
</parameters><actions><action name="start" timeout="20s"/></actions></resource-agent>
X
`
	if err := os.WriteFile(filepath.Join(dir, "Fake"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	m := &CatalogMeta{Catalog: &ra.Catalog{OCFRoot: root}, Classes: []string{"ocf"}}
	ctx := context.Background()
	agents, err := m.Agents(ctx)
	if err != nil || !reflect.DeepEqual(agents, []string{"ocf:test:Fake"}) {
		t.Fatalf("Agents = %q, %v", agents, err)
	}
	p, err := m.Params(ctx, "ocf:test:Fake")
	if err != nil || !reflect.DeepEqual(p, []string{"alpha", "beta"}) {
		t.Fatalf("Params = %q, %v", p, err)
	}
	if _, err := m.Params(ctx, "ocf:test:Missing"); err == nil {
		t.Error("missing agent gave parameters")
	}
	// the shell completes from it
	h := newHarness(t, func(o *Options) { o.Meta = m })
	_ = h.exec(t, "configure")
	if got := h.sh.Complete(ctx, "primitive x ocf:test:Fake params b"); !reflect.DeepEqual(got, []string{"beta="}) {
		t.Errorf("completion = %q", got)
	}
}

func TestRenameErase(t *testing.T) {
	h := newHarness(t, nil)
	for _, l := range []string{"configure", "rename vip ip1", "commit"} {
		if err := h.exec(t, l); err != nil {
			t.Fatalf("%q: %v\n%s", l, err, h.err)
		}
	}
	c := h.cib(t)
	if !hasResource(c, "ip1") || hasResource(c, "vip") {
		t.Fatalf("rename: %v", objectIDs(&c.Config))
	}
	if !strings.Contains(string(c.Marshal()), `with-rsc="ip1"`) {
		t.Error("rename did not update the colocation")
	}
	if err := h.exec(t, "rename nosuch x"); !errors.Is(err, ErrCommandFailed) {
		t.Errorf("rename of a missing object: %v", err)
	}
	if err := h.exec(t, "erase"); err != nil {
		t.Fatal(err)
	}
	h.out.Reset()
	_ = h.exec(t, "show")
	if strings.Contains(h.out.String(), "primitive") || !strings.Contains(h.out.String(), "node1") {
		t.Errorf("after erase: %q", h.out)
	}
	h.out.Reset()
	_ = h.exec(t, "help")
	if !strings.Contains(h.out.String(), "commit") {
		t.Errorf("help: %q", h.out)
	}
}

// scriptReader is a LineReader replaying lines.
type scriptReader struct {
	lines   []string
	prompts []string
	history []string
}

func (r *scriptReader) Prompt(p string) (string, error) {
	r.prompts = append(r.prompts, p)
	if len(r.lines) == 0 {
		return "", io.EOF
	}
	l := r.lines[0]
	r.lines = r.lines[1:]
	if l == "^C" {
		return "", ErrInterrupted
	}
	return l, nil
}

func (r *scriptReader) AppendHistory(l string) { r.history = append(r.history, l) }

// blockingRunner blocks until its context ends.
type blockingRunner struct{ started chan struct{} }

func (b *blockingRunner) Run(ctx context.Context, _, _ []string, _, _ io.Writer) error {
	close(b.started)
	<-ctx.Done()
	return ctx.Err()
}

func TestRunInteractive(t *testing.T) {
	ans := answers{true, true}
	h := newHarness(t, func(o *Options) { o.Interactive = true; o.Ask = &ans })
	r := &scriptReader{lines: []string{"configure", "primitive d1 \\", "Dummy", "prim^C", "^C", "show d1"}}
	if err := h.sh.RunInteractive(context.Background(), r); err != nil {
		t.Fatalf("RunInteractive: %v\n%s", err, h.err)
	}
	wantPrompts := []string{"crm(live/node1)# ", "crm(live/node1)configure# ", "> ", "crm(live/node1)configure# ",
		"crm(live/node1)configure# ", "crm(live/node1)configure# ", "crm(live/node1)configure# "}
	// "prim^C" is a literal line (an unknown command), "^C" an interrupt
	if !reflect.DeepEqual(r.prompts, wantPrompts) {
		t.Errorf("prompts = %q", r.prompts)
	}
	if !reflect.DeepEqual(r.history, []string{"configure", "primitive d1 \\ Dummy", "prim^C", "show d1"}) {
		t.Errorf("history = %q", r.history)
	}
	if !hasResource(h.cib(t), "d1") {
		t.Error("end of input did not commit after yes")
	}
}

func TestInterruptCancelsOnlyTheCommand(t *testing.T) {
	intr := make(chan os.Signal, 1)
	br := &blockingRunner{started: make(chan struct{})}
	h := newHarness(t, func(o *Options) { o.Interactive = true; o.Interrupts = intr })
	h.sh.o.Runner = br
	go func() { // ends after one send
		<-br.started
		intr <- os.Interrupt
	}()
	r := &scriptReader{lines: []string{"status", "cd resource"}}
	if err := h.sh.RunInteractive(context.Background(), r); err != nil {
		t.Fatalf("RunInteractive: %v", err)
	}
	if h.sh.Prompt() != "crm(live/node1)resource# " {
		t.Errorf("shell did not continue after the interrupt: %q", h.sh.Prompt())
	}
}

func TestOneShotConfigureKeepsNoSession(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.exec(t, "configure show web"); err != nil {
		t.Fatal(err)
	}
	// the CIB changes behind the shell's back
	if err := os.WriteFile(h.file, []byte(strings.ReplaceAll(baseCIB, `"web"`, `"www"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	h.out.Reset()
	if err := h.exec(t, "configure show www"); err != nil {
		t.Fatalf("stale one-shot session: %v\n%s", err, h.err)
	}
	if !strings.Contains(h.out.String(), "primitive www") {
		t.Errorf("show: %q", h.out)
	}
}

func TestEditAgainVerifyShowXMLReset(t *testing.T) {
	ans := answers{true} // edit again after the first broken text
	var edits []string
	h := newHarness(t, func(o *Options) {
		o.Interactive = true
		o.Ask = &ans
		o.Editor = func(_ context.Context, path string) error {
			e := edits[0]
			edits = edits[1:]
			return os.WriteFile(path, []byte(e), 0o600)
		}
	})
	_ = h.exec(t, "configure")
	edits = []string{"primitive web\n", "primitive web ocf:heartbeat:nginx\n"}
	if err := h.exec(t, "edit web"); err != nil {
		t.Fatalf("edit: %v\n%s", err, h.err)
	}
	if len(edits) != 0 {
		t.Errorf("editor not reopened: %d edits left", len(edits))
	}
	h.out.Reset()
	_ = h.exec(t, "show xml web")
	if !strings.Contains(h.out.String(), `type="nginx"`) {
		t.Errorf("show xml: %q", h.out)
	}
	h.err.Reset()
	if err := h.exec(t, "verify"); err != nil {
		t.Errorf("verify with only warnings: %v", err)
	}
	if !strings.Contains(h.err.String(), "WARNING: stonith-enabled is false") {
		t.Errorf("verify output: %q", h.err)
	}
	_ = h.exec(t, "order o1 Mandatory: web nosuch")
	if err := h.exec(t, "verify"); !errors.Is(err, ErrCommandFailed) {
		t.Errorf("verify with a dangling reference: %v", err)
	}
	_ = h.exec(t, "refresh")
	// cib reset copies the live CIB over a shadow
	_ = h.exec(t, "cib new r empty")
	if err := h.exec(t, "cib reset r"); err != nil {
		t.Fatal(err)
	}
	c, err := h.sh.sh.Store("r").Read(context.Background())
	if err != nil || !hasResource(c, "web") {
		t.Errorf("reset shadow: %v", err)
	}
}
