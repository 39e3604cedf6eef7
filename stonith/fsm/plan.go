package fsm

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
)

// ErrNoDevice is returned when no configured device (or no complete
// topology level) can fence the requested target.
var ErrNoDevice = errors.New("no fencing device can fence the target")

// Rand is the random source for pcmk_delay_max. *math/rand.Rand satisfies
// it; tests inject a deterministic one.
type Rand interface {
	// Int63n returns a uniform value in [0, n); n > 0.
	Int63n(n int64) int64
}

// DeviceInfo is what the planner knows about one configured device.
type DeviceInfo struct {
	Spec DeviceSpec
	// RunsOn is the node where the device's resource is active ("" when
	// unknown or stopped). A device is executed there unless that node is
	// the target.
	RunsOn string
}

// Request asks for one fencing operation.
type Request struct {
	ID     string // operation id (unique per origin); used in history
	Target string // node to fence
	Action Action // reboot, off or on; "" means Options.Action
	Origin string // node that asked (usually the DC)
	Client string // who asked (e.g. "crmd", "crm node fence")

	// TargetAttrs are the target's node attributes (for
	// target-attribute levels).
	TargetAttrs map[string]string
	// Nodes are the cluster members that can execute device actions
	// (online, not being fenced). The target may be among them.
	Nodes []string
	// TargetHasPriority applies priority-fencing-delay: the target has the
	// highest total resource priority among the lost nodes, so its
	// fencing waits and the more important node wins a fence race.
	TargetHasPriority bool

	// DynamicLists holds the list output of dynamic-list devices, by
	// device id. A dynamic-list device missing here cannot fence.
	DynamicLists map[string][]string
	// StatusOK records, by device id, that a status query for the target
	// succeeded (pcmk_host_check=status).
	StatusOK map[string]bool
}

// Step is one device action of a plan.
type Step struct {
	Device string // device id
	Action Action // logical action (the device maps it via pcmk_<a>_action)
	// Executor is the node that must run the device action. It is the
	// target itself only when SelfFence is set.
	Executor  string
	SelfFence bool
	Timeout   time.Duration
	Tries     int  // tries within one plan attempt
	Required  bool // a failure fails the level (false for the "on" half of a remapped reboot)
}

// PlanLevel is one level of a plan: all required steps must succeed.
type PlanLevel struct {
	Index int    // topology index, or position when no topology applies
	Steps []Step // in execution order
}

// Plan is the ordered attempt plan of one fencing request.
type Plan struct {
	Target string
	Action Action
	// Delay is waited once before the first device action: the first
	// device's pcmk_delay_base (for the target) plus a random part up to
	// pcmk_delay_max, plus priority-fencing-delay when it applies.
	Delay time.Duration
	// Levels are tried in order; the whole list is retried up to
	// Options.MaxAttempts times.
	Levels []PlanLevel
	// Skipped explains levels or devices left out (for logs).
	Skipped []string
}

// BuildPlan computes the attempt plan for req. It is a pure function of its
// arguments (rnd is consulted at most once, for pcmk_delay_max).
//
// Without a topology for the target every capable device forms its own
// level, ordered: devices runnable by another node first, then by priority
// (higher first), then by id. With a topology, a level is used only if all
// its devices are configured and can fence the target; a reboot through a
// level with several devices is remapped to "off" on each, then "on" on
// each (the "on" steps are not required), as Pacemaker does.
func BuildPlan(opts Options, topo Topology, devs []DeviceInfo, req Request, rnd Rand) (Plan, error) {
	if req.Target == "" {
		return Plan{}, fmt.Errorf("build fencing plan: %w", &ParamError{Param: "target", Msg: "empty"})
	}
	action := req.Action
	if action == "" {
		action = opts.Action
	}
	if !action.IsFence() {
		return Plan{}, fmt.Errorf("build fencing plan for %s: %w", req.Target, &ParamError{Param: "action", Msg: fmt.Sprintf("%q is not reboot, off or on", action)})
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultOptions().Timeout
	}
	byID := make(map[string]DeviceInfo, len(devs))
	for _, d := range devs {
		byID[d.Spec.ID] = d
	}
	capable := func(d DeviceInfo) bool {
		return d.Spec.CanFence(req.Target, req.DynamicLists[d.Spec.ID], req.StatusOK[d.Spec.ID])
	}
	p := Plan{Target: req.Target, Action: action}
	step := func(d DeviceInfo, a Action, required bool) Step {
		exec, self := chooseExecutor(d, req)
		return Step{Device: d.Spec.ID, Action: a, Executor: exec, SelfFence: self,
			Timeout: d.Spec.Timeout(a, opts.Timeout), Tries: d.Spec.Tries(a), Required: required}
	}

	if levels := topo.LevelsFor(req.Target, req.TargetAttrs); len(levels) > 0 {
		for _, l := range levels {
			var members []DeviceInfo
			ok := true
			for _, id := range l.Devices {
				d, found := byID[id]
				switch {
				case !found:
					p.Skipped = append(p.Skipped, fmt.Sprintf("level %d: device %s is not configured", l.Index, id))
					ok = false
				case !capable(d):
					p.Skipped = append(p.Skipped, fmt.Sprintf("level %d: device %s cannot fence %s", l.Index, id, req.Target))
					ok = false
				}
				members = append(members, d)
			}
			if !ok {
				continue
			}
			pl := PlanLevel{Index: l.Index}
			if action == ActionReboot && len(members) > 1 {
				for _, d := range members {
					pl.Steps = append(pl.Steps, step(d, ActionOff, true))
				}
				for _, d := range members {
					pl.Steps = append(pl.Steps, step(d, ActionOn, false))
				}
			} else {
				for _, d := range members {
					pl.Steps = append(pl.Steps, step(d, action, true))
				}
			}
			p.Levels = append(p.Levels, pl)
		}
	} else {
		var cands []Step
		prio := map[string]int{}
		for _, d := range devs {
			if !capable(d) {
				continue
			}
			cands = append(cands, step(d, action, true))
			prio[d.Spec.ID] = d.Spec.Priority
		}
		sort.SliceStable(cands, func(i, j int) bool {
			a, b := cands[i], cands[j]
			if a.SelfFence != b.SelfFence {
				return !a.SelfFence
			}
			if prio[a.Device] != prio[b.Device] {
				return prio[a.Device] > prio[b.Device]
			}
			return a.Device < b.Device
		})
		for i, s := range cands {
			p.Levels = append(p.Levels, PlanLevel{Index: i + 1, Steps: []Step{s}})
		}
	}
	if len(p.Levels) == 0 {
		return p, fmt.Errorf("fence %s (%s): %w", req.Target, action, ErrNoDevice)
	}
	first := byID[p.Levels[0].Steps[0].Device].Spec
	p.Delay = deviceDelay(first, req.Target, rnd)
	if req.TargetHasPriority {
		p.Delay += opts.PriorityFencingDelay
	}
	return p, nil
}

// deviceDelay is pcmk_delay_base for target plus a random part so that the
// sum stays within pcmk_delay_max (when the maximum exceeds the base).
func deviceDelay(s DeviceSpec, target string, rnd Rand) time.Duration {
	base := s.DelayBase.For(target)
	if s.DelayMax > base && rnd != nil {
		return base + time.Duration(rnd.Int63n(int64(s.DelayMax-base)+1))
	}
	return base
}

// chooseExecutor picks the node to run d's action: the node running the
// device unless it is the target; else another member (sorted, first);
// else the origin; the target itself only as the last resort (or always
// for self-fencing devices).
func chooseExecutor(d DeviceInfo, req Request) (string, bool) {
	if d.Spec.SelfFencing {
		return req.Target, true
	}
	if d.RunsOn != "" && d.RunsOn != req.Target {
		return d.RunsOn, false
	}
	others := slices.Clone(req.Nodes)
	sort.Strings(others)
	for _, n := range others {
		if n != req.Target {
			return n, false
		}
	}
	if req.Origin != "" && req.Origin != req.Target {
		return req.Origin, false
	}
	return req.Target, true
}

// PriorityDelayApplies reports whether priority-fencing-delay applies to
// fencing target: its total resource priority (as computed by the
// scheduler) is positive and strictly higher than that of every other
// node being fenced in the same round (lost). Equal priorities give no
// delay, so neither side of a symmetric split gets an advantage from it.
func PriorityDelayApplies(target string, lost map[string]int) bool {
	p, ok := lost[target]
	if !ok || p <= 0 {
		return false
	}
	for n, q := range lost {
		if n != target && q >= p {
			return false
		}
	}
	return true
}
