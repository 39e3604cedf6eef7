package heartbeat

import (
	"fmt"
	"strconv"
	"strings"
)

// Scores and meta values of the reference translation policy.
const (
	// PreferredNodeScore is the location score of a group's preferred node.
	PreferredNodeScore = 100
	// StickinessFailback is resource-stickiness for auto_failback on/legacy.
	StickinessFailback = 0
	// StickinessNoFailback is resource-stickiness for auto_failback off:
	// above PreferredNodeScore, finite so "crm resource move" still works.
	StickinessNoFailback = 200
	// drbdPeers is clone-max for drbddisk clones (DRBD 8: two peers).
	drbdPeers = 2
)

// Translate renders hr and cf as crm configure text following the reference
// translation policy (../shared/heartbeat-cases/README.md):
//
//   - node lines from ha.cf;
//   - per haresources line, in file order: its primitives (a "# raw: problem"
//     line before each one that needs a human), the promotable clones of
//     drbddisk resources, "group group_<n>" when two or more resources remain
//     (a single one stays a primitive), colocation and order with the DRBD
//     clones, then "location pref_<target> <target> 100: <node>";
//   - rsc_defaults resource-stickiness (0 for auto_failback on/legacy, 200
//     for off), property stonith-enabled=false unless ha.cf configures
//     STONITH, then flag lines for ha.cf items that need a human.
//
// The output is deterministic. Findings are returned as warnings. ha.cf with
// crm/pacemaker enabled is an error wrapping ErrCRMEnabled.
func Translate(hr *HAResources, cf *HACF) (string, []Warning, error) {
	if cf == nil {
		return "", nil, fmt.Errorf("translate: ha.cf is required (nodes, auto_failback): %w", ErrInvalid)
	}
	if cf.CRMEnabled {
		return "", nil, fmt.Errorf("translate: %w", crmEnabledErr(cf))
	}
	t := translator{hr: hr, cf: cf, ids: map[string]bool{}, nodes: map[string]bool{}}
	return t.run()
}

type translator struct {
	hr    *HAResources
	cf    *HACF
	ids   map[string]bool
	nodes map[string]bool
	out   []string
	warns []Warning
}

func (t *translator) emit(format string, args ...any) {
	t.out = append(t.out, fmt.Sprintf(format, args...))
}

func (t *translator) warn(file string, line int, format string, args ...any) {
	t.warns = append(t.warns, Warning{file, line, fmt.Sprintf(format, args...)})
}

func (t *translator) unique(id string) string {
	if !t.ids[id] {
		t.ids[id] = true
		return id
	}
	for n := 2; ; n++ {
		c := id + "_" + strconv.Itoa(n)
		if !t.ids[c] {
			t.ids[c] = true
			return c
		}
	}
}

func (t *translator) run() (string, []Warning, error) {
	for _, n := range t.cf.Nodes {
		t.nodes[n] = true
		t.ids[n] = true // node names share the id space in the CIB
		t.emit("node %s", n)
	}
	if t.hr != nil {
		for _, g := range t.hr.Groups {
			t.group(g)
		}
	}
	stick := StickinessFailback
	if t.cf.AutoFailback == "off" {
		stick = StickinessNoFailback
	}
	t.emit("rsc_defaults resource-stickiness=%d", stick)
	if len(t.cf.Stonith) == 0 {
		t.emit("property stonith-enabled=false")
	}
	t.hacfFlags()
	if t.hr != nil && len(t.hr.Groups) > 0 {
		t.warn("", 0, "no monitor operations were added (heartbeat v1 monitored nothing); add \"op monitor\" to detect failed services")
	}
	if len(t.cf.Nodes) == 2 {
		t.warn(t.cf.File, 0, "two-node cluster: heartbeat v1 had no quorum for resources; review the no-quorum policy")
	}
	return strings.Join(t.out, "\n") + "\n", t.warns, nil
}

func (t *translator) group(g Group) {
	file := ""
	if t.hr != nil {
		file = t.hr.File
	}
	var members, drbd []string
	for _, r := range g.Resources {
		base := resourceID(r)
		id := t.unique(base)
		if id != base {
			t.warn(file, g.SourceLine, "resource %q: id %s already used, renamed", r.Raw, id)
		}
		if r.Problem != "" {
			t.emit("# %s: %s", r.Raw, r.Problem)
			t.warn(file, g.SourceLine, "%s: %s", r.Raw, r.Problem)
		}
		t.emit("primitive %s %s%s", id, agentOf(r), paramsText(r.Params))
		if r.Class == "drbd" {
			drbd = append(drbd, id)
		} else {
			members = append(members, id)
		}
	}
	for _, d := range drbd {
		t.emit("clone %s %s meta promotable=true promoted-max=1 promoted-node-max=1 clone-max=%d clone-node-max=1 notify=true",
			t.unique("ms_"+d), d, drbdPeers)
		if len(t.cf.Nodes) > drbdPeers {
			t.warn(file, g.SourceLine, "ms_%s: a DRBD 8 resource has two peers; restrict the clone to them with location constraints", d)
		}
	}
	target := ""
	switch {
	case len(members) >= 2:
		target = t.unique("group_" + strconv.Itoa(g.Line))
		t.emit("group %s %s", target, strings.Join(members, " "))
	case len(members) == 1:
		target = members[0]
	}
	if target != "" {
		for _, d := range drbd {
			t.emit("colocation %s inf: %s ms_%s:Promoted", t.unique("col_"+target+"_on_"+d), target, d)
			t.emit("order %s Mandatory: ms_%s:promote %s:start", t.unique("ord_"+d+"_before_"+target), d, target)
		}
	}
	if len(t.nodes) > 0 && !t.nodes[g.Node] {
		t.emit("# %s: preferred node %s is not a node of ha.cf", g.Key, g.Node)
		t.warn(file, g.SourceLine, "preferred node %s is not a node of ha.cf", g.Node)
	}
	if target != "" {
		t.emit("location %s %s %d: %s", t.unique("pref_"+target), target, PreferredNodeScore, g.Node)
		return
	}
	for _, d := range drbd {
		t.emit("location %s ms_%s rule role=Promoted %d: #uname eq %s", t.unique("pref_ms_"+d), d, PreferredNodeScore, g.Node)
	}
	if len(drbd) > 1 {
		t.warn(file, g.SourceLine, "line %d has only drbddisk resources: the clones are not colocated with each other", g.Line)
	}
}

func (t *translator) hacfFlags() {
	for _, d := range t.cf.Stonith {
		what := d.Name + " " + strings.Join(d.Args[:min(2, len(d.Args))], " ")
		t.emit("# %s:%d: %s: heartbeat v1 STONITH device; define a stonith resource by hand (parameters not copied: they may hold passwords)", t.cf.File, d.Line, what)
		t.warn(t.cf.File, d.Line, "%s: v1 STONITH must be redefined as a stonith resource; stonith-enabled stays at its default (true)", what)
	}
	for _, p := range t.cf.Ping {
		what := "ping " + strings.Join(p.Hosts, " ")
		if p.Group != "" {
			what = "ping_group " + p.Group + " " + strings.Join(p.Hosts, " ")
		}
		t.emit("# %s:%d: %s: connectivity check (ipfail); add an ocf:pacemaker:ping clone and location rules by hand", t.cf.File, p.Line, what)
	}
	for _, d := range t.cf.Respawn {
		t.warn(t.cf.File, d.Line, "respawn %s: not migrated (ipfail is replaced by ping resources; run other programs as services)", strings.Join(d.Args, " "))
	}
	if t.cf.Watchdog != "" {
		t.warn(t.cf.File, t.cf.WatchdogLine, "watchdog %s: configure the watchdog/self-fencing of gocrm instead", t.cf.Watchdog)
	}
}

// agentOf returns the crm agent reference of a resource.
func agentOf(r Resource) string {
	switch r.Class {
	case "ocf":
		return "ocf:" + r.Provider + ":" + r.Type
	case "drbd":
		return "ocf:linbit:drbd"
	default:
		return r.Class + ":" + r.Type
	}
}

func paramsText(ps []Param) string {
	if len(ps) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(" params")
	for _, p := range ps {
		b.WriteByte(' ')
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(quoteValue(p.Value))
	}
	return b.String()
}

// quoteValue double-quotes values crm would otherwise split or misread.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\"'\\#") {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(v) + `"`
}

// resourceID implements the id policy: IPaddr_a_b_c_d (script + address),
// Filesystem_<mountpoint>, <script>[_<arg1>].
func resourceID(r Resource) string {
	part := ""
	switch {
	case r.Script == "IPaddr" || r.Script == "IPaddr2" || r.Script == "IPv6addr":
		if v, ok := r.Param("ip"); ok {
			part = v
		} else if v, ok := r.Param("ipv6addr"); ok {
			part = v
		}
	case r.Script == "Filesystem":
		if v, ok := r.Param("directory"); ok {
			part = v
		} else if len(r.Args) > 0 {
			part = r.Args[0]
		}
	case len(r.Args) > 0:
		part = r.Args[0]
	}
	id := sanitizeID(r.Script)
	if s := sanitizeID(part); s != "" {
		id += "_" + s
	}
	return baseID(id)
}

// baseID makes s a valid XML id (must start with a letter or "_").
func baseID(s string) string {
	if s == "" {
		return "rsc"
	}
	if c := s[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
		return "rsc_" + s
	}
	return s
}

// sanitizeID replaces every run of characters outside [A-Za-z0-9_-] with a
// single "_" and trims "_" at both ends.
func sanitizeID(s string) string {
	var b strings.Builder
	lastRepl := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			lastRepl = false
			continue
		}
		if !lastRepl {
			b.WriteByte('_')
			lastRepl = true
		}
	}
	return strings.Trim(b.String(), "_")
}
