package cib

import (
	"fmt"
	"strconv"
	"strings"
)

// Infinity is Pacemaker's INFINITY score.
const Infinity = 1000000

// ParseScore parses a score string strictly: an integer, INFINITY, +INFINITY
// or -INFINITY. Integers beyond ±INFINITY saturate.
func ParseScore(s string) (int, error) {
	t := strings.TrimSpace(s)
	switch t {
	case "INFINITY", "+INFINITY", "infinity", "+infinity":
		return Infinity, nil
	case "-INFINITY", "-infinity":
		return -Infinity, nil
	case "":
		return 0, fmt.Errorf("empty score")
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		// Pacemaker accepts a leading integer followed by junk (e.g. "1.0");
		// accept the integer prefix like strtol does.
		i := 0
		if i < len(t) && (t[i] == '-' || t[i] == '+') {
			i++
		}
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i == 0 || (i == 1 && (t[0] == '-' || t[0] == '+')) {
			return 0, fmt.Errorf("score %q is not an integer or INFINITY", s)
		}
		v, _ = strconv.ParseInt(t[:i], 10, 64)
	}
	return clampScore(v), nil
}

// Score parses a score leniently (invalid → 0), like Pacemaker's char2score.
func Score(s string) int {
	v, err := ParseScore(s)
	if err != nil {
		return 0
	}
	return v
}

func clampScore(v int64) int {
	if v >= Infinity {
		return Infinity
	}
	if v <= -Infinity {
		return -Infinity
	}
	return int(v)
}

// AddScores adds two scores with saturation; -INFINITY wins over +INFINITY.
func AddScores(a, b int) int {
	if a <= -Infinity || b <= -Infinity {
		return -Infinity
	}
	if a >= Infinity || b >= Infinity {
		return Infinity
	}
	return clampScore(int64(a) + int64(b))
}

// ScoreString formats a score as Pacemaker prints it.
func ScoreString(v int) string {
	switch {
	case v >= Infinity:
		return "INFINITY"
	case v <= -Infinity:
		return "-INFINITY"
	}
	return strconv.Itoa(v)
}

// ParseIntervalMS parses an interval/timeout specification into milliseconds:
// a plain number is seconds; units ms/msec, s/sec, m/min, h/hr; ISO 8601
// durations (PT10S) are accepted too.
func ParseIntervalMS(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, nil
	}
	if t[0] == 'P' {
		d, err := ParseISODuration(t)
		if err != nil {
			return 0, err
		}
		return d * 1000, nil
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("interval %q does not start with a number", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("interval %q: %w", s, err)
	}
	unit := strings.ToLower(strings.TrimSpace(t[i:]))
	switch unit {
	case "", "s", "sec", "secs", "second", "seconds":
		return n * 1000, nil
	case "ms", "msec", "msecs":
		return n, nil
	case "us", "usec", "usecs":
		return n / 1000, nil
	case "m", "min", "mins", "minute", "minutes":
		return n * 60000, nil
	case "h", "hr", "hrs", "hour", "hours":
		return n * 3600000, nil
	}
	return 0, fmt.Errorf("interval %q has unknown unit %q", s, unit)
}

// ParseISODuration parses an ISO 8601 duration (PnYnMnDTnHnMnS, PnW) into
// seconds, counting a month as 30 days and a year as 365 days.
func ParseISODuration(s string) (int64, error) {
	if len(s) < 2 || s[0] != 'P' {
		return 0, fmt.Errorf("duration %q must start with P", s)
	}
	var total int64
	inTime := false
	num := ""
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			num += string(r)
		case r == 'T':
			inTime = true
		default:
			if num == "" {
				return 0, fmt.Errorf("duration %q: missing number before %c", s, r)
			}
			n, _ := strconv.ParseInt(num, 10, 64)
			num = ""
			switch {
			case r == 'Y' && !inTime:
				total += n * 365 * 86400
			case r == 'M' && !inTime:
				total += n * 30 * 86400
			case r == 'W' && !inTime:
				total += n * 7 * 86400
			case r == 'D' && !inTime:
				total += n * 86400
			case r == 'H':
				total += n * 3600
			case r == 'M' && inTime:
				total += n * 60
			case r == 'S':
				total += n
			default:
				return 0, fmt.Errorf("duration %q: unexpected %c", s, r)
			}
		}
	}
	if num != "" {
		return 0, fmt.Errorf("duration %q: trailing number", s)
	}
	return total, nil
}
