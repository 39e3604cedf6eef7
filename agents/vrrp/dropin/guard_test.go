package dropin

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// The test binary dispatches the guard subcommand like crmd does, so that
// Main's guard (spawned from /proc/self/exe) runs here too.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == GuardCommand {
		os.Exit(GuardMain(os.Args[2:], os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

func TestParseArgsVIPGuard(t *testing.T) {
	o, err := ParseArgs(nil)
	if err != nil || o.VIPGuard != guardHandover {
		t.Fatalf("default: %q %v", o.VIPGuard, err)
	}
	for _, m := range []string{guardHandover, guardRemove, guardOff} {
		if o, err := ParseArgs([]string{"--vip-guard", m}); err != nil || o.VIPGuard != m {
			t.Errorf("--vip-guard %s: %q %v", m, o.VIPGuard, err)
		}
	}
	if _, err := ParseArgs([]string{"--vip-guard=sometimes"}); err == nil {
		t.Error("bad mode accepted")
	}
}

func TestGuardMainNeedsDaemon(t *testing.T) {
	var errb bytes.Buffer
	if rc := GuardMain([]string{"-x"}, &errb); rc != ExitError || !strings.Contains(errb.String(), "unexpected argument") {
		t.Errorf("rc %d: %s", rc, errb.String())
	}
}
