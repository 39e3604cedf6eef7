package crmsyntax

import (
	"path"
	"sort"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

// Dialect selects the spelling Show writes.
type Dialect int

const (
	// Classic is crmsh 4.4.1's output: everything as stored (ms, Master/Slave).
	Classic Dialect = iota
	// Current is crmsh 5.x style: promotable clones instead of ms, roles
	// Promoted/Unpromoted, fencing-enabled instead of stonith-enabled.
	Current
)

// ShowOptions tunes Show.
type ShowOptions struct {
	Dialect Dialect
	// Obscure lists glob patterns of parameter names whose values print as
	// "******"; nil means crmsh's default {"passw*"}.
	Obscure []string
	// NoObscure prints every value in clear (for editing round trips).
	NoObscure bool
	// NoComments drops the comments a Session remembers ("crm -f" does).
	NoComments bool
	// IDs, when not empty, limits the output to these objects (like
	// "crm configure show <id> ..."); fencing_topology has the id
	// "fencing_topology", attribute sets their set id.
	IDs []string
}

// Show prints cfg the way "crm configure show" (crmsh 4.4.1) does. It only
// reads cfg; concurrent Show calls on an unshared or immutable cfg are safe.
func Show(cfg *cib.Configuration) string { return ShowWith(cfg, ShowOptions{}) }

// ShowWith is Show with options.
func ShowWith(cfg *cib.Configuration, opts ShowOptions) string {
	w := &shower{cfg: cfg, opts: opts}
	return w.all()
}

// Show prints the session's configuration. Unlike the package-level Show it
// reproduces the order in which op attributes and attribute sets were typed.
func (s *Session) Show(opts ShowOptions) string {
	w := &shower{cfg: s.cfg, opts: opts, opOrder: s.opOrder, setOrder: s.setOrder, opsRef: s.opsRef,
		rulesAfterPairs: s.rulesAfterPairs, comments: s.comments}
	return w.all()
}

type shower struct {
	cfg      *cib.Configuration
	opts     ShowOptions
	opOrder  map[*cib.Op][]string
	setOrder map[*cib.Resource][]*cib.NVSet
	opsRef   map[*cib.Resource]string
	// rulesAfterPairs: sets shown as XML (see Session)
	rulesAfterPairs map[*cib.NVSet]bool
	comments        map[string][]string
}

// object is one shown object: a head line and continuation lines.
type object struct {
	key      string // "<kind> <id>", to find comments
	head     string
	conts    []string
	comments []string
}

// id is the object's id, taken from its key.
func (o object) id() string {
	f := strings.Fields(o.key)
	if len(f) >= 2 {
		return f[1]
	}
	return o.key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (o object) String() string {
	var b strings.Builder
	for _, c := range o.comments {
		b.WriteString(c)
		b.WriteByte('\n')
	}
	b.WriteString(o.head)
	for _, c := range o.conts {
		b.WriteString(" \\\n\t")
		b.WriteString(c)
	}
	return b.String()
}

func sortByID[T any](list []T, id func(T) string) []T {
	out := append([]T(nil), list...)
	sort.SliceStable(out, func(i, j int) bool { return id(out[i]) < id(out[j]) })
	return out
}

func (w *shower) all() string {
	var objs []object
	cfg := w.cfg
	for _, n := range sortByID(cfg.Nodes, func(n *cib.Node) string { return n.ID }) {
		objs = append(objs, w.node(n))
	}
	for _, t := range sortByID(cfg.Templates, func(r *cib.Resource) string { return r.ID }) {
		objs = append(objs, w.primitive(t))
	}
	res := allResources(&cib.Configuration{Resources: cfg.Resources})
	byKind := func(kinds ...string) []*cib.Resource {
		var out []*cib.Resource
		for _, r := range res {
			for _, k := range kinds {
				if r.Kind == k {
					out = append(out, r)
				}
			}
		}
		return sortByID(out, func(r *cib.Resource) string { return r.ID })
	}
	for _, r := range byKind(cib.KindPrimitive) {
		objs = append(objs, w.primitive(r))
	}
	for _, r := range byKind(cib.KindGroup) {
		objs = append(objs, w.container(r))
	}
	if w.opts.Dialect == Current {
		for _, r := range byKind(cib.KindClone, cib.KindMaster) {
			objs = append(objs, w.container(r))
		}
	} else {
		for _, r := range byKind(cib.KindMaster) {
			objs = append(objs, w.container(r))
		}
		for _, r := range byKind(cib.KindClone) {
			objs = append(objs, w.container(r))
		}
	}
	for _, r := range byKind(cib.KindBundle) {
		// bundles are kept as raw XML by the model
		objs = append(objs, xmlObject(r.Element()))
	}
	for _, t := range sortByID(cfg.Tags, func(t *cib.Tag) string { return t.ID }) {
		objs = append(objs, object{head: "tag " + t.ID + " " + strings.Join(t.Refs, " ")})
	}
	var tickets []*cib.Element
	for _, c := range sortByID(cfg.Constraints, func(c cib.Constraint) string { return c.ConstraintID() }) {
		if el, ok := isTicket(c); ok {
			tickets = append(tickets, el)
			continue
		}
		if o, ok := w.constraint(c); ok {
			objs = append(objs, o)
		}
	}
	if cfg.HasFencingTopology || len(cfg.Fencing) > 0 {
		objs = append(objs, w.fencing())
	}
	for _, el := range tickets {
		objs = append(objs, w.ticket(el))
	}
	for _, s := range sortByID(cfg.CRMConfig, func(s *cib.NVSet) string { return s.ID }) {
		objs = append(objs, w.propertySet("property", s))
	}
	for _, s := range sortByID(cfg.RscDefaults, func(s *cib.NVSet) string { return s.ID }) {
		objs = append(objs, w.propertySet("rsc_defaults", s))
	}
	for _, s := range sortByID(cfg.OpDefaults, func(s *cib.NVSet) string { return s.ID }) {
		objs = append(objs, w.propertySet("op_defaults", s))
	}
	// sections the model keeps raw (acls, alerts): shown as XML
	for _, el := range cfg.Other {
		if len(el.Children) > 0 {
			objs = append(objs, xmlObject(el))
		}
	}
	var b strings.Builder
	for _, o := range objs {
		if o.key == "" {
			o.key, _, _ = strings.Cut(o.head, ":")
			if f := strings.Fields(o.key); len(f) >= 2 {
				o.key = f[0] + " " + f[1]
			}
		}
		if len(w.opts.IDs) > 0 && !contains(w.opts.IDs, o.id()) {
			continue
		}
		if !w.opts.NoComments {
			o.comments = w.comments[o.key]
		}
		b.WriteString(o.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// quote renders a value as crmsh does: bare when it only holds letters,
// digits, '.', '-' and '_', double-quoted otherwise.
func quote(v string) string {
	if v == "" {
		return `""`
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return quoteAlways(v)
		}
	}
	return v
}

// quoteAlways double-quotes v. A quote is escaped; a backslash only where
// the lexer would otherwise read it as an escape (before '"', '\\' or at
// the end), so that ordinary backslashes print as crmsh prints them.
func quoteAlways(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\' && (i+1 == len(v) || v[i+1] == '"' || v[i+1] == '\\'):
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (w *shower) obscured(name string) bool {
	if w.opts.NoObscure {
		return false
	}
	pats := w.opts.Obscure
	if pats == nil {
		pats = []string{"passw*"}
	}
	for _, p := range pats {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// currentNames maps classic attribute names to the current spelling.
var currentNames = map[string]string{
	"stonith-enabled": "fencing-enabled",
	"master-max":      "promoted-max",
	"master-node-max": "promoted-node-max",
}

func (w *shower) role(r string) string {
	if w.opts.Dialect == Current {
		if n, ok := normRole(r); ok {
			r = n
		}
		switch r {
		case "Master":
			return "Promoted"
		case "Slave":
			return "Unpromoted"
		}
	}
	return r
}

func showScore(s string) string {
	switch s {
	case "INFINITY":
		return "inf"
	case "+INFINITY":
		return "+inf"
	case "-INFINITY":
		return "-inf"
	}
	return s
}

// nvset renders "[$id-ref=x] [score: ] {rule ...} name=value ...".
func (w *shower) nvset(s *cib.NVSet, property bool) string {
	var parts []string
	if s.IDRef != "" {
		parts = append(parts, "$id-ref="+s.IDRef)
	}
	if s.Score != "" {
		parts = append(parts, showScore(s.Score)+":")
	}
	for _, r := range s.Rules {
		parts = append(parts, w.rule(r))
	}
	parts = append(parts, w.pairs(s.Pairs, property)...)
	return strings.Join(parts, " ")
}

func (w *shower) pairs(pairs []*cib.NVPair, property bool) []string {
	var out []string
	for _, p := range pairs {
		switch {
		case p.IDRef != "" && p.Name != "":
			out = append(out, "@"+p.IDRef+":"+p.Name)
		case p.IDRef != "":
			out = append(out, "@"+p.IDRef)
		default:
			name := p.Name
			if w.opts.Dialect == Current {
				if n, ok := currentNames[name]; ok && (property || name != "stonith-enabled") {
					name = n
				}
			}
			if !p.HasValue && p.Value == "" {
				// A bare name spelled like a section keyword (meta,
				// params, op, ...) is quoted, or it would start a section.
				if attrSectionKeyword(name) {
					name = quoteAlways(name)
				}
				out = append(out, name)
				continue
			}
			v := quote(p.Value)
			if w.obscured(p.Name) {
				v = `"******"`
			}
			out = append(out, name+"="+v)
		}
	}
	return out
}

func (w *shower) rule(r *cib.Rule) string {
	if r.IDRef != "" {
		return "rule $id-ref=" + r.IDRef
	}
	parts := []string{"rule"}
	if r.Role != "" {
		parts = append(parts, "$role="+w.role(r.Role))
	}
	switch {
	case r.ScoreAttribute != "":
		parts = append(parts, r.ScoreAttribute+":")
	case r.Score != "" && r.Score != "INFINITY":
		parts = append(parts, showScore(r.Score)+":")
	}
	parts = append(parts, w.exprs(r))
	return strings.Join(parts, " ")
}

func (w *shower) exprs(r *cib.Rule) string {
	op := " and "
	if r.BooleanOp == "or" {
		op = " or "
	}
	var es []string
	for _, x := range r.Exprs {
		switch e := x.(type) {
		case *cib.Expression:
			if e.Operation == "defined" || e.Operation == "not_defined" {
				es = append(es, e.Operation+" "+e.Attribute)
				continue
			}
			o := e.Operation
			// crmsh 4.4.1 leaves out "string:" where it cannot matter
			if e.Type != "" && !(e.Type == "string" && (o == "eq" || o == "ne")) {
				o = e.Type + ":" + o
			}
			es = append(es, e.Attribute+" "+o+" "+quote(e.Value))
		case *cib.DateExpression:
			es = append(es, dateExpr(e))
		case *cib.Rule:
			es = append(es, "( "+w.exprs(e)+" )")
		case *cib.RscExpression:
			agent := e.Class
			if e.Provider != "" {
				agent += ":" + e.Provider
			}
			es = append(es, "rsc "+agent+":"+e.Type)
		case *cib.OpExpression:
			es = append(es, "op "+e.Name+" "+e.Interval)
		}
	}
	return strings.Join(es, op)
}

func dateExpr(e *cib.DateExpression) string {
	fields := func(d *cib.DateSpec) string {
		if d == nil {
			return ""
		}
		var s []string
		for _, f := range d.Fields {
			s = append(s, f.Name+"="+quote(f.Value))
		}
		return strings.Join(s, " ")
	}
	switch e.Operation {
	case "gt":
		return "date gt " + quote(e.Start)
	case "lt":
		return "date lt " + quote(e.End)
	case "date_spec":
		return "date spec " + fields(e.DateSpec)
	}
	s := "date in"
	if e.Start != "" {
		s += " start=" + quote(e.Start)
	}
	if e.End != "" {
		s += " end=" + quote(e.End)
	}
	if d := fields(e.Duration); d != "" {
		s += " " + d
	}
	return s
}

func (w *shower) node(n *cib.Node) object {
	head := "node "
	if n.ID != "" && n.ID != n.Uname {
		head += n.ID + ": "
	}
	head += n.Uname
	if n.Type != "" {
		head += ":" + n.Type
	}
	o := object{head: head, key: "node " + n.ID}
	if n.Description != "" {
		o.conts = append(o.conts, "description="+quote(n.Description))
	}
	for _, s := range n.Instance {
		o.conts = append(o.conts, strings.TrimRight("attributes "+w.nvset(s, false), " "))
	}
	for _, s := range n.Utilization {
		o.conts = append(o.conts, strings.TrimRight("utilization "+w.nvset(s, false), " "))
	}
	return o
}

func agentString(r *cib.Resource) string {
	switch {
	case r.Template != "":
		return "@" + r.Template
	case r.Class == "ocf" && r.Provider == "heartbeat":
		return r.Type
	case r.Provider != "":
		return r.Class + ":" + r.Provider + ":" + r.Type
	}
	return r.Class + ":" + r.Type
}

// sets returns a resource's attribute sets in display order.
func (w *shower) sets(r *cib.Resource) []*cib.NVSet {
	all := append(append(append([]*cib.NVSet(nil), r.Instance...), r.Meta...), r.Utilization...)
	if order, ok := w.setOrder[r]; ok && len(order) == len(all) {
		seen := map[*cib.NVSet]bool{}
		for _, s := range all {
			seen[s] = true
		}
		good := true
		for _, s := range order {
			if !seen[s] {
				good = false
			}
		}
		if good {
			return order
		}
	}
	return all
}

func setKeyword(s *cib.NVSet) string {
	switch s.Kind {
	case "instance_attributes":
		return "params"
	case "meta_attributes":
		return "meta"
	}
	return s.Kind
}

func (w *shower) setLines(r *cib.Resource, extraMeta string) []string {
	var out []string
	added := extraMeta == ""
	for _, s := range w.sets(r) {
		body := w.nvset(s, false)
		if !added && s.Kind == "meta_attributes" && s.IDRef == "" {
			if !hasPair(s, "promotable") {
				body = strings.TrimSpace(body + " " + extraMeta)
			}
			added = true
		}
		out = append(out, strings.TrimRight(setKeyword(s)+" "+body, " "))
	}
	if !added {
		out = append(out, "meta "+extraMeta)
	}
	return out
}

func hasPair(s *cib.NVSet, name string) bool {
	for _, p := range s.Pairs {
		if p.Name == name {
			return true
		}
	}
	return false
}

func (w *shower) primitive(r *cib.Resource) object {
	word := "primitive"
	if r.Kind == cib.KindTemplate {
		word = "rsc_template"
	}
	o := object{head: word + " " + r.ID + " " + agentString(r)}
	if r.Description != "" {
		o.conts = append(o.conts, "description="+quote(r.Description))
	}
	o.conts = append(o.conts, w.setLines(r, "")...)
	if ref := w.opsRef[r]; ref != "" {
		o.conts = append(o.conts, "operations $id-ref="+ref)
	} else if r.OpsID != "" {
		o.conts = append(o.conts, "operations $id="+r.OpsID)
	}
	for _, op := range r.Ops {
		o.conts = append(o.conts, w.op(op))
		for _, s := range op.Instance {
			o.conts = append(o.conts, strings.TrimRight("op_params "+w.nvset(s, false), " "))
		}
		for _, s := range op.Meta {
			o.conts = append(o.conts, strings.TrimRight("op_meta "+w.nvset(s, false), " "))
		}
	}
	return o
}

func opField(op *cib.Op, name string) string {
	switch name {
	case "interval":
		return op.Interval
	case "timeout":
		return op.Timeout
	case "role":
		return op.Role
	case "on-fail":
		return op.OnFail
	case "start-delay":
		return op.StartDelay
	case "interval-origin":
		return op.IntervalOrigin
	case "record-pending":
		return op.RecordPending
	case "enabled":
		return op.Enabled
	case "description":
		return op.Description
	case "requires":
		return op.Requires
	}
	return ""
}

var defaultOpOrder = []string{"role", "timeout", "start-delay", "interval-origin", "on-fail", "enabled", "record-pending", "requires", "description"}

func (w *shower) op(op *cib.Op) string {
	if op.IDRef != "" {
		return "op " + op.Name + " $id-ref=" + op.IDRef
	}
	var names []string
	if order, ok := w.opOrder[op]; ok {
		names = order
	} else {
		zero := op.Interval == "0" || op.Interval == "0s"
		if op.Interval != "" && !zero {
			names = append(names, "interval")
		}
		names = append(names, defaultOpOrder...)
		if zero {
			names = append(names, "interval")
		}
	}
	parts := []string{"op", op.Name}
	seen := map[string]bool{}
	for _, n := range names {
		v := opField(op, n)
		if v == "" || seen[n] {
			continue
		}
		seen[n] = true
		if n == "role" {
			v = w.role(v)
		}
		parts = append(parts, n+"="+quote(v))
	}
	for _, a := range op.Extra {
		parts = append(parts, a.Name+"="+quote(a.Value))
	}
	return strings.Join(parts, " ")
}

func (w *shower) container(r *cib.Resource) object {
	// crmsh cannot print a clone without its child (nor an empty group
	// without attributes) in its language and falls back to XML
	if len(r.Children) == 0 && (r.Kind != cib.KindGroup || len(w.sets(r)) == 0 && r.Description == "") {
		return xmlObject(r.Element())
	}
	word := kindName(r.Kind)
	extra := ""
	if r.Kind == cib.KindMaster && w.opts.Dialect == Current {
		word, extra = "clone", "promotable=true"
	}
	head := word + " " + r.ID
	for _, c := range r.Children {
		head += " " + c.ID
	}
	o := object{head: head}
	if r.Description != "" {
		o.conts = append(o.conts, "description="+quote(r.Description))
	}
	o.conts = append(o.conts, w.setLines(r, extra)...)
	return o
}

// setsText renders resource sets; suffix picks role or action.
func (w *shower) setsText(sets []*cib.ResourceSet, action bool) string {
	var parts []string
	for _, rs := range sets {
		suffix := rs.Role
		if action {
			suffix = rs.Action
		} else {
			suffix = w.role(suffix)
		}
		var items []string
		for _, ref := range rs.Refs {
			if suffix != "" {
				ref += ":" + suffix
			}
			items = append(items, ref)
		}
		body := strings.Join(items, " ")
		switch {
		case rs.RequireAll == "false":
			if rs.Sequential == "" {
				body += " sequential=true"
			} else if rs.Sequential != "false" {
				body += " sequential=" + rs.Sequential
			}
			parts = append(parts, "[ "+body+" ]")
		case rs.Sequential == "false":
			parts = append(parts, "( "+body+" )")
		default:
			parts = append(parts, body)
		}
	}
	return strings.Join(parts, " ")
}

func withSuffix(id, suffix string) string {
	if suffix == "" {
		return id
	}
	return id + ":" + suffix
}

// ambiguousSets reports adjacent plain sets with the same role/action,
// which the crm language cannot tell apart (crmsh shows such constraints
// as XML).
func ambiguousSets(sets []*cib.ResourceSet) bool {
	plain := func(rs *cib.ResourceSet) bool { return rs.RequireAll != "false" && rs.Sequential != "false" }
	for i := 1; i < len(sets); i++ {
		a, b := sets[i-1], sets[i]
		if plain(a) && plain(b) && a.Role == b.Role && a.Action == b.Action {
			return true
		}
	}
	return false
}

func constraintSets(c cib.Constraint) []*cib.ResourceSet {
	switch x := c.(type) {
	case *cib.Location:
		return x.Sets
	case *cib.Colocation:
		return x.Sets
	case *cib.Order:
		return x.Sets
	}
	return nil
}

func (w *shower) constraint(c cib.Constraint) (object, bool) {
	if ambiguousSets(constraintSets(c)) {
		o := xmlObject(cib.ConstraintElement(c))
		o.key = constraintKind(c) + " " + c.ConstraintID()
		return o, true
	}
	switch x := c.(type) {
	case *cib.Location:
		head := "location " + x.ID + " "
		switch {
		case x.RscPattern != "":
			head += "/" + x.RscPattern + "/"
		case len(x.Sets) > 0:
			head += "{ " + w.setsText(x.Sets, false) + " }"
		default:
			head += x.Rsc
		}
		if x.Role != "" {
			head += " role=" + w.role(x.Role)
		}
		if x.ResourceDiscovery != "" {
			head += " resource-discovery=" + quote(x.ResourceDiscovery)
		}
		o := object{head: head}
		if len(x.Rules) > 0 {
			for _, r := range x.Rules {
				o.conts = append(o.conts, w.rule(r))
			}
		} else {
			o.head += " " + showScore(x.Score) + ": " + x.Node
		}
		return o, true
	case *cib.Colocation:
		head := "colocation " + x.ID + " " + showScore(x.Score) + ": "
		if len(x.Sets) > 0 {
			head += w.setsText(x.Sets, false)
		} else {
			head += withSuffix(x.Rsc, w.role(x.RscRole)) + " " + withSuffix(x.WithRsc, w.role(x.WithRscRole))
		}
		if x.NodeAttribute != "" {
			head += " node-attribute=" + quote(x.NodeAttribute)
		}
		return object{head: head}, true
	case *cib.Order:
		head := "order " + x.ID + " "
		switch {
		case x.Kind != "":
			head += x.Kind + ": "
		case x.Score != "":
			head += showScore(x.Score) + ": "
		}
		if len(x.Sets) > 0 {
			head += w.setsText(x.Sets, true)
		} else {
			head += withSuffix(x.First, x.FirstAction) + " " + withSuffix(x.Then, x.ThenAction)
		}
		if x.Symmetrical != "" {
			head += " symmetrical=" + quote(x.Symmetrical)
		}
		return object{head: head}, true
	case *cib.RawConstraint:
		// constraints the model keeps raw (rsc_ticket)
		return xmlObject(x.El), true
	}
	return object{}, false
}

func (w *shower) fencing() object {
	o := object{head: "fencing_topology", key: "fencing_topology"}
	type tgt struct {
		key  string
		devs []string
	}
	var order []*tgt
	byKey := map[string]*tgt{}
	allNodes := true
	for _, l := range w.cfg.Fencing {
		key := ""
		switch {
		case l.Target != "":
			key = l.Target + ":"
		case l.TargetPattern != "":
			key, allNodes = "pattern:"+l.TargetPattern, false
		default:
			key, allNodes = "attr:"+l.TargetAttribute+"="+l.TargetValue, false
		}
		t := byKey[key]
		if t == nil {
			t = &tgt{key: key}
			byKey[key] = t
			order = append(order, t)
		}
		t.devs = append(t.devs, l.Devices)
	}
	// the node-less form: every configured node, and only those, with the
	// same levels
	if allNodes && len(order) > 0 && len(order) == len(w.cfg.Nodes) {
		same := true
		first := strings.Join(order[0].devs, " ")
		for _, n := range w.cfg.Nodes {
			t := byKey[n.Uname+":"]
			if t == nil || strings.Join(t.devs, " ") != first {
				same = false
			}
		}
		if same {
			o.head += " " + first
			return o
		}
	}
	for _, t := range order {
		o.conts = append(o.conts, t.key+" "+strings.Join(t.devs, " "))
	}
	return o
}

func (w *shower) propertySet(word string, s *cib.NVSet) object {
	if w.rulesAfterPairs[s] {
		el := s.Element()
		var kids []*cib.Element
		for _, c := range el.Children {
			if c.Name == "nvpair" {
				kids = append(kids, c)
			}
		}
		for _, c := range el.Children {
			if c.Name != "nvpair" {
				kids = append(kids, c)
			}
		}
		el.Children = kids
		return xmlObject(el)
	}
	o := object{head: word + " " + s.ID + ":"}
	if s.Score != "" {
		o.conts = append(o.conts, showScore(s.Score)+":")
	}
	for _, r := range s.Rules {
		o.conts = append(o.conts, w.rule(r))
	}
	o.conts = append(o.conts, w.pairs(s.Pairs, true)...)
	return o
}

// xmlObject renders an element as crmsh's "xml <...>" fallback: one element
// per line, two-space indentation, generated ids after the other attributes.
func xmlObject(el *cib.Element) object {
	var lines []string
	var walk func(e *cib.Element, depth int)
	walk = func(e *cib.Element, depth int) {
		var b strings.Builder
		b.WriteString(strings.Repeat("  ", depth) + "<" + e.Name)
		attrs := e.Attrs
		if depth > 0 {
			var id []cib.Attr
			var rest []cib.Attr
			for _, a := range attrs {
				if a.Name == "id" {
					id = append(id, a)
				} else {
					rest = append(rest, a)
				}
			}
			attrs = append(rest, id...)
		}
		for _, a := range attrs {
			b.WriteString(" " + a.Name + "=\"" + xmlEscape(a.Value) + "\"")
		}
		if len(e.Children) == 0 {
			b.WriteString("/>")
			lines = append(lines, b.String())
			return
		}
		b.WriteString(">")
		lines = append(lines, b.String())
		for _, c := range e.Children {
			walk(c, depth+1)
		}
		lines = append(lines, strings.Repeat("  ", depth)+"</"+e.Name+">")
	}
	walk(el, 0)
	return object{head: "xml " + strings.Join(lines, " \\\n"), key: kindName(el.Name) + " " + el.Get("id")}
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// attrSectionKeyword reports whether a bare word in an attribute list
// would be read as a keyword that starts another section.
func attrSectionKeyword(w string) bool {
	switch strings.ToLower(w) {
	case "params", "meta", "utilization", "op", "rule", "attributes", "description", "op_params", "op_meta":
		return true
	}
	return false
}
