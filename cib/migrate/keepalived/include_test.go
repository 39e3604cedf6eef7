package keepalived

import (
	"errors"
	"strings"
	"testing"
)

func TestIncludeGlobRelative(t *testing.T) {
	fsys := mapFS(map[string]string{
		"etc/keepalived/keepalived.conf": `
global_defs { router_id main }
include conf.d/*.conf
include /etc/keepalived/scripts.inc
`,
		"etc/keepalived/conf.d/20-vi2.conf": `
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    virtual_ipaddress { 10.0.0.2 }
    track_script { chk }
}`,
		"etc/keepalived/conf.d/10-vi1.conf": `
include ../sub/vips.inc
`,
		"etc/keepalived/sub/vips.inc": `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress { 10.0.0.1 }
}`,
		"etc/keepalived/conf.d/ignored.txt": "this is not a config {",
		"etc/keepalived/scripts.inc":        "vrrp_script chk {\n script /bin/true\n}\n",
	})
	cfg, err := Load(fsys, "etc/keepalived/keepalived.conf", Options{Root: "/"})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(cfg.Instances) != 2 || cfg.Instances[0].Name != "VI_1" || cfg.Instances[1].Name != "VI_2" {
		t.Fatalf("instances in glob order expected, got %d", len(cfg.Instances))
	}
	if p := cfg.Instances[0].Pos; p.File != "/etc/keepalived/sub/vips.inc" || p.Line != 1 {
		t.Errorf("VI_1 at %s", p)
	}
	if p := cfg.Script("chk").Script.Pos; p.File != "/etc/keepalived/scripts.inc" || p.Line != 2 {
		t.Errorf("script at %s", p)
	}
	want := []string{"/etc/keepalived/keepalived.conf", "/etc/keepalived/conf.d/10-vi1.conf",
		"/etc/keepalived/sub/vips.inc", "/etc/keepalived/conf.d/20-vi2.conf", "/etc/keepalived/scripts.inc"}
	if strings.Join(cfg.Files, ",") != strings.Join(want, ",") {
		t.Errorf("files = %v", cfg.Files)
	}
}

func TestIncludeRootMapping(t *testing.T) {
	// FS rooted at /etc/keepalived: absolute includes below it map in,
	// others are refused.
	fsys := mapFS(map[string]string{
		"keepalived.conf": "include /etc/keepalived/a.conf\ninclude /var/other.conf\n",
		"a.conf":          "global_defs { router_id a }\n",
	})
	cfg, err := ParseFile(fsys, "keepalived.conf", Options{Root: "/etc/keepalived"})
	if !errors.Is(err, ErrInclude) || !strings.Contains(err.Error(), "/etc/keepalived/keepalived.conf:2: include") ||
		!strings.Contains(err.Error(), "outside the configuration root") {
		t.Fatalf("err = %v", err)
	}
	if cfg.Global.RouterID.V != "a" {
		t.Errorf("include below the root not read")
	}
}

func TestIncludeProblems(t *testing.T) {
	fsys := mapFS(map[string]string{
		"loop.conf":   "include loop2.conf\n",
		"loop2.conf":  "include loop.conf\n",
		"none.conf":   "include nothing/*.conf\nglobal_defs { router_id ok }\n",
		"escape.conf": "include ../../etc/passwd\n",
		"bad.conf":    "include [\n",
		"dir.conf":    "include sub\n",
		"sub/x":       "",
		"two.conf":    "include a b\n",
		"brace.conf":  "global_defs {\ninclude part.inc\n",
		"part.inc":    "router_id p\n}\n",
	})
	for _, c := range []struct {
		file     string
		sentinel error
		sub      string
	}{
		{"loop.conf", ErrInclude, "loop.conf includes itself"},
		{"escape.conf", ErrInclude, "outside the configuration file system"},
		{"bad.conf", ErrInclude, "syntax error in pattern"},
		{"dir.conf", ErrInclude, "is a directory"},
		{"two.conf", ErrSyntax, "expected exactly one file name"},
	} {
		_, err := ParseFile(fsys, c.file, Options{})
		if !errors.Is(err, c.sentinel) || !strings.Contains(err.Error(), c.sub) {
			t.Errorf("%s: err = %v, want %v containing %q", c.file, err, c.sentinel, c.sub)
		}
	}
	cfg, err := ParseFile(fsys, "none.conf", Options{})
	if err != nil || cfg.Global.RouterID.V != "ok" || len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].String(), `none.conf:1: include: no file matches "nothing/*.conf"`) {
		t.Errorf("none.conf: err %v warnings %v", err, cfg.Warnings)
	}
	// Includes are line based: a block may span files.
	cfg, err = ParseFile(fsys, "brace.conf", Options{})
	if err != nil || cfg.Global.RouterID.V != "p" {
		t.Errorf("brace.conf: %v %q", err, cfg.Global.RouterID.V)
	}
	// Parse without a file system cannot include.
	_, err = parseSrc(t, "include x.conf\n")
	if !errors.Is(err, ErrInclude) {
		t.Errorf("no FS: %v", err)
	}
	_, err = ParseFile(fsys, "missing.conf", Options{})
	if !errors.Is(err, ErrInclude) {
		t.Errorf("missing main file: %v", err)
	}
}

func TestIncludeDepthLimit(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 30; i++ {
		files["f"+string(rune('a'+i))+".conf"] = "include f" + string(rune('a'+i+1)) + ".conf\n"
	}
	_, err := ParseFile(mapFS(files), "fa.conf", Options{})
	if !errors.Is(err, ErrInclude) || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("err = %v", err)
	}
}

func TestFileSizeLimit(t *testing.T) {
	big := strings.Repeat("# filler\n", maxFileSize/9+2)
	_, err := ParseFile(mapFS(map[string]string{"k.conf": "include big.conf\n", "big.conf": big}), "k.conf", Options{})
	if !errors.Is(err, ErrInclude) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v", err)
	}
	_, err = Parse("k.conf", []byte(big), Options{})
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("err = %v", err)
	}
}

// TestOracleSyntaxParity mirrors a config checked with keepalived 2.2.7's
// `keepalived -t` in a throwaway network namespace: late parameter
// expansion, includes relative to the including file, mid-word comments,
// '{' on its own line and a second address on a one-line block. keepalived
// reported exactly the three problems expected here.
func TestOracleSyntaxParity(t *testing.T) {
	fsys := mapFS(map[string]string{
		"a.conf": `$INST=vrrp_instance VI_$N { \
    interface eth0 \
    virtual_router_id $N \
    virtual_ipaddress { 10.0.0.$N } \
}
$N=7
$INST
include sub/b.conf
vrrp_instance VI_9
{
    interface eth0
    virtual_router_id 9#comment
    virtual_ipaddress { 10.0.0.9 10.0.0.10 }
    frob!x
}
`,
		"sub/b.conf": "include c.conf\n",
		"sub/c.conf": "vrrp_instance VI_C {\n interface eth0\n virtual_router_id 12\n virtual_ipaddress { 10.0.0.12 }\n bogus_c\n}\n",
		"c.conf":     "vrrp_instance WRONG_DIR { bogus_wrong }\n",
	})
	cfg, err := Load(fsys, "a.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, w.String())
	}
	want := []string{
		"sub/c.conf:5: vrrp_instance VI_C: bogus_c: unknown keyword, ignored",
		`a.conf:13: vrrp_instance VI_9: virtual_ipaddress: 10.0.0.9: unknown address option "10.0.0.10" ignored`,
		"a.conf:14: vrrp_instance VI_9: frob: unknown keyword, ignored",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var names []string
	for _, v := range cfg.Instances {
		names = append(names, v.Name+"="+v.VirtualIPAddresses[0].Addr().String())
	}
	if strings.Join(names, " ") != "VI_7=10.0.0.7 VI_C=10.0.0.12 VI_9=10.0.0.9" {
		t.Errorf("instances %v", names)
	}
}
