package lrm

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gocrm/gocrm/agents/agent"
)

// DefaultOCFRoot is where resource-agents installs OCF agents.
const DefaultOCFRoot = "/usr/lib/ocf"

// OCFExecutor runs OCF resource agents, $OCF_ROOT/resource.d/PROVIDER/TYPE
// ACTION, with the environment Pacemaker's executor builds and nothing else
// but PATH: OCF_ROOT, OCF_RA_VERSION_MAJOR/MINOR, OCF_RESOURCE_INSTANCE,
// OCF_RESOURCE_TYPE, OCF_RESOURCE_PROVIDER, OCF_EXIT_REASON_PREFIX,
// OCF_RESKEY_<param>, OCF_RESKEY_CRM_meta_<meta> (timeout and interval in
// milliseconds), HA_RSCTMP and __OCF_ACTION.
//
// An OCFExecutor is immutable after construction and safe for concurrent use.
type OCFExecutor struct {
	// Root is OCF_ROOT (DefaultOCFRoot if empty).
	Root string
	// RscTmp is HA_RSCTMP, the agents' scratch directory. Give every node
	// its own (the LRM uses <StateDir>/rsctmp): agents such as
	// ocf:heartbeat:Dummy keep their state there.
	RscTmp string
	// Env holds extra fixed variables for every agent, set by the
	// administrator (e.g. HA_LOGFACILITY, HA_debug, HA_SBIN_DIR). The
	// variables above take precedence.
	Env  map[string]string
	Proc ProcOptions
}

func (e *OCFExecutor) root() string {
	if e.Root == "" {
		return DefaultOCFRoot
	}
	return e.Root
}

// ocfRC maps an OCF agent's exit code: the defined codes pass through, any
// other code is a generic error.
func ocfRC(code int) agent.RC {
	switch rc := agent.RC(code); rc {
	case agent.OK, agent.ErrGeneric, agent.ErrArgs, agent.Unimplemented, agent.ErrPerm,
		agent.NotInstalled, agent.NotConfigured, agent.NotRunning,
		agent.RunningPromoted, agent.FailedPromoted, agent.Degraded, agent.DegradedPromoted:
		return rc
	default:
		return agent.ErrGeneric
	}
}

// ocfEnv builds the agent environment (sorted, for reproducibility).
func (e *OCFExecutor) ocfEnv(a Action) ([]string, error) {
	vars := make(map[string]string, len(e.Env)+len(a.Params)+len(a.Meta)+12)
	for k, v := range e.Env {
		if !validEnvName(k) || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("executor variable %q: invalid name or value", k)
		}
		vars[k] = v
	}
	for k, v := range map[string]string{
		"PATH":                   e.Proc.path(),
		"OCF_ROOT":               e.root(),
		"OCF_RA_VERSION_MAJOR":   "1",
		"OCF_RA_VERSION_MINOR":   "1",
		"OCF_EXIT_REASON_PREFIX": exitReasonPrefix,
		"OCF_RESOURCE_INSTANCE":  a.Rsc.ID,
		"OCF_RESOURCE_TYPE":      a.Rsc.Agent.Type,
		"OCF_RESOURCE_PROVIDER":  a.Rsc.Agent.Provider,
		"__OCF_ACTION":           a.Op,
	} {
		vars[k] = v
	}
	if e.RscTmp != "" {
		vars["HA_RSCTMP"] = e.RscTmp
	}
	for k, v := range a.Params {
		if !validEnvName(k) || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("parameter %q: invalid name or value", k)
		}
		vars["OCF_RESKEY_"+k] = v
	}
	for k, v := range a.Meta {
		if !validEnvName(k) || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("meta attribute %q: invalid name or value", k)
		}
		vars["OCF_RESKEY_CRM_meta_"+metaName(k)] = v
	}
	if a.Op != OpMetaData {
		vars["OCF_RESKEY_CRM_meta_timeout"] = ms(a.Timeout)
		if a.Op == OpMonitor || a.Interval > 0 {
			vars["OCF_RESKEY_CRM_meta_interval"] = ms(a.Interval)
		}
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env, nil
}

// metaName normalises a meta attribute name the way Pacemaker does for
// the environment ("clone-max" -> "clone_max").
func metaName(k string) string {
	return strings.ReplaceAll(strings.TrimPrefix(k, "CRM_meta_"), "-", "_")
}

// Exec runs the action.
func (e *OCFExecutor) Exec(ctx context.Context, a Action) Result {
	if a.Rsc.Agent.Class != "ocf" {
		return Result{RC: agent.NotConfigured, Status: StatusInvalid,
			Reason: fmt.Sprintf("agent %s is not of class ocf", a.Rsc.Agent)}
	}
	if !safeName(a.Rsc.Agent.Provider) || !safeName(a.Rsc.Agent.Type) {
		return Result{RC: agent.NotInstalled, Status: StatusNotInstalled,
			Reason: fmt.Sprintf("invalid agent name %s", a.Rsc.Agent)}
	}
	if !filepath.IsAbs(e.root()) {
		return Result{RC: agent.NotInstalled, Status: StatusInvalid,
			Reason: fmt.Sprintf("OCF root %q is not an absolute path", e.root())}
	}
	env, err := e.ocfEnv(a)
	if err != nil {
		return Result{RC: agent.NotConfigured, Status: StatusInvalid, Reason: err.Error()}
	}
	path := filepath.Join(e.root(), "resource.d", a.Rsc.Agent.Provider, a.Rsc.Agent.Type)
	return outcomeResult(runProcess(ctx, e.Proc, path, []string{a.Op}, env), ocfRC)
}
