package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/dummy"
	"github.com/gocrm/gocrm/agents/filesystem"
	"github.com/gocrm/gocrm/agents/httpd"
	"github.com/gocrm/gocrm/agents/ipvs"
	"github.com/gocrm/gocrm/agents/lvsrs"
	"github.com/gocrm/gocrm/agents/ra"
	"github.com/gocrm/gocrm/agents/vip"
)

const raUsage = `usage: crm ra COMMAND [ARGS]

Resource agent information, as crmsh's "ra" level prints it:
  classes                 list agent classes and OCF providers
  list CLASS [PROVIDER]   list the agents of a class (and provider)
  providers TYPE          list the OCF providers of an agent type
  info AGENT | meta AGENT show an agent's parameters and actions
                          (AGENT is class:provider:type, class:type, or a
                          bare type meaning ocf:heartbeat:TYPE)
`

func init() {
	register(&command{name: "ra", summary: "resource agent classes, lists and meta-data", run: runRA})
}

// raCatalog returns the agent catalog: built-in Go agents that need no
// daemon state, plus the OCF, LSB, systemd and fence agents installed here.
func raCatalog(e *env) (*ra.Catalog, error) {
	reg := agent.NewRegistry()
	for _, r := range []func(*agent.Registry) error{dummy.Register, httpd.Register, filesystem.Register} {
		if err := r(reg); err != nil {
			return nil, fmt.Errorf("built-in agents: %w", err)
		}
	}
	// The network agents need kernel handles to act, not to describe
	// themselves: their meta-data comes from agents that never run here.
	for typ, meta := range map[string]string{
		vip.AgentName:   vip.New(vip.Deps{}).MetaData(),
		ipvs.AgentName:  ipvs.New(ipvs.Deps{}).MetaData(),
		lvsrs.AgentName: lvsrs.New(lvsrs.Deps{}).MetaData(),
	} {
		m := metaOnly{meta: meta}
		if err := reg.Register(agent.Key{Class: "ocf", Provider: "gocrm", Type: typ}, func(agent.Env) (agent.Agent, error) { return m, nil }); err != nil {
			return nil, fmt.Errorf("built-in agents: %w", err)
		}
	}
	return &ra.Catalog{Registry: reg, OCFRoot: os.Getenv("OCF_ROOT"), Logger: e.log}, nil
}

// metaOnly describes a built-in agent for `crm ra`; it runs no action.
type metaOnly struct {
	agent.Unsupported
	meta string
}

func (m metaOnly) MetaData(context.Context) agent.Result {
	return agent.Result{RC: agent.OK, Output: m.meta}
}

func (metaOnly) unavailable() agent.Result {
	return agent.Result{RC: agent.Unimplemented, Reason: "crm ra only reads meta-data"}
}

func (m metaOnly) Start(context.Context, agent.Call) agent.Result    { return m.unavailable() }
func (m metaOnly) Stop(context.Context, agent.Call) agent.Result     { return m.unavailable() }
func (m metaOnly) Monitor(context.Context, agent.Call) agent.Result  { return m.unavailable() }
func (m metaOnly) Validate(context.Context, agent.Call) agent.Result { return m.unavailable() }

func runRA(e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, raUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cat, err := raCatalog(e)
	if err != nil {
		fmt.Fprintf(e.stderr, "crm ra: %v\n", err)
		return exitError
	}
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "ERROR: ra.%s: %v\n", args[0], err)
		return exitError
	}
	switch args[0] {
	case "classes":
		_, serr := os.Stat("/run/systemd/system")
		out, err := cat.RenderClasses(serr == nil)
		if err != nil {
			return fail(err)
		}
		fmt.Fprint(e.stdout, out)
		if !strings.HasSuffix(out, "\n") {
			fmt.Fprintln(e.stdout)
		}
	case "list":
		if len(args) < 2 || len(args) > 3 {
			fmt.Fprint(e.stderr, raUsage)
			return exitUsage
		}
		prov := ""
		if len(args) == 3 {
			prov = args[2]
		}
		keys, err := cat.List(args[1], prov)
		if err != nil {
			return fail(err)
		}
		fmt.Fprint(e.stdout, ra.Columns(ra.Names(keys), 80))
	case "providers":
		if len(args) != 2 {
			fmt.Fprint(e.stderr, raUsage)
			return exitUsage
		}
		provs, err := cat.ProvidersOf(args[1])
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(e.stdout, strings.Join(provs, " "))
	case "info", "meta":
		if len(args) != 2 {
			fmt.Fprint(e.stderr, raUsage)
			return exitUsage
		}
		key, err := ra.ParseName(args[1])
		if err != nil {
			return fail(err)
		}
		m, err := cat.Info(e.ctx, key)
		if err != nil {
			return fail(err)
		}
		fmt.Fprint(e.stdout, ra.Render(key.String(), m))
	default:
		fmt.Fprintf(e.stderr, "crm ra: unknown command %q\n%s", args[0], raUsage)
		return exitUsage
	}
	return exitOK
}
