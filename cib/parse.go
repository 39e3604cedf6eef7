package cib

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrInvalid is wrapped by every semantic error in a CIB document (dangling
// references, missing ids, unknown elements where they matter).
var ErrInvalid = errors.New("invalid CIB")

// ParseError locates a problem in a CIB document.
type ParseError struct {
	Line    int
	Element string
	ID      string
	Msg     string
}

func (e *ParseError) Error() string {
	s := ""
	if e.Line > 0 {
		s = fmt.Sprintf("line %d: ", e.Line)
	}
	s += "<" + e.Element
	if e.ID != "" {
		s += fmt.Sprintf(" id=%q", e.ID)
	}
	return s + ">: " + e.Msg
}

func (e *ParseError) Unwrap() error { return ErrInvalid }

func perr(el *Element, format string, args ...any) error {
	return &ParseError{Line: el.Line, Element: el.Name, ID: el.Get("id"), Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a CIB XML document. It checks structure and references (id-ref,
// constraint targets) and returns an error naming the element and line on
// the first problem. Parse never panics on any input. It is safe for
// concurrent use; the status section of a large document is parsed by up
// to GOMAXPROCS goroutines (the caller's included), all finished before it
// returns, and the result is the same as a sequential parse's. The CIB
// shares no memory with data.
func Parse(data []byte) (*CIB, error) {
	// A large status section is parsed and converted in parallel; any
	// error there means parsing again sequentially, for the same result.
	root, sp, err := parseElementSplit(data, true)
	if err == nil {
		if c, err := fromElement(root, true, sp); err == nil || sp == nil {
			return c, err
		}
	} else if !errors.Is(err, errSplitFailed) {
		return nil, err
	}
	if root, err = parseElementSeq(data); err != nil {
		return nil, err
	}
	// The tree is Parse's own: the CIB may share its attribute lists.
	return fromElement(root, true, nil)
}

// FromElement converts an Element tree rooted at <cib> into a CIB. The CIB
// shares no memory with the tree, which the caller may keep changing.
func FromElement(root *Element) (*CIB, error) {
	return fromElement(root, false, nil)
}

// fromElement is FromElement; with share, the status section's values keep
// the tree's attribute lists instead of copying them. sp, when not nil,
// holds the node states of a split parse, already converted.
func fromElement(root *Element, share bool, sp *statusSplit) (*CIB, error) {
	if root.Name != "cib" {
		return nil, perr(root, "root element must be <cib>")
	}
	c := &CIB{Attrs: append([]Attr(nil), root.Attrs...)}
	cfg := root.Child("configuration")
	if cfg == nil {
		return nil, perr(root, "missing <configuration>")
	}
	if err := parseConfiguration(cfg, &c.Config); err != nil {
		return nil, err
	}
	if st := root.Child("status"); st != nil {
		pre := sp != nil && sp.convert && sp.status == st && len(sp.states) == len(st.Children)
		if sp != nil && sp.convert && !pre {
			// The split's stand-in elements cannot be converted here.
			return nil, errSplitFailed
		}
		for i, ns := range st.Children {
			if ns.Name != "node_state" {
				continue
			}
			var n *NodeState
			if pre && sp.states[i] != nil {
				n = sp.states[i]
			} else {
				var err error
				if n, err = parseNodeState(ns, share); err != nil {
					return nil, err
				}
			}
			c.Status.Nodes = append(c.Status.Nodes, n)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func splitAttrs(el *Element, known ...string) (map[string]string, []Attr) {
	m := make(map[string]string, len(known))
	var extra []Attr
outer:
	for _, a := range el.Attrs {
		for _, k := range known {
			if a.Name == k {
				m[k] = a.Value
				continue outer
			}
		}
		extra = append(extra, a)
	}
	return m, extra
}

func parseConfiguration(cfg *Element, out *Configuration) error {
	for _, ch := range cfg.Children {
		switch ch.Name {
		case "crm_config":
			for _, s := range ch.Children {
				if s.Name != "cluster_property_set" {
					continue
				}
				set, err := parseNVSet(s)
				if err != nil {
					return err
				}
				out.CRMConfig = append(out.CRMConfig, set)
			}
		case "nodes":
			for _, n := range ch.Children {
				if n.Name != "node" {
					continue
				}
				node, err := parseNode(n)
				if err != nil {
					return err
				}
				out.Nodes = append(out.Nodes, node)
			}
		case "resources":
			for _, r := range ch.Children {
				if r.Name == "template" {
					t, err := parseResource(r)
					if err != nil {
						return err
					}
					out.Templates = append(out.Templates, t)
					continue
				}
				res, err := parseResource(r)
				if err != nil {
					return err
				}
				out.Resources = append(out.Resources, res)
			}
		case "constraints":
			for _, c := range ch.Children {
				con, err := parseConstraint(c)
				if err != nil {
					return err
				}
				out.Constraints = append(out.Constraints, con)
			}
		case "rsc_defaults", "op_defaults":
			var sets []*NVSet
			for _, s := range ch.Children {
				if s.Name != "meta_attributes" && s.Name != "instance_attributes" {
					continue
				}
				set, err := parseNVSet(s)
				if err != nil {
					return err
				}
				sets = append(sets, set)
			}
			if ch.Name == "rsc_defaults" {
				out.RscDefaults, out.RscDefaultsID, out.HasRscDefaults = sets, ch.Get("id"), true
			} else {
				out.OpDefaults, out.OpDefaultsID, out.HasOpDefaults = sets, ch.Get("id"), true
			}
		case "fencing-topology":
			out.HasFencingTopology = true
			out.FencingID = ch.Get("id")
			for _, l := range ch.Children {
				if l.Name != "fencing-level" {
					continue
				}
				m, extra := splitAttrs(l, "id", "target", "target-pattern", "target-attribute", "target-value", "index", "devices")
				if m["id"] == "" {
					return perr(l, "missing id")
				}
				if m["devices"] == "" {
					return perr(l, "missing devices")
				}
				if _, err := strconv.Atoi(m["index"]); err != nil {
					return perr(l, "index %q is not a number", m["index"])
				}
				out.Fencing = append(out.Fencing, &FencingLevel{ID: m["id"], Target: m["target"], TargetPattern: m["target-pattern"],
					TargetAttribute: m["target-attribute"], TargetValue: m["target-value"], Index: m["index"], Devices: m["devices"], Extra: extra})
			}
		case "tags":
			out.HasTags = true
			for _, t := range ch.Children {
				if t.Name != "tag" {
					continue
				}
				tag := &Tag{ID: t.Get("id")}
				if tag.ID == "" {
					return perr(t, "missing id")
				}
				for _, r := range t.Children {
					if r.Name == "obj_ref" {
						tag.Refs = append(tag.Refs, r.Get("id"))
					}
				}
				out.Tags = append(out.Tags, tag)
			}
		default:
			out.Other = append(out.Other, ch.Clone())
		}
	}
	return nil
}

func parseNVSet(el *Element) (*NVSet, error) {
	m, extra := splitAttrs(el, "id", "id-ref", "score")
	s := &NVSet{Kind: el.Name, ID: m["id"], IDRef: m["id-ref"], Score: m["score"], Extra: extra, Line: el.Line}
	if s.ID == "" && s.IDRef == "" {
		return nil, perr(el, "missing id")
	}
	for _, ch := range el.Children {
		switch ch.Name {
		case "nvpair":
			pm, pextra := splitAttrs(ch, "id", "id-ref", "name", "value")
			p := &NVPair{ID: pm["id"], IDRef: pm["id-ref"], Name: pm["name"], Value: pm["value"], HasValue: ch.Has("value"), Extra: pextra}
			if p.IDRef == "" && p.Name == "" {
				return nil, perr(ch, "nvpair without name")
			}
			s.Pairs = append(s.Pairs, p)
		case "rule":
			r, err := parseRule(ch)
			if err != nil {
				return nil, err
			}
			s.Rules = append(s.Rules, r)
		case "attributes": // pre-1.0 wrapper
			inner, err := parseNVSet(&Element{Name: el.Name, Attrs: []Attr{{"id", s.ID + "-attrs"}}, Children: ch.Children, Line: ch.Line})
			if err != nil {
				return nil, err
			}
			s.Pairs = append(s.Pairs, inner.Pairs...)
		}
	}
	return s, nil
}

func parseRule(el *Element) (*Rule, error) {
	m, extra := splitAttrs(el, "id", "id-ref", "score", "score-attribute", "boolean-op", "role")
	r := &Rule{ID: m["id"], IDRef: m["id-ref"], Score: m["score"], ScoreAttribute: m["score-attribute"], BooleanOp: m["boolean-op"], Role: m["role"], Extra: extra}
	if r.ID == "" && r.IDRef == "" {
		return nil, perr(el, "missing id")
	}
	if r.BooleanOp != "" && r.BooleanOp != "and" && r.BooleanOp != "or" {
		return nil, perr(el, "boolean-op %q must be and or or", r.BooleanOp)
	}
	for _, ch := range el.Children {
		switch ch.Name {
		case "expression":
			em, eextra := splitAttrs(ch, "id", "attribute", "operation", "value", "type", "value-source")
			e := &Expression{ID: em["id"], Attribute: em["attribute"], Operation: em["operation"], Value: em["value"], Type: em["type"], ValueSource: em["value-source"], Extra: eextra}
			if e.Attribute == "" {
				return nil, perr(ch, "missing attribute")
			}
			if e.Operation == "" {
				return nil, perr(ch, "missing operation")
			}
			r.Exprs = append(r.Exprs, e)
		case "date_expression":
			dm, dextra := splitAttrs(ch, "id", "operation", "start", "end")
			d := &DateExpression{ID: dm["id"], Operation: dm["operation"], Start: dm["start"], End: dm["end"], Extra: dextra}
			if d.Operation == "" {
				d.Operation = "in_range"
			}
			for _, g := range ch.Children {
				ds := &DateSpec{ID: g.Get("id")}
				for _, a := range g.Attrs {
					if a.Name != "id" {
						ds.Fields = append(ds.Fields, a)
					}
				}
				switch g.Name {
				case "date_spec":
					d.DateSpec = ds
				case "duration":
					d.Duration = ds
				}
			}
			r.Exprs = append(r.Exprs, d)
		case "rule":
			sub, err := parseRule(ch)
			if err != nil {
				return nil, err
			}
			r.Exprs = append(r.Exprs, sub)
		case "rsc_expression":
			r.Exprs = append(r.Exprs, &RscExpression{ID: ch.Get("id"), Class: ch.Get("class"), Provider: ch.Get("provider"), Type: ch.Get("type")})
		case "op_expression":
			r.Exprs = append(r.Exprs, &OpExpression{ID: ch.Get("id"), Name: ch.Get("name"), Interval: ch.Get("interval")})
		}
	}
	return r, nil
}

func parseNode(el *Element) (*Node, error) {
	m, extra := splitAttrs(el, "id", "uname", "type", "description", "score")
	n := &Node{ID: m["id"], Uname: m["uname"], Type: m["type"], Description: m["description"], Score: m["score"], Extra: extra, Line: el.Line}
	if n.ID == "" {
		return nil, perr(el, "missing id")
	}
	if n.Uname == "" {
		return nil, perr(el, "missing uname")
	}
	for _, ch := range el.Children {
		switch ch.Name {
		case "instance_attributes":
			s, err := parseNVSet(ch)
			if err != nil {
				return nil, err
			}
			n.Instance = append(n.Instance, s)
		case "utilization":
			s, err := parseNVSet(ch)
			if err != nil {
				return nil, err
			}
			n.Utilization = append(n.Utilization, s)
		}
	}
	return n, nil
}

func parseResource(el *Element) (*Resource, error) {
	r := &Resource{Kind: el.Name, Line: el.Line}
	switch el.Name {
	case KindPrimitive, KindTemplate:
		m, extra := splitAttrs(el, "id", "class", "provider", "type", "template", "description")
		r.ID, r.Class, r.Provider, r.Type, r.Template, r.Description, r.Extra = m["id"], m["class"], m["provider"], m["type"], m["template"], m["description"], extra
		if r.Template == "" && r.Type == "" {
			return nil, perr(el, "missing type")
		}
		if r.Template == "" && r.Class == "" {
			return nil, perr(el, "missing class")
		}
		if r.Class == "ocf" && r.Provider == "" && r.Template == "" {
			return nil, perr(el, "ocf resource without provider")
		}
	case KindGroup, KindClone, KindMaster:
		m, extra := splitAttrs(el, "id", "description")
		r.ID, r.Description, r.Extra = m["id"], m["description"], extra
	case KindBundle:
		r.ID = el.Get("id")
		r.Raw = el.Clone()
		return r, nil
	default:
		return nil, perr(el, "unknown resource element")
	}
	if r.ID == "" {
		return nil, perr(el, "missing id")
	}
	for _, ch := range el.Children {
		switch ch.Name {
		case "meta_attributes", "instance_attributes", "utilization":
			s, err := parseNVSet(ch)
			if err != nil {
				return nil, err
			}
			switch ch.Name {
			case "meta_attributes":
				r.Meta = append(r.Meta, s)
			case "instance_attributes":
				r.Instance = append(r.Instance, s)
			default:
				r.Utilization = append(r.Utilization, s)
			}
		case "operations":
			r.HasOps = true
			r.OpsID = ch.Get("id")
			for _, o := range ch.Children {
				if o.Name != "op" {
					continue
				}
				op, err := parseOp(o)
				if err != nil {
					return nil, err
				}
				r.Ops = append(r.Ops, op)
			}
		case KindPrimitive, KindGroup, KindClone, KindMaster:
			if r.Kind == KindPrimitive || r.Kind == KindTemplate {
				return nil, perr(ch, "a primitive cannot contain resources")
			}
			if r.Kind == KindGroup && ch.Name != KindPrimitive {
				return nil, perr(ch, "a group may only contain primitives")
			}
			if (r.Kind == KindClone || r.Kind == KindMaster) && len(r.Children) > 0 {
				return nil, perr(ch, "a clone may contain only one resource")
			}
			child, err := parseResource(ch)
			if err != nil {
				return nil, err
			}
			r.Children = append(r.Children, child)
		}
	}
	if (r.Kind == KindClone || r.Kind == KindMaster) && len(r.Children) == 0 {
		return nil, perr(el, "clone without a child resource")
	}
	return r, nil
}

func parseOp(el *Element) (*Op, error) {
	m, extra := splitAttrs(el, "id", "id-ref", "name", "interval", "role", "timeout", "on-fail", "enabled", "requires", "start-delay", "interval-origin", "record-pending", "description")
	op := &Op{ID: m["id"], IDRef: m["id-ref"], Name: m["name"], Interval: m["interval"], Role: m["role"], Timeout: m["timeout"], OnFail: m["on-fail"],
		Enabled: m["enabled"], Requires: m["requires"], StartDelay: m["start-delay"], IntervalOrigin: m["interval-origin"], RecordPending: m["record-pending"],
		Description: m["description"], Extra: extra}
	if op.ID == "" && op.IDRef == "" {
		return nil, perr(el, "missing id")
	}
	if op.IDRef == "" && op.Name == "" {
		return nil, perr(el, "missing name")
	}
	if op.Interval != "" {
		if _, err := ParseIntervalMS(op.Interval); err != nil {
			return nil, perr(el, "interval: %v", err)
		}
	}
	for _, ch := range el.Children {
		switch ch.Name {
		case "meta_attributes", "instance_attributes":
			s, err := parseNVSet(ch)
			if err != nil {
				return nil, err
			}
			if ch.Name == "meta_attributes" {
				op.Meta = append(op.Meta, s)
			} else {
				op.Instance = append(op.Instance, s)
			}
		}
	}
	return op, nil
}

func parseSets(el *Element) ([]*ResourceSet, error) {
	var sets []*ResourceSet
	for _, ch := range el.Children {
		if ch.Name != "resource_set" {
			continue
		}
		m, extra := splitAttrs(ch, "id", "id-ref", "sequential", "require-all", "ordering", "action", "role", "score", "kind")
		s := &ResourceSet{ID: m["id"], IDRef: m["id-ref"], Sequential: m["sequential"], RequireAll: m["require-all"], Ordering: m["ordering"],
			Action: m["action"], Role: m["role"], Score: m["score"], Kind: m["kind"], Extra: extra}
		if s.ID == "" && s.IDRef == "" {
			return nil, perr(ch, "missing id")
		}
		for _, r := range ch.Children {
			if r.Name == "resource_ref" {
				if r.Get("id") == "" {
					return nil, perr(r, "resource_ref without id")
				}
				s.Refs = append(s.Refs, r.Get("id"))
			}
		}
		sets = append(sets, s)
	}
	return sets, nil
}

func parseConstraint(el *Element) (Constraint, error) {
	if el.Get("id") == "" {
		return nil, perr(el, "missing id")
	}
	switch el.Name {
	case "rsc_location":
		m, extra := splitAttrs(el, "id", "rsc", "rsc-pattern", "role", "score", "node", "resource-discovery")
		l := &Location{ID: m["id"], Rsc: m["rsc"], RscPattern: m["rsc-pattern"], Role: m["role"], Score: m["score"], Node: m["node"], ResourceDiscovery: m["resource-discovery"], Extra: extra, Line: el.Line}
		for _, ch := range el.Children {
			if ch.Name == "rule" {
				r, err := parseRule(ch)
				if err != nil {
					return nil, err
				}
				l.Rules = append(l.Rules, r)
			}
		}
		sets, err := parseSets(el)
		if err != nil {
			return nil, err
		}
		l.Sets = sets
		if l.Rsc == "" && l.RscPattern == "" && len(l.Sets) == 0 {
			return nil, perr(el, "no resource (rsc, rsc-pattern or resource_set)")
		}
		if l.Node != "" && l.Score == "" {
			return nil, perr(el, "node given without score")
		}
		if l.Node == "" && len(l.Rules) == 0 {
			return nil, perr(el, "neither node nor rule")
		}
		if l.Score != "" {
			if _, err := ParseScore(l.Score); err != nil {
				return nil, perr(el, "score: %v", err)
			}
		}
		return l, nil
	case "rsc_colocation":
		m, extra := splitAttrs(el, "id", "rsc", "with-rsc", "rsc-role", "with-rsc-role", "score", "node-attribute", "influence", "rsc-instance", "with-rsc-instance")
		c := &Colocation{ID: m["id"], Rsc: m["rsc"], WithRsc: m["with-rsc"], RscRole: m["rsc-role"], WithRscRole: m["with-rsc-role"], Score: m["score"],
			NodeAttribute: m["node-attribute"], Influence: m["influence"], RscInstance: m["rsc-instance"], WithInstance: m["with-rsc-instance"], Extra: extra, Line: el.Line}
		sets, err := parseSets(el)
		if err != nil {
			return nil, err
		}
		c.Sets = sets
		if len(sets) == 0 && (c.Rsc == "" || c.WithRsc == "") {
			return nil, perr(el, "needs rsc and with-rsc, or resource sets")
		}
		if c.Score != "" {
			if _, err := ParseScore(c.Score); err != nil {
				return nil, perr(el, "score: %v", err)
			}
		}
		return c, nil
	case "rsc_order":
		m, extra := splitAttrs(el, "id", "first", "then", "first-action", "then-action", "kind", "score", "symmetrical", "require-all")
		o := &Order{ID: m["id"], First: m["first"], Then: m["then"], FirstAction: m["first-action"], ThenAction: m["then-action"], Kind: m["kind"],
			Score: m["score"], Symmetrical: m["symmetrical"], RequireAll: m["require-all"], Extra: extra, Line: el.Line}
		sets, err := parseSets(el)
		if err != nil {
			return nil, err
		}
		o.Sets = sets
		if len(sets) == 0 && (o.First == "" || o.Then == "") {
			return nil, perr(el, "needs first and then, or resource sets")
		}
		switch o.Kind {
		case "", "Mandatory", "Optional", "Serialize":
		default:
			return nil, perr(el, "kind %q must be Mandatory, Optional or Serialize", o.Kind)
		}
		return o, nil
	default:
		return &RawConstraint{El: el.Clone()}, nil
	}
}

// ParseLRMOpElement converts an <lrm_rsc_op> element into an LRMOp.
func ParseLRMOpElement(el *Element) (*LRMOp, error) {
	var sc statusConv
	return sc.lrmOp(el)
}
