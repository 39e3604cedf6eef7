package lrm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/gocrm/gocrm/agents/agent"
)

// BuiltinExecutor runs built-in Go agents from a Registry. It creates one
// agent instance per key on first use, giving it a private state directory
// <StateDir>/<provider>-<type> under the node's state directory.
//
// Exec is safe for concurrent use. Built-in agents cannot be killed: an
// agent that ignores its context delays the LRM's worker for that
// resource until it returns, and the result is then reported as a timeout.
type BuiltinExecutor struct {
	Registry *agent.Registry
	Node     string
	StateDir string
	Logger   *slog.Logger

	mu        sync.Mutex
	instances map[agent.Key]agent.Agent
}

// Has reports whether k is a registered built-in agent.
func (e *BuiltinExecutor) Has(k agent.Key) bool {
	if e == nil || e.Registry == nil {
		return false
	}
	_, ok := e.Registry.Lookup(k)
	return ok
}

func (e *BuiltinExecutor) instance(k agent.Key) (agent.Agent, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a, ok := e.instances[k]; ok {
		return a, nil
	}
	f, ok := e.Registry.Lookup(k)
	if !ok {
		return nil, fmt.Errorf("built-in agent %s: %w", k, agent.ErrNotInstalled)
	}
	log := e.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := filepath.Join(e.StateDir, k.Provider+"-"+k.Type)
	a, err := f(agent.Env{Node: e.Node, StateDir: dir, Logger: log.With("agent", k.String())})
	if err != nil {
		return nil, fmt.Errorf("create built-in agent %s: %w", k, err)
	}
	if e.instances == nil {
		e.instances = make(map[agent.Key]agent.Agent)
	}
	e.instances[k] = a
	return a, nil
}

// Exec runs the action in the calling goroutine.
func (e *BuiltinExecutor) Exec(ctx context.Context, a Action) Result {
	if e.Registry == nil {
		return Result{RC: agent.NotInstalled, Status: StatusNotInstalled, Reason: "no built-in agents"}
	}
	ag, err := e.instance(a.Rsc.Agent)
	if err != nil {
		st := StatusError
		if errors.Is(err, agent.ErrNotInstalled) {
			st = StatusNotInstalled
		}
		r := agent.FromError(err)
		return Result{RC: r.RC, Status: st, Reason: r.Reason}
	}
	meta := make(map[string]string, len(a.Meta)+2)
	for k, v := range a.Meta {
		meta[metaName(k)] = v
	}
	meta["timeout"] = ms(a.Timeout)
	meta["interval"] = ms(a.Interval)
	c := agent.Call{Resource: a.Rsc.ID, Params: a.Params, Meta: meta, Interval: a.Interval, Timeout: a.Timeout}
	var r agent.Result
	switch a.Op {
	case OpStart:
		r = ag.Start(ctx, c)
	case OpStop:
		r = ag.Stop(ctx, c)
	case OpMonitor:
		r = ag.Monitor(ctx, c)
	case OpPromote:
		r = ag.Promote(ctx, c)
	case OpDemote:
		r = ag.Demote(ctx, c)
	case OpReload:
		r = ag.Reload(ctx, c)
	case OpNotify:
		r = ag.Notify(ctx, c)
	case OpMetaData:
		r = ag.MetaData(ctx)
	case OpValidate:
		r = ag.Validate(ctx, c)
	default:
		return Result{RC: agent.Unimplemented, Status: StatusNotSupported,
			Reason: fmt.Sprintf("built-in agents do not support %q", a.Op)}
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return Result{RC: agent.ErrGeneric, Status: StatusTimeout, Reason: "built-in agent did not finish within the timeout", Output: r.Output}
	case ctx.Err() != nil:
		return Result{RC: agent.Cancelled, Status: StatusCancelled, Reason: "action cancelled", Output: r.Output}
	}
	return Result{RC: r.RC, Status: StatusDone, Reason: r.Reason, Output: r.Output}
}
