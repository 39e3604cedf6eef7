package ra

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/dummy"
)

func writeExec(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// fixtureCatalog builds a fake system: an OCF root with provider "test",
// an init.d, unit directories and a fence directory.
func fixtureCatalog(t *testing.T) *Catalog {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("fixture agents are /bin/sh scripts; /bin/sh is absent")
	}
	root := t.TempDir()
	fixture, err := filepath.Abs("testdata/fixture.xml")
	if err != nil {
		t.Fatal(err)
	}
	ocf := filepath.Join(root, "ocf")
	// The agent checks its environment the way ocf-shellfuncs needs it.
	writeExec(t, filepath.Join(ocf, "resource.d/test/Fixture"), fmt.Sprintf(`#!/bin/sh
[ "$1" = meta-data ] || exit 3
[ -n "$OCF_ROOT" ] && [ "$OCF_RESOURCE_TYPE" = Fixture ] || exit 6
exec cat %s
`, fixture))
	writeExec(t, filepath.Join(ocf, "resource.d/test/Slow"), "#!/bin/sh\nsleep 30 & sleep 30\n")
	writeExec(t, filepath.Join(ocf, "resource.d/test/Broken"), "#!/bin/sh\necho 'no meta-data here' >&2\nexit 1\n")
	writeExec(t, filepath.Join(ocf, "resource.d/test/Garbage"), "#!/bin/sh\necho 'usage: Garbage'\n")
	if err := os.WriteFile(filepath.Join(ocf, "resource.d/test/README"), []byte("not an agent"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeExec(t, filepath.Join(ocf, "resource.d/.hidden/X"), "#!/bin/sh\n")
	writeExec(t, filepath.Join(ocf, "resource.d/other/Y"), "#!/bin/sh\n")

	initd := filepath.Join(root, "init.d")
	writeExec(t, filepath.Join(initd, "websrv"), `#!/bin/sh
### BEGIN INIT INFO
# Provides:          websrv
# Required-Start:    $network
# Short-Description: Web server
# Description:       Serves the web site
#                    from /srv.
### END INIT INFO
exit 0
`)
	writeExec(t, filepath.Join(initd, "README"), "#!/bin/sh\n")

	units1, units2 := filepath.Join(root, "etc-units"), filepath.Join(root, "lib-units")
	for _, f := range []string{units2 + "/nginx.service", units2 + "/getty@.service", units2 + "/masked.service", units2 + "/x.timer", units1 + "/local.service"} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("[Unit]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/dev/null", units1+"/masked.service"); err != nil {
		t.Fatal(err)
	}

	fence := filepath.Join(root, "sbin")
	writeExec(t, filepath.Join(fence, "fence_test"), `#!/bin/sh
[ "$1" = -o ] && [ "$2" = metadata ] || exit 1
cat <<'EOF'
<?xml version="1.0" ?>
<resource-agent name="fence_test" shortdesc="Fence agent for tests">
<longdesc>Pretends to fence.</longdesc>
<parameters>
<parameter name="action" required="1"><content type="string" default="reboot"/></parameter>
<parameter name="ip" required="1" obsoletes="ipaddr"><getopt mixed="-a"/><content type="string"/><shortdesc lang="en">Address</shortdesc></parameter>
<parameter name="ipaddr" required="1" deprecated="1"><content type="string"/></parameter>
<parameter name="login" required="1"><content type="string"/></parameter>
</parameters>
<actions><action name="on"/><action name="off"/><action name="metadata"/></actions>
</resource-agent>
EOF
`)
	writeExec(t, filepath.Join(fence, "ls_not_fence"), "#!/bin/sh\n")

	reg := agent.NewRegistry()
	if err := dummy.Register(reg); err != nil {
		t.Fatal(err)
	}
	return &Catalog{Registry: reg, OCFRoot: ocf, InitDir: initd, UnitDirs: []string{units1, units2},
		FenceDir: fence, Timeout: 2 * time.Second, StateDir: filepath.Join(root, "state")}
}

func keys(ks []agent.Key) string {
	var s []string
	for _, k := range ks {
		s = append(s, k.String())
	}
	return strings.Join(s, " ")
}

func TestCatalogList(t *testing.T) {
	c := fixtureCatalog(t)
	provs, err := c.Providers()
	if err != nil || strings.Join(provs, " ") != "gocrm other test" {
		t.Errorf("providers %v %v", provs, err)
	}
	for _, tc := range []struct{ class, prov, want string }{
		{"ocf", "test", "ocf:test:Broken ocf:test:Fixture ocf:test:Garbage ocf:test:Slow"},
		{"ocf", "gocrm", "ocf:gocrm:Dummy"},
		{"ocf", "", "ocf:gocrm:Dummy ocf:other:Y ocf:test:Broken ocf:test:Fixture ocf:test:Garbage ocf:test:Slow"},
		{"ocf", "nosuch", ""},
		{"lsb", "", "lsb:websrv"},
		{"systemd", "", "systemd:local systemd:nginx"},
		{"service", "", "service:local service:nginx service:websrv"},
		{"stonith", "", "stonith:fence_test"},
	} {
		got, err := c.List(tc.class, tc.prov)
		if err != nil || keys(got) != tc.want {
			t.Errorf("List(%s,%s) = %q, %v; want %q", tc.class, tc.prov, keys(got), err, tc.want)
		}
	}
	if got, err := c.RenderClasses(true); err != nil || got != "lsb\nocf / gocrm other test\nservice\nstonith\nsystemd\n" {
		t.Errorf("classes %q %v", got, err)
	}
	if got, err := c.ProvidersOf("Fixture"); err != nil || strings.Join(got, ",") != "test" {
		t.Errorf("providers of Fixture %v %v", got, err)
	}
	if _, err := c.List("upstart", ""); !errors.Is(err, ErrUnknownClass) {
		t.Errorf("unknown class: %v", err)
	}
}

func TestCatalogMetaData(t *testing.T) {
	c := fixtureCatalog(t)
	ctx := context.Background()
	m, err := c.Info(ctx, agent.Key{Class: "ocf", Provider: "test", Type: "Fixture"})
	if err != nil {
		t.Fatal(err)
	}
	if m.ShortDesc != "Test fixture" || len(m.Parameters) != 4 {
		t.Errorf("fixture %+v", m)
	}
	k := agent.Key{Class: "ocf", Provider: "test", Type: "Fixture"}
	err = c.ValidateParams(ctx, k, map[string]string{"nope": "1"})
	if !errors.Is(err, ErrUnknownParam) || !errors.Is(err, ErrMissingParam) || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), `"addr"`) {
		t.Errorf("ValidateParams: %v", err)
	}
	if err := c.ValidateParams(ctx, k, map[string]string{"addr": "x"}); err != nil {
		t.Errorf("ValidateParams ok: %v", err)
	}

	// Built-in.
	dm, err := c.Info(ctx, dummy.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dm.Param("op_sleep"); !ok || dm.ShortDesc == "" {
		t.Errorf("dummy %+v", dm)
	}
	if err := c.ValidateParams(ctx, dummy.Key, map[string]string{"fake": "x", "bogus": "1"}); !errors.Is(err, ErrUnknownParam) {
		t.Errorf("dummy validate %v", err)
	}

	// LSB, systemd, service, stonith.
	lm, err := c.Info(ctx, agent.Key{Class: "lsb", Type: "websrv"})
	if err != nil || lm.ShortDesc != "Web server" || lm.LongDesc != "Serves the web site from /srv." {
		t.Errorf("lsb %+v %v", lm, err)
	}
	if mons := lm.ActionsNamed("monitor"); len(mons) != 1 || mons[0].Interval != "15" {
		t.Errorf("lsb monitor %+v", mons)
	}
	sm, err := c.Info(ctx, agent.Key{Class: "systemd", Type: "nginx"})
	if err != nil || sm.ShortDesc != "systemd unit file for nginx.service" {
		t.Errorf("systemd %+v %v", sm, err)
	}
	if _, err := c.Info(ctx, agent.Key{Class: "service", Type: "websrv"}); err != nil {
		t.Errorf("service via lsb: %v", err)
	}
	fm, err := c.Info(ctx, agent.Key{Class: "stonith", Type: "fence_test"})
	if err != nil || fm.ShortDesc != "Fence agent for tests" {
		t.Fatalf("stonith %+v %v", fm, err)
	}
	if err := Validate(fm, map[string]string{"ip": "1.2.3.4", "login": "x", "pcmk_host_list": "n1 n2", "pcmk_on_timeout": "9s"}); err != nil {
		t.Errorf("fencing params, obsoleted ipaddr and fencer-supplied action must be accepted: %v", err)
	}
	if err := Validate(fm, map[string]string{"ipaddr": "1.2.3.4"}); err == nil || err.Error() != `required parameter "login" not defined` {
		t.Errorf("deprecated name must satisfy its replacement: %v", err)
	}
	if ip, _ := fm.Param("ipaddr"); !ip.Deprecated {
		t.Error("deprecated attribute not parsed")
	}
	sk := agent.Key{Class: "stonith", Type: "fence_test"}
	if err := c.ValidateParams(ctx, sk, map[string]string{}); err != nil {
		t.Errorf("stonith: missing required parameters are not errors (as crmsh): %v", err)
	}
	if err := c.ValidateParams(ctx, sk, map[string]string{"bogus": "1"}); !errors.Is(err, ErrUnknownParam) || errors.Is(err, ErrMissingParam) {
		t.Errorf("stonith unknown: %v", err)
	}

	for _, tc := range []struct {
		k    agent.Key
		want error
	}{
		{agent.Key{Class: "ocf", Provider: "test", Type: "Nope"}, ErrNotFound},
		{agent.Key{Class: "ocf", Provider: "test", Type: "README"}, ErrNotFound},
		{agent.Key{Class: "ocf", Provider: "..", Type: "Fixture"}, ErrNotFound},
		{agent.Key{Class: "ocf", Provider: "test", Type: "Broken"}, ErrMetaDataFailed},
		{agent.Key{Class: "lsb", Type: "nope"}, ErrNotFound},
		{agent.Key{Class: "systemd", Type: "../x"}, ErrNotFound},
		{agent.Key{Class: "stonith", Type: "ls_not_fence"}, ErrNotFound},
		{agent.Key{Class: "upstart", Type: "x"}, ErrUnknownClass},
	} {
		if _, err := c.MetaData(ctx, tc.k); !errors.Is(err, tc.want) {
			t.Errorf("MetaData(%s) = %v, want %v", tc.k, err, tc.want)
		}
	}
	if _, err := c.Info(ctx, agent.Key{Class: "ocf", Provider: "test", Type: "Garbage"}); !errors.Is(err, ErrBadMetadata) {
		t.Errorf("garbage meta-data: %v", err)
	}
	if _, err := c.MetaData(ctx, agent.Key{Class: "ocf", Provider: "test", Type: "Broken"}); err == nil || !strings.Contains(err.Error(), "no meta-data here") {
		t.Errorf("stderr not reported: %v", err)
	}
}

func TestCatalogTimeoutKillsGroup(t *testing.T) {
	c := fixtureCatalog(t)
	c.Timeout = 300 * time.Millisecond
	start := time.Now()
	_, err := c.MetaData(context.Background(), agent.Key{Class: "ocf", Provider: "test", Type: "Slow"})
	if !errors.Is(err, ErrMetaDataFailed) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the background sleep kept the pipe open", d)
	}
}

func TestCatalogCacheAndForget(t *testing.T) {
	c := fixtureCatalog(t)
	ctx := context.Background()
	k := agent.Key{Class: "ocf", Provider: "test", Type: "Fixture"}
	m1, err := c.Info(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := c.Info(ctx, k)
	if m1 != m2 {
		t.Error("second Info was not served from the cache")
	}
	c.Forget(k)
	if m3, _ := c.Info(ctx, k); m3 == m1 {
		t.Error("Forget did not drop the entry")
	}
}

func TestParseName(t *testing.T) {
	for in, want := range map[string]string{
		"IPaddr2":             "ocf:heartbeat:IPaddr2",
		"ocf:pacemaker:Dummy": "ocf:pacemaker:Dummy",
		"lsb:apache2":         "lsb:apache2",
		"stonith:fence_ipmi":  "stonith:fence_ipmi",
	} {
		k, err := ParseName(in)
		if err != nil || k.String() != want {
			t.Errorf("ParseName(%q) = %v, %v", in, k, err)
		}
	}
	for _, bad := range []string{"", "ocf:Dummy", "upstart:x", "a:b:c:d"} {
		if _, err := ParseName(bad); err == nil {
			t.Errorf("ParseName(%q) accepted", bad)
		}
	}
}

// Real resource-agents, when installed.
func realCatalog(t *testing.T, agentPath string) *Catalog {
	t.Helper()
	if _, err := os.Stat(agentPath); err != nil {
		t.Skipf("resource-agents not installed (%s missing)", agentPath)
	}
	return &Catalog{Timeout: 10 * time.Second}
}

func TestRealIPaddr2(t *testing.T) {
	c := realCatalog(t, "/usr/lib/ocf/resource.d/heartbeat/IPaddr2")
	k := agent.Key{Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"}
	m, err := c.Info(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	ip, ok := m.Param("ip")
	if !ok || !ip.Required || ip.Type != "string" {
		t.Errorf("ip %+v", ip)
	}
	err = Validate(m, map[string]string{"cidr_netmask": "24", "foo": "1"})
	if err == nil || err.Error() != `required parameter "ip" not defined; parameter "foo" is not known` {
		t.Errorf("validate: %v", err)
	}
	if err := Validate(m, map[string]string{"ip": "10.0.0.1", "cidr_netmask": "24", "nic": "eth0"}); err != nil {
		t.Errorf("valid: %v", err)
	}
	if !strings.Contains(Render(k.String(), m), "\nip* (string): IPv4 or IPv6 address\n") {
		t.Error("render lacks the ip line")
	}
}

// TestRenderMatchesCrmsh compares Render with `crm ra info` (crmsh) on the
// installed ocf:heartbeat:Dummy.
func TestRenderMatchesCrmsh(t *testing.T) {
	c := realCatalog(t, "/usr/lib/ocf/resource.d/heartbeat/Dummy")
	crm, err := exec.LookPath("crm")
	if err != nil {
		t.Skip("crmsh not installed")
	}
	for _, name := range []string{"ocf:heartbeat:Dummy", "ocf:pacemaker:Stateful", "ocf:heartbeat:IPaddr2", "ocf:heartbeat:Filesystem", "ocf:pacemaker:ping", "lsb:kmod", "ocf:heartbeat:apache"} {
		k, _ := ParseName(name)
		m, err := c.Info(context.Background(), k)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, crm, "ra", "info", name).Output()
		cancel()
		if err != nil {
			t.Skipf("crm ra info failed: %v", err)
		}
		if got := Render(name, m); strings.TrimSpace(got) != strings.TrimSpace(string(out)) {
			t.Errorf("%s: Render differs from crmsh\n--- got\n%s\n--- crmsh\n%s", name, got, out)
		}
	}
}

// TestListMatchesCrmsh compares List+Columns and RenderClasses with crmsh
// on the installed agents.
func TestListMatchesCrmsh(t *testing.T) {
	c := realCatalog(t, "/usr/lib/ocf/resource.d/pacemaker")
	crm, err := exec.LookPath("crm")
	if err != nil {
		t.Skip("crmsh not installed")
	}
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, crm, args...)
		cmd.Env = append(os.Environ(), "COLUMNS=80")
		out, err := cmd.Output()
		if err != nil {
			t.Skipf("crm %v: %v", args, err)
		}
		return string(out)
	}
	ks, err := c.List("ocf", "pacemaker")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Columns(Names(ks), 80), run("ra", "list", "ocf", "pacemaker"); got != want {
		t.Errorf("list ocf pacemaker:\n%q\ncrmsh:\n%q", got, want)
	}
	provs, err := c.ProvidersOf("Dummy")
	if err != nil || strings.Join(provs, " ")+"\n" != run("ra", "providers", "Dummy") {
		t.Errorf("providers of Dummy %v %v", provs, err)
	}
	_, sdErr := os.Stat(SystemdRunDir)
	got, err := c.RenderClasses(sdErr == nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := run("ra", "classes"); got != want {
		t.Errorf("classes:\n%q\ncrmsh:\n%q", got, want)
	}
}

func TestCheckPrimitive(t *testing.T) {
	c := fixtureCatalog(t)
	ctx := context.Background()
	k := agent.Key{Class: "ocf", Provider: "test", Type: "Fixture"}
	got := c.CheckPrimitive(ctx, "web", k, map[string]string{"foo": "1"}, []Op{{Name: "start", Timeout: "5s"}, {Name: "stop"}})
	want := []Finding{
		{SevError, `web: required parameter "addr" not defined`},
		{SevError, `web: parameter "foo" is not known`},
		{SevWarning, `web: specified timeout 5s for start is smaller than the advised 20s`},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings\n%v\nwant\n%v", got, want)
	}
	if got := c.CheckPrimitive(ctx, "web", k, map[string]string{"addr": "x"}, nil); len(got) != 0 {
		t.Errorf("clean primitive: %v", got)
	}
	got = c.CheckPrimitive(ctx, "x", agent.Key{Class: "ocf", Provider: "linbit", Type: "drbd"}, nil, nil)
	if len(got) != 1 || got[0].Msg != "ocf:linbit:drbd: got no meta-data, does this RA exist?" {
		t.Errorf("missing agent %v", got)
	}
}
