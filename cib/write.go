package cib

import "bytes"

// Marshal writes the CIB as Pacemaker 2.1.5 XML.
func (c *CIB) Marshal() []byte {
	var b bytes.Buffer
	_ = c.Element().WriteXML(&b)
	return b.Bytes()
}

// Element converts the CIB back into an Element tree.
func (c *CIB) Element() *Element {
	root := &Element{Name: "cib", Attrs: append([]Attr(nil), c.Attrs...)}
	root.Children = append(root.Children, c.Config.Element())
	st := &Element{Name: "status"}
	for _, n := range c.Status.Nodes {
		st.Children = append(st.Children, n.Element())
	}
	root.Children = append(root.Children, st)
	return root
}

func withExtra(el *Element, extra []Attr) *Element {
	el.Attrs = append(el.Attrs, extra...)
	return el
}

// Element converts the configuration section.
func (cfg *Configuration) Element() *Element {
	el := &Element{Name: "configuration"}
	crm := &Element{Name: "crm_config"}
	for _, s := range cfg.CRMConfig {
		crm.Children = append(crm.Children, s.Element())
	}
	nodes := &Element{Name: "nodes"}
	for _, n := range cfg.Nodes {
		nodes.Children = append(nodes.Children, n.Element())
	}
	res := &Element{Name: "resources"}
	for _, t := range cfg.Templates {
		res.Children = append(res.Children, t.Element())
	}
	for _, r := range cfg.Resources {
		res.Children = append(res.Children, r.Element())
	}
	cons := &Element{Name: "constraints"}
	for _, c := range cfg.Constraints {
		cons.Children = append(cons.Children, ConstraintElement(c))
	}
	el.Children = append(el.Children, crm, nodes, res, cons)
	if cfg.HasFencingTopology || len(cfg.Fencing) > 0 {
		ft := &Element{Name: "fencing-topology"}
		ft.SetNonEmpty("id", cfg.FencingID)
		for _, l := range cfg.Fencing {
			le := &Element{Name: "fencing-level"}
			le.Set("id", l.ID)
			le.SetNonEmpty("target", l.Target)
			le.SetNonEmpty("target-pattern", l.TargetPattern)
			le.SetNonEmpty("target-attribute", l.TargetAttribute)
			le.SetNonEmpty("target-value", l.TargetValue)
			le.Set("index", l.Index)
			le.Set("devices", l.Devices)
			ft.Children = append(ft.Children, withExtra(le, l.Extra))
		}
		el.Children = append(el.Children, ft)
	}
	if cfg.HasRscDefaults || len(cfg.RscDefaults) > 0 {
		d := &Element{Name: "rsc_defaults"}
		d.SetNonEmpty("id", cfg.RscDefaultsID)
		for _, s := range cfg.RscDefaults {
			d.Children = append(d.Children, s.Element())
		}
		el.Children = append(el.Children, d)
	}
	if cfg.HasOpDefaults || len(cfg.OpDefaults) > 0 {
		d := &Element{Name: "op_defaults"}
		d.SetNonEmpty("id", cfg.OpDefaultsID)
		for _, s := range cfg.OpDefaults {
			d.Children = append(d.Children, s.Element())
		}
		el.Children = append(el.Children, d)
	}
	if cfg.HasTags || len(cfg.Tags) > 0 {
		tags := &Element{Name: "tags"}
		for _, t := range cfg.Tags {
			te := &Element{Name: "tag", Attrs: []Attr{{"id", t.ID}}}
			for _, r := range t.Refs {
				te.Children = append(te.Children, &Element{Name: "obj_ref", Attrs: []Attr{{"id", r}}})
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
	el := &Element{Name: s.Kind}
	el.SetNonEmpty("id", s.ID)
	el.SetNonEmpty("id-ref", s.IDRef)
	el.SetNonEmpty("score", s.Score)
	withExtra(el, s.Extra)
	for _, r := range s.Rules {
		el.Children = append(el.Children, r.Element())
	}
	for _, p := range s.Pairs {
		pe := &Element{Name: "nvpair"}
		pe.SetNonEmpty("id", p.ID)
		pe.SetNonEmpty("id-ref", p.IDRef)
		pe.SetNonEmpty("name", p.Name)
		if p.HasValue || p.Value != "" {
			pe.Set("value", p.Value)
		}
		el.Children = append(el.Children, withExtra(pe, p.Extra))
	}
	return el
}

// Element converts a rule.
func (r *Rule) Element() *Element {
	el := &Element{Name: "rule"}
	el.SetNonEmpty("id", r.ID)
	el.SetNonEmpty("id-ref", r.IDRef)
	el.SetNonEmpty("score", r.Score)
	el.SetNonEmpty("score-attribute", r.ScoreAttribute)
	el.SetNonEmpty("boolean-op", r.BooleanOp)
	el.SetNonEmpty("role", r.Role)
	withExtra(el, r.Extra)
	for _, x := range r.Exprs {
		switch e := x.(type) {
		case *Expression:
			ee := &Element{Name: "expression"}
			ee.SetNonEmpty("id", e.ID)
			ee.Set("attribute", e.Attribute)
			ee.Set("operation", e.Operation)
			ee.SetNonEmpty("value", e.Value)
			ee.SetNonEmpty("type", e.Type)
			ee.SetNonEmpty("value-source", e.ValueSource)
			el.Children = append(el.Children, withExtra(ee, e.Extra))
		case *DateExpression:
			de := &Element{Name: "date_expression"}
			de.SetNonEmpty("id", e.ID)
			de.Set("operation", e.Operation)
			de.SetNonEmpty("start", e.Start)
			de.SetNonEmpty("end", e.End)
			withExtra(de, e.Extra)
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
			re := &Element{Name: "rsc_expression"}
			re.SetNonEmpty("id", e.ID)
			re.SetNonEmpty("class", e.Class)
			re.SetNonEmpty("provider", e.Provider)
			re.SetNonEmpty("type", e.Type)
			el.Children = append(el.Children, re)
		case *OpExpression:
			oe := &Element{Name: "op_expression"}
			oe.SetNonEmpty("id", e.ID)
			oe.SetNonEmpty("name", e.Name)
			oe.SetNonEmpty("interval", e.Interval)
			el.Children = append(el.Children, oe)
		}
	}
	return el
}

func (d *DateSpec) element(name string) *Element {
	el := &Element{Name: name}
	el.SetNonEmpty("id", d.ID)
	el.Attrs = append(el.Attrs, d.Fields...)
	return el
}

// Element converts a node.
func (n *Node) Element() *Element {
	el := &Element{Name: "node"}
	el.Set("id", n.ID)
	el.Set("uname", n.Uname)
	el.SetNonEmpty("type", n.Type)
	el.SetNonEmpty("description", n.Description)
	el.SetNonEmpty("score", n.Score)
	withExtra(el, n.Extra)
	for _, s := range n.Instance {
		el.Children = append(el.Children, s.Element())
	}
	for _, s := range n.Utilization {
		el.Children = append(el.Children, s.Element())
	}
	return el
}

// Element converts a resource (recursively).
func (r *Resource) Element() *Element {
	if r.Raw != nil {
		return r.Raw.Clone()
	}
	el := &Element{Name: r.Kind}
	el.Set("id", r.ID)
	el.SetNonEmpty("class", r.Class)
	el.SetNonEmpty("provider", r.Provider)
	el.SetNonEmpty("type", r.Type)
	el.SetNonEmpty("template", r.Template)
	el.SetNonEmpty("description", r.Description)
	withExtra(el, r.Extra)
	for _, s := range r.Instance {
		el.Children = append(el.Children, s.Element())
	}
	for _, s := range r.Meta {
		el.Children = append(el.Children, s.Element())
	}
	for _, s := range r.Utilization {
		el.Children = append(el.Children, s.Element())
	}
	if r.HasOps || len(r.Ops) > 0 {
		ops := &Element{Name: "operations"}
		ops.SetNonEmpty("id", r.OpsID)
		for _, o := range r.Ops {
			ops.Children = append(ops.Children, o.Element())
		}
		el.Children = append(el.Children, ops)
	}
	for _, c := range r.Children {
		el.Children = append(el.Children, c.Element())
	}
	return el
}

// Element converts an op.
func (o *Op) Element() *Element {
	el := &Element{Name: "op"}
	el.SetNonEmpty("id", o.ID)
	el.SetNonEmpty("id-ref", o.IDRef)
	el.SetNonEmpty("name", o.Name)
	el.SetNonEmpty("interval", o.Interval)
	el.SetNonEmpty("role", o.Role)
	el.SetNonEmpty("timeout", o.Timeout)
	el.SetNonEmpty("on-fail", o.OnFail)
	el.SetNonEmpty("enabled", o.Enabled)
	el.SetNonEmpty("requires", o.Requires)
	el.SetNonEmpty("start-delay", o.StartDelay)
	el.SetNonEmpty("interval-origin", o.IntervalOrigin)
	el.SetNonEmpty("record-pending", o.RecordPending)
	el.SetNonEmpty("description", o.Description)
	withExtra(el, o.Extra)
	for _, s := range o.Meta {
		el.Children = append(el.Children, s.Element())
	}
	for _, s := range o.Instance {
		el.Children = append(el.Children, s.Element())
	}
	return el
}

func setsElements(el *Element, sets []*ResourceSet) {
	for _, s := range sets {
		se := &Element{Name: "resource_set"}
		se.SetNonEmpty("id", s.ID)
		se.SetNonEmpty("id-ref", s.IDRef)
		se.SetNonEmpty("sequential", s.Sequential)
		se.SetNonEmpty("require-all", s.RequireAll)
		se.SetNonEmpty("ordering", s.Ordering)
		se.SetNonEmpty("action", s.Action)
		se.SetNonEmpty("role", s.Role)
		se.SetNonEmpty("score", s.Score)
		se.SetNonEmpty("kind", s.Kind)
		withExtra(se, s.Extra)
		for _, r := range s.Refs {
			se.Children = append(se.Children, &Element{Name: "resource_ref", Attrs: []Attr{{"id", r}}})
		}
		el.Children = append(el.Children, se)
	}
}

// ConstraintElement converts any constraint.
func ConstraintElement(c Constraint) *Element {
	switch x := c.(type) {
	case *Location:
		el := &Element{Name: "rsc_location"}
		el.Set("id", x.ID)
		el.SetNonEmpty("rsc", x.Rsc)
		el.SetNonEmpty("rsc-pattern", x.RscPattern)
		el.SetNonEmpty("role", x.Role)
		el.SetNonEmpty("score", x.Score)
		el.SetNonEmpty("node", x.Node)
		el.SetNonEmpty("resource-discovery", x.ResourceDiscovery)
		withExtra(el, x.Extra)
		setsElements(el, x.Sets)
		for _, r := range x.Rules {
			el.Children = append(el.Children, r.Element())
		}
		return el
	case *Colocation:
		el := &Element{Name: "rsc_colocation"}
		el.Set("id", x.ID)
		el.SetNonEmpty("rsc", x.Rsc)
		el.SetNonEmpty("with-rsc", x.WithRsc)
		el.SetNonEmpty("rsc-role", x.RscRole)
		el.SetNonEmpty("with-rsc-role", x.WithRscRole)
		el.SetNonEmpty("score", x.Score)
		el.SetNonEmpty("node-attribute", x.NodeAttribute)
		el.SetNonEmpty("influence", x.Influence)
		el.SetNonEmpty("rsc-instance", x.RscInstance)
		el.SetNonEmpty("with-rsc-instance", x.WithInstance)
		withExtra(el, x.Extra)
		setsElements(el, x.Sets)
		return el
	case *Order:
		el := &Element{Name: "rsc_order"}
		el.Set("id", x.ID)
		el.SetNonEmpty("first", x.First)
		el.SetNonEmpty("then", x.Then)
		el.SetNonEmpty("first-action", x.FirstAction)
		el.SetNonEmpty("then-action", x.ThenAction)
		el.SetNonEmpty("kind", x.Kind)
		el.SetNonEmpty("score", x.Score)
		el.SetNonEmpty("symmetrical", x.Symmetrical)
		el.SetNonEmpty("require-all", x.RequireAll)
		withExtra(el, x.Extra)
		setsElements(el, x.Sets)
		return el
	case *RawConstraint:
		return x.El.Clone()
	}
	return &Element{Name: "unknown"}
}

// Element converts a node_state.
func (n *NodeState) Element() *Element {
	el := &Element{Name: "node_state", Attrs: append([]Attr(nil), n.Attrs...)}
	if n.HasTransient || len(n.Transient) > 0 {
		t := &Element{Name: "transient_attributes"}
		t.SetNonEmpty("id", n.TransientID)
		for _, s := range n.Transient {
			t.Children = append(t.Children, s.Element())
		}
		el.Children = append(el.Children, t)
	}
	if n.HasLRM || len(n.Resources) > 0 {
		l := &Element{Name: "lrm"}
		l.SetNonEmpty("id", n.LRMID)
		lr := &Element{Name: "lrm_resources"}
		for _, r := range n.Resources {
			re := &Element{Name: "lrm_resource", Attrs: append([]Attr(nil), r.Attrs...)}
			for _, o := range r.Ops {
				re.Children = append(re.Children, &Element{Name: "lrm_rsc_op", Attrs: append([]Attr(nil), o.Attrs...)})
			}
			lr.Children = append(lr.Children, re)
		}
		l.Children = append(l.Children, lr)
		el.Children = append(el.Children, l)
	}
	return el
}
