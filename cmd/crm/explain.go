package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

const explainUsage = `usage: crm explain [-x FILE] [-t DATETIME] [--socket PATH] RSC [NODE]

Explain where the scheduler places resource RSC and why: for each node its
final allocation score and every contribution that built it (symmetric
default, location constraints, stickiness, colocations scaled by their
factor, fail-count bans, standby/offline/unclean nodes, no quorum), then the
planned actions with their reasons. NODE limits the scores to one node.

Without -x, the CIB comes from the running cluster (or CIB_file).
  -x, --xml-file FILE      explain offline against a CIB file
  -t, --set-datetime TIME  evaluate rules and failure timeouts at TIME
      --socket PATH        crmd control socket
`

func init() {
	register(&command{name: "explain", summary: "why a resource is placed where it is (scores and reasons)", run: runExplain})
}

func runExplain(e *env, args []string) int {
	conn, args, err := takeConnFlags(args)
	if err != nil {
		fmt.Fprintf(e.stderr, "crm explain: %v\n%s", err, explainUsage)
		return exitUsage
	}
	var file, when string
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, bool) {
			if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "--") {
				return v, true
			}
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		switch {
		case a == "-h" || a == "--help":
			fmt.Fprint(e.stdout, explainUsage)
			return exitOK
		case a == "-x" || a == "--xml-file" || strings.HasPrefix(a, "--xml-file="):
			v, ok := val()
			if !ok {
				fmt.Fprintf(e.stderr, "crm explain: %s needs a file\n%s", a, explainUsage)
				return exitUsage
			}
			file = v
		case a == "-t" || a == "--set-datetime" || strings.HasPrefix(a, "--set-datetime="):
			v, ok := val()
			if !ok {
				fmt.Fprintf(e.stderr, "crm explain: %s needs a date\n%s", a, explainUsage)
				return exitUsage
			}
			when = v
		case strings.HasPrefix(a, "-") && a != "-":
			fmt.Fprintf(e.stderr, "crm explain: unknown option %q\n%s", a, explainUsage)
			return exitUsage
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) < 1 || len(pos) > 2 {
		fmt.Fprint(e.stderr, explainUsage)
		return exitUsage
	}
	var c *cib.CIB
	if file != "" {
		data, err := e.readFile(file)
		if err != nil {
			fmt.Fprintf(e.stderr, "crm explain: reading CIB: %v\n", err)
			return exitError
		}
		if c, err = cib.Parse(data); err != nil {
			fmt.Fprintf(e.stderr, "crm explain: %s: %v\n", file, err)
			return exitError
		}
	} else {
		b, err := openBackend(e, conn)
		if err != nil {
			fmt.Fprintf(e.stderr, "crm explain: %v\n", err)
			return exitError
		}
		c, err = b.Read(e.ctx)
		b.Close()
		if err != nil {
			fmt.Fprintf(e.stderr, "crm explain: %v\n", err)
			return exitError
		}
	}
	now := e.now()
	if when != "" {
		t, err := cib.ParseISODate(when)
		if err != nil {
			fmt.Fprintf(e.stderr, "crm explain: invalid --set-datetime: %v\n", err)
			return exitUsage
		}
		now = t
	} else if ed := c.GetAttr("execution-date"); ed != "" {
		// Recorded CIBs are explained at their own time, as crm_simulate does.
		var sec int64
		if _, err := fmt.Sscan(ed, &sec); err == nil {
			now = time.Unix(sec, 0)
		}
	}
	ex, _, err := scheduler.Explain(c, now, pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "crm explain: %v\n", err)
		if errors.Is(err, scheduler.ErrUnknownResource) {
			return exitUsage
		}
		return exitError
	}
	node := ""
	if len(pos) == 2 {
		node = pos[1]
		found := false
		for _, p := range ex.Primitives {
			for _, n := range p.Nodes {
				found = found || n.Node == node
			}
		}
		if !found {
			fmt.Fprintf(e.stderr, "crm explain: no such node %q\n", node)
			return exitUsage
		}
	}
	var sb strings.Builder
	ex.WriteText(&sb, node)
	fmt.Fprint(e.stdout, sb.String())
	return exitOK
}
