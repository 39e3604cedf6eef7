package cib

import (
	"errors"
	"fmt"
)

// Index maps ids to objects of a configuration. Build it with NewIndex.
type Index struct {
	Resources map[string]*Resource // every resource at any depth, and templates
	Parent    map[string]*Resource
	NVSets    map[string]*NVSet
	Rules     map[string]*Rule
	Pairs     map[string]*NVPair
	Ops       map[string]*Op
	Tags      map[string]*Tag
	Nodes     map[string]*Node  // by uname
	IDs       map[string]string // every id -> element kind
}

// NewIndex indexes the configuration. Duplicate ids are reported by Validate.
func NewIndex(cfg *Configuration) *Index {
	ix := &Index{Resources: map[string]*Resource{}, Parent: map[string]*Resource{}, NVSets: map[string]*NVSet{}, Rules: map[string]*Rule{},
		Pairs: map[string]*NVPair{}, Ops: map[string]*Op{}, Tags: map[string]*Tag{}, Nodes: map[string]*Node{}, IDs: map[string]string{}}
	var addSets func(sets []*NVSet)
	var addRule func(r *Rule)
	addRule = func(r *Rule) {
		if r.ID != "" {
			ix.Rules[r.ID] = r
		}
		for _, e := range r.Exprs {
			if sub, ok := e.(*Rule); ok {
				addRule(sub)
			}
		}
	}
	addSets = func(sets []*NVSet) {
		for _, s := range sets {
			if s.ID != "" {
				ix.NVSets[s.ID] = s
			}
			for _, p := range s.Pairs {
				if p.ID != "" {
					ix.Pairs[p.ID] = p
				}
			}
			for _, r := range s.Rules {
				addRule(r)
			}
		}
	}
	addSets(cfg.CRMConfig)
	addSets(cfg.RscDefaults)
	addSets(cfg.OpDefaults)
	for _, n := range cfg.Nodes {
		ix.Nodes[n.Uname] = n
		addSets(n.Instance)
		addSets(n.Utilization)
	}
	var addRes func(r *Resource, parent *Resource)
	addRes = func(r *Resource, parent *Resource) {
		ix.Resources[r.ID] = r
		if parent != nil {
			ix.Parent[r.ID] = parent
		}
		addSets(r.Meta)
		addSets(r.Instance)
		addSets(r.Utilization)
		for _, o := range r.Ops {
			if o.ID != "" {
				ix.Ops[o.ID] = o
			}
			addSets(o.Meta)
			addSets(o.Instance)
		}
		for _, c := range r.Children {
			addRes(c, r)
		}
	}
	for _, t := range cfg.Templates {
		addRes(t, nil)
	}
	for _, r := range cfg.Resources {
		addRes(r, nil)
	}
	for _, t := range cfg.Tags {
		ix.Tags[t.ID] = t
	}
	for _, c := range cfg.Constraints {
		for _, r := range constraintRules(c) {
			addRule(r)
		}
	}
	return ix
}

func constraintRules(c Constraint) []*Rule {
	if l, ok := c.(*Location); ok {
		return l.Rules
	}
	return nil
}

// ResolveSet follows an nvset id-ref (one level; Pacemaker allows only one).
func (ix *Index) ResolveSet(s *NVSet) *NVSet {
	if s.IDRef != "" {
		if t, ok := ix.NVSets[s.IDRef]; ok {
			return t
		}
	}
	return s
}

// ResolveRule follows a rule id-ref.
func (ix *Index) ResolveRule(r *Rule) *Rule {
	if r.IDRef != "" {
		if t, ok := ix.Rules[r.IDRef]; ok {
			return t
		}
	}
	return r
}

// ErrDanglingRef is wrapped by errors about references to missing objects.
var ErrDanglingRef = errors.New("dangling reference")

// RefError names the referencing element and the missing target.
type RefError struct {
	Element string
	ID      string
	Field   string
	Target  string
	Line    int
}

func (e *RefError) Error() string {
	s := ""
	if e.Line > 0 {
		s = fmt.Sprintf("line %d: ", e.Line)
	}
	return fmt.Sprintf("%s<%s id=%q>: %s %q does not exist", s, e.Element, e.ID, e.Field, e.Target)
}

func (e *RefError) Unwrap() []error { return []error{ErrDanglingRef, ErrInvalid} }

// Validate checks references inside the configuration: nvset/rule/op id-refs,
// templates, and constraint targets (resources, templates or tags). It returns
// the first problem found; Problems returns all of them.
func (c *CIB) Validate() error {
	if p := c.Problems(); len(p) > 0 {
		return p[0]
	}
	return nil
}

// Problems returns every reference problem in the configuration.
func (c *CIB) Problems() []error {
	ix := NewIndex(&c.Config)
	var errs []error
	var checkSets func(owner string, sets []*NVSet)
	var checkRule func(r *Rule)
	checkRule = func(r *Rule) {
		if r.IDRef != "" {
			if _, ok := ix.Rules[r.IDRef]; !ok {
				errs = append(errs, &RefError{Element: "rule", ID: r.IDRef, Field: "id-ref", Target: r.IDRef})
			}
		}
		for _, e := range r.Exprs {
			if sub, ok := e.(*Rule); ok {
				checkRule(sub)
			}
		}
	}
	checkSets = func(owner string, sets []*NVSet) {
		for _, s := range sets {
			if s.IDRef != "" {
				if _, ok := ix.NVSets[s.IDRef]; !ok {
					errs = append(errs, &RefError{Element: s.Kind, ID: owner, Field: "id-ref", Target: s.IDRef, Line: s.Line})
				}
			}
			for _, p := range s.Pairs {
				if p.IDRef != "" {
					if _, ok := ix.Pairs[p.IDRef]; !ok {
						errs = append(errs, &RefError{Element: "nvpair", ID: s.ID, Field: "id-ref", Target: p.IDRef, Line: s.Line})
					}
				}
			}
			for _, r := range s.Rules {
				checkRule(r)
			}
		}
	}
	checkSets("crm_config", c.Config.CRMConfig)
	checkSets("rsc_defaults", c.Config.RscDefaults)
	checkSets("op_defaults", c.Config.OpDefaults)
	for _, r := range ix.Resources {
		checkSets(r.ID, r.Meta)
		checkSets(r.ID, r.Instance)
		if r.Template != "" {
			if t, ok := ix.Resources[r.Template]; !ok || t.Kind != KindTemplate {
				errs = append(errs, &RefError{Element: r.Kind, ID: r.ID, Field: "template", Target: r.Template, Line: r.Line})
			}
		}
		for _, o := range r.Ops {
			if o.IDRef != "" {
				if _, ok := ix.Ops[o.IDRef]; !ok {
					errs = append(errs, &RefError{Element: "op", ID: r.ID, Field: "id-ref", Target: o.IDRef, Line: r.Line})
				}
			}
		}
	}
	known := func(id string) bool {
		if _, ok := ix.Resources[id]; ok {
			return true
		}
		_, ok := ix.Tags[id]
		return ok
	}
	for _, con := range c.Config.Constraints {
		var line int
		var name string
		var refs [][2]string
		var sets []*ResourceSet
		switch x := con.(type) {
		case *Location:
			line, name, sets = x.Line, "rsc_location", x.Sets
			if x.Rsc != "" {
				refs = append(refs, [2]string{"rsc", x.Rsc})
			}
			for _, r := range x.Rules {
				checkRule(r)
			}
		case *Colocation:
			line, name, sets = x.Line, "rsc_colocation", x.Sets
			if x.Rsc != "" {
				refs = append(refs, [2]string{"rsc", x.Rsc}, [2]string{"with-rsc", x.WithRsc})
			}
		case *Order:
			line, name, sets = x.Line, "rsc_order", x.Sets
			if x.First != "" {
				refs = append(refs, [2]string{"first", x.First}, [2]string{"then", x.Then})
			}
		default:
			continue
		}
		for _, s := range sets {
			for _, r := range s.Refs {
				refs = append(refs, [2]string{"resource_ref", r})
			}
		}
		for _, r := range refs {
			if !known(r[1]) {
				errs = append(errs, &RefError{Element: name, ID: con.ConstraintID(), Field: r[0], Target: r[1], Line: line})
			}
		}
	}
	return errs
}
