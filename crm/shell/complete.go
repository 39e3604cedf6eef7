package shell

import (
	"context"
	"sort"
	"strings"

	"github.com/gocrm/gocrm/cib"
)

// Complete returns the completion candidates for the last (possibly empty)
// word of line typed at the current level, sorted. Candidates that end a
// word carry a trailing space; "name=" parameters do not.
func (s *Shell) Complete(ctx context.Context, line string) []string {
	words, err := SplitWords(line)
	if err != nil {
		return nil
	}
	cur := ""
	if len(words) > 0 && !strings.HasSuffix(line, " ") && !strings.HasSuffix(line, "\t") {
		cur = words[len(words)-1]
		words = words[:len(words)-1]
	}
	c := &completer{s: s, ctx: ctx}
	cands := c.candidates(s.cur(), words, cur)
	out := make([]string, 0, len(cands))
	seen := map[string]bool{}
	for _, x := range cands {
		if strings.HasPrefix(x, cur) && !seen[x] {
			seen[x] = true
			if !strings.HasSuffix(x, "=") {
				x += " "
			}
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// WordCompleter adapts Complete to liner's WordCompleter signature.
func (s *Shell) WordCompleter(ctx context.Context) func(line string, pos int) (string, []string, string) {
	return func(line string, pos int) (string, []string, string) {
		if pos > len(line) {
			pos = len(line)
		}
		before := line[:pos]
		start := strings.LastIndexAny(before, " \t") + 1
		cands := s.Complete(ctx, before)
		return before[:start], cands, line[pos:]
	}
}

type completer struct {
	s   *Shell
	ctx context.Context
	cfg *cib.Configuration // loaded lazily
}

// config returns the configuration to complete ids from: the configure
// session's, else the working CIB's.
func (c *completer) config() *cib.Configuration {
	if c.cfg != nil {
		return c.cfg
	}
	if c.s.cfg != nil {
		c.cfg = c.s.cfg.sess.Config()
		return c.cfg
	}
	c.cfg = &cib.Configuration{}
	st, err := c.s.store()
	if err != nil {
		return c.cfg
	}
	if cur, err := st.Read(c.ctx); err == nil {
		c.cfg = &cur.Config
	}
	return c.cfg
}

func (c *completer) candidates(lvl string, words []string, cur string) []string {
	if len(words) == 0 {
		if lvl == "" {
			out := append([]string(nil), levelCommands[""]...)
			return append(out, "cfg", "rsc")
		}
		return levelCommands[lvl]
	}
	w := words[0]
	switch w {
	case "cd":
		if len(words) == 1 {
			return append([]string{"..", "/"}, levelList()...)
		}
		return nil
	case "help", "quit", "exit", "bye", "up", "end":
		return nil
	}
	if lvl == "" {
		if name, ok := levelNames[w]; ok && name != "status" {
			return c.candidates(name, words[1:], cur)
		}
		if w == "status" {
			return levelCommands["status"]
		}
		return nil
	}
	args := words[1:]
	switch lvl {
	case "configure":
		return c.configure(w, args, cur)
	case "resource":
		return c.resource(w, args)
	case "node":
		if len(args) == 0 && w != "server" {
			return nodeNames(c.config())
		}
		if w == "attribute" || w == "utilization" || w == "status-attr" {
			if len(args) == 1 {
				return []string{"set", "delete", "show"}
			}
		}
		if w == "standby" && len(args) >= 1 {
			return []string{"reboot", "forever"}
		}
		return nil
	case "cib":
		return c.cib(w, args)
	case "ra":
		switch w {
		case "list":
			if len(args) == 0 {
				return []string{"ocf", "lsb", "service", "systemd", "stonith"}
			}
		case "info", "meta", "validate", "providers":
			if len(args) == 0 {
				return c.agents()
			}
		}
		return nil
	case "status":
		return levelCommands["status"]
	}
	return nil
}

func levelList() []string {
	var out []string
	for k, v := range levelNames {
		if k == v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (c *completer) cib(w string, args []string) []string {
	if len(args) > 0 {
		if w == "new" {
			return []string{"empty", "force", "withstatus"}
		}
		return nil
	}
	switch w {
	case "use", "delete", "diff", "commit", "reset":
		var names []string
		if c.s.sh != nil {
			names, _ = c.s.sh.List()
		}
		if w == "use" {
			names = append(names, "live")
		}
		return names
	}
	return nil
}

func (c *completer) resource(w string, args []string) []string {
	switch w {
	case "move", "migrate", "ban":
		if len(args) == 0 {
			return resourceIDs(c.config(), false)
		}
		if len(args) == 1 {
			return nodeNames(c.config())
		}
		return []string{"force"}
	case "cleanup", "refresh", "operations":
		if len(args) == 0 {
			return resourceIDs(c.config(), false)
		}
		if len(args) == 1 {
			return nodeNames(c.config())
		}
		return nil
	case "param", "meta", "utilization", "failcount", "secret":
		if len(args) == 0 {
			return resourceIDs(c.config(), false)
		}
		if len(args) == 1 {
			if w == "failcount" {
				return []string{"set", "delete", "show"}
			}
			if w == "secret" {
				return []string{"set", "stash", "unstash", "delete", "show", "check"}
			}
			return []string{"set", "delete", "show"}
		}
		if w == "failcount" && len(args) == 2 {
			return nodeNames(c.config())
		}
		return nil
	case "maintenance":
		if len(args) == 0 {
			return resourceIDs(c.config(), false)
		}
		return []string{"on", "off", "true", "false"}
	case "scores":
		return nil
	}
	// start, stop, restart, manage, status, locate, constraints, clear, ...
	return resourceIDs(c.config(), false)
}

// configure completes the arguments of configure commands.
func (c *completer) configure(w string, args []string, cur string) []string {
	cfg := c.config()
	switch w {
	case "show", "edit", "delete", "rm", "save":
		var out []string
		if len(args) == 0 && (w == "show" || w == "edit" || w == "save") {
			out = append(out, "xml", "changed")
		}
		if w == "delete" || w == "rm" {
			out = append(out, "--force")
		}
		return append(out, objectIDs(cfg)...)
	case "rename":
		if len(args) == 0 {
			return objectIDs(cfg)
		}
		return nil
	case "commit":
		return []string{"force"}
	case "load":
		if len(args) == 0 {
			return []string{"update", "replace", "push", "xml"}
		}
		return nil
	case "erase":
		return []string{"nodes"}
	case "cib":
		if len(args) == 0 {
			return []string{"new", "use", "list", "diff", "commit", "delete", "reset"}
		}
		return c.cib(args[0], args[1:])
	case "group", "clone", "ms", "master", "tag":
		if len(args) >= 1 {
			return append(resourceIDs(cfg, false), "meta", "params", "description=")
		}
		return nil
	case "location":
		switch {
		case len(args) == 1:
			return resourceIDs(cfg, false)
		case len(args) >= 2 && strings.HasSuffix(args[len(args)-1], ":"):
			return nodeNames(cfg)
		case len(args) == 2:
			return []string{"rule", "inf:", "-inf:", "100:"}
		}
		return nil
	case "colocation", "collocation", "order":
		if len(args) >= 2 {
			return resourceIDs(cfg, false)
		}
		if len(args) == 1 {
			if w == "order" {
				return []string{"Mandatory:", "Optional:", "Serialize:", "inf:", "0:"}
			}
			return []string{"inf:", "-inf:"}
		}
		return nil
	case "monitor":
		if len(args) == 0 {
			return resourceIDs(cfg, false)
		}
		return nil
	case "primitive", "rsc_template":
		return c.primitive(args, cur)
	case "property":
		return []string{"stonith-enabled=", "no-quorum-policy=", "symmetric-cluster=", "maintenance-mode=",
			"cluster-recheck-interval=", "start-failure-is-fatal=", "stonith-timeout=", "cluster-name="}
	case "rsc_defaults":
		return []string{"resource-stickiness=", "migration-threshold=", "failure-timeout=", "target-role=", "is-managed="}
	case "op_defaults":
		return []string{"timeout=", "interval=", "record-pending="}
	}
	return nil
}

// primitive completes "primitive ID AGENT [params] name=value ... op ACTION ...".
func (c *completer) primitive(args []string, cur string) []string {
	switch len(args) {
	case 0:
		return nil
	case 1:
		out := c.agents()
		for _, t := range c.config().Templates {
			out = append(out, "@"+t.ID)
		}
		return out
	}
	agent := args[1]
	// the section of the last keyword decides
	section := "params"
	for _, a := range args[2:] {
		switch a {
		case "params", "meta", "utilization", "op", "op_params", "op_meta", "operations":
			section = a
		}
	}
	last := args[len(args)-1]
	if last == "op" {
		return []string{"start", "stop", "monitor", "promote", "demote", "notify", "migrate_to", "migrate_from", "reload"}
	}
	keywords := []string{"params", "meta", "utilization", "op"}
	switch section {
	case "params":
		names := c.params(agent)
		given := map[string]bool{}
		for _, a := range args[2:] {
			if n, _, ok := strings.Cut(a, "="); ok {
				given[n] = true
			}
		}
		var out []string
		for _, n := range names {
			if !given[n] {
				out = append(out, n+"=")
			}
		}
		if !strings.Contains(cur, "=") {
			out = append(out, keywords...)
		}
		return out
	case "meta":
		return append([]string{"target-role=", "is-managed=", "resource-stickiness=", "migration-threshold=",
			"failure-timeout=", "priority=", "allow-migrate="}, keywords...)
	case "op":
		return append([]string{"interval=", "timeout=", "on-fail=", "role=", "start-delay=", "enabled=",
			"record-pending=", "description="}, keywords...)
	}
	return keywords
}

func (c *completer) agents() []string {
	if c.s.o.Meta == nil {
		return nil
	}
	list, err := c.s.o.Meta.Agents(c.ctx)
	if err != nil {
		return nil
	}
	return list
}

func (c *completer) params(agent string) []string {
	if c.s.o.Meta == nil || strings.HasPrefix(agent, "@") {
		return nil
	}
	p, err := c.s.o.Meta.Params(c.ctx, agent)
	if err != nil {
		c.s.log.Debug("no agent meta-data for completion", "agent", agent, "error", err)
		return nil
	}
	return p
}

// resourceIDs lists resource ids (templates too when withTemplates),
// children included.
func resourceIDs(cfg *cib.Configuration, withTemplates bool) []string {
	var out []string
	var walk func(rs []*cib.Resource)
	walk = func(rs []*cib.Resource) {
		for _, r := range rs {
			out = append(out, r.ID)
			walk(r.Children)
		}
	}
	walk(cfg.Resources)
	if withTemplates {
		for _, t := range cfg.Templates {
			out = append(out, t.ID)
		}
	}
	return out
}

// nodeNames lists node unames.
func nodeNames(cfg *cib.Configuration) []string {
	var out []string
	for _, n := range cfg.Nodes {
		if n.Uname != "" {
			out = append(out, n.Uname)
		} else {
			out = append(out, n.ID)
		}
	}
	return out
}

// objectIDs lists every configure object id: nodes, resources,
// templates, constraints, tags and property sets.
func objectIDs(cfg *cib.Configuration) []string {
	out := nodeNames(cfg)
	out = append(out, resourceIDs(cfg, true)...)
	for _, c := range cfg.Constraints {
		out = append(out, c.ConstraintID())
	}
	for _, t := range cfg.Tags {
		out = append(out, t.ID)
	}
	for _, sets := range [][]*cib.NVSet{cfg.CRMConfig, cfg.RscDefaults, cfg.OpDefaults} {
		for _, s := range sets {
			if s.ID != "" {
				out = append(out, s.ID)
			}
		}
	}
	if len(cfg.Fencing) > 0 {
		out = append(out, "fencing_topology")
	}
	return out
}
