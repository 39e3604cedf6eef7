package lrm

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/agents/agent"
)

// lsbFixture writes an init script that records its argument and exits
// with the code stored in <dir>/code.<action> (default 0).
func lsbFixture(t *testing.T) (*LSBExecutor, Resource, string) {
	t.Helper()
	dir := t.TempDir()
	initDir := filepath.Join(dir, "init.d")
	writeScript(t, filepath.Join(initDir, "mysvc"), `### BEGIN INIT INFO
# Provides:          mysvc
# Short-Description: test <service>
# Description:       a test service for the LSB executor
### END INIT INFO
echo "$1" >> `+dir+`/calls
env > `+dir+`/env
code=0
[ -f `+dir+`/code.$1 ] && code=$(cat `+dir+`/code.$1)
exit $code
`)
	return &LSBExecutor{InitDir: initDir}, Resource{ID: "svc", Agent: agent.Key{Class: "lsb", Type: "mysvc"}}, dir
}

func setCode(t *testing.T, dir, action string, code int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "code."+action), []byte(strconv.Itoa(code)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLSBStatusMapping(t *testing.T) {
	e, rsc, dir := lsbFixture(t)
	cases := []struct {
		code int
		want agent.RC
	}{
		{0, agent.OK}, {1, agent.NotRunning}, {2, agent.NotRunning}, {3, agent.NotRunning},
		{4, agent.ErrGeneric}, {5, agent.ErrGeneric}, {7, agent.ErrGeneric},
		{150, agent.NotInstalled}, {151, agent.ErrPerm}, {200, agent.ErrGeneric},
	}
	for _, c := range cases {
		setCode(t, dir, "status", c.code)
		r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: OpMonitor})
		if r.RC != c.want || r.Status != StatusDone {
			t.Errorf("status exit %d: got rc %d status %v, want rc %d", c.code, r.RC, r.Status, c.want)
		}
	}
	calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
	if strings.Count(string(calls), "status\n") != len(cases) || strings.Contains(string(calls), "monitor") {
		t.Errorf("monitor must run the script's status action; calls: %q", calls)
	}
	env, _ := os.ReadFile(filepath.Join(dir, "env"))
	for _, line := range strings.Split(strings.TrimSpace(string(env)), "\n") {
		if k, _, _ := strings.Cut(line, "="); k != "PATH" && k != "PWD" {
			t.Errorf("LSB environment not scrubbed: %q", line)
		}
	}
}

func TestLSBActionMapping(t *testing.T) {
	e, rsc, dir := lsbFixture(t)
	for _, c := range []struct {
		action string
		op     string
		code   int
		want   agent.RC
	}{
		{"start", OpStart, 0, agent.OK},
		{"start", OpStart, 1, agent.ErrGeneric},
		{"start", OpStart, 5, agent.NotInstalled},
		{"start", OpStart, 6, agent.NotConfigured},
		{"stop", OpStop, 7, agent.NotRunning},
		{"stop", OpStop, 8, agent.ErrGeneric},
		{"force-reload", OpReload, 3, agent.Unimplemented},
	} {
		setCode(t, dir, c.action, c.code)
		r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: c.op})
		if r.RC != c.want {
			t.Errorf("%s exit %d: rc %d, want %d", c.action, c.code, r.RC, c.want)
		}
	}
	if r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: OpPromote}); r.Status != StatusNotSupported || r.RC != agent.Unimplemented {
		t.Errorf("promote: %+v", r)
	}
	r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: OpMetaData})
	if r.RC != agent.OK || !strings.Contains(r.Output, "test &lt;service&gt;") || !strings.Contains(r.Output, "a test service") {
		t.Errorf("meta-data: %+v", r)
	}
	missing := rsc
	missing.Agent.Type = "nosuch"
	if r, _ := execWithTimeout(e, Action{Rsc: missing, Op: OpStart}); r.RC != agent.NotInstalled || r.Status != StatusNotInstalled {
		t.Errorf("missing script: %+v", r)
	}
}
