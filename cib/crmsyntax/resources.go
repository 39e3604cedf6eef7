package crmsyntax

import (
	"strings"

	"github.com/gocrm/gocrm/cib"
)

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
	} else if msg := validID(nid); msg != "" {
		return p.errf(t, ErrSyntax, "node: invalid id %q: %s", nid, msg)
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
				if msg := validID(r.OpsID); msg != "" {
					return p.errf(v, ErrSyntax, "invalid id %q: %s", r.OpsID, msg)
				}
				if p.s.ids[r.OpsID] {
					return p.errf(v, ErrDuplicateID, "id %s is already in use", r.OpsID)
				}
				p.s.ids[r.OpsID] = true
				r.HasOps = true
			case v != nil && strings.HasPrefix(v.Text, "$id-ref="):
				ref := strings.TrimPrefix(v.Text, "$id-ref=")
				if msg := validID(ref); msg != "" {
					return p.errf(v, ErrSyntax, "invalid id reference %q: %s", ref, msg)
				}
				p.s.opsRef[r] = ref
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
	p.placeResource(r)
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
		// crmsh appends interval=0, after any instance attribute: an
		// attribute order error
		if len(inst) > 0 {
			return nil, p.errf(nameTok, ErrSyntax, "Attribute order error: interval must appear before any instance attribute")
		}
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
	if parent != nil && !(p.repl != nil && p.repl.res == parent) {
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
	p.placeResource(g)
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
	p.placeResource(c)
	p.key = word + " " + c.ID
	return nil
}

// monitor handles "monitor <rsc>[:<role>] <interval>[:<timeout>]", which
// appends an "op monitor" to a primitive.
func (p *parser) monitor() error {
	rt, it := p.next(), p.next()
	if rt == nil || it == nil {
		return p.errEnd("monitor: expected <rsc>[:<role>] <interval>[:<timeout>]")
	}
	if !p.done() {
		return p.errf(p.peek(), ErrSyntax, "monitor: Unknown arguments: %s", p.peek().Text)
	}
	id, role, _ := strings.Cut(rt.Text, ":")
	if role != "" {
		if _, ok := normRole(role); !ok {
			return p.errf(rt, ErrSyntax, "Invalid role for %s", rt.Text)
		}
	}
	interval, timeout, _ := strings.Cut(it.Text, ":")
	if !validName(interval) || timeout != "" && !validName(timeout) {
		return p.errf(it, ErrSyntax, "monitor: bad interval %q", it.Text)
	}
	r, _ := p.s.findResource(id)
	if r == nil || r.Kind != cib.KindPrimitive {
		return p.errf(rt, ErrMissingObject, "object %s does not exist", id)
	}
	op := &cib.Op{Name: "monitor", Role: role, Interval: interval, Timeout: timeout}
	var order []string
	if role != "" {
		order = append(order, "role")
	}
	order = append(order, "interval")
	if timeout != "" {
		order = append(order, "timeout")
	}
	base := r.ID
	if r.OpsID != "" {
		base = r.OpsID
	}
	op.ID = p.s.newID(base + "-monitor-" + interval)
	r.Ops = append(r.Ops, op)
	r.HasOps = true
	p.s.opOrder[op] = order
	return nil
}
