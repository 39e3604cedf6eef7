// Package invariant is the safety checker of the CTS fault campaign
// (test/cts): given what an out-of-band observer saw of a cluster — per node
// whether its crmd is powered, which resources really run there (state files,
// addresses in the node's network namespace), what its crmd says (DC, quorum,
// CIB digest, committed markers) — and the timeline of resource operations,
// fencing and crashes taken from the nodes' logs and the harness, it reports
// every violated invariant:
//
//   - active-once: every resource is active on exactly one powered node, or
//     on none with a reason shown in status (no quorum, a failed action,
//     an unclean node waiting for fencing, ...);
//   - no-quorum-run: nothing runs in a partition without quorum once the
//     quorum lease (plus the time to stop) has passed;
//   - fence-order: no resource is started on a node while another node that
//     ran it has neither stopped it nor been fenced or crashed;
//   - cib-identical: every reachable node of a quorate partition has the same
//     CIB;
//   - marker-lost: every committed configuration marker is present on every
//     reachable node of a quorate partition;
//   - one-dc: at most one DC per partition, and every reachable node of a
//     settled quorate partition names that one DC;
//   - vip-one-mac: an ARP request for the VIP is answered by at most one
//     MAC address, and once settled by exactly one (unless status gives a
//     reason for the VIP being stopped);
//   - http-holder: once settled, the members of the web group (VIP and web
//     server) run on one node and an HTTP request to the VIP is answered
//     by that node's web server (nobody answers when the group is stopped);
//   - spurious-op: during a fault that must not move anything (a clock
//     jump) no resource is started or stopped anywhere (CheckQuiet);
//   - failcount-kept: a fail-count whose failure-timeout is longer than a
//     clock jump survives the jump (checked by the campaign).
//
// The package is pure: no I/O and no clock; times come in with the input.
// All functions are safe for concurrent use (they share no state).
package invariant

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Invariant names (Violation.Invariant).
const (
	ActiveOnce    = "active-once"
	NoQuorumRun   = "no-quorum-run"
	FenceOrder    = "fence-order"
	CIBIdentical  = "cib-identical"
	MarkerLost    = "marker-lost"
	OneDC         = "one-dc"
	VIPOneMAC     = "vip-one-mac"
	HTTPHolder    = "http-holder"
	SpuriousOp    = "spurious-op"
	FailCountKept = "failcount-kept"
	NotSettled    = "not-settled"
	allInvariants = "active-once no-quorum-run fence-order cib-identical marker-lost one-dc vip-one-mac http-holder spurious-op failcount-kept not-settled"
)

// Violation is one broken invariant.
type Violation struct {
	Invariant string
	// Subject is the resource, node or partition concerned (used to
	// de-duplicate repeated reports of the same problem).
	Subject string
	At      time.Time
	Detail  string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s %s at %s: %s", v.Invariant, v.Subject, v.At.Format("15:04:05.000"), v.Detail)
}

// Key identifies a violation for de-duplication across snapshots (the
// time is not part of it: the same problem seen again is one violation).
func (v Violation) Key() string { return v.Invariant + "\x00" + v.Subject + "\x00" + v.Detail }

// NodeObs is what the observer saw of one node.
type NodeObs struct {
	Name string
	// Arbiter nodes vote but never run resources.
	Arbiter bool
	// Powered: the node's crmd process exists (running or frozen). A node
	// whose crmd is dead counts as powered off: whatever it ran is gone.
	Powered bool
	// Frozen: SIGSTOPped (powered but unreachable).
	Frozen bool
	// Reachable: its control socket answered.
	Reachable bool
	// Partition is the index of the node's partition (0 when the network
	// is whole).
	Partition int
	IsDC      bool
	// DC is the DC this node names ("" for none).
	DC      string
	Quorate bool
	// CIBDigest digests the node's whole CIB; ConfigDigest only its
	// configuration section ("" when not read).
	CIBDigest    string
	ConfigDigest string
	// Markers are the configuration markers present in the node's CIB.
	Markers []string
	// Active lists the resources really running here.
	Active []string
}

// Snapshot is one observation of the whole cluster.
type Snapshot struct {
	At    time.Time
	Nodes []NodeObs
	// Resources are the resources the checker expects to be placed.
	Resources []string
	// Voters is the number of raft voters (quorum is a strict majority).
	Voters int
	// PartitionSince is when the current partitioning began (zero when the
	// network is whole); Lease is the quorum lease and StopGrace the time a
	// minority is given to stop its resources after it.
	PartitionSince time.Time
	Lease          time.Duration
	StopGrace      time.Duration
	// StoppedReasons maps a resource to the reason status shows for it
	// not running ("" or absent: none shown).
	StoppedReasons map[string]string
	// Committed lists the markers whose commit succeeded.
	Committed []string
	// Settled: the harness waited for the cluster to settle. Only then are
	// the convergence checks made (a stopped resource needs a reason, every
	// node names the one DC, identical CIBs, committed markers present);
	// the safety checks (nothing active twice, no run without quorum, at
	// most one DC per partition, fence order) are made on every snapshot.
	// NotSettledReason, when not empty, reports that the cluster was
	// expected to settle but did not (a not-settled violation).
	Settled          bool
	NotSettledReason string
	// VIP names the VIP resource whose ARP answers were probed ("" = not
	// probed); VIPMACs are the distinct MACs that answered.
	VIP     string
	VIPMACs []string
	// WebGroup lists the members of the group serving HTTP on the VIP
	// (nil = not probed); HTTPNode is the node whose web server answered
	// an HTTP request to the VIP ("" = no answer; HTTPErr says why).
	WebGroup []string
	HTTPNode string
	HTTPErr  string
}

// partitionQuorate reports, per partition index, whether its voters form
// a strict majority of all voters.
func partitionQuorate(s Snapshot) map[int]bool {
	votes := map[int]int{}
	for _, n := range s.Nodes {
		votes[n.Partition]++
	}
	out := map[int]bool{}
	for p, v := range votes {
		out[p] = s.Voters > 0 && 2*v > s.Voters
	}
	return out
}

// CheckSnapshot checks the placement, quorum, CIB, marker and DC
// invariants on one snapshot.
func CheckSnapshot(s Snapshot) []Violation {
	var out []Violation
	add := func(inv, subj, format string, args ...any) {
		out = append(out, Violation{Invariant: inv, Subject: subj, At: s.At, Detail: fmt.Sprintf(format, args...)})
	}
	quorate := partitionQuorate(s)
	if !s.Settled && s.NotSettledReason != "" {
		add(NotSettled, "cluster", "did not settle: %s", s.NotSettledReason)
	}

	// active-once
	for _, r := range s.Resources {
		var on []string
		for _, n := range s.Nodes {
			if n.Powered && slices.Contains(n.Active, r) {
				on = append(on, n.Name)
			}
		}
		switch {
		case len(on) > 1:
			add(ActiveOnce, r, "active on %d nodes: %s", len(on), strings.Join(on, ", "))
		case len(on) == 0 && s.Settled && strings.TrimSpace(s.StoppedReasons[r]) == "":
			add(ActiveOnce, r, "active nowhere and status shows no reason")
		}
	}
	for _, n := range s.Nodes {
		if n.Powered && n.Arbiter && len(n.Active) > 0 {
			add(ActiveOnce, n.Name, "arbiter runs %s", strings.Join(n.Active, ", "))
		}
	}

	// vip-one-mac
	if s.VIP != "" {
		switch {
		case len(s.VIPMACs) > 1:
			add(VIPOneMAC, s.VIP, "ARP for the VIP answered by %d MACs: %s", len(s.VIPMACs), strings.Join(s.VIPMACs, ", "))
		case len(s.VIPMACs) == 0 && s.Settled && strings.TrimSpace(s.StoppedReasons[s.VIP]) == "":
			add(VIPOneMAC, s.VIP, "nobody answers ARP for the VIP")
		}
	}

	// http-holder
	if len(s.WebGroup) > 0 && s.Settled {
		checkHTTP(s, add)
	}

	// no-quorum-run
	if !s.PartitionSince.IsZero() && s.At.Sub(s.PartitionSince) > s.Lease+s.StopGrace {
		for _, n := range s.Nodes {
			if n.Powered && !quorate[n.Partition] && len(n.Active) > 0 {
				add(NoQuorumRun, n.Name, "runs %s %s after its partition lost quorum (lease %s + stop grace %s)",
					strings.Join(n.Active, ", "), s.At.Sub(s.PartitionSince).Round(time.Millisecond), s.Lease, s.StopGrace)
			}
		}
	}

	// Per partition: at most one DC; per quorate partition once settled: every
	// node names that DC, identical CIBs, markers present.
	parts := map[int][]NodeObs{}
	for _, n := range s.Nodes {
		parts[n.Partition] = append(parts[n.Partition], n)
	}
	pids := make([]int, 0, len(parts))
	for p := range parts {
		pids = append(pids, p)
	}
	sort.Ints(pids)
	for _, p := range pids {
		nodes := parts[p]
		subj := fmt.Sprintf("partition %d", p)
		var dcs []string
		for _, n := range nodes {
			if n.Reachable && n.IsDC {
				dcs = append(dcs, n.Name)
			}
		}
		if len(dcs) > 1 {
			add(OneDC, subj, "%d nodes act as DC: %s", len(dcs), strings.Join(dcs, ", "))
		}
		if !quorate[p] || !s.Settled {
			continue
		}
		{
			named := map[string][]string{}
			for _, n := range nodes {
				if n.Reachable {
					named[n.DC] = append(named[n.DC], n.Name)
				}
			}
			if len(named) > 1 || (len(named) == 1 && hasKey(named, "")) {
				add(OneDC, subj, "nodes disagree on the DC: %s", describe(named))
			}
		}
		digests := map[string][]string{}
		cfg := map[string][]string{}
		for _, n := range nodes {
			if n.Reachable && n.CIBDigest != "" {
				digests[n.CIBDigest] = append(digests[n.CIBDigest], n.Name)
				cfg[n.ConfigDigest] = append(cfg[n.ConfigDigest], n.Name)
			}
		}
		if len(digests) > 1 {
			what := "status sections differ"
			if len(cfg) > 1 {
				what = "configurations differ"
			}
			add(CIBIdentical, subj, "%s: %s", what, describe(digests))
		}
		for _, n := range nodes {
			if !n.Reachable || n.CIBDigest == "" {
				continue
			}
			var lost []string
			for _, m := range s.Committed {
				if !slices.Contains(n.Markers, m) {
					lost = append(lost, m)
				}
			}
			if len(lost) > 0 {
				add(MarkerLost, n.Name, "committed markers missing from its CIB: %s", strings.Join(lost, ", "))
			}
		}
	}
	return out
}

// checkHTTP checks, on a settled snapshot, that the web group runs on one
// node and that this node's web server answers HTTP on the VIP.
func checkHTTP(s Snapshot, add func(inv, subj, format string, args ...any)) {
	subj := strings.Join(s.WebGroup, "+")
	holders := map[string][]string{} // node -> group members active there
	for _, n := range s.Nodes {
		if !n.Powered {
			continue
		}
		for _, r := range s.WebGroup {
			if slices.Contains(n.Active, r) {
				holders[n.Name] = append(holders[n.Name], r)
			}
		}
	}
	switch {
	case len(holders) > 1:
		add(HTTPHolder, subj, "group members on several nodes: %s", describe(holders))
	case len(holders) == 0:
		if s.HTTPNode != "" {
			add(HTTPHolder, subj, "group runs nowhere but %s answers HTTP on the VIP", s.HTTPNode)
		}
	default:
		for h, rs := range holders {
			if len(rs) != len(s.WebGroup) {
				// A partly running group needs a reason, like a stopped
				// resource (a failed member).
				for _, r := range s.WebGroup {
					if !slices.Contains(rs, r) && strings.TrimSpace(s.StoppedReasons[r]) == "" {
						add(HTTPHolder, subj, "only %s runs on %s, %s nowhere without a reason", strings.Join(rs, ","), h, r)
					}
				}
				continue
			}
			if s.HTTPNode != h {
				who := s.HTTPNode
				if who == "" {
					who = "nobody (" + s.HTTPErr + ")"
				}
				add(HTTPHolder, subj, "the group runs on %s but HTTP on the VIP is answered by %s", h, who)
			}
		}
	}
}

func hasKey(m map[string][]string, k string) bool {
	_, ok := m[k]
	return ok
}

// describe renders value -> nodes groups deterministically.
func describe(m map[string][]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := k
		if v == "" {
			v = "(none)"
		} else if len(v) > 12 {
			v = v[:12]
		}
		parts = append(parts, fmt.Sprintf("%s on %s", v, strings.Join(m[k], ",")))
	}
	return strings.Join(parts, "; ")
}

// EventKind classifies timeline events.
type EventKind int

// Timeline event kinds.
const (
	// Started: a start (or promote) of Rsc succeeded on Node.
	Started EventKind = iota + 1
	// Found: a probe found Rsc running on Node (not a recovery).
	Found
	// Stopped: a stop of Rsc succeeded on Node, or a monitor found it
	// not running.
	Stopped
	// NodeDown: Node's crmd died (crash, harness kill or confirmed fence):
	// everything it ran is gone.
	NodeDown
)

func (k EventKind) String() string {
	switch k {
	case Started:
		return "started"
	case Found:
		return "found"
	case Stopped:
		return "stopped"
	case NodeDown:
		return "down"
	}
	return "unknown"
}

// Event is one entry of the timeline.
type Event struct {
	At   time.Time
	Kind EventKind
	Node string
	Rsc  string
	// Why says where the event comes from (log line, harness action).
	Why string
}

// Timeline tracks, per resource, the nodes that may run it, and checks the
// fence-order invariant as events are added in time order. Not safe for
// concurrent use.
type Timeline struct {
	holders map[string]map[string]time.Time // rsc -> node -> since
}

// NewTimeline returns an empty timeline.
func NewTimeline() *Timeline { return &Timeline{holders: map[string]map[string]time.Time{}} }

// Holders returns the nodes that may run rsc, sorted.
func (t *Timeline) Holders(rsc string) []string {
	var out []string
	for n := range t.holders[rsc] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Add applies events (sorted by time here, stable for equal times) and
// returns the fence-order violations they show: a start of a resource on a
// node while another node may still run it.
func (t *Timeline) Add(evs []Event) []Violation {
	evs = slices.Clone(evs)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	var out []Violation
	for _, e := range evs {
		switch e.Kind {
		case Started, Found:
			h := t.holders[e.Rsc]
			if h == nil {
				h = map[string]time.Time{}
				t.holders[e.Rsc] = h
			}
			if e.Kind == Started {
				var others []string
				for n, since := range h {
					if n != e.Node {
						others = append(others, fmt.Sprintf("%s (running it since %s)", n, since.Format("15:04:05.000")))
					}
				}
				sort.Strings(others)
				if len(others) > 0 {
					// The detail names the holders, not the start time, so
					// that repeated starts against the same stale holder
					// de-duplicate (Violation.Key).
					out = append(out, Violation{Invariant: FenceOrder, Subject: e.Rsc, At: e.At,
						Detail: fmt.Sprintf("started on %s while %s had neither stopped it nor been fenced",
							e.Node, strings.Join(others, ", "))})
				}
			}
			if _, ok := h[e.Node]; !ok {
				h[e.Node] = e.At
			}
		case Stopped:
			delete(t.holders[e.Rsc], e.Node)
		case NodeDown:
			for _, h := range t.holders {
				delete(h, e.Node)
			}
		}
	}
	return out
}

// CheckQuiet reports every start or stop of a resource in evs between
// from and to: during a fault that must leave the resources alone (a wall
// clock jump on one node) any such operation is spurious. why names the
// fault in the violations.
func CheckQuiet(evs []Event, from, to time.Time, why string) []Violation {
	var out []Violation
	for _, e := range evs {
		if e.At.Before(from) || e.At.After(to) || (e.Kind != Started && e.Kind != Stopped) {
			continue
		}
		out = append(out, Violation{Invariant: SpuriousOp, Subject: e.Rsc, At: e.At,
			Detail: fmt.Sprintf("%s %s on %s during %s", e.Kind, e.Rsc, e.Node, why)})
	}
	return out
}

// Known reports whether name is one of the invariants this package checks.
func Known(name string) bool {
	return slices.Contains(strings.Fields(allInvariants), name)
}
