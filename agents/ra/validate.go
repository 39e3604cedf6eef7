package ra

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Sentinel errors wrapped by *ValidationError (test with errors.Is).
var (
	ErrUnknownParam = errors.New("unknown parameter")
	ErrMissingParam = errors.New("missing required parameter")
	ErrBadValue     = errors.New("value not allowed")
)

// ValidationError lists every problem Validate found, by parameter name.
// Each list is sorted.
type ValidationError struct {
	Unknown []string // parameters the agent does not define
	Missing []string // required parameters absent or empty
	Invalid []string // "name=value" pairs outside a select parameter's options
}

// Messages returns one crmsh-worded message per problem: required
// parameters first, then unknown ones, then bad values, e.g.
// `required parameter "ip" not defined`, `parameter "foo" is not known`.
func (e *ValidationError) Messages() []string {
	var out []string
	for _, n := range e.Missing {
		out = append(out, fmt.Sprintf("required parameter %q not defined", n))
	}
	for _, n := range e.Unknown {
		out = append(out, fmt.Sprintf("parameter %q is not known", n))
	}
	for _, n := range e.Invalid {
		name, val, _ := strings.Cut(n, "=")
		out = append(out, fmt.Sprintf("parameter %q: value %q is not one of the allowed options", name, val))
	}
	return out
}

// Error joins Messages with "; ".
func (e *ValidationError) Error() string { return strings.Join(e.Messages(), "; ") }

// Unwrap exposes the sentinels of the problems present.
func (e *ValidationError) Unwrap() []error {
	var errs []error
	if len(e.Unknown) > 0 {
		errs = append(errs, ErrUnknownParam)
	}
	if len(e.Missing) > 0 {
		errs = append(errs, ErrMissingParam)
	}
	if len(e.Invalid) > 0 {
		errs = append(errs, ErrBadValue)
	}
	return errs
}

// Validate checks resource parameters against an agent's meta-data: every
// parameter must be defined, every required one present and non-empty (or
// replaced by the parameter that obsoletes it, or given under the name it
// obsoletes), and
// values of "select" parameters must be among the listed options. It
// returns nil or a *ValidationError naming all offending parameters.
func Validate(m *Metadata, params map[string]string) error {
	if m == nil {
		return nil
	}
	ve := &ValidationError{}
	for name, val := range params {
		p, ok := m.Param(name)
		if !ok {
			ve.Unknown = append(ve.Unknown, name)
			continue
		}
		if p.Type == "select" && len(p.Options) > 0 && !slices.Contains(p.Options, val) {
			ve.Invalid = append(ve.Invalid, name+"="+val)
		}
	}
	set := func(name string) bool { return name != "" && strings.TrimSpace(params[name]) != "" }
	for _, p := range m.Parameters {
		if !p.Required || set(p.Name) || set(p.Obsoletes) {
			continue
		}
		// A replacement ("ip" obsoletes "ipaddr") satisfies the old name.
		replaced := false
		for _, q := range m.Parameters {
			if q.Obsoletes == p.Name && set(q.Name) {
				replaced = true
			}
		}
		if !replaced {
			ve.Missing = append(ve.Missing, p.Name)
		}
	}
	if len(ve.Unknown)+len(ve.Missing)+len(ve.Invalid) == 0 {
		return nil
	}
	sort.Strings(ve.Unknown)
	sort.Strings(ve.Missing)
	sort.Strings(ve.Invalid)
	return ve
}
