package invariant

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func healthy() Snapshot {
	node := func(name string, active ...string) NodeObs {
		return NodeObs{Name: name, Powered: true, Reachable: true, DC: "n1", Quorate: true,
			CIBDigest: "aaaa", ConfigDigest: "cccc", Markers: []string{"m1"}, Active: active}
	}
	s := Snapshot{At: t0, Voters: 4, Resources: []string{"d1", "d2"}, Committed: []string{"m1"},
		Lease: 3 * time.Second, StopGrace: 2 * time.Second, Settled: true,
		Nodes: []NodeObs{node("n1", "d1"), node("n2", "d2"), node("n3"), node("a1")}}
	s.Nodes[0].IsDC = true
	s.Nodes[3].Arbiter = true
	return s
}

func only(t *testing.T, vs []Violation, inv string) []Violation {
	t.Helper()
	var out []Violation
	for _, v := range vs {
		if v.Invariant != inv {
			t.Errorf("unexpected violation %s", v)
			continue
		}
		out = append(out, v)
	}
	return out
}

func TestHealthyHasNoViolation(t *testing.T) {
	if vs := CheckSnapshot(healthy()); len(vs) != 0 {
		t.Fatalf("healthy snapshot: %v", vs)
	}
}

func TestActiveOnce(t *testing.T) {
	s := healthy()
	s.Nodes[2].Active = []string{"d1"}
	vs := only(t, CheckSnapshot(s), ActiveOnce)
	if len(vs) != 1 || vs[0].Subject != "d1" || !strings.Contains(vs[0].Detail, "n1, n3") {
		t.Fatalf("double-active d1: got %v", vs)
	}

	// A dead node's leftovers do not count: it is powered off.
	s = healthy()
	s.Nodes[2].Active = []string{"d1"}
	s.Nodes[2].Powered = false
	s.Nodes[2].Reachable = false
	if vs := CheckSnapshot(s); len(vs) != 0 {
		t.Fatalf("leftover on a dead node: %v", vs)
	}

	// A frozen node still runs what it ran.
	s = healthy()
	s.Nodes[2].Active = []string{"d2"}
	s.Nodes[2].Frozen = true
	s.Nodes[2].Reachable = false
	if vs := only(t, CheckSnapshot(s), ActiveOnce); len(vs) != 1 || vs[0].Subject != "d2" {
		t.Fatalf("frozen holder plus new holder: %v", vs)
	}

	// Stopped needs a reason once settled.
	s = healthy()
	s.Nodes[1].Active = nil
	if vs := only(t, CheckSnapshot(s), ActiveOnce); len(vs) != 1 || vs[0].Subject != "d2" {
		t.Fatalf("stopped without reason: %v", vs)
	}
	s.StoppedReasons = map[string]string{"d2": "no quorum"}
	if vs := CheckSnapshot(s); len(vs) != 0 {
		t.Fatalf("stopped with reason: %v", vs)
	}

	// The arbiter never runs anything.
	s = healthy()
	s.Nodes[3].Active = []string{"zz"}
	if vs := only(t, CheckSnapshot(s), ActiveOnce); len(vs) != 1 || vs[0].Subject != "a1" {
		t.Fatalf("arbiter running: %v", vs)
	}
}

func TestNotSettled(t *testing.T) {
	s := healthy()
	s.Settled, s.NotSettledReason = false, "d1 nowhere"
	s.Nodes[0].Active = nil
	vs := CheckSnapshot(s)
	if len(vs) != 1 || vs[0].Invariant != NotSettled || !strings.Contains(vs[0].Detail, "d1 nowhere") {
		t.Fatalf("unsettled: %v", vs)
	}
}

func TestNoQuorumRun(t *testing.T) {
	s := healthy()
	// n2 alone in partition 1: minority.
	s.Nodes[1].Partition = 1
	s.Nodes[1].Reachable = true
	s.Nodes[1].DC = ""
	s.PartitionSince = t0.Add(-4 * time.Second) // within lease+grace (5 s)
	if vs := CheckSnapshot(s); len(vs) != 0 {
		t.Fatalf("within the lease: %v", vs)
	}
	s.PartitionSince = t0.Add(-6 * time.Second)
	vs := only(t, CheckSnapshot(s), NoQuorumRun)
	if len(vs) != 1 || vs[0].Subject != "n2" || !strings.Contains(vs[0].Detail, "d2") {
		t.Fatalf("beyond the lease: %v", vs)
	}
	// A 2|2 split: nobody is quorate, so both sides must stop.
	s = healthy()
	s.Nodes[2].Partition, s.Nodes[3].Partition = 1, 1
	s.PartitionSince = t0.Add(-10 * time.Second)
	vs = only(t, CheckSnapshot(s), NoQuorumRun)
	if len(vs) != 2 {
		t.Fatalf("2|2 split, both sides running: %v", vs)
	}
}

func TestCIBAndMarkers(t *testing.T) {
	s := healthy()
	s.Nodes[2].CIBDigest = "bbbb"
	vs := only(t, CheckSnapshot(s), CIBIdentical)
	if len(vs) != 1 || !strings.Contains(vs[0].Detail, "status sections differ") {
		t.Fatalf("status differs: %v", vs)
	}
	s.Nodes[2].ConfigDigest = "dddd"
	vs = only(t, CheckSnapshot(s), CIBIdentical)
	if len(vs) != 1 || !strings.Contains(vs[0].Detail, "configurations differ") {
		t.Fatalf("config differs: %v", vs)
	}
	// Minority partitions may lag: not checked.
	s.Nodes[2].Partition = 1
	if vs := CheckSnapshot(s); len(vs) != 0 {
		t.Fatalf("minority lag: %v", vs)
	}

	s = healthy()
	s.Committed = []string{"m1", "m2"}
	for i := range s.Nodes {
		s.Nodes[i].Markers = []string{"m1", "m2"}
	}
	s.Nodes[1].Markers = []string{"m1"}
	vs = only(t, CheckSnapshot(s), MarkerLost)
	if len(vs) != 1 || vs[0].Subject != "n2" || !strings.Contains(vs[0].Detail, "m2") {
		t.Fatalf("lost marker: %v", vs)
	}
}

func TestOneDC(t *testing.T) {
	s := healthy()
	s.Nodes[1].IsDC = true
	if vs := only(t, CheckSnapshot(s), OneDC); len(vs) != 1 || !strings.Contains(vs[0].Detail, "n1, n2") {
		t.Fatalf("two DCs: %v", vs)
	}
	s = healthy()
	s.Nodes[2].DC = "n3"
	if vs := only(t, CheckSnapshot(s), OneDC); len(vs) != 1 || !strings.Contains(vs[0].Detail, "disagree") {
		t.Fatalf("disagreement: %v", vs)
	}
	// Two partitions with one DC each are fine.
	s = healthy()
	s.Nodes[2].Partition, s.Nodes[3].Partition = 1, 1
	s.Nodes[2].IsDC = true
	s.Nodes[2].DC, s.Nodes[3].DC = "n3", "n3"
	s.PartitionSince = t0
	if vs := CheckSnapshot(s); len(vs) != 0 {
		t.Fatalf("one DC per partition: %v", vs)
	}
}

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestTimelineFenceOrder(t *testing.T) {
	tl := NewTimeline()
	if vs := tl.Add([]Event{{At: at(0), Kind: Started, Node: "n1", Rsc: "d1"}}); len(vs) != 0 {
		t.Fatalf("first start: %v", vs)
	}
	// Fenced, then started elsewhere: fine (events given out of order).
	vs := tl.Add([]Event{
		{At: at(2000), Kind: Started, Node: "n2", Rsc: "d1"},
		{At: at(1500), Kind: NodeDown, Node: "n1"},
	})
	if len(vs) != 0 {
		t.Fatalf("fence then start: %v", vs)
	}
	if h := tl.Holders("d1"); len(h) != 1 || h[0] != "n2" {
		t.Fatalf("holders %v", h)
	}
	// Started on n3 while n2 still runs it (the planted bug).
	vs = tl.Add([]Event{
		{At: at(3000), Kind: Started, Node: "n3", Rsc: "d1"},
		{At: at(3500), Kind: NodeDown, Node: "n2"},
	})
	if len(vs) != 1 || vs[0].Invariant != FenceOrder || !strings.Contains(vs[0].Detail, "n2") {
		t.Fatalf("start before fence: %v", vs)
	}
	// A clean stop releases the resource; a probe that finds it is no
	// recovery.
	tl = NewTimeline()
	vs = tl.Add([]Event{
		{At: at(0), Kind: Started, Node: "n1", Rsc: "d1"},
		{At: at(10), Kind: Stopped, Node: "n1", Rsc: "d1"},
		{At: at(20), Kind: Started, Node: "n2", Rsc: "d1"},
		{At: at(30), Kind: Found, Node: "n3", Rsc: "d1"},
		{At: at(40), Kind: Started, Node: "n2", Rsc: "d1"}, // restart in place
	})
	if len(vs) != 1 || !strings.Contains(vs[0].Detail, "n3") {
		t.Fatalf("stop/start, probe found on n3 then re-start on n2: %v", vs)
	}
}

func TestKnown(t *testing.T) {
	for _, n := range []string{ActiveOnce, NoQuorumRun, FenceOrder, CIBIdentical, MarkerLost, OneDC, VIPOneMAC, NotSettled} {
		if !Known(n) {
			t.Errorf("%s not known", n)
		}
	}
	if Known("bogus") {
		t.Error("bogus known")
	}
}

func TestUnsettledChecksOnlySafety(t *testing.T) {
	s := healthy()
	s.Settled = false
	s.Nodes[1].Active = nil       // stopped without reason: not checked
	s.Nodes[2].CIBDigest = "bbbb" // lagging: not checked
	s.Nodes[2].DC = ""            // not checked
	s.Nodes[3].Markers = nil      // not checked
	if vs := CheckSnapshot(s); len(vs) != 0 {
		t.Fatalf("mid-fault snapshot: %v", vs)
	}
	s.Nodes[2].Active = []string{"d1"} // but double-active is
	if vs := only(t, CheckSnapshot(s), ActiveOnce); len(vs) != 1 {
		t.Fatalf("mid-fault double-active: %v", vs)
	}
}

func TestVIPOneMAC(t *testing.T) {
	s := healthy()
	s.VIP = "vip"
	s.VIPMACs = []string{"02:00:00:00:00:01"}
	if vs := CheckSnapshot(s); len(vs) != 0 {
		t.Fatalf("one MAC: %v", vs)
	}
	s.VIPMACs = append(s.VIPMACs, "02:00:00:00:00:02")
	if vs := only(t, CheckSnapshot(s), VIPOneMAC); len(vs) != 1 || !strings.Contains(vs[0].Detail, "2 MACs") {
		t.Fatalf("two MACs: %v", vs)
	}
	s.Settled = false // two MACs is a safety problem even mid-fault
	if vs := only(t, CheckSnapshot(s), VIPOneMAC); len(vs) != 1 {
		t.Fatalf("two MACs mid-fault: %v", vs)
	}
	s = healthy()
	s.VIP = "vip"
	if vs := only(t, CheckSnapshot(s), VIPOneMAC); len(vs) != 1 || !strings.Contains(vs[0].Detail, "nobody") {
		t.Fatalf("no answer once settled: %v", vs)
	}
	s.StoppedReasons = map[string]string{"vip": "failed vip_start_0 on n1"}
	if vs := CheckSnapshot(s); len(vs) != 0 {
		t.Fatalf("no answer, stopped with a reason: %v", vs)
	}
	s.StoppedReasons = nil
	s.Settled = false
	if vs := CheckSnapshot(s); len(vs) != 0 {
		t.Fatalf("no answer mid-fault: %v", vs)
	}
}

func TestHTTPHolder(t *testing.T) {
	web := func() Snapshot {
		s := healthy()
		s.Resources = append(s.Resources, "vip", "www")
		s.Nodes[1].Active = append(s.Nodes[1].Active, "vip", "www")
		s.WebGroup, s.HTTPNode = []string{"vip", "www"}, "n2"
		return s
	}
	if vs := CheckSnapshot(web()); len(vs) != 0 {
		t.Fatalf("healthy web group: %v", vs)
	}
	// Answered by another node's web server.
	s := web()
	s.HTTPNode = "n3"
	if vs := only(t, CheckSnapshot(s), HTTPHolder); len(vs) != 1 || !strings.Contains(vs[0].Detail, "answered by n3") {
		t.Fatalf("wrong answering node: %v", vs)
	}
	// Nobody answers.
	s = web()
	s.HTTPNode, s.HTTPErr = "", "connection refused"
	if vs := only(t, CheckSnapshot(s), HTTPHolder); len(vs) != 1 || !strings.Contains(vs[0].Detail, "connection refused") {
		t.Fatalf("no answer: %v", vs)
	}
	// The group split over two nodes (and www not active-once-broken).
	s = web()
	s.Nodes[1].Active = []string{"d2", "vip"}
	s.Nodes[2].Active = []string{"www"}
	if vs := only(t, CheckSnapshot(s), HTTPHolder); len(vs) != 1 || !strings.Contains(vs[0].Detail, "several nodes") {
		t.Fatalf("split group: %v", vs)
	}
	// A member stopped with a reason is fine; without one it is not.
	s = web()
	s.Nodes[1].Active = []string{"d2", "vip"}
	s.StoppedReasons = map[string]string{"www": "failed www_start_0 on n2"}
	if vs := CheckSnapshot(s); len(vs) != 0 {
		t.Fatalf("member stopped with a reason: %v", vs)
	}
	s.StoppedReasons = nil
	vs := CheckSnapshot(s)
	if len(vs) != 2 { // active-once (www nowhere) and http-holder
		t.Fatalf("member stopped without a reason: %v", vs)
	}
	// Not checked before the cluster settled.
	s = web()
	s.HTTPNode, s.Settled = "n3", false
	if vs := CheckSnapshot(s); len(vs) != 0 {
		t.Fatalf("unsettled snapshot: %v", vs)
	}
}

func TestCheckQuiet(t *testing.T) {
	evs := []Event{
		{At: t0.Add(-time.Second), Kind: Started, Node: "n1", Rsc: "d1"},
		{At: t0.Add(time.Second), Kind: Found, Node: "n1", Rsc: "d1"},
		{At: t0.Add(2 * time.Second), Kind: NodeDown, Node: "n2"},
		{At: t0.Add(3 * time.Second), Kind: Stopped, Node: "n2", Rsc: "d2"},
		{At: t0.Add(9 * time.Second), Kind: Started, Node: "n3", Rsc: "d3"},
	}
	vs := CheckQuiet(evs, t0, t0.Add(5*time.Second), "a clock jump")
	if len(vs) != 1 || vs[0].Invariant != SpuriousOp || vs[0].Subject != "d2" || !strings.Contains(vs[0].Detail, "stopped d2 on n2 during a clock jump") {
		t.Fatalf("got %v", vs)
	}
	if vs := CheckQuiet(evs[:3], t0, t0.Add(5*time.Second), "x"); len(vs) != 0 {
		t.Fatalf("probe and node death are not operations: %v", vs)
	}
}
