package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/membership"
)

const offlineCIB = `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="5" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="d1" class="ocf" provider="pacemaker" type="Dummy"/>
      <group id="g"><primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2"><instance_attributes id="ip-instance_attributes"><nvpair id="ip-instance_attributes-ip" name="ip" value="10.0.0.1"/></instance_attributes></primitive></group>
    </resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="1"><instance_attributes id="status-1"><nvpair id="status-1-fail-count-d1.monitor_10000" name="fail-count-d1#monitor_10000" value="1"/></instance_attributes></transient_attributes>
      <lrm id="1"><lrm_resources>
        <lrm_resource id="d1" class="ocf" provider="pacemaker" type="Dummy">
          <lrm_rsc_op id="d1_last_0" operation_key="d1_start_0" operation="start" transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x" call-id="2" rc-code="0" op-status="0" interval="0"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>`

// offline prepares a CIB file, points CIB_file at it and returns a runner.
func offline(t *testing.T) (path string, run func(args ...string) (int, string, string)) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "cib.xml")
	if err := os.WriteFile(path, []byte(offlineCIB), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CIB_file", path)
	run = func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		e := &env{ctx: context.Background(), stdout: &out, stderr: &errb,
			log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }, readFile: os.ReadFile}
		code := dispatch(e, args)
		return code, out.String(), errb.String()
	}
	return path, run
}

func readCIB(t *testing.T, path string) *cib.CIB {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cib.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustRun(t *testing.T, run func(args ...string) (int, string, string), args ...string) string {
	t.Helper()
	code, out, errs := run(args...)
	if code != exitOK {
		t.Fatalf("crm %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func TestStatusOffline(t *testing.T) {
	_, run := offline(t)
	out := mustRun(t, run, "status")
	for _, want := range []string{"Cluster Summary:", "Current DC: node1", "Online: [ node1 node2 ]", "d1\t(ocf:pacemaker:Dummy):\t Started node1", "stonith-enabled=false"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, run, "status", "--output-as=xml")
	if !strings.Contains(out, "<pacemaker-result") || !strings.Contains(out, `<status code="0" message="OK"/>`) {
		t.Errorf("xml status:\n%s", out)
	}
	out = mustRun(t, run, "status", "--output-as", "json")
	if !strings.Contains(out, `"pacemaker-result"`) {
		t.Errorf("json status:\n%s", out)
	}
	if code, _, _ := run("status", "--output-as=yaml"); code != exitUsage {
		t.Errorf("bad format exit %d", code)
	}
}

func TestConfigureOneShotsAndShow(t *testing.T) {
	path, run := offline(t)
	mustRun(t, run, "configure", "primitive", "d2", "ocf:pacemaker:Dummy", "meta", "description=two words", "op", "monitor", "interval=10s")
	mustRun(t, run, "configure", "property", "no-quorum-policy=ignore")
	mustRun(t, run, "configure", "location", "l-d2", "d2", "100:", "node2")
	mustRun(t, run, "configure", "colocation", "c1", "inf:", "d2", "d1")
	mustRun(t, run, "configure", "order", "o1", "Mandatory:", "d1", "d2")
	mustRun(t, run, "configure", "clone", "cl", "d2")
	show := mustRun(t, run, "configure", "show")
	for _, want := range []string{"primitive d2 ocf:pacemaker:Dummy", `description="two words"`, "location l-d2 d2 100: node2", "colocation c1 inf: d2 d1", "order o1 Mandatory: d1 d2", "clone cl d2", "no-quorum-policy=ignore"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	xml := mustRun(t, run, "configure", "show", "xml", "d1")
	if !strings.HasPrefix(xml, "<primitive id=\"d1\"") {
		t.Errorf("show xml d1:\n%s", xml)
	}
	before := readCIB(t, path)
	// A failing statement commits nothing and names the problem.
	code, _, errs := run("configure", "group", "g2", "d1", "nosuch")
	if code != exitError || !strings.Contains(errs, "command line:1:") || !strings.Contains(errs, "nosuch") {
		t.Errorf("bad group: exit %d, stderr %q", code, errs)
	}
	if store.EpochString(readCIB(t, path)) != store.EpochString(before) {
		t.Error("failed statement changed the CIB")
	}
	mustRun(t, run, "configure", "delete", "o1")
	if strings.Contains(mustRun(t, run, "configure", "show"), "order o1") {
		t.Error("delete o1 kept it")
	}
	mustRun(t, run, "configure", "verify")
	if code, _, _ := run("configure", "frobnicate"); code != exitUsage {
		t.Errorf("unknown configure command exit %d", code)
	}
}

func TestConfigureLoad(t *testing.T) {
	path, run := offline(t)
	dir := filepath.Dir(path)
	good := filepath.Join(dir, "good.crm")
	os.WriteFile(good, []byte("primitive web ocf:heartbeat:apache \\\n\top monitor interval=20s\ngroup g ip web\n"), 0o644)
	mustRun(t, run, "configure", "load", "update", good)
	c := readCIB(t, path)
	ix := cib.NewIndex(&c.Config)
	if ix.Resources["web"] == nil || ix.Resources["d1"] == nil {
		t.Fatalf("update lost or missed objects: %v", ix.Resources)
	}
	if g := ix.Resources["g"]; g == nil || len(g.Children) != 2 {
		t.Errorf("group g not updated in place: %+v", g)
	}
	bad := filepath.Join(dir, "bad.crm")
	os.WriteFile(bad, []byte("primitive ok1 ocf:pacemaker:Dummy\n\nprimitive broken ocf:pacemaker:Dummy op monitor bogus\n"), 0o644)
	epoch := store.EpochString(readCIB(t, path))
	code, _, errs := run("configure", "load", "update", bad)
	if code != exitError || !strings.Contains(errs, bad+":3:") {
		t.Errorf("bad load: exit %d stderr %q", code, errs)
	}
	if store.EpochString(readCIB(t, path)) != epoch || cib.NewIndex(&readCIB(t, path).Config).Resources["ok1"] != nil {
		t.Error("failed load committed something")
	}
	// XML update and replace.
	x := filepath.Join(dir, "more.xml")
	os.WriteFile(x, []byte(`<configuration><resources><primitive id="x1" class="ocf" provider="pacemaker" type="Dummy"/></resources></configuration>`), 0o644)
	mustRun(t, run, "configure", "load", "update", x)
	ix = cib.NewIndex(&readCIB(t, path).Config)
	if ix.Resources["x1"] == nil || ix.Resources["web"] == nil {
		t.Error("XML update")
	}
	mustRun(t, run, "configure", "load", "replace", x)
	ix = cib.NewIndex(&readCIB(t, path).Config)
	if ix.Resources["x1"] == nil || ix.Resources["web"] != nil {
		t.Error("XML replace kept old objects")
	}
	if len(readCIB(t, path).Config.Nodes) != 2 {
		t.Error("XML replace without nodes dropped the nodes")
	}
	rep := filepath.Join(dir, "rep.crm")
	os.WriteFile(rep, []byte("primitive only ocf:pacemaker:Dummy\n"), 0o644)
	mustRun(t, run, "configure", "load", "replace", rep)
	c = readCIB(t, path)
	ix = cib.NewIndex(&c.Config)
	if ix.Resources["only"] == nil || ix.Resources["x1"] != nil {
		t.Error("crm replace")
	}
	if len(c.Config.Nodes) != 2 {
		t.Errorf("replace without nodes dropped the cluster's nodes: %d left", len(c.Config.Nodes))
	}
	if code, _, _ := run("configure", "load", "merge", rep); code != exitUsage {
		t.Errorf("load merge exit %d", code)
	}
}

func TestResourceCommands(t *testing.T) {
	path, run := offline(t)
	mustRun(t, run, "resource", "move", "d1", "node2", "--lifetime", "forever")
	mustRun(t, run, "resource", "ban", "g", "node1", "--lifetime", "PT1H")
	c := readCIB(t, path)
	var ids []string
	for _, con := range c.Config.Constraints {
		ids = append(ids, con.ConstraintID())
		if l, ok := con.(*cib.Location); ok && l.ID == "cli-prefer-d1" && (l.Node != "node2" || l.Score != "INFINITY" || l.Role != "Started") {
			t.Errorf("cli-prefer-d1 = %+v", l)
		}
		if l, ok := con.(*cib.Location); ok && l.ID == "cli-ban-g-on-node1" && len(l.Rules) != 1 {
			t.Errorf("ban with lifetime has no rule: %+v", l)
		}
	}
	if strings.Join(ids, " ") != "cli-prefer-d1 cli-ban-g-on-node1" {
		t.Errorf("constraints = %v", ids)
	}
	if !strings.Contains(mustRun(t, run, "status"), "cli-prefer-d1") {
		t.Error("status does not warn about cli-prefer-d1")
	}
	mustRun(t, run, "resource", "clear", "d1")
	mustRun(t, run, "resource", "clear", "g")
	if n := len(readCIB(t, path).Config.Constraints); n != 0 {
		t.Errorf("%d constraints left after clear", n)
	}
	// Without a lifetime a move expires after an hour: a rule with a
	// lifetime end, not a plain node score.
	mustRun(t, run, "resource", "move", "d1", "node2")
	for _, con := range readCIB(t, path).Config.Constraints {
		if l, ok := con.(*cib.Location); ok && l.ID == "cli-prefer-d1" && (len(l.Rules) != 1 || l.Node != "") {
			t.Errorf("default move is not expiring: %+v", l)
		}
	}
	mustRun(t, run, "resource", "clear", "d1")
	mustRun(t, run, "resource", "stop", "d1")
	if out := mustRun(t, run, "resource", "meta", "d1", "show", "target-role"); out != "Stopped\n" {
		t.Errorf("target-role = %q", out)
	}
	mustRun(t, run, "resource", "start", "d1")
	if out := mustRun(t, run, "resource", "meta", "d1", "show", "target-role"); out != "Started\n" {
		t.Errorf("target-role = %q", out)
	}
	mustRun(t, run, "resource", "param", "ip", "set", "ip", "10.0.0.2")
	if out := mustRun(t, run, "resource", "param", "ip", "show", "ip"); out != "10.0.0.2\n" {
		t.Errorf("ip = %q", out)
	}
	mustRun(t, run, "resource", "param", "ip", "delete", "ip")
	if code, _, _ := run("resource", "param", "ip", "show", "ip"); code != exitError {
		t.Error("deleted param still shown")
	}
	if out := mustRun(t, run, "resource", "status", "d1"); out != "resource d1 is running on: node1\n" {
		t.Errorf("status d1 = %q", out)
	}
	mustRun(t, run, "resource", "cleanup", "d1")
	c = readCIB(t, path)
	for _, ns := range c.Status.Nodes {
		if len(ns.Resources) != 0 {
			t.Errorf("history left on %s", ns.Uname)
		}
		for _, s := range ns.Transient {
			for _, p := range s.Pairs {
				if strings.HasPrefix(p.Name, "fail-count-d1") {
					t.Errorf("fail count left: %s", p.Name)
				}
			}
		}
	}
	if code, _, _ := run("resource", "move", "nosuch", "node1"); code != exitError {
		t.Error("move of unknown resource succeeded")
	}
	if code, _, _ := run("resource", "move", "d1", "node9"); code != exitError {
		t.Error("move to unknown node succeeded")
	}
	if code, _, _ := run("resource", "param", "d1", "set", "x"); code != exitUsage {
		t.Error("param set without value")
	}
}

func TestNodeAndCIBCommands(t *testing.T) {
	path, run := offline(t)
	mustRun(t, run, "node", "standby", "node2")
	if !strings.Contains(mustRun(t, run, "status"), "Node node2: standby") {
		t.Error("standby not shown")
	}
	if out := mustRun(t, run, "node", "attribute", "node2", "show", "standby"); !strings.Contains(out, "value=on") {
		t.Errorf("standby attr = %q", out)
	}
	mustRun(t, run, "node", "online", "node2")
	mustRun(t, run, "node", "attribute", "node1", "set", "rack", "r1")
	mustRun(t, run, "node", "attribute", "node1", "delete", "rack")
	if code, out, _ := run("node", "attribute", "node1", "show", "rack"); code != exitError || !strings.Contains(out, "(null)") {
		t.Errorf("deleted attribute: %d %q", code, out)
	}
	mustRun(t, run, "node", "status-attr", "node2", "set", "temp", "42")
	if out := mustRun(t, run, "node", "status-attr", "node2", "show", "temp"); !strings.Contains(out, "scope=status") || !strings.Contains(out, "value=42") {
		t.Errorf("status-attr = %q", out)
	}
	if code, _, errs := run("node", "fence", "node2"); code != exitError || !strings.Contains(errs, "CIB_file") {
		t.Errorf("offline fence: %d %q", code, errs)
	}
	if code, _, _ := run("node", "standby"); code != exitError {
		t.Error("standby without node offline should fail (no local node)")
	}
	exp := mustRun(t, run, "cib", "export")
	if c, err := cib.Parse([]byte(exp)); err != nil || store.EpochString(c) != store.EpochString(readCIB(t, path)) {
		t.Errorf("export: %v", err)
	}
	empty := mustRun(t, run, "cib", "empty")
	if c, err := cib.Parse([]byte(empty)); err != nil || len(c.Config.Resources) != 0 {
		t.Errorf("empty: %v", err)
	}
}

// racyBackend applies a competing change before the first commit.
type racyBackend struct {
	fileBackend
	raced bool
	tries int
}

func (r *racyBackend) Apply(ctx context.Context, cmd store.Command) error {
	r.tries++
	if !r.raced && cmd.Op == store.OpReplaceConfiguration {
		r.raced = true
		cur, err := r.Read(ctx)
		if err != nil {
			return err
		}
		if err := r.fileBackend.Apply(ctx, store.Command{V: store.Version, Op: store.OpReplaceConfiguration, XML: cur.Config.Element().String()}); err != nil {
			return err
		}
	}
	return r.fileBackend.Apply(ctx, cmd)
}

func TestUpdateConfigRetriesStaleEpoch(t *testing.T) {
	path, _ := offline(t)
	b := &racyBackend{fileBackend: fileBackend{path: path}}
	calls := 0
	err := updateConfig(context.Background(), b, func(c *cib.CIB) (*cib.Element, error) {
		calls++
		setNVPair(&c.Config.Resources[0].Meta, "d1", "meta_attributes", "target-role", "Stopped", false)
		return c.Config.Element(), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || b.tries != 2 {
		t.Errorf("edit calls %d, commits %d; want 2 and 2 (one stale retry)", calls, b.tries)
	}
	if !errors.Is(store.ErrStaleEpoch, store.ErrStaleEpoch) || !isStale(&api.RemoteError{Code: api.CodeRejected, Msg: store.ErrStaleEpoch.Error()}) {
		t.Error("isStale does not recognise a remote stale-epoch rejection")
	}
}

func TestMigrateCommands(t *testing.T) {
	_, run := offline(t)
	dir := t.TempDir()
	hr := filepath.Join(dir, "haresources")
	cf := filepath.Join(dir, "ha.cf")
	os.WriteFile(hr, []byte("node1 10.0.0.10 httpd\n"), 0o644)
	os.WriteFile(cf, []byte("node node1\nnode node2\nbcast eth0\nauto_failback on\n"), 0o644)
	out := mustRun(t, run, "migrate", "heartbeat", "--haresources", hr, "--ha-cf", cf)
	if !strings.Contains(out, "primitive") || !strings.Contains(out, "10.0.0.10") {
		t.Errorf("heartbeat migration:\n%s", out)
	}
	mustRun(t, run, "migrate", "heartbeat", "--haresources", hr, "--ha-cf", cf, "--apply")
	if !strings.Contains(mustRun(t, run, "configure", "show"), "10.0.0.10") {
		t.Error("--apply did not load the configuration")
	}
	ka := filepath.Join("..", "..", "examples", "keepalived.conf")
	code, out, errs := run("migrate", "keepalived", ka)
	if code != exitOK {
		t.Fatalf("keepalived: %d %s", code, errs)
	}
	for _, want := range []string{"primitive vrrp-VI_WEB ocf:gocrm:vrrp", "vrid=51", "primitive lvs-192.168.10.100-80 ocf:gocrm:lvs", `real_servers="192.168.10.11:80 weight=1;192.168.10.12:80 weight=2"`, "check=http"} {
		if !strings.Contains(out, want) {
			t.Errorf("keepalived output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") || !strings.Contains(errs, "auth_pass not printed") {
		t.Error("auth_pass printed without --with-secrets")
	}
	// The output is valid crm configuration.
	f := filepath.Join(dir, "ka.crm")
	os.WriteFile(f, []byte(out), 0o644)
	mustRun(t, run, "configure", "load", "update", f)
	if code, _, _ := run("migrate", "heartbeat", "--ha-cf", cf); code != exitUsage {
		t.Error("missing --haresources accepted")
	}
}

func TestJoinStatement(t *testing.T) {
	got := joinStatement([]string{"primitive", "p", "ocf:a:b", "params", "msg=hello world", `q=say "hi"`})
	want := `primitive p ocf:a:b params msg="hello world" q="say \"hi\""`
	if got != want {
		t.Errorf("got %s", got)
	}
}

// crm node takeover is hb_takeover: expiring cli-prefer constraints toward
// the node, for every resource (all) or only those whose own location
// preference is that node (local) or another one (foreign).
func TestNodeTakeover(t *testing.T) {
	path, run := offline(t)
	mustRun(t, run, "configure", "location", "g-prefers-node1", "g", "100:", "node1")
	prefers := func() []string {
		var ids []string
		for _, con := range readCIB(t, path).Config.Constraints {
			if l, ok := con.(*cib.Location); ok && strings.HasPrefix(l.ID, "cli-prefer-") {
				if len(l.Rules) != 1 {
					t.Errorf("%s is not expiring: %+v", l.ID, l)
				}
				ids = append(ids, l.ID)
			}
		}
		return ids
	}
	mustRun(t, run, "node", "takeover", "local", "--node", "node2")
	if got := prefers(); len(got) != 0 {
		t.Errorf("takeover local on node2 moved %v; nothing prefers node2", got)
	}
	mustRun(t, run, "node", "takeover", "foreign", "--node", "node2")
	if got := strings.Join(prefers(), " "); got != "cli-prefer-g" {
		t.Errorf("takeover foreign: %q, want cli-prefer-g", got)
	}
	mustRun(t, run, "node", "takeover", "--node", "node2")
	if got := strings.Join(prefers(), " "); got != "cli-prefer-g cli-prefer-d1" && got != "cli-prefer-d1 cli-prefer-g" {
		t.Errorf("takeover all: %q", got)
	}
	if code, _, _ := run("node", "takeover", "--node", "node9"); code == exitOK {
		t.Error("takeover to an unknown node succeeded")
	}
}

// crm migrate heartbeat --key-file writes the key derived from authkeys in
// crmd's key file format (mode 0600), refusing to overwrite.
func TestMigrateHeartbeatKeyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hr := write("haresources", "node1 IPaddr::10.0.0.10/24/eth0 httpd\n", 0o644)
	hc := write("ha.cf", "keepalive 1\ndeadtime 10\nbcast eth0\nnode node1\nnode node2\nauto_failback on\n", 0o644)
	ak := write("authkeys", "auth 1\n1 sha1 SomeSecret\n", 0o600)
	key := filepath.Join(dir, "authkey")
	e, _, errb := testEnv(nil)
	if code := dispatch(e, []string{"migrate", "heartbeat", "--haresources", hr, "--ha-cf", hc, "--authkeys", ak, "--key-file", key}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	keys, err := membership.LoadKeyFile(key, nil)
	if err != nil || len(keys) != 1 || len(keys[0]) != 32 {
		t.Fatalf("derived key file: %v (%d keys)", err, len(keys))
	}
	if st, _ := os.Stat(key); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode().Perm())
	}
	if strings.Contains(errb.String(), "SomeSecret") {
		t.Error("the authkeys secret was printed")
	}
	e, _, _ = testEnv(nil)
	if code := dispatch(e, []string{"migrate", "heartbeat", "--haresources", hr, "--ha-cf", hc, "--authkeys", ak, "--key-file", key}); code == exitOK {
		t.Error("an existing key file was overwritten")
	}
}
