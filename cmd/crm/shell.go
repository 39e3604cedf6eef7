package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gocrm/gocrm/agents/ra"
	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/crm/shell"
)

// This file wires package crm/shell into the crm command: "crm" alone on
// a terminal is the interactive shell, "crm -f FILE" runs a command file,
// global options (-F, -c SHADOW) apply to any command, "crm cib
// new|use|diff|commit|delete|list|reset" manage shadow CIBs, and a shadow
// in use (-c, $CIB_shadow or "crm cib use NAME") redirects every command
// to the shadow file through CIB_file.

func init() {
	register(&command{
		name:    "shell",
		summary: "interactive shell (also plain \"crm\" on a terminal); -f FILE runs a command file",
		run:     runShellCommand,
	})
}

// runShellCommand is "crm shell [-F] [-c SHADOW] [-f FILE]".
func runShellCommand(e *env, args []string) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(e.stdout, shellUsage)
		return exitOK
	}
	if g, rest, err := parseGlobal(args); err == nil && len(rest) == 0 && !inShell {
		if code, ok := shellIntercept(e, args); ok {
			return code
		}
		if g.file == "" {
			fmt.Fprintln(e.stderr, "crm shell: standard input is not a terminal (use crm -f FILE or crm -f -)")
			return exitUsage
		}
	}
	fmt.Fprint(e.stderr, shellUsage)
	return exitUsage
}

// inShell guards against re-entering the shell when its Runner dispatches
// commands (the process runs one shell at a time).
var inShell bool

// globalOpts are crmsh's options before the command words.
type globalOpts struct {
	file    string // -f FILE ("-" = stdin)
	force   bool   // -F
	shadow  string // -c NAME
	hasOpts bool
}

const shellUsage = `usage: crm [-F|--force] [-c|--cib SHADOW] [-D plain] [-w] [-d] [-f FILE | COMMAND ...]
  crm                 interactive shell (on a terminal)
  crm -f FILE         run the commands of FILE ("-" = stdin); pending configure changes commit at the end
  crm cib new|use|list|diff|commit|delete|reset ...   shadow CIBs (in $CIB_shadow_dir or ~/.cib)
`

// parseGlobal takes the leading global options off args.
func parseGlobal(args []string) (globalOpts, []string, error) {
	var g globalOpts
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%w: %s needs a value", errUsage, a)
			}
			i++
			return args[i], nil
		}
		var err error
		switch {
		case a == "-f" || a == "--file":
			g.file, err = val()
		case strings.HasPrefix(a, "--file="):
			g.file = strings.TrimPrefix(a, "--file=")
		case a == "-F" || a == "--force" || a == "-y" || a == "--yes":
			g.force = true
		case a == "-c" || a == "--cib":
			g.shadow, err = val()
		case strings.HasPrefix(a, "--cib="):
			g.shadow = strings.TrimPrefix(a, "--cib=")
		case a == "-D" || a == "--display":
			_, err = val()
		case a == "-w" || a == "--wait" || a == "-d" || a == "--debug" || a == "-R" || a == "--regression-tests":
		default:
			if strings.HasPrefix(a, "-") && a != "-" && a != "-h" && a != "--help" && i == 0 {
				return g, args, nil // not a global option: the command decides
			}
			return g, args[i:], err
		}
		if err != nil {
			return g, nil, err
		}
		g.hasOpts = true
	}
	return g, nil, nil
}

// configureShellOnly are configure commands only the shell engine runs
// (runConfigure has no session).
var configureShellOnly = map[string]bool{"edit": true, "save": true, "erase": true, "filter": true,
	"commit": true, "refresh": true}

func stdinIsTerminal() bool {
	_, err := unix.IoctlGetTermios(int(os.Stdin.Fd()), unix.TCGETS)
	return err == nil
}

// shellIntercept handles what the plain dispatch table cannot: no
// arguments on a terminal, global options, shadow CIB commands and the
// shadow in use. ok is false when dispatch should proceed normally.
func shellIntercept(e *env, args []string) (code int, ok bool) {
	if inShell {
		return 0, false
	}
	g, rest, err := parseGlobal(args)
	if err != nil {
		fmt.Fprint(e.stderr, shellUsage)
		return fail(e, "shell", err), true
	}
	// interactive only on the process's own terminal (not when a test
	// or caller captures the output)
	term := stdinIsTerminal() && e.stdout == io.Writer(os.Stdout)
	if len(args) == 0 && !term {
		return 0, false // usage
	}
	dir := shell.DefaultShadowDir()
	stateFile := filepath.Join(dir, ".in-use")
	shadow := g.shadow
	if shadow == "" {
		shadow = os.Getenv("CIB_shadow")
	}
	if shadow == "" && os.Getenv("CIB_file") == "" {
		// "crm cib use NAME" persists for later runs, except in
		// offline mode (CIB_file), which always wins over the record
		if shadow, err = shell.LoadShadowState(stateFile); err != nil {
			return fail(e, "shell", err), true
		}
	}
	if shadow != "" {
		if err := shell.CheckShadowName(shadow); err != nil {
			return fail(e, "shell", err), true
		}
	}
	interactive := g.file == "" && len(rest) == 0
	startConfigure := false
	if g.file == "" && term && len(rest) == 1 && (rest[0] == "configure" || rest[0] == "cfg") {
		interactive, startConfigure = true, true
	}
	needShell := interactive || g.file != "" ||
		(len(rest) >= 2 && rest[0] == "cib" && shell.IsShadowCommand(rest[1])) ||
		(len(rest) >= 2 && (rest[0] == "configure" || rest[0] == "cfg") && configureShellOnly[rest[1]])
	if !needShell {
		if !g.hasOpts && shadow == "" {
			return 0, false
		}
		if shadow != "" && !(&shell.Shadows{Dir: dir}).Exists(shadow) {
			return fail(e, "shell", fmt.Errorf("%w: %s in %s (crm cib use live, or unset CIB_shadow)", shell.ErrNoShadow, shadow, dir)), true
		}
		restore := useShadowFile(dir, shadow)
		defer restore()
		inShell = true
		defer func() { inShell = false }()
		return dispatch(e, rest), true
	}
	if interactive && !term {
		fmt.Fprint(e.stderr, shellUsage)
		return exitUsage, true
	}
	return runShell(e, g, rest, shellSetup{dir: dir, stateFile: stateFile, shadow: shadow,
		interactive: interactive, startConfigure: startConfigure}), true
}

// useShadowFile points CIB_file at shadow's file (when set) and returns a
// function restoring the previous value.
func useShadowFile(dir, shadow string) func() {
	if shadow == "" {
		return func() {}
	}
	old, had := os.LookupEnv("CIB_file")
	_ = os.Setenv("CIB_file", (&shell.Shadows{Dir: dir}).Path(shadow))
	return func() {
		if had {
			_ = os.Setenv("CIB_file", old)
		} else {
			_ = os.Unsetenv("CIB_file")
		}
	}
}

type shellSetup struct {
	dir, stateFile, shadow      string
	interactive, startConfigure bool
}

func runShell(e *env, g globalOpts, rest []string, su shellSetup) int {
	inShell = true
	defer func() { inShell = false }()
	liveFile, hadFile := os.LookupEnv("CIB_file")
	defer func() {
		if hadFile {
			_ = os.Setenv("CIB_file", liveFile)
		} else {
			_ = os.Unsetenv("CIB_file")
		}
	}()
	node, _ := os.Hostname()
	if i := strings.IndexByte(node, '.'); i > 0 {
		node = node[:i]
	}
	opts := shell.Options{
		Runner:    &dispatchRunner{e: e, liveFile: liveFile, hadFile: hadFile},
		Live:      &liveStore{file: liveFile},
		ShadowDir: su.dir,
		Shadow:    su.shadow,
		Meta:      &shell.CatalogMeta{Catalog: &ra.Catalog{OCFRoot: os.Getenv("OCF_ROOT"), Logger: e.log}},
		Force:     g.force,
		Node:      node,
		Stdout:    e.stdout,
		Stderr:    e.stderr,
		Log:       e.log,
	}
	if su.shadow != "" && !(&shell.Shadows{Dir: su.dir}).Exists(su.shadow) {
		fmt.Fprintf(e.stderr, "crm: shadow CIB %s does not exist (crm cib use live)\n", su.shadow)
		return exitError
	}
	oneShotUse := !su.interactive && g.file == "" && len(rest) >= 2 && rest[0] == "cib" && rest[1] == "use"
	offline := liveFile != ""
	if oneShotUse && !offline {
		// one-shot: "cib use" persists across runs
		opts.StateFile = su.stateFile
	}
	var term *shell.Terminal
	if su.interactive {
		opts.Interactive = true
		// Ctrl-C interrupts the running command, not the shell: main's
		// signal context is left behind (SIGTERM while reading a line
		// is ignored; the terminal closing sends SIGHUP).
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt)
		defer signal.Stop(sigs)
		opts.Interrupts = sigs
		e = withContext(e, context.WithoutCancel(e.ctx))
		home, _ := os.UserHomeDir()
		hist := ""
		if home != "" {
			hist = filepath.Join(home, ".crm_history")
		}
		var sh *shell.Shell
		term = shell.NewTerminal(hist, func(line string, pos int) (string, []string, string) {
			return sh.WordCompleter(e.ctx)(line, pos)
		})
		opts.Ask = term
		s, err := shell.New(opts)
		if err != nil {
			_ = term.Close()
			return fail(e, "shell", err)
		}
		sh = s
		code := exitOK
		if su.startConfigure {
			if err := sh.Exec(e.ctx, "configure", shell.Source{}); err != nil {
				code = exitError
			}
		}
		if code == exitOK {
			if err := sh.RunInteractive(e.ctx, term); err != nil && !errors.Is(err, shell.ErrCommandFailed) {
				fmt.Fprintf(e.stderr, "crm: %v\n", err)
				code = exitError
			} else if err != nil {
				code = exitError
			}
		}
		if err := term.Close(); err != nil {
			fmt.Fprintf(e.stderr, "crm: %v\n", err)
		}
		return code
	}
	sh, err := shell.New(opts)
	if err != nil {
		return fail(e, "shell", err)
	}
	if g.file != "" {
		name := g.file
		if name == "-" {
			name = "<stdin>"
		}
		data, err := e.readFile(g.file)
		if err != nil {
			return fail(e, "shell", err)
		}
		if err := sh.RunBatch(e.ctx, bytes.NewReader(data), name); err != nil {
			if !errors.Is(err, shell.ErrCommandFailed) {
				fmt.Fprintf(e.stderr, "crm: %v\n", err)
			}
			return exitError
		}
		return exitOK
	}
	// one-shot command the dispatch table cannot run
	line := joinStatement(rest)
	err = sh.Exec(e.ctx, line, shell.Source{})
	if err == nil || errors.Is(err, shell.ErrQuit) {
		err = sh.Finish(e.ctx)
	}
	if err == nil && oneShotUse {
		switch {
		case offline && sh.Shadow() != "":
			fmt.Fprintf(e.stderr, "INFO: CIB_file is set and takes precedence: export CIB_shadow=%s to work on the shadow\n", sh.Shadow())
		case sh.Shadow() != "":
			fmt.Fprintf(e.stderr, "INFO: crm commands now work on shadow CIB %s (crm cib use live to switch back)\n", sh.Shadow())
		default:
			fmt.Fprintln(e.stderr, "INFO: crm commands now work on the live CIB")
		}
	}
	if err != nil {
		if errors.Is(err, shell.ErrUsage) || errors.Is(err, shell.ErrUnknownCommand) {
			return exitUsage
		}
		return exitError
	}
	return exitOK
}

// withContext returns a copy of e using ctx.
func withContext(e *env, ctx context.Context) *env {
	n := *e
	n.ctx = ctx
	return &n
}

// dispatchRunner runs shell commands through the dispatch table, on the
// shadow CIB named by the context (CIB_file is switched for the call).
// Not safe for concurrent use (it changes the process environment).
type dispatchRunner struct {
	e        *env
	liveFile string
	hadFile  bool
}

func (r *dispatchRunner) Run(ctx context.Context, level, args []string, stdout, stderr io.Writer) error {
	words := append(append([]string(nil), level...), args...)
	if len(words) == 0 {
		return nil
	}
	if _, ok := commands[words[0]]; !ok {
		fmt.Fprintf(stderr, "ERROR: %s: not available in this build of crm\n", words[0])
		return fmt.Errorf("%w: %s", shell.ErrUnknownCommand, words[0])
	}
	if _, path, ok := shell.ShadowFromContext(ctx); ok {
		_ = os.Setenv("CIB_file", path)
	} else if r.hadFile {
		_ = os.Setenv("CIB_file", r.liveFile)
	} else {
		_ = os.Unsetenv("CIB_file")
	}
	e := *r.e
	e.ctx, e.stdout, e.stderr = ctx, stdout, stderr
	if code := dispatch(&e, words); code != exitOK {
		return fmt.Errorf("%w: crm %s: exit status %d", shell.ErrCommandFailed, words[0], code)
	}
	return nil
}

// liveStore is the CIB outside shadows: the CIB_file given when crm
// started, else crmd.
type liveStore struct {
	file string
}

func (l *liveStore) open(ctx context.Context) (backend, error) {
	if l.file != "" {
		return &fileBackend{path: l.file}, nil
	}
	sock := os.Getenv("CRM_SOCKET")
	if sock == "" {
		sock = defaultSocket
	}
	c, err := api.Dial(ctx, sock)
	if err != nil {
		return nil, err
	}
	return &liveBackend{c: c}, nil
}

func (l *liveStore) Read(ctx context.Context) (*cib.CIB, error) {
	b, err := l.open(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return b.Read(ctx)
}

func (l *liveStore) ReplaceConfiguration(ctx context.Context, base *cib.CIB, cfg *cib.Element) error {
	b, err := l.open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	return b.Apply(ctx, store.Command{V: store.Version, Op: store.OpReplaceConfiguration,
		ExpectEpoch: store.EpochString(base), XML: cfg.String()})
}
