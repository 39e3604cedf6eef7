// Package shell is the engine of gocrm's interactive and batch crm shell,
// modelled on crmsh: a tree of levels (configure, resource, node, cib, ra,
// status, migrate) navigated like directories, a configure level whose
// changes accumulate in a session and are committed atomically, shadow
// CIBs (crm cib new/use/diff/commit), tab completion and "crm -f FILE"
// batch runs.
//
// The shell does not implement the one-shot commands itself: every command
// outside the configure session is handed to a Runner (in the crm command,
// the same dispatch table "crm resource start x" uses), so batch,
// interactive and one-shot runs behave identically. The configure session
// is built on package cib/crmsyntax and commits through a Store.
//
// Concurrency: a Shell is used by one goroutine at a time. Runner, Store
// and AgentMeta implementations are only called from that goroutine.
package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

// Sentinel errors.
var (
	// ErrCommandFailed: a command ran and reported failure (its messages
	// were already printed).
	ErrCommandFailed = errors.New("command failed")
	// ErrUnknownCommand: no such command at this level.
	ErrUnknownCommand = errors.New("unknown command")
	// ErrUsage: a command was called with bad arguments.
	ErrUsage = errors.New("bad usage")
	// ErrPending: the operation needs the pending changes committed or
	// dropped first.
	ErrPending = errors.New("there are changes pending")
	// ErrNotCommitted: commit refused (verify errors, or declined).
	ErrNotCommitted = errors.New("configuration not committed")
	// ErrQuit is returned by Exec for quit/exit/bye.
	ErrQuit = errors.New("quit")
)

// Runner executes one command with one-shot semantics, exactly as
// "crm LEVEL... ARGS..." would. level is the level path ([] for the top,
// ["resource"], ...). A failing command prints its own messages to stderr
// and returns a non-nil error. The context carries the shadow CIB in use
// (see ShadowFromContext).
type Runner interface {
	Run(ctx context.Context, level []string, args []string, stdout, stderr io.Writer) error
}

// Store is a CIB the configure level reads and commits to.
type Store interface {
	// Read returns the current CIB (the caller may not modify it).
	Read(ctx context.Context) (*cib.CIB, error)
	// ReplaceConfiguration atomically replaces the configuration section
	// with cfg, provided the CIB has not changed since base was read.
	ReplaceConfiguration(ctx context.Context, base *cib.CIB, cfg *cib.Element) error
}

// AgentMeta answers completion questions about resource agents.
type AgentMeta interface {
	// Agents lists agent names ("ocf:heartbeat:IPaddr2", "lsb:apache2").
	Agents(ctx context.Context) ([]string, error)
	// Params lists the parameter names of an agent as written in a
	// primitive ("IPaddr2" means ocf:heartbeat:IPaddr2).
	Params(ctx context.Context, agent string) ([]string, error)
}

// Asker asks the user a yes/no question.
type Asker interface {
	// Ask prints question and returns the answer; ok is false when no
	// answer could be read (end of input).
	Ask(question string) (yes bool, ok bool)
}

// Options configures a Shell.
type Options struct {
	// Runner runs one-shot commands (required).
	Runner Runner
	// Live is the CIB outside any shadow: crmd or the CIB_file (required).
	Live Store
	// ShadowDir holds shadow CIBs (files "shadow.NAME"); empty disables
	// shadows.
	ShadowDir string
	// Shadow is the shadow CIB to start on ("" = live).
	Shadow string
	// StateFile, when set, records "cib use NAME" across one-shot runs.
	StateFile string
	// Meta provides agent names and parameters for completion (optional).
	Meta AgentMeta
	// Force answers yes to every question (-F).
	Force bool
	// Interactive selects the interactive behaviour of questions and of
	// leaving the configure level with pending changes.
	Interactive bool
	// Ask is used for questions in interactive mode.
	Ask Asker
	// Editor opens path in the user's editor ("edit"); nil runs $EDITOR.
	Editor func(ctx context.Context, path string) error
	// Interrupts, when set, cancels the command running in
	// RunInteractive (Ctrl-C) without leaving the shell.
	Interrupts <-chan os.Signal
	// Node is the local node name shown in the prompt.
	Node string
	// Stdout and Stderr receive output (required).
	Stdout, Stderr io.Writer
	// Log receives debug logging (nil discards).
	Log *slog.Logger
}

// Source names where a line came from, for error messages.
type Source struct {
	File string // "" for interactive or command-line input
	Line int    // 1-based line of the first physical line
}

func (s Source) prefix() string {
	if s.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d: ", s.File, s.Line)
}

// Shell is one shell session. Not safe for concurrent use.
type Shell struct {
	o      Options
	log    *slog.Logger
	level  []string
	shadow string
	cfg    *cfgSession // configure session, opened lazily
	sh     *Shadows
}

// New returns a shell at the top level.
func New(o Options) (*Shell, error) {
	if o.Runner == nil || o.Live == nil || o.Stdout == nil || o.Stderr == nil {
		return nil, fmt.Errorf("shell: %w: Runner, Live, Stdout and Stderr are required", ErrUsage)
	}
	s := &Shell{o: o, log: o.Log, shadow: o.Shadow}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if o.ShadowDir != "" {
		s.sh = &Shadows{Dir: o.ShadowDir}
	}
	return s, nil
}

// Level returns the current level path (nil at the top).
func (s *Shell) Level() []string { return append([]string(nil), s.level...) }

// Shadow returns the shadow CIB in use ("" = live).
func (s *Shell) Shadow() string { return s.shadow }

// Prompt returns crmsh's prompt, e.g. "crm(live/node1)configure# ".
func (s *Shell) Prompt() string {
	where := "live"
	if s.shadow != "" {
		where = s.shadow
	}
	if s.o.Node != "" {
		where += "/" + s.o.Node
	}
	return "crm(" + where + ")" + strings.Join(s.level, " ") + "# "
}

// store returns the working CIB (shadow or live).
func (s *Shell) store() (Store, error) {
	if s.shadow == "" {
		return s.o.Live, nil
	}
	if s.sh == nil {
		return nil, fmt.Errorf("shadow %s: %w", s.shadow, ErrNoShadowDir)
	}
	return s.sh.Store(s.shadow), nil
}

// runCtx attaches the shadow in use to ctx for the Runner.
func (s *Shell) runCtx(ctx context.Context) context.Context {
	if s.shadow == "" || s.sh == nil {
		return ctx
	}
	return WithShadow(ctx, s.shadow, s.sh.Path(s.shadow))
}

type shadowKey struct{}

type shadowVal struct{ name, path string }

// WithShadow returns ctx naming the shadow CIB (and its file) commands
// must work on.
func WithShadow(ctx context.Context, name, path string) context.Context {
	return context.WithValue(ctx, shadowKey{}, shadowVal{name, path})
}

// ShadowFromContext returns the shadow CIB a Runner must work on; ok is
// false for the live CIB.
func ShadowFromContext(ctx context.Context) (name, path string, ok bool) {
	v, ok := ctx.Value(shadowKey{}).(shadowVal)
	return v.name, v.path, ok
}

// levelNames maps level words and their aliases to canonical names.
var levelNames = map[string]string{
	"configure": "configure", "cfg": "configure",
	"resource": "resource", "rsc": "resource",
	"node":    "node",
	"cib":     "cib",
	"ra":      "ra",
	"status":  "status",
	"migrate": "migrate",
	"stonith": "stonith",
}

// levelCommands are the commands of each level (completion and checks).
var levelCommands = map[string][]string{
	"": {"status", "configure", "resource", "node", "cib", "ra", "migrate", "stonith", "verify", "simulate",
		"help", "cd", "quit", "exit", "bye"},
	"configure": {"node", "primitive", "rsc_template", "group", "clone", "ms", "master", "location",
		"colocation", "order", "property", "rsc_defaults", "op_defaults", "fencing_topology", "tag",
		"rsc_ticket", "monitor", "show", "edit", "delete", "rm", "rename", "erase", "filter", "load",
		"save", "verify", "commit", "refresh", "cib", "help", "cd", "up", "end", "quit", "exit", "bye"},
	"resource": {"status", "start", "stop", "restart", "promote", "demote", "manage", "unmanage",
		"maintenance", "move", "migrate", "ban", "clear", "unmove", "unmigrate", "unban", "locate",
		"constraints", "operations", "scores", "cleanup", "refresh", "failcount", "param", "meta",
		"utilization", "secret", "trace", "untrace", "help", "cd", "up", "end", "quit", "exit", "bye"},
	"node": {"show", "server", "standby", "online", "maintenance", "ready", "attribute", "utilization",
		"status-attr", "fence", "fence-confirm", "clearstate", "delete", "help", "cd", "up", "end", "quit", "exit", "bye"},
	"cib": {"new", "use", "list", "diff", "commit", "delete", "reset", "export", "empty",
		"help", "cd", "up", "end", "quit", "exit", "bye"},
	"ra": {"classes", "list", "info", "meta", "providers", "validate",
		"help", "cd", "up", "end", "quit", "exit", "bye"},
	"status": {"show", "full", "bynode", "inactive", "ops", "timing", "failcounts", "xml", "simple",
		"help", "cd", "up", "end", "quit", "exit", "bye"},
	"migrate": {"heartbeat", "keepalived", "help", "cd", "up", "end", "quit", "exit", "bye"},
	"stonith": {"list", "history", "status", "help", "cd", "up", "end", "quit", "exit", "bye"},
}

// statementWords are the configure commands that are crm statements run by
// the crmsyntax session.
var statementWords = map[string]bool{
	"node": true, "primitive": true, "rsc_template": true, "template": true, "group": true,
	"clone": true, "ms": true, "master": true, "location": true, "colocation": true,
	"collocation": true, "order": true, "property": true, "rsc_defaults": true, "op_defaults": true,
	"fencing_topology": true, "tag": true, "rsc_ticket": true, "monitor": true, "delete": true,
	"rename": true, "erase": true, "filter": true,
}

// shadowCommands are the cib level commands the shell runs itself.
var shadowCommands = map[string]bool{"new": true, "use": true, "list": true, "diff": true,
	"commit": true, "delete": true, "reset": true}

// IsShadowCommand reports whether "cib WORD" is handled by the shell (not
// by the Runner).
func IsShadowCommand(word string) bool { return shadowCommands[word] }

// cur returns the current level name ("" at the top).
func (s *Shell) cur() string {
	if len(s.level) == 0 {
		return ""
	}
	return s.level[len(s.level)-1]
}

// Exec runs one logical line typed at the current level. The raw text is
// kept for configure statements (their parser reports columns); src
// positions error messages. It returns ErrQuit for quit/exit/bye.
func (s *Shell) Exec(ctx context.Context, line string, src Source) error {
	words, err := SplitWords(line)
	if err != nil && s.cur() == "configure" {
		// the configure parser reports the position itself
		if f := strings.Fields(line); len(f) > 0 && statementWords[f[0]] {
			return s.configure(ctx, f[:1], line, src)
		}
	}
	if err != nil {
		fmt.Fprintf(s.o.Stderr, "ERROR: %s%v\n", src.prefix(), err)
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if len(words) == 0 {
		return nil
	}
	return s.execWords(ctx, s.cur(), words, line, src, true)
}

// execWords runs words at level lvl. raw is the original text (for
// statements); nav allows level changes.
func (s *Shell) execWords(ctx context.Context, lvl string, words []string, raw string, src Source, nav bool) error {
	w := words[0]
	switch w {
	case "quit", "exit", "bye":
		if err := s.leaveConfigure(ctx, src); err != nil {
			return err
		}
		return ErrQuit
	case "help", "?", "ls":
		s.help(lvl)
		return nil
	case "cd":
		if !nav {
			return s.fail(src, fmt.Errorf("%w: cd is not allowed here", ErrUsage))
		}
		return s.cd(ctx, words[1:], src)
	case "up", "end", "back":
		if !nav || lvl == "" {
			return nil
		}
		return s.cd(ctx, []string{".."}, src)
	}
	switch lvl {
	case "":
		name, isLevel := levelNames[w]
		switch {
		case w == "status" || w == "verify" || w == "simulate":
			if w == "verify" {
				return s.run(ctx, []string{"configure"}, words, src)
			}
			return s.run(ctx, nil, words, src)
		case isLevel && len(words) == 1:
			if !nav {
				return s.fail(src, fmt.Errorf("%w: %s needs a command", ErrUsage, w))
			}
			return s.enter(ctx, name, src)
		case isLevel:
			return s.oneShot(ctx, name, words[1:], strings.TrimSpace(cutFirstWord(raw)), src)
		}
		return s.fail(src, fmt.Errorf("%w: %q", ErrUnknownCommand, w))
	case "configure":
		return s.configure(ctx, words, raw, src)
	case "cib":
		if shadowCommands[w] {
			return s.cibCommand(ctx, words, src)
		}
	}
	if !contains(levelCommands[lvl], w) {
		return s.fail(src, fmt.Errorf("%w: %s %q", ErrUnknownCommand, lvl, w))
	}
	return s.run(ctx, []string{lvl}, words, src)
}

// oneShot runs "LEVEL ARGS" typed at the top level without entering the
// level; configure changes are committed at once, like "crm configure ...".
func (s *Shell) oneShot(ctx context.Context, lvl string, words []string, raw string, src Source) error {
	if lvl != "configure" {
		return s.execWords(ctx, lvl, words, raw, src, false)
	}
	if s.cfg != nil {
		// leaving the configure level closes its session, so this only
		// happens if a caller runs one-shots while a session is open
		return s.configure(ctx, words, raw, src)
	}
	defer func() { s.cfg = nil }() // a one-shot never keeps a session
	if err := s.configure(ctx, words, raw, src); err != nil {
		return err
	}
	if s.cfg != nil && s.cfg.pending() {
		return s.commit(ctx, s.o.Force, src)
	}
	return nil
}

// run hands a command to the Runner.
func (s *Shell) run(ctx context.Context, level, words []string, src Source) error {
	err := s.o.Runner.Run(s.runCtx(ctx), level, words, s.o.Stdout, s.o.Stderr)
	if err != nil {
		if src.File != "" {
			fmt.Fprintf(s.o.Stderr, "ERROR: %s%s failed\n", src.prefix(), strings.Join(append(append([]string(nil), level...), words...), " "))
		}
		if errors.Is(err, ErrCommandFailed) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrCommandFailed, err)
	}
	return nil
}

// fail prints err as crmsh does and returns it.
func (s *Shell) fail(src Source, err error) error {
	fmt.Fprintf(s.o.Stderr, "ERROR: %s%v\n", src.prefix(), err)
	return err
}

// enter moves into a level below the top.
func (s *Shell) enter(ctx context.Context, name string, src Source) error {
	if name == "configure" && s.cfg == nil {
		if err := s.openConfigure(ctx); err != nil {
			return s.fail(src, err)
		}
	}
	s.level = []string{name}
	return nil
}

// cd implements "cd [LEVEL|..|/]".
func (s *Shell) cd(ctx context.Context, args []string, src Source) error {
	target := ""
	if len(args) > 0 {
		target = args[0]
	}
	switch target {
	case "", "/", "..":
		if s.cur() == "" {
			return nil
		}
		if err := s.leaveConfigure(ctx, src); err != nil {
			return err
		}
		s.level = nil
		return nil
	}
	target = strings.TrimPrefix(strings.TrimSuffix(target, "/"), "/")
	target = strings.TrimPrefix(target, "../")
	name, ok := levelNames[target]
	if !ok {
		return s.fail(src, fmt.Errorf("%w: no level %q", ErrUsage, target))
	}
	if s.cur() == name {
		return nil
	}
	if s.cur() == "configure" {
		if err := s.leaveConfigure(ctx, src); err != nil {
			return err
		}
	}
	return s.enter(ctx, name, src)
}

// leaveConfigure handles pending changes when the configure level is left:
// interactive runs ask, -F and batch runs commit.
func (s *Shell) leaveConfigure(ctx context.Context, src Source) error {
	if s.cfg == nil {
		return nil
	}
	if !s.cfg.pending() {
		s.cfg = nil
		return nil
	}
	if s.o.Interactive && !s.o.Force {
		yes, ok := s.ask("There are changes pending. Do you want to commit them (y/n)? ")
		if ok && !yes {
			s.cfg = nil
			return nil
		}
	}
	if err := s.commit(ctx, s.o.Force, src); err != nil {
		return err
	}
	s.cfg = nil
	return nil
}

// ask asks a yes/no question; non-interactive runs answer Force.
func (s *Shell) ask(q string) (yes, ok bool) {
	if s.o.Force {
		return true, true
	}
	if !s.o.Interactive || s.o.Ask == nil {
		return false, false
	}
	return s.o.Ask.Ask(q)
}

func (s *Shell) help(lvl string) {
	name := lvl
	if name == "" {
		name = "top"
	}
	fmt.Fprintf(s.o.Stdout, "commands (%s level):\n", name)
	cmds := append([]string(nil), levelCommands[lvl]...)
	sort.Strings(cmds)
	for i := 0; i < len(cmds); i += 6 {
		end := min(i+6, len(cmds))
		fmt.Fprintf(s.o.Stdout, "  %s\n", strings.Join(cmds[i:end], "  "))
	}
}

// Finish ends a session: pending configure changes are committed (batch
// runs) or asked about (interactive).
func (s *Shell) Finish(ctx context.Context) error {
	return s.leaveConfigure(ctx, Source{})
}

// RunBatch runs the commands read from r (crm -f FILE); name is used in
// error messages. Lines ending in "\" continue on the next line; lines
// starting with "#" are comments. Failing lines are reported as
// "NAME:LINE: ..." and skipped; at the end pending configure changes are
// committed. The error is non-nil if any line or the commit failed.
func (s *Shell) RunBatch(ctx context.Context, r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var failed int
	lineNo := 0
	var buf []string
	start := 0
	for sc.Scan() {
		lineNo++
		if err := ctx.Err(); err != nil {
			return err
		}
		text := sc.Text()
		if len(buf) == 0 {
			start = lineNo
			if t := strings.TrimSpace(text); t == "" || strings.HasPrefix(t, "#") {
				continue
			}
		}
		if strings.HasSuffix(text, `\`) {
			buf = append(buf, text)
			continue
		}
		buf = append(buf, text)
		logical := strings.Join(buf, "\n")
		buf = nil
		err := s.Exec(ctx, logical, Source{File: name, Line: start})
		if errors.Is(err, ErrQuit) {
			return s.batchResult(failed)
		}
		if err != nil {
			failed++
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if len(buf) > 0 {
		if err := s.Exec(ctx, strings.Join(buf, "\n"), Source{File: name, Line: start}); err != nil && !errors.Is(err, ErrQuit) {
			failed++
		}
	}
	if err := s.Finish(ctx); err != nil {
		failed++
	}
	return s.batchResult(failed)
}

func (s *Shell) batchResult(failed int) error {
	if failed > 0 {
		return fmt.Errorf("%w: %d command(s) failed", ErrCommandFailed, failed)
	}
	return nil
}

// cutFirstWord drops the first word of a raw line.
func cutFirstWord(raw string) string {
	raw = strings.TrimLeft(raw, " \t")
	i := strings.IndexAny(raw, " \t\n")
	if i < 0 {
		return ""
	}
	return raw[i:]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SplitWords splits a command line into words: blanks separate, single and
// double quotes group (and are removed), a backslash escapes the next
// character, and a backslash-newline joins lines.
func SplitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else if r == '\\' && quote == '"' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\') {
				i++
				cur.WriteRune(rs[i])
			} else {
				cur.WriteRune(r)
			}
		case r == '\\':
			if i+1 < len(rs) {
				i++
				if rs[i] == '\n' {
					continue
				}
				cur.WriteRune(rs[i])
				inWord = true
			}
		case r == '"' || r == '\'':
			quote = r
			inWord = true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
