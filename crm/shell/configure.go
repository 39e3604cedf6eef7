package shell

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/crmsyntax"
	"github.com/gocrm/gocrm/crm/scheduler"
	"github.com/gocrm/gocrm/internal/atomicfile"
)

// cfgSession is the configure level's pending state: the CIB as read,
// a crmsyntax session editing a private copy, and the XML of the
// configuration when the session started (to detect pending changes).
type cfgSession struct {
	store    Store
	base     *cib.CIB
	sess     *crmsyntax.Session // works on a private copy of base's configuration
	baseline string
	warned   int // session warnings already printed
}

func cloneCIB(c *cib.CIB) (*cib.CIB, error) {
	n, err := cib.Parse(c.Marshal())
	if err != nil {
		return nil, fmt.Errorf("copy CIB: %w", err)
	}
	return n, nil
}

func (s *Shell) newSession(ctx context.Context, st Store) (*cfgSession, error) {
	base, err := st.Read(ctx)
	if err != nil {
		return nil, err
	}
	work, err := cloneCIB(base)
	if err != nil {
		return nil, err
	}
	cs := &cfgSession{store: st, base: base}
	cs.sess = crmsyntax.NewSession(&work.Config, s.log)
	cs.baseline = cs.sess.ConfigElement().String()
	return cs, nil
}

func (s *Shell) openConfigure(ctx context.Context) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	cs, err := s.newSession(ctx, st)
	if err != nil {
		return err
	}
	s.cfg = cs
	return nil
}

// pending reports whether the session differs from the CIB it was read from.
func (c *cfgSession) pending() bool {
	return c.sess.ConfigElement().String() != c.baseline
}

// replaceSession restarts the crmsyntax session on a new configuration
// (edit of the whole configuration, load replace), keeping the base.
func (c *cfgSession) replaceSession(sess *crmsyntax.Session) {
	c.sess = sess
	c.warned = 0
}

// configCopy returns a deep copy of the session's configuration.
func (c *cfgSession) configCopy() (*cib.Configuration, error) {
	parsed, err := cib.FromElement(&cib.Element{Name: "cib", Children: []*cib.Element{c.sess.ConfigElement()}})
	if err != nil {
		return nil, fmt.Errorf("copy configuration: %w", err)
	}
	return &parsed.Config, nil
}

// configure runs one command of the configure level.
func (s *Shell) configure(ctx context.Context, words []string, raw string, src Source) error {
	if s.cfg == nil {
		if err := s.openConfigure(ctx); err != nil {
			return s.fail(src, err)
		}
	}
	w := words[0]
	args := words[1:]
	switch w {
	case "show":
		return s.cfgShow(args, src)
	case "verify":
		errs, warns := s.cfg.verify()
		s.printProblems(errs, warns, src)
		if len(errs) > 0 {
			return fmt.Errorf("%w: verify found %d error(s)", ErrCommandFailed, len(errs))
		}
		return nil
	case "commit":
		force := s.o.Force
		for _, a := range args {
			if a == "force" || a == "--force" {
				force = true
			}
		}
		return s.commit(ctx, force, src)
	case "refresh":
		if s.cfg.pending() && s.o.Interactive && !s.o.Force {
			if yes, ok := s.ask("There are changes pending. Do you want to drop them (y/n)? "); ok && !yes {
				return nil
			}
		}
		s.cfg = nil
		if err := s.openConfigure(ctx); err != nil {
			return s.fail(src, err)
		}
		return nil
	case "edit":
		return s.cfgEdit(ctx, args, src)
	case "load":
		return s.cfgLoad(args, src)
	case "save":
		return s.cfgSave(args, src)
	case "cib":
		if len(args) > 0 && shadowCommands[args[0]] {
			return s.cibCommand(ctx, args, src)
		}
		if len(args) == 0 {
			return s.fail(src, fmt.Errorf("%w: cib needs a command", ErrUsage))
		}
		return s.run(ctx, []string{"cib"}, args, src)
	}
	if !statementWords[w] && w != "rm" {
		return s.fail(src, fmt.Errorf("%w: configure %q", ErrUnknownCommand, w))
	}
	return s.statement(raw, src, false)
}

// statement runs crm configure statements through the session, printing
// errors as "FILE:LINE:COL: msg" (file line numbers when src has a file).
func (s *Shell) statement(text string, src Source, update bool) error {
	sess := s.cfg.sess
	n := len(sess.Errors)
	if update {
		_ = sess.LoadUpdate(text)
	} else {
		_ = sess.Exec(text)
	}
	s.printWarnings(src)
	errs := sess.Errors[n:]
	for _, e := range errs {
		fmt.Fprintf(s.o.Stderr, "ERROR: %s\n", formatSyntaxError(src, e))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrCommandFailed, formatSyntaxError(src, errs[0]))
	}
	return nil
}

func (s *Shell) printWarnings(src Source) {
	ws := s.cfg.sess.Warnings
	for _, w := range ws[min(s.cfg.warned, len(ws)):] {
		fmt.Fprintf(s.o.Stderr, "WARNING: %s%s\n", src.prefix(), w)
	}
	s.cfg.warned = len(ws)
}

// formatSyntaxError places a crmsyntax error in the input: with a file,
// "FILE:LINE:COL: msg" where LINE counts from the file's start.
func formatSyntaxError(src Source, e *crmsyntax.Error) string {
	if src.File == "" {
		if e.Col > 0 && e.Line > 1 {
			return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
		}
		if e.Col > 0 {
			return fmt.Sprintf("column %d: %s", e.Col, e.Msg)
		}
		return e.Msg
	}
	line := src.Line + max(e.Line, 1) - 1
	if e.Col > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", src.File, line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", src.File, line, e.Msg)
}

// refusals are the errors no force overrides: the schema check of a
// commit and references to objects that do not exist.
func (c *cfgSession) refusals() []error {
	var hard []error
	if err := c.sess.CheckCommit(); err != nil {
		hard = append(hard, err)
	}
	el := c.sess.ConfigElement()
	wrapper := &cib.Element{Name: "cib", Attrs: append([]cib.Attr(nil), c.base.Attrs...),
		Children: []*cib.Element{el, {Name: "status"}}}
	full, err := cib.FromElement(wrapper)
	if err != nil {
		return append(hard, err)
	}
	return append(hard, full.Problems()...)
}

// verify checks the pending configuration: errors block a commit,
// warnings are notices.
func (c *cfgSession) verify() (errs []error, warns []string) {
	if err := c.sess.CheckCommit(); err != nil {
		errs = append(errs, err)
	}
	el := c.sess.ConfigElement()
	wrapper := &cib.Element{Name: "cib", Attrs: append([]cib.Attr(nil), c.base.Attrs...),
		Children: []*cib.Element{el, {Name: "status"}}}
	full, err := cib.FromElement(wrapper)
	if err != nil {
		return append(errs, err), nil
	}
	errs = append(errs, full.Problems()...)
	if len(errs) > 0 {
		return errs, nil
	}
	cl, err := scheduler.Unpack(full, time.Unix(0, 0))
	if err != nil {
		return append(errs, err), nil
	}
	warns = append(warns, cib.Lint(&full.Config)...)
	if !cl.StonithEnabled {
		warns = append(warns, "stonith-enabled is false: no node will be fenced")
	} else if !cl.HasStonithRsc {
		warns = append(warns, "stonith-enabled is true but no fencing device is configured")
	}
	return errs, warns
}

func (s *Shell) printProblems(errs []error, warns []string, src Source) {
	for _, e := range errs {
		for _, line := range strings.Split(e.Error(), "\n") {
			fmt.Fprintf(s.o.Stderr, "ERROR: %s%s\n", src.prefix(), line)
		}
	}
	for _, w := range warns {
		fmt.Fprintf(s.o.Stderr, "WARNING: %s%s\n", src.prefix(), w)
	}
}

// commit verifies and writes the pending configuration atomically. Errors
// block unless forced (interactive runs may answer yes); warnings only
// prompt in interactive runs.
func (s *Shell) commit(ctx context.Context, force bool, src Source) error {
	c := s.cfg
	if c == nil {
		return nil
	}
	if !c.pending() {
		return nil
	}
	errs, warns := c.verify()
	s.printProblems(errs, warns, src)
	if hard := c.refusals(); len(hard) > 0 {
		// What the CIB itself would reject (schema, dangling references)
		// cannot be forced, as with crmsh and cibadmin.
		return s.fail(src, fmt.Errorf("%w: configuration refused: %v", ErrNotCommitted, hard[0]))
	}
	if (len(errs) > 0 || len(warns) > 0) && !force {
		proceed := len(errs) == 0 && !s.o.Interactive
		if s.o.Interactive {
			proceed, _ = s.ask("Do you still want to commit (y/n)? ")
		}
		if !proceed {
			return s.fail(src, fmt.Errorf("%w: verify failed", ErrNotCommitted))
		}
	} else if len(errs) > 0 {
		fmt.Fprintf(s.o.Stderr, "INFO: %scommit forced\n", src.prefix())
	}
	if err := c.store.ReplaceConfiguration(ctx, c.base, c.sess.ConfigElement()); err != nil {
		return s.fail(src, fmt.Errorf("commit: %w", err))
	}
	cs, err := s.newSession(ctx, c.store)
	if err != nil {
		return s.fail(src, fmt.Errorf("re-read after commit: %w", err))
	}
	s.cfg = cs
	return nil
}

func (s *Shell) cfgShow(args []string, src Source) error {
	asXML := len(args) > 0 && args[0] == "xml"
	if asXML {
		args = args[1:]
	}
	if len(args) == 1 && args[0] == "changed" {
		args = s.cfg.changedIDs()
		if len(args) == 0 {
			return nil
		}
	}
	if asXML {
		el := s.cfg.sess.ConfigElement()
		if len(args) == 0 {
			fmt.Fprintln(s.o.Stdout, el.String())
			return nil
		}
		for _, id := range args {
			f := el.FindID(id)
			if f == nil {
				return s.fail(src, fmt.Errorf("%w: object %s does not exist", ErrUsage, id))
			}
			fmt.Fprintln(s.o.Stdout, f.String())
		}
		return nil
	}
	for _, id := range args {
		if s.cfg.sess.ConfigElement().FindID(id) == nil && id != "fencing_topology" {
			return s.fail(src, fmt.Errorf("%w: object %s does not exist", ErrUsage, id))
		}
	}
	out := s.cfg.sess.Show(crmsyntax.ShowOptions{IDs: args})
	fmt.Fprint(s.o.Stdout, out)
	if out != "" && !strings.HasSuffix(out, "\n") {
		fmt.Fprintln(s.o.Stdout)
	}
	return nil
}

// changedIDs lists the objects whose crm text differs from the base.
func (c *cfgSession) changedIDs() []string {
	before := map[string]string{}
	for _, id := range objectIDs(&c.base.Config) {
		before[id] = crmsyntax.ShowWith(&c.base.Config, crmsyntax.ShowOptions{IDs: []string{id}, NoObscure: true})
	}
	var out []string
	for _, id := range objectIDs(c.sess.Config()) {
		now := c.sess.Show(crmsyntax.ShowOptions{IDs: []string{id}, NoObscure: true, NoComments: true})
		if b, ok := before[id]; !ok || strings.TrimSpace(b) != strings.TrimSpace(now) {
			out = append(out, id)
		}
	}
	return out
}

// cfgEdit runs the editor on the crm text of the configuration (or of the
// named objects) and applies the result, re-opening the editor while the
// text does not parse (interactive) or giving up (batch).
func (s *Shell) cfgEdit(ctx context.Context, args []string, src Source) error {
	if len(args) > 0 && args[0] == "xml" {
		return s.fail(src, fmt.Errorf("%w: edit xml is not supported; edit the crm text", ErrUsage))
	}
	ids := args
	if len(ids) == 1 && ids[0] == "changed" {
		ids = s.cfg.changedIDs()
	}
	for _, id := range ids {
		if s.cfg.sess.ConfigElement().FindID(id) == nil {
			return s.fail(src, fmt.Errorf("%w: object %s does not exist", ErrUsage, id))
		}
	}
	orig := s.cfg.sess.Show(crmsyntax.ShowOptions{IDs: ids, NoObscure: true})
	f, err := os.CreateTemp("", "crm-edit-*.crm")
	if err != nil {
		return s.fail(src, fmt.Errorf("edit: %w", err))
	}
	path := f.Name()
	defer os.Remove(path)
	_, err = f.WriteString(orig)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s.fail(src, fmt.Errorf("edit: %w", err))
	}
	for {
		if err := s.editor(ctx, path); err != nil {
			return s.fail(src, fmt.Errorf("edit: %w", err))
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return s.fail(src, fmt.Errorf("edit: %w", err))
		}
		text := string(data)
		if text == orig {
			fmt.Fprintln(s.o.Stderr, "INFO: no changes")
			return nil
		}
		perr := s.applyEdited(text, ids)
		if perr == nil {
			return nil
		}
		for _, e := range perr {
			fmt.Fprintf(s.o.Stderr, "ERROR: %s\n", formatSyntaxError(Source{File: "edited text", Line: 1}, e))
		}
		if yes, ok := s.ask("Edit again (y/n)? "); !ok || !yes {
			return s.fail(src, fmt.Errorf("%w: edit abandoned, configuration unchanged", ErrCommandFailed))
		}
	}
}

// applyEdited applies an edited text: with ids, the objects are updated in
// place and those removed from the text deleted; without, the whole
// configuration is replaced (nodes included). Nothing changes on error.
func (s *Shell) applyEdited(text string, ids []string) []*crmsyntax.Error {
	cfg := &cib.Configuration{}
	if len(ids) > 0 {
		cp, err := s.cfg.configCopy()
		if err != nil {
			return []*crmsyntax.Error{{Line: 1, Msg: err.Error()}}
		}
		cfg = cp
	}
	sess := crmsyntax.NewSession(cfg, s.log)
	_ = sess.Update(text)
	if len(ids) > 0 && len(sess.Errors) == 0 {
		el := sess.ConfigElement()
		for _, id := range ids {
			if el.FindID(id) == nil {
				continue
			}
			if !definesID(text, id) {
				_ = sess.Exec("delete " + id)
			}
		}
	}
	if len(sess.Errors) > 0 {
		return sess.Errors
	}
	s.cfg.replaceSession(sess)
	return nil
}

// definesID reports whether crm text defines an object named id (the
// second word of a statement).
func definesID(text, id string) bool {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[1] == id || strings.TrimSuffix(f[1], ":") == id) && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
			return true
		}
		if len(f) >= 1 && f[0] == "fencing_topology" && id == "fencing_topology" {
			return true
		}
	}
	return false
}

func (s *Shell) editor(ctx context.Context, path string) error {
	if s.o.Editor != nil {
		return s.o.Editor(ctx, path)
	}
	ed := os.Getenv("EDITOR")
	if ed == "" {
		ed = os.Getenv("VISUAL")
	}
	if ed == "" {
		ed = "vi"
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", ed+` "$1"`, "editor", path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run editor %q: %w", ed, err)
	}
	return nil
}

// cfgLoad implements "load [xml] update|replace FILE" (crm text or CIB XML).
func (s *Shell) cfgLoad(args []string, src Source) error {
	if len(args) > 0 && args[0] == "xml" {
		args = args[1:]
	}
	if len(args) != 2 || (args[0] != "update" && args[0] != "replace" && args[0] != "push") {
		return s.fail(src, fmt.Errorf("%w: load [xml] update|replace|push FILE", ErrUsage))
	}
	mode, file := args[0], args[1]
	data, err := os.ReadFile(file)
	if err != nil {
		return s.fail(src, fmt.Errorf("load: %w", err))
	}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) {
		return s.loadXML(mode, file, data, src)
	}
	if mode == "update" {
		return s.statement(string(data), Source{File: file, Line: 1}, true)
	}
	sess := crmsyntax.NewSession(&cib.Configuration{}, s.log)
	_ = sess.Exec(string(data))
	for _, e := range sess.Errors {
		fmt.Fprintf(s.o.Stderr, "ERROR: %s\n", formatSyntaxError(Source{File: file, Line: 1}, e))
	}
	if len(sess.Errors) > 0 {
		return fmt.Errorf("%w: load %s: %d error(s), configuration unchanged", ErrCommandFailed, file, len(sess.Errors))
	}
	s.cfg.replaceSession(sess)
	return nil
}

func (s *Shell) loadXML(mode, file string, data []byte, src Source) error {
	root, err := cib.ParseElement(data)
	if err != nil {
		return s.fail(src, fmt.Errorf("load %s: %w", file, err))
	}
	if root.Name == "cib" {
		root = root.Child("configuration")
	}
	if root == nil || root.Name != "configuration" {
		return s.fail(src, fmt.Errorf("%w: load %s: expected <cib> or <configuration>", ErrUsage, file))
	}
	if mode == "update" {
		root = mergeConfig(s.cfg.sess.ConfigElement(), root)
	}
	parsed, err := cib.FromElement(&cib.Element{Name: "cib", Children: []*cib.Element{root}})
	if err != nil {
		return s.fail(src, fmt.Errorf("load %s: %w", file, err))
	}
	s.cfg.replaceSession(crmsyntax.NewSession(&parsed.Config, s.log))
	return nil
}

// mergeConfig merges the objects of add into cur by id (replace in place
// or append).
func mergeConfig(cur, add *cib.Element) *cib.Element {
	out := cur.Clone()
	for _, sec := range add.Children {
		dst := out.Child(sec.Name)
		if dst == nil {
			out.Children = append(out.Children, sec.Clone())
			continue
		}
	next:
		for _, obj := range sec.Children {
			id := obj.Get("id")
			for i, old := range dst.Children {
				if id != "" && old.Name == obj.Name && old.Get("id") == id {
					dst.Children[i] = obj.Clone()
					continue next
				}
			}
			dst.Children = append(dst.Children, obj.Clone())
		}
	}
	return out
}

// cfgSave writes the configuration (crm text, or XML with "xml") to FILE.
func (s *Shell) cfgSave(args []string, src Source) error {
	asXML := len(args) > 0 && args[0] == "xml"
	if asXML {
		args = args[1:]
	}
	if len(args) == 0 {
		return s.fail(src, fmt.Errorf("%w: save [xml] [ID...] FILE", ErrUsage))
	}
	file := args[len(args)-1]
	ids := args[:len(args)-1]
	var text string
	if asXML {
		el := s.cfg.sess.ConfigElement()
		if len(ids) == 0 {
			text = el.String() + "\n"
		}
		for _, id := range ids {
			f := el.FindID(id)
			if f == nil {
				return s.fail(src, fmt.Errorf("%w: object %s does not exist", ErrUsage, id))
			}
			text += f.String() + "\n"
		}
	} else {
		text = s.cfg.sess.Show(crmsyntax.ShowOptions{IDs: ids, NoObscure: true})
	}
	if err := WriteFileAtomic(file, []byte(text)); err != nil {
		return s.fail(src, fmt.Errorf("save: %w", err))
	}
	return nil
}

// WriteFileAtomic replaces path with data via a temporary file in the
// same directory (synced, then renamed), keeping the old file's mode (0644
// for a new file).
func WriteFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data, 0o644) }
