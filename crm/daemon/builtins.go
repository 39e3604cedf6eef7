package daemon

import (
	"context"
	"fmt"
	"sync"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/dummy"
	"github.com/gocrm/gocrm/agents/filesystem"
	"github.com/gocrm/gocrm/agents/httpd"
	"github.com/gocrm/gocrm/agents/ipvs"
	"github.com/gocrm/gocrm/agents/lvsrs"
	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vip/ocf"
)

// instanceAgent is the shape of the network agents (vip, ipvs, lvsrs):
// one value per resource, configured by Validate.
type instanceAgent interface {
	Validate(params map[string]string) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Monitor(ctx context.Context) (int, error)
	MetaData() string
}

// perInstance adapts an instanceAgent constructor to agent.Agent: it keeps
// one configured instance per resource name. Safe for concurrent use (the
// LRM never runs two actions of one resource at once).
type perInstance struct {
	agent.Unsupported
	mk   func() (instanceAgent, error)
	mu   sync.Mutex
	inst map[string]instanceAgent
	meta string
}

func (p *perInstance) get(c agent.Call) (instanceAgent, agent.Result, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.inst[c.Resource]
	if a == nil {
		var err error
		if a, err = p.mk(); err != nil {
			return nil, agent.Result{RC: agent.NotInstalled, Reason: err.Error()}, false
		}
		p.inst[c.Resource] = a
	}
	if err := a.Validate(c.Params); err != nil {
		return nil, agent.Result{RC: agent.RC(ocf.ExitCode(err)), Reason: err.Error()}, false
	}
	return a, agent.Result{}, true
}

func result(err error) agent.Result {
	if err == nil {
		return agent.Result{RC: agent.OK}
	}
	return agent.Result{RC: agent.RC(ocf.ExitCode(err)), Reason: err.Error()}
}

func (p *perInstance) Start(ctx context.Context, c agent.Call) agent.Result {
	a, r, ok := p.get(c)
	if !ok {
		return r
	}
	return result(a.Start(ctx))
}

func (p *perInstance) Stop(ctx context.Context, c agent.Call) agent.Result {
	a, r, ok := p.get(c)
	if !ok {
		return r
	}
	res := result(a.Stop(ctx))
	if res.RC == agent.OK {
		if cl, ok := a.(interface{ Close() }); ok {
			cl.Close()
		}
		p.mu.Lock()
		delete(p.inst, c.Resource)
		p.mu.Unlock()
	}
	return res
}

func (p *perInstance) Monitor(ctx context.Context, c agent.Call) agent.Result {
	a, r, ok := p.get(c)
	if !ok {
		return r
	}
	rc, err := a.Monitor(ctx)
	res := agent.Result{RC: agent.RC(rc)}
	if err != nil {
		res.Reason = err.Error()
	}
	return res
}

func (p *perInstance) MetaData(context.Context) agent.Result {
	return agent.Result{RC: agent.OK, Output: p.meta}
}

func (p *perInstance) Validate(_ context.Context, c agent.Call) agent.Result {
	_, r, ok := p.get(c)
	if !ok {
		return r
	}
	return agent.Result{RC: agent.OK}
}

func registerInstance(reg *agent.Registry, typ string, meta string, mk func(env agent.Env) func() (instanceAgent, error)) error {
	return reg.Register(agent.Key{Class: "ocf", Provider: "gocrm", Type: typ}, func(env agent.Env) (agent.Agent, error) {
		return &perInstance{mk: mk(env), inst: map[string]instanceAgent{}, meta: meta}, nil
	})
}

// DefaultBuiltins returns the registry of built-in agents crmd offers:
// ocf:gocrm:Dummy, ocf:gocrm:IPaddr2 (vip), ocf:gocrm:lvs (ipvs) and
// ocf:gocrm:lvs-realserver (lvsrs). The network agents open their kernel
// handles on first use; where that fails (no privileges) their actions
// report "not installed".
func DefaultBuiltins() (*agent.Registry, error) {
	reg := agent.NewRegistry()
	if err := dummy.Register(reg); err != nil {
		return nil, err
	}
	if err := httpd.Register(reg); err != nil {
		return nil, err
	}
	if err := filesystem.Register(reg); err != nil {
		return nil, err
	}
	var nlOnce sync.Once
	var nl *vip.Netlink
	var nlErr error
	netlinkH := func() (*vip.Netlink, error) {
		nlOnce.Do(func() { nl, nlErr = vip.NewNetlink() })
		return nl, nlErr
	}
	err := registerInstance(reg, vip.AgentName, vip.New(vip.Deps{}).MetaData(), func(env agent.Env) func() (instanceAgent, error) {
		return func() (instanceAgent, error) {
			h, err := netlinkH()
			if err != nil {
				return nil, fmt.Errorf("netlink: %w", err)
			}
			return vip.New(vip.Deps{Addrs: h, Neigh: vip.NewRawNeighbour(), Logger: env.Logger}), nil
		}
	})
	if err != nil {
		return nil, err
	}
	err = registerInstance(reg, ipvs.AgentName, ipvs.New(ipvs.Deps{}).MetaData(), func(env agent.Env) func() (instanceAgent, error) {
		return func() (instanceAgent, error) {
			return ipvs.New(ipvs.Deps{Open: ipvs.KernelOpener(), Logger: env.Logger}), nil
		}
	})
	if err != nil {
		return nil, err
	}
	mem := lvsrs.NewMemory()
	err = registerInstance(reg, lvsrs.AgentName, lvsrs.New(lvsrs.Deps{}).MetaData(), func(env agent.Env) func() (instanceAgent, error) {
		return func() (instanceAgent, error) {
			h, err := netlinkH()
			if err != nil {
				return nil, fmt.Errorf("netlink: %w", err)
			}
			return lvsrs.New(lvsrs.Deps{Addrs: h, Sysctl: lvsrs.NewProcSysctl(), Memory: mem, Logger: env.Logger}), nil
		}
	})
	if err != nil {
		return nil, err
	}
	return reg, nil
}
