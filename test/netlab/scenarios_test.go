package netlab

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/internal/testbin"
)

// defaultMembers is the lab group's member order (started in this
// order, stopped in reverse).
var defaultMembers = []string{"fs", "vip", "web"}

// builtinCIB is the group of gocrm's built-in agents.
func (l *lab) builtinCIB() string {
	return fmt.Sprintf(`property cib-bootstrap-options: \
    stonith-enabled=false \
    no-quorum-policy=stop
rsc_defaults rsc-options: \
    resource-stickiness=100
primitive fs ocf:gocrm:Filesystem \
    params device=%s directory=%s fstype=ext4 \
    op monitor interval=5s timeout=10s
primitive vip ocf:gocrm:IPaddr2 \
    params ip=%s cidr_netmask=24 nic=eth0 \
    op monitor interval=5s timeout=10s
primitive web ocf:gocrm:httpd \
    params binary=%s args="%s %s" statusurl="http://127.0.0.1:80/" \
    op monitor interval=5s timeout=10s
group g-web fs vip web
`, l.loopDev, l.mnt, vipAddr, l.self, httpdArg, l.mnt)
}

// raCIB is the same group with Debian's resource-agents, as the
// Pacemaker lab runs it (IPaddr2 + anything, plus Filesystem), limited to
// l.members.
func (l *lab) raCIB() string {
	prims := map[string]string{
		"fs": fmt.Sprintf(`primitive fs ocf:heartbeat:Filesystem \
    params device=%s directory=%s fstype=ext4 \
    op monitor interval=10s timeout=20s
`, l.loopDev, l.mnt),
		"vip": fmt.Sprintf(`primitive vip ocf:heartbeat:IPaddr2 \
    params ip=%s cidr_netmask=24 nic=eth0 \
    op monitor interval=10s timeout=20s
`, vipAddr),
		"web": fmt.Sprintf(`primitive web ocf:heartbeat:anything \
    params binfile=%s cmdline_options="%s %s" \
    op monitor interval=10s timeout=20s
`, l.self, httpdArg, l.mnt),
	}
	var b strings.Builder
	b.WriteString(`property cib-bootstrap-options: \
    stonith-enabled=false \
    no-quorum-policy=stop
rsc_defaults rsc-options: \
    resource-stickiness=100
`)
	for _, m := range l.members {
		b.WriteString(prims[m])
	}
	b.WriteString("group g-web " + strings.Join(l.members, " ") + "\n")
	return b.String()
}

// hasFS reports whether the group has the Filesystem member.
func (l *lab) hasFS() bool { return slices.Contains(l.members, "fs") }

// setMembers chooses the group's members. Without the Filesystem the web
// server's data file is put into the (then unmounted) directory itself.
func (l *lab) setMembers(members []string) {
	l.t.Helper()
	l.members = members
	if !l.hasFS() {
		if err := os.WriteFile(filepath.Join(l.mnt, dataFile), []byte(l.data+"\n"), 0o644); err != nil {
			l.t.Fatal(err)
		}
	}
}

// bringUp starts the three crmd, loads cib and waits until the group
// runs and the client gets answers from it. It returns the active node.
func (l *lab) bringUp(cib string) (string, *poller) {
	t := l.t
	t.Helper()
	began := time.Now()
	for _, n := range nodes {
		l.startCrmd(n)
	}
	l.waitStatus("n1", 60*time.Second, "all nodes online", func(s *statusXML) bool {
		return slices.Equal(s.online(), nodes) && s.DC.Present == "true"
	})
	f := filepath.Join(l.dir, "cib.crm")
	if err := os.WriteFile(f, []byte(cib), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := l.crmCmd("n1", 30*time.Second, "configure", "load", "update", f); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := l.waitStatus("n1", 60*time.Second, "group g-web started", func(s *statusXML) bool { return s.groupNode("g-web") != "" })
	active := s.groupNode("g-web")
	t.Logf("cluster up in %v: DC %s, g-web on %s", time.Since(began).Round(time.Millisecond), s.DC.Name, active)
	if where, err := l.mountedIn(); l.hasFS() && (err != nil || !slices.Equal(where, []string{active})) {
		t.Fatalf("filesystem mounted on %v (err %v), want only on %s", where, err, active)
	}
	p := startPoller(t, l.ns("c1"))
	l.waitAnswers(p, active, time.Now(), 20, 20*time.Second)
	return active, p
}

// other returns the first node that is not one of except.
func other(except ...string) string {
	for _, n := range nodes {
		if !slices.Contains(except, n) {
			return n
		}
	}
	return ""
}

// standbyRun puts the active node in standby, checks and measures the
// move, then brings the node back online (the group stays where it is:
// stickiness). It returns the new active node.
func (l *lab) standbyRun(p *poller, active string, limit time.Duration) (string, outage, breakdown) {
	t := l.t
	t.Helper()
	via := other(active)
	l.waitAnswers(p, active, time.Now(), 10, 20*time.Second)
	time.Sleep(300 * time.Millisecond) // let the poller's answers settle
	t0 := time.Now()
	if out, err := l.crmCmd(via, 10*time.Second, "node", "standby", active); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var to string
	l.waitStatus(via, 30*time.Second, "g-web moved off the standby node", func(s *statusXML) bool {
		to = s.groupNode("g-web")
		_, sb := s.node(active)
		return sb && to != "" && to != active
	})
	l.waitAnswers(p, to, t0, 10, 10*time.Second)
	o := l.checkFailover("standby", p, t0, active, to, limit)
	b := l.breakdown(t0, active, to, o)
	t.Logf("standby %s -> %s breakdown:\n%s", active, to, b)
	if out, err := l.crmCmd(via, 10*time.Second, "node", "online", active); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	l.waitStatus(via, 30*time.Second, "node back online, g-web staying put", func(s *statusXML) bool {
		on, sb := s.node(active)
		return on && !sb && s.groupNode("g-web") == to
	})
	return to, o, b
}

// crashRun powers off the active node (link down, SIGKILL of every
// process in its namespace) and checks and measures the recovery.
func (l *lab) crashRun(p *poller, victim string, limit time.Duration) (string, outage) {
	t := l.t
	t.Helper()
	observer := other(victim)
	s, err := l.status(observer)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("crash of %s (DC is %s)", victim, s.DC.Name)
	l.waitAnswers(p, victim, time.Now(), 10, 20*time.Second)
	t0 := time.Now()
	l.crashed[victim] = true
	l.run("ip", "-n", l.ns(victim), "link", "set", "eth0", "down")
	if err := killNS(l.ns(victim)); err != nil {
		t.Fatal(err)
	}
	var to string
	l.waitStatus(observer, 60*time.Second, "g-web restarted after the crash", func(s *statusXML) bool {
		to = s.groupNode("g-web")
		on, _ := s.node(victim)
		return !on && to != "" && to != victim
	})
	l.waitAnswers(p, to, t0, 10, 20*time.Second)
	return to, l.checkFailover("crash", p, t0, victim, to, limit)
}

// TestFailoverLab runs the built-in group (Filesystem + VIP + httpd):
// standby of the active node, then a crash of the node running the group.
func TestFailoverLab(t *testing.T) {
	l := newLab(t)
	began := time.Now()
	active, p := l.bringUp(l.builtinCIB())
	to, sb, _ := l.standbyRun(p, active, 10*time.Second)
	if t.Failed() {
		return
	}
	crashTo, cr := l.crashRun(p, to, 15*time.Second)
	t.Logf("SUMMARY built-in agents: standby %s->%s outage %v (first answer from the new node T0+%v); crash %s->%s outage %v (T0+%v); test %v",
		active, to, sb.outage.Round(time.Millisecond), sb.firstNew.Round(time.Millisecond),
		to, crashTo, cr.outage.Round(time.Millisecond), cr.firstNew.Round(time.Millisecond), time.Since(began).Round(time.Second))
}

// TestFailoverLabResourceAgents runs the same group with Debian's
// unmodified resource-agents (ocf:heartbeat:Filesystem, IPaddr2 and
// anything, the Pacemaker lab's web server agent) through gocrm's LRM:
// GOCRM_NETLAB_RUNS standby moves (default 3), each with a breakdown of
// the time into gocrm's share and the agents' own, then one crash.
// GOCRM_NETLAB_RA_GROUP="vip web" leaves the Filesystem out (the
// Pacemaker lab's group).
func TestFailoverLabResourceAgents(t *testing.T) {
	for _, a := range []string{"Filesystem", "IPaddr2", "anything"} {
		if _, err := os.Stat(filepath.Join("/usr/lib/ocf/resource.d/heartbeat", a)); err != nil {
			t.Skipf("skipping: resource-agents not installed (%v); apt-get install resource-agents", err)
		}
	}
	runs := 3
	if v := os.Getenv("GOCRM_NETLAB_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("GOCRM_NETLAB_RUNS=%q: want a positive number", v)
		}
		runs = n
	}
	members := defaultMembers
	if v := os.Getenv("GOCRM_NETLAB_RA_GROUP"); v != "" {
		members = strings.Fields(v)
		for _, m := range members {
			if !slices.Contains(defaultMembers, m) {
				t.Fatalf("GOCRM_NETLAB_RA_GROUP=%q: unknown member %q (want a subset of %v in that order)", v, m, defaultMembers)
			}
		}
		if !slices.Contains(members, "web") {
			t.Fatalf("GOCRM_NETLAB_RA_GROUP=%q: the group needs web", v)
		}
	}
	l := newLab(t)
	l.setMembers(members)
	began := time.Now()
	active, p := l.bringUp(l.raCIB())
	var outs []time.Duration
	var bds []breakdown
	for i := 0; i < runs && !t.Failed(); i++ {
		to, o, b := l.standbyRun(p, active, 15*time.Second)
		outs = append(outs, o.outage)
		bds = append(bds, b)
		active = to
	}
	if t.Failed() {
		return
	}
	crashTo, cr := l.crashRun(p, active, 20*time.Second)
	t.Logf("SUMMARY resource-agents: standby outage %s over %d runs; %s; crash %s->%s outage %v (T0+%v); test %v",
		stats(outs), len(outs), summarize(bds), active, crashTo, cr.outage.Round(time.Millisecond),
		cr.firstNew.Round(time.Millisecond), time.Since(began).Round(time.Second))
}

// stats formats median / min / max.
func stats(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("median %v min %v max %v", s[len(s)/2].Round(time.Millisecond),
		s[0].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
}

// opEvent is one completed operation from a crmd log.
type opEvent struct {
	node string
	op   string
	done time.Time
	exec time.Duration
}

// step is one action on the critical path of a group move.
type step struct {
	name  string
	gap   time.Duration // from the previous step's end (or the transition start) to this action's start: gocrm
	agent time.Duration // the agent's execution
}

// breakdown splits a group move into gocrm's share and the agents'.
type breakdown struct {
	toTransition time.Duration // T0 -> transition started on the DC
	steps        []step
	toClient     time.Duration // last start's end -> the client's first answer from the new node
	total        time.Duration // T0 -> first answer from the new node
	outage       time.Duration
	complete     bool
}

func (b breakdown) ours() time.Duration {
	d := b.toTransition
	for _, s := range b.steps {
		d += s.gap
	}
	return d
}

func (b breakdown) agents() time.Duration {
	var d time.Duration
	for _, s := range b.steps {
		d += s.agent
	}
	return d
}

func (b breakdown) String() string {
	if !b.complete {
		return "incomplete (an action of the move is missing from the logs)"
	}
	var sb strings.Builder
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	fmt.Fprintf(&sb, "  %5d ms  gocrm  T0 (crm node standby) -> transition started on the DC\n", ms(b.toTransition))
	for _, s := range b.steps {
		fmt.Fprintf(&sb, "  %5d ms  gocrm  -> %s dispatched\n", ms(s.gap), s.name)
		fmt.Fprintf(&sb, "  %5d ms  agent  %s\n", ms(s.agent), s.name)
	}
	fmt.Fprintf(&sb, "  %5d ms  client last start done -> first answer from the new node (poll period, ARP)\n", ms(b.toClient))
	fmt.Fprintf(&sb, "  total %d ms to the first answer from the new node = gocrm %d + agents %d + client %d; client outage %d ms",
		ms(b.total), ms(b.ours()), ms(b.agents()), ms(b.toClient), ms(b.outage))
	return sb.String()
}

// summarize gives the medians of the breakdowns' parts.
func summarize(bds []breakdown) string {
	var ours, agents, total []time.Duration
	per := map[string][]time.Duration{}
	var names []string
	for _, b := range bds {
		if !b.complete {
			continue
		}
		ours = append(ours, b.ours())
		agents = append(agents, b.agents())
		total = append(total, b.total)
		for _, s := range b.steps {
			op, _, _ := strings.Cut(s.name, "@")
			if _, ok := per[op]; !ok {
				names = append(names, op)
			}
			per[op] = append(per[op], s.agent)
		}
	}
	parts := []string{"to first new answer " + stats(total), "gocrm " + stats(ours), "agents " + stats(agents)}
	for _, n := range names {
		parts = append(parts, n+" "+stats(per[n]))
	}
	return strings.Join(parts, "; ")
}

// breakdown reads the crmd logs for the move from oldNode to newNode
// that started at t0.
func (l *lab) breakdown(t0 time.Time, oldNode, newNode string, o outage) breakdown {
	b := breakdown{total: o.firstNew, outage: o.outage}
	trStart, ops := l.opEvents(t0)
	if trStart.IsZero() {
		return b
	}
	b.toTransition = trStart.Sub(t0)
	find := func(node, op string) (opEvent, bool) {
		for _, e := range ops {
			if e.node == node && e.op == op {
				return e, true
			}
		}
		return opEvent{}, false
	}
	var chain [][2]string
	for i := len(l.members) - 1; i >= 0; i-- {
		chain = append(chain, [2]string{oldNode, l.members[i] + "_stop_0"})
	}
	for _, m := range l.members {
		chain = append(chain, [2]string{newNode, m + "_start_0"})
	}
	prev := trStart
	for _, c := range chain {
		e, ok := find(c[0], c[1])
		if !ok {
			return b
		}
		start := e.done.Add(-e.exec)
		b.steps = append(b.steps, step{name: c[1] + "@" + c[0], gap: start.Sub(prev), agent: e.exec})
		prev = e.done
	}
	b.toClient = t0.Add(o.firstNew).Sub(prev)
	b.complete = o.firstNew >= 0
	return b
}

// opEvents returns the first "transition started" after t0 and the
// operations completed after t0 (first of each node and op).
func (l *lab) opEvents(t0 time.Time) (time.Time, []opEvent) {
	var trStart time.Time
	var ops []opEvent
	seen := map[string]bool{}
	for _, n := range nodes {
		// A log that cannot be read has no events.
		_ = testbin.EachLine(l.logFile(n), func(line string) {
			kv := parseLogfmt(line)
			at, err := time.Parse(time.RFC3339Nano, kv["time"])
			if err != nil || at.Before(t0) {
				return
			}
			switch kv["msg"] {
			case "transition started":
				if trStart.IsZero() || at.Before(trStart) {
					trStart = at
				}
			case "operation complete":
				key := n + "/" + kv["op"]
				if seen[key] {
					return
				}
				seen[key] = true
				msec, _ := strconv.Atoi(kv["exec_ms"])
				ops = append(ops, opEvent{node: n, op: kv["op"], done: at, exec: time.Duration(msec) * time.Millisecond})
			}
		})
	}
	return trStart, ops
}

// parseLogfmt splits slog's text format into key=value pairs (values may
// be double-quoted with backslash escapes); the first of repeated keys
// wins.
var parseLogfmt = testbin.ParseLogfmt
