package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ours := write("ours", "Transition Summary:\n  * Start   a   ( n1 )\n  * Stop b ( n2 )\n")
	theirs := write("theirs", "Current cluster status:\n\nTransition Summary:\n  * Stop    b   (   n2 )\n  * Start a ( n3 )\n")
	same := write("same", "Transition Summary:\n  * Stop b (n2)\n")
	none := write("none", "Current cluster status:\n")

	var out, errb bytes.Buffer
	if rc := run([]string{"-show", "1", ours, theirs}, &out, &errb); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errb.String())
	}
	want := "identical=no ours=2 theirs=2 differing=2\n- * Start a ( n1 )\n+ * Start a ( n3 )\n"
	if out.String() != want {
		t.Errorf("got %q want %q", out.String(), want)
	}
	out.Reset()
	if rc := run([]string{same, same}, &out, &errb); rc != 0 || !strings.HasPrefix(out.String(), "identical=yes ours=1 theirs=1 differing=0") {
		t.Errorf("same: rc %d %q", rc, out.String())
	}
	if rc := run([]string{ours, none}, &out, &errb); rc != 1 {
		t.Errorf("missing summary: rc %d", rc)
	}
	if rc := run([]string{ours}, &out, &errb); rc != 2 {
		t.Errorf("usage: rc %d", rc)
	}
}
