package crmsyntax

import (
	"fmt"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

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
	// a change of role/action starts a new set, inside brackets too
	for _, r := range raw {
		start := 0
		for i := 1; i <= len(r.items); i++ {
			if i == len(r.items) || r.items[i].suffix != r.items[start].suffix {
				if err := add(r.kind, r.items[start:i], r.attrs); err != nil {
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
			if _, ok := normRole(v); !ok {
				return p.errf(t, ErrSyntax, "Invalid role %s", v)
			}
			l.Role = v
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
	p.placeConstraint(l)
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
	p.placeConstraint(c)
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
	p.placeConstraint(o)
	p.key = "order " + o.ID
	return nil
}
