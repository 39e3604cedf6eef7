package ra

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Op is a configured resource operation, as written in the CIB.
type Op struct {
	Name     string
	Role     string
	Interval string
	Timeout  string // "" when not set
}

// ErrBadDuration is wrapped by ParseDuration errors.
var ErrBadDuration = errors.New("invalid duration")

// ParseDuration parses a Pacemaker time value: a number with an optional
// unit (ms, msec, us, usec, s, sec, m, min, h, hr; none means seconds) or an
// ISO 8601 duration such as PT1M30S.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("%w: empty", ErrBadDuration)
	}
	if strings.HasPrefix(t, "P") || strings.HasPrefix(t, "p") {
		return parseISO(s, strings.ToUpper(t))
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("%w: %q", ErrBadDuration, s)
	}
	var mult time.Duration
	switch unit {
	case "", "s", "sec", "secs", "second", "seconds":
		mult = time.Second
	case "ms", "msec", "msecs":
		mult = time.Millisecond
	case "us", "usec", "usecs":
		mult = time.Microsecond
	case "m", "min", "mins", "minute", "minutes":
		mult = time.Minute
	case "h", "hr", "hrs", "hour", "hours":
		mult = time.Hour
	default:
		return 0, fmt.Errorf("%w: unknown unit in %q", ErrBadDuration, s)
	}
	return time.Duration(f * float64(mult)), nil
}

func parseISO(orig, t string) (time.Duration, error) {
	rest, ok := strings.CutPrefix(t, "P")
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrBadDuration, orig)
	}
	var d time.Duration
	inTime := false
	num := ""
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9' || r == '.':
			num += string(r)
		case r == 'T':
			inTime = true
		default:
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("%w: %q", ErrBadDuration, orig)
			}
			var u time.Duration
			switch {
			case r == 'D' && !inTime:
				u = 24 * time.Hour
			case r == 'W' && !inTime:
				u = 7 * 24 * time.Hour
			case r == 'H' && inTime:
				u = time.Hour
			case r == 'M' && inTime:
				u = time.Minute
			case r == 'S' && inTime:
				u = time.Second
			default:
				return 0, fmt.Errorf("%w: %q (years and months are not fixed durations)", ErrBadDuration, orig)
			}
			d += time.Duration(f * float64(u))
			num = ""
		}
	}
	if num != "" || rest == "" || rest == "T" {
		return 0, fmt.Errorf("%w: %q", ErrBadDuration, orig)
	}
	return d, nil
}

// normRole maps legacy role names to the current ones.
func normRole(r string) string {
	switch strings.ToLower(r) {
	case "master", "promoted":
		return "Promoted"
	case "slave", "unpromoted":
		return "Unpromoted"
	case "started":
		return "Started"
	}
	return r
}

// advised returns the meta-data action matching op (same name; for
// several, the one with the same role, else one without a role).
func (m *Metadata) advised(op Op) (Action, bool) {
	cands := m.ActionsNamed(op.Name)
	if len(cands) == 0 {
		return Action{}, false
	}
	for _, a := range cands {
		if a.Role != "" && normRole(a.Role) == normRole(op.Role) {
			return a, true
		}
	}
	for _, a := range cands {
		if a.Role == "" {
			return a, true
		}
	}
	return cands[0], true
}

// TimeoutWarnings compares the ops' timeouts with the agent's advised
// minimums and returns crmsh-worded warnings ("specified timeout 5s for
// start is smaller than the advised 20s"), in op order. Ops without a
// timeout, and unparsable values, are skipped (the CIB schema checks
// syntax).
func TimeoutWarnings(m *Metadata, ops []Op) []string {
	var out []string
	for _, op := range ops {
		if op.Timeout == "" {
			continue
		}
		a, ok := m.advised(op)
		if !ok || a.Timeout == "" {
			continue
		}
		have, err1 := ParseDuration(op.Timeout)
		want, err2 := ParseDuration(a.Timeout)
		if err1 != nil || err2 != nil || have >= want {
			continue
		}
		out = append(out, fmt.Sprintf("specified timeout %s for %s is smaller than the advised %s", op.Timeout, op.Name, a.Timeout))
	}
	return out
}

// DefaultOps returns the start, stop and monitor operations with the
// agent's advised timeouts (and monitor intervals), as crmsh 5 and pcs add
// them to a new primitive. Monitors are returned once per role.
func DefaultOps(m *Metadata) []Op {
	var out []Op
	for _, name := range []string{"start", "stop", "monitor"} {
		for _, a := range m.ActionsNamed(name) {
			out = append(out, Op{Name: name, Role: a.Role, Interval: a.Interval, Timeout: a.Timeout})
			if name != "monitor" {
				break
			}
		}
	}
	return out
}
