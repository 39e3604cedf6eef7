package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/ra"
	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/crmsyntax"
	"github.com/gocrm/gocrm/crm/scheduler"
)

func init() {
	register(&command{
		name:    "configure",
		summary: "show, load, verify and change the configuration (crmsh syntax)",
		run:     runConfigure,
	})
}

const configureUsage = `usage: crm configure COMMAND [ARGS...] [--socket PATH]
  show [xml] [ID ...]                 print the configuration (crm syntax or XML)
  load update|replace FILE            merge or replace from a file (crm syntax or CIB XML; "-" = stdin)
  verify                              check the configuration
  delete ID [ID ...]                  remove objects (and references to them)
  property NAME=VALUE ...             set cluster properties
  primitive|group|clone|ms|location|colocation|order|rsc_defaults|op_defaults|
  tag|fencing_topology|rsc_ticket|rename ...   one crm configure statement
Every change is verified and committed atomically.
`

// oneShot lists the statements accepted directly as "crm configure X ...".
var oneShot = map[string]bool{
	"property": true, "primitive": true, "group": true, "clone": true, "ms": true, "master": true,
	"location": true, "colocation": true, "collocation": true, "order": true, "rsc_defaults": true,
	"op_defaults": true, "tag": true, "fencing_topology": true, "rsc_ticket": true, "rename": true,
	"rsc_template": true, "node": true, "monitor": true,
}

func runConfigure(e *env, args []string) int {
	co, args, err := takeConnFlags(args)
	if err != nil {
		return fail(e, "configure", err)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(e.stdout, configureUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, rest := args[0], args[1:]
	if sub != "show" && sub != "load" && sub != "verify" && sub != "delete" && sub != "rm" && !oneShot[sub] {
		fmt.Fprintf(e.stderr, "crm configure: unknown command %q\n%s", sub, configureUsage)
		return exitUsage
	}
	if sub == "load" {
		// Validate arguments before connecting.
		if len(rest) != 2 || (rest[0] != "update" && rest[0] != "replace") {
			fmt.Fprintf(e.stderr, "crm configure load: usage: load update|replace FILE\n")
			return exitUsage
		}
	}
	b, err := openBackend(e, co)
	if err != nil {
		return fail(e, "configure", err)
	}
	defer b.Close()
	switch sub {
	case "show":
		return configureShow(e, b, rest)
	case "verify":
		return configureVerify(e, b)
	case "load":
		return configureLoad(e, b, rest[0], rest[1])
	case "delete", "rm":
		if len(rest) == 0 {
			fmt.Fprintf(e.stderr, "crm configure delete: usage: delete ID [ID ...]\n")
			return exitUsage
		}
		return configureStatements(e, b, "delete "+joinStatement(rest), "command line")
	}
	return configureStatements(e, b, sub+" "+joinStatement(rest), "command line")
}

// joinStatement turns shell words back into one crm statement, quoting
// values that the shell unquoted.
func joinStatement(words []string) string {
	out := make([]string, 0, len(words))
	for _, w := range words {
		if !strings.ContainsAny(w, " \t\"'") || w == "" {
			out = append(out, w)
			continue
		}
		if name, value, ok := strings.Cut(w, "="); ok && !strings.ContainsAny(name, " \t\"'") {
			out = append(out, name+"="+quoteCRM(value))
			continue
		}
		out = append(out, quoteCRM(w))
	}
	return strings.Join(out, " ")
}

func quoteCRM(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// sessionError renders a crmsyntax problem as "SOURCE:LINE: msg".
func sessionError(source string, err *crmsyntax.Error) string {
	if err.Col > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", source, err.Line, err.Col, err.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", source, err.Line, err.Msg)
}

// errReported marks an error whose details were already printed.
var errReported = errors.New("configuration not changed")

// applyStatements runs crm statements against a private configuration and
// returns the new <configuration> element, printing every problem named by
// source and line. Nothing is returned (and nothing committed) on error.
func applyStatements(e *env, c *cib.CIB, text, source string, update bool) (*cib.Element, error) {
	s := crmsyntax.NewSession(&c.Config, e.log)
	if update {
		_ = s.LoadUpdate(text)
	} else {
		_ = s.Exec(text)
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(e.stderr, "WARNING: %s: %s\n", source, w)
	}
	if len(s.Errors) > 0 {
		for _, er := range s.Errors {
			fmt.Fprintf(e.stderr, "ERROR: %s\n", sessionError(source, er))
		}
		return nil, errReported
	}
	if err := s.CheckCommit(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(e.stderr, "ERROR: %s: %s\n", source, line)
		}
		return nil, errReported
	}
	el := s.ConfigElement()
	if err := verifyElement(c, el); err != nil {
		fmt.Fprintf(e.stderr, "ERROR: %s: %v\n", source, err)
		return nil, errReported
	}
	return el, nil
}

// verifyElement checks a new configuration element the way the daemon
// will: it must parse, its references must resolve and the scheduler must
// be able to unpack it.
func verifyElement(cur *cib.CIB, cfg *cib.Element) error {
	wrapper := &cib.Element{Name: "cib", Attrs: append([]cib.Attr(nil), cur.Attrs...), Children: []*cib.Element{cfg, {Name: "status"}}}
	parsed, err := cib.FromElement(wrapper)
	if err != nil {
		return err
	}
	return verifyCIB(parsed)
}

func verifyCIB(c *cib.CIB) error {
	var errs []error
	errs = append(errs, c.Problems()...)
	if err := crmsyntax.CheckCommit(&c.Config); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if _, err := scheduler.Unpack(c, time.Unix(0, 0)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func configureStatements(e *env, b backend, text, source string) int {
	err := updateConfig(e.ctx, b, func(c *cib.CIB) (*cib.Element, error) {
		return applyStatements(e, c, text, source, false)
	})
	if errors.Is(err, errReported) {
		return exitError
	}
	if err != nil {
		return fail(e, "configure", err)
	}
	return exitOK
}

func configureShow(e *env, b backend, args []string) int {
	asXML := false
	if len(args) > 0 && args[0] == "xml" {
		asXML, args = true, args[1:]
	}
	c, err := b.Read(e.ctx)
	if err != nil {
		return fail(e, "configure show", err)
	}
	if !asXML {
		out := crmsyntax.ShowWith(&c.Config, crmsyntax.ShowOptions{IDs: args})
		if len(args) > 0 && strings.TrimSpace(out) == "" {
			fmt.Fprintf(e.stderr, "crm configure show: no such object: %s\n", strings.Join(args, " "))
			return exitError
		}
		fmt.Fprint(e.stdout, out)
		if out != "" && !strings.HasSuffix(out, "\n") {
			fmt.Fprintln(e.stdout)
		}
		return exitOK
	}
	el := c.Config.Element()
	if len(args) == 0 {
		fmt.Fprintln(e.stdout, el.String())
		return exitOK
	}
	for _, id := range args {
		found := el.FindID(id)
		if found == nil {
			fmt.Fprintf(e.stderr, "crm configure show: no such object: %s\n", id)
			return exitError
		}
		fmt.Fprintln(e.stdout, found.String())
	}
	return exitOK
}

func configureVerify(e *env, b backend) int {
	c, err := b.Read(e.ctx)
	if err != nil {
		return fail(e, "configure verify", err)
	}
	if err := verifyCIB(c); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(e.stderr, "ERROR: %s\n", line)
		}
		return exitError
	}
	cl, err := scheduler.Unpack(c, e.now())
	if err == nil && !cl.StonithEnabled {
		fmt.Fprintln(e.stderr, "WARNING: stonith-enabled is false: no node will be fenced")
	} else if err == nil && !cl.HasStonithRsc {
		fmt.Fprintln(e.stderr, "WARNING: stonith-enabled is true but no fencing device is configured")
	}
	for _, w := range cib.Lint(&c.Config) {
		fmt.Fprintf(e.stderr, "WARNING: %s\n", w)
	}
	if err == nil && checkAgents(e, cl) {
		return exitError
	}
	return exitOK
}

// builtinFencePlugins are the stonith types stonith/plugins implements in
// Go (fence_* agents are checked through their meta-data).
var builtinFencePlugins = map[string]bool{"sandbox": true, "ssh": true, "meatware": true, "watchdog": true, "fake": true}

// checkAgents checks every configured primitive against its agent's
// meta-data (unknown or missing required parameters, values outside a
// select list, op timeouts below the advised minimum), printing crmsh's
// "SEVERITY: message" lines. It reports whether any was an error.
func checkAgents(e *env, cl *scheduler.Cluster) bool {
	cat, err := raCatalog(e)
	if err != nil {
		fmt.Fprintf(e.stderr, "WARNING: agent checks skipped: %v\n", err)
		return false
	}
	seen := map[string]bool{}
	failed := false
	var walk func(rs []*scheduler.Resource)
	walk = func(rs []*scheduler.Resource) {
		for _, r := range rs {
			if r.Kind != cib.KindPrimitive {
				walk(r.Children)
				continue
			}
			if seen[r.BaseID] || r.Orphan {
				continue
			}
			seen[r.BaseID] = true
			if r.Class == "stonith" && builtinFencePlugins[r.Type] {
				continue // gocrm's own fence plugins have no agent meta-data
			}
			key := agent.Key{Class: r.Class, Provider: r.Provider, Type: r.Type}
			var ops []ra.Op
			for _, op := range r.Ops {
				ops = append(ops, ra.Op{Name: op.Name, Role: op.Role, Interval: fmt.Sprintf("%dms", op.Interval), Timeout: op.Timeout})
			}
			for _, f := range cat.CheckPrimitive(e.ctx, r.BaseID, key, r.Params, ops) {
				fmt.Fprintf(e.stderr, "%s: %s\n", f.Severity, f.Msg)
				failed = failed || f.Severity == ra.SevError
			}
		}
	}
	walk(cl.Resources)
	return failed
}

func configureLoad(e *env, b backend, mode, file string) int {
	data, err := e.readFile(file)
	if err != nil {
		return fail(e, "configure load", err)
	}
	source := file
	if file == "-" {
		source = "<stdin>"
	}
	text := string(data)
	isXML := strings.HasPrefix(strings.TrimSpace(text), "<")
	var newCfg *cib.Configuration
	if isXML {
		root, err := cib.ParseElement(data)
		if err != nil {
			return fail(e, "configure load", fmt.Errorf("%s: %w", source, err))
		}
		if root.Name == "configuration" {
			root = &cib.Element{Name: "cib", Children: []*cib.Element{root}}
		}
		if root.Name != "cib" || root.Child("configuration") == nil {
			return fail(e, "configure load", fmt.Errorf("%s: expected <cib> or <configuration>, got <%s>", source, root.Name))
		}
		parsed, err := cib.FromElement(&cib.Element{Name: "cib", Children: []*cib.Element{root.Child("configuration")}})
		if err != nil {
			return fail(e, "configure load", fmt.Errorf("%s: %w", source, err))
		}
		newCfg = &parsed.Config
	}
	err = updateConfig(e.ctx, b, func(c *cib.CIB) (*cib.Element, error) {
		switch {
		case isXML && mode == "replace":
			cfg := *newCfg
			if len(cfg.Nodes) == 0 {
				// Nodes are registered by the cluster: a file without
				// a nodes section keeps them.
				cfg.Nodes = c.Config.Nodes
			}
			el := cfg.Element()
			if err := verifyElement(c, el); err != nil {
				fmt.Fprintf(e.stderr, "ERROR: %s: %v\n", source, err)
				return nil, errReported
			}
			return el, nil
		case isXML:
			el := mergeConfig(c.Config.Element(), newCfg.Element())
			if err := verifyElement(c, el); err != nil {
				fmt.Fprintf(e.stderr, "ERROR: %s: %v\n", source, err)
				return nil, errReported
			}
			return el, nil
		case mode == "replace":
			nodes := c.Config.Nodes
			c.Config = cib.Configuration{}
			el, err := applyStatements(e, c, text, source, false)
			if err != nil || len(c.Config.Nodes) > 0 || len(nodes) == 0 {
				return el, err
			}
			// Keep the cluster's nodes when the file names none.
			ne := el.Child("nodes")
			if ne == nil {
				ne = &cib.Element{Name: "nodes"}
				el.Children = append([]*cib.Element{ne}, el.Children...)
			}
			for _, n := range nodes {
				ne.Children = append(ne.Children, n.Element())
			}
			return el, nil
		default:
			return applyStatements(e, c, text, source, true)
		}
	})
	if errors.Is(err, errReported) {
		return exitError
	}
	if err != nil {
		return fail(e, "configure load", err)
	}
	return exitOK
}

// mergeConfig merges the sections of add into cur: an object (any child of
// crm_config, nodes, resources, constraints, rsc_defaults, op_defaults,
// fencing-topology, tags) with an id already present replaces it in place,
// new ones are appended.
func mergeConfig(cur, add *cib.Element) *cib.Element {
	out := cur.Clone()
	for _, sec := range add.Children {
		dst := out.Child(sec.Name)
		if dst == nil {
			out.Children = append(out.Children, sec.Clone())
			continue
		}
		for _, obj := range sec.Children {
			id := obj.Get("id")
			replaced := false
			for i, old := range dst.Children {
				if id != "" && old.Name == obj.Name && old.Get("id") == id {
					dst.Children[i] = obj.Clone()
					replaced = true
					break
				}
			}
			if !replaced {
				dst.Children = append(dst.Children, obj.Clone())
			}
		}
	}
	return out
}
