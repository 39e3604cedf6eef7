package simulate

import (
	"sort"
	"strconv"
	"strings"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

// ocfExitText is Pacemaker's text for OCF exit codes, used for failed probes.
var ocfExitText = map[int]string{
	0:   "ok",
	1:   "error",
	2:   "invalid parameter",
	3:   "unimplemented feature",
	4:   "insufficient privileges",
	5:   "not installed",
	6:   "not configured",
	7:   "not running",
	8:   "promoted",
	9:   "promoted (failed)",
	190: "degraded",
	191: "promoted (degraded)",
}

func exitText(rc int) string {
	if s, ok := ocfExitText[rc]; ok {
		return s
	}
	return "unknown"
}

// historyKey names one resource's history on one node: the base resource
// id (clone instance suffix removed) and the node name.
type historyKey struct{ base, node string }

// historyFacts are display facts derived directly from the CIB status that
// the scheduler does not expose. known and ops are only needed for a few
// resources (asymmetric clusters, on-fail=ignore), so they are built on
// first use. A historyFacts is used by one goroutine.
type historyFacts struct {
	c            *cib.CIB
	failedProbes []failedProbe
	// pending maps a history to its pending task (start, stop, monitor,
	// probe, ...).
	pending map[historyKey]string
	// stateNodes holds the names of nodes with a node_state entry.
	stateNodes map[string]bool
	// locks maps a resource history id to its shutdown locks.
	locks map[string][]shutdownLock
	// featureSets maps node names to their node_state feature_set.
	featureSets map[string]string

	// known (base resource id to the nodes with any history for it) and
	// ops (a history's recorded operations): see knownNodes and opsFor.
	known map[string]map[string]bool
	ops   map[historyKey][]*cib.LRMOp
}

// shutdownLock is a resource history entry's shutdown-lock attribute.
type shutdownLock struct {
	node string
	at   int64
}

type failedProbe struct {
	opRsc string // resource part of the operation key
	node  string
	rc    int
	// changed is the operation's last-rc-change (Unix seconds).
	changed int64
}

// stripInstance removes a clone instance suffix (":N").
func stripInstance(id string) string {
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		if _, err := strconv.Atoi(id[i+1:]); err == nil {
			return id[:i]
		}
	}
	return id
}

// stateNodeName returns the node name of a node_state entry.
func stateNodeName(c *cib.CIB, ns *cib.NodeState) string {
	if ns.Uname != "" {
		return ns.Uname
	}
	for _, n := range c.Config.Nodes {
		if n.ID == ns.ID {
			return n.Uname
		}
	}
	return ns.ID
}

func isProbe(op *cib.LRMOp) bool { return op.Operation == "monitor" && op.Interval == 0 }

func gatherFacts(c *cib.CIB) *historyFacts {
	f := &historyFacts{c: c, pending: map[historyKey]string{}, stateNodes: map[string]bool{}, locks: map[string][]shutdownLock{}, featureSets: map[string]string{}}
	var completed map[string]bool
	for _, ns := range c.Status.Nodes {
		node := stateNodeName(c, ns)
		f.stateNodes[node] = true
		for _, a := range ns.Attrs {
			if a.Name == "feature_set" {
				f.featureSets[node] = a.Value
			}
		}
		for _, lr := range ns.Resources {
			for _, a := range lr.Attrs {
				if a.Name == "shutdown-lock" {
					if at, err := strconv.ParseInt(a.Value, 10, 64); err == nil && at != 0 {
						f.locks[lr.ID] = append(f.locks[lr.ID], shutdownLock{node: node, at: at})
					}
				}
			}
			hasPending := false
			for _, op := range lr.Ops {
				if op.OpStatus == -1 {
					hasPending = true
					break
				}
			}
			if hasPending {
				if completed == nil {
					completed = map[string]bool{}
				}
				clear(completed)
				for _, op := range lr.Ops {
					if op.OpStatus != -1 && op.CallID >= 0 {
						completed[op.Operation+"_"+strconv.FormatInt(op.Interval, 10)] = true
					}
				}
			}
			for _, op := range lr.Ops {
				// A pending operation counts until a completed result of
				// the same operation is recorded.
				if op.OpStatus == -1 && !completed[op.Operation+"_"+strconv.FormatInt(op.Interval, 10)] {
					task := op.Operation
					if isProbe(op) {
						task = "probe"
					}
					f.pending[historyKey{stripInstance(lr.ID), node}] = task
				}
				if isProbe(op) && (op.OpStatus == 0 || op.OpStatus == 7) && (op.RCCode == 5 || op.RCCode == 2 || op.OpStatus == 7) {
					opKey := op.OperationKey
					if opKey == "" {
						opKey = op.ID
					}
					rsc := strings.TrimSuffix(opKey, "_monitor_0")
					f.failedProbes = append(f.failedProbes, failedProbe{opRsc: rsc, node: node, rc: op.RCCode, changed: op.LastRCChange})
				}
			}
		}
	}
	return f
}

// indexHistories builds known and ops.
func (f *historyFacts) indexHistories() {
	f.known = map[string]map[string]bool{}
	f.ops = map[historyKey][]*cib.LRMOp{}
	for _, ns := range f.c.Status.Nodes {
		node := stateNodeName(f.c, ns)
		for _, lr := range ns.Resources {
			base := stripInstance(lr.ID)
			if f.known[base] == nil {
				f.known[base] = map[string]bool{}
			}
			f.known[base][node] = true
			key := historyKey{base, node}
			f.ops[key] = append(f.ops[key], lr.Ops...)
		}
	}
}

// knownNodes returns the names of the nodes with any history for the base
// resource id.
func (f *historyFacts) knownNodes(base string) map[string]bool {
	if f.known == nil {
		f.indexHistories()
	}
	return f.known[base]
}

// opsFor returns the operations recorded for the base resource id on node.
func (f *historyFacts) opsFor(base, node string) []*cib.LRMOp {
	if f.ops == nil {
		f.indexHistories()
	}
	return f.ops[historyKey{base, node}]
}

// failedProbeFor mirrors pe__failed_probe_for_rsc: a masked probe failure
// recorded for the resource's configured id or its top-level ancestor's id,
// on the given node ("" = any node).
func (f *historyFacts) failedProbeFor(r *scheduler.Resource, node string, now int64) (failedProbe, bool) {
	top := r.Top().ID
	for _, p := range f.failedProbes {
		if node != "" && !strings.EqualFold(node, p.node) {
			continue
		}
		if r.FailureTimeout > 0 && p.changed > 0 && now >= p.changed+r.FailureTimeout {
			continue // expired
		}
		if p.opRsc == r.BaseID || p.opRsc == top {
			return p, true
		}
	}
	return failedProbe{}, false
}

// statusLine is one line of a rendered status: a list header, a list
// item (optionally labelled, as "Online: [ ... ]"), or a blank spacer.
type statusLine struct {
	level  int
	text   string
	label  string
	header bool
	blank  bool
}

// fancyLines renders status lines as crm_simulate's default text output:
// indented, bulleted, with list headers.
func fancyLines(ls []statusLine) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		switch {
		case l.blank:
			out = append(out, "")
		case l.label != "":
			out = append(out, strings.Repeat("  ", l.level)+"* "+l.label+": "+l.text)
		default:
			out = append(out, strings.Repeat("  ", l.level)+"* "+l.text)
		}
	}
	return out
}

// plainLines renders status lines as crm_simulate's plain text output
// (used with --show-scores): no list headers, bullets, indentation or item
// labels.
func plainLines(ls []statusLine) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		switch {
		case l.blank:
			out = append(out, "")
		case l.header:
		default:
			out = append(out, l.text)
		}
	}
	return out
}

// statusRenderer renders the crm_mon-style cluster status.
type statusRenderer struct {
	cl    *scheduler.Cluster
	facts *historyFacts
	// hidePending leaves pending operations out (revised status).
	hidePending bool
	out         []statusLine
}

func (s *statusRenderer) item(level int, text string) {
	s.out = append(s.out, statusLine{level: level, text: text})
}

func (s *statusRenderer) labeled(level int, label, text string) {
	s.out = append(s.out, statusLine{level: level, label: label, text: text})
}

func (s *statusRenderer) header(level int, text string) {
	s.out = append(s.out, statusLine{level: level, text: text, header: true})
}

// renderStatus returns the lines of the "Node List" and "Full List of
// Resources" blocks (without the section title). crm_simulate shows pending
// operations (Starting, Monitoring, ...) in the current status only.
func renderStatus(cl *scheduler.Cluster, c *cib.CIB, showPending bool) []statusLine {
	return renderStatusFacts(cl, gatherFacts(c), showPending)
}

// renderStatusFacts is renderStatus with the facts of the CIB gathered.
func renderStatusFacts(cl *scheduler.Cluster, facts *historyFacts, showPending bool) []statusLine {
	s := &statusRenderer{cl: cl, facts: facts, hidePending: !showPending}
	if len(cl.Nodes) > 0 {
		s.renderNodes()
		s.out = append(s.out, statusLine{blank: true})
	}
	s.renderResources()
	return s.out
}

func nodeHealth(cl *scheduler.Cluster, n *scheduler.Node) int {
	strategy := cl.Options["node-health-strategy"]
	if strategy == "" || strategy == "none" {
		return 1
	}
	rc := 1
	for k, v := range n.Attrs {
		if !strings.HasPrefix(k, "#health") {
			continue
		}
		switch strings.ToLower(v) {
		case "red":
			return -1
		case "yellow":
			rc = 0
		}
	}
	return rc
}

// nodeFlags are the node facts the status shows.
type nodeFlags struct {
	*scheduler.Node
	standby, maintenance bool
}

// flagsFor returns n's displayed flags. Pacemaker sets the standby and
// maintenance flags only for nodes with a node_state entry.
func (s *statusRenderer) flagsFor(n *scheduler.Node) nodeFlags {
	f := nodeFlags{Node: n, standby: n.Standby, maintenance: n.Maintenance}
	if !s.facts.stateNodes[n.Name] {
		f.standby, f.maintenance = false, false
	}
	return f
}

func nodeStatusText(n nodeFlags) string {
	switch {
	case n.Unclean:
		if n.Online {
			return "UNCLEAN (online)"
		} else if n.Pending {
			return "UNCLEAN (pending)"
		}
		return "UNCLEAN (offline)"
	case n.Pending:
		return "pending"
	case n.StandbyOnFail && n.Online:
		return "standby (on-fail)"
	case n.standby:
		if n.Online {
			if len(n.Running) > 0 {
				return "standby (with active resources)"
			}
			return "standby"
		}
		return "OFFLINE (standby)"
	case n.maintenance:
		if n.Online {
			return "maintenance"
		}
		return "OFFLINE (maintenance)"
	case n.Online:
		return "online"
	}
	return "OFFLINE"
}

func (s *statusRenderer) renderNodes() {
	s.header(1, "Node List:")
	var online, offline []string
	for _, n := range s.cl.Nodes {
		health := nodeHealth(s.cl, n)
		f := s.flagsFor(n)
		if n.Unclean || n.Pending || (n.StandbyOnFail && n.Online) || f.standby || f.maintenance || health <= 0 {
			line := "Node " + n.Name + ": " + nodeStatusText(f)
			if health < 0 {
				line += " (health is RED)"
			} else if health == 0 {
				line += " (health is YELLOW)"
			}
			s.item(2, line)
			continue
		}
		if n.Online {
			online = append(online, n.Name)
		} else {
			offline = append(offline, n.Name)
		}
	}
	if len(online) > 0 {
		s.labeled(2, "Online", "[ "+strings.Join(online, " ")+" ]")
	}
	if len(offline) > 0 {
		s.labeled(2, "OFFLINE", "[ "+strings.Join(offline, " ")+" ]")
	}
}

// active mirrors Pacemaker's rsc->fns->active(rsc, all).
func active(r *scheduler.Resource, all bool) bool {
	if r.Kind == cib.KindPrimitive {
		for _, n := range r.RunningOn {
			if n.Unclean {
				return true
			} else if !n.Online && r.Managed {
				continue
			}
			return true
		}
		return false
	}
	for _, c := range r.Children {
		a := active(c, all)
		if all && !a {
			return false
		}
		if !all && a {
			return true
		}
	}
	return all && len(r.Children) > 0
}

func (s *statusRenderer) renderResources() {
	s.header(1, "Full List of Resources:")
	printed := false
	for _, r := range s.cl.Resources {
		if r.Orphan && !active(r, true) {
			continue
		}
		// Pacemaker skips partially active resources that run nowhere by
		// its own (propagated) account.
		if active(r, false) && len(s.runningSet(r)) == 0 {
			continue
		}
		s.renderResource(2, r)
		printed = true
	}
	if !printed {
		s.item(2, "No resources")
	}
}

// runningSet returns the nodes Pacemaker records r as running on. A
// collective resource inherits its primitives' nodes, except that an
// unmanaged primitive on an offline node does not propagate to its parents.
func (s *statusRenderer) runningSet(r *scheduler.Resource) map[string]bool {
	out := map[string]bool{}
	if r.Kind == cib.KindPrimitive {
		for _, n := range r.RunningOn {
			out[n.Name] = true
		}
		return out
	}
	for _, p := range r.Primitives() {
		for _, n := range p.RunningOn {
			if n.Online || s.managed(p) {
				out[n.Name] = true
			}
		}
	}
	return out
}

func (s *statusRenderer) renderResource(level int, r *scheduler.Resource) {
	switch r.Kind {
	case cib.KindGroup:
		s.renderGroup(level, r)
	case cib.KindClone:
		s.renderClone(level, r)
	default:
		s.item(level, s.primitiveText(r))
	}
}

func isDisabled(r *scheduler.Resource) bool {
	switch r.TargetRole {
	case scheduler.RoleStopped:
		return true
	case scheduler.RoleUnpromoted:
		return r.Top().Promotable
	}
	return false
}

func (s *statusRenderer) renderGroup(level int, r *scheduler.Resource) {
	var attrs []string
	if !r.Managed {
		attrs = append(attrs, "unmanaged")
	}
	if isDisabled(r) {
		attrs = append(attrs, "disabled")
	}
	header := "Resource Group: " + r.ID
	if len(attrs) > 0 {
		header += " (" + strings.Join(attrs, ", ") + ")"
	}
	s.header(level, header+":")
	for _, c := range r.Children {
		s.renderResource(level+1, c)
	}
}

// printableID mirrors rsc_printable_id: anonymous clone instances print
// without their instance number.
func printableID(r *scheduler.Resource) string {
	for p := r.Parent; p != nil; p = p.Parent {
		if p.IsClone() && !p.GloballyUnique {
			return r.BaseID
		}
	}
	return r.ID
}

func displayRole(r *scheduler.Resource) string {
	role := r.Role
	if role == scheduler.RoleStarted && r.Top().Promotable {
		role = scheduler.RoleUnpromoted
	}
	if role == "" || role == scheduler.RoleUnknown {
		role = scheduler.RoleStopped
	}
	return role
}

func pendingState(task string) string {
	switch task {
	case "start":
		return "Starting"
	case "stop":
		return "Stopping"
	case "migrate_to", "migrate_from":
		return "Migrating"
	case "promote":
		return "Promoting"
	case "demote":
		return "Demoting"
	}
	return ""
}

// pendingFor returns the pending task of a primitive and the node it is
// pending on (non-probe tasks only).
func (s *statusRenderer) pendingFor(r *scheduler.Resource) (string, string) {
	if s.hidePending {
		return "", ""
	}
	for _, n := range r.RunningOn {
		if t, ok := s.facts.pending[historyKey{r.BaseID, n.Name}]; ok && t != "probe" {
			return t, n.Name
		}
	}
	if len(r.RunningOn) == 0 && r.PendingOp != "" {
		for _, n := range s.cl.Nodes {
			if t, ok := s.facts.pending[historyKey{r.BaseID, n.Name}]; ok && t != "probe" {
				return t, n.Name
			}
		}
	}
	return "", ""
}

// failureIgnored reports whether r has a failed operation whose configured
// on-fail is "ignore".
func (s *statusRenderer) failureIgnored(r *scheduler.Resource) bool {
	ignore := map[string]bool{}
	for _, op := range r.Ops {
		if op.OnFail == "ignore" {
			ignore[op.Name+"_"+strconv.FormatInt(op.Interval, 10)] = true
		}
	}
	if len(ignore) == 0 {
		return false
	}
	for _, n := range s.cl.Nodes {
		for _, op := range s.facts.opsFor(r.BaseID, n.Name) {
			if !ignore[op.Operation+"_"+strconv.FormatInt(op.Interval, 10)] {
				continue
			}
			target := expectedRC(op)
			if op.OpStatus == 0 && op.RCCode != target && !(isProbe(op) && op.RCCode == 7) {
				return true
			}
			// Timeouts and errors; hard errors and "not installed" are
			// never ignored.
			if op.OpStatus == 2 || op.OpStatus == 4 {
				return true
			}
		}
	}
	return false
}

// expectedRC returns the target rc from an operation's transition key.
func expectedRC(op *cib.LRMOp) int {
	k := op.TransitionKey
	if k == "" {
		if i := strings.IndexByte(op.TransitionMagic, ';'); i >= 0 {
			k = op.TransitionMagic[i+1:]
		}
	}
	parts := strings.Split(k, ":")
	if len(parts) >= 3 {
		if v, err := strconv.Atoi(parts[2]); err == nil {
			return v
		}
	}
	if isProbe(op) {
		return 7
	}
	return 0
}

func addFlag(b *strings.Builder, flag string, have bool) bool {
	if have {
		b.WriteString(", ")
	} else {
		b.WriteString(" (")
	}
	b.WriteString(flag)
	return true
}

// managed reports whether a primitive is managed, also applying the rules
// Pacemaker applies while unpacking the status: orphaned primitives (not
// orphaned clone instances) are unmanaged
// unless stop-orphan-resources is set, and resources active on a node in
// maintenance are unmanaged.
func (s *statusRenderer) managed(r *scheduler.Resource) bool {
	if !r.Managed {
		return false
	}
	if r.Orphan && r.Parent == nil && !s.cl.StopOrphanResources {
		return false
	}
	for _, n := range r.RunningOn {
		if s.flagsFor(n).maintenance {
			return false
		}
	}
	return true
}

// lockNode returns the node r is shutdown-locked to, if any: the lock must
// be enabled (shutdown-lock) and not expired (shutdown-lock-limit).
func (s *statusRenderer) lockNode(r *scheduler.Resource) *scheduler.Node {
	if !isTrueOption(s.cl.Options["shutdown-lock"]) {
		return nil
	}
	var limit int64
	if v := s.cl.Options["shutdown-lock-limit"]; v != "" {
		if ms, err := cib.ParseIntervalMS(v); err == nil {
			limit = ms / 1000
		}
	}
	for _, l := range s.facts.locks[r.ID] {
		if limit > 0 && s.cl.Now.Unix() > l.at+limit {
			continue
		}
		if n := s.cl.NodeByName(l.node); n != nil {
			return n
		}
	}
	return nil
}

func isTrueOption(v string) bool {
	switch strings.ToLower(v) {
	case "true", "on", "yes", "y", "1":
		return true
	}
	return false
}

// primitiveText mirrors pcmk__native_output_string.
func (s *statusRenderer) primitiveText(r *scheduler.Resource) string {
	var b strings.Builder
	b.WriteString(printableID(r))
	b.WriteString("\t(")
	class := r.Class
	if class == "" {
		class = "unknown"
	}
	b.WriteString(class)
	if class == "ocf" {
		b.WriteString(":" + r.Provider)
	}
	typ := r.Type
	if typ == "" {
		typ = "unknown"
	}
	b.WriteString(":" + typ + "):\t")

	var node *scheduler.Node
	var nodeName string
	pendingTask, pendingNode := s.pendingFor(r)
	if len(r.RunningOn) > 0 {
		node = r.RunningOn[0]
		nodeName = node.Name
	} else if pendingNode != "" {
		nodeName = pendingNode
		node = s.cl.NodeByName(pendingNode)
	}
	lock := s.lockNode(r)
	if node == nil && lock != nil {
		node, nodeName = lock, lock.Name
	}
	multiple := len(r.RunningOn) > 1
	if multiple {
		node, nodeName = nil, ""
	}
	if r.Orphan {
		b.WriteString(" ORPHANED")
	}
	role := displayRole(r)
	if r.Failed {
		b.WriteString(" FAILED")
		if role == scheduler.RolePromoted {
			b.WriteString(" " + role)
		}
	} else {
		st := pendingState(pendingTask)
		if st == "" {
			st = role
		}
		b.WriteString(" " + st)
	}
	if nodeName != "" {
		b.WriteString(" " + nodeName)
	}
	if role == scheduler.RoleStopped {
		if p, ok := s.facts.failedProbeFor(r, nodeName, s.cl.Now.Unix()); ok {
			b.WriteString(" (" + exitText(p.rc) + ") ")
		}
	}
	have := false
	if node != nil && !node.Online && node.Unclean {
		have = addFlag(&b, "UNCLEAN", have)
	}
	if node != nil && node == lock {
		have = addFlag(&b, "LOCKED", have)
	}
	if pendingTask == "monitor" {
		have = addFlag(&b, "Monitoring", have)
	}
	switch r.TargetRole {
	case scheduler.RoleStopped:
		have = addFlag(&b, "disabled", have)
	case scheduler.RoleUnpromoted:
		if r.Top().Promotable {
			have = addFlag(&b, "target-role:"+r.TargetRole, have)
		}
	}
	if r.Blocked {
		have = addFlag(&b, "blocked", have)
	} else if !s.managed(r) {
		have = addFlag(&b, "unmanaged", have)
	}
	if s.failureIgnored(r) || r.ContainerFailureIgnored() {
		have = addFlag(&b, "failure ignored", have)
	}
	if have {
		b.WriteString(")")
	}
	if multiple {
		b.WriteString(" [")
		for _, n := range r.RunningOn {
			b.WriteString(" " + n.Name)
		}
		b.WriteString(" ]")
	}
	return b.String()
}

func anyRecursive(r *scheduler.Resource, f func(*scheduler.Resource) bool) bool {
	if f(r) {
		return true
	}
	for _, c := range r.Children {
		if anyRecursive(c, f) {
			return true
		}
	}
	return false
}

// instanceLocation returns the single node an instance is active on, or nil.
func instanceLocation(r *scheduler.Resource) *scheduler.Node {
	var nodes []*scheduler.Node
	seen := map[*scheduler.Node]bool{}
	for _, p := range r.Primitives() {
		for _, n := range p.RunningOn {
			if !seen[n] {
				seen[n] = true
				nodes = append(nodes, n)
			}
		}
	}
	if len(nodes) == 1 {
		return nodes[0]
	}
	return nil
}

func instanceRole(r *scheduler.Resource) string {
	best := scheduler.RoleStopped
	rank := map[string]int{scheduler.RoleStopped: 1, scheduler.RoleStarted: 2, scheduler.RoleUnpromoted: 3, scheduler.RolePromoted: 4}
	for _, p := range r.Primitives() {
		if rank[p.Role] > rank[best] {
			best = p.Role
		}
	}
	return best
}

func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		ca, cb := a[0], b[0]
		if isDigit(ca) && isDigit(cb) {
			i, j := 0, 0
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na, _ := strconv.ParseInt(a[:i], 10, 64)
			nb, _ := strconv.ParseInt(b[:j], 10, 64)
			if na != nb {
				return na < nb
			}
			a, b = a[i:], b[j:]
			continue
		}
		la, lb := lowerByte(ca), lowerByte(cb)
		if la != lb {
			return la < lb
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func sortNatural(names []string) {
	sort.SliceStable(names, func(i, j int) bool { return naturalLess(names[i], names[j]) })
}

func (s *statusRenderer) renderClone(level int, r *scheduler.Resource) {
	headerDone := false
	header := func() {
		if headerDone {
			return
		}
		headerDone = true
		var attrs []string
		if r.Promotable {
			attrs = append(attrs, "promotable")
		}
		if r.GloballyUnique {
			attrs = append(attrs, "unique")
		}
		if isDisabled(r) {
			attrs = append(attrs, "disabled")
		}
		if !r.Managed {
			attrs = append(attrs, "unmanaged")
		}
		child := r.BaseID
		if r.Def != nil && len(r.Def.Children) > 0 {
			child = r.Def.Children[0].ID
		}
		h := "Clone Set: " + r.ID + " [" + child + "]"
		if len(attrs) > 0 {
			h += " (" + strings.Join(attrs, ", ") + ")"
		}
		s.header(level, h+":")
	}
	var promoted, started []string
	for _, inst := range r.Children {
		partial := active(inst, false)
		full := false
		pendingTask := ""
		for _, p := range inst.Primitives() {
			if t, _ := s.pendingFor(p); t != "" {
				pendingTask = t
			}
		}
		switch {
		case r.GloballyUnique:
			full = partial || !inst.Orphan
		case pendingTask != "" && pendingTask != "probe":
			full = true
		case !partial:
			// listed in the Stopped summary below
		case anyRecursive(inst, func(x *scheduler.Resource) bool { return x.Orphan }) ||
			anyRecursive(inst, func(x *scheduler.Resource) bool {
				if x.Kind == cib.KindPrimitive {
					return !s.managed(x)
				}
				return !x.Managed
			}) ||
			anyRecursive(inst, func(x *scheduler.Resource) bool { return x.Failed }):
			full = true
		case active(inst, true):
			loc := instanceLocation(inst)
			switch {
			case loc == nil:
				full = true
			case !loc.Online && loc.Unclean:
				full = true
			case instanceRole(inst) == scheduler.RolePromoted:
				promoted = append(promoted, loc.Name)
			default:
				started = append(started, loc.Name)
			}
		default:
			full = true
		}
		if full {
			header()
			s.renderResource(level+1, inst)
		}
	}
	activeInstances := 0
	if len(promoted) > 0 {
		sortNatural(promoted)
		activeInstances += len(promoted)
		header()
		s.item(level+1, "Promoted: [ "+strings.Join(promoted, " ")+" ]")
	}
	if len(started) > 0 {
		sortNatural(started)
		activeInstances += len(started)
		header()
		if r.Promotable {
			if r.TargetRole == scheduler.RoleUnpromoted {
				s.item(level+1, "Unpromoted (target-role): [ "+strings.Join(started, " ")+" ]")
			} else {
				s.item(level+1, "Unpromoted: [ "+strings.Join(started, " ")+" ]")
			}
		} else {
			s.item(level+1, "Started: [ "+strings.Join(started, " ")+" ]")
		}
	}
	if r.GloballyUnique || r.CloneMax <= activeInstances {
		if !headerDone && activeInstances == 0 {
			header()
		}
		return
	}
	running := s.runningSet(r)
	var candidates []string
	if s.cl.SymmetricCluster {
		for _, n := range s.cl.Nodes {
			candidates = append(candidates, n.Name)
		}
	} else {
		seen := map[string]bool{}
		for _, p := range r.Primitives() {
			for n := range s.facts.knownNodes(p.BaseID) {
				if !seen[n] && s.cl.NodeByName(n) != nil {
					seen[n] = true
					candidates = append(candidates, n)
				}
			}
		}
	}
	stopped := map[string]string{}
	for _, n := range candidates {
		if running[n] {
			continue
		}
		state := "Stopped"
		if r.TargetRole == scheduler.RoleStopped {
			state = "Stopped (disabled)"
		}
		if p, ok := s.facts.failedProbeFor(r, n, s.cl.Now.Unix()); ok {
			state = "Stopped (" + exitText(p.rc) + ")"
		} else if len(r.Children) > 0 {
			// The failed probe is recorded under the instance's own id.
			for _, p := range r.Children[0].Primitives() {
				if fp, ok := s.facts.failedProbeFor(p, n, s.cl.Now.Unix()); ok {
					state = "Stopped (" + exitText(fp.rc) + ")"
					break
				}
			}
		}
		stopped[n] = state
	}
	if len(stopped) == 0 {
		if activeInstances == 0 {
			header()
		}
		return
	}
	header()
	var states []string
	seen := map[string]bool{}
	for _, st := range stopped {
		if !seen[st] {
			seen[st] = true
			states = append(states, st)
		}
	}
	sort.Strings(states)
	for _, st := range states {
		var nodes []string
		for n, v := range stopped {
			if v == st {
				nodes = append(nodes, n)
			}
		}
		sortNatural(nodes)
		s.item(level+1, st+": [ "+strings.Join(nodes, " ")+" ]")
	}
}
