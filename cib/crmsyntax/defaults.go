package crmsyntax

import (
	"strconv"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

// ---- property / rsc_defaults / op_defaults ----

func (p *parser) property(list *[]*cib.NVSet, kind, defID string) error {
	setID := ""
	if t := p.peek(); t != nil && strings.HasPrefix(t.Text, "$id=") {
		setID = strings.TrimPrefix(t.Text, "$id=")
		p.i++
	} else if v, ok := scoreToken(t); ok {
		setID = v
		p.i++
	}
	if setID == "" {
		setID = defID
	} else if msg := validID(setID); msg != "" {
		return p.errf(&p.toks[1], ErrSyntax, "invalid set id %q: %s", setID, msg)
	}
	var set *cib.NVSet
	replaceAt := -1
	for i, x := range *list {
		if x.ID == setID {
			set = x
			replaceAt = i
		}
	}
	if set != nil && p.s.updating && !p.s.mergeSets {
		// Update replaces the whole set; its ids are reused
		free := map[string]bool{}
		collectIDs(set.Element(), free)
		for k := range free {
			delete(p.s.ids, k)
		}
		set = &cib.NVSet{Kind: kind, ID: setID, Line: p.st.Line}
		p.s.ids[setID] = true
	} else {
		replaceAt = -1
	}
	isNew := set == nil
	if isNew {
		if p.s.ids[setID] {
			return p.errf(&p.toks[0], ErrDuplicateID, "id %s is already in use", setID)
		}
		set = &cib.NVSet{Kind: kind, ID: setID, Line: p.st.Line}
	}
	// parse into a scratch set first so that a failing statement changes nothing
	var rules []*cib.Rule
	var pairs []cib.Attr
	for !p.done() {
		t := p.peek()
		switch {
		case !t.Quoted && strings.EqualFold(t.Text, "rule"):
			r, err := p.rule(setID + "-rule")
			if err != nil {
				return err
			}
			rules = append(rules, r)
		default:
			k, v, ok := cut(t.Text)
			if !ok || k == "" {
				return p.errf(t, ErrSyntax, "Unknown arguments: %s", t.Text)
			}
			pairs = append(pairs, cib.Attr{Name: k, Value: v})
			p.i++
		}
	}
	switch {
	case replaceAt >= 0:
		(*list)[replaceAt] = set
	case isNew:
		p.s.ids[setID] = true
		*list = append(*list, set)
	}
	if !isNew && len(rules) > 0 && len(set.Pairs) > 0 {
		p.s.rulesAfterPairs[set] = true
	}
	set.Rules = append(set.Rules, rules...)
outer:
	for _, a := range pairs {
		for _, x := range set.Pairs {
			if x.Name == a.Name && x.IDRef == "" {
				x.Value, x.HasValue = a.Value, true
				continue outer
			}
		}
		set.Pairs = append(set.Pairs, &cib.NVPair{ID: p.s.newID(setID + "-" + a.Name), Name: a.Name, Value: a.Value, HasValue: true})
	}
	return nil
}

// ---- fencing_topology / tag ----

func (p *parser) fencingTopology() error {
	if p.s.updating {
		// checked below on a copy: a failing statement keeps the old levels
		saved, had := p.s.cfg.Fencing, p.s.cfg.HasFencingTopology
		p.s.cfg.Fencing, p.s.cfg.HasFencingTopology = nil, false
		p.s.reindex()
		defer func() {
			if !p.s.cfg.HasFencingTopology {
				p.s.cfg.Fencing, p.s.cfg.HasFencingTopology = saved, had
			}
		}()
	}
	if p.s.cfg.HasFencingTopology || len(p.s.cfg.Fencing) > 0 {
		return p.errf(&p.toks[0], ErrDuplicateID, "Cannot create fencing_topology with ID 'fencing_topology': Found existing fencing_topology with same ID.")
	}
	type target struct {
		lvl     cib.FencingLevel
		devices []string
	}
	var targets []*target
	var nodeless []string
	for !p.done() {
		t := p.next()
		switch {
		case strings.HasPrefix(t.Text, "attr:"):
			k, v, ok := cut(strings.TrimPrefix(t.Text, "attr:"))
			if !ok || k == "" {
				return p.errf(t, ErrSyntax, "fencing_topology: bad target %s", t.Text)
			}
			targets = append(targets, &target{lvl: cib.FencingLevel{TargetAttribute: k, TargetValue: v}})
		case strings.HasPrefix(t.Text, "pattern:"):
			pat := strings.TrimPrefix(t.Text, "pattern:")
			if pat == "" {
				return p.errf(t, ErrSyntax, "fencing_topology: empty target pattern %s", t.Text)
			}
			targets = append(targets, &target{lvl: cib.FencingLevel{TargetPattern: pat}})
		case len(t.Text) > 1 && strings.HasSuffix(t.Text, ":"):
			targets = append(targets, &target{lvl: cib.FencingLevel{Target: strings.TrimSuffix(t.Text, ":")}})
		default:
			if !validName(t.Text) {
				return p.errf(t, ErrSyntax, "fencing_topology: bad device list %q", t.Text)
			}
			if len(targets) == 0 {
				nodeless = append(nodeless, t.Text)
			} else {
				targets[len(targets)-1].devices = append(targets[len(targets)-1].devices, t.Text)
			}
		}
	}
	if len(nodeless) > 0 {
		for _, n := range p.s.cfg.Nodes {
			targets = append(targets, &target{lvl: cib.FencingLevel{Target: n.Uname}, devices: nodeless})
		}
	}
	for _, t := range targets {
		if len(t.devices) == 0 {
			return p.errf(&p.toks[0], ErrSyntax, "fencing_topology: target without devices")
		}
	}
	p.s.cfg.HasFencingTopology = true
	p.key = "fencing_topology"
	for _, t := range targets {
		for i, d := range t.devices {
			l := t.lvl
			l.Index = strconv.Itoa(i + 1)
			l.Devices = d
			l.ID = p.s.newID("fencing")
			p.s.cfg.Fencing = append(p.s.cfg.Fencing, &l)
		}
	}
	return nil
}

func (p *parser) tag() error {
	idTok := p.next()
	if idTok == nil {
		return p.errEnd("tag: expected a tag name")
	}
	name := strings.TrimSuffix(idTok.Text, ":")
	if name == "" || strings.HasSuffix(name, ":") {
		return p.errf(idTok, ErrSyntax, "Expected tag name near <%s>", idTok.Text)
	}
	nt := *idTok
	nt.Text = name
	if err := p.checkNewID(&nt, "tag"); err != nil {
		return err
	}
	tg := &cib.Tag{ID: name}
	for !p.done() {
		t := p.next()
		if validID(t.Text) != "" {
			return p.errf(t, ErrSyntax, "tag %s: bad reference %s", name, t.Text)
		}
		tg.Refs = append(tg.Refs, t.Text)
	}
	if len(tg.Refs) == 0 {
		return p.errf(idTok, ErrSyntax, "tag %s: Expected at least 2 arguments", name)
	}
	p.s.ids[name] = true
	if p.repl != nil && p.repl.tag >= 0 {
		p.s.cfg.Tags[p.repl.tag] = tg
	} else {
		p.s.cfg.Tags = append(p.s.cfg.Tags, tg)
	}
	p.s.cfg.HasTags = true
	p.key = "tag " + name
	return nil
}

func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "y", "on", "1":
		return true
	}
	return false
}
