package main

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/scheduler"
)

func init() {
	register(&command{
		name:    "resource",
		summary: "start, stop, move, ban, clean up and inspect resources",
		run:     runResource,
	})
}

const resourceUsage = `usage: crm resource COMMAND ... [--socket PATH]
  status [RSC ...]                          where resources run
  start RSC ... | stop RSC ...              set target-role Started / Stopped
  manage RSC ... | unmanage RSC ...         set is-managed true / false
  move RSC NODE [LIFETIME] [--lifetime P]   prefer NODE (constraint cli-prefer-RSC); expires after
                                            1 hour unless LIFETIME is given (--lifetime forever: never)
  ban RSC [NODE] [LIFETIME]                 keep RSC off NODE (cli-ban-RSC-on-NODE)
  clear RSC                                 remove the cli-prefer/cli-ban constraints of RSC
  cleanup [RSC] [NODE] | refresh [RSC] [NODE]   forget failures / operation history
  param RSC set NAME VALUE | delete NAME | show NAME
  meta  RSC set NAME VALUE | delete NAME | show NAME
LIFETIME is an ISO 8601 duration (PT1H, P1D).
`

// errNotFound marks unknown resources, nodes and attributes.
var errNotFound = errors.New("not found")

func runResource(e *env, args []string) int {
	co, args, err := takeConnFlags(args)
	if err != nil {
		return fail(e, "resource", err)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(e.stdout, resourceUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, rest := args[0], args[1:]
	usageErr := func(msg string) int {
		fmt.Fprintf(e.stderr, "crm resource %s: %s\n%s", sub, msg, resourceUsage)
		return exitUsage
	}
	switch sub {
	case "start", "stop", "manage", "unmanage", "clear", "unmove", "unmigrate", "unban":
		if len(rest) == 0 {
			return usageErr("needs a resource")
		}
	case "move", "migrate":
		if len(rest) < 1 {
			return usageErr("needs a resource")
		}
	case "ban":
		if len(rest) < 1 {
			return usageErr("needs a resource")
		}
	case "param", "meta":
		if len(rest) < 3 || (rest[1] == "set" && len(rest) != 4) || (rest[1] != "set" && len(rest) != 3) ||
			(rest[1] != "set" && rest[1] != "delete" && rest[1] != "show") {
			return usageErr("usage: " + sub + " RSC set NAME VALUE | delete NAME | show NAME")
		}
	case "cleanup", "refresh", "status", "show", "list", "locate":
	default:
		return usageErr("unknown command")
	}
	b, err := openBackend(e, co)
	if err != nil {
		return fail(e, "resource", err)
	}
	defer b.Close()
	name := "resource " + sub
	switch sub {
	case "start", "stop":
		role := map[string]string{"start": "Started", "stop": "Stopped"}[sub]
		err = setResourceAttrs(e, b, rest, "meta_attributes", "target-role", role, false)
	case "manage", "unmanage":
		err = setResourceAttrs(e, b, rest, "meta_attributes", "is-managed", fmt.Sprint(sub == "manage"), false)
	case "param", "meta":
		kind := map[string]string{"param": "instance_attributes", "meta": "meta_attributes"}[sub]
		switch rest[1] {
		case "show":
			return showResourceAttr(e, b, rest[0], kind, rest[2])
		case "set":
			err = setResourceAttrs(e, b, rest[:1], kind, rest[2], rest[3], false)
		default:
			err = setResourceAttrs(e, b, rest[:1], kind, rest[2], "", true)
		}
	case "move", "migrate":
		err = moveResource(e, b, rest)
	case "ban":
		err = banResource(e, b, rest)
	case "clear", "unmove", "unmigrate", "unban":
		err = clearResources(e, b, rest)
	case "cleanup", "refresh":
		err = cleanupResource(e, b, rest)
	default:
		return resourceStatus(e, b, rest)
	}
	if err != nil {
		return fail(e, name, err)
	}
	return exitOK
}

// findRsc returns the configured resource with id (at any depth).
func findRsc(cfg *cib.Configuration, id string) *cib.Resource {
	var walk func([]*cib.Resource) *cib.Resource
	walk = func(rs []*cib.Resource) *cib.Resource {
		for _, r := range rs {
			if r.ID == id {
				return r
			}
			if f := walk(r.Children); f != nil {
				return f
			}
		}
		return nil
	}
	return walk(cfg.Resources)
}

// setNVPair sets (or with del removes) name in the first rule-less set of
// kind, creating OWNER-KIND as crmsh/crm_resource name it.
func setNVPair(sets *[]*cib.NVSet, owner, kind, name, value string, del bool) bool {
	var set *cib.NVSet
	for _, s := range *sets {
		if len(s.Rules) == 0 && s.IDRef == "" {
			set = s
			break
		}
	}
	if set == nil {
		if del {
			return false
		}
		set = &cib.NVSet{Kind: kind, ID: owner + "-" + kind}
		*sets = append(*sets, set)
	}
	for i, p := range set.Pairs {
		if p.Name == name {
			if del {
				set.Pairs = append(set.Pairs[:i], set.Pairs[i+1:]...)
				return true
			}
			p.Value, p.HasValue = value, true
			return true
		}
	}
	if del {
		return false
	}
	set.Pairs = append(set.Pairs, &cib.NVPair{ID: set.ID + "-" + name, Name: name, Value: value, HasValue: true})
	return true
}

func setResourceAttrs(e *env, b backend, ids []string, kind, name, value string, del bool) error {
	return updateConfig(e.ctx, b, func(c *cib.CIB) (*cib.Element, error) {
		for _, id := range ids {
			r := findRsc(&c.Config, id)
			if r == nil {
				return nil, fmt.Errorf("resource %s: %w", id, errNotFound)
			}
			sets := &r.Meta
			if kind == "instance_attributes" {
				sets = &r.Instance
			}
			if !setNVPair(sets, r.ID, kind, name, value, del) {
				return nil, fmt.Errorf("resource %s has no %s %s: %w", id, strings.TrimSuffix(kind, "_attributes"), name, errNotFound)
			}
		}
		return c.Config.Element(), nil
	})
}

func showResourceAttr(e *env, b backend, id, kind, name string) int {
	c, err := b.Read(e.ctx)
	if err != nil {
		return fail(e, "resource", err)
	}
	r := findRsc(&c.Config, id)
	if r == nil {
		return fail(e, "resource", fmt.Errorf("resource %s: %w", id, errNotFound))
	}
	sets := r.Meta
	if kind == "instance_attributes" {
		sets = r.Instance
	}
	for _, s := range sets {
		for _, p := range s.Pairs {
			if p.Name == name {
				fmt.Fprintln(e.stdout, p.Value)
				return exitOK
			}
		}
	}
	return fail(e, "resource", fmt.Errorf("resource %s has no %s %s: %w", id, strings.TrimSuffix(kind, "_attributes"), name, errNotFound))
}

// defaultMoveLifetime is how long `crm resource move` prefers the target
// node when no lifetime is given ("--lifetime forever" keeps it).
const defaultMoveLifetime = "PT1H"

// splitLifetime separates a lifetime (positional ISO 8601 duration,
// --lifetime P, --lifetime=P) and "force" from the other words.
func splitLifetime(args []string) (words []string, lifetime string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--lifetime" || a == "-u":
			if i+1 >= len(args) {
				return nil, "", fmt.Errorf("%w: --lifetime needs a duration", errUsage)
			}
			lifetime = args[i+1]
			i++
		case strings.HasPrefix(a, "--lifetime="):
			lifetime = strings.TrimPrefix(a, "--lifetime=")
		case a == "force" || a == "--force" || a == "-f":
		case strings.HasPrefix(a, "P") && len(a) > 1 && strings.ContainsAny(a[1:2], "0123456789T"):
			lifetime = a
		default:
			words = append(words, a)
		}
	}
	if lifetime != "" && lifetime != "forever" {
		if _, err := cib.ParseISODuration(lifetime); err != nil {
			return nil, "", fmt.Errorf("%w: lifetime: %v", errUsage, err)
		}
	}
	return words, lifetime, nil
}

// cliConstraint builds crm_resource's cli-prefer/cli-ban location
// constraint: a plain node score, or with a lifetime a rule that expires.
func cliConstraint(id, rsc, node, score, lifetime string, now time.Time) *cib.Element {
	loc := &cib.Element{Name: "rsc_location"}
	loc.Set("id", id)
	loc.Set("rsc", rsc)
	loc.Set("role", "Started")
	if lifetime == "" {
		loc.Set("node", node)
		loc.Set("score", score)
		return loc
	}
	secs, _ := cib.ParseISODuration(lifetime)
	end := now.Add(time.Duration(secs) * time.Second).UTC().Format("2006-01-02 15:04:05Z")
	rule := &cib.Element{Name: "rule"}
	base := strings.TrimPrefix(id, "cli-")
	kind, _, _ := strings.Cut(base, "-")
	rest := strings.TrimPrefix(base, kind+"-")
	rule.Set("id", "cli-"+kind+"-rule-"+rest)
	rule.Set("score", score)
	rule.Set("boolean-op", "and")
	expr := &cib.Element{Name: "expression"}
	expr.Set("id", "cli-"+kind+"-expr-"+rest)
	expr.Set("attribute", "#uname")
	expr.Set("operation", "eq")
	expr.Set("value", node)
	expr.Set("type", "string")
	date := &cib.Element{Name: "date_expression"}
	date.Set("id", "cli-"+kind+"-lifetime-end-"+rest)
	date.Set("operation", "lt")
	date.Set("end", end)
	rule.Children = []*cib.Element{expr, date}
	loc.Children = []*cib.Element{rule}
	return loc
}

// replaceConstraints returns the configuration element with the
// constraints matching drop removed and add appended.
func replaceConstraints(cfg *cib.Configuration, drop func(id string) bool, add ...*cib.Element) (*cib.Element, int) {
	el := cfg.Element()
	cons := el.Child("constraints")
	if cons == nil {
		cons = &cib.Element{Name: "constraints"}
		el.Children = append(el.Children, cons)
	}
	var keep []*cib.Element
	removed := 0
	for _, ch := range cons.Children {
		if drop(ch.Get("id")) {
			removed++
			continue
		}
		keep = append(keep, ch)
	}
	cons.Children = append(keep, add...)
	return el, removed
}

func checkNode(c *cib.CIB, node string) error {
	for _, n := range c.Config.Nodes {
		if n.Uname == node {
			return nil
		}
	}
	for _, ns := range c.Status.Nodes {
		if ns.Uname == node {
			return nil
		}
	}
	return fmt.Errorf("node %s: %w", node, errNotFound)
}

func moveResource(e *env, b backend, args []string) error {
	words, lifetime, err := splitLifetime(args)
	if err != nil {
		return err
	}
	if len(words) == 1 {
		// Like crmsh: without a node, move away from the current node by
		// banning it, which needs "force".
		if !slices.Contains(args, "force") && !slices.Contains(args, "--force") {
			return fmt.Errorf("%w: move %s without a node bans it from its current node; add \"force\" to do that", errUsage, words[0])
		}
		return banResource(e, b, args)
	}
	if len(words) != 2 {
		return fmt.Errorf("%w: move RSC NODE [LIFETIME]", errUsage)
	}
	switch lifetime {
	case "":
		// A move is an operation, not a permanent preference: unless told
		// otherwise the constraint expires (status warns until cleared).
		lifetime = defaultMoveLifetime
	case "forever":
		lifetime = ""
	}
	rsc, node := words[0], words[1]
	id := "cli-prefer-" + rsc
	err = updateConfig(e.ctx, b, func(c *cib.CIB) (*cib.Element, error) {
		if findRsc(&c.Config, rsc) == nil {
			return nil, fmt.Errorf("resource %s: %w", rsc, errNotFound)
		}
		if err := checkNode(c, node); err != nil {
			return nil, err
		}
		el, _ := replaceConstraints(&c.Config, func(x string) bool { return x == id }, cliConstraint(id, rsc, node, "INFINITY", lifetime, e.now()))
		return el, nil
	})
	if err == nil {
		fmt.Fprintf(e.stdout, "INFO: Move constraint created for %s to %s\n", rsc, node)
		if lifetime == "" {
			fmt.Fprintf(e.stdout, "INFO: Use `crm resource clear %s` to remove this constraint\n", rsc)
		}
	}
	return err
}

func banResource(e *env, b backend, args []string) error {
	words, lifetime, err := splitLifetime(args)
	if err != nil {
		return err
	}
	if len(words) < 1 || len(words) > 2 {
		return fmt.Errorf("%w: ban RSC [NODE] [LIFETIME]", errUsage)
	}
	rsc := words[0]
	var node string
	err = updateConfig(e.ctx, b, func(c *cib.CIB) (*cib.Element, error) {
		if findRsc(&c.Config, rsc) == nil {
			return nil, fmt.Errorf("resource %s: %w", rsc, errNotFound)
		}
		node = ""
		if len(words) == 2 {
			node = words[1]
			if err := checkNode(c, node); err != nil {
				return nil, err
			}
		} else {
			cl, err := scheduler.Unpack(c, e.now())
			if err != nil {
				return nil, err
			}
			r := cl.Resource(rsc)
			if r == nil || len(runningNodes(r)) != 1 {
				return nil, fmt.Errorf("resource %s is not running on exactly one node: name the node to ban it from", rsc)
			}
			node = runningNodes(r)[0]
		}
		id := "cli-ban-" + rsc + "-on-" + node
		el, _ := replaceConstraints(&c.Config, func(x string) bool { return x == id }, cliConstraint(id, rsc, node, "-INFINITY", lifetime, e.now()))
		return el, nil
	})
	if err == nil {
		fmt.Fprintf(e.stdout, "INFO: Ban constraint created for %s on %s\n", rsc, node)
	}
	return err
}

// runningNodes lists the nodes any primitive of r is active on, sorted.
func runningNodes(r *scheduler.Resource) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range r.Primitives() {
		for _, n := range p.RunningOn {
			if !seen[n.Name] {
				seen[n.Name] = true
				out = append(out, n.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func clearResources(e *env, b backend, rscs []string) error {
	var removed int
	err := updateConfig(e.ctx, b, func(c *cib.CIB) (*cib.Element, error) {
		for _, rsc := range rscs {
			if findRsc(&c.Config, rsc) == nil {
				return nil, fmt.Errorf("resource %s: %w", rsc, errNotFound)
			}
		}
		var el *cib.Element
		el, removed = replaceConstraints(&c.Config, func(id string) bool {
			for _, rsc := range rscs {
				if id == "cli-prefer-"+rsc || strings.HasPrefix(id, "cli-ban-"+rsc+"-on-") {
					return true
				}
			}
			return false
		})
		if removed == 0 {
			return nil, nil
		}
		return el, nil
	})
	if err == nil {
		fmt.Fprintf(e.stdout, "INFO: Removed %d constraint(s) for %s\n", removed, strings.Join(rscs, " "))
	}
	return err
}

// cleanupResource deletes the operation history (and fail counts) of a
// resource, or of every resource, on one node or all nodes.
func cleanupResource(e *env, b backend, args []string) error {
	if len(args) > 2 {
		return fmt.Errorf("%w: cleanup [RSC] [NODE]", errUsage)
	}
	c, err := b.Read(e.ctx)
	if err != nil {
		return err
	}
	rsc, node := "", ""
	if len(args) > 0 {
		rsc = args[0]
	}
	if len(args) > 1 {
		node = args[1]
	}
	if rsc != "" && findRsc(&c.Config, rsc) == nil {
		// A resource only in the history (an orphan) can still be cleaned.
		if !inHistory(c, rsc) {
			return fmt.Errorf("resource %s: %w", rsc, errNotFound)
		}
	}
	if node != "" {
		if err := checkNode(c, node); err != nil {
			return err
		}
	}
	ids := map[string]bool{}
	if rsc != "" {
		ids[rsc] = true
		if r := findRsc(&c.Config, rsc); r != nil {
			var walk func(*cib.Resource)
			walk = func(r *cib.Resource) {
				ids[r.ID] = true
				for _, ch := range r.Children {
					walk(ch)
				}
			}
			walk(r)
		}
	}
	n := 0
	for _, ns := range c.Status.Nodes {
		uname := ns.Uname
		if node != "" && uname != node {
			continue
		}
		if rsc == "" {
			if err := b.Apply(e.ctx, store.Command{V: store.Version, Op: store.OpDeleteHistory, Node: uname, NodeID: ns.ID}); err != nil {
				return err
			}
			n++
			continue
		}
		for _, lr := range ns.Resources {
			base, _, _ := strings.Cut(lr.ID, ":")
			if !ids[lr.ID] && !ids[base] {
				continue
			}
			if err := b.Apply(e.ctx, store.Command{V: store.Version, Op: store.OpDeleteHistory, Node: uname, NodeID: ns.ID, Resource: lr.ID}); err != nil {
				return err
			}
			n++
		}
	}
	what := rsc
	if what == "" {
		what = "all resources"
	}
	where := node
	if where == "" {
		where = "all nodes"
	}
	fmt.Fprintf(e.stdout, "Cleaned up %s on %s (%d history entries)\n", what, where, n)
	return nil
}

func inHistory(c *cib.CIB, rsc string) bool {
	for _, ns := range c.Status.Nodes {
		for _, lr := range ns.Resources {
			base, _, _ := strings.Cut(lr.ID, ":")
			if lr.ID == rsc || base == rsc {
				return true
			}
		}
	}
	return false
}

// resourceStatus prints where resources run, like crm_resource --locate.
func resourceStatus(e *env, b backend, ids []string) int {
	c, err := b.Read(e.ctx)
	if err != nil {
		return fail(e, "resource status", err)
	}
	cl, err := scheduler.Unpack(c, e.now())
	if err != nil {
		return fail(e, "resource status", err)
	}
	if len(ids) == 0 {
		for _, r := range cl.Resources {
			ids = append(ids, r.ID)
		}
	}
	code := exitOK
	for _, id := range ids {
		r := cl.Resource(id)
		if r == nil {
			fmt.Fprintf(e.stderr, "crm resource status: resource %s: %v\n", id, errNotFound)
			code = exitError
			continue
		}
		nodes := runningNodes(r)
		if len(nodes) == 0 {
			fmt.Fprintf(e.stdout, "resource %s is NOT running\n", id)
			continue
		}
		for _, n := range nodes {
			suffix := ""
			for _, p := range r.Primitives() {
				for _, pn := range p.RunningOn {
					if pn.Name == n && p.Role == scheduler.RolePromoted {
						suffix = " Promoted"
					}
				}
			}
			fmt.Fprintf(e.stdout, "resource %s is running on: %s%s\n", id, n, suffix)
		}
	}
	return code
}
