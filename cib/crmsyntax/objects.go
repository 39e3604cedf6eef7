package crmsyntax

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

// ---- lookup helpers ----

// findResource returns the resource (or template) with id at any depth and
// its parent container (nil at top level).
func (s *Session) findResource(id string) (*cib.Resource, *cib.Resource) {
	var walk func(list []*cib.Resource, parent *cib.Resource) (*cib.Resource, *cib.Resource)
	walk = func(list []*cib.Resource, parent *cib.Resource) (*cib.Resource, *cib.Resource) {
		for _, r := range list {
			if r.ID == id {
				return r, parent
			}
			if f, p := walk(r.Children, r); f != nil {
				return f, p
			}
		}
		return nil, nil
	}
	if r, p := walk(s.cfg.Resources, nil); r != nil {
		return r, p
	}
	return walk(s.cfg.Templates, nil)
}

// kindName is the crm word for a resource kind.
func kindName(k string) string {
	switch k {
	case cib.KindMaster:
		return "ms"
	case cib.KindTemplate:
		return "rsc_template"
	}
	return k
}

func constraintKind(c cib.Constraint) string {
	switch c.(type) {
	case *cib.Location:
		return "location"
	case *cib.Colocation:
		return "colocation"
	case *cib.Order:
		return "order"
	}
	return "constraint"
}

// objectKind names the kind of the configuration object with id, or "".
func (s *Session) objectKind(id string) string {
	if r, _ := s.findResource(id); r != nil {
		return kindName(r.Kind)
	}
	for _, c := range s.cfg.Constraints {
		if c.ConstraintID() == id {
			return constraintKind(c)
		}
	}
	for _, t := range s.cfg.Tags {
		if t.ID == id {
			return "tag"
		}
	}
	for _, n := range s.cfg.Nodes {
		if n.ID == id {
			return "node"
		}
	}
	return ""
}

// checkNewID refuses an object id that is already in use.
func (p *parser) checkNewID(tok *token, kind string) error {
	id := tok.Text
	if err := validID(id); err != "" {
		return p.errf(tok, ErrSyntax, "%s: invalid id %q: %s", kind, id, err)
	}
	if k := p.s.objectKind(id); k != "" {
		return p.errf(tok, ErrDuplicateID, "Cannot create %s with ID '%s': Found existing %s with same ID.", kind, id, k)
	}
	if p.s.ids[id] {
		return p.errf(tok, ErrDuplicateID, "Cannot create %s with ID '%s': the id is already in use", kind, id)
	}
	return nil
}

// validID checks the XML ID syntax (NCName-like) loosely, as crmsh does.
func validID(id string) string {
	if id == "" {
		return "empty"
	}
	c := id[0]
	if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80) {
		return "must start with a letter, digit or underscore"
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || strings.ContainsRune("\"'<>&:=@$/(){}[]#,;\\", rune(c)) {
			return fmt.Sprintf("character %q not allowed", c)
		}
	}
	return ""
}

// validName checks a name that show prints bare (agent parts, attribute
// and operation names, fencing devices).
func validName(s string) bool {
	if s == "" || s[0] == '$' || s[0] == '@' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '"' || c == '\'' || c == '\\' || c == 0x7f {
			return false
		}
	}
	return true
}

// ---- scores and roles ----

// normScore turns a crm score into XML form. ok is false when s is not a
// number or an infinity (then it may be a node attribute name).
func normScore(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity", "+infinity":
		return "INFINITY", true
	case "-inf", "-infinity":
		return "-INFINITY", true
	}
	if _, err := strconv.Atoi(s); err == nil {
		return s, true
	}
	return s, false
}

var roleNames = map[string]string{
	"started": "Started", "stopped": "Stopped", "master": "Master", "slave": "Slave",
	"promoted": "Promoted", "unpromoted": "Unpromoted",
}

func normRole(r string) (string, bool) {
	v, ok := roleNames[strings.ToLower(r)]
	return v, ok
}

var orderActions = map[string]bool{"start": true, "stop": true, "promote": true, "demote": true}

// scoreToken reports whether t is "<x>:" (a score or set-name prefix).
func scoreToken(t *token) (string, bool) {
	if t == nil || t.Quoted || len(t.Text) < 2 || !strings.HasSuffix(t.Text, ":") {
		return "", false
	}
	v := t.Text[:len(t.Text)-1]
	if strings.ContainsAny(v, "=:") {
		return "", false
	}
	return v, true
}

// ---- attribute lists and rules ----

type stopSet map[string]bool

func (st stopSet) has(t *token) bool {
	if t == nil {
		return true
	}
	if t.Quoted || strings.Contains(t.Text, "=") {
		return false
	}
	return st[strings.ToLower(t.Text)]
}

var (
	primitiveStops = stopSet{"params": true, "meta": true, "utilization": true, "op": true, "operations": true, "op_params": true, "op_meta": true}
	containerStops = stopSet{"params": true, "meta": true, "utilization": true}
	nodeStops      = stopSet{"attributes": true, "utilization": true}
)

// attrList parses [$id=<id> | $id-ref=<id>] [<score>:] {rule} {name=value}
// into an nvset of the given element kind; defID is the generated id.
func (p *parser) attrList(kind, defID string, stops stopSet) (*cib.NVSet, error) {
	set := &cib.NVSet{Kind: kind, Line: p.st.Line}
	if t := p.peek(); t != nil && strings.HasPrefix(t.Text, "$id=") {
		set.ID = strings.TrimPrefix(t.Text, "$id=")
		if p.s.ids[set.ID] {
			return nil, p.errf(t, ErrDuplicateID, "id %s is already in use", set.ID)
		}
		p.s.ids[set.ID] = true
		p.i++
	} else if t != nil && strings.HasPrefix(t.Text, "$id-ref=") {
		set.IDRef = strings.TrimPrefix(t.Text, "$id-ref=")
		p.i++
		return set, nil
	}
	if set.ID == "" {
		set.ID = p.s.newID(defID)
	}
	if v, ok := scoreToken(p.peek()); ok {
		if sc, isNum := normScore(v); isNum {
			set.Score = sc
			p.i++
		}
	}
	for !p.done() {
		t := p.peek()
		if stops.has(t) {
			break
		}
		low := strings.ToLower(t.Text)
		switch {
		case !t.Quoted && low == "rule":
			r, err := p.rule(set.ID + "-rule")
			if err != nil {
				return nil, err
			}
			set.Rules = append(set.Rules, r)
		case strings.HasPrefix(t.Text, "@"):
			ref, name, hasName := strings.Cut(t.Text[1:], ":")
			if validID(ref) != "" || hasName && !validName(name) {
				return nil, p.errf(t, ErrSyntax, "empty reference %q", t.Text)
			}
			set.Pairs = append(set.Pairs, &cib.NVPair{IDRef: ref, Name: name})
			p.i++
		case strings.HasPrefix(t.Text, "$") && strings.Contains(t.Text, ":") && strings.Contains(t.Text, "="):
			pid, rest, _ := strings.Cut(t.Text[1:], ":")
			name, val, _ := cut(rest)
			if validID(pid) != "" || !validName(name) {
				return nil, p.errf(t, ErrSyntax, "bad attribute %q", t.Text)
			}
			if p.s.ids[pid] {
				return nil, p.errf(t, ErrDuplicateID, "id %s is already in use", pid)
			}
			p.s.ids[pid] = true
			set.Pairs = append(set.Pairs, &cib.NVPair{ID: pid, Name: name, Value: val, HasValue: true})
			p.i++
		default:
			name, val, ok := cut(t.Text)
			if !ok || !validName(name) || strings.HasPrefix(name, "$") || strings.HasPrefix(name, "@") {
				return nil, p.errf(t, ErrSyntax, "Unknown arguments: %s", t.Text)
			}
			set.Pairs = append(set.Pairs, &cib.NVPair{ID: p.s.newID(set.ID + "-" + name), Name: name, Value: val, HasValue: true})
			p.i++
		}
	}
	return set, nil
}

var dateSpecFields = map[string]bool{"hours": true, "monthdays": true, "weekdays": true, "yeardays": true, "months": true,
	"weeks": true, "years": true, "weekyears": true, "moon": true, "minutes": true, "seconds": true}

var exprOps = map[string]bool{"lt": true, "gt": true, "lte": true, "gte": true, "eq": true, "ne": true}
var exprTypes = map[string]bool{"string": true, "integer": true, "number": true, "version": true}

// rule parses "rule [$id=..|$id-ref=..] [$role=..] [score:] expression".
func (p *parser) rule(defID string) (*cib.Rule, error) {
	p.i++ // "rule"
	r := &cib.Rule{}
	for !p.done() {
		t := p.peek()
		switch {
		case strings.HasPrefix(t.Text, "$id="):
			r.ID = strings.TrimPrefix(t.Text, "$id=")
			if p.s.ids[r.ID] {
				return nil, p.errf(t, ErrDuplicateID, "id %s is already in use", r.ID)
			}
			p.s.ids[r.ID] = true
		case strings.HasPrefix(t.Text, "$id-ref="):
			r.IDRef = strings.TrimPrefix(t.Text, "$id-ref=")
		case strings.HasPrefix(t.Text, "$role=") || strings.HasPrefix(strings.ToLower(t.Text), "role="):
			_, v, _ := cut(t.Text)
			role, ok := normRole(v)
			if !ok {
				return nil, p.errf(t, ErrSyntax, "Invalid role %s", v)
			}
			r.Role = role
		default:
			if v, ok := scoreToken(t); ok && r.Score == "" && r.ScoreAttribute == "" {
				if sc, isNum := normScore(v); isNum {
					r.Score = sc
				} else if validName(v) {
					r.ScoreAttribute = v
				} else {
					return nil, p.errf(t, ErrSyntax, "bad score %q", v)
				}
				p.i++
			}
			goto exprs
		}
		p.i++
	}
exprs:
	if r.IDRef != "" {
		return r, nil
	}
	if r.ID == "" {
		r.ID = p.s.newID(defID)
	}
	if r.Score == "" && r.ScoreAttribute == "" {
		r.Score = "INFINITY"
	}
	boolop := ""
	for {
		e, err := p.expression(r.ID + "-expression")
		if err != nil {
			return nil, err
		}
		r.Exprs = append(r.Exprs, e)
		nt := p.peekLower()
		if nt != "and" && nt != "or" {
			break
		}
		if boolop != "" && nt != boolop {
			return nil, p.errf(p.peek(), ErrSyntax, "Mixing bool ops not allowed: %s != %s", boolop, nt)
		}
		boolop = nt
		p.i++
	}
	if boolop == "or" {
		r.BooleanOp = "or"
	}
	return r, nil
}

func (p *parser) expression(defID string) (any, error) {
	t := p.next()
	if t == nil {
		return nil, p.errEnd("expected a rule expression")
	}
	low := strings.ToLower(t.Text)
	if !t.Quoted {
		switch low {
		case "defined", "not_defined":
			a := p.next()
			if a == nil || !validName(a.Text) {
				return nil, p.errf(a, ErrSyntax, "expected an attribute name after %s", low)
			}
			return &cib.Expression{ID: p.s.newID(defID), Attribute: a.Text, Operation: low}, nil
		case "date":
			return p.dateExpr(defID)
		}
	}
	if !validName(t.Text) {
		return nil, p.errf(t, ErrSyntax, "bad attribute name %q in rule", t.Text)
	}
	opTok := p.next()
	if opTok == nil {
		return nil, p.errEnd("expected an operator after %s", t.Text)
	}
	op := strings.ToLower(opTok.Text)
	typ := ""
	if a, b, ok := strings.Cut(op, ":"); ok {
		typ, op = a, b
		if !exprTypes[typ] {
			return nil, p.errf(opTok, ErrSyntax, "unknown expression type %s", typ)
		}
	}
	if !exprOps[op] {
		return nil, p.errf(opTok, ErrSyntax, "expected an operator (lt gt lte gte eq ne), got %s", opTok.Text)
	}
	v := p.next()
	if v == nil {
		return nil, p.errEnd("expected a value after %s", opTok.Text)
	}
	return &cib.Expression{ID: p.s.newID(defID), Attribute: t.Text, Operation: op, Value: v.Text, Type: typ}, nil
}

func (p *parser) dateExpr(defID string) (any, error) {
	opTok := p.next()
	if opTok == nil {
		return nil, p.errEnd("expected gt, lt, in or spec after date")
	}
	d := &cib.DateExpression{}
	switch strings.ToLower(opTok.Text) {
	case "gt", "lt":
		v := p.next()
		if v == nil {
			return nil, p.errEnd("expected a date after date %s", opTok.Text)
		}
		d.Operation = strings.ToLower(opTok.Text)
		if d.Operation == "gt" {
			d.Start = v.Text
		} else {
			d.End = v.Text
		}
		d.ID = p.s.newID(defID)
	case "in", "in_range":
		d.Operation = "in_range"
		var dur []cib.Attr
		for !p.done() {
			k, v, ok := cut(p.peek().Text)
			if !ok {
				break
			}
			switch {
			case k == "start":
				d.Start = v
			case k == "end":
				d.End = v
			case dateSpecFields[k]:
				dur = append(dur, cib.Attr{Name: k, Value: v})
			default:
				goto doneIn
			}
			p.i++
		}
	doneIn:
		if d.Start == "" && d.End == "" {
			return nil, p.errf(p.peek(), ErrSyntax, "date in needs start= or end=")
		}
		d.ID = p.s.newID(defID)
		if len(dur) > 0 {
			d.Duration = &cib.DateSpec{ID: p.s.newID(d.ID + "-duration"), Fields: dur}
		}
	case "spec", "date_spec":
		d.Operation = "date_spec"
		var f []cib.Attr
		for !p.done() {
			k, v, ok := cut(p.peek().Text)
			if !ok || !dateSpecFields[k] {
				break
			}
			f = append(f, cib.Attr{Name: k, Value: v})
			p.i++
		}
		if len(f) == 0 {
			return nil, p.errf(p.peek(), ErrSyntax, "date spec needs at least one field")
		}
		d.ID = p.s.newID(defID)
		d.DateSpec = &cib.DateSpec{ID: p.s.newID(d.ID + "-date_spec"), Fields: f}
	default:
		return nil, p.errf(opTok, ErrSyntax, "expected gt, lt, in or spec after date, got %s", opTok.Text)
	}
	return d, nil
}

// ---- node ----

var nodeTypes = map[string]bool{"normal": true, "member": true, "ping": true, "remote": true}

func (p *parser) node() error {
	t := p.next()
	if t == nil {
		return p.errEnd("expected node name")
	}
	nid := ""
	if strings.HasPrefix(t.Text, "$id=") {
		nid = strings.TrimPrefix(t.Text, "$id=")
		t = p.next()
	} else if v, ok := scoreToken(t); ok {
		nid = v
		t = p.next()
	}
	if t == nil {
		return p.errEnd("expected node name")
	}
	uname, typ, _ := strings.Cut(t.Text, ":")
	if uname == "" || (typ != "" && !nodeTypes[typ]) || validID(uname) != "" {
		return p.errf(t, ErrSyntax, "Expected uname[:type] near <%s>", t.Text)
	}
	if nid == "" {
		nid = uname
	}
	// a node statement replaces an existing node with the same id
	for i, n := range p.s.cfg.Nodes {
		if n.ID == nid {
			p.s.cfg.Nodes = append(p.s.cfg.Nodes[:i:i], p.s.cfg.Nodes[i+1:]...)
			p.s.reindex()
			break
		}
	}
	if p.s.ids[nid] {
		return p.errf(t, ErrDuplicateID, "Cannot create node with ID '%s': the id is already in use", nid)
	}
	n := &cib.Node{ID: nid, Uname: uname, Type: typ, Line: p.st.Line}
	for !p.done() {
		t := p.peek()
		low := strings.ToLower(t.Text)
		switch {
		case !t.Quoted && low == "attributes":
			p.i++
			set, err := p.attrList("instance_attributes", uname+"-instance_attributes", nodeStops)
			if err != nil {
				return err
			}
			n.Instance = append(n.Instance, set)
		case !t.Quoted && low == "utilization":
			p.i++
			set, err := p.attrList("utilization", uname+"-utilization", nodeStops)
			if err != nil {
				return err
			}
			n.Utilization = append(n.Utilization, set)
		case strings.HasPrefix(t.Text, "description="):
			n.Description = strings.TrimPrefix(t.Text, "description=")
			p.i++
		default:
			return p.errf(t, ErrSyntax, "Unknown arguments: %s", t.Text)
		}
	}
	p.s.ids[nid] = true
	p.s.cfg.Nodes = append(p.s.cfg.Nodes, n)
	p.key = "node " + nid
	return nil
}

// ---- primitive / rsc_template ----

func (p *parser) primitive(kind string) error {
	word := kindName(kind)
	idTok := p.next()
	if idTok == nil {
		return p.errEnd("%s: expected an id", word)
	}
	if err := p.checkNewID(idTok, word); err != nil {
		return err
	}
	p.s.ids[idTok.Text] = true
	r := &cib.Resource{Kind: kind, ID: idTok.Text, Line: p.st.Line}
	agent := p.next()
	if agent == nil {
		return p.errEnd("%s %s: expected a resource agent", word, r.ID)
	}
	if strings.HasPrefix(agent.Text, "@") && kind == cib.KindPrimitive {
		r.Template = agent.Text[1:]
		if validID(r.Template) != "" {
			return p.errf(agent, ErrSyntax, "bad template reference %q", agent.Text)
		}
	} else {
		parts := strings.Split(agent.Text, ":")
		switch len(parts) {
		case 1:
			r.Class, r.Provider, r.Type = "ocf", "heartbeat", parts[0]
		case 2:
			r.Class, r.Type = parts[0], parts[1]
		case 3:
			r.Class, r.Provider, r.Type = parts[0], parts[1], parts[2]
		default:
			return p.errf(agent, ErrSyntax, "bad resource agent %s", agent.Text)
		}
		if !validName(r.Class) || !validName(r.Type) || (len(parts) == 3 && !validName(r.Provider)) {
			return p.errf(agent, ErrSyntax, "bad resource agent %s", agent.Text)
		}
		if r.Class == "ocf" && r.Provider == "" {
			return p.errf(agent, ErrSyntax, "%s: ocf agents need a provider", agent.Text)
		}
	}
	var order []*cib.NVSet
	var lastOp *cib.Op
	for !p.done() {
		t := p.peek()
		low := strings.ToLower(t.Text)
		if t.Quoted {
			low = ""
		}
		switch {
		case low == "params" || low == "meta" || low == "utilization":
			p.i++
			var set *cib.NVSet
			var err error
			switch low {
			case "params":
				set, err = p.attrList("instance_attributes", r.ID+"-instance_attributes", primitiveStops)
				r.Instance = append(r.Instance, set)
			case "meta":
				set, err = p.attrList("meta_attributes", r.ID+"-meta_attributes", primitiveStops)
				r.Meta = append(r.Meta, set)
			default:
				set, err = p.attrList("utilization", r.ID+"-utilization", primitiveStops)
				r.Utilization = append(r.Utilization, set)
			}
			if err != nil {
				return err
			}
			order = append(order, set)
		case low == "operations":
			p.i++
			v := p.next()
			switch {
			case v != nil && strings.HasPrefix(v.Text, "$id="):
				r.OpsID = strings.TrimPrefix(v.Text, "$id=")
				if p.s.ids[r.OpsID] {
					return p.errf(v, ErrDuplicateID, "id %s is already in use", r.OpsID)
				}
				p.s.ids[r.OpsID] = true
				r.HasOps = true
			case v != nil && strings.HasPrefix(v.Text, "$id-ref="):
				p.s.opsRef[r] = strings.TrimPrefix(v.Text, "$id-ref=")
			default:
				return p.errf(v, ErrSyntax, "operations: expected $id= or $id-ref=")
			}
		case low == "op":
			op, err := p.op(r)
			if err != nil {
				return err
			}
			lastOp = op
		case low == "op_params" || low == "op_meta":
			if lastOp == nil {
				return p.errf(t, ErrSyntax, "%s without a preceding op", t.Text)
			}
			p.i++
			if low == "op_params" {
				set, err := p.attrList("instance_attributes", lastOp.ID+"-instance_attributes", primitiveStops)
				if err != nil {
					return err
				}
				lastOp.Instance = append(lastOp.Instance, set)
			} else {
				set, err := p.attrList("meta_attributes", lastOp.ID+"-meta_attributes", primitiveStops)
				if err != nil {
					return err
				}
				lastOp.Meta = append(lastOp.Meta, set)
			}
		case strings.HasPrefix(t.Text, "description=") && len(order) == 0 && lastOp == nil:
			r.Description = strings.TrimPrefix(t.Text, "description=")
			p.i++
		case strings.Contains(t.Text, "=") || strings.HasPrefix(t.Text, "@") || low == "rule":
			if len(order) > 0 || lastOp != nil {
				return p.errf(t, ErrSyntax, "Unknown arguments: %s", t.Text)
			}
			set, err := p.attrList("instance_attributes", r.ID+"-instance_attributes", primitiveStops)
			if err != nil {
				return err
			}
			r.Instance = append(r.Instance, set)
			order = append(order, set)
		default:
			return p.errf(t, ErrSyntax, "Unknown arguments: %s", t.Text)
		}
	}
	p.s.setOrder[r] = order
	p.key = word + " " + r.ID
	if kind == cib.KindTemplate {
		p.s.cfg.Templates = append(p.s.cfg.Templates, r)
	} else {
		p.s.cfg.Resources = append(p.s.cfg.Resources, r)
	}
	return nil
}

var opAttrs = map[string]bool{"interval": true, "timeout": true, "role": true, "on-fail": true, "start-delay": true,
	"interval-origin": true, "record-pending": true, "enabled": true, "description": true}

func (p *parser) op(r *cib.Resource) (*cib.Op, error) {
	p.i++ // "op"
	nameTok := p.next()
	if nameTok == nil || primitiveStops.has(nameTok) || strings.Contains(nameTok.Text, "=") || !validName(nameTok.Text) {
		return nil, p.errf(nameTok, ErrSyntax, "op: expected an operation name")
	}
	op := &cib.Op{Name: nameTok.Text}
	var order []string
	var inst []cib.Attr
	for !p.done() {
		t := p.peek()
		if primitiveStops.has(t) {
			break
		}
		k, v, ok := cut(t.Text)
		if !ok || (k != "$id" && !validName(k)) {
			return nil, p.errf(t, ErrSyntax, "op %s: Unknown arguments: %s", op.Name, t.Text)
		}
		if k == "$id" {
			if validID(v) != "" {
				return nil, p.errf(t, ErrSyntax, "op %s: bad id %q", op.Name, v)
			}
			if p.s.ids[v] {
				return nil, p.errf(t, ErrDuplicateID, "id %s is already in use", v)
			}
			op.ID = v
			p.s.ids[v] = true
			p.i++
			continue
		}
		if opAttrs[k] {
			if len(inst) > 0 {
				return nil, p.errf(t, ErrSyntax, "Attribute order error: %s must appear before any instance attribute", k)
			}
			switch k {
			case "interval":
				op.Interval = v
			case "timeout":
				op.Timeout = v
			case "role":
				op.Role = v
			case "on-fail":
				op.OnFail = v
			case "start-delay":
				op.StartDelay = v
			case "interval-origin":
				op.IntervalOrigin = v
			case "record-pending":
				op.RecordPending = v
			case "enabled":
				op.Enabled = v
			case "description":
				op.Description = v
			}
			order = append(order, k)
		} else {
			inst = append(inst, cib.Attr{Name: k, Value: v})
		}
		p.i++
	}
	if op.Interval == "" {
		op.Interval = "0"
		order = append(order, "interval")
	}
	if op.ID == "" {
		base := r.ID
		if r.OpsID != "" {
			base = r.OpsID
		}
		op.ID = p.s.newID(base + "-" + op.Name + "-" + op.Interval)
	}
	if len(inst) > 0 {
		set := &cib.NVSet{Kind: "instance_attributes", ID: p.s.newID(op.ID + "-instance_attributes")}
		for _, a := range inst {
			set.Pairs = append(set.Pairs, &cib.NVPair{ID: p.s.newID(set.ID + "-" + a.Name), Name: a.Name, Value: a.Value, HasValue: true})
		}
		op.Instance = append(op.Instance, set)
	}
	r.Ops = append(r.Ops, op)
	r.HasOps = true
	p.s.opOrder[op] = order
	return op, nil
}

// ---- group / clone / ms ----

// takeChild checks that id names a top-level resource usable as a child.
// It returns (nil, nil) when the object is missing (reported separately).
func (p *parser) takeChild(tok *token, container, cid string, allowed ...string) (*cib.Resource, error) {
	r, parent := p.s.findResource(tok.Text)
	if r == nil {
		return nil, nil
	}
	if parent != nil {
		return nil, p.errf(tok, ErrSyntax, "Cannot create %s:%s: Child %s:%s already in %s:%s", container, cid, kindName(r.Kind), r.ID, kindName(parent.Kind), parent.ID)
	}
	for _, k := range allowed {
		if r.Kind == k {
			return r, nil
		}
	}
	return nil, p.errf(tok, ErrSyntax, "%s %s: %s %s cannot be a child", container, cid, kindName(r.Kind), r.ID)
}

func (s *Session) removeTopLevel(r *cib.Resource) {
	for i, x := range s.cfg.Resources {
		if x == r {
			s.cfg.Resources = append(s.cfg.Resources[:i:i], s.cfg.Resources[i+1:]...)
			return
		}
	}
}

func (p *parser) containerLists(r *cib.Resource) error {
	var order []*cib.NVSet
	for !p.done() {
		t := p.peek()
		low := strings.ToLower(t.Text)
		if t.Quoted {
			low = ""
		}
		var set *cib.NVSet
		var err error
		switch {
		case low == "params":
			p.i++
			set, err = p.attrList("instance_attributes", r.ID+"-instance_attributes", containerStops)
			if err == nil {
				r.Instance = append(r.Instance, set)
			}
		case low == "meta":
			p.i++
			set, err = p.attrList("meta_attributes", r.ID+"-meta_attributes", containerStops)
			if err == nil {
				r.Meta = append(r.Meta, set)
			}
		case low == "utilization":
			p.i++
			set, err = p.attrList("utilization", r.ID+"-utilization", containerStops)
			if err == nil {
				r.Utilization = append(r.Utilization, set)
			}
		case strings.HasPrefix(t.Text, "description=") && len(order) == 0:
			r.Description = strings.TrimPrefix(t.Text, "description=")
			p.i++
			continue
		case len(order) == 0 && (strings.Contains(t.Text, "=") || low == "rule"):
			// "params" may be omitted for the first list
			set, err = p.attrList("instance_attributes", r.ID+"-instance_attributes", containerStops)
			if err == nil {
				r.Instance = append(r.Instance, set)
			}
		default:
			return p.errf(t, ErrSyntax, "Unknown arguments: %s", t.Text)
		}
		if err != nil {
			return err
		}
		order = append(order, set)
	}
	p.s.setOrder[r] = order
	return nil
}

func (p *parser) group() error {
	idTok := p.next()
	if idTok == nil {
		return p.errEnd("group: expected an id")
	}
	if err := p.checkNewID(idTok, "group"); err != nil {
		return err
	}
	g := &cib.Resource{Kind: cib.KindGroup, ID: idTok.Text, Line: p.st.Line}
	var missing []*Error
	named := 0
	for !p.done() {
		t := p.peek()
		if containerStops.has(t) && !t.Quoted || strings.Contains(t.Text, "=") {
			break
		}
		p.i++
		named++
		c, err := p.takeChild(t, "group", g.ID, cib.KindPrimitive)
		if err != nil {
			return err
		}
		if c == nil {
			missing = append(missing, p.errf(t, ErrMissingObject, "%s refers to missing object %s", g.ID, t.Text).(*Error))
			continue
		}
		for _, x := range g.Children {
			if x == c {
				return p.errf(t, ErrSyntax, "group %s: %s listed twice", g.ID, t.Text)
			}
		}
		g.Children = append(g.Children, c)
	}
	if len(g.Children) == 0 && p.done() {
		p.s.Errors = append(p.s.Errors, missing...)
		return p.errf(idTok, ErrSyntax, "group %s: Expected at least 2 arguments", g.ID)
	}
	p.s.ids[g.ID] = true
	if err := p.containerLists(g); err != nil {
		return err
	}
	p.s.Errors = append(p.s.Errors, missing...)
	for _, c := range g.Children {
		p.s.removeTopLevel(c)
	}
	p.s.cfg.Resources = append(p.s.cfg.Resources, g)
	p.key = "group " + g.ID
	return nil
}

func (p *parser) clone(kind string) error {
	word := kindName(kind)
	idTok := p.next()
	if idTok == nil {
		return p.errEnd("%s: expected an id", word)
	}
	if err := p.checkNewID(idTok, word); err != nil {
		return err
	}
	c := &cib.Resource{Kind: kind, ID: idTok.Text, Line: p.st.Line}
	chTok := p.next()
	if chTok == nil {
		return p.errEnd("%s %s: expected a resource to clone", word, c.ID)
	}
	child, err := p.takeChild(chTok, word, c.ID, cib.KindPrimitive, cib.KindGroup)
	if err != nil {
		return err
	}
	var missing *Error
	if child == nil {
		missing = p.errf(chTok, ErrMissingObject, "%s refers to missing object %s", c.ID, chTok.Text).(*Error)
	}
	p.s.ids[c.ID] = true
	if err := p.containerLists(c); err != nil {
		return err
	}
	if missing != nil {
		p.s.Errors = append(p.s.Errors, missing)
	} else {
		c.Children = []*cib.Resource{child}
		p.s.removeTopLevel(child)
	}
	p.s.cfg.Resources = append(p.s.cfg.Resources, c)
	p.key = word + " " + c.ID
	return nil
}

// ---- constraints ----

type setItem struct {
	id, suffix string
	tok        *token
}

type rawSet struct {
	kind  byte // 0 plain run, '(' or '['
	items []setItem
	attrs []cib.Attr
}

// setSequence parses resources, "( ... )" and "[ ... ]" sets up to the end
// of the statement (or a closing brace when inBrace). Trailing name=value
// options outside brackets are returned separately.
func (p *parser) setSequence(inBrace bool) ([]rawSet, []cib.Attr, error) {
	var sets []rawSet
	var opts []cib.Attr
	var cur *rawSet
	var open *token
	for !p.done() {
		t := p.peek()
		if inBrace && t.Text == "}" && !t.Quoted && cur == nil {
			break
		}
		p.i++
		if !t.Quoted {
			switch t.Text {
			case "(", "[":
				if cur != nil {
					return nil, nil, p.errf(t, ErrSyntax, "Nested resource sets are not allowed")
				}
				sets = append(sets, rawSet{kind: t.Text[0]})
				cur, open = &sets[len(sets)-1], t
				continue
			case ")", "]":
				if cur == nil {
					return nil, nil, p.errf(t, ErrSyntax, "Empty resource set near <%s>", t.Text)
				}
				want := map[byte]string{'(': ")", '[': "]"}[cur.kind]
				if t.Text != want {
					return nil, nil, p.errf(t, ErrSyntax, "Mismatched closing bracket near <%s>", t.Text)
				}
				if len(cur.items) == 0 {
					return nil, nil, p.errf(t, ErrSyntax, "Empty resource set")
				}
				cur = nil
				continue
			}
		}
		if k, v, ok := cut(t.Text); ok {
			if cur != nil {
				cur.attrs = append(cur.attrs, cib.Attr{Name: k, Value: v})
			} else {
				opts = append(opts, cib.Attr{Name: k, Value: v})
			}
			continue
		}
		if len(opts) > 0 {
			return nil, nil, p.errf(t, ErrSyntax, "Unknown arguments: %s", t.Text)
		}
		id, suffix, _ := strings.Cut(t.Text, ":")
		if validID(id) != "" {
			return nil, nil, p.errf(t, ErrSyntax, "Expected resource near <%s>", t.Text)
		}
		it := setItem{id: id, suffix: suffix, tok: t}
		if cur != nil {
			cur.items = append(cur.items, it)
		} else {
			if len(sets) == 0 || sets[len(sets)-1].kind != 0 {
				sets = append(sets, rawSet{})
			}
			sets[len(sets)-1].items = append(sets[len(sets)-1].items, it)
		}
	}
	if cur != nil {
		return nil, nil, p.errf(open, ErrSyntax, "Unmatched opening bracket")
	}
	return sets, opts, nil
}

// buildSets turns raw sets into resource_set values. Plain runs are split
// where the role/action suffix changes. suffixField is "role" or "action".
func (p *parser) buildSets(cid string, raw []rawSet, suffixField string) ([]*cib.ResourceSet, error) {
	var out []*cib.ResourceSet
	add := func(kind byte, items []setItem, attrs []cib.Attr) error {
		rs := &cib.ResourceSet{}
		switch kind {
		case '(':
			rs.Sequential = "false"
		case '[':
			rs.RequireAll, rs.Sequential = "false", "false"
		}
		for _, a := range attrs {
			switch a.Name {
			case "sequential":
				// true is the default: crmsh writes no attribute for it
				rs.Sequential = a.Value
				if isTrue(a.Value) {
					rs.Sequential = ""
				}
			case "require-all":
				rs.RequireAll = a.Value
			case "action":
				rs.Action = a.Value
			case "role":
				rs.Role = a.Value
			case "score":
				rs.Score = a.Value
			case "kind":
				rs.Kind = a.Value
			case "ordering":
				rs.Ordering = a.Value
			default:
				rs.Extra = append(rs.Extra, a)
			}
		}
		for _, it := range items {
			if it.suffix != "" {
				v, err := p.suffix(it, suffixField)
				if err != nil {
					return err
				}
				if suffixField == "role" {
					rs.Role = v
				} else {
					rs.Action = v
				}
			}
			rs.Refs = append(rs.Refs, it.id)
		}
		rs.ID = p.s.newID(fmt.Sprintf("%s-%d", cid, len(out)))
		out = append(out, rs)
		return nil
	}
	for _, r := range raw {
		if r.kind != 0 {
			if err := add(r.kind, r.items, r.attrs); err != nil {
				return nil, err
			}
			continue
		}
		start := 0
		for i := 1; i <= len(r.items); i++ {
			if i == len(r.items) || r.items[i].suffix != r.items[start].suffix {
				if err := add(0, r.items[start:i], nil); err != nil {
					return nil, err
				}
				start = i
			}
		}
	}
	return out, nil
}

func (p *parser) suffix(it setItem, field string) (string, error) {
	if field == "role" {
		v, ok := normRole(it.suffix)
		if !ok {
			return "", p.errf(it.tok, ErrSyntax, "Invalid role for %s", it.tok.Text)
		}
		return v, nil
	}
	if !orderActions[strings.ToLower(it.suffix)] {
		return "", p.errf(it.tok, ErrSyntax, "Invalid action for %s", it.tok.Text)
	}
	return strings.ToLower(it.suffix), nil
}

// applySequential handles a trailing "sequential=<bool>" option: false
// turns the plain runs into non-sequential sets (forcing the set form).
func applySequential(raw []rawSet, opts []cib.Attr) ([]rawSet, []cib.Attr) {
	var keep []cib.Attr
	for _, o := range opts {
		if o.Name != "sequential" {
			keep = append(keep, o)
			continue
		}
		if !isTrue(o.Value) {
			for i := range raw {
				if raw[i].kind == 0 {
					raw[i].kind = '('
				}
			}
		}
	}
	return raw, keep
}

// simplePair reports whether raw is two plain resources (the non-set form).
func simplePair(raw []rawSet) bool {
	n := 0
	for _, r := range raw {
		if r.kind != 0 {
			return false
		}
		n += len(r.items)
	}
	return n == 2
}

func countItems(raw []rawSet) int {
	n := 0
	for _, r := range raw {
		n += len(r.items)
	}
	return n
}

func flatItems(raw []rawSet) []setItem {
	var out []setItem
	for _, r := range raw {
		out = append(out, r.items...)
	}
	return out
}

func (p *parser) location() error {
	idTok := p.next()
	if idTok == nil {
		return p.errEnd("location: expected an id")
	}
	if err := p.checkNewID(idTok, "location"); err != nil {
		return err
	}
	l := &cib.Location{ID: idTok.Text, Line: p.st.Line}
	p.s.ids[l.ID] = true
	rt := p.next()
	if rt == nil {
		return p.errEnd("location %s: expected a resource", l.ID)
	}
	switch {
	case !rt.Quoted && rt.Text == "{":
		raw, opts, err := p.setSequence(true)
		if err != nil {
			return err
		}
		if t := p.next(); t == nil || t.Text != "}" {
			return p.errEnd("location %s: expected }", l.ID)
		}
		if len(opts) > 0 || len(raw) == 0 {
			return p.errf(rt, ErrSyntax, "location %s: bad resource set", l.ID)
		}
		if l.Sets, err = p.buildSets(l.ID, raw, "role"); err != nil {
			return err
		}
	case strings.HasPrefix(rt.Text, "/"):
		if len(rt.Text) < 3 || !strings.HasSuffix(rt.Text, "/") {
			return p.errf(rt, ErrSyntax, "Expected resource near <%s>", rt.Text)
		}
		l.RscPattern = rt.Text[1 : len(rt.Text)-1]
	default:
		if validID(rt.Text) != "" {
			return p.errf(rt, ErrSyntax, "Expected resource near <%s>", rt.Text)
		}
		l.Rsc = rt.Text
	}
	for !p.done() {
		t := p.peek()
		k, v, ok := cut(t.Text)
		if !ok {
			break
		}
		switch strings.ToLower(k) {
		case "role":
			role, ok := normRole(v)
			if !ok {
				return p.errf(t, ErrSyntax, "Invalid role %s", v)
			}
			l.Role = role
		case "resource-discovery":
			l.ResourceDiscovery = v
		default:
			return p.errf(t, ErrSyntax, "location %s: Unknown arguments: %s", l.ID, t.Text)
		}
		p.i++
	}
	if p.peekLower() == "rule" {
		for p.peekLower() == "rule" {
			r, err := p.rule(l.ID + "-rule")
			if err != nil {
				return err
			}
			l.Rules = append(l.Rules, r)
		}
	} else {
		st := p.next()
		v, ok := scoreToken(st)
		if !ok {
			return p.errf(st, ErrSyntax, "location %s: expected <score>: <node> or rule", l.ID)
		}
		sc, isNum := normScore(v)
		if !isNum {
			return p.errf(st, ErrSyntax, "location %s: bad score %s", l.ID, v)
		}
		nt := p.next()
		if nt == nil {
			return p.errEnd("location %s: expected a node name", l.ID)
		}
		l.Score, l.Node = sc, nt.Text
	}
	if t := p.peek(); t != nil {
		return p.errf(t, ErrSyntax, "location %s: Unknown arguments: %s", l.ID, t.Text)
	}
	p.s.cfg.Constraints = append(p.s.cfg.Constraints, l)
	p.key = "location " + l.ID
	return nil
}

func (p *parser) colocation() error {
	idTok := p.next()
	if idTok == nil {
		return p.errEnd("colocation: expected an id")
	}
	if err := p.checkNewID(idTok, "colocation"); err != nil {
		return err
	}
	c := &cib.Colocation{ID: idTok.Text, Line: p.st.Line}
	p.s.ids[c.ID] = true
	st := p.next()
	v, ok := scoreToken(st)
	if !ok {
		return p.errf(st, ErrSyntax, "colocation %s: expected <score>:", c.ID)
	}
	sc, isNum := normScore(v)
	if !isNum {
		return p.errf(st, ErrSyntax, "colocation %s: bad score %s", c.ID, v)
	}
	c.Score = sc
	raw, opts, err := p.setSequence(false)
	if err != nil {
		return err
	}
	raw, opts = applySequential(raw, opts)
	for _, o := range opts {
		switch o.Name {
		case "node-attribute":
			c.NodeAttribute = o.Value
		case "influence":
			c.Influence = o.Value
		default:
			c.Extra = append(c.Extra, o)
		}
	}
	if countItems(raw) < 2 {
		return p.errf(st, ErrSyntax, "colocation %s: expected at least two resources", c.ID)
	}
	if simplePair(raw) {
		it := flatItems(raw)
		c.Rsc, c.WithRsc = it[0].id, it[1].id
		if it[0].suffix != "" {
			if c.RscRole, err = p.suffix(it[0], "role"); err != nil {
				return err
			}
		}
		if it[1].suffix != "" {
			if c.WithRscRole, err = p.suffix(it[1], "role"); err != nil {
				return err
			}
		}
	} else if c.Sets, err = p.buildSets(c.ID, raw, "role"); err != nil {
		return err
	}
	p.s.cfg.Constraints = append(p.s.cfg.Constraints, c)
	p.key = "colocation " + c.ID
	return nil
}

var orderKinds = map[string]string{"mandatory": "Mandatory", "optional": "Optional", "serialize": "Serialize"}

func (p *parser) order() error {
	idTok := p.next()
	if idTok == nil {
		return p.errEnd("order: expected an id")
	}
	if err := p.checkNewID(idTok, "order"); err != nil {
		return err
	}
	o := &cib.Order{ID: idTok.Text, Line: p.st.Line}
	p.s.ids[o.ID] = true
	if v, ok := scoreToken(p.peek()); ok {
		if k, ok := orderKinds[strings.ToLower(v)]; ok {
			o.Kind = k
		} else if sc, isNum := normScore(v); isNum {
			if sc == "0" {
				o.Kind = "Optional"
			} else {
				o.Kind = "Mandatory"
			}
		} else {
			return p.errf(p.peek(), ErrSyntax, "order %s: bad kind or score %s", o.ID, v)
		}
		p.i++
	}
	raw, opts, err := p.setSequence(false)
	if err != nil {
		return err
	}
	raw, opts = applySequential(raw, opts)
	for _, a := range opts {
		switch a.Name {
		case "symmetrical":
			o.Symmetrical = a.Value
		case "require-all":
			o.RequireAll = a.Value
		default:
			o.Extra = append(o.Extra, a)
		}
	}
	if countItems(raw) < 2 {
		return p.errEnd("order %s: expected at least two resources", o.ID)
	}
	if simplePair(raw) {
		it := flatItems(raw)
		o.First, o.Then = it[0].id, it[1].id
		if it[0].suffix != "" {
			if o.FirstAction, err = p.suffix(it[0], "action"); err != nil {
				return err
			}
		}
		if it[1].suffix != "" {
			if o.ThenAction, err = p.suffix(it[1], "action"); err != nil {
				return err
			}
		}
	} else if o.Sets, err = p.buildSets(o.ID, raw, "action"); err != nil {
		return err
	}
	p.s.cfg.Constraints = append(p.s.cfg.Constraints, o)
	p.key = "order " + o.ID
	return nil
}

// ---- property / rsc_defaults / op_defaults ----

func (p *parser) property(list *[]*cib.NVSet, kind, defID string) error {
	setID := ""
	if t := p.peek(); t != nil && strings.HasPrefix(t.Text, "$id=") {
		setID = strings.TrimPrefix(t.Text, "$id=")
		p.i++
	} else if v, ok := scoreToken(t); ok {
		setID = v
		p.i++
	}
	if setID == "" {
		setID = defID
	}
	var set *cib.NVSet
	for _, x := range *list {
		if x.ID == setID {
			set = x
		}
	}
	isNew := set == nil
	if isNew {
		if p.s.ids[setID] {
			return p.errf(p.toks[0].ptr(), ErrDuplicateID, "id %s is already in use", setID)
		}
		set = &cib.NVSet{Kind: kind, ID: setID, Line: p.st.Line}
	}
	// parse into a scratch set first so that a failing statement changes nothing
	var rules []*cib.Rule
	var pairs []cib.Attr
	for !p.done() {
		t := p.peek()
		switch {
		case !t.Quoted && strings.EqualFold(t.Text, "rule"):
			r, err := p.rule(setID + "-rule")
			if err != nil {
				return err
			}
			rules = append(rules, r)
		default:
			k, v, ok := cut(t.Text)
			if !ok || k == "" {
				return p.errf(t, ErrSyntax, "Unknown arguments: %s", t.Text)
			}
			pairs = append(pairs, cib.Attr{Name: k, Value: v})
			p.i++
		}
	}
	if isNew {
		p.s.ids[setID] = true
		*list = append(*list, set)
	}
	if !isNew && len(rules) > 0 && len(set.Pairs) > 0 {
		p.s.rulesAfterPairs[set] = true
	}
	set.Rules = append(set.Rules, rules...)
outer:
	for _, a := range pairs {
		for _, x := range set.Pairs {
			if x.Name == a.Name && x.IDRef == "" {
				x.Value, x.HasValue = a.Value, true
				continue outer
			}
		}
		set.Pairs = append(set.Pairs, &cib.NVPair{ID: p.s.newID(setID + "-" + a.Name), Name: a.Name, Value: a.Value, HasValue: true})
	}
	return nil
}

func (t token) ptr() *token { return &t }

// ---- fencing_topology / tag ----

func (p *parser) fencingTopology() error {
	if p.s.cfg.HasFencingTopology || len(p.s.cfg.Fencing) > 0 {
		return p.errf(&p.toks[0], ErrDuplicateID, "Cannot create fencing_topology with ID 'fencing_topology': Found existing fencing_topology with same ID.")
	}
	type target struct {
		lvl     cib.FencingLevel
		devices []string
	}
	var targets []*target
	var nodeless []string
	for !p.done() {
		t := p.next()
		switch {
		case strings.HasPrefix(t.Text, "attr:"):
			k, v, ok := cut(strings.TrimPrefix(t.Text, "attr:"))
			if !ok || k == "" {
				return p.errf(t, ErrSyntax, "fencing_topology: bad target %s", t.Text)
			}
			targets = append(targets, &target{lvl: cib.FencingLevel{TargetAttribute: k, TargetValue: v}})
		case strings.HasPrefix(t.Text, "pattern:"):
			targets = append(targets, &target{lvl: cib.FencingLevel{TargetPattern: strings.TrimPrefix(t.Text, "pattern:")}})
		case len(t.Text) > 1 && strings.HasSuffix(t.Text, ":"):
			targets = append(targets, &target{lvl: cib.FencingLevel{Target: strings.TrimSuffix(t.Text, ":")}})
		default:
			if !validName(t.Text) {
				return p.errf(t, ErrSyntax, "fencing_topology: bad device list %q", t.Text)
			}
			if len(targets) == 0 {
				nodeless = append(nodeless, t.Text)
			} else {
				targets[len(targets)-1].devices = append(targets[len(targets)-1].devices, t.Text)
			}
		}
	}
	if len(nodeless) > 0 {
		for _, n := range p.s.cfg.Nodes {
			targets = append(targets, &target{lvl: cib.FencingLevel{Target: n.Uname}, devices: nodeless})
		}
	}
	for _, t := range targets {
		if len(t.devices) == 0 {
			return p.errf(&p.toks[0], ErrSyntax, "fencing_topology: target without devices")
		}
	}
	p.s.cfg.HasFencingTopology = true
	p.key = "fencing_topology"
	for _, t := range targets {
		for i, d := range t.devices {
			l := t.lvl
			l.Index = strconv.Itoa(i + 1)
			l.Devices = d
			l.ID = p.s.newID("fencing")
			p.s.cfg.Fencing = append(p.s.cfg.Fencing, &l)
		}
	}
	return nil
}

func (p *parser) tag() error {
	idTok := p.next()
	if idTok == nil {
		return p.errEnd("tag: expected a tag name")
	}
	name := strings.TrimSuffix(idTok.Text, ":")
	if name == "" || strings.HasSuffix(name, ":") {
		return p.errf(idTok, ErrSyntax, "Expected tag name near <%s>", idTok.Text)
	}
	nt := *idTok
	nt.Text = name
	if err := p.checkNewID(&nt, "tag"); err != nil {
		return err
	}
	tg := &cib.Tag{ID: name}
	for !p.done() {
		t := p.next()
		if validID(t.Text) != "" {
			return p.errf(t, ErrSyntax, "tag %s: bad reference %s", name, t.Text)
		}
		tg.Refs = append(tg.Refs, t.Text)
	}
	if len(tg.Refs) == 0 {
		return p.errf(idTok, ErrSyntax, "tag %s: Expected at least 2 arguments", name)
	}
	p.s.ids[name] = true
	p.s.cfg.Tags = append(p.s.cfg.Tags, tg)
	p.s.cfg.HasTags = true
	p.key = "tag " + name
	return nil
}

func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "y", "on", "1":
		return true
	}
	return false
}
