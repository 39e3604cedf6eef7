package fsm

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Options are the cluster-wide fencing options (crm_config properties).
type Options struct {
	Enabled              bool          // stonith-enabled (default true)
	Action               Action        // stonith-action: reboot (default) or off
	Timeout              time.Duration // stonith-timeout: per device action unless pcmk_<a>_timeout (default 60s)
	PriorityFencingDelay time.Duration // priority-fencing-delay (default 0)
	Concurrent           bool          // concurrent-fencing (default true)
	MaxAttempts          int           // stonith-max-attempts: whole-plan attempts (default 10)
}

// DefaultOptions returns Pacemaker's defaults.
func DefaultOptions() Options {
	return Options{Enabled: true, Action: ActionReboot, Timeout: 60 * time.Second, Concurrent: true, MaxAttempts: 10}
}

// optionAliases maps Pacemaker 3's fencing-* names to the stonith-* names.
var optionAliases = map[string]string{
	"fencing-enabled":      "stonith-enabled",
	"fencing-action":       "stonith-action",
	"fencing-timeout":      "stonith-timeout",
	"fencing-max-attempts": "stonith-max-attempts",
}

// ParseOptions reads the fencing options from cluster properties. Absent
// properties keep their defaults; other properties are ignored. Errors are
// *ParamError values naming the property.
func ParseOptions(props map[string]string) (Options, error) {
	o := DefaultOptions()
	get := func(name string) (string, string, bool) {
		if v, ok := props[name]; ok {
			return name, v, true
		}
		for alias, canon := range optionAliases {
			if canon == name {
				if v, ok := props[alias]; ok {
					return alias, v, true
				}
			}
		}
		return "", "", false
	}
	bad := func(p, format string, a ...any) error {
		return &ParamError{Param: p, Msg: fmt.Sprintf(format, a...)}
	}
	if k, v, ok := get("stonith-enabled"); ok {
		b, err := ParseBool(v)
		if err != nil {
			return Options{}, bad(k, "%v", err)
		}
		o.Enabled = b
	}
	if k, v, ok := get("stonith-action"); ok {
		a, err := ParseFenceAction(v)
		if err != nil || a == ActionOn {
			return Options{}, bad(k, "%q is not reboot or off", v)
		}
		o.Action = a
	}
	if k, v, ok := get("stonith-timeout"); ok {
		d, err := ParseDuration(v)
		if err != nil || d == 0 {
			return Options{}, bad(k, "%q is not a positive duration", v)
		}
		o.Timeout = d
	}
	if v, ok := props["priority-fencing-delay"]; ok {
		d, err := ParseDuration(v)
		if err != nil {
			return Options{}, bad("priority-fencing-delay", "%v", err)
		}
		o.PriorityFencingDelay = d
	}
	if v, ok := props["concurrent-fencing"]; ok {
		b, err := ParseBool(v)
		if err != nil {
			return Options{}, bad("concurrent-fencing", "%v", err)
		}
		o.Concurrent = b
	}
	if k, v, ok := get("stonith-max-attempts"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return Options{}, bad(k, "%q is not a positive integer", v)
		}
		o.MaxAttempts = n
	}
	return o, nil
}

// ParseBool parses a Pacemaker boolean (true/false, yes/no, on/off, y/n, 1/0).
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "y", "1":
		return true, nil
	case "false", "no", "off", "n", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}
