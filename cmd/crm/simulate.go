package main

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/simulate"
)

func init() {
	register(&command{
		name:    "simulate",
		summary: "show what the cluster would do with a CIB (crm_simulate compatible)",
		run:     runSimulate,
	})
}

// errUsage marks command-line mistakes (exit code 64).
var errUsage = errors.New("usage error")

// simulateArgs are the parsed crm simulate flags.
type simulateArgs struct {
	xmlFile    string
	simulate   bool
	run        bool
	showScores bool
	quiet      bool
	setTime    string
	outputAs   string
	help       bool
}

const simulateUsage = `usage: crm simulate -x FILE [-S|-R] [-s] [-Q] [-t DATE] [--output-as=text|xml]
  -x, --xml-file FILE       CIB to use ("-" reads standard input)
  -S, --simulate            simulate the transition and show the resulting status
  -R, --run                 compute the transition and show its summary
  -s, --show-scores         show allocation scores (plain text style, implies -R)
  -Q, --quiet               do not show the status sections
  -t, --set-datetime DATE   set the effective cluster time (ISO 8601)
      --output-as FORMAT    text (default) or xml
`

// parseSimulateArgs parses crm_simulate-style flags by hand: short flags
// may be bundled (-sSQ) and take values attached or as the next argument;
// long flags take "--name=value" or "--name value".
func parseSimulateArgs(args []string) (*simulateArgs, error) {
	a := &simulateArgs{outputAs: "text"}
	takesValue := map[string]bool{"x": true, "xml-file": true, "t": true, "set-datetime": true, "output-as": true}
	long := map[string]string{"xml-file": "x", "simulate": "S", "run": "R", "show-scores": "s", "quiet": "Q", "set-datetime": "t", "output-as": "output-as", "help": "h"}
	set := func(name, value string) error {
		switch name {
		case "x":
			a.xmlFile = value
		case "S":
			a.simulate = true
		case "R":
			a.run = true
		case "s":
			a.showScores = true
		case "Q":
			a.quiet = true
		case "t":
			a.setTime = value
		case "output-as":
			if value != "text" && value != "xml" {
				return fmt.Errorf("%w: --output-as must be text or xml, not %q", errUsage, value)
			}
			a.outputAs = value
		case "h", "?":
			a.help = true
		default:
			return fmt.Errorf("%w: unknown option -%s", errUsage, name)
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case strings.HasPrefix(arg, "--"):
			name, value, hasValue := strings.Cut(arg[2:], "=")
			short, ok := long[name]
			if !ok {
				return nil, fmt.Errorf("%w: unknown option --%s", errUsage, name)
			}
			if takesValue[name] && !hasValue {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("%w: option --%s needs a value", errUsage, name)
				}
				i++
				value = args[i]
			} else if !takesValue[name] && hasValue {
				return nil, fmt.Errorf("%w: option --%s takes no value", errUsage, name)
			}
			if err := set(short, value); err != nil {
				return nil, err
			}
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			for j := 1; j < len(arg); j++ {
				name := string(arg[j])
				if takesValue[name] {
					value := arg[j+1:]
					if value == "" {
						if i+1 >= len(args) {
							return nil, fmt.Errorf("%w: option -%s needs a value", errUsage, name)
						}
						i++
						value = args[i]
					}
					if err := set(name, value); err != nil {
						return nil, err
					}
					break
				}
				if err := set(name, ""); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, arg)
		}
	}
	if !a.help && a.xmlFile == "" {
		return nil, fmt.Errorf("%w: -x/--xml-file is required", errUsage)
	}
	return a, nil
}

func runSimulate(e *env, args []string) int {
	a, err := parseSimulateArgs(args)
	if err != nil {
		fmt.Fprintf(e.stderr, "crm simulate: %v\n%s", err, simulateUsage)
		return exitUsage
	}
	if a.help {
		fmt.Fprint(e.stdout, simulateUsage)
		return exitOK
	}
	opts := simulate.Options{Mode: simulate.ModeStatus, Quiet: a.quiet, ShowScores: a.showScores, Fallback: e.now().UTC(), XML: a.outputAs == "xml"}
	switch {
	case a.simulate:
		opts.Mode = simulate.ModeSimulate
	case a.run || a.showScores:
		// Scores need a scheduler run, as with crm_simulate.
		opts.Mode = simulate.ModeRun
	}
	if a.setTime != "" {
		t, err := cib.ParseISODate(a.setTime)
		if err != nil {
			fmt.Fprintf(e.stderr, "crm simulate: invalid --set-datetime: %v\n", err)
			return exitUsage
		}
		opts.Now, opts.NowText = t, a.setTime
	}
	if err := e.ctx.Err(); err != nil {
		fmt.Fprintf(e.stderr, "crm simulate: %v\n", err)
		return exitError
	}
	var data []byte
	release := func() {}
	if e.mapFile != nil && a.xmlFile != "-" {
		data, release, err = e.mapFile(a.xmlFile)
	} else {
		data, err = e.readFile(a.xmlFile)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "crm simulate: reading CIB: %v\n", err)
		return exitError
	}
	defer oneShotGC(len(data))()
	// The heap a simulation uses is about four times the document.
	reserve := prepareHeap(4 * len(data))
	c, err := parseCIBData(data)
	// The CIB shares no memory with data.
	release()
	if err != nil {
		fmt.Fprintf(e.stderr, "crm simulate: %s: %v\n", a.xmlFile, err)
		return exitError
	}
	// Scheduling runs on one core: the other faults in the heap it is
	// about to use meanwhile (see heapReserve.populate). The goroutine is
	// stopped and waited for before going on.
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		reserve.populate(stop)
	}()
	res, err := simulate.Simulate(c, opts)
	close(stop)
	<-done
	if err != nil {
		fmt.Fprintf(e.stderr, "crm simulate: %v\n", err)
		return exitError
	}
	if a.outputAs == "xml" {
		err = simulate.WriteXML(e.stdout, res, opts, "crm simulate "+strings.Join(args, " "))
	} else {
		err = simulate.WriteText(e.stdout, res, opts)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "crm simulate: writing output: %v\n", err)
		return exitError
	}
	return exitOK
}

// oneShotGC sets the garbage collector up for one simulation of a CIB of
// size bytes and returns the function that restores the previous settings.
// Nearly everything a simulation allocates stays live until it ends (the
// parsed CIB, the unpacked cluster, the transition), so collecting as the
// heap grows mostly re-marks live memory: the collector is switched off
// and a memory limit of about six times the document (at least 128 MiB)
// bounds the heap instead; a 42 MB CIB is simulated in about 170 MB (peak
// RSS) without one collection, and a larger one collects only near its
// limit.
func oneShotGC(size int) (restore func()) {
	limit := max(int64(128)<<20, 6*int64(size))
	oldLimit := debug.SetMemoryLimit(limit)
	oldPercent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}
}

// errFileChanged reports a fault reading a mapped file: it was truncated
// while being parsed.
var errFileChanged = errors.New("the file changed while it was read")

// parseCIBData parses a CIB that may be a mapped file (see
// mapFileReadOnly): a fault reading it becomes an error instead of a
// crash. cib.Parse re-raises a worker goroutine's fault on the calling
// goroutine, where it is recovered here.
func parseCIBData(data []byte) (c *cib.CIB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			re, ok := r.(runtime.Error)
			if !ok {
				panic(r)
			}
			if _, fault := re.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			c, err = nil, fmt.Errorf("%w: %v", errFileChanged, re)
		}
	}()
	return cib.Parse(data)
}
