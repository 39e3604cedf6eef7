// Package dummy implements ocf:gocrm:Dummy, the built-in counterpart of
// ocf:pacemaker:Dummy: a resource that does nothing but remember whether it
// is running, in a state file under the node's private state directory.
//
// It exists for testing the LRM, the scheduler and the whole cluster without
// touching the system, and as the template for other built-in agents
// (package agent defines the interface).
//
// Parameters (as in ocf:pacemaker:Dummy):
//
//	state     state file; default <StateDir>/Dummy-<instance>.state (the clone
//	          suffix is dropped for anonymous clones); relative paths are
//	          resolved under the node's state directory
//	fake      ignored value that can be changed to trigger a reload
//	op_sleep  seconds to sleep in start, stop and monitor (default 0)
package dummy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// Key is the agent's registry key, ocf:gocrm:Dummy.
var Key = agent.Key{Class: "ocf", Provider: "gocrm", Type: "Dummy"}

// Register adds ocf:gocrm:Dummy to r.
func Register(r *agent.Registry) error {
	return r.Register(Key, func(env agent.Env) (agent.Agent, error) { return New(env) })
}

// Agent is one node's instance of ocf:gocrm:Dummy. It is safe for
// concurrent use; like ocf:pacemaker:Dummy it reports ErrGeneric
// ("alternate universe collision") if two actions sleep on the same state
// file at once, which the LRM's per-resource serialisation must prevent.
type Agent struct {
	agent.Unsupported
	stateDir string
	log      *slog.Logger

	mu   sync.Mutex
	busy map[string]bool // state files with an action currently sleeping
}

// ErrNoStateDir is returned by New when env.StateDir is empty.
var ErrNoStateDir = errors.New("dummy: no state directory")

// New creates the agent for one node. env.StateDir is created if needed.
func New(env agent.Env) (*Agent, error) {
	if env.StateDir == "" {
		return nil, ErrNoStateDir
	}
	if err := os.MkdirAll(env.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("dummy: create state dir %s: %w", env.StateDir, err)
	}
	return &Agent{stateDir: env.StateDir, log: env.Log(), busy: make(map[string]bool)}, nil
}

// statePath returns the state file of the call.
func (a *Agent) statePath(c agent.Call) string {
	if p := c.Params["state"]; p != "" {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(a.stateDir, filepath.Clean("/"+p))
	}
	return filepath.Join(a.stateDir, "Dummy-"+c.FileInstance()+".state")
}

func opSleep(c agent.Call) (time.Duration, error) {
	s := c.Params["op_sleep"]
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("op_sleep %q: %w: want a non-negative integer", s, agent.ErrNotConfigured)
	}
	return time.Duration(n) * time.Second, nil
}

// sleep honours op_sleep, detecting overlapping actions on one state file.
func (a *Agent) sleep(ctx context.Context, c agent.Call, path string) agent.Result {
	d, err := opSleep(c)
	if err != nil {
		return agent.FromError(err)
	}
	if d == 0 {
		return agent.Result{RC: agent.OK}
	}
	a.mu.Lock()
	if a.busy[path] {
		a.mu.Unlock()
		return agent.Failf(agent.ErrGeneric, "alternate universe collision: concurrent action on %s", path)
	}
	a.busy[path] = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.busy, path)
		a.mu.Unlock()
	}()
	if !agent.Sleep(ctx, d) {
		return agent.Failf(agent.ErrGeneric, "interrupted during op_sleep: %v", ctx.Err())
	}
	return agent.Result{RC: agent.OK}
}

func (a *Agent) check(ctx context.Context, c agent.Call) agent.Result {
	path := a.statePath(c)
	if r := a.sleep(ctx, c, path); r.RC != agent.OK {
		return r
	}
	if _, err := os.Stat(path); err == nil {
		return agent.Result{RC: agent.OK}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return agent.Failf(agent.ErrGeneric, "stat state file: %v", err)
	}
	return agent.Result{RC: agent.NotRunning}
}

// Start creates the state file (OK if already running).
func (a *Agent) Start(ctx context.Context, c agent.Call) agent.Result {
	r := a.check(ctx, c)
	switch r.RC {
	case agent.OK:
		return r
	case agent.NotRunning:
	default:
		return r
	}
	path := a.statePath(c)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return agent.Failf(agent.ErrGeneric, "create state dir: %v", err)
	}
	if err := os.WriteFile(path, []byte(c.Param("fake", "dummy")+"\n"), 0o640); err != nil {
		return agent.Failf(agent.ErrGeneric, "write state file: %v", err)
	}
	a.log.Debug("dummy started", "rsc", c.Resource, "state", path)
	return agent.Result{RC: agent.OK}
}

// Stop removes the state file (OK if already stopped).
func (a *Agent) Stop(ctx context.Context, c agent.Call) agent.Result {
	if r := a.check(ctx, c); r.RC != agent.OK && r.RC != agent.NotRunning {
		return r
	}
	if err := os.Remove(a.statePath(c)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return agent.Failf(agent.ErrGeneric, "remove state file: %v", err)
	}
	a.log.Debug("dummy stopped", "rsc", c.Resource)
	return agent.Result{RC: agent.OK}
}

// Monitor reports OK while the state file exists and NotRunning otherwise.
func (a *Agent) Monitor(ctx context.Context, c agent.Call) agent.Result {
	r := a.check(ctx, c)
	if r.RC == agent.NotRunning && !c.IsProbe() {
		r.Reason = "No process state file found"
	}
	return r
}

// Reload always succeeds (the "fake" parameter is reloadable).
// Notify accepts clone notifications (notify=true): it logs them and
// keeps the last one ("TYPE OPERATION") in the state file's ".notify"
// companion, so tests can see that notifications arrive.
func (a *Agent) Notify(_ context.Context, c agent.Call) agent.Result {
	typ, op := c.Meta["notify_type"], c.Meta["notify_operation"]
	a.log.Info("dummy: notification", "rsc", c.Resource, "type", typ, "operation", op)
	if err := os.WriteFile(a.statePath(c)+".notify", []byte(typ+" "+op+"\n"), 0o640); err != nil {
		return agent.Result{RC: agent.ErrGeneric, Reason: fmt.Sprintf("dummy: record notification: %v", err)}
	}
	return agent.Result{RC: agent.OK}
}

func (a *Agent) Reload(context.Context, agent.Call) agent.Result {
	return agent.Result{RC: agent.OK}
}

// Validate checks op_sleep and that the state directory is writable.
func (a *Agent) Validate(_ context.Context, c agent.Call) agent.Result {
	if _, err := opSleep(c); err != nil {
		return agent.FromError(err)
	}
	dir := filepath.Dir(a.statePath(c))
	f, err := os.CreateTemp(dir, ".validate-*")
	if err != nil {
		return agent.Failf(agent.ErrArgs, "state directory %s is not writable: %v", dir, err)
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	return agent.Result{RC: agent.OK}
}

// MetaData returns the agent's OCF meta-data.
func (a *Agent) MetaData(context.Context) agent.Result {
	return agent.Result{RC: agent.OK, Output: metaData}
}

const metaData = `<?xml version="1.0"?>
<resource-agent name="Dummy" version="1.0">
  <version>1.1</version>
  <longdesc lang="en">Built-in gocrm test agent. It only records in a node-private state file whether it is running.</longdesc>
  <shortdesc lang="en">Built-in dummy resource</shortdesc>
  <parameters>
    <parameter name="state" unique-group="state">
      <longdesc lang="en">State file; relative paths are resolved under the node's state directory.</longdesc>
      <shortdesc lang="en">State file</shortdesc>
      <content type="string" default=""/>
    </parameter>
    <parameter name="fake" reloadable="1">
      <longdesc lang="en">Value without effect that can be changed to cause a reload.</longdesc>
      <shortdesc lang="en">Reloadable dummy value</shortdesc>
      <content type="string" default="dummy"/>
    </parameter>
    <parameter name="op_sleep">
      <longdesc lang="en">Seconds to sleep in start, stop and monitor.</longdesc>
      <shortdesc lang="en">Action delay</shortdesc>
      <content type="integer" default="0"/>
    </parameter>
  </parameters>
  <actions>
    <action name="start" timeout="20s"/>
    <action name="stop" timeout="20s"/>
    <action name="monitor" timeout="20s" interval="10s" depth="0"/>
    <action name="reload" timeout="20s"/>
    <action name="notify" timeout="20s"/>
    <action name="validate-all" timeout="20s"/>
    <action name="meta-data" timeout="5s"/>
  </actions>
</resource-agent>
`

var _ agent.Agent = (*Agent)(nil)
