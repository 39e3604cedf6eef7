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
	if _, ok := isTicket(c); ok {
		return "rsc_ticket"
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
		if p.s.updating && p.prepareReplace(id, kind, k) {
			return nil
		}
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
	case "inf", "infinity":
		return "INFINITY", true
	case "+inf", "+infinity":
		// crmsh 4.4.1 keeps the sign
		return "+INFINITY", true
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
		if msg := validID(set.ID); msg != "" {
			return nil, p.errf(t, ErrSyntax, "invalid id %q: %s", set.ID, msg)
		}
		if p.s.ids[set.ID] {
			return nil, p.errf(t, ErrDuplicateID, "id %s is already in use", set.ID)
		}
		p.s.ids[set.ID] = true
		p.i++
	} else if t != nil && strings.HasPrefix(t.Text, "$id-ref=") {
		set.IDRef = strings.TrimPrefix(t.Text, "$id-ref=")
		if msg := validID(set.IDRef); msg != "" {
			return nil, p.errf(t, ErrSyntax, "invalid id reference %q: %s", set.IDRef, msg)
		}
		p.i++
		return set, nil
	}
	if set.ID == "" {
		set.ID = p.s.newID(defID)
	}
	if v, ok := scoreToken(p.peek()); ok {
		// crmsh 4.4.1 writes an attribute set's score as typed ("inf"
		// included, which the schema then refuses; see CheckCommit)
		if _, isNum := normScore(v); isNum {
			set.Score = v
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
			if !validName(name) || strings.HasSuffix(name, ":") || !ok && (strings.EqualFold(name, "and") || strings.EqualFold(name, "or") || strings.EqualFold(name, "rule")) {
				return nil, p.errf(t, ErrSyntax, "Unknown arguments: %s", t.Text)
			}
			// a bare name is an nvpair without a value (crmsh accepts it)
			set.Pairs = append(set.Pairs, &cib.NVPair{ID: p.s.newID(set.ID + "-" + name), Name: name, Value: val, HasValue: ok})
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
			if msg := validID(r.ID); msg != "" {
				return nil, p.errf(t, ErrSyntax, "invalid id %q: %s", r.ID, msg)
			}
			if p.s.ids[r.ID] {
				return nil, p.errf(t, ErrDuplicateID, "id %s is already in use", r.ID)
			}
			p.s.ids[r.ID] = true
		case strings.HasPrefix(t.Text, "$id-ref="):
			r.IDRef = strings.TrimPrefix(t.Text, "$id-ref=")
			if msg := validID(r.IDRef); msg != "" {
				return nil, p.errf(t, ErrSyntax, "invalid id reference %q: %s", r.IDRef, msg)
			}
		case strings.HasPrefix(t.Text, "$role=") || strings.HasPrefix(strings.ToLower(t.Text), "role="):
			_, v, _ := cut(t.Text)
			// crmsh 4.4.1 keeps the role as typed (the schema then
			// refuses a wrong case; CheckCommit reports it)
			if _, ok := normRole(v); !ok {
				return nil, p.errf(t, ErrSyntax, "Invalid role %s", v)
			}
			r.Role = v
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
		npairs := 0
		for !p.done() {
			k, v, ok := cut(p.peek().Text)
			if !ok {
				break
			}
			if v == "" && (k == "start" || k == "end" || dateSpecFields[k]) {
				return nil, p.errf(p.peek(), ErrSyntax, "date in: %s= needs a value", k)
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
			npairs++
			p.i++
		}
	doneIn:
		if d.Start == "" && d.End == "" || npairs < 2 {
			return nil, p.errf(p.peek(), ErrSyntax, "date in: Expected at least 2 name-value pairs (start=, end= or a duration)")
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
			if v == "" {
				return nil, p.errf(p.peek(), ErrSyntax, "date spec: %s= needs a value", k)
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
