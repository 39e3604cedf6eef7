package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shellTestSetup points CIB_file at a fresh CIB and the shadow directory
// and HOME at temporary directories.
func shellTestSetup(t *testing.T) (cibFile, shadowDir string) {
	t.Helper()
	dir := t.TempDir()
	cibFile = filepath.Join(dir, "cib.xml")
	if err := os.WriteFile(cibFile, []byte(testShellCIB), 0o644); err != nil {
		t.Fatal(err)
	}
	shadowDir = filepath.Join(dir, "shadows")
	t.Setenv("CIB_file", cibFile)
	t.Setenv("CIB_shadow_dir", shadowDir)
	t.Setenv("CIB_shadow", "")
	t.Setenv("HOME", dir)
	return cibFile, shadowDir
}

func fileHas(t *testing.T, path, s string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(data), s)
}

func TestShellBatchFile(t *testing.T) {
	cibFile, _ := shellTestSetup(t)
	script := "configure\nprimitive d1 Dummy \\\n  op monitor interval=10s\nprimitive d1 Dummy\ngroup g d1\n"
	e, _, errb := testEnv(map[string]string{"s.crm": script})
	if code := dispatch(e, []string{"-F", "-f", "s.crm"}); code != exitError {
		t.Errorf("exit %d, want %d (one line failed); stderr:\n%s", code, exitError, errb)
	}
	if !strings.Contains(errb.String(), "ERROR: s.crm:4:11: ") {
		t.Errorf("stderr lacks file:line:col:\n%s", errb)
	}
	if !fileHas(t, cibFile, `id="g"`) || !fileHas(t, cibFile, `id="d1"`) {
		t.Error("end of the file did not commit")
	}
	e, _, errb = testEnv(map[string]string{"ok.crm": "configure primitive d2 Dummy\nconfigure show d2\n"})
	if code := dispatch(e, []string{"-f", "ok.crm"}); code != exitOK {
		t.Errorf("clean file: exit %d\n%s", code, errb)
	}
	if !fileHas(t, cibFile, `id="d2"`) {
		t.Error("one-shot configure line in a file did not commit")
	}
	e, _, _ = testEnv(nil)
	if code := dispatch(e, []string{"-f"}); code != exitUsage {
		t.Errorf("-f without a file: exit %d", code)
	}
}

func TestShellShadowCommands(t *testing.T) {
	cibFile, shadowDir := shellTestSetup(t)
	run := func(args ...string) (int, string, string) {
		e, out, errb := testEnv(nil)
		code := dispatch(e, args)
		return code, out.String(), errb.String()
	}
	if code, _, errs := run("cib", "new", "t1"); code != exitOK {
		t.Fatalf("cib new: %d %s", code, errs)
	}
	if code, out, _ := run("cib", "list"); code != exitOK || out != "t1\n" {
		t.Errorf("cib list: %d %q", code, out)
	}
	if code, _, errs := run("-c", "t1", "configure", "primitive", "sh1", "Dummy"); code != exitOK {
		t.Fatalf("configure on shadow: %d %s", code, errs)
	}
	shadowFile := filepath.Join(shadowDir, "shadow.t1")
	if !fileHas(t, shadowFile, `id="sh1"`) || fileHas(t, cibFile, `id="sh1"`) {
		t.Fatal("-c did not redirect the change to the shadow")
	}
	t.Setenv("CIB_shadow", "t1")
	if code, out, _ := run("configure", "show", "sh1"); code != exitOK || !strings.Contains(out, "primitive sh1 Dummy") {
		t.Errorf("CIB_shadow: %d %q", code, out)
	}
	t.Setenv("CIB_shadow", "")
	code, out, _ := run("cib", "diff", "t1")
	if code != exitOK || !strings.Contains(out, "+primitive sh1 Dummy") {
		t.Errorf("cib diff: %d %q", code, out)
	}
	if code, _, errs := run("cib", "commit", "t1"); code != exitOK || !fileHas(t, cibFile, `id="sh1"`) {
		t.Errorf("cib commit: %d %s", code, errs)
	}
	if code, _, _ := run("cib", "delete", "t1"); code != exitOK {
		t.Errorf("cib delete: %d", code)
	}
	if _, err := os.Stat(shadowFile); !os.IsNotExist(err) {
		t.Error("shadow file still there")
	}
	if code, _, _ := run("cib", "delete", "t1"); code != exitError {
		t.Errorf("deleting a missing shadow: %d", code)
	}
}

func TestShellCibUseStateFile(t *testing.T) {
	cibFile, shadowDir := shellTestSetup(t)
	run := func(args ...string) (int, string, string) {
		e, out, errb := testEnv(nil)
		code := dispatch(e, args)
		return code, out.String(), errb.String()
	}
	if code, _, errs := run("cib", "new", "st", "empty"); code != exitOK {
		t.Fatalf("cib new: %s", errs)
	}
	os.Unsetenv("CIB_file") // t.Setenv restores it
	if code, _, errs := run("cib", "use", "st"); code != exitOK || !strings.Contains(errs, "shadow CIB st") {
		t.Fatalf("cib use: %d %s", code, errs)
	}
	if code, _, errs := run("configure", "primitive", "viaState", "Dummy"); code != exitOK {
		t.Fatalf("configure with a shadow in use: %d %s", code, errs)
	}
	if !fileHas(t, filepath.Join(shadowDir, "shadow.st"), `id="viaState"`) || fileHas(t, cibFile, "viaState") {
		t.Error("state file did not redirect to the shadow")
	}
	if code, _, _ := run("cib", "use", "live"); code != exitOK {
		t.Fatal("cib use live")
	}
	if _, err := os.Stat(filepath.Join(shadowDir, ".in-use")); !os.IsNotExist(err) {
		t.Error("state file kept after cib use live")
	}
}

func TestShellConfigureEditOneShot(t *testing.T) {
	cibFile, _ := shellTestSetup(t)
	t.Setenv("EDITOR", "sed -i s/apache/nginx/")
	e, _, errb := testEnv(nil)
	if code := dispatch(e, []string{"configure", "edit", "web"}); code != exitOK {
		t.Fatalf("configure edit: %d\n%s", code, errb)
	}
	if !fileHas(t, cibFile, `type="nginx"`) {
		t.Error("edit not committed")
	}
	e, _, _ = testEnv(nil)
	if code := dispatch(e, []string{"configure", "edit", "nosuch"}); code != exitUsage {
		t.Errorf("edit of a missing id: %d", code)
	}
}

func TestParseGlobal(t *testing.T) {
	g, rest, err := parseGlobal([]string{"-F", "-D", "plain", "-c", "s", "configure", "show"})
	if err != nil || !g.force || g.shadow != "s" || strings.Join(rest, " ") != "configure show" {
		t.Errorf("got %+v %q %v", g, rest, err)
	}
	g, rest, _ = parseGlobal([]string{"--file=x", "-w"})
	if g.file != "x" || len(rest) != 0 {
		t.Errorf("got %+v %q", g, rest)
	}
	g, rest, _ = parseGlobal([]string{"--socket", "p", "status"})
	if g.hasOpts || len(rest) != 3 {
		t.Errorf("non-global option taken: %+v %q", g, rest)
	}
	if _, _, err := parseGlobal([]string{"-c"}); err == nil {
		t.Error("-c without a value accepted")
	}
}

func TestShellSubcommand(t *testing.T) {
	cibFile, _ := shellTestSetup(t)
	e, _, errb := testEnv(map[string]string{"s.crm": "configure primitive viaShell Dummy\n"})
	if code := dispatch(e, []string{"shell", "-f", "s.crm"}); code != exitOK {
		t.Fatalf("crm shell -f: %d\n%s", code, errb)
	}
	if !fileHas(t, cibFile, `id="viaShell"`) {
		t.Error("crm shell -f did not commit")
	}
	e, _, errb = testEnv(nil)
	if code := dispatch(e, []string{"shell"}); code != exitUsage || !strings.Contains(errb.String(), "not a terminal") {
		t.Errorf("crm shell without a terminal: %d %q", code, errb)
	}
	e, _, _ = testEnv(nil)
	if code := dispatch(e, []string{"shell", "configure"}); code != exitUsage {
		t.Errorf("crm shell configure: %d", code)
	}
}

func TestShellMissingShadow(t *testing.T) {
	shellTestSetup(t)
	e, _, errb := testEnv(nil)
	if code := dispatch(e, []string{"-c", "ghost", "configure", "show"}); code != exitError || !strings.Contains(errb.String(), "no such shadow CIB: ghost") {
		t.Errorf("missing shadow: %d %q", code, errb)
	}
	e, _, errb = testEnv(nil)
	if code := dispatch(e, []string{"-c", "../x", "status"}); code != exitError || !strings.Contains(errb.String(), "bad shadow CIB name") {
		t.Errorf("bad shadow name: %d %q", code, errb)
	}
}
