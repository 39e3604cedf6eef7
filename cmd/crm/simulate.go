package main

import (
	"errors"
	"fmt"
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
	data, err := e.readFile(a.xmlFile)
	if err != nil {
		fmt.Fprintf(e.stderr, "crm simulate: reading CIB: %v\n", err)
		return exitError
	}
	c, err := cib.Parse(data)
	if err != nil {
		fmt.Fprintf(e.stderr, "crm simulate: %s: %v\n", a.xmlFile, err)
		return exitError
	}
	res, err := simulate.Simulate(c, opts)
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
