package lrm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// writeScript writes an executable shell script.
func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// ocfFixture creates an OCF root with one agent test:NAME.
func ocfFixture(t *testing.T, name, body string) (*OCFExecutor, Resource) {
	t.Helper()
	root := t.TempDir()
	writeScript(t, filepath.Join(root, "resource.d", "test", name), body)
	e := &OCFExecutor{Root: root, RscTmp: filepath.Join(t.TempDir(), "rsctmp"),
		Proc: ProcOptions{WaitDelay: 500 * time.Millisecond}}
	return e, Resource{ID: "r1", Agent: agent.Key{Class: "ocf", Provider: "test", Type: name}}
}

func execWithTimeout(e Executor, a Action) (Result, time.Duration) {
	if a.Timeout == 0 {
		a.Timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.Timeout)
	defer cancel()
	start := time.Now()
	r := e.Exec(ctx, a)
	return r, time.Since(start)
}

func TestOCFEnvironmentIsScrubbedAndComplete(t *testing.T) {
	t.Setenv("GOCRM_LEAK_CHECK", "secret")
	e, rsc := ocfFixture(t, "envdump", "exec /usr/bin/env\n")
	e.Env = map[string]string{"HA_debug": "1", "OCF_ROOT": "/must/not/override"}
	rsc.ID = "web:1"
	r, _ := execWithTimeout(e, Action{
		Rsc: rsc, Op: OpMonitor, Interval: 10 * time.Second, Timeout: 5 * time.Second,
		Params: map[string]string{"ip": "10.0.0.1", "OCF_CHECK_LEVEL": "10"},
		Meta:   map[string]string{"clone-max": "2", "notify": "true", "notify_type": "pre"},
	})
	if r.Status != StatusDone || r.RC != agent.OK {
		t.Fatalf("result %+v", r)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.Output), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	want := map[string]string{
		"PATH":                            DefaultPath,
		"OCF_ROOT":                        e.Root,
		"OCF_RA_VERSION_MAJOR":            "1",
		"OCF_RA_VERSION_MINOR":            "1",
		"OCF_EXIT_REASON_PREFIX":          "ocf-exit-reason:",
		"OCF_RESOURCE_INSTANCE":           "web:1",
		"OCF_RESOURCE_TYPE":               "envdump",
		"OCF_RESOURCE_PROVIDER":           "test",
		"__OCF_ACTION":                    "monitor",
		"HA_RSCTMP":                       e.RscTmp,
		"OCF_RESKEY_ip":                   "10.0.0.1",
		"OCF_RESKEY_OCF_CHECK_LEVEL":      "10",
		"OCF_RESKEY_CRM_meta_timeout":     "5000",
		"OCF_RESKEY_CRM_meta_interval":    "10000",
		"OCF_RESKEY_CRM_meta_clone_max":   "2",
		"OCF_RESKEY_CRM_meta_notify":      "true",
		"OCF_RESKEY_CRM_meta_notify_type": "pre",
		"HA_debug":                        "1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && k != "PWD" { // dash exports PWD itself
			t.Errorf("unexpected variable %s=%q in agent environment", k, got[k])
		}
	}
}

func TestOCFExitCodeMapping(t *testing.T) {
	e, rsc := ocfFixture(t, "rc", `echo "ocf-exit-reason:first" >&2
echo "ocf-exit-reason:code $OCF_RESKEY_rc" >&2
exit $OCF_RESKEY_rc
`)
	cases := []struct {
		code int
		want agent.RC
	}{
		{0, agent.OK}, {1, agent.ErrGeneric}, {2, agent.ErrArgs}, {3, agent.Unimplemented},
		{4, agent.ErrPerm}, {5, agent.NotInstalled}, {6, agent.NotConfigured}, {7, agent.NotRunning},
		{8, agent.RunningPromoted}, {9, agent.FailedPromoted}, {190, agent.Degraded},
		{191, agent.DegradedPromoted}, {42, agent.ErrGeneric}, {198, agent.ErrGeneric},
	}
	for _, c := range cases {
		r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: OpStart, Params: map[string]string{"rc": strconv.Itoa(c.code)}})
		if r.RC != c.want || r.Status != StatusDone {
			t.Errorf("exit %d: got rc %d (%v) status %v, want rc %d", c.code, r.RC, r.RC, r.Status, c.want)
		}
		if r.Reason != fmt.Sprintf("code %d", c.code) {
			t.Errorf("exit %d: reason %q", c.code, r.Reason)
		}
	}
}

// procAlive reports whether pid exists and is not a zombie.
func procAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func readPIDs(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("agent did not record pids: %v", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		p, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, p)
	}
	return pids
}

func TestOCFTimeoutKillsWholeProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	// The agent starts a child shell which starts a grandchild, then blocks.
	e, rsc := ocfFixture(t, "hang", fmt.Sprintf(`/bin/sh -c 'sleep 300 & echo $! >> %[1]s; echo $$ >> %[1]s; wait' &
echo $$ >> %[1]s
sleep 300
`, pidFile))
	r, took := execWithTimeout(e, Action{Rsc: rsc, Op: OpStart, Timeout: 700 * time.Millisecond})
	if r.Status != StatusTimeout || r.RC != agent.ErrGeneric {
		t.Fatalf("got %+v, want timeout", r)
	}
	if took > 5*time.Second {
		t.Fatalf("timeout took %v", took)
	}
	pids := readPIDs(t, pidFile)
	if len(pids) != 3 {
		t.Fatalf("want 3 pids (agent, child, grandchild), got %v", pids)
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, p := range pids {
		for procAlive(p) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if procAlive(p) {
			_ = syscall.Kill(p, syscall.SIGKILL)
			t.Errorf("pid %d survived the timeout", p)
		}
	}
}

func TestOCFOrphanHoldingOutputDoesNotBlock(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	e, rsc := ocfFixture(t, "daemon", fmt.Sprintf(`sleep 30 &
echo $! > %s
echo started
exit 0
`, pidFile))
	r, took := execWithTimeout(e, Action{Rsc: rsc, Op: OpStart})
	for _, p := range readPIDs(t, pidFile) {
		_ = syscall.Kill(p, syscall.SIGKILL) // the orphan was started by this test
	}
	if r.RC != agent.OK || r.Status != StatusDone || !strings.Contains(r.Output, "started") {
		t.Fatalf("got %+v", r)
	}
	if took > 3*time.Second {
		t.Fatalf("start blocked %v on the orphan's pipe", took)
	}
}

func TestOCFNotInstalledAndNotExecutable(t *testing.T) {
	e, rsc := ocfFixture(t, "present", "exit 0\n")
	missing := rsc
	missing.Agent.Type = "absent"
	if r, _ := execWithTimeout(e, Action{Rsc: missing, Op: OpMonitor}); r.RC != agent.NotInstalled || r.Status != StatusNotInstalled {
		t.Errorf("missing agent: %+v", r)
	}
	bad := rsc
	bad.Agent.Type = "../../../bin/true"
	if r, _ := execWithTimeout(e, Action{Rsc: bad, Op: OpMonitor}); r.RC != agent.NotInstalled || r.Status != StatusNotInstalled {
		t.Errorf("path traversal: %+v", r)
	}
	if err := os.Chmod(filepath.Join(e.Root, "resource.d", "test", "present"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Even root cannot exec a file without any x bit: EACCES.
	if r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: OpMonitor}); r.RC != agent.ErrPerm || r.Status != StatusError {
		t.Errorf("non-executable agent: %+v", r)
	}
}

func TestOCFSignalAndBadParams(t *testing.T) {
	e, rsc := ocfFixture(t, "suicide", "kill -9 $$\n")
	if r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: OpStart}); r.Status != StatusError || r.RC != agent.ErrGeneric {
		t.Errorf("killed agent: %+v", r)
	}
	if r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: OpStart, Params: map[string]string{"a=b": "x"}}); r.Status != StatusInvalid {
		t.Errorf("bad param name: %+v", r)
	}
}

func TestOCFOutputIsBounded(t *testing.T) {
	e, rsc := ocfFixture(t, "chatty", "head -c 1000000 /dev/zero | tr '\\0' x\nhead -c 50000 /dev/zero >&2\n")
	e.Proc.OutputLimit = 4096
	r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: OpStart})
	if r.RC != agent.OK {
		t.Fatalf("got rc %v status %v", r.RC, r.Status)
	}
	if !strings.HasPrefix(r.Output, strings.Repeat("x", 4096)+"\n[output truncated: 995904 bytes dropped]") || len(r.Output) > 4200 {
		t.Errorf("stdout not bounded: len %d tail %q", len(r.Output), r.Output[len(r.Output)-60:])
	}
	if len(r.Stderr) > 4200 {
		t.Errorf("stderr not bounded: %d", len(r.Stderr))
	}
}

// With the default WaitDelay (none), a helper left running in the
// background (IPaddr2's send_arp) does not delay the result at all: it is
// reported when the agent exits, and what the agent printed before
// exiting is kept.
func TestOCFDefaultWaitDelayIsShort(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	e, rsc := ocfFixture(t, "bg", fmt.Sprintf(`sleep 30 &
echo $! > %s
echo started
echo oops >&2
exit 0
`, pidFile))
	e.Proc = ProcOptions{}
	r, took := execWithTimeout(e, Action{Rsc: rsc, Op: OpStart})
	for _, p := range readPIDs(t, pidFile) {
		_ = syscall.Kill(p, syscall.SIGKILL) // the orphan was started by this test
	}
	if r.RC != agent.OK || !strings.Contains(r.Output, "started") || !strings.Contains(r.Stderr, "oops") {
		t.Fatalf("got %+v", r)
	}
	// The old executor waited 100 ms for the pipes; a shell start and
	// exit take a few ms (generous bound for a loaded machine).
	if took > 600*time.Millisecond {
		t.Fatalf("start took %v: the background helper's pipe held the result", took)
	}
}
