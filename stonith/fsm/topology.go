package fsm

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// TargetKind says how a fencing level selects its targets.
type TargetKind int

// Fencing-level target selectors.
const (
	TargetByName      TargetKind = iota + 1 // target="node1"
	TargetByPattern                         // target-pattern="node[0-9]+"
	TargetByAttribute                       // target-attribute="rack" target-value="r1"
)

// Level is one fencing-topology level: for the targets it selects, the
// devices of level Index are tried together (all must succeed) before
// level Index+1 is tried.
type Level struct {
	ID        string
	Index     int
	Kind      TargetKind
	Target    string // TargetByName
	Pattern   string // TargetByPattern (unanchored regular expression)
	Attribute string // TargetByAttribute
	Value     string // TargetByAttribute
	Devices   []string
	re        *regexp.Regexp
}

// LevelConfig is a fencing-level as written in the CIB (all strings), as
// cib.FencingLevel carries it.
type LevelConfig struct {
	ID, Target, TargetPattern, TargetAttribute, TargetValue, Index, Devices string
}

// ParseLevel validates one fencing level. Exactly one target form must be
// given; the index must be a positive integer; devices a non-empty
// comma-separated list.
func ParseLevel(c LevelConfig) (Level, error) {
	bad := func(field, format string, a ...any) error {
		return &ParamError{Param: "fencing-level " + c.ID + " " + field, Msg: fmt.Sprintf(format, a...)}
	}
	l := Level{ID: c.ID}
	forms := 0
	if c.Target != "" {
		forms++
		l.Kind, l.Target = TargetByName, c.Target
	}
	if c.TargetPattern != "" {
		forms++
		re, err := regexp.Compile(c.TargetPattern)
		if err != nil {
			return Level{}, bad("target-pattern", "bad regular expression: %v", err)
		}
		l.Kind, l.Pattern, l.re = TargetByPattern, c.TargetPattern, re
	}
	if c.TargetAttribute != "" {
		forms++
		l.Kind, l.Attribute, l.Value = TargetByAttribute, c.TargetAttribute, c.TargetValue
	} else if c.TargetValue != "" {
		return Level{}, bad("target-value", "given without target-attribute")
	}
	if forms != 1 {
		return Level{}, bad("target", "exactly one of target, target-pattern, target-attribute is required (got %d)", forms)
	}
	n, err := strconv.Atoi(strings.TrimSpace(c.Index))
	if err != nil || n < 1 || n > 9 {
		return Level{}, bad("index", "%q is not an integer from 1 to 9", c.Index)
	}
	l.Index = n
	for _, d := range strings.Split(c.Devices, ",") {
		if d = strings.TrimSpace(d); d != "" {
			l.Devices = append(l.Devices, d)
		}
	}
	if len(l.Devices) == 0 {
		return Level{}, bad("devices", "no devices listed")
	}
	return l, nil
}

// selector identifies a level's target selection, for grouping.
func (l Level) selector() string {
	switch l.Kind {
	case TargetByName:
		return "n:" + l.Target
	case TargetByPattern:
		return "p:" + l.Pattern
	default:
		return "a:" + l.Attribute + "=" + l.Value
	}
}

// Matches reports whether the level applies to target with node attributes attrs.
func (l Level) Matches(target string, attrs map[string]string) bool {
	switch l.Kind {
	case TargetByName:
		return l.Target == target
	case TargetByPattern:
		re := l.re
		if re == nil { // a hand-built Level: compile on use
			var err error
			if re, err = regexp.Compile(l.Pattern); err != nil {
				return false
			}
		}
		return re.MatchString(target)
	case TargetByAttribute:
		v, ok := attrs[l.Attribute]
		return ok && v == l.Value
	}
	return false
}

// Topology is the set of fencing levels. The zero value is an empty
// topology (every capable device is tried on its own). A Topology is
// immutable once built and safe for concurrent use.
type Topology struct {
	levels []Level
}

// NewTopology builds a topology; it rejects two levels with the same
// target selection and index.
func NewTopology(levels ...Level) (Topology, error) {
	seen := map[string]string{}
	for _, l := range levels {
		k := l.selector() + "#" + strconv.Itoa(l.Index)
		if other, dup := seen[k]; dup {
			return Topology{}, &ParamError{Param: "fencing-level " + l.ID, Msg: fmt.Sprintf("same target and index %d as level %s", l.Index, other)}
		}
		seen[k] = l.ID
	}
	return Topology{levels: slices.Clone(levels)}, nil
}

// Empty reports whether the topology has no levels.
func (t Topology) Empty() bool { return len(t.levels) == 0 }

// LevelsFor returns the levels that apply to target, ordered by index.
// As in Pacemaker, one target selection wins: levels naming the target
// exactly, else those of the first matching pattern, else those of the
// first matching attribute (in definition order).
func (t Topology) LevelsFor(target string, attrs map[string]string) []Level {
	var chosen string
	for _, kind := range []TargetKind{TargetByName, TargetByPattern, TargetByAttribute} {
		for _, l := range t.levels {
			if l.Kind == kind && l.Matches(target, attrs) {
				chosen = l.selector()
				break
			}
		}
		if chosen != "" {
			break
		}
	}
	if chosen == "" {
		return nil
	}
	var out []Level
	for _, l := range t.levels {
		if l.selector() == chosen {
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}
