package cib

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RuleContext is everything a rule may look at. Now is injected by the caller
// (the CIB's execution-date in simulations); rules never read the wall clock.
type RuleContext struct {
	Now        time.Time
	NodeAttrs  map[string]string // node attributes incl. #uname, #id, #kind
	Role       string            // resource's role, for role-qualified rules
	RscClass   string
	RscProv    string
	RscType    string
	OpName     string
	OpInterval int64 // ms
	HasOp      bool
	Params     map[string]string // for value-source="param"
	Meta       map[string]string // for value-source="meta"
	// Index resolves rule id-refs; may be nil.
	Index *Index
}

// EvalRule evaluates a rule. An empty rule (no expressions) is true.
func EvalRule(r *Rule, ctx *RuleContext) bool {
	if ctx.Index != nil {
		r = ctx.Index.ResolveRule(r)
	}
	if r.Role != "" && ctx.Role != "" && !roleEqual(r.Role, ctx.Role) {
		return false
	}
	if len(r.Exprs) == 0 {
		return true
	}
	or := strings.EqualFold(r.BooleanOp, "or")
	for _, x := range r.Exprs {
		var v bool
		switch e := x.(type) {
		case *Expression:
			v = EvalExpression(e, ctx)
		case *DateExpression:
			v = EvalDate(e, ctx.Now)
		case *Rule:
			v = EvalRule(e, ctx)
		case *RscExpression:
			v = (e.Class == "" || e.Class == ctx.RscClass) && (e.Provider == "" || e.Provider == ctx.RscProv) && (e.Type == "" || e.Type == ctx.RscType)
		case *OpExpression:
			v = ctx.HasOp && (e.Name == "" || e.Name == ctx.OpName)
			if v && e.Interval != "" {
				ms, err := ParseIntervalMS(e.Interval)
				v = err == nil && ms == ctx.OpInterval
			}
		}
		if or && v {
			return true
		}
		if !or && !v {
			return false
		}
	}
	return !or
}

// NormalizeRole maps legacy role names to current ones.
func NormalizeRole(r string) string {
	switch strings.ToLower(r) {
	case "master", "promoted":
		return "Promoted"
	case "slave", "unpromoted":
		return "Unpromoted"
	case "started":
		return "Started"
	case "stopped":
		return "Stopped"
	}
	return r
}

func roleEqual(a, b string) bool { return NormalizeRole(a) == NormalizeRole(b) }

// EvalExpression evaluates a node-attribute expression.
func EvalExpression(e *Expression, ctx *RuleContext) bool {
	attr, ok := ctx.NodeAttrs[e.Attribute]
	value := e.Value
	switch e.ValueSource {
	case "param":
		value = ctx.Params[e.Value]
	case "meta":
		value = ctx.Meta[e.Value]
	}
	switch e.Operation {
	case "defined":
		return ok
	case "not_defined":
		return !ok
	}
	if !ok {
		return e.Operation == "ne"
	}
	cmp, valid := compareValues(attr, value, e.Type, e.Operation)
	if !valid {
		return e.Operation == "ne"
	}
	switch e.Operation {
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	case "lt":
		return cmp < 0
	case "lte":
		return cmp <= 0
	case "gt":
		return cmp > 0
	case "gte":
		return cmp >= 0
	}
	return false
}

func compareValues(a, b, typ, op string) (int, bool) {
	typ = strings.ToLower(typ)
	if typ == "" {
		switch op {
		case "lt", "lte", "gt", "gte":
			if strings.Contains(a, ".") || strings.Contains(b, ".") {
				typ = "number"
			} else {
				typ = "integer"
			}
		default:
			typ = "string"
		}
	}
	switch typ {
	case "integer":
		x, ok1 := strtoll(a)
		y, ok2 := strtoll(b)
		if !ok1 || !ok2 {
			return strings.Compare(strings.ToLower(a), strings.ToLower(b)), true
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case "number":
		x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
		if err1 != nil || err2 != nil {
			return strings.Compare(strings.ToLower(a), strings.ToLower(b)), true
		}
		return cmpFloat(x, y), true
	case "version":
		return CompareVersion(a, b), true
	default:
		return strings.Compare(strings.ToLower(a), strings.ToLower(b)), true
	}
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// CompareVersion compares dotted version strings numerically.
func CompareVersion(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// EvalDate evaluates a date_expression at now.
func EvalDate(d *DateExpression, now time.Time) bool {
	var start, end time.Time
	var hasStart, hasEnd bool
	if d.Start != "" {
		t, err := ParseISODate(d.Start)
		if err != nil {
			return false
		}
		start, hasStart = t, true
	}
	if d.End != "" {
		t, err := ParseISODate(d.End)
		if err != nil {
			return false
		}
		end, hasEnd = t, true
	} else if d.Duration != nil && hasStart {
		end, hasEnd = addDuration(start, d.Duration), true
	}
	switch d.Operation {
	case "in_range":
		if hasStart && now.Before(start) {
			return false
		}
		if hasEnd && now.After(end) {
			return false
		}
		return hasStart || hasEnd
	case "gt":
		return hasStart && now.After(start)
	case "lt":
		return hasEnd && now.Before(end)
	case "date_spec":
		if d.DateSpec == nil {
			return false
		}
		return matchDateSpec(d.DateSpec, now)
	}
	return false
}

func addDuration(t time.Time, d *DateSpec) time.Time {
	for _, f := range d.Fields {
		n, err := strconv.Atoi(f.Value)
		if err != nil {
			continue
		}
		switch f.Name {
		case "years":
			t = t.AddDate(n, 0, 0)
		case "months":
			t = t.AddDate(0, n, 0)
		case "weeks":
			t = t.AddDate(0, 0, 7*n)
		case "days":
			t = t.AddDate(0, 0, n)
		case "hours":
			t = t.Add(time.Duration(n) * time.Hour)
		case "minutes":
			t = t.Add(time.Duration(n) * time.Minute)
		case "seconds":
			t = t.Add(time.Duration(n) * time.Second)
		}
	}
	return t
}

func inRangeSpec(spec string, v int) bool {
	spec = strings.TrimSpace(spec)
	if i := strings.Index(spec, "-"); i > 0 {
		lo, err1 := strconv.Atoi(strings.TrimSpace(spec[:i]))
		hi, err2 := strconv.Atoi(strings.TrimSpace(spec[i+1:]))
		if err1 != nil {
			return false
		}
		if err2 != nil { // "N-" open range
			return v >= lo
		}
		return v >= lo && v <= hi
	}
	n, err := strconv.Atoi(spec)
	return err == nil && n == v
}

func matchDateSpec(d *DateSpec, now time.Time) bool {
	yw, wk := now.ISOWeek()
	wd := int(now.Weekday())
	if wd == 0 {
		wd = 7
	}
	for _, f := range d.Fields {
		var v int
		switch f.Name {
		case "seconds":
			v = now.Second()
		case "minutes":
			v = now.Minute()
		case "hours":
			v = now.Hour()
		case "monthdays":
			v = now.Day()
		case "weekdays":
			v = wd
		case "yeardays":
			v = now.YearDay()
		case "months":
			v = int(now.Month())
		case "weeks":
			v = wk
		case "years":
			v = now.Year()
		case "weekyears":
			v = yw
		case "moon":
			continue
		default:
			continue
		}
		if !inRangeSpec(f.Value, v) {
			return false
		}
	}
	return true
}

// ParseISODate parses the ISO 8601 date/time forms Pacemaker accepts:
// YYYY-MM-DD, YYYY-DDD (ordinal), YYYY-Www-D, optionally followed by
// a space or T and hh[:mm[:ss]] and a Z or ±hh[:mm] offset. Times without
// an offset are UTC. A plain integer is taken as seconds since the epoch.
func ParseISODate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) > 8 {
		return time.Unix(n, 0).UTC(), nil
	}
	datePart, timePart := s, ""
	if i := strings.IndexAny(s, "T "); i >= 0 {
		datePart, timePart = s[:i], strings.TrimSpace(s[i+1:])
	}
	var t time.Time
	switch {
	case len(datePart) == 10 && datePart[4] == '-' && datePart[7] == '-':
		d, err := time.Parse("2006-01-02", datePart)
		if err != nil {
			return time.Time{}, fmt.Errorf("date %q: %w", s, err)
		}
		t = d
	case len(datePart) == 8 && datePart[4] == '-':
		y, err1 := strconv.Atoi(datePart[:4])
		yd, err2 := strconv.Atoi(datePart[5:])
		if err1 != nil || err2 != nil {
			return time.Time{}, fmt.Errorf("date %q is not YYYY-DDD", s)
		}
		t = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, yd-1)
	case len(datePart) == 10 && datePart[5] == 'W':
		y, err1 := strconv.Atoi(datePart[:4])
		w, err2 := strconv.Atoi(datePart[6:8])
		d, err3 := strconv.Atoi(datePart[9:])
		if err1 != nil || err2 != nil || err3 != nil {
			return time.Time{}, fmt.Errorf("date %q is not YYYY-Www-D", s)
		}
		jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC)
		wd := int(jan4.Weekday())
		if wd == 0 {
			wd = 7
		}
		t = jan4.AddDate(0, 0, -(wd-1)+(w-1)*7+(d-1))
	case len(datePart) == 4:
		y, err := strconv.Atoi(datePart)
		if err != nil {
			return time.Time{}, fmt.Errorf("date %q: bad year", s)
		}
		t = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	default:
		return time.Time{}, fmt.Errorf("date %q: unsupported ISO 8601 form", s)
	}
	if timePart == "" {
		return t, nil
	}
	offset := 0
	if strings.HasSuffix(timePart, "Z") {
		timePart = timePart[:len(timePart)-1]
	} else if i := strings.LastIndexAny(timePart, "+-"); i > 0 {
		off := strings.ReplaceAll(timePart[i+1:], ":", "")
		timePart = timePart[:i]
		h, m := 0, 0
		if len(off) >= 2 {
			h, _ = strconv.Atoi(off[:2])
		}
		if len(off) >= 4 {
			m, _ = strconv.Atoi(off[2:4])
		}
		offset = h*3600 + m*60
		if s[strings.LastIndexAny(s, "+-")] == '-' {
			offset = -offset
		}
	}
	parts := strings.Split(timePart, ":")
	var hms [3]int
	for i := 0; i < len(parts) && i < 3; i++ {
		v, err := strconv.Atoi(strings.TrimSpace(parts[i]))
		if err != nil {
			return time.Time{}, fmt.Errorf("date %q: bad time", s)
		}
		hms[i] = v
	}
	t = t.Add(time.Duration(hms[0])*time.Hour + time.Duration(hms[1])*time.Minute + time.Duration(hms[2])*time.Second)
	return t.Add(-time.Duration(offset) * time.Second), nil
}

// UnpackNVSets merges name/value sets whose rules match ctx. Sets are taken
// in decreasing score order (document order for ties; a set with id
// firstID first); the first value seen for a name wins, as in Pacemaker.
// Values are added to into, which is returned (allocated if nil).
func UnpackNVSets(sets []*NVSet, ctx *RuleContext, firstID string, into map[string]string) map[string]string {
	if into == nil {
		into = map[string]string{}
	}
	type item struct {
		s     *NVSet
		score int
		first bool
	}
	items := make([]item, 0, len(sets))
	// Pacemaker collects sets newest-first, so among equal scores the
	// later set wins.
	for i := len(sets) - 1; i >= 0; i-- {
		s := sets[i]
		orig := s
		if ctx != nil && ctx.Index != nil {
			s = ctx.Index.ResolveSet(s)
		}
		items = append(items, item{s, Score(orig.Score), firstID != "" && orig.ID == firstID})
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].first != items[j].first {
			return items[i].first
		}
		return items[i].score > items[j].score
	})
	for _, it := range items {
		if len(it.s.Rules) > 0 {
			ok := true
			for _, r := range it.s.Rules {
				if ctx == nil || !EvalRule(r, ctx) {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
		}
		for _, p := range it.s.Pairs {
			name, value := p.Name, p.Value
			if p.IDRef != "" && ctx != nil && ctx.Index != nil {
				if t, ok := ctx.Index.Pairs[p.IDRef]; ok {
					name, value = t.Name, t.Value
					if p.Name != "" {
						name = p.Name
					}
				}
			}
			if name == "" {
				continue
			}
			if value == "#default" {
				// "#default" removes a value set so far.
				delete(into, name)
				continue
			}
			if _, seen := into[name]; !seen {
				into[name] = value
			}
		}
	}
	return into
}

// strtoll parses a leading integer like C's strtoll: "1.5" is 1; a string
// without leading digits is not a number.
func strtoll(s string) (int64, bool) {
	t := strings.TrimSpace(s)
	i := 0
	if i < len(t) && (t[i] == '-' || t[i] == '+') {
		i++
	}
	j := i
	for j < len(t) && t[j] >= '0' && t[j] <= '9' {
		j++
	}
	if j == i {
		return 0, false
	}
	v, err := strconv.ParseInt(t[:j], 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}
