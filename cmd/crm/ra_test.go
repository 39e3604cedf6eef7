package main

import (
	"strings"
	"testing"
)

func TestRACommand(t *testing.T) {
	e, out, errb := testEnv(nil)
	if code := dispatch(e, []string{"ra", "info", "ocf:gocrm:Dummy"}); code != exitOK {
		t.Fatalf("ra info: exit %d: %s", code, errb)
	}
	for _, want := range []string{"(ocf:gocrm:Dummy)", "Parameters (*: required, []: default):", "state (string)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("ra info lacks %q:\n%s", want, out)
		}
	}
	e, out, errb = testEnv(nil)
	if code := dispatch(e, []string{"ra", "list", "ocf", "gocrm"}); code != exitOK {
		t.Fatalf("ra list: exit %d: %s", code, errb)
	}
	for _, want := range []string{"Dummy", "Filesystem", "httpd", "IPaddr2", "lvs", "lvs-realserver"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("ra list ocf gocrm lacks %q:\n%s", want, out)
		}
	}
	e, _, errb = testEnv(nil)
	if code := dispatch(e, []string{"ra", "info", "ocf:gocrm:NoSuchAgent"}); code != exitError || !strings.Contains(errb.String(), "ERROR: ra.info") {
		t.Errorf("unknown agent: exit %d: %s", code, errb)
	}
	e, _, _ = testEnv(nil)
	if code := dispatch(e, []string{"ra", "list"}); code != exitUsage {
		t.Errorf("ra list without class: exit %d, want usage", code)
	}
}
