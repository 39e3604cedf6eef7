package simulate

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

// apiVersion is the pacemaker-result API version crm_simulate 2.1.5 reports.
const apiVersion = "2.25"

func el(name string, attrs ...string) *cib.Element {
	e := &cib.Element{Name: name}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Attrs = append(e.Attrs, cib.Attr{Name: attrs[i], Value: attrs[i+1]})
	}
	return e
}

func boolStr(b bool) string { return strconv.FormatBool(b) }

func healthName(h int) string {
	switch {
	case h < 0:
		return "red"
	case h == 0:
		return "yellow"
	}
	return "green"
}

// statusXML renders a cluster status as crm_simulate's XML output does.
func statusXML(name string, cl *scheduler.Cluster, c *cib.CIB) *cib.Element {
	return statusXMLFacts(name, cl, gatherFacts(c))
}

// statusXMLFacts is statusXML with the facts of the CIB gathered.
func statusXMLFacts(name string, cl *scheduler.Cluster, facts *historyFacts) *cib.Element {
	s := &statusRenderer{cl: cl, facts: facts, hidePending: name != "cluster_status"}
	root := el(name)
	nodes := el("nodes")
	for _, n := range cl.Nodes {
		f := s.flagsFor(n)
		typ := n.Type
		if typ == "" {
			typ = "member"
		}
		ne := el("node",
			"name", n.Name, "id", n.ID, "online", boolStr(n.Online), "standby", boolStr(f.standby),
			"standby_onfail", boolStr(n.StandbyOnFail), "maintenance", boolStr(f.maintenance),
			"pending", boolStr(n.Pending), "unclean", boolStr(n.Unclean), "health", healthName(nodeHealth(cl, n)))
		if n.Online {
			fs := s.facts.featureSets[n.Name]
			if fs == "" {
				fs = "<3.15.1"
			}
			ne.Attrs = append(ne.Attrs, cib.Attr{Name: "feature_set", Value: fs})
		}
		ne.Attrs = append(ne.Attrs, el("", "shutdown", boolStr(n.Shutdown), "expected_up", boolStr(n.ExpectedUp), "is_dc", boolStr(n.IsDC),
			"resources_running", strconv.Itoa(len(n.Running)), "type", typ).Attrs...)
		nodes.Children = append(nodes.Children, ne)
	}
	root.Children = append(root.Children, nodes)
	rs := el("resources")
	for _, r := range cl.Resources {
		if r.Orphan && !active(r, true) {
			continue
		}
		rs.Children = append(rs.Children, s.resourceXML(r))
	}
	if len(rs.Children) > 0 {
		root.Children = append(root.Children, rs)
	}
	return root
}

func (s *statusRenderer) resourceXML(r *scheduler.Resource) *cib.Element {
	target := ""
	if r.Def != nil {
		target = r.Meta["target-role"]
	}
	switch r.Kind {
	case cib.KindGroup:
		e := el("group", "id", r.ID, "number_resources", strconv.Itoa(len(r.Children)),
			"managed", boolStr(r.Managed), "disabled", boolStr(isDisabled(r)))
		for _, c := range r.Children {
			e.Children = append(e.Children, s.resourceXML(c))
		}
		return e
	case cib.KindClone:
		failed := anyRecursive(r, func(x *scheduler.Resource) bool { return x.Failed })
		ignored := false
		for _, p := range r.Primitives() {
			ignored = ignored || s.failureIgnored(p)
		}
		e := el("clone", "id", r.ID, "multi_state", boolStr(r.Promotable), "unique", boolStr(r.GloballyUnique),
			"managed", boolStr(r.Managed), "disabled", boolStr(isDisabled(r)), "failed", boolStr(failed),
			"failure_ignored", boolStr(ignored))
		if target != "" {
			e.Attrs = append(e.Attrs, cib.Attr{Name: "target_role", Value: target})
		}
		for _, c := range r.Children {
			e.Children = append(e.Children, s.resourceXML(c))
		}
		return e
	}
	agent := r.Class
	if r.Class == "ocf" {
		agent += ":" + r.Provider
	}
	agent += ":" + r.Type
	e := el("resource", "id", printableID(r), "resource_agent", agent, "role", displayRole(r))
	if target != "" {
		e.Attrs = append(e.Attrs, cib.Attr{Name: "target_role", Value: target})
	}
	e.Attrs = append(e.Attrs,
		cib.Attr{Name: "active", Value: boolStr(active(r, true))},
		cib.Attr{Name: "orphaned", Value: boolStr(r.Orphan)},
		cib.Attr{Name: "blocked", Value: boolStr(r.Blocked)},
		cib.Attr{Name: "managed", Value: boolStr(s.managed(r))},
		cib.Attr{Name: "failed", Value: boolStr(r.Failed)},
		cib.Attr{Name: "failure_ignored", Value: boolStr(s.failureIgnored(r))},
		cib.Attr{Name: "nodes_running_on", Value: strconv.Itoa(len(r.RunningOn))})
	for _, n := range r.RunningOn {
		e.Children = append(e.Children, el("node", "name", n.Name, "id", n.ID, "cached", "true"))
	}
	return e
}

// summaryXML turns a Transition Summary line into crm_simulate's
// structured <rsc_action>/<node_action> element.
func summaryXML(line string) *cib.Element {
	if strings.HasPrefix(line, "Fence (") || strings.HasPrefix(line, "Shutdown ") {
		// Fence (reboot) NODE 'reason'
		task, rest := line, ""
		if i := strings.Index(line, ") "); i >= 0 {
			task, rest = line[:i+1], line[i+2:]
		}
		node, reason, _ := strings.Cut(rest, " ")
		e := el("node_action", "task", task, "node", node)
		if reason = strings.Trim(reason, "' "); reason != "" {
			e.Attrs = append(e.Attrs, cib.Attr{Name: "reason", Value: reason})
		}
		return e
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return el("rsc_action", "action", strings.ToLower(line))
	}
	e := el("rsc_action", "action", strings.ToLower(fields[0]), "resource", fields[1])
	rest := strings.Join(fields[2:], " ")
	detail, tail := "", rest
	if strings.HasPrefix(rest, "( ") {
		if i := strings.Index(rest[1:], " )"); i >= 1 {
			detail, tail = rest[2:i+1], strings.TrimSpace(rest[i+3:])
		}
	}
	add := func(k, v string) { e.Attrs = append(e.Attrs, cib.Attr{Name: k, Value: v}) }
	verb := fields[0]
	// Where a lone node goes: starts and stops name it "node"; restarts,
	// recoveries and role changes in place name it "source".
	nodeKey := "source"
	if verb == "Start" || verb == "Stop" {
		nodeKey = "node"
	}
	df := strings.Fields(detail)
	switch {
	case len(df) == 3 && df[1] == "->":
		add("source", df[0])
		add("dest", df[2])
	case len(df) == 4 && df[1] == "->":
		add("role", df[0])
		add("next-role", df[2])
		if verb == "Start" {
			add("dest", df[3])
		} else {
			add("source", df[3])
		}
	case len(df) == 5 && df[2] == "->":
		add("role", df[0])
		add("source", df[1])
		add("next-role", df[3])
		add("dest", df[4])
	case len(df) == 2:
		add("role", df[0])
		add(nodeKey, df[1])
	case len(df) == 1:
		add(nodeKey, df[0])
	}
	blocked := strings.HasSuffix(tail, "(blocked)") || strings.HasSuffix(tail, " blocked")
	tail = strings.TrimSuffix(strings.TrimSuffix(tail, "(blocked)"), "blocked")
	if r := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(tail), "due to ")); r != "" {
		add("reason", r)
	}
	if blocked {
		add("blocked", "true")
	}
	return e
}

func executedXML(x Executed) *cib.Element {
	switch x.Kind {
	case KindPseudo:
		return el("pseudo_action", "task", x.Name)
	case KindFencing:
		return el("fencing_action", "target", x.Name, "op", x.Op)
	case KindCluster:
		e := el("cluster_action", "task", x.Op, "node", x.Node)
		if x.Rsc != "" {
			e.Attrs = append(e.Attrs, cib.Attr{Name: "id", Value: x.Rsc})
		}
		return e
	}
	e := el("rsc_action", "resource", x.Name, "op", x.Op, "node", x.Node)
	if x.Interval > 0 {
		e.Attrs = append(e.Attrs, cib.Attr{Name: "interval", Value: strconv.FormatInt(x.Interval, 10)})
	}
	return e
}

// WriteXML renders r as crm_simulate 2.1.5's --output-as=xml document.
// request is echoed in the pacemaker-result element.
func WriteXML(w io.Writer, r *Result, opts Options, request string) error {
	root := el("pacemaker-result", "api-version", apiVersion, "request", request)
	if !opts.Quiet {
		switch {
		case r.currentXML != nil:
			root.Children = append(root.Children, r.currentXML)
		case r.CurrentCluster != nil:
			root.Children = append(root.Children, statusXML("cluster_status", r.CurrentCluster, r.currentCIB))
		case r.currentCIB != nil:
			cur, err := scheduler.Unpack(r.currentCIB, r.now)
			if err != nil {
				return fmt.Errorf("unpacking current status: %w", err)
			}
			root.Children = append(root.Children, statusXML("cluster_status", cur, r.currentCIB))
		}
	}
	if opts.Mode >= ModeRun {
		actions := el("actions")
		for _, l := range r.Summary {
			actions.Children = append(actions.Children, summaryXML(l))
		}
		root.Children = append(root.Children, actions)
	}
	if opts.Mode == ModeSimulate {
		tr := el("transition")
		for _, x := range r.Executed {
			tr.Children = append(tr.Children, executedXML(x))
		}
		root.Children = append(root.Children, tr)
		if !opts.Quiet && r.RevisedCluster != nil {
			root.Children = append(root.Children, statusXML("revised_cluster_status", r.RevisedCluster, r.revisedCIB))
		}
	}
	root.Children = append(root.Children, el("status", "code", "0", "message", "OK"))
	return root.WriteXML(w)
}
