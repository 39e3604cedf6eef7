package crmsyntax

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

// ---- delete ----

func (p *parser) deleteCmd() error {
	var errs []error
	n := 0
	for !p.done() {
		t := p.next()
		if t.Text == "--force" || t.Text == "force" {
			continue
		}
		n++
		if !p.s.deleteObject(t.Text) {
			errs = append(errs, p.errf(t, ErrMissingObject, "object %s does not exist", t.Text))
		}
	}
	if n == 0 {
		return p.errEnd("delete: expected an object id")
	}
	p.s.reindex()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// deleteObject removes the object with id. Containers leave their children
// at top level and their references move to the first child, as crmsh
// does; references to a deleted primitive are removed from constraints
// and tags.
func (s *Session) deleteObject(id string) bool {
	cfg := s.cfg
	if r, parent := s.findResource(id); r != nil {
		if r.Kind == cib.KindTemplate {
			for i, t := range cfg.Templates {
				if t == r {
					cfg.Templates = append(cfg.Templates[:i:i], cfg.Templates[i+1:]...)
				}
			}
			return true
		}
		if parent != nil {
			s.detach(r, parent)
		} else {
			idx := -1
			for i, x := range cfg.Resources {
				if x == r {
					idx = i
				}
			}
			rest := append([]*cib.Resource(nil), cfg.Resources[idx+1:]...)
			cfg.Resources = append(append(cfg.Resources[:idx:idx], r.Children...), rest...)
		}
		if len(r.Children) > 0 {
			// crmsh points simple constraints at the (first) child and
			// drops the container from resource sets
			s.renameSimpleRefs(r.ID, r.Children[0].ID)
		}
		s.removeRefs(r.ID)
		return true
	}
	for i, c := range cfg.Constraints {
		if c.ConstraintID() == id {
			cfg.Constraints = append(cfg.Constraints[:i:i], cfg.Constraints[i+1:]...)
			return true
		}
	}
	for i, t := range cfg.Tags {
		if t.ID == id {
			cfg.Tags = append(cfg.Tags[:i:i], cfg.Tags[i+1:]...)
			return true
		}
	}
	for i, n := range cfg.Nodes {
		if n.ID == id || n.Uname == id {
			cfg.Nodes = append(cfg.Nodes[:i:i], cfg.Nodes[i+1:]...)
			return true
		}
	}
	if id == "fencing_topology" && (cfg.HasFencingTopology || len(cfg.Fencing) > 0) {
		cfg.Fencing, cfg.HasFencingTopology, cfg.FencingID = nil, false, ""
		return true
	}
	for _, list := range []*[]*cib.NVSet{&cfg.CRMConfig, &cfg.RscDefaults, &cfg.OpDefaults} {
		for i, set := range *list {
			if set.ID == id {
				*list = append((*list)[:i:i], (*list)[i+1:]...)
				return true
			}
		}
	}
	return false
}

// detach removes r from its container; an emptied container goes too.
func (s *Session) detach(r, parent *cib.Resource) {
	for i, c := range parent.Children {
		if c == r {
			parent.Children = append(parent.Children[:i:i], parent.Children[i+1:]...)
			break
		}
	}
	s.removeRefs(r.ID)
	if len(parent.Children) == 0 {
		s.deleteObject(parent.ID)
	}
}

// renameRefs replaces resource id old by new in constraints and tags.
func (s *Session) renameRefs(old, new string) {
	sub := func(v *string) {
		if *v == old {
			*v = new
		}
	}
	subSets := func(sets []*cib.ResourceSet) {
		for _, rs := range sets {
			for i := range rs.Refs {
				sub(&rs.Refs[i])
			}
		}
	}
	for _, c := range s.cfg.Constraints {
		if el, ok := isTicket(c); ok {
			renameTicketRefs(el, old, new)
			continue
		}
		switch x := c.(type) {
		case *cib.Location:
			sub(&x.Rsc)
			subSets(x.Sets)
		case *cib.Colocation:
			sub(&x.Rsc)
			sub(&x.WithRsc)
			subSets(x.Sets)
		case *cib.Order:
			sub(&x.First)
			sub(&x.Then)
			subSets(x.Sets)
		}
	}
	for _, t := range s.cfg.Tags {
		for i := range t.Refs {
			sub(&t.Refs[i])
		}
	}
	for _, r := range allResources(s.cfg) {
		sub(&r.Template)
	}
}

// renameSimpleRefs replaces resource id old by new where a constraint
// names a single resource (not in resource sets).
func (s *Session) renameSimpleRefs(old, new string) {
	sub := func(v *string) {
		if *v == old {
			*v = new
		}
	}
	for _, c := range s.cfg.Constraints {
		switch x := c.(type) {
		case *cib.Location:
			sub(&x.Rsc)
		case *cib.Colocation:
			sub(&x.Rsc)
			sub(&x.WithRsc)
		case *cib.Order:
			sub(&x.First)
			sub(&x.Then)
		case *cib.RawConstraint:
			if el, ok := isTicket(x); ok && el.Get("rsc") == old {
				el.Set("rsc", new)
			}
		}
	}
}

// removeRefs drops references to id from constraints and tags. Set
// constraints shrink; one left with two resources becomes the simple form.
func (s *Session) removeRefs(id string) {
	var keep []cib.Constraint
	for _, c := range s.cfg.Constraints {
		if el, ok := isTicket(c); ok {
			if dropTicketRef(el, id) {
				keep = append(keep, c)
			}
			continue
		}
		switch x := c.(type) {
		case *cib.Location:
			if x.Rsc == id {
				continue
			}
			if len(x.Sets) > 0 {
				x.Sets = dropRef(x.Sets, id)
				if len(x.Sets) == 0 {
					continue
				}
			}
		case *cib.Colocation:
			if x.Rsc == id || x.WithRsc == id {
				continue
			}
			if len(x.Sets) > 0 {
				x.Sets = dropRef(x.Sets, id)
				if refCount(x.Sets) < 2 {
					continue
				}
				if a, ar, b, br, ok := simplify(x.Sets); ok {
					// a sequential set places each member with the previous one
					if len(x.Sets) == 1 {
						a, ar, b, br = b, br, a, ar
					}
					x.Rsc, x.RscRole, x.WithRsc, x.WithRscRole, x.Sets = a, ar, b, br, nil
				}
			}
		case *cib.Order:
			if x.First == id || x.Then == id {
				continue
			}
			if len(x.Sets) > 0 {
				x.Sets = dropRef(x.Sets, id)
				if refCount(x.Sets) < 2 {
					continue
				}
				if a, aa, b, ba, ok := simplifyAction(x.Sets); ok {
					x.First, x.FirstAction, x.Then, x.ThenAction, x.Sets = a, aa, b, ba, nil
				}
			}
		}
		keep = append(keep, c)
	}
	s.cfg.Constraints = keep
	var tags []*cib.Tag
	for _, t := range s.cfg.Tags {
		var refs []string
		for _, r := range t.Refs {
			if r != id {
				refs = append(refs, r)
			}
		}
		t.Refs = refs
		if len(refs) > 0 {
			tags = append(tags, t)
		}
	}
	s.cfg.Tags = tags
}

func dropRef(sets []*cib.ResourceSet, id string) []*cib.ResourceSet {
	var out []*cib.ResourceSet
	for _, rs := range sets {
		var refs []string
		for _, r := range rs.Refs {
			if r != id {
				refs = append(refs, r)
			}
		}
		rs.Refs = refs
		if len(refs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

func refCount(sets []*cib.ResourceSet) int {
	n := 0
	for _, rs := range sets {
		n += len(rs.Refs)
	}
	return n
}

// simplify reports the two resources of a two-resource set constraint that
// can be written in the simple form, with their roles.
func simplify(sets []*cib.ResourceSet) (a, ar, b, br string, ok bool) {
	switch {
	case len(sets) == 1 && len(sets[0].Refs) == 2 && sets[0].Sequential != "false" && sets[0].RequireAll != "false":
		return sets[0].Refs[0], sets[0].Role, sets[0].Refs[1], sets[0].Role, true
	case len(sets) == 2 && len(sets[0].Refs) == 1 && len(sets[1].Refs) == 1:
		return sets[0].Refs[0], sets[0].Role, sets[1].Refs[0], sets[1].Role, true
	}
	return "", "", "", "", false
}

func simplifyAction(sets []*cib.ResourceSet) (a, aa, b, ba string, ok bool) {
	switch {
	case len(sets) == 1 && len(sets[0].Refs) == 2 && sets[0].Sequential != "false" && sets[0].RequireAll != "false":
		return sets[0].Refs[0], sets[0].Action, sets[0].Refs[1], sets[0].Action, true
	case len(sets) == 2 && len(sets[0].Refs) == 1 && len(sets[1].Refs) == 1:
		return sets[0].Refs[0], sets[0].Action, sets[1].Refs[0], sets[1].Action, true
	}
	return "", "", "", "", false
}

// allResources lists templates and resources at every depth.
func allResources(cfg *cib.Configuration) []*cib.Resource {
	var out []*cib.Resource
	var walk func([]*cib.Resource)
	walk = func(list []*cib.Resource) {
		for _, r := range list {
			out = append(out, r)
			walk(r.Children)
		}
	}
	walk(cfg.Templates)
	walk(cfg.Resources)
	return out
}

// ---- rename ----

func (p *parser) renameCmd() error {
	oldTok, newTok := p.next(), p.next()
	if oldTok == nil || newTok == nil {
		return p.errEnd("rename: expected <old-id> <new-id>")
	}
	if !p.done() {
		return p.errf(p.peek(), ErrSyntax, "rename: Unknown arguments: %s", p.peek().Text)
	}
	old, nw := oldTok.Text, newTok.Text
	if err := validID(nw); err != "" {
		return p.errf(newTok, ErrSyntax, "rename: invalid id %q: %s", nw, err)
	}
	if p.s.ids[nw] {
		return p.errf(newTok, ErrDuplicateID, "rename: id %s is already in use", nw)
	}
	switch {
	case p.s.renameObject(old, nw):
	default:
		return p.errf(oldTok, ErrMissingObject, "object %s does not exist", old)
	}
	p.s.reindex()
	return nil
}

func (s *Session) renameObject(old, nw string) bool {
	if r, _ := s.findResource(old); r != nil {
		r.ID = nw
		s.renameRefs(old, nw)
		return true
	}
	for _, c := range s.cfg.Constraints {
		if c.ConstraintID() != old {
			continue
		}
		switch x := c.(type) {
		case *cib.Location:
			x.ID = nw
		case *cib.Colocation:
			x.ID = nw
		case *cib.Order:
			x.ID = nw
		default:
			return false
		}
		return true
	}
	for _, t := range s.cfg.Tags {
		if t.ID == old {
			t.ID = nw
			return true
		}
	}
	return false
}

// ---- erase ----

func (p *parser) eraseCmd() error {
	nodes := p.peekLower() == "nodes"
	if nodes {
		p.i++
	}
	if !p.done() {
		return p.errf(p.peek(), ErrSyntax, "erase: Unknown arguments: %s", p.peek().Text)
	}
	if nodes {
		p.s.cfg.Nodes = nil
	} else {
		keepNodes := p.s.cfg.Nodes
		*p.s.cfg = cib.Configuration{Nodes: keepNodes}
	}
	p.s.reindex()
	return nil
}

// ---- filter ----

// filterCmd supports `filter "sed '<script>'"`: the whole configuration is
// shown (secrets in clear), passed through the sed script (s/// commands
// with optional /regex/ addresses) and parsed back.
func (p *parser) filterCmd() error {
	progTok := p.next()
	if progTok == nil {
		return p.errEnd("filter: expected a program")
	}
	prog := strings.TrimSpace(progTok.Text)
	if !strings.HasPrefix(prog, "sed ") {
		return p.errf(progTok, ErrUnsupported, "filter: only sed programs are supported")
	}
	if !p.done() {
		return p.errf(p.peek(), ErrUnsupported, "filter: object selection is not supported")
	}
	script := strings.TrimSpace(strings.TrimPrefix(prog, "sed "))
	script = strings.TrimPrefix(script, "-e ")
	if len(script) >= 2 && (script[0] == '\'' || script[0] == '"') && script[len(script)-1] == script[0] {
		script = script[1 : len(script)-1]
	}
	cmds, err := parseSed(script)
	if err != nil {
		return p.errf(progTok, ErrSyntax, "filter: %v", err)
	}
	text := p.s.Show(ShowOptions{NoObscure: true})
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		for _, c := range cmds {
			l = c.apply(l)
		}
		lines[i] = l
	}
	out := strings.Join(lines, "\n")
	if out == text {
		return nil
	}
	fresh := &cib.Configuration{}
	ns := NewSession(fresh, p.s.log)
	if err := ns.Exec(out); err != nil {
		return p.errf(progTok, ErrSyntax, "filter: the edited configuration does not parse: %v", err)
	}
	*p.s.cfg = *fresh
	p.s.opOrder, p.s.setOrder, p.s.opsRef, p.s.rulesAfterPairs = ns.opOrder, ns.setOrder, ns.opsRef, ns.rulesAfterPairs
	p.s.reindex()
	return nil
}

type sedCmd struct {
	addr   *regexp.Regexp
	re     *regexp.Regexp
	repl   string
	global bool
}

func (c sedCmd) apply(line string) string {
	if c.addr != nil && !c.addr.MatchString(line) {
		return line
	}
	if c.global {
		return c.re.ReplaceAllString(line, c.repl)
	}
	done := false
	return c.re.ReplaceAllStringFunc(line, func(m string) string {
		if done {
			return m
		}
		done = true
		return c.re.ReplaceAllString(m, c.repl)
	})
}

// parseSed understands "[/addr/]s/re/repl/[g]" commands separated by ';'.
func parseSed(script string) ([]sedCmd, error) {
	var out []sedCmd
	for _, part := range strings.Split(script, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var c sedCmd
		if strings.HasPrefix(part, "/") {
			end := strings.Index(part[1:], "/")
			if end < 0 {
				return nil, fmt.Errorf("unterminated address in %q", part)
			}
			re, err := regexp.Compile(part[1 : end+1])
			if err != nil {
				return nil, fmt.Errorf("address %q: %w", part, err)
			}
			c.addr = re
			part = part[end+2:]
		}
		if len(part) < 4 || part[0] != 's' {
			return nil, fmt.Errorf("unsupported sed command %q", part)
		}
		fields := strings.Split(part[2:], string(part[1]))
		if len(fields) != 3 {
			return nil, fmt.Errorf("bad substitution %q", part)
		}
		re, err := regexp.Compile(fields[0])
		if err != nil {
			return nil, fmt.Errorf("substitution %q: %w", part, err)
		}
		c.re = re
		c.repl = regexp.MustCompile(`\\([0-9])`).ReplaceAllString(strings.ReplaceAll(fields[1], "$", "$$"), "$${$1}")
		c.global = strings.Contains(fields[2], "g")
		out = append(out, c)
	}
	return out, nil
}
