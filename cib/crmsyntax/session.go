package crmsyntax

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

// Sentinel errors wrapped by *Error.
var (
	// ErrSyntax: the statement does not follow the crm configure grammar.
	ErrSyntax = errors.New("syntax error")
	// ErrDuplicateID: an object with the same id already exists.
	ErrDuplicateID = errors.New("duplicate id")
	// ErrMissingObject: a statement names an object that does not exist.
	ErrMissingObject = errors.New("missing object")
	// ErrUnsupported: the command is valid crm syntax but not supported here.
	ErrUnsupported = errors.New("unsupported command")
	// ErrCommit: the configuration would be refused by the CIB schema.
	ErrCommit = errors.New("configuration refused")
)

// Error is one problem found while running a statement. Line and Col are
// 1-based positions in the input text.
type Error struct {
	Line, Col int
	Stmt      string // the statement as written
	Msg       string
	Err       error // sentinel
}

func (e *Error) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

// Session applies crm configure statements to a configuration, the way
// "crm -f" does in crmsh 4.4.1: every statement is applied on its own and a
// failing statement is reported and skipped while the others still apply.
// The session indexes the ids of cfg when it starts: start a new Session
// after changing cfg by other means. A Session is not safe for concurrent
// use, and cfg must not be used elsewhere while the session runs.
type Session struct {
	cfg *cib.Configuration
	log *slog.Logger
	ids map[string]bool
	// opOrder remembers the order in which op attributes were written, so
	// that Show reproduces it (the typed model does not keep it).
	opOrder map[*cib.Op][]string
	// setOrder remembers the written order of a resource's attribute sets.
	setOrder map[*cib.Resource][]*cib.NVSet
	// opsRef remembers "operations $id-ref=..." (the model has no field).
	opsRef map[*cib.Resource]string
	// rulesAfterPairs marks sets whose rules were added after their pairs
	// (crmsh can only show those as XML).
	rulesAfterPairs map[*cib.NVSet]bool
	// comments written before objects, by object key ("primitive d0")
	comments map[string][]string
	// updating: statements replace existing objects with the same id
	updating bool
	// mergeSets: while updating, property, rsc_defaults and op_defaults
	// statements merge their pairs into an existing set (LoadUpdate).
	mergeSets bool
	// Errors collects every problem reported by Exec, in order.
	Errors []*Error
	// Warnings collects non-fatal notices (deprecated syntax).
	Warnings []string
}

// NewSession starts a session on cfg (modified in place). A nil logger
// discards log output.
func NewSession(cfg *cib.Configuration, logger *slog.Logger) *Session {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Session{cfg: cfg, log: logger, opOrder: map[*cib.Op][]string{}, setOrder: map[*cib.Resource][]*cib.NVSet{}, opsRef: map[*cib.Resource]string{},
		rulesAfterPairs: map[*cib.NVSet]bool{}, comments: map[string][]string{}}
	s.reindex()
	return s
}

// Config returns the configuration the session works on.
func (s *Session) Config() *cib.Configuration { return s.cfg }

// Apply parses src and applies every statement to cfg, continuing after
// failing statements like "crm -f". It returns all problems joined
// (each an *Error), or nil.
func Apply(cfg *cib.Configuration, src string) error {
	s := NewSession(cfg, nil)
	return s.Exec(src)
}

// Update runs statements like Exec, except that a statement defining an
// object that already exists replaces that object in place (a primitive
// inside a group stays in the group; constraints keep their position and
// references to the object are left alone). This is "crm configure load
// update" and what "edit" needs to apply an edited text.
func (s *Session) Update(src string) error {
	s.updating = true
	defer func() { s.updating = false }()
	return s.Exec(src)
}

// LoadUpdate is "crm configure load update": like Update, except that
// property, rsc_defaults and op_defaults statements set their pairs in an
// existing set and keep the others, as crmsh does ("property
// two-node-mode=true" does not drop stonith-enabled). Editing an object
// (Update) still replaces it whole.
func (s *Session) LoadUpdate(src string) error {
	s.mergeSets = true
	defer func() { s.mergeSets = false }()
	return s.Update(src)
}

// Exec runs configure-level statements. The returned error joins the
// *Error values of this call (also appended to s.Errors).
func (s *Session) Exec(src string) error {
	var errs []error
	for _, st := range splitStatements(src) {
		nerr := len(s.Errors)
		err := s.execStatement(st)
		// errors reported while the statement still applied (missing children)
		for _, e := range s.Errors[nerr:] {
			errs = append(errs, e)
		}
		if err != nil {
			s.reindex()
			var e *Error
			if !errors.As(err, &e) {
				e = &Error{Line: st.Line, Stmt: st.Text, Msg: err.Error(), Err: ErrSyntax}
			}
			if e.Stmt == "" {
				e.Stmt = st.Text
			}
			s.Errors = append(s.Errors, e)
			s.log.Debug("crm statement failed", "line", e.Line, "error", e.Msg)
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

func (s *Session) execStatement(st statement) (err error) {
	if st.LexErr != nil {
		return &Error{Line: st.LexErr.Line, Col: st.LexErr.Col, Msg: st.LexErr.Msg, Err: ErrSyntax}
	}
	p := &parser{s: s, st: st, toks: st.Toks}
	cmd := strings.ToLower(st.Toks[0].Text)
	p.i = 1
	defer func() {
		if err == nil && p.key != "" && len(st.Comments) > 0 {
			s.comments[p.key] = st.Comments
		}
	}()
	switch cmd {
	case "node":
		return p.node()
	case "primitive":
		return p.primitive(cib.KindPrimitive)
	case "rsc_template":
		return p.primitive(cib.KindTemplate)
	case "group":
		return p.group()
	case "clone":
		return p.clone(cib.KindClone)
	case "ms", "master":
		s.Warnings = append(s.Warnings, fmt.Sprintf("line %d: \"ms\" is deprecated; use clone with meta promotable=true", st.Line))
		return p.clone(cib.KindMaster)
	case "location":
		return p.location()
	case "colocation", "collocation":
		return p.colocation()
	case "order":
		return p.order()
	case "property":
		return p.property(&s.cfg.CRMConfig, "cluster_property_set", "cib-bootstrap-options")
	case "rsc_defaults":
		s.cfg.HasRscDefaults = true
		return p.property(&s.cfg.RscDefaults, "meta_attributes", "rsc-options")
	case "op_defaults":
		s.cfg.HasOpDefaults = true
		return p.property(&s.cfg.OpDefaults, "meta_attributes", "op-options")
	case "fencing_topology":
		return p.fencingTopology()
	case "tag":
		return p.tag()
	case "monitor":
		return p.monitor()
	case "rsc_ticket":
		return p.ticket()
	case "delete", "rm":
		return p.deleteCmd()
	case "rename":
		return p.renameCmd()
	case "erase":
		return p.eraseCmd()
	case "filter":
		return p.filterCmd()
	case "show", "save", "verify", "_test", "_regtest", "commit", "ptest", "simulate", "upgrade",
		"cd", "up", "end", "configure", "refresh", "graph", "_objects", "help", "ls", "quit", "exit", "bye":
		return nil
	case "schema":
		if len(st.Toks) > 1 && !strings.HasPrefix(st.Toks[1].Text, "pacemaker-") {
			return p.errf(&st.Toks[1], ErrSyntax, "schema %s does not exist", st.Toks[1].Text)
		}
		if len(st.Toks) > 1 {
			if v := strings.TrimPrefix(st.Toks[1].Text, "pacemaker-"); v < "2" {
				return p.errf(&st.Toks[1], ErrUnsupported, "schema %s does not exist", st.Toks[1].Text)
			}
		}
		return nil
	case "load":
		if len(st.Toks) > 1 {
			return p.errf(&st.Toks[len(st.Toks)-1], ErrUnsupported, "load: cannot read %s", st.Toks[len(st.Toks)-1].Text)
		}
		return nil
	}
	return p.errf(&st.Toks[0], ErrUnsupported, "%s: command not supported", st.Toks[0].Text)
}

// reindex rebuilds the set of ids in use.
func (s *Session) reindex() {
	s.ids = map[string]bool{}
	collectIDs(s.cfg.Element(), s.ids)
}

func collectIDs(el *cib.Element, ids map[string]bool) {
	if id := el.Get("id"); id != "" && el.Name != "resource_ref" && el.Name != "obj_ref" {
		ids[id] = true
	}
	for _, c := range el.Children {
		collectIDs(c, ids)
	}
}

// newID returns base, or base-0, base-1, ... whichever is free, and
// reserves it (crmsh 4.4.1's scheme).
func (s *Session) newID(base string) string {
	if !s.ids[base] {
		s.ids[base] = true
		return base
	}
	for n := 0; ; n++ {
		c := base + "-" + strconv.Itoa(n)
		if !s.ids[c] {
			s.ids[c] = true
			return c
		}
	}
}

// parser walks the tokens of one statement.
type parser struct {
	s    *Session
	st   statement
	toks []token
	i    int
	key  string // "<kind> <id>" of the object created, for comments
	// repl is the object being replaced (Update)
	repl *replacement
}

func (p *parser) done() bool { return p.i >= len(p.toks) }

func (p *parser) peek() *token {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *parser) peekLower() string {
	if t := p.peek(); t != nil && !t.Quoted {
		return strings.ToLower(t.Text)
	}
	return ""
}

func (p *parser) next() *token {
	t := p.peek()
	if t != nil {
		p.i++
	}
	return t
}

// errf builds an *Error located at tok (or at the end of the statement).
func (p *parser) errf(tok *token, sentinel error, format string, args ...any) error {
	e := &Error{Line: p.st.Line, Stmt: p.st.Text, Msg: fmt.Sprintf(format, args...), Err: sentinel}
	if tok != nil {
		e.Line, e.Col = tok.Line, tok.Col
	} else if n := len(p.toks); n > 0 {
		last := p.toks[n-1]
		e.Line, e.Col = last.Line, last.Col+len(last.Text)
	}
	return e
}

// errEnd reports a missing token at the end of the statement.
func (p *parser) errEnd(format string, args ...any) error {
	return p.errf(p.peek(), ErrSyntax, format, args...)
}

// cut splits "a=b" into a, b, true.
// cut splits name=value. A name holding white space or a quote is not a
// name (show could not print it back), so such a token is not a pair.
func cut(s string) (string, string, bool) {
	k, v, ok := strings.Cut(s, "=")
	if ok && strings.ContainsAny(k, " \t\r\n\v\f\"'") {
		return k, v, false
	}
	return k, v, ok
}

// ConfigElement returns the configuration as XML, including what only the
// session records (operations id-refs, which the typed model cannot hold).
func (s *Session) ConfigElement() *cib.Element {
	el := s.cfg.Element()
	if len(s.opsRef) == 0 {
		return el
	}
	byID := map[string]string{}
	for r, ref := range s.opsRef {
		byID[r.ID] = ref
	}
	var walk func(e *cib.Element)
	walk = func(e *cib.Element) {
		if e.Name == "primitive" || e.Name == "template" {
			if ref, ok := byID[e.Get("id")]; ok && e.Child("operations") == nil {
				e.Children = append(e.Children, &cib.Element{Name: "operations", Attrs: []cib.Attr{{Name: "id-ref", Value: ref}}})
			}
		}
		for _, c := range e.Children {
			walk(c)
		}
	}
	walk(el)
	return el
}
