package status

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/simulate"
)

// apiVersion is the pacemaker-result API version crm_mon 2.1.5 reports.
const apiVersion = "2.25"

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// SummaryLines returns the "Cluster Summary" item lines (without bullets).
func (r *Report) SummaryLines() []string {
	var out []string
	out = append(out, "Stack: "+r.Stack)
	if r.DC == nil {
		out = append(out, "Current DC: NONE")
	} else {
		v := r.DCVersion
		if v == "" {
			v = "unknown"
		}
		q := "partition with quorum"
		if !r.Cluster.HaveQuorum {
			q = "partition WITHOUT quorum"
		}
		out = append(out, fmt.Sprintf("Current DC: %s (version %s) - %s", r.DC.Name, v, q))
	}
	out = append(out, "Last updated: "+ctime(r.Now.In(r.loc)))
	if lc := r.lastChange(); lc != "" {
		out = append(out, "Last change:  "+lc)
	}
	out = append(out, plural(len(r.Cluster.Nodes), "node configured", "nodes configured"))
	inst := plural(r.Instances, "resource instance configured", "resource instances configured")
	switch {
	case r.Disabled > 0 && r.Blocked > 0:
		inst += fmt.Sprintf(" (%d DISABLED, %d BLOCKED from further action due to failure)", r.Disabled, r.Blocked)
	case r.Disabled > 0:
		inst += fmt.Sprintf(" (%d DISABLED)", r.Disabled)
	case r.Blocked > 0:
		inst += fmt.Sprintf(" (%d BLOCKED from further action due to failure)", r.Blocked)
	}
	out = append(out, inst)
	out = append(out, r.Warnings...)
	return out
}

func (r *Report) lastChange() string {
	when := r.CIB.GetAttr("cib-last-written")
	if when == "" {
		return ""
	}
	s := when
	if u := r.CIB.GetAttr("update-user"); u != "" {
		s += " by " + u
	}
	if c := r.CIB.GetAttr("update-client"); c != "" {
		s += " via " + c
	}
	if o := r.CIB.GetAttr("update-origin"); o != "" {
		s += " on " + o
	}
	return s
}

// WriteText writes crm_mon -1 -r's text layout.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString("Cluster Summary:\n")
	for _, l := range r.SummaryLines() {
		b.WriteString("  * " + l + "\n")
	}
	if r.Cluster.MaintenanceMode {
		b.WriteString("\n              *** Resource management is DISABLED ***\n")
		b.WriteString("  The cluster will not attempt to start, stop or recover services\n")
	} else if r.Cluster.StopAllResources {
		b.WriteString("\n    *** Resource management is DISABLED ***\n")
		b.WriteString("  The cluster will keep all resources stopped\n")
	}
	b.WriteString("\nNode List:\n")
	for _, l := range r.NodeLines {
		b.WriteString(l + "\n")
	}
	b.WriteString("\nFull List of Resources:\n")
	if len(r.ResourceLines) == 0 {
		b.WriteString("  * No resources\n")
	}
	for _, l := range r.ResourceLines {
		b.WriteString(l + "\n")
	}
	if len(r.Failed) > 0 {
		b.WriteString("\nFailed Resource Actions:\n")
		for _, f := range r.Failed {
			b.WriteString("  * " + f.Text(r.loc) + "\n")
		}
	}
	failed, history, title := r.fenceTextSections()
	if len(failed) > 0 {
		b.WriteString("\nFailed Fencing Actions:\n")
		for _, l := range failed {
			b.WriteString("  * " + l + "\n")
		}
	}
	if len(history) > 0 {
		b.WriteString("\n" + title + ":\n")
		for _, l := range history {
			b.WriteString("  * " + l + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func el(name string, attrs ...string) *cib.Element {
	e := &cib.Element{Name: name}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Attrs = append(e.Attrs, cib.Attr{Name: attrs[i], Value: attrs[i+1]})
	}
	return e
}

func boolStr(b bool) string { return strconv.FormatBool(b) }

func (r *Report) summaryElement() *cib.Element {
	s := el("summary")
	s.Children = append(s.Children, el("stack", "type", r.Stack))
	if r.DC == nil {
		s.Children = append(s.Children, el("current_dc", "present", "false"))
	} else {
		s.Children = append(s.Children, el("current_dc", "present", "true", "version", r.DCVersion, "name", r.DC.Name,
			"id", r.DC.ID, "with_quorum", boolStr(r.Cluster.HaveQuorum), "mixed_version", "false"))
	}
	s.Children = append(s.Children, el("last_update", "time", ctime(r.Now.In(r.loc))))
	if when := r.CIB.GetAttr("cib-last-written"); when != "" {
		s.Children = append(s.Children, el("last_change", "time", when, "user", r.CIB.GetAttr("update-user"),
			"client", r.CIB.GetAttr("update-client"), "origin", r.CIB.GetAttr("update-origin")))
	}
	s.Children = append(s.Children,
		el("nodes_configured", "number", strconv.Itoa(len(r.Cluster.Nodes))),
		el("resources_configured", "number", strconv.Itoa(r.Instances), "disabled", strconv.Itoa(r.Disabled), "blocked", strconv.Itoa(r.Blocked)))
	opt := func(name, def string) string {
		if v, ok := r.Cluster.Options[name]; ok && v != "" {
			return v
		}
		return def
	}
	nqp := r.Cluster.NoQuorumPolicy
	if nqp == "" {
		nqp = "stop"
	}
	s.Children = append(s.Children, el("cluster_options",
		"stonith-enabled", boolStr(r.Cluster.StonithEnabled), "symmetric-cluster", boolStr(r.Cluster.SymmetricCluster),
		"no-quorum-policy", nqp, "maintenance-mode", boolStr(r.Cluster.MaintenanceMode),
		"stop-all-resources", boolStr(r.Cluster.StopAllResources),
		"stonith-timeout-ms", strconv.FormatInt(durationMS(opt("stonith-timeout", "60s")), 10),
		"priority-fencing-delay-ms", strconv.FormatInt(durationMS(opt("priority-fencing-delay", "0")), 10)))
	return s
}

// durationMS parses a Pacemaker interval ("60s", "2min", "1000ms", "90").
func durationMS(v string) int64 {
	v = strings.TrimSpace(strings.ToLower(v))
	units := []struct {
		suffix string
		mult   int64
	}{{"msec", 1}, {"ms", 1}, {"usec", 0}, {"us", 0}, {"secs", 1000}, {"sec", 1000}, {"s", 1000}, {"mins", 60000}, {"min", 60000}, {"m", 60000}, {"hr", 3600000}, {"h", 3600000}}
	mult := int64(1000)
	for _, u := range units {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSuffix(v, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0
	}
	return n * mult
}

// Element returns crm_mon's XML document as an element tree.
func (r *Report) Element() *cib.Element {
	root := el("pacemaker-result", "api-version", apiVersion, "request", r.request)
	root.Children = append(root.Children, r.summaryElement())
	root.Children = append(root.Children, simulate.StatusElements(r.Cluster, r.CIB)...)
	if na := r.nodeAttributes(); na != nil {
		root.Children = append(root.Children, na)
	}
	if nh := r.nodeHistory(); nh != nil {
		root.Children = append(root.Children, nh)
	}
	if len(r.Failed) > 0 {
		fs := el("failures")
		for _, f := range r.Failed {
			st, ok := execStatusText[f.OpStatus]
			if !ok {
				st = "Unknown"
			}
			reason := f.ExitReason
			if reason == "" {
				reason = "none"
			}
			idName, idValue := "id", f.ID
			if f.LastRCChange > 0 {
				idName, idValue = "op_key", f.OpKey
			}
			if f.OpStatus == execDone {
				st = "complete"
			}
			fe := el("failure", idName, idValue, "node", f.Node, "exitstatus", simulate.ExitText(f.RC), "exitreason", reason,
				"exitcode", strconv.Itoa(f.RC), "call", strconv.Itoa(f.CallID), "status", st)
			if f.LastRCChange > 0 {
				fe.Attrs = append(fe.Attrs,
					cib.Attr{Name: "last-rc-change", Value: isoTime(f.LastRCChange, r)},
					cib.Attr{Name: "queued", Value: strconv.FormatInt(f.QueueTimeMS, 10)},
					cib.Attr{Name: "exec", Value: strconv.FormatInt(f.ExecTimeMS, 10)},
					cib.Attr{Name: "interval", Value: strconv.FormatInt(f.Interval, 10)},
					cib.Attr{Name: "task", Value: f.Task})
			}
			fs.Children = append(fs.Children, fe)
		}
		root.Children = append(root.Children, fs)
	}
	if fh := r.fenceElement(); fh != nil {
		root.Children = append(root.Children, fh)
	}
	if b := r.bansElement(); b != nil {
		root.Children = append(root.Children, b)
	}
	if len(r.Warnings) > 0 {
		ws := el("warnings")
		for _, w := range r.Warnings {
			ws.Children = append(ws.Children, el("warning", "text", w))
		}
		root.Children = append(root.Children, ws)
	}
	root.Children = append(root.Children, el("status", "code", "0", "message", "OK"))
	return root
}

// isoTime renders a Unix time as crm_mon's XML does ("2013-02-27
// 10:56:10Z", or "2013-02-27 11:56:10 +01:00" outside UTC).
func isoTime(sec int64, r *Report) string {
	t := time.Unix(sec, 0).In(r.loc)
	return t.Format("2006-01-02 15:04:05") + zoneSuffix(t)
}

// nodeAttributes lists the transient and permanent node attributes of
// online nodes (names not starting with '#').
func (r *Report) nodeAttributes() *cib.Element {
	out := el("node_attributes")
	for _, n := range r.Cluster.Nodes {
		if !n.Online {
			continue
		}
		var names []string
		for k := range n.Attrs {
			if !strings.HasPrefix(k, "#") && !strings.HasPrefix(k, "fail-count-") && !strings.HasPrefix(k, "last-failure-") {
				names = append(names, k)
			}
		}
		if len(names) == 0 {
			continue
		}
		sort.Strings(names)
		ne := el("node", "name", n.Name)
		for _, k := range names {
			ne.Children = append(ne.Children, el("attribute", "name", k, "value", n.Attrs[k]))
		}
		out.Children = append(out.Children, ne)
	}
	if len(out.Children) == 0 {
		return nil
	}
	return out
}

// nodeHistory lists each node's resource operation history (completed
// operations by call id), like crm_mon's node_history.
func (r *Report) nodeHistory() *cib.Element {
	out := el("node_history")
	for _, ns := range r.CIB.Status.Nodes {
		name := ns.Uname
		if name == "" {
			name = ns.ID
		}
		ne := el("node", "name", name)
		for _, lr := range ns.Resources {
			rh := el("resource_history", "id", lr.ID, "orphan", boolStr(findResource(r.Cluster, lr.ID) == nil))
			ops := append([]*cib.LRMOp(nil), lr.Ops...)
			sort.SliceStable(ops, func(i, j int) bool { return ops[i].CallID < ops[j].CallID })
			for _, op := range ops {
				if op.OpStatus == execPending || op.CallID < 0 {
					continue
				}
				oe := el("operation_history", "call", strconv.Itoa(op.CallID), "task", actionText(op.Operation, op.Interval))
				if op.Interval > 0 {
					oe.Set("interval", readableInterval(op.Interval))
				}
				oe.Set("rc", strconv.Itoa(op.RCCode))
				oe.Set("rc_text", simulate.ExitText(op.RCCode))
				rh.Children = append(rh.Children, oe)
			}
			if len(rh.Children) > 0 {
				ne.Children = append(ne.Children, rh)
			}
		}
		if len(ne.Children) > 0 {
			out.Children = append(out.Children, ne)
		}
	}
	if len(out.Children) == 0 {
		return nil
	}
	return out
}

// WriteXML writes crm_mon --output-as=xml's document.
func (r *Report) WriteXML(w io.Writer) error { return r.Element().WriteXML(w) }

// jsonElement converts an element tree to JSON-friendly maps: attributes
// as string fields, children grouped under their element names.
func jsonElement(e *cib.Element) map[string]any {
	m := map[string]any{}
	for _, a := range e.Attrs {
		m[a.Name] = a.Value
	}
	for _, c := range e.Children {
		list, _ := m[c.Name].([]any)
		m[c.Name] = append(list, jsonElement(c))
	}
	return m
}

// WriteJSON writes the same data as WriteXML as one JSON object; element
// names become keys holding arrays of objects.
func (r *Report) WriteJSON(w io.Writer) error {
	m := jsonElement(r.Element())
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"pacemaker-result": m})
}
