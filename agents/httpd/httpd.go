// Package httpd implements ocf:gocrm:httpd, a built-in agent for a web
// server (or any long-running daemon) in one of two modes:
//
//   - unit mode (parameter unit): a systemd unit started and stopped through
//     systemd's D-Bus API (the Systemd interface; DBusSystemd in production,
//     FakeSystemd in tests), waiting for the job result; monitor maps the
//     unit's ActiveState.
//   - command mode (parameter binary, with args, pidfile, user): the binary
//     is started directly, without a shell, in its own process group, with
//     stdout and stderr appended to <StateDir>/<instance>.log. The tracked
//     process (the child, or the pid the daemon writes to pidfile) is
//     recorded with its start time in <StateDir>/<instance>.pid, so a
//     recycled pid is never mistaken for the service. Without a state file
//     (a probe after a crmd restart or of a daemon started by hand), a live
//     process named by pidfile counts only if it executes binary. Stop
//     sends SIGTERM to the process group, then SIGKILL after stop_timeout.
//
// In both modes, when statusurl is set, monitor also requires an HTTP GET
// of that URL to answer 2xx or 3xx within monitor_timeout (default 5 s).
// Redirects are not followed and proxies from the environment are ignored:
// the agent only ever contacts the URL the operator configured.
//
// Validate checks every parameter (naming it in the error) before any
// action touches the system.
package httpd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/internal/atomicfile"
)

// Key is the agent's registry key, ocf:gocrm:httpd.
var Key = agent.Key{Class: "ocf", Provider: "gocrm", Type: "httpd"}

// Register adds ocf:gocrm:httpd to r. All instances created by r share
// one lazily connected DBusSystemd.
func Register(r *agent.Registry) error {
	sd := &DBusSystemd{}
	return r.Register(Key, func(env agent.Env) (agent.Agent, error) {
		return New(env, Deps{Systemd: sd})
	})
}

// Deps are the agent's injectable dependencies.
type Deps struct {
	Systemd  Systemd       // required for unit mode
	ProcRoot string        // default "/proc"
	Poll     time.Duration // state polling period (default 100ms)
}

// Agent is one node's ocf:gocrm:httpd. It is safe for concurrent use
// (the LRM serialises actions per resource). For each process it starts,
// it keeps one goroutine that reaps the process; that goroutine ends when
// the process exits (Stop makes sure it does).
type Agent struct {
	agent.Unsupported
	stateDir string
	log      *slog.Logger
	d        Deps

	mu       sync.Mutex
	children map[int]chan struct{} // started processes not yet reaped -> closed on exit
}

// ErrNoStateDir is returned by New when env.StateDir is empty.
var ErrNoStateDir = errors.New("httpd: no state directory")

// New creates the agent for one node; env.StateDir is created if needed.
func New(env agent.Env, d Deps) (*Agent, error) {
	if env.StateDir == "" {
		return nil, ErrNoStateDir
	}
	if err := os.MkdirAll(env.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("httpd: create state dir %s: %w", env.StateDir, err)
	}
	if d.ProcRoot == "" {
		d.ProcRoot = "/proc"
	}
	if d.Poll <= 0 {
		d.Poll = 100 * time.Millisecond
	}
	return &Agent{stateDir: env.StateDir, log: env.Log(), d: d, children: map[int]chan struct{}{}}, nil
}

// instance is the file-name-safe instance name of the call.
func instance(c agent.Call) string {
	inst := c.FileInstance()
	if inst == "/" || inst == "." {
		inst = "httpd"
	}
	return inst
}

func (a *Agent) statePath(c agent.Call) string {
	return filepath.Join(a.stateDir, instance(c)+".pid")
}

func (a *Agent) logPath(c agent.Call) string {
	return filepath.Join(a.stateDir, instance(c)+".log")
}

// Validate checks the parameters (rc 5/6/2/4 naming the parameter).
func (a *Agent) Validate(_ context.Context, c agent.Call) agent.Result {
	if _, err := parseParams(c.Params); err != nil {
		return agent.FromError(err)
	}
	if a.d.Systemd == nil && c.Params["unit"] != "" {
		return agent.Failf(agent.NotInstalled, "parameter unit=%q: no systemd manager on this node", c.Params["unit"])
	}
	return agent.Result{RC: agent.OK}
}

// MetaData returns the OCF meta-data.
func (a *Agent) MetaData(context.Context) agent.Result {
	return agent.Result{RC: agent.OK, Output: metaData}
}

// byMode parses the call's parameters (failing with their OCF code) and
// runs unit or command, whichever mode they select.
func byMode(c agent.Call, unit, command func(*config) agent.Result) agent.Result {
	cfg, err := parseParams(c.Params)
	if err != nil {
		return agent.FromError(err)
	}
	if cfg.unit != "" {
		return unit(cfg)
	}
	return command(cfg)
}

// Start starts the service; it succeeds once the service is healthy
// (monitor OK), and fails when the call's context ends first.
func (a *Agent) Start(ctx context.Context, c agent.Call) agent.Result {
	return byMode(c,
		func(cfg *config) agent.Result { return a.startUnit(ctx, cfg) },
		func(cfg *config) agent.Result { return a.startCommand(ctx, c, cfg) })
}

// Stop stops the service (OK if it was not running).
func (a *Agent) Stop(ctx context.Context, c agent.Call) agent.Result {
	return byMode(c,
		func(cfg *config) agent.Result { return a.stopUnit(ctx, cfg) },
		func(cfg *config) agent.Result { return a.stopCommand(ctx, c, cfg) })
}

// Monitor reports OK while the service runs (and statusurl answers),
// NotRunning when it is cleanly stopped, ErrGeneric when it runs but the
// status URL fails.
func (a *Agent) Monitor(ctx context.Context, c agent.Call) agent.Result {
	return byMode(c,
		func(cfg *config) agent.Result { return a.monitorUnit(ctx, cfg, true) },
		func(cfg *config) agent.Result { return a.monitorCommand(ctx, c, cfg, true) })
}

// sleep waits one poll period; false if ctx ended.
func (a *Agent) sleep(ctx context.Context) bool { return agent.Sleep(ctx, a.d.Poll) }

// ---- unit mode ----

func (a *Agent) sdFailure(ctx context.Context, what string, err error) agent.Result {
	switch {
	case ctx.Err() != nil:
		return agent.Failf(agent.ErrGeneric, "%s: %v", what, ctx.Err())
	case errors.Is(err, ErrNoSystemd):
		return agent.Failf(agent.NotInstalled, "%s: %v", what, err)
	}
	return agent.Failf(agent.ErrGeneric, "%s: %v", what, err)
}

// noManager is the result of a unit-mode action without a systemd manager.
func noManager(cfg *config) agent.Result {
	return agent.Failf(agent.NotInstalled, "unit %s: no systemd manager on this node", cfg.unit)
}

// unitJob runs the systemd job op ("start" or "stop") on cfg.unit and
// waits for its result. ok is false when the action is over: the result is
// then a failure, or absent when systemd does not know the unit.
func (a *Agent) unitJob(ctx context.Context, cfg *config, op string, absent agent.Result) (r agent.Result, ok bool) {
	if a.d.Systemd == nil {
		return noManager(cfg), false
	}
	st, err := a.d.Systemd.UnitState(ctx, cfg.unit)
	if err != nil {
		return a.sdFailure(ctx, "unit "+cfg.unit, err), false
	}
	if st.LoadState == "not-found" {
		return absent, false
	}
	job := a.d.Systemd.StartUnit
	if op == "stop" {
		job = a.d.Systemd.StopUnit
	}
	res, err := job(ctx, cfg.unit)
	if err != nil {
		return a.sdFailure(ctx, op+" "+cfg.unit, err), false
	}
	if res != "done" {
		return agent.Failf(agent.ErrGeneric, "systemd %s job for %s finished with result %q", op, cfg.unit, res), false
	}
	return agent.Result{RC: agent.OK}, true
}

func (a *Agent) startUnit(ctx context.Context, cfg *config) agent.Result {
	absent := agent.Failf(agent.NotInstalled, "parameter unit=%q: unit not found", cfg.unit)
	if r, ok := a.unitJob(ctx, cfg, "start", absent); !ok {
		return r
	}
	// Healthy means active and, with statusurl, answering.
	why := ""
	for {
		r := a.monitorUnit(ctx, cfg, true)
		if r.RC == agent.OK {
			a.log.Info("unit started", "unit", cfg.unit)
			return r
		}
		if r.RC == agent.NotRunning {
			return agent.Failf(agent.ErrGeneric, "unit %s is not active after its start job", cfg.unit)
		}
		if why == "" || ctx.Err() == nil {
			why = r.Reason
		}
		if !a.sleep(ctx) {
			return agent.Failf(agent.ErrGeneric, "unit %s did not become healthy: %s", cfg.unit, why)
		}
	}
}

func (a *Agent) stopUnit(ctx context.Context, cfg *config) agent.Result {
	// A unit systemd does not know cannot be running.
	if r, ok := a.unitJob(ctx, cfg, "stop", agent.Result{RC: agent.OK}); !ok {
		return r
	}
	for {
		st, err := a.d.Systemd.UnitState(ctx, cfg.unit)
		if err != nil {
			return a.sdFailure(ctx, "unit "+cfg.unit, err)
		}
		switch st.ActiveState {
		case "active", "reloading", "activating", "deactivating":
		default:
			a.log.Info("unit stopped", "unit", cfg.unit, "state", st.ActiveState)
			return agent.Result{RC: agent.OK}
		}
		if !a.sleep(ctx) {
			return agent.Failf(agent.ErrGeneric, "unit %s still %s after its stop job", cfg.unit, st.ActiveState)
		}
	}
}

func (a *Agent) monitorUnit(ctx context.Context, cfg *config, checkURL bool) agent.Result {
	if a.d.Systemd == nil {
		return noManager(cfg)
	}
	for {
		st, err := a.d.Systemd.UnitState(ctx, cfg.unit)
		if err != nil {
			return a.sdFailure(ctx, "unit "+cfg.unit, err)
		}
		switch st.ActiveState {
		case "active", "reloading":
			if checkURL {
				return a.checkStatus(ctx, cfg)
			}
			return agent.Result{RC: agent.OK}
		case "activating", "deactivating":
			if !a.sleep(ctx) {
				return agent.Failf(agent.ErrGeneric, "unit %s stuck %s", cfg.unit, st.ActiveState)
			}
		default:
			if st.LoadState == "not-found" {
				return agent.Result{RC: agent.NotRunning, Reason: "unit " + cfg.unit + " not found"}
			}
			return agent.Result{RC: agent.NotRunning, Reason: "unit " + cfg.unit + " is " + st.ActiveState}
		}
	}
}

// ---- status URL ----

// checkStatus GETs the status URL (if configured): 2xx and 3xx are OK.
func (a *Agent) checkStatus(ctx context.Context, cfg *config) agent.Result {
	if cfg.statusURL == nil {
		return agent.Result{RC: agent.OK}
	}
	if err := CheckURL(ctx, cfg.statusURL.String(), cfg.monitorTimeout); err != nil {
		return agent.Failf(agent.ErrGeneric, "status check: %v", err)
	}
	return agent.Result{RC: agent.OK}
}

// ErrStatus is wrapped by CheckURL when the server answered with a status
// other than 2xx/3xx.
var ErrStatus = errors.New("bad HTTP status")

// CheckURL performs one GET of url within timeout, without proxies, keep-
// alive or redirect following, and succeeds on a 2xx or 3xx answer. The
// body is not read beyond what the transport buffers. Safe for concurrent
// use.
func CheckURL(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, ResponseHeaderTimeout: timeout}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	req.Header.Set("User-Agent", "gocrm-httpd-monitor")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("GET %s: %w: %s", url, ErrStatus, resp.Status)
	}
	return nil
}

// ---- command mode ----

// current returns the tracked service process, if alive: from the state
// file, or else (a daemon started outside the cluster, found by a probe)
// from the pidfile, provided that process executes binary.
func (a *Agent) current(c agent.Call, cfg *config) (tracked, bool, error) {
	b, err := os.ReadFile(a.statePath(c))
	switch {
	case err == nil:
		t, err := parseTracked(string(b))
		if err != nil {
			return tracked{}, false, fmt.Errorf("%s: %w", a.statePath(c), err)
		}
		return t, a.alive(t), nil
	case !errors.Is(err, fs.ErrNotExist):
		return tracked{}, false, fmt.Errorf("read state file: %w", err)
	}
	if cfg.pidfile == "" {
		return tracked{}, false, nil
	}
	pid, err := readPidfile(cfg.pidfile)
	if err != nil {
		return tracked{}, false, nil // no (readable) pid file: not running
	}
	st, err := readStat(a.d.ProcRoot, pid)
	if err != nil || !st.live() || !a.runs(pid, cfg.binary) {
		return tracked{}, false, nil
	}
	return tracked{pid: pid, start: st.start}, true, nil
}

// runs reports whether process pid executes binary (a pid file may name a
// recycled pid of an unrelated process).
func (a *Agent) runs(pid int, binary string) bool {
	exe, err := os.Readlink(filepath.Join(a.d.ProcRoot, strconv.Itoa(pid), "exe"))
	if err != nil {
		return false
	}
	exe = strings.TrimSuffix(exe, " (deleted)") // upgraded in place
	if exe == binary {
		return true
	}
	r1, err1 := filepath.EvalSymlinks(exe)
	r2, err2 := filepath.EvalSymlinks(binary)
	return err1 == nil && err2 == nil && r1 == r2
}

// alive reports whether t still runs (same pid and start time, not a zombie).
func (a *Agent) alive(t tracked) bool {
	st, err := readStat(a.d.ProcRoot, t.pid)
	return err == nil && st.start == t.start && st.live()
}

func (a *Agent) monitorCommand(ctx context.Context, c agent.Call, cfg *config, checkURL bool) agent.Result {
	t, ok, err := a.current(c, cfg)
	if err != nil {
		return agent.Failf(agent.ErrGeneric, "%v", err)
	}
	if !ok {
		r := agent.Result{RC: agent.NotRunning}
		if t.pid != 0 {
			r.Reason = fmt.Sprintf("process %d is gone", t.pid)
		}
		return r
	}
	if checkURL {
		return a.checkStatus(ctx, cfg)
	}
	return agent.Result{RC: agent.OK}
}

func writeFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data, 0o640) }

func credential(cfg *config) (*syscall.Credential, error) {
	if cfg.user == nil {
		return nil, nil
	}
	uid, err1 := strconv.ParseUint(cfg.user.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(cfg.user.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s: non-numeric uid/gid", cfg.user.Username)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	gids, err := cfg.user.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("user %s: groups: %w", cfg.user.Username, err)
	}
	for _, g := range gids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil {
			cred.Groups = append(cred.Groups, uint32(n))
		}
	}
	return cred, nil
}

// launch starts the binary in its own process group and returns its pid
// and a channel closed once it has exited and been reaped.
func (a *Agent) launch(c agent.Call, cfg *config) (tracked, <-chan struct{}, error) {
	cred, err := credential(cfg)
	if err != nil {
		return tracked{}, nil, err
	}
	logf, err := os.OpenFile(a.logPath(c), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return tracked{}, nil, fmt.Errorf("open log file: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(cfg.binary, cfg.args...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logf, logf // *os.File: passed as fds, no copy goroutines
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		return tracked{}, nil, fmt.Errorf("start %s: %w", cfg.binary, err)
	}
	pid := cmd.Process.Pid
	st, err := readStat(a.d.ProcRoot, pid) // a zombie still has its stat: no race with the reaper
	done := make(chan struct{})
	a.mu.Lock()
	a.children[pid] = done
	a.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		a.mu.Lock()
		delete(a.children, pid)
		a.mu.Unlock()
		close(done)
	}()
	if err != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		return tracked{}, done, fmt.Errorf("read stat of new process %d: %w", pid, err)
	}
	return tracked{pid: pid, start: st.start}, done, nil
}

// lastLogLine returns the last non-empty line of the instance's log file.
func (a *Agent) lastLogLine(c agent.Call) string {
	b, err := os.ReadFile(a.logPath(c))
	if err != nil {
		return ""
	}
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func (a *Agent) startCommand(ctx context.Context, c agent.Call, cfg *config) agent.Result {
	if r := a.monitorCommand(ctx, c, cfg, false); r.RC == agent.OK {
		// Already running: never launch a second copy, wait for health.
		t, _, _ := a.current(c, cfg)
		return a.waitHealthy(ctx, c, cfg, t)
	} else if r.RC != agent.NotRunning {
		return r
	}
	_ = os.Remove(a.statePath(c))
	if cfg.pidfile != "" {
		// Not running, so any pid file is stale; its pid may have been
		// recycled and must not be mistaken for the new daemon.
		if err := os.Remove(cfg.pidfile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return agent.Failf(agent.ErrGeneric, "remove stale pid file: %v", err)
		}
	}
	child, childDone, err := a.launch(c, cfg)
	if err != nil {
		return agent.Failf(agent.ErrGeneric, "%v", err)
	}
	t := child
	if cfg.pidfile != "" {
		// Forking daemon: wait for the pid it writes (the launcher may exit).
		for {
			if pid, err := readPidfile(cfg.pidfile); err == nil {
				if st, err := readStat(a.d.ProcRoot, pid); err == nil && st.live() {
					t = tracked{pid: pid, start: st.start}
					break
				}
			}
			launcherGone := false
			select {
			case <-childDone:
				launcherGone = true
			default:
			}
			if !a.sleep(ctx) {
				_ = syscall.Kill(-child.pid, syscall.SIGKILL)
				return agent.Failf(agent.ErrGeneric, "pid file %s not written before the start timeout", cfg.pidfile)
			}
			if launcherGone {
				// One more look after the launcher exited: the daemon
				// writes the pid file before the parent returns.
				if pid, err := readPidfile(cfg.pidfile); err == nil && a.pidLive(pid) {
					continue
				}
				return agent.Failf(agent.ErrGeneric, "%s exited without a live pid in %s: %s", cfg.binary, cfg.pidfile, a.lastLogLine(c))
			}
		}
	}
	if err := writeFileAtomic(a.statePath(c), []byte(t.String())); err != nil {
		a.kill(t, syscall.SIGKILL)
		return agent.Failf(agent.ErrGeneric, "write state file: %v", err)
	}
	a.log.Info("process started", "rsc", c.Resource, "binary", cfg.binary, "pid", t.pid)
	if cfg.statusURL == nil && cfg.pidfile == "" {
		// Without a health URL, a binary that dies at once (bad flags,
		// port in use) must still fail the start: let it settle.
		settle := time.NewTimer(5 * a.d.Poll)
		select {
		case <-childDone:
		case <-settle.C:
		case <-ctx.Done():
		}
		settle.Stop()
	}
	return a.waitHealthy(ctx, c, cfg, t)
}

// waitHealthy polls monitor until it succeeds, the process exits, or ctx ends.
func (a *Agent) waitHealthy(ctx context.Context, c agent.Call, cfg *config, t tracked) agent.Result {
	why := ""
	for {
		r := a.monitorCommand(ctx, c, cfg, true)
		switch r.RC {
		case agent.OK:
			return r
		case agent.NotRunning:
			return agent.Failf(agent.ErrGeneric, "%s (pid %d) exited during start: %s", cfg.binary, t.pid, a.lastLogLine(c))
		}
		if why == "" || ctx.Err() == nil {
			why = r.Reason // a check cut short by the deadline says less than the previous one
		}
		if !a.sleep(ctx) {
			return agent.Failf(agent.ErrGeneric, "%s did not become healthy before the start timeout: %s", cfg.binary, why)
		}
	}
}

func (a *Agent) pidLive(pid int) bool {
	st, err := readStat(a.d.ProcRoot, pid)
	return err == nil && st.live()
}

// groupOf returns the process group to signal for t: t's own group when t
// leads it (the agent's Setpgid, or a daemon's setsid) and it is not ours;
// otherwise 0 (signal the process alone).
func (a *Agent) groupOf(t tracked) int {
	st, err := readStat(a.d.ProcRoot, t.pid)
	if err != nil || st.start != t.start || st.pgrp != t.pid || st.pgrp == syscall.Getpgrp() {
		return 0
	}
	return st.pgrp
}

// kill signals t (and its group, when it leads one).
func (a *Agent) kill(t tracked, sig syscall.Signal) {
	if pg := a.groupOf(t); pg > 1 {
		_ = syscall.Kill(-pg, sig)
	}
	if a.alive(t) {
		_ = syscall.Kill(t.pid, sig)
	}
}

// gone reports whether t and every live member of group pg have exited.
func (a *Agent) gone(t tracked, pg int) bool {
	if a.alive(t) {
		return false
	}
	if pg <= 1 {
		return true
	}
	m, err := groupMembers(a.d.ProcRoot, pg)
	return err == nil && len(m) == 0
}

func (a *Agent) stopTimeout(c agent.Call, cfg *config) time.Duration {
	if cfg.stopTimeout > 0 {
		return cfg.stopTimeout
	}
	if c.Timeout > 0 {
		return c.Timeout * 3 / 5 // leave time for SIGKILL within the action timeout
	}
	return DefaultStopTimeout
}

func (a *Agent) stopCommand(ctx context.Context, c agent.Call, cfg *config) agent.Result {
	t, ok, err := a.current(c, cfg)
	if err != nil {
		return agent.Failf(agent.ErrGeneric, "%v", err)
	}
	if !ok {
		if err := os.Remove(a.statePath(c)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return agent.Failf(agent.ErrGeneric, "remove state file: %v", err)
		}
		return agent.Result{RC: agent.OK}
	}
	pg := a.groupOf(t)
	a.kill(t, syscall.SIGTERM)
	termCtx, cancel := context.WithTimeout(ctx, a.stopTimeout(c, cfg))
	for !a.gone(t, pg) && a.sleep(termCtx) {
	}
	cancel()
	if !a.gone(t, pg) {
		a.log.Warn("process ignored SIGTERM, sending SIGKILL", "rsc", c.Resource, "pid", t.pid)
		a.kill(t, syscall.SIGKILL)
		if pg > 1 {
			_ = syscall.Kill(-pg, syscall.SIGKILL) // members left after the leader exited
		}
		for !a.gone(t, pg) {
			if !a.sleep(ctx) {
				return agent.Failf(agent.ErrGeneric, "process %d survived SIGKILL", t.pid)
			}
		}
	}
	if err := os.Remove(a.statePath(c)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return agent.Failf(agent.ErrGeneric, "remove state file: %v", err)
	}
	if cfg.pidfile != "" {
		_ = os.Remove(cfg.pidfile) // stale now; the daemon may not have removed it
	}
	a.log.Info("process stopped", "rsc", c.Resource, "pid", t.pid)
	return agent.Result{RC: agent.OK}
}

const metaData = `<?xml version="1.0"?>
<resource-agent name="httpd" version="1.0">
  <version>1.1</version>
  <longdesc lang="en">Runs a web server (or any daemon) either as a systemd unit (parameter unit) or as a command started without a shell in its own process group (parameter binary). Monitor checks that the service runs and, with statusurl, that the URL answers 2xx or 3xx.</longdesc>
  <shortdesc lang="en">Built-in web server agent</shortdesc>
  <parameters>
    <parameter name="unit">
      <longdesc lang="en">systemd unit to manage (".service" is added when no unit type is given). Excludes binary.</longdesc>
      <shortdesc lang="en">systemd unit</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="binary">
      <longdesc lang="en">Absolute path of the server binary, started directly (no shell). Excludes unit.</longdesc>
      <shortdesc lang="en">Server binary</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="args">
      <longdesc lang="en">Arguments, split into words like a shell would (quotes and backslashes) but without any expansion.</longdesc>
      <shortdesc lang="en">Arguments</shortdesc>
      <content type="string" default=""/>
    </parameter>
    <parameter name="pidfile">
      <longdesc lang="en">For daemons that fork: absolute path of the pid file they write; that process is tracked instead of the launched one.</longdesc>
      <shortdesc lang="en">Daemon pid file</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="user">
      <longdesc lang="en">User to run the binary as (needs root).</longdesc>
      <shortdesc lang="en">User</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="statusurl">
      <longdesc lang="en">http or https URL that must answer 2xx or 3xx for the service to be healthy (e.g. http://127.0.0.1/server-status). Redirects are not followed.</longdesc>
      <shortdesc lang="en">Status URL</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="monitor_timeout">
      <longdesc lang="en">Seconds the status URL has to answer.</longdesc>
      <shortdesc lang="en">Status check timeout</shortdesc>
      <content type="integer" default="5"/>
    </parameter>
    <parameter name="stop_timeout">
      <longdesc lang="en">Seconds between SIGTERM and SIGKILL on stop; default 60% of the stop timeout.</longdesc>
      <shortdesc lang="en">Grace period on stop</shortdesc>
      <content type="integer"/>
    </parameter>
  </parameters>
  <actions>
    <action name="start" timeout="40s"/>
    <action name="stop" timeout="60s"/>
    <action name="monitor" timeout="20s" interval="10s" depth="0"/>
    <action name="validate-all" timeout="20s"/>
    <action name="meta-data" timeout="5s"/>
  </actions>
</resource-agent>
`

var _ agent.Agent = (*Agent)(nil)
