package cib

import (
	"bytes"
	"slices"
)

// Marshal writes the CIB as Pacemaker 2.1.5 XML.
func (c *CIB) Marshal() []byte {
	var b bytes.Buffer
	_ = c.Element().WriteXML(&b)
	return b.Bytes()
}

// Element converts the CIB back into an Element tree.
func (c *CIB) Element() *Element {
	root := &Element{Name: "cib", Attrs: append([]Attr(nil), c.Attrs...)}
	st := &Element{Name: "status"}
	appendChildren(st, c.Status.Nodes)
	root.Children = append(root.Children, c.Config.Element(), st)
	return root
}

// attrSpec is one attribute a typed value writes: its name and value, and
// whether it is written when the value is empty.
type attrSpec struct {
	name, value string
	keep        bool
}

// optAttr is an attribute left out when its value is empty
// (Element.SetNonEmpty).
func optAttr(name, value string) attrSpec { return attrSpec{name, value, false} }

// reqAttr is an attribute written even when its value is empty
// (Element.Set).
func reqAttr(name, value string) attrSpec { return attrSpec{name, value, true} }

// newElement returns an element named name whose attributes are specs, in
// order and without the empty optional ones, followed by extra (the
// attributes the typed value does not model). Callers pass distinct names,
// so the result is that of Set and SetNonEmpty calls on a new element
// followed by an append of extra; the attribute list is allocated once.
func newElement(name string, extra []Attr, specs ...attrSpec) *Element {
	n := len(extra)
	for _, s := range specs {
		if s.keep || s.value != "" {
			n++
		}
	}
	el := &Element{Name: name}
	if n == 0 {
		return el
	}
	el.Attrs = make([]Attr, 0, n)
	for _, s := range specs {
		if s.keep || s.value != "" {
			el.Attrs = append(el.Attrs, Attr{s.name, s.value})
		}
	}
	el.Attrs = append(el.Attrs, extra...)
	return el
}

// elementer is a typed value with an element form.
type elementer interface{ Element() *Element }

// childList returns room for n children: nil when n is 0, as when no
// child was ever appended.
func childList(n int) []*Element {
	if n == 0 {
		return nil
	}
	return make([]*Element, 0, n)
}

// appendChildren appends the element form of each of xs to el's children.
func appendChildren[T elementer](el *Element, xs []T) {
	el.Children = slices.Grow(el.Children, len(xs))
	for _, x := range xs {
		el.Children = append(el.Children, x.Element())
	}
}

// section returns an element named name with an optional id whose
// children are the element forms of xs.
func section[T elementer](name, id string, xs []T) *Element {
	el := newElement(name, nil, optAttr("id", id))
	appendChildren(el, xs)
	return el
}

// idElement returns an element named name with only an id (references).
func idElement(name, id string) *Element {
	return &Element{Name: name, Attrs: []Attr{{"id", id}}}
}

// Element converts the configuration section.
func (cfg *Configuration) Element() *Element {
	el := &Element{Name: "configuration"}
	res := section("resources", "", cfg.Templates)
	appendChildren(res, cfg.Resources)
	cons := &Element{Name: "constraints", Children: childList(len(cfg.Constraints))}
	for _, c := range cfg.Constraints {
		cons.Children = append(cons.Children, ConstraintElement(c))
	}
	el.Children = append(el.Children, section("crm_config", "", cfg.CRMConfig), section("nodes", "", cfg.Nodes), res, cons)
	if cfg.HasFencingTopology || len(cfg.Fencing) > 0 {
		ft := newElement("fencing-topology", nil, optAttr("id", cfg.FencingID))
		for _, l := range cfg.Fencing {
			ft.Children = append(ft.Children, newElement("fencing-level", l.Extra, reqAttr("id", l.ID),
				optAttr("target", l.Target), optAttr("target-pattern", l.TargetPattern),
				optAttr("target-attribute", l.TargetAttribute), optAttr("target-value", l.TargetValue),
				reqAttr("index", l.Index), reqAttr("devices", l.Devices)))
		}
		el.Children = append(el.Children, ft)
	}
	if cfg.HasRscDefaults || len(cfg.RscDefaults) > 0 {
		el.Children = append(el.Children, section("rsc_defaults", cfg.RscDefaultsID, cfg.RscDefaults))
	}
	if cfg.HasOpDefaults || len(cfg.OpDefaults) > 0 {
		el.Children = append(el.Children, section("op_defaults", cfg.OpDefaultsID, cfg.OpDefaults))
	}
	if cfg.HasTags || len(cfg.Tags) > 0 {
		tags := &Element{Name: "tags"}
		for _, t := range cfg.Tags {
			te := idElement("tag", t.ID)
			for _, r := range t.Refs {
				te.Children = append(te.Children, idElement("obj_ref", r))
			}
			tags.Children = append(tags.Children, te)
		}
		el.Children = append(el.Children, tags)
	}
	for _, o := range cfg.Other {
		el.Children = append(el.Children, o.Clone())
	}
	return el
}

// Element converts an nvset.
func (s *NVSet) Element() *Element {
	el := newElement(s.Kind, s.Extra, optAttr("id", s.ID), optAttr("id-ref", s.IDRef), optAttr("score", s.Score))
	appendChildren(el, s.Rules)
	el.Children = slices.Grow(el.Children, len(s.Pairs))
	for _, p := range s.Pairs {
		el.Children = append(el.Children, newElement("nvpair", p.Extra, optAttr("id", p.ID), optAttr("id-ref", p.IDRef),
			optAttr("name", p.Name), attrSpec{"value", p.Value, p.HasValue}))
	}
	return el
}

// Element converts a rule.
func (r *Rule) Element() *Element {
	el := newElement("rule", r.Extra, optAttr("id", r.ID), optAttr("id-ref", r.IDRef), optAttr("score", r.Score),
		optAttr("score-attribute", r.ScoreAttribute), optAttr("boolean-op", r.BooleanOp), optAttr("role", r.Role))
	for _, x := range r.Exprs {
		switch e := x.(type) {
		case *Expression:
			el.Children = append(el.Children, newElement("expression", e.Extra, optAttr("id", e.ID),
				reqAttr("attribute", e.Attribute), reqAttr("operation", e.Operation), optAttr("value", e.Value),
				optAttr("type", e.Type), optAttr("value-source", e.ValueSource)))
		case *DateExpression:
			de := newElement("date_expression", e.Extra, optAttr("id", e.ID), reqAttr("operation", e.Operation),
				optAttr("start", e.Start), optAttr("end", e.End))
			if e.DateSpec != nil {
				de.Children = append(de.Children, e.DateSpec.element("date_spec"))
			}
			if e.Duration != nil {
				de.Children = append(de.Children, e.Duration.element("duration"))
			}
			el.Children = append(el.Children, de)
		case *Rule:
			el.Children = append(el.Children, e.Element())
		case *RscExpression:
			el.Children = append(el.Children, newElement("rsc_expression", nil, optAttr("id", e.ID),
				optAttr("class", e.Class), optAttr("provider", e.Provider), optAttr("type", e.Type)))
		case *OpExpression:
			el.Children = append(el.Children, newElement("op_expression", nil, optAttr("id", e.ID),
				optAttr("name", e.Name), optAttr("interval", e.Interval)))
		}
	}
	return el
}

func (d *DateSpec) element(name string) *Element {
	return newElement(name, d.Fields, optAttr("id", d.ID))
}

// Element converts a node.
func (n *Node) Element() *Element {
	el := newElement("node", n.Extra, reqAttr("id", n.ID), reqAttr("uname", n.Uname), optAttr("type", n.Type),
		optAttr("description", n.Description), optAttr("score", n.Score))
	appendChildren(el, n.Instance)
	appendChildren(el, n.Utilization)
	return el
}

// Element converts a resource (recursively).
func (r *Resource) Element() *Element {
	if r.Raw != nil {
		return r.Raw.Clone()
	}
	el := newElement(r.Kind, r.Extra, reqAttr("id", r.ID), optAttr("class", r.Class), optAttr("provider", r.Provider),
		optAttr("type", r.Type), optAttr("template", r.Template), optAttr("description", r.Description))
	appendChildren(el, r.Instance)
	appendChildren(el, r.Meta)
	appendChildren(el, r.Utilization)
	if r.HasOps || len(r.Ops) > 0 {
		el.Children = append(el.Children, section("operations", r.OpsID, r.Ops))
	}
	appendChildren(el, r.Children)
	return el
}

// Element converts an op.
func (o *Op) Element() *Element {
	el := newElement("op", o.Extra, optAttr("id", o.ID), optAttr("id-ref", o.IDRef), optAttr("name", o.Name),
		optAttr("interval", o.Interval), optAttr("role", o.Role), optAttr("timeout", o.Timeout),
		optAttr("on-fail", o.OnFail), optAttr("enabled", o.Enabled), optAttr("requires", o.Requires),
		optAttr("start-delay", o.StartDelay), optAttr("interval-origin", o.IntervalOrigin),
		optAttr("record-pending", o.RecordPending), optAttr("description", o.Description))
	appendChildren(el, o.Meta)
	appendChildren(el, o.Instance)
	return el
}

// constraintElement returns a constraint's element: its attributes, then
// its resource sets.
func constraintElement(name string, extra []Attr, sets []*ResourceSet, specs ...attrSpec) *Element {
	el := newElement(name, extra, specs...)
	for _, s := range sets {
		se := newElement("resource_set", s.Extra, optAttr("id", s.ID), optAttr("id-ref", s.IDRef),
			optAttr("sequential", s.Sequential), optAttr("require-all", s.RequireAll), optAttr("ordering", s.Ordering),
			optAttr("action", s.Action), optAttr("role", s.Role), optAttr("score", s.Score), optAttr("kind", s.Kind))
		for _, r := range s.Refs {
			se.Children = append(se.Children, idElement("resource_ref", r))
		}
		el.Children = append(el.Children, se)
	}
	return el
}

// ConstraintElement converts any constraint.
func ConstraintElement(c Constraint) *Element {
	switch x := c.(type) {
	case *Location:
		el := constraintElement("rsc_location", x.Extra, x.Sets, reqAttr("id", x.ID), optAttr("rsc", x.Rsc),
			optAttr("rsc-pattern", x.RscPattern), optAttr("role", x.Role), optAttr("score", x.Score),
			optAttr("node", x.Node), optAttr("resource-discovery", x.ResourceDiscovery))
		appendChildren(el, x.Rules)
		return el
	case *Colocation:
		return constraintElement("rsc_colocation", x.Extra, x.Sets, reqAttr("id", x.ID), optAttr("rsc", x.Rsc),
			optAttr("with-rsc", x.WithRsc), optAttr("rsc-role", x.RscRole), optAttr("with-rsc-role", x.WithRscRole),
			optAttr("score", x.Score), optAttr("node-attribute", x.NodeAttribute), optAttr("influence", x.Influence),
			optAttr("rsc-instance", x.RscInstance), optAttr("with-rsc-instance", x.WithInstance))
	case *Order:
		return constraintElement("rsc_order", x.Extra, x.Sets, reqAttr("id", x.ID), optAttr("first", x.First),
			optAttr("then", x.Then), optAttr("first-action", x.FirstAction), optAttr("then-action", x.ThenAction),
			optAttr("kind", x.Kind), optAttr("score", x.Score), optAttr("symmetrical", x.Symmetrical),
			optAttr("require-all", x.RequireAll))
	case *RawConstraint:
		return x.El.Clone()
	}
	return &Element{Name: "unknown"}
}

// Element converts a node_state.
func (n *NodeState) Element() *Element {
	el := &Element{Name: "node_state", Attrs: append([]Attr(nil), n.Attrs...)}
	if n.HasTransient || len(n.Transient) > 0 {
		el.Children = append(el.Children, section("transient_attributes", n.TransientID, n.Transient))
	}
	if n.HasLRM || len(n.Resources) > 0 {
		lr := &Element{Name: "lrm_resources", Children: childList(len(n.Resources))}
		for _, r := range n.Resources {
			re := &Element{Name: "lrm_resource", Attrs: append([]Attr(nil), r.Attrs...), Children: childList(len(r.Ops))}
			for _, o := range r.Ops {
				re.Children = append(re.Children, &Element{Name: "lrm_rsc_op", Attrs: append([]Attr(nil), o.Attrs...)})
			}
			lr.Children = append(lr.Children, re)
		}
		l := newElement("lrm", nil, optAttr("id", n.LRMID))
		l.Children = []*Element{lr}
		el.Children = append(el.Children, l)
	}
	return el
}
