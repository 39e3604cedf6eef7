// Package digest computes Pacemaker 2.1.5 operation digests and compares them
// with the digests recorded in a CIB status section, so that the scheduler can
// decide "resource definition change" restarts, reloads and monitor
// reschedules exactly like Pacemaker does.
//
// Every lrm_rsc_op records up to three digests:
//
//   - op-digest: MD5 of every parameter of the operation (resource instance
//     attributes, op-level instance attributes, and CRM_meta_timeout for
//     recurring operations). See [OpDigest].
//   - op-restart-digest (with op-force-restart, the space-framed list of
//     parameters that need a restart): digest of only those parameters;
//     present only for agents that support reload. See [RestartDigest].
//   - op-secure-digest (with op-secure-params, the list of private
//     parameters): digest without the private parameters, used by
//     simulations that run on sanitized CIBs. See [SecureDigest].
//
// A digest is the MD5 (lower-case hex) of the text
// " <parameters NAME="VALUE" .../>\n" with the attributes sorted by name
// (byte order) and values escaped the way Pacemaker 2.1.5 escapes them in
// its own XML writer, quirks included; see [Canonical].
//
// # Use from the scheduler
//
// For every resource R active on node N, walk R's history on N the way
// Pacemaker's process_rsc_history does (entries sorted by call-id, from the
// last start/migrate_from, or promote/demote, or successful monitor after
// the last successful stop) and take the entries that are recurring or
// whose task is monitor, start, promote or migrate_from. For each entry E:
//
//  1. in, err := FromCIB(cfg, attrsOf(N), E.resource-id, E.operation,
//     E.interval) with the entry's own task (a probe is task "monitor",
//     interval 0; a promote stays "promote"). errors.Is(err, ErrOrphanOp)
//     means a recurring op no enabled <op> configures: cancel it
//     (stop-orphan-actions) instead of comparing digests. ErrNoResource:
//     orphaned resource, not checked.
//  2. act, cmp := Check(in, RecordedFromLRMOp(E), Options{Sanitized: sim,
//     CIBFeatureSet: cib crm_feature_set}) where sim is true when
//     reproducing crm_simulate (which always runs sanitized) and false in
//     the cluster daemon.
//  3. ForceRestart: make R's start on N required (for monitor_0, promote
//     and migrate_from entries the action is start; for a recurring entry,
//     that monitor) with reason "resource definition change"; for a fencing
//     device, also trigger unfencing. This yields "Restart R ( N ) due to
//     resource definition change". Reload: schedule reload-agent of R on N
//     ("Reload R ( N )"). Reschedule: cancel and re-create that recurring
//     monitor (no summary line). If act != NoAction and R has a fail count
//     on N, clear it ("action definition changed").
//  4. For expired-failure handling (last_failure entries of start/monitor),
//     Pacemaker clears the fail count when Compare(...).Result is Restart or
//     Mismatch ("resource parameters have changed"); Unknown and Match do
//     not.
//
// When recording a new history entry (simulated execution, LRM results),
// write op-digest = OpDigest(in) for the executed action's Input. Agents
// that support reload also get op-force-restart = ForceRestartList(names of
// parameters that are not reloadable, or unique ones for legacy agents) and
// op-restart-digest = RestartDigest(in, that list); op-secure-params =
// ForceRestartList(private parameters) and op-secure-digest =
// RecordSecureDigest(in, that list). crm_simulate
// itself writes only op-digest.
//
// The crm_feature_set of an entry matters only for the secure digest
// (entries older than 3.16.0 hash resource parameters only, without fencing
// pcmk_* parameters and without the timeout); 2.1.5 checks op-digest and
// the restart digest regardless of the feature set.
//
// The package is pure (no I/O, no clock) and all functions are safe for
// concurrent use; inputs are never modified.
package digest

import (
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
)

// DefaultTimeoutMS is the operation timeout Pacemaker uses when none is
// configured (or the configured one cannot be parsed): 20 seconds.
const DefaultTimeoutMS = 20000

// MetaPrefix is the prefix of meta-attributes passed to agents as parameters.
const MetaPrefix = "CRM_meta_"

// Input is everything the main digest of one operation depends on.
//
// The caller resolves the configuration the way the scheduler does:
//
//   - Params: the resource's instance attributes evaluated for the node the
//     operation ran on (rules against that node's attributes), including
//     those inherited from a template, from parent groups/clones and from
//     rsc_defaults instance_attributes (see [FromCIB]).
//   - OpParams: instance_attributes of the <op> configured for Task and
//     IntervalMS (may be nil). They override Params of the same name.
//   - IntervalMS: the operation interval in milliseconds (0 for start, stop,
//     probes, promote, ...).
//   - Timeout: the effective timeout specification of the operation as
//     configured (the <op timeout=...> attribute, else the op's
//     meta_attributes, else op_defaults; "" for none). Only recurring
//     operations include it in the digest; it is normalised to milliseconds
//     with Pacemaker's rules (see [TimeoutMS]).
//   - Meta: the action's meta-attributes, if the caller has them at hand.
//     Only "timeout" matters (used when Timeout is empty): Pacemaker passes
//     meta-attributes as CRM_meta_* parameters and its digest filter drops
//     all of them except the timeout of a recurring operation.
//   - Task: the operation name, informational (digests do not depend on
//     it; [FromCIB] uses it to find the configured op).
//   - Stonith: the resource has class "stonith" (affects secure digests
//     recorded with feature sets older than 3.16.0).
type Input struct {
	Params     map[string]string
	OpParams   map[string]string
	Meta       map[string]string
	Task       string
	IntervalMS int64
	Timeout    string
	Stonith    bool
}

// HasOpParams reports whether the op has op-level instance attributes, in
// which case a changed non-recurring operation is always restarted, never
// reloaded.
func (in Input) HasOpParams() bool { return len(in.OpParams) > 0 }

// params is a name->value attribute set (the XML <parameters> element).
type params map[string]string

// allParams builds Pacemaker's "params_all" set: resource parameters, then
// op-level parameters (overriding), then the action meta-attributes as
// CRM_meta_*, then the digest filter.
func allParams(in Input) params {
	p := params{}
	for k, v := range in.Params {
		p[k] = v
	}
	for k, v := range in.OpParams {
		p[k] = v
	}
	// Action meta-attributes become CRM_meta_* parameters, all of which the
	// digest filter drops except the timeout of a recurring operation, so
	// only those two are materialised here.
	if in.IntervalMS > 0 {
		p[MetaPrefix+"interval"] = strconv.FormatInt(in.IntervalMS, 10)
	}
	t := in.Timeout
	if t == "" && in.Meta != nil {
		t = in.Meta["timeout"]
	}
	p[MetaPrefix+"timeout"] = strconv.FormatInt(TimeoutMS(t), 10)
	filterForDigest(p)
	return p
}

// filterForDigest drops what Pacemaker never hashes: every CRM_meta_*
// attribute except CRM_meta_timeout of a recurring operation, and a few
// bookkeeping names.
func filterForDigest(p params) {
	interval, _ := strconv.ParseInt(strings.TrimSpace(p[MetaPrefix+"interval"]), 10, 64)
	timeout, hasTimeout := p[MetaPrefix+"timeout"]
	for k := range p {
		if strings.HasPrefix(k, MetaPrefix) {
			delete(p, k)
			continue
		}
		switch k {
		case "id", "crm_feature_set", "op-digest", "pcmk_external_ip":
			delete(p, k)
		}
	}
	if interval != 0 && hasTimeout {
		p[MetaPrefix+"timeout"] = timeout
	}
}

// Canonical returns the exact text Pacemaker 2.1.5 hashes for a set of
// parameters: a space, the <parameters> element with attributes sorted by
// name (byte order) and escaped values, and a newline.
func Canonical(p map[string]string) string {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(" <parameters")
	for _, k := range names {
		b.WriteByte(' ')
		b.WriteString(k)
		b.WriteString(`="`)
		escapeValue(&b, p[k])
		b.WriteByte('"')
	}
	b.WriteString("/>\n")
	return b.String()
}

// escapeValue escapes an attribute value like Pacemaker 2.1.5's XML writer:
// the five XML entities, tab as four spaces, LF and CR as the two-character
// sequences \n and \r, other control characters and DEL as a backslash and
// three octal digits. Its quirks are reproduced too: at the first pair of
// consecutive bytes with the high bit set (any multi-byte UTF-8 character)
// escaping stops and the rest of the value is copied verbatim, and a lone
// high-bit byte is written as the octal value of a negative C char
// (\37777777xxx).
func escapeValue(b *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c&0x80 != 0 && i+1 < len(v) && v[i+1]&0x80 != 0 {
			b.WriteString(v[i:])
			return
		}
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '&':
			b.WriteString("&amp;")
		case '\t':
			b.WriteString("    ")
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if c < ' ' || c > '~' {
				// printf("\\%.3o", (int)(signed char)c)
				s := strconv.FormatUint(uint64(uint32(int32(int8(c)))), 8)
				b.WriteByte('\\')
				for n := len(s); n < 3; n++ {
					b.WriteByte('0')
				}
				b.WriteString(s)
			} else {
				b.WriteByte(c)
			}
		}
	}
}

// Sum returns the MD5 digest (lower-case hex) of Canonical(p).
func Sum(p map[string]string) string {
	h := md5.Sum([]byte(Canonical(p)))
	return hex.EncodeToString(h[:])
}

// OpDigest returns the op-digest Pacemaker computes for the operation.
func OpDigest(in Input) string { return Sum(allParams(in)) }

// RestartDigest returns the op-restart-digest for the operation given the
// op-force-restart list recorded in the history entry (space-separated
// parameter names, as written by the controller: " a b "). Only parameters
// named in the list are hashed; an empty list hashes no parameter.
//
// To produce the list for a new history entry from agent meta-data use
// [ForceRestartList].
func RestartDigest(in Input, forceRestart string) string {
	p := allParams(in)
	keepOnly(p, forceRestart)
	return Sum(p)
}

// SecureDigest returns the secure digest the 2.1.5 scheduler calculates to
// compare with a history entry's op-secure-digest, given its
// op-secure-params list (space-separated private parameter names, " a b ")
// and the crm_feature_set it was recorded with ("" means a current one).
// Feature sets older than 3.16.0 hash only the resource parameters (no
// op-level ones), never the timeout, and for fencing devices not the
// Pacemaker-defined pcmk_* fencing parameters. For current feature sets all
// parameters except the private ones are hashed, but never the timeout (a
// 2.1.5 quirk: the controller's digest of a recurring operation, see
// [RecordSecureDigest], includes it, so the two never match for recurring
// operations).
func SecureDigest(in Input, secureParams, featureSet string) string {
	return Sum(secureParamSet(in, secureParams, true, featureSet))
}

// RecordSecureDigest returns the op-secure-digest a 2.1.5 controller
// records for a new history entry: the digest of every parameter of the
// operation (CRM_meta_timeout included for recurring operations) except the
// private ones named in secureParams (the op-secure-params value, " a b ";
// build it with [ForceRestartList] from the agent's private parameters).
// It differs from [SecureDigest], the scheduler's side, for recurring
// operations only (see there).
func RecordSecureDigest(in Input, secureParams string) string {
	p := allParams(in)
	for k := range p {
		if inList(secureParams, k) {
			delete(p, k)
		}
	}
	return Sum(p)
}

func secureParamSet(in Input, secureList string, haveList bool, featureSet string) params {
	old := featureSet != "" && CompareVersion(featureSet, "3.16.0") < 0
	var p params
	if old {
		p = params{}
		for k, v := range in.Params {
			p[k] = v
		}
	} else {
		p = allParams(in)
	}
	if haveList {
		for k := range p {
			if inList(secureList, k) {
				delete(p, k)
			}
		}
	}
	if old && in.Stonith {
		for k := range p {
			if IsFencingParam(k) {
				delete(p, k)
			}
		}
	}
	// Filtering again is what 2.1.5 does. For current feature sets the set
	// was already filtered, so CRM_meta_interval is gone and the filter
	// drops CRM_meta_timeout too: the scheduler's secure digest of a
	// recurring operation never includes the timeout (while the
	// controller's does), so it only matches for non-recurring operations.
	// crm_simulate confirms this (testdata/verdicts-reload.xml, rA/rB).
	filterForDigest(p)
	if old {
		delete(p, MetaPrefix+"timeout")
	}
	return p
}

// keepOnly removes every attribute whose name is not in the list.
func keepOnly(p params, list string) {
	for k := range p {
		if !inList(list, k) {
			delete(p, k)
		}
	}
}

// inList reports whether " name " occurs in list (Pacemaker's substring test).
func inList(list, name string) bool {
	return strings.Contains(list, " "+name+" ")
}

// ForceRestartList builds a space-framed parameter list as the controller
// records it: " a b ", or "" for none. For op-force-restart pass the names
// (in meta-data order) of the parameters that are not reloadable (OCF 1.1
// "reload-agent" agents) or, for legacy "reload" agents, that are unique;
// for op-secure-params pass the private parameters.
func ForceRestartList(restartParams []string) string {
	if len(restartParams) == 0 {
		return ""
	}
	return " " + strings.Join(restartParams, " ") + " "
}

// IsFencingParam reports whether a parameter name is one of the
// Pacemaker-defined fencing-device parameters (pcmk_host_list,
// pcmk_reboot_action, pcmk_monitor_timeout, ...), which fence agents do not
// declare in their meta-data.
func IsFencingParam(name string) bool {
	if !strings.HasPrefix(name, "pcmk_") {
		return false
	}
	switch name {
	case "pcmk_action_limit", "pcmk_delay_base", "pcmk_delay_max",
		"pcmk_host_argument", "pcmk_host_check", "pcmk_host_list", "pcmk_host_map":
		return true
	}
	i := strings.IndexByte(name[len("pcmk_"):], '_')
	if i < 0 {
		return false
	}
	switch name[len("pcmk_")+i:] {
	case "_action", "_timeout", "_retries":
		return true
	}
	return false
}

// TimeoutMS normalises a timeout specification to milliseconds like
// Pacemaker 2.1.5: a leading decimal number (fraction truncated) with an
// optional unit (ms, us, s, m, h; case-insensitive, matched by prefix;
// seconds by default). Anything unparsable, negative or empty yields
// [DefaultTimeoutMS]. ISO 8601 durations are not accepted for timeouts.
func TimeoutMS(spec string) int64 {
	ms, ok := parseMsec(spec)
	if !ok || ms < 0 || ms > 1<<31-1 {
		return DefaultTimeoutMS
	}
	return ms
}

// parseMsec mirrors crm_get_msec.
func parseMsec(s string) (int64, bool) {
	const ws = " \t\n\r"
	i := 0
	for i < len(s) && strings.IndexByte(ws, s[i]) >= 0 {
		i++
	}
	start := i
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == start {
		return 0, false
	}
	num := s[start:i]
	j := i
	for j < len(s) && strings.IndexByte(ws, s[j]) >= 0 {
		j++
	}
	units := strings.ToLower(s[j:])
	mult, div := int64(1000), int64(1)
	switch {
	case strings.HasPrefix(units, "ms"):
		mult = 1
	case strings.HasPrefix(units, "us"):
		mult, div = 1, 1000
	case strings.HasPrefix(units, "s"):
	case strings.HasPrefix(units, "m"):
		mult = 60 * 1000
	case strings.HasPrefix(units, "h"):
		mult = 3600 * 1000
	case units == "" || units[0] == '\n' || units[0] == '\r':
	default:
		return 0, false
	}
	// strtoll on the number: integer part only.
	k := 0
	for k < len(num) && num[k] >= '0' && num[k] <= '9' {
		k++
	}
	if k == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(num[:k], 10, 64)
	if err != nil {
		return 0, false
	}
	if n > (1<<63-1)/mult {
		return 1<<63 - 1, true
	}
	return n * mult / div, true
}

// CompareVersion compares dotted version strings (feature sets) the way
// Pacemaker does: numerically field by field, missing fields count as
// lower. It returns -1, 0 or 1.
func CompareVersion(a, b string) int {
	if a == b {
		return 0
	}
	fa, fb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(fa) || i < len(fb); i++ {
		if i >= len(fa) {
			return -1
		}
		if i >= len(fb) {
			return 1
		}
		x, _ := strconv.Atoi(fa[i])
		y, _ := strconv.Atoi(fb[i])
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}
