package crmsyntax

import (
	"strings"

	"github.com/gocrm/gocrm/cib"
)

// The typed model keeps rsc_ticket constraints as raw elements
// (cib.RawConstraint); this file reads and writes them.

// ticket parses "rsc_ticket <id> <ticket>: <rsc>[:<role>] ... [loss-policy=<p>]".
func (p *parser) ticket() error {
	idTok := p.next()
	if idTok == nil {
		return p.errEnd("rsc_ticket: expected an id")
	}
	if err := p.checkNewID(idTok, "rsc_ticket"); err != nil {
		return err
	}
	id := idTok.Text
	p.s.ids[id] = true
	tt := p.next()
	name, ok := scoreToken(tt)
	if !ok || validID(name) != "" {
		return p.errf(tt, ErrSyntax, "rsc_ticket %s: expected <ticket>:", id)
	}
	raw, opts, err := p.setSequence(false)
	if err != nil {
		return err
	}
	el := &cib.Element{Name: "rsc_ticket", Attrs: []cib.Attr{{Name: "id", Value: id}, {Name: "ticket", Value: name}}}
	for _, o := range opts {
		if o.Name != "loss-policy" || !validName(o.Value) {
			return p.errf(tt, ErrSyntax, "rsc_ticket %s: Unknown arguments: %s=%s", id, o.Name, o.Value)
		}
		el.Set("loss-policy", o.Value)
	}
	switch n := countItems(raw); {
	case n == 0:
		return p.errf(tt, ErrSyntax, "rsc_ticket %s: expected a resource", id)
	case n == 1 && raw[0].kind == 0:
		it := raw[0].items[0]
		el.Set("rsc", it.id)
		if it.suffix != "" {
			role, err := p.suffix(it, "role")
			if err != nil {
				return err
			}
			el.Set("rsc-role", role)
		}
	default:
		sets, err := p.buildSets(id, raw, "role")
		if err != nil {
			return err
		}
		for _, rs := range sets {
			el.Children = append(el.Children, setElement(rs))
		}
	}
	p.placeConstraint(&cib.RawConstraint{El: el})
	p.key = "rsc_ticket " + id
	return nil
}

func setElement(rs *cib.ResourceSet) *cib.Element {
	e := &cib.Element{Name: "resource_set"}
	e.SetNonEmpty("require-all", rs.RequireAll)
	e.SetNonEmpty("sequential", rs.Sequential)
	e.SetNonEmpty("role", rs.Role)
	e.SetNonEmpty("action", rs.Action)
	e.Set("id", rs.ID)
	e.Attrs = append(e.Attrs, rs.Extra...)
	for _, r := range rs.Refs {
		e.Children = append(e.Children, &cib.Element{Name: "resource_ref", Attrs: []cib.Attr{{Name: "id", Value: r}}})
	}
	return e
}

func elementSets(el *cib.Element) []*cib.ResourceSet {
	var out []*cib.ResourceSet
	for _, c := range el.Children {
		if c.Name != "resource_set" {
			continue
		}
		rs := &cib.ResourceSet{ID: c.Get("id"), Sequential: c.Get("sequential"), RequireAll: c.Get("require-all"), Role: c.Get("role"), Action: c.Get("action")}
		for _, r := range c.Children {
			if r.Name == "resource_ref" {
				rs.Refs = append(rs.Refs, r.Get("id"))
			}
		}
		out = append(out, rs)
	}
	return out
}

func isTicket(c cib.Constraint) (*cib.Element, bool) {
	if r, ok := c.(*cib.RawConstraint); ok && r.El != nil && r.El.Name == "rsc_ticket" {
		return r.El, true
	}
	return nil, false
}

func (w *shower) ticket(el *cib.Element) object {
	head := "rsc_ticket " + el.Get("id") + " " + el.Get("ticket") + ": "
	if rsc := el.Get("rsc"); rsc != "" {
		head += withSuffix(rsc, w.role(el.Get("rsc-role")))
	} else {
		head += w.setsText(elementSets(el), false)
	}
	if lp := el.Get("loss-policy"); lp != "" {
		head += " loss-policy=" + quote(lp)
	}
	return object{head: head}
}

// ticketRefs lists the resources an rsc_ticket names.
func ticketRefs(el *cib.Element) []string {
	var out []string
	if r := el.Get("rsc"); r != "" {
		out = append(out, r)
	}
	for _, rs := range elementSets(el) {
		out = append(out, rs.Refs...)
	}
	return out
}

// renameTicketRefs replaces resource id old by new in an rsc_ticket.
func renameTicketRefs(el *cib.Element, old, new string) {
	if el.Get("rsc") == old {
		el.Set("rsc", new)
	}
	for _, c := range el.Children {
		for _, r := range c.Children {
			if r.Name == "resource_ref" && r.Get("id") == old {
				r.Set("id", new)
			}
		}
	}
}

// dropTicketRef removes resource id from an rsc_ticket; it reports false
// when nothing is left.
func dropTicketRef(el *cib.Element, id string) bool {
	if el.Get("rsc") == id {
		return false
	}
	var sets []*cib.Element
	for _, c := range el.Children {
		var refs []*cib.Element
		for _, r := range c.Children {
			if !(r.Name == "resource_ref" && r.Get("id") == id) {
				refs = append(refs, r)
			}
		}
		c.Children = refs
		if len(refs) > 0 || c.Name != "resource_set" {
			sets = append(sets, c)
		}
	}
	el.Children = sets
	return el.Get("rsc") != "" || len(strings.TrimSpace(strings.Join(ticketRefs(el), " "))) > 0
}
