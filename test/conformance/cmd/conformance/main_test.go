package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunSkipsWithoutSuite(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := run([]string{"-dir", filepath.Join(t.TempDir(), "none"), "-bin", "/bin/true"}, &out, &errb); rc != 0 {
		t.Fatalf("rc = %d, stderr %s", rc, errb.String())
	}
	if !strings.HasPrefix(out.String(), "SKIP: ") {
		t.Errorf("stdout = %q, want a SKIP message", out.String())
	}
}

func TestRunUsageErrors(t *testing.T) {
	dir := writeSuite(t)
	for _, args := range [][]string{
		{"-dir", dir, "-bin", filepath.Join(dir, "no-such-binary")},
		{"-dir", dir, "-bin", "/bin/sh", "-only", "nonsense"},
		{"-dir", dir, "-bin", "/bin/sh", "stray"},
		{"-no-such-flag"},
	} {
		var out, errb bytes.Buffer
		if rc := run(args, &out, &errb); rc != 2 {
			t.Errorf("%v: rc = %d, want 2 (stdout %q, stderr %q)", args, rc, out.String(), errb.String())
		}
	}
}

const goodOutput = "Current cluster status:\n n1\nTransition Summary:\n  * Start a ( n1 )\nExecuting Cluster Transition:\nRevised Cluster Status:\n a Started\n"

// writeSuite creates a two-case suite: "good" expects goodOutput, "bad"
// expects a different transition.
func writeSuite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"cases.tsv":            "name\ttier\ngood\tcore-strict\nbad\tcore\n",
		"xml/good.xml":         "<cib/>",
		"xml/bad.xml":          "<cib/>",
		"summary/good.summary": goodOutput,
		"summary/bad.summary":  strings.Replace(goodOutput, "Start a", "Stop a", 1),
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeCRM writes a script that checks its arguments and prints goodOutput.
func fakeCRM(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("skipping: /bin/sh not available for the fake crm binary")
	}
	p := filepath.Join(t.TempDir(), "crm")
	script := "#!/bin/sh\n" +
		"[ \"$1\" = simulate ] && [ \"$2\" = -x ] && [ \"$4\" = -S ] && [ \"$LC_ALL\" = C ] || { echo bad args \"$@\" >&2; exit 3; }\n" +
		"printf '" + strings.ReplaceAll(goodOutput, "\n", "\\n") + "'\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunReport(t *testing.T) {
	dir, bin := writeSuite(t), fakeCRM(t)
	jsonPath := filepath.Join(t.TempDir(), "out.json")
	var out, errb bytes.Buffer
	if rc := run([]string{"-dir", dir, "-bin", bin, "-json", jsonPath}, &out, &errb); rc != 0 {
		t.Fatalf("rc = %d, stderr %s", rc, errb.String())
	}
	for _, want := range []string{"2 cases", "core-strict", "below L1 (1): bad", "slowest case:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tiers []struct {
			Tier string
			L3   int
		}
		Cases []struct {
			Name  string
			Level int
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) != 2 || doc.Cases[0].Name != "good" || doc.Cases[0].Level != 3 || doc.Cases[1].Level != 0 {
		t.Errorf("json cases: %+v", doc.Cases)
	}
	if last := doc.Tiers[len(doc.Tiers)-1]; last.Tier != "total" || last.L3 != 1 {
		t.Errorf("json tiers: %+v", doc.Tiers)
	}

	out.Reset()
	if rc := run([]string{"-dir", dir, "-bin", bin, "-strict"}, &out, &errb); rc != 1 {
		t.Errorf("-strict with a failing case: rc = %d, want 1", rc)
	}
	out.Reset()
	if rc := run([]string{"-dir", dir, "-bin", bin, "-case", "bad"}, &out, &errb); rc != 0 {
		t.Fatalf("-case: rc = %d", rc)
	}
	for _, want := range []string{"level L0", "--- summary/bad.summary", "+++ actual", "-  * Stop a ( n1 )", "+  * Start a ( n1 )"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-case output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if rc := run([]string{"-dir", dir, "-bin", bin, "-case", "good", "-only", "core-strict"}, &out, &errb); rc != 0 || !strings.Contains(out.String(), "outputs match") {
		t.Errorf("-case good: rc %d, output %s", rc, out.String())
	}
}
