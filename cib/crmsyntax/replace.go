package crmsyntax

import (
	"github.com/gocrm/gocrm/cib"
)

// replacement describes the object a statement replaces in Update mode.
type replacement struct {
	res    *cib.Resource // resource or template being replaced
	parent *cib.Resource // its container, nil at top level
	cons   int           // index in Constraints, or -1
	tag    int           // index in Tags, or -1
}

// prepareReplace lets the statement creating id (of kind) replace the
// existing object (of kind existing). The old object stays in place until
// the new one is complete; only the ids of its own elements are released so
// that the new object gets the same generated ids.
func (p *parser) prepareReplace(id, kind, existing string) bool {
	isRes := func(k string) bool {
		switch k {
		case "primitive", "group", "clone", "ms", "rsc_template":
			return true
		}
		return false
	}
	rp := &replacement{cons: -1, tag: -1}
	var released *cib.Element
	switch {
	case isRes(kind) && kind == existing:
		// only the same kind: anything else could put a container inside
		// its own child
		r, parent := p.s.findResource(id)
		rp.res, rp.parent = r, parent
		released = r.Element()
		// the children of a container stay; their ids stay reserved
		var keep []*cib.Element
		for _, c := range released.Children {
			switch c.Name {
			case "primitive", "group", "clone", "master":
			default:
				keep = append(keep, c)
			}
		}
		released.Children = keep
	case kind == existing && kind == "tag":
		for i, t := range p.s.cfg.Tags {
			if t.ID == id {
				rp.tag = i
			}
		}
		released = &cib.Element{Name: "tag", Attrs: []cib.Attr{{Name: "id", Value: id}}}
	case kind == existing:
		for i, c := range p.s.cfg.Constraints {
			if c.ConstraintID() == id {
				rp.cons = i
				released = cib.ConstraintElement(c)
			}
		}
		if released == nil {
			return false
		}
	default:
		return false
	}
	free := map[string]bool{}
	collectIDs(released, free)
	for k := range free {
		delete(p.s.ids, k)
	}
	p.repl = rp
	return true
}

// placeResource adds a new resource, in the place of the one it replaces.
func (p *parser) placeResource(r *cib.Resource) {
	cfg := p.s.cfg
	list := &cfg.Resources
	if r.Kind == cib.KindTemplate {
		list = &cfg.Templates
	}
	if p.repl == nil || p.repl.res == nil {
		*list = append(*list, r)
		return
	}
	old, parent := p.repl.res, p.repl.parent
	// children of the old container that the new object does not take
	// move to the top level
	var orphans []*cib.Resource
	for _, c := range old.Children {
		taken := false
		for _, n := range r.Children {
			if n == c {
				taken = true
			}
		}
		if !taken {
			orphans = append(orphans, c)
		}
	}
	if parent != nil {
		for i, c := range parent.Children {
			if c == old {
				parent.Children[i] = r
			}
		}
		cfg.Resources = append(cfg.Resources, orphans...)
		return
	}
	if old.Kind == cib.KindTemplate {
		for i, t := range cfg.Templates {
			if t == old {
				cfg.Templates = append(cfg.Templates[:i:i], cfg.Templates[i+1:]...)
				break
			}
		}
	}
	placed := false
	for i, x := range cfg.Resources {
		if x == old {
			rest := append([]*cib.Resource(nil), cfg.Resources[i+1:]...)
			if r.Kind == cib.KindTemplate {
				cfg.Resources = append(append(cfg.Resources[:i:i], orphans...), rest...)
				cfg.Templates = append(cfg.Templates, r)
			} else {
				cfg.Resources = append(append(append(cfg.Resources[:i:i], r), orphans...), rest...)
			}
			placed = true
			break
		}
	}
	if !placed {
		*list = append(*list, r)
		cfg.Resources = append(cfg.Resources, orphans...)
	}
}

// placeConstraint adds a constraint, in the place of the one it replaces.
func (p *parser) placeConstraint(c cib.Constraint) {
	if p.repl != nil && p.repl.cons >= 0 {
		p.s.cfg.Constraints[p.repl.cons] = c
		return
	}
	p.s.cfg.Constraints = append(p.s.cfg.Constraints, c)
}
