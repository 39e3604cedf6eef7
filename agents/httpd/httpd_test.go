package httpd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/ra"
)

func newAgent(t *testing.T, sd Systemd) *Agent {
	t.Helper()
	a, err := New(agent.Env{Node: "n1", StateDir: filepath.Join(t.TempDir(), "state")}, Deps{Systemd: sd, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func call(params map[string]string) agent.Call {
	return agent.Call{Resource: "web", Params: params, Timeout: 10 * time.Second}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := selfBinary(t)
	for _, tc := range []struct {
		name   string
		params map[string]string
		rc     agent.RC
		param  string
	}{
		{"missing binary", map[string]string{}, agent.NotConfigured, "binary"},
		{"relative binary", map[string]string{"binary": "usr/sbin/httpd"}, agent.NotConfigured, "binary"},
		{"absent binary", map[string]string{"binary": "/nonexistent/httpd"}, agent.NotInstalled, "binary"},
		{"not executable", map[string]string{"binary": plain}, agent.NotInstalled, "binary"},
		{"both modes", map[string]string{"binary": bin, "unit": "nginx"}, agent.NotConfigured, "binary"},
		{"unit with args", map[string]string{"unit": "nginx", "args": "-x"}, agent.NotConfigured, "args"},
		{"bad unit", map[string]string{"unit": "../x"}, agent.NotConfigured, "unit"},
		{"url scheme", map[string]string{"binary": bin, "statusurl": "ftp://127.0.0.1/"}, agent.NotConfigured, "statusurl"},
		{"url host", map[string]string{"binary": bin, "statusurl": "http:///status"}, agent.NotConfigured, "statusurl"},
		{"url syntax", map[string]string{"binary": bin, "statusurl": "http://127.0.0.1:%zz/"}, agent.NotConfigured, "statusurl"},
		{"url creds", map[string]string{"binary": bin, "statusurl": "http://u:p@127.0.0.1/"}, agent.NotConfigured, "statusurl"},
		{"url port", map[string]string{"binary": bin, "statusurl": "http://127.0.0.1:99999/"}, agent.NotConfigured, "statusurl"},
		{"monitor timeout", map[string]string{"binary": bin, "monitor_timeout": "-1"}, agent.NotConfigured, "monitor_timeout"},
		{"stop timeout", map[string]string{"binary": bin, "stop_timeout": "soon"}, agent.NotConfigured, "stop_timeout"},
		{"args quote", map[string]string{"binary": bin, "args": `-c "unterminated`}, agent.NotConfigured, "args"},
		{"pidfile", map[string]string{"binary": bin, "pidfile": "run/x.pid"}, agent.NotConfigured, "pidfile"},
		{"user", map[string]string{"binary": bin, "user": "no-such-user-gocrm"}, agent.ErrArgs, "user"},
		{"unknown", map[string]string{"binary": bin, "port": "80"}, agent.NotConfigured, "port"},
	} {
		a := newAgent(t, NewFakeSystemd())
		r := a.Validate(context.Background(), call(tc.params))
		if r.RC != tc.rc || !strings.Contains(r.Reason, "parameter "+tc.param+"=") {
			t.Errorf("%s: rc %v reason %q; want rc %v naming %s", tc.name, r.RC, r.Reason, tc.rc, tc.param)
		}
		// Start must refuse the same way, before touching anything.
		if r := a.Start(context.Background(), call(tc.params)); r.RC != tc.rc {
			t.Errorf("%s: Start rc %v", tc.name, r.RC)
		}
		if ents, _ := os.ReadDir(a.stateDir); len(ents) != 0 {
			t.Errorf("%s: state dir touched: %v", tc.name, ents)
		}
	}
	a := newAgent(t, nil)
	for _, p := range []map[string]string{
		{"binary": bin, "args": "-a 'b c'", "statusurl": "https://[::1]:8443/status", "monitor_timeout": "2", "stop_timeout": "3s"},
		{"binary": bin, "user": "root", "pidfile": "/run/x.pid"},
	} {
		if r := a.Validate(context.Background(), call(p)); r.RC != agent.OK {
			t.Errorf("%v: %v %s", p, r.RC, r.Reason)
		}
	}
	if r := a.Validate(context.Background(), call(map[string]string{"unit": "nginx"})); r.RC != agent.NotInstalled {
		t.Errorf("unit without systemd: %v", r.RC)
	}
}

func TestSplitArgs(t *testing.T) {
	for in, want := range map[string][]string{
		"":                          nil,
		"  -a   b ":                 {"-a", "b"},
		`-c 'a b' "c d"`:            {"-c", "a b", "c d"},
		`x\ y "q\"q" 'it''s' $HOME`: {"x y", `q"q`, "its", "$HOME"},
		`"" ''`:                     {"", ""},
		"a\tb\nc":                   {"a", "b", "c"},
	} {
		got, err := splitArgs(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`'x`, `"x`, `x\`} {
		if _, err := splitArgs(bad); err == nil {
			t.Errorf("splitArgs(%q) accepted", bad)
		}
	}
}

func TestParseStat(t *testing.T) {
	line := "4242 (my (weird) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 50 18446744073709551615"
	st, err := parseStat(line)
	if err != nil || st.pid != 4242 || st.state != 'S' || st.pgrp != 4242 || st.start != 987654 {
		t.Fatalf("%+v %v", st, err)
	}
	for _, bad := range []string{"", "12 cmd S 1", "x (a) S 1 2 3", "1 (a) S 1 x 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
	if _, err := parseTracked("12"); err == nil {
		t.Error("parseTracked accepted one field")
	}
	if tr, err := parseTracked("12 34\n"); err != nil || tr != (tracked{12, 34}) {
		t.Errorf("parseTracked %v %v", tr, err)
	}
}

func TestCheckURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
		case "/moved":
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusMovedPermanently)
		case "/slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		case "/gone":
			w.WriteHeader(http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if err := CheckURL(ctx, srv.URL+"/ok", time.Second); err != nil {
		t.Errorf("ok: %v", err)
	}
	if err := CheckURL(ctx, srv.URL+"/moved", time.Second); err != nil {
		t.Errorf("3xx must count as healthy and not be followed: %v", err)
	}
	for _, p := range []string{"/gone", "/boom"} {
		if err := CheckURL(ctx, srv.URL+p, time.Second); !errors.Is(err, ErrStatus) {
			t.Errorf("%s: %v", p, err)
		}
	}
	start := time.Now()
	if err := CheckURL(ctx, srv.URL+"/slow", 200*time.Millisecond); err == nil || time.Since(start) > time.Second {
		t.Errorf("slow: %v after %v", err, time.Since(start))
	}
	if err := CheckURL(ctx, "http://"+freePort(t)+"/", time.Second); err == nil {
		t.Error("closed port reported healthy")
	}
	u, _ := parseStatusURL("http://localhost:80/")
	u2, _ := parseStatusURL("http://10.0.0.1/")
	if !IsLoopback(u) || IsLoopback(u2) {
		t.Error("IsLoopback")
	}
}

func TestUnitMode(t *testing.T) {
	sd := NewFakeSystemd()
	sd.AddUnit("nginx.service")
	a := newAgent(t, sd)
	ctx := ctxTimeout(t, 10*time.Second)
	c := call(map[string]string{"unit": "nginx"})
	if r := a.Monitor(ctx, c); r.RC != agent.NotRunning {
		t.Fatalf("probe %v", r)
	}
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatalf("start %v", r)
	}
	if r := a.Monitor(ctx, c); r.RC != agent.OK {
		t.Fatalf("monitor %v", r)
	}
	sd.SetActiveState("nginx.service", "failed")
	if r := a.Monitor(ctx, c); r.RC != agent.NotRunning || !strings.Contains(r.Reason, "failed") {
		t.Errorf("failed unit: %v", r)
	}
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Errorf("stop %v", r)
	}
	if got := strings.Join(sd.Calls(), ","); got != "start nginx.service,stop nginx.service" {
		t.Errorf("calls %s", got)
	}

	// Status URL in unit mode.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer bad.Close()
	cu := call(map[string]string{"unit": "nginx.service", "statusurl": bad.URL})
	sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	r := a.Start(sctx, cu)
	cancel()
	if r.RC != agent.ErrGeneric || !strings.Contains(r.Reason, "503") {
		t.Errorf("unhealthy start: %v", r)
	}
	if r := a.Monitor(ctx, cu); r.RC != agent.ErrGeneric {
		t.Errorf("unhealthy monitor: %v", r)
	}

	sd.FailStart("nginx.service", "failed")
	if r := a.Start(ctx, c); r.RC != agent.ErrGeneric || !strings.Contains(r.Reason, `"failed"`) {
		t.Errorf("failed job: %v", r)
	}
	// Unknown unit: start not installed, stop and monitor harmless.
	cx := call(map[string]string{"unit": "absent"})
	if r := a.Start(ctx, cx); r.RC != agent.NotInstalled {
		t.Errorf("absent start %v", r)
	}
	if r := a.Stop(ctx, cx); r.RC != agent.OK {
		t.Errorf("absent stop %v", r)
	}
	if r := a.Monitor(ctx, cx); r.RC != agent.NotRunning {
		t.Errorf("absent monitor %v", r)
	}
	// A stop that never settles fails within the context.
	sd.AddUnit("slow.service")
	cs := call(map[string]string{"unit": "slow"})
	sd.SetActiveState("slow.service", "active")
	sd.StopLeaves("slow.service", "deactivating")
	sctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
	r = a.Stop(sctx, cs)
	cancel()
	if r.RC != agent.ErrGeneric {
		t.Errorf("stuck stop %v", r)
	}
	sd.SetError(ErrNoSystemd)
	if r := a.Monitor(ctx, c); r.RC != agent.NotInstalled {
		t.Errorf("no systemd: %v", r)
	}
	sd.SetError(errTest)
	if r := a.Stop(ctx, c); r.RC != agent.ErrGeneric {
		t.Errorf("dbus error: %v", r)
	}
}

func TestCommandLifecycle(t *testing.T) {
	a := newAgent(t, nil)
	ctx := ctxTimeout(t, 20*time.Second)
	addr := freePort(t)
	c := call(map[string]string{
		"binary": selfBinary(t), "args": helperArg + " -listen " + addr,
		"statusurl": "http://" + addr + "/", "monitor_timeout": "2",
	})
	if r := a.Monitor(ctx, c); r.RC != agent.NotRunning {
		t.Fatalf("probe %v", r)
	}
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatalf("start %v", r)
	}
	if r := a.Monitor(ctx, c); r.RC != agent.OK {
		t.Fatalf("monitor %v", r)
	}
	t1, ok, err := a.current(c, &config{})
	if !ok || err != nil {
		t.Fatalf("current %v %v", ok, err)
	}
	if st, _ := readStat("/proc", t1.pid); st.pgrp != t1.pid {
		t.Errorf("process not in its own group: pgrp %d pid %d", st.pgrp, t1.pid)
	}
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatalf("second start %v", r)
	}
	if t2, _, _ := a.current(c, &config{}); t2 != t1 {
		t.Errorf("second start launched another process: %v vs %v", t2, t1)
	}
	// A crash (SIGKILL from outside) is noticed.
	if err := syscall.Kill(t1.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !waitGone(t1.pid, 5*time.Second) {
		t.Fatal("helper survived SIGKILL")
	}
	if r := a.Monitor(ctx, c); r.RC != agent.NotRunning || !strings.Contains(r.Reason, "gone") {
		t.Errorf("after crash: %v", r)
	}
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatalf("restart %v", r)
	}
	t3, _, _ := a.current(c, &config{})
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Fatalf("stop %v", r)
	}
	if !waitGone(t3.pid, time.Second) {
		t.Error("process still running after stop")
	}
	if r := a.Monitor(ctx, c); r.RC != agent.NotRunning {
		t.Errorf("monitor after stop %v", r)
	}
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Errorf("second stop %v", r)
	}
	waitReaped(t, a)
}

// waitReaped waits for the agent's reaper goroutines to finish.
func waitReaped(t *testing.T, a *Agent) {
	t.Helper()
	a.mu.Lock()
	var chans []chan struct{}
	for _, ch := range a.children {
		chans = append(chans, ch)
	}
	a.mu.Unlock()
	for _, ch := range chans {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("a started process was never reaped")
		}
	}
}

func TestUnhealthyStartAndMonitor(t *testing.T) {
	a := newAgent(t, nil)
	ctx := ctxTimeout(t, 20*time.Second)
	addr := freePort(t)
	c := call(map[string]string{
		"binary": selfBinary(t), "args": helperArg + " -status 500 -listen " + addr,
		"statusurl": "http://" + addr + "/",
	})
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	r := a.Start(sctx, c)
	cancel()
	if r.RC != agent.ErrGeneric || !strings.Contains(r.Reason, "500") {
		t.Errorf("start %v", r)
	}
	if r := a.Monitor(ctx, c); r.RC != agent.ErrGeneric {
		t.Errorf("monitor %v", r)
	}
	// A retried start must not launch a second copy next to the sick one.
	before, _, _ := a.current(c, &config{})
	sctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	r = a.Start(sctx, c)
	cancel()
	if after, _, _ := a.current(c, &config{}); r.RC != agent.ErrGeneric || after != before {
		t.Errorf("restart of unhealthy service: %v, tracked %v -> %v", r, before, after)
	}
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Errorf("stop %v", r)
	}
	// A binary that exits at once fails the start with its output.
	c2 := call(map[string]string{"binary": selfBinary(t), "args": helperArg + " -no-such-flag"})
	c2.Resource = "bad"
	if r := a.Start(ctx, c2); r.RC != agent.ErrGeneric || !strings.Contains(r.Reason, "exited during start") {
		t.Errorf("exiting binary: %v", r)
	}
	waitReaped(t, a)
}

func TestStopEscalatesToKillOfWholeGroup(t *testing.T) {
	a := newAgent(t, nil)
	ctx := ctxTimeout(t, 20*time.Second)
	c := call(map[string]string{
		"binary": selfBinary(t), "args": helperArg + " -ignore-term -spawn-child", "stop_timeout": "300ms",
	})
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatalf("start %v", r)
	}
	tr, _, _ := a.current(c, &config{})
	var members []int
	for i := 0; i < 100 && len(members) < 2; i++ { // wait for the child to be spawned
		members, _ = groupMembers("/proc", tr.pid)
		time.Sleep(20 * time.Millisecond)
	}
	if len(members) != 2 {
		t.Fatalf("group members %v", members)
	}
	start := time.Now()
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Fatalf("stop %v", r)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("stop took %v: SIGTERM should have been ignored for stop_timeout", d)
	}
	for _, pid := range members {
		if !waitGone(pid, 2*time.Second) {
			t.Errorf("group member %d survived stop", pid)
		}
	}
	waitReaped(t, a)
}

func TestPidfileDaemon(t *testing.T) {
	a := newAgent(t, nil)
	ctx := ctxTimeout(t, 20*time.Second)
	pidfile := filepath.Join(t.TempDir(), "d.pid")
	// A stale pid file naming a live, unrelated process (pid 1 here) must
	// not be taken for the new daemon.
	if err := os.WriteFile(pidfile, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	c := call(map[string]string{
		"binary": selfBinary(t), "args": helperArg + " -daemonize " + pidfile + " -listen " + addr,
		"pidfile": pidfile, "statusurl": "http://" + addr + "/",
	})
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatalf("start %v", r)
	}
	pid, err := readPidfile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	tr, ok, _ := a.current(c, &config{})
	if !ok || tr.pid != pid {
		t.Fatalf("tracked %v, pid file %d", tr, pid)
	}
	waitReaped(t, a) // the launcher exited
	if r := a.Monitor(ctx, c); r.RC != agent.OK {
		t.Errorf("monitor %v", r)
	}
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Fatalf("stop %v", r)
	}
	if !waitGone(pid, 2*time.Second) {
		t.Error("daemon survived stop")
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("stale pid file left: %v", err)
	}
}

// A probe finds a daemon started outside the cluster through its pid file,
// and stop stops it.
func TestProbeFindsUnmanagedDaemon(t *testing.T) {
	a := newAgent(t, nil)
	ctx := ctxTimeout(t, 20*time.Second)
	pidfile := filepath.Join(t.TempDir(), "x.pid")
	if err := os.WriteFile(pidfile, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := a.Monitor(ctx, call(map[string]string{"binary": selfBinary(t), "pidfile": pidfile})); r.RC != agent.NotRunning {
		t.Errorf("pid file naming another program: %v", r)
	}
	cmd := exec.Command(selfBinary(t), helperArg, "-pidfile", pidfile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-waited
	}()
	c := call(map[string]string{"binary": selfBinary(t), "pidfile": pidfile})
	var r agent.Result
	for i := 0; i < 100; i++ {
		if r = a.Monitor(ctx, c); r.RC == agent.OK {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.RC != agent.OK {
		t.Fatalf("probe did not find the daemon: %v", r)
	}
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Fatalf("stop %v", r)
	}
	select {
	case <-waited:
		waited <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("unmanaged daemon not stopped")
	}
}

func TestMetaDataMatchesParams(t *testing.T) {
	a := newAgent(t, nil)
	r := a.MetaData(context.Background())
	m, err := ra.Parse([]byte(r.Output))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Parameters {
		names = append(names, p.Name)
		if !knownParams[p.Name] {
			t.Errorf("meta-data parameter %s not accepted by the agent", p.Name)
		}
	}
	if len(names) != len(knownParams) {
		t.Errorf("meta-data lists %v, agent accepts %d parameters", names, len(knownParams))
	}
	reg := agent.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Lookup(Key); !ok {
		t.Error("not registered")
	}
}

func TestRootRunsAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody:", err)
	}
	// The test binary lives in a private build directory: copy it where
	// nobody can execute it.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(selfBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "helper")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	a := newAgent(t, nil)
	ctx := ctxTimeout(t, 20*time.Second)
	c := call(map[string]string{"binary": bin, "args": helperArg, "user": "nobody"})
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatalf("start %v", r)
	}
	tr, _, _ := a.current(c, &config{})
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tr.pid))
	if err != nil {
		t.Fatal(err)
	}
	var uidLine string
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "Uid:") {
			uidLine = l
		}
	}
	if f := strings.Fields(uidLine); len(f) < 3 || f[1] != u.Uid || f[2] != u.Uid {
		t.Errorf("process runs as %q, want uid %s", uidLine, u.Uid)
	}
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Fatalf("stop %v", r)
	}
	waitReaped(t, a)
}

// The unit parameter gets ".service" only when it names no unit type
// (the same rule as the LRM's systemd class, sdunit.UnitName).
func TestUnitParamSuffix(t *testing.T) {
	for in, want := range map[string]string{
		"nginx": "nginx.service", "nginx.service": "nginx.service", "web.socket": "web.socket",
		"swapfile.swap": "swapfile.swap", "dev-sdb.device": "dev-sdb.device", "my.app": "my.app.service",
	} {
		cfg, err := parseParams(map[string]string{"unit": in})
		if err != nil || cfg.unit != want {
			t.Errorf("unit=%q: got %v %v, want %q", in, cfg, err, want)
		}
	}
}
