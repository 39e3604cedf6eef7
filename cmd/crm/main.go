// Command crm is gocrm's command-line shell. It dispatches to subcommands
// (simulate, and later status, configure, ...) registered in the commands
// table; each subcommand parses its own flags and returns an exit code.
//
// Adding a subcommand: create a file in this package that calls register
// from an init function with a *command value.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Exit codes shared by subcommands (crm_simulate's where they exist).
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 64
)

// env is what a subcommand may use from the outside world. Subcommands
// never reach for os.Stdout, the global logger or the wall clock directly,
// so they can be tested with in-memory values.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	now    func() time.Time
	// readFile reads a named file ("-" may mean stdin where supported).
	readFile func(name string) ([]byte, error)
	// mapFile, when set, is used instead of readFile by commands that read
	// a large file once (crm simulate): see mapFileReadOnly.
	mapFile func(name string) (data []byte, release func(), err error)
}

// command is one crm subcommand.
type command struct {
	name    string
	summary string
	// run executes the subcommand with the arguments that follow its name
	// and returns the process exit code.
	run func(e *env, args []string) int
}

// commands is the dispatch table, filled by register.
var commands = map[string]*command{}

// register adds a subcommand to the dispatch table. It is called from init
// functions only, so no locking is needed.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("crm: duplicate subcommand " + c.name)
	}
	commands[c.name] = c
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: crm COMMAND [ARGS...]")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
}

// dispatch runs the subcommand named by args[0].
func dispatch(e *env, args []string) int {
	if code, ok := shellIntercept(e, args); ok { // shell.go: no args on a terminal, -f, -F, -c, shadow CIBs
		return code
	}
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "--help":
		usage(e.stdout)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "crm: unknown command %q\n", args[0])
		usage(e.stderr)
		return exitUsage
	}
	return c.run(e, args[1:])
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := &env{
		ctx:      ctx,
		stdout:   os.Stdout,
		stderr:   os.Stderr,
		log:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		now:      time.Now,
		readFile: readFileOrStdin,
		mapFile:  mapFileReadOnly,
	}
	args := os.Args[1:]
	// A global --socket before the command is the same as CRM_SOCKET.
	if len(args) >= 2 && args[0] == "--socket" {
		os.Setenv("CRM_SOCKET", args[1])
		args = args[2:]
	} else if len(args) >= 1 && strings.HasPrefix(args[0], "--socket=") {
		os.Setenv("CRM_SOCKET", strings.TrimPrefix(args[0], "--socket="))
		args = args[1:]
	}
	code := dispatch(e, args)
	stop()
	os.Exit(code)
}

func readFileOrStdin(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}
