package fsm

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Action is a fencing-device action. Reboot, Off and On are fence actions
// (they change the power state of a target); Status, List and Monitor are
// queries; Metadata asks a device for its parameter description.
type Action string

// Device actions, named as Pacemaker and the fence-agents name them.
const (
	ActionReboot   Action = "reboot"
	ActionOff      Action = "off"
	ActionOn       Action = "on"
	ActionStatus   Action = "status"
	ActionList     Action = "list"
	ActionMonitor  Action = "monitor"
	ActionMetadata Action = "metadata"
)

// allActions is every action with per-action pcmk_<action>_* parameters.
var allActions = []Action{ActionReboot, ActionOff, ActionOn, ActionStatus, ActionList, ActionMonitor}

// IsFence reports whether a is an action that changes a target's power
// state (reboot, off or on).
func (a Action) IsFence() bool {
	return a == ActionReboot || a == ActionOff || a == ActionOn
}

// ParseFenceAction parses a requested fence action. Only reboot, off and on
// are accepted; "poweroff" is an accepted alias of off, as in Pacemaker.
func ParseFenceAction(s string) (Action, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "reboot":
		return ActionReboot, nil
	case "off", "poweroff":
		return ActionOff, nil
	case "on":
		return ActionOn, nil
	}
	return "", fmt.Errorf("fence action %q: %w (want reboot, off or on)", s, ErrInvalidParam)
}

// HostCheck says how a device decides which targets it can fence
// (pcmk_host_check).
type HostCheck string

// pcmk_host_check values.
const (
	CheckDynamicList HostCheck = "dynamic-list" // ask the device (list action)
	CheckStaticList  HostCheck = "static-list"  // pcmk_host_list / pcmk_host_map
	CheckStatus      HostCheck = "status"       // ask the device about each target (status action)
	CheckNone        HostCheck = "none"         // the device can fence every node
)

// ErrInvalidParam is wrapped by every configuration error of this package
// (and of package stonith) so callers can test with errors.Is.
var ErrInvalidParam = errors.New("invalid parameter")

// ParamError reports a bad device or option parameter. Its message names
// the parameter; it quotes the offending fragment only for non-secret
// parameters, and the pcmk_* parameters parsed here are never secret.
type ParamError struct {
	Device string // device (primitive) id, empty for cluster options
	Param  string // parameter name
	Msg    string // what is wrong
}

func (e *ParamError) Error() string {
	if e.Device == "" {
		return fmt.Sprintf("option %s: %s", e.Param, e.Msg)
	}
	return fmt.Sprintf("fence device %s: parameter %s: %s", e.Device, e.Param, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalidParam) hold.
func (e *ParamError) Unwrap() error { return ErrInvalidParam }

// ParseDuration parses a Pacemaker interval: a non-negative number with an
// optional unit (ms, msec, us, usec, s, sec, m, min, h, hr; a bare number
// means seconds). Go duration syntax ("1m30s") is accepted as well.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("empty duration")
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("duration %q: must start with a non-negative number", s)
	}
	var mult time.Duration
	switch unit {
	case "", "s", "sec", "secs":
		mult = time.Second
	case "ms", "msec", "msecs":
		mult = time.Millisecond
	case "us", "usec", "usecs":
		mult = time.Microsecond
	case "m", "min", "mins":
		mult = time.Minute
	case "h", "hr", "hrs":
		mult = time.Hour
	default:
		d, err := time.ParseDuration(t)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("duration %q: unknown unit %q", s, unit)
		}
		return d, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || f*float64(mult) > math.MaxInt64/2 {
		return 0, fmt.Errorf("duration %q: bad number", s)
	}
	return time.Duration(f * float64(mult)), nil
}

// DelayBase is a parsed pcmk_delay_base: one static delay for every target,
// or a per-target map ("node1:5s;node2:0s"); targets missing from a map
// get Default (zero).
type DelayBase struct {
	Default time.Duration
	PerNode map[string]time.Duration
}

// For returns the static delay for fencing target.
func (d DelayBase) For(target string) time.Duration {
	if v, ok := d.PerNode[target]; ok {
		return v
	}
	return d.Default
}

// ParseDelayBase parses pcmk_delay_base.
func ParseDelayBase(s string) (DelayBase, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DelayBase{}, nil
	}
	if !strings.ContainsAny(s, ":=") {
		d, err := ParseDuration(s)
		if err != nil {
			return DelayBase{}, err
		}
		return DelayBase{Default: d}, nil
	}
	m, err := parseNodeMap(s)
	if err != nil {
		return DelayBase{}, err
	}
	out := DelayBase{PerNode: make(map[string]time.Duration, len(m))}
	for node, v := range m {
		d, err := ParseDuration(v)
		if err != nil {
			return DelayBase{}, fmt.Errorf("node %s: %w", node, err)
		}
		out.PerNode[node] = d
	}
	return out, nil
}

// ParseHostMap parses pcmk_host_map: entries "node:port" (or "node=port")
// separated by ';' or white space. A port may contain commas ("node2:2,3").
func ParseHostMap(s string) (map[string]string, error) {
	return parseNodeMap(s)
}

func parseNodeMap(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' || r == '\n' }) {
		i := strings.IndexAny(e, ":=")
		if i < 0 {
			return nil, fmt.Errorf("entry %q: want node:value", e)
		}
		node, val := strings.TrimSpace(e[:i]), strings.TrimSpace(e[i+1:])
		if node == "" {
			return nil, fmt.Errorf("entry %q: empty node name", e)
		}
		if val == "" {
			return nil, fmt.Errorf("entry %q: empty value", e)
		}
		if _, dup := out[node]; dup {
			return nil, fmt.Errorf("node %s listed twice", node)
		}
		out[node] = val
	}
	if len(out) == 0 {
		return nil, errors.New("no entries")
	}
	return out, nil
}

// ParseHostList parses pcmk_host_list: names separated by white space,
// commas or semicolons.
func ParseHostList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' })
	if len(f) == 0 {
		return nil
	}
	return f
}

// DefaultTries is the number of times a device action is tried within one
// plan attempt when pcmk_<action>_retries is not set (Pacemaker's default 2).
const DefaultTries = 2

// DeviceSpec is the fencing-relevant part of a device configuration: the
// pcmk_* parameters, parsed and validated. It is a plain value, safe to
// copy and share once built.
type DeviceSpec struct {
	ID   string // primitive id
	Type string // plugin type (e.g. fence_ipmilan, ssh, sandbox)

	HostList     []string          // pcmk_host_list
	HostMap      map[string]string // pcmk_host_map: node → port
	HostCheck    HostCheck         // pcmk_host_check (defaulted)
	HostArgument string            // pcmk_host_argument ("" = plugin default)

	DelayBase DelayBase     // pcmk_delay_base
	DelayMax  time.Duration // pcmk_delay_max

	// ActionNames maps a logical action to the device's name for it
	// (pcmk_reboot_action, pcmk_off_action, ...).
	ActionNames map[Action]string
	// Timeouts are pcmk_<action>_timeout; missing actions use stonith-timeout.
	Timeouts map[Action]time.Duration
	// Retries are pcmk_<action>_retries (total tries per plan attempt).
	Retries map[Action]int
	// ActionLimit is pcmk_action_limit (concurrent actions; 1 by default).
	ActionLimit int

	// Priority orders devices when no topology applies (higher first).
	// It comes from the primitive's "priority" meta attribute.
	Priority int
	// SelfFencing marks devices that can only fence the node they run on
	// (watchdog); the plan runs them on the target itself.
	SelfFencing bool
}

// Port returns the device-specific name of target: its pcmk_host_map
// entry, or the node name itself.
func (s DeviceSpec) Port(target string) string {
	if p, ok := s.HostMap[target]; ok {
		return p
	}
	return target
}

// AgentAction returns the device's name for the logical action a.
func (s DeviceSpec) AgentAction(a Action) string {
	if n, ok := s.ActionNames[a]; ok && n != "" {
		return n
	}
	return string(a)
}

// Timeout returns the timeout of action a, or def if pcmk_<a>_timeout is unset.
func (s DeviceSpec) Timeout(a Action, def time.Duration) time.Duration {
	if d, ok := s.Timeouts[a]; ok && d > 0 {
		return d
	}
	return def
}

// Tries returns how many times action a is tried per plan attempt (>= 1).
func (s DeviceSpec) Tries(a Action) int {
	if n, ok := s.Retries[a]; ok {
		return max(n, 1)
	}
	return DefaultTries
}

// StaticTargets returns the targets named by pcmk_host_list and
// pcmk_host_map, sorted and de-duplicated.
func (s DeviceSpec) StaticTargets() []string {
	set := map[string]bool{}
	for _, h := range s.HostList {
		set[h] = true
	}
	for h := range s.HostMap {
		set[h] = true
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// CanFence reports whether the device can fence target according to its
// pcmk_host_check mode. dynamicList is the device's list output (used for
// dynamic-list; nil means unknown, which answers false), statusOK the result
// of a status query for target (used for the status mode).
func (s DeviceSpec) CanFence(target string, dynamicList []string, statusOK bool) bool {
	switch s.HostCheck {
	case CheckNone:
		return true
	case CheckStaticList:
		if slices.Contains(s.HostList, target) {
			return true
		}
		_, ok := s.HostMap[target]
		return ok
	case CheckStatus:
		return statusOK
	default: // dynamic-list
		port := s.Port(target)
		for _, h := range dynamicList {
			if h == target || h == port {
				return true
			}
		}
		return false
	}
}

// IsPcmkParam reports whether name is a cluster-side device parameter
// (pcmk_*) that is consumed by the fencer and never passed to the device.
func IsPcmkParam(name string) bool { return strings.HasPrefix(name, "pcmk_") }

// ParseDeviceSpec validates and parses the pcmk_* parameters of a fence
// device primitive. Other parameters are ignored here (the device plugin
// validates them). Unknown pcmk_* names are rejected so that typos do not
// silently change fencing behaviour. Errors are *ParamError values.
func ParseDeviceSpec(id, typ string, params map[string]string) (DeviceSpec, error) {
	s := DeviceSpec{ID: id, Type: typ, ActionNames: map[Action]string{},
		Timeouts: map[Action]time.Duration{}, Retries: map[Action]int{}, ActionLimit: 1}
	bad := func(p, format string, a ...any) error {
		return &ParamError{Device: id, Param: p, Msg: fmt.Sprintf(format, a...)}
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names) // report the first bad parameter deterministically
	for _, k := range names {
		v := params[k]
		if !IsPcmkParam(k) {
			continue
		}
		switch k {
		case "pcmk_host_list":
			s.HostList = ParseHostList(v)
		case "pcmk_host_map":
			m, err := ParseHostMap(v)
			if err != nil {
				return DeviceSpec{}, bad(k, "bad syntax: %v (want \"node1:port1;node2:port2\")", err)
			}
			s.HostMap = m
		case "pcmk_host_check":
			switch c := HostCheck(strings.TrimSpace(v)); c {
			case CheckDynamicList, CheckStaticList, CheckStatus, CheckNone:
				s.HostCheck = c
			default:
				return DeviceSpec{}, bad(k, "%q is not one of dynamic-list, static-list, status, none", v)
			}
		case "pcmk_host_argument":
			s.HostArgument = strings.TrimSpace(v)
		case "pcmk_delay_base":
			d, err := ParseDelayBase(v)
			if err != nil {
				return DeviceSpec{}, bad(k, "%v (want a duration or \"node1:5s;node2:0s\")", err)
			}
			s.DelayBase = d
		case "pcmk_delay_max":
			d, err := ParseDuration(v)
			if err != nil {
				return DeviceSpec{}, bad(k, "%v", err)
			}
			s.DelayMax = d
		case "pcmk_action_limit":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n == 0 || n < -1 {
				return DeviceSpec{}, bad(k, "%q is not a positive integer or -1", v)
			}
			s.ActionLimit = n
		default:
			a, field, ok := splitActionParam(k)
			if !ok {
				return DeviceSpec{}, bad(k, "unknown fencing parameter")
			}
			switch field {
			case "action":
				if strings.TrimSpace(v) == "" {
					return DeviceSpec{}, bad(k, "empty action name")
				}
				s.ActionNames[a] = strings.TrimSpace(v)
			case "timeout":
				d, err := ParseDuration(v)
				if err != nil {
					return DeviceSpec{}, bad(k, "%v", err)
				}
				if d == 0 {
					return DeviceSpec{}, bad(k, "timeout must be positive")
				}
				s.Timeouts[a] = d
			case "retries":
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n < 0 {
					return DeviceSpec{}, bad(k, "%q is not a non-negative integer", v)
				}
				s.Retries[a] = n
			}
		}
	}
	if s.HostCheck == "" {
		if len(s.HostList) > 0 || len(s.HostMap) > 0 {
			s.HostCheck = CheckStaticList
		} else {
			s.HostCheck = CheckDynamicList
		}
	}
	if s.HostCheck == CheckStaticList && len(s.HostList) == 0 && len(s.HostMap) == 0 {
		return DeviceSpec{}, bad("pcmk_host_check", "static-list needs pcmk_host_list or pcmk_host_map")
	}
	return s, nil
}

// splitActionParam splits "pcmk_<action>_<field>".
func splitActionParam(k string) (Action, string, bool) {
	rest := strings.TrimPrefix(k, "pcmk_")
	for _, a := range allActions {
		if f, ok := strings.CutPrefix(rest, string(a)+"_"); ok {
			switch f {
			case "action", "timeout", "retries":
				return a, f, true
			}
		}
	}
	return "", "", false
}
