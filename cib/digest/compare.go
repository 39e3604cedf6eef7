package digest

import "github.com/gocrm/gocrm/cib"

// Recorded holds the digest-related attributes of an lrm_rsc_op history
// entry. The Has* fields distinguish an absent attribute from an empty one,
// which Pacemaker treats differently.
type Recorded struct {
	Task            string // operation
	IntervalMS      int64  // interval (ms)
	OpDigest        string // op-digest
	HasOpDigest     bool
	RestartDigest   string // op-restart-digest
	HasRestart      bool
	ForceRestart    string // op-force-restart
	HasForceRestart bool
	SecureDigest    string // op-secure-digest
	HasSecure       bool
	SecureParams    string // op-secure-params
	HasSecureParams bool
	FeatureSet      string // crm_feature_set of the entry
}

// RecordedFromAttrs builds a Recorded from an attribute lookup (for example
// a closure over cib.LRMOp.Attrs). get returns the value and whether the
// attribute is present.
func RecordedFromAttrs(get func(name string) (string, bool)) Recorded {
	var r Recorded
	r.Task, _ = get("operation")
	if v, ok := get("interval"); ok {
		r.IntervalMS = parseIntDefault(v)
	}
	r.OpDigest, r.HasOpDigest = get("op-digest")
	r.RestartDigest, r.HasRestart = get("op-restart-digest")
	r.ForceRestart, r.HasForceRestart = get("op-force-restart")
	r.SecureDigest, r.HasSecure = get("op-secure-digest")
	r.SecureParams, r.HasSecureParams = get("op-secure-params")
	r.FeatureSet, _ = get("crm_feature_set")
	return r
}

// RecordedFromLRMOp builds a Recorded from a parsed history entry.
func RecordedFromLRMOp(op *cib.LRMOp) Recorded {
	return RecordedFromAttrs(func(name string) (string, bool) {
		for _, a := range op.Attrs {
			if a.Name == name {
				return a.Value, true
			}
		}
		return "", false
	})
}

func parseIntDefault(s string) int64 {
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return n
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n
}

// Result is the outcome of comparing current and recorded digests
// (Pacemaker's enum rsc_digest_cmp_val).
type Result int

// Digest comparison results.
const (
	// Match: the parameters are unchanged.
	Match Result = iota
	// Mismatch: some parameter changed, but none that needs a restart
	// (RSC_DIGEST_ALL): reloadable agents are reloaded, recurring
	// operations rescheduled, others restarted.
	Mismatch
	// Restart: a parameter that needs a restart changed
	// (RSC_DIGEST_RESTART), or a non-recurring operation with op-level
	// instance attributes changed.
	Restart
	// Unknown: the history entry has no op-digest (RSC_DIGEST_UNKNOWN);
	// treated like Mismatch by the definition check.
	Unknown
)

func (r Result) String() string {
	switch r {
	case Match:
		return "match"
	case Mismatch:
		return "mismatch"
	case Restart:
		return "restart"
	case Unknown:
		return "unknown"
	}
	return "invalid"
}

// Comparison is the result of [Compare] with the digests it calculated.
type Comparison struct {
	Result Result
	// All is the calculated op-digest.
	All string
	// Restart is the calculated restart digest; empty when the entry has
	// no op-restart-digest (Pacemaker does not compute one then).
	Restart string
	// Secure is the calculated secure digest; empty unless requested.
	Secure string
}

// Options tune [Compare] and [Check].
type Options struct {
	// Sanitized mirrors Pacemaker's "sanitized" scheduler flag, which
	// crm_simulate (and crm_mon) set and the cluster daemons do not: a
	// changed entry whose op-secure-digest still matches is then
	// considered unchanged (only private parameters changed).
	Sanitized bool
	// CIBFeatureSet is the crm_feature_set of the <cib> element, used
	// (like Pacemaker) for history entries that carry none; "" means
	// current (3.16.1).
	CIBFeatureSet string
}

// Compare reproduces Pacemaker 2.1.5's rsc_action_digest_cmp: it calculates
// the digests of the operation described by in and compares them with the
// history entry rec. in.IntervalMS should equal rec.IntervalMS and in.Task
// rec.Task (the task of the history entry, e.g. "monitor" for a probe).
//
// Order of checks: a recorded restart digest that differs from the
// calculated one gives Restart; otherwise a missing op-digest gives
// Unknown; a differing op-digest gives Mismatch, or Restart when the
// operation is non-recurring and has op-level instance attributes;
// otherwise Match.
func Compare(in Input, rec Recorded, opts Options) Comparison {
	var c Comparison
	p := allParams(in)
	c.All = Sum(p)
	if rec.HasRestart {
		rp := params{}
		for k, v := range p {
			rp[k] = v
		}
		if rec.HasForceRestart {
			keepOnly(rp, rec.ForceRestart)
		}
		c.Restart = Sum(rp)
	}
	if opts.Sanitized {
		list, have := rec.SecureParams, rec.HasSecureParams
		fs := rec.FeatureSet
		if fs == "" {
			fs = opts.CIBFeatureSet
		}
		c.Secure = Sum(secureParamSet(in, list, have, fs))
	}
	switch {
	case rec.HasRestart && c.Restart != rec.RestartDigest:
		c.Result = Restart
	case !rec.HasOpDigest:
		c.Result = Unknown
	case rec.OpDigest != c.All:
		if in.IntervalMS == 0 && in.HasOpParams() {
			c.Result = Restart
		} else {
			c.Result = Mismatch
		}
	default:
		c.Result = Match
	}
	return c
}

// Action is what the scheduler's action-definition check decides for one
// history entry of an active resource.
type Action int

// Definition-check decisions.
const (
	// NoAction: the definition is unchanged (or only private parameters
	// changed in a sanitized simulation).
	NoAction Action = iota
	// ForceRestart: make the entry's action required again with reason
	// "resource definition change": the start for non-recurring entries
	// (probes, promote and migrate_from map to start), which restarts the
	// resource; the monitor itself for a recurring entry (which happens
	// only with restart digests that 2.1.5 controllers never record for
	// recurring operations).
	ForceRestart
	// Reload: the agent supports reload (the entry has an
	// op-restart-digest) and only reloadable parameters changed: schedule
	// a reload (reload-agent) of the resource.
	Reload
	// Reschedule: a recurring operation's parameters changed: cancel and
	// re-create that monitor with the new parameters.
	Reschedule
)

func (a Action) String() string {
	switch a {
	case NoAction:
		return "none"
	case ForceRestart:
		return "restart"
	case Reload:
		return "reload"
	case Reschedule:
		return "reschedule"
	}
	return "invalid"
}

// Check reproduces the digest part of Pacemaker 2.1.5's action-definition
// check (pcmk__check_action_config) for a history entry of an active
// resource, after the caller has handled orphaned recurring operations
// (an entry whose interval and task match no configured op is cancelled,
// not checked).
//
//   - Restart → ForceRestart.
//   - Mismatch or Unknown → Reschedule for recurring operations; Reload
//     when the entry has an op-restart-digest (agent supports reload);
//     otherwise ForceRestart.
//   - With opts.Sanitized, any non-Match result whose op-secure-digest
//     equals the calculated secure digest → NoAction.
//
// The comparison details are returned as well.
func Check(in Input, rec Recorded, opts Options) (Action, Comparison) {
	c := Compare(in, rec, opts)
	if opts.Sanitized && c.Result != Match && rec.HasSecure && c.Secure == rec.SecureDigest {
		return NoAction, c
	}
	switch c.Result {
	case Restart:
		return ForceRestart, c
	case Mismatch, Unknown:
		switch {
		case rec.IntervalMS > 0:
			return Reschedule, c
		case rec.HasRestart:
			return Reload, c
		default:
			return ForceRestart, c
		}
	}
	return NoAction, c
}
