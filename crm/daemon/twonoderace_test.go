package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/membership"
)

// raceDriver steps a twoNodeRace with a fake clock.
type raceDriver struct {
	t     *testing.T
	r     *twoNodeRace
	now   time.Time
	delay time.Duration
	draws int
}

func newRaceDriver(t *testing.T) *raceDriver {
	return &raceDriver{t: t, r: newTwoNodeRace(time.Second, 2*time.Second), now: time.Unix(1000, 0), delay: 3 * time.Second}
}

func (d *raceDriver) step(o raceObs) raceVerdict {
	o.Now = d.now
	return d.r.Step(o, func() time.Duration { d.draws++; return d.delay })
}

func (d *raceDriver) advance(dt time.Duration) { d.now = d.now.Add(dt) }

var whole = raceObs{Enabled: true, LeaderKnown: true, SelfVoter: true, PeerVoter: true, PeerAlive: true}

func TestRaceWaitForAll(t *testing.T) {
	d := newRaceDriver(t)
	// A node started with a stale two-voter configuration and no leader
	// never races and starts nothing, however long it waits.
	stale := raceObs{Enabled: true, SelfVoter: true, PeerVoter: true, PeerAlive: true}
	for i := 0; i < 100; i++ {
		if v := d.step(stale); v != verdictNone {
			t.Fatalf("stale node: verdict %d", v)
		}
		d.advance(time.Second)
	}
	if d.r.StartAllowed(true) || d.r.Phase() != phaseWaitAll {
		t.Fatalf("stale node may start (phase %s)", d.r.Phase())
	}
	// Added as a non-voter: still waiting.
	d.step(raceObs{Enabled: true, LeaderKnown: true, PeerVoter: true, PeerAlive: true})
	if d.r.Phase() != phaseWaitAll {
		t.Fatalf("non-voter armed: %s", d.r.Phase())
	}
	d.step(whole)
	if d.r.Phase() != phaseArmed || !d.r.StartAllowed(true) {
		t.Fatalf("after hearing a leader that lists it: phase %s", d.r.Phase())
	}
	// With the mode off, starts are never blocked.
	if !newTwoNodeRace(time.Second, time.Second).StartAllowed(false) {
		t.Fatal("mode off blocks starts")
	}
}

func TestRaceLeaderLossWaitsDetection(t *testing.T) {
	d := newRaceDriver(t)
	d.step(whole)
	noLeader := whole
	noLeader.LeaderKnown = false
	for el := time.Duration(0); el < time.Second; el += 100 * time.Millisecond {
		if v := d.step(noLeader); v != verdictNone {
			t.Fatalf("verdict %d after only %s without a leader", v, el)
		}
		d.advance(100 * time.Millisecond)
	}
	if v := d.step(noLeader); v != verdictFreeze {
		t.Fatalf("no freeze after the detection time: %d", v)
	}
	if d.r.StartAllowed(true) || !d.r.Frozen() {
		t.Fatal("frozen node may start")
	}
	// The delay runs: no fence before it.
	d.advance(2900 * time.Millisecond)
	if v := d.step(noLeader); v != verdictNone {
		t.Fatalf("fenced before the race delay: %d", v)
	}
	d.advance(100 * time.Millisecond)
	if v := d.step(noLeader); v != verdictFence {
		t.Fatalf("no fence at the end of the race delay: %d", v)
	}
	// Only one fence at a time.
	if v := d.step(noLeader); v != verdictNone {
		t.Fatalf("second fence verdict while fencing: %d", v)
	}
	d.r.FenceDone(d.now, true)
	if d.r.Phase() != phaseRecovering || d.r.StartAllowed(true) {
		t.Fatalf("after a confirmed fence: %s", d.r.Phase())
	}
	d.r.Recovered(d.now, true)
	// Alone in a single-voter configuration: nothing to race for.
	alone := raceObs{Enabled: true, LeaderKnown: true, SelfVoter: true}
	for i := 0; i < 50; i++ {
		if v := d.step(alone); v != verdictNone {
			t.Fatalf("alone: verdict %d", v)
		}
		d.advance(time.Second)
	}
	if !d.r.StartAllowed(true) {
		t.Fatal("recovered node may not start")
	}
	// The peer is re-added: the next split races again, with a new draw.
	d.step(whole)
	lost := whole
	lost.PeerAlive = false
	if v := d.step(lost); v != verdictFreeze || d.draws != 2 {
		t.Fatalf("gossip death: verdict %d, draws %d", v, d.draws)
	}
}

func TestRaceThawAndRetry(t *testing.T) {
	d := newRaceDriver(t)
	d.step(whole)
	lost := whole
	lost.PeerAlive = false
	if v := d.step(lost); v != verdictFreeze {
		t.Fatalf("gossip death must freeze at once: %d", v)
	}
	d.advance(time.Second)
	// Contact back before the delay ends: thaw, nothing fenced.
	if v := d.step(whole); v != verdictThaw || d.r.Phase() != phaseArmed {
		t.Fatalf("thaw: verdict %d phase %s", v, d.r.Phase())
	}
	// Failed fence: frozen again, retried after the retry time.
	d.step(lost)
	d.advance(3 * time.Second)
	if v := d.step(lost); v != verdictFence {
		t.Fatalf("fence: %d", v)
	}
	d.r.FenceDone(d.now, false)
	if d.r.Phase() != phaseFrozen {
		t.Fatalf("after a failed fence: %s", d.r.Phase())
	}
	d.advance(1900 * time.Millisecond)
	if v := d.step(lost); v != verdictNone {
		t.Fatalf("retry too early: %d", v)
	}
	d.advance(100 * time.Millisecond)
	if v := d.step(lost); v != verdictFence {
		t.Fatalf("no retry: %d", v)
	}
	// A failed recovery also retries (fencing again is harmless).
	d.r.FenceDone(d.now, true)
	d.r.Recovered(d.now, false)
	if d.r.Phase() != phaseFrozen {
		t.Fatalf("after a failed recovery: %s", d.r.Phase())
	}
	// Mode switched off while frozen: thaw.
	off := lost
	off.Enabled = false
	if v := d.step(off); v != verdictThaw || !d.r.StartAllowed(false) {
		t.Fatalf("mode off while frozen: %d", v)
	}
}

func TestRaceDelay(t *testing.T) {
	fixed := func(v int64) func(int64) int64 {
		return func(n int64) int64 {
			if v >= n {
				t.Fatalf("random draw %d out of [0,%d)", v, n)
			}
			return v
		}
	}
	cases := []struct {
		name string
		in   raceDelayInput
		rnd  func(int64) int64
		want time.Duration
	}{
		{"base only", raceDelayInput{Self: "a", Target: "b", Base: 5 * time.Second}, nil, 5 * time.Second},
		{"random part", raceDelayInput{Self: "a", Target: "b", Base: time.Second, Max: 3 * time.Second}, fixed(int64(1500 * time.Millisecond)), 2500 * time.Millisecond},
		{"max below base", raceDelayInput{Self: "a", Target: "b", Base: 3 * time.Second, Max: time.Second}, fixed(0), 3 * time.Second},
		{"target more important", raceDelayInput{Self: "a", Target: "b", PriorityDelay: 10 * time.Second, SelfPriority: 1, TargetPriority: 5}, nil, 10 * time.Second},
		{"self more important", raceDelayInput{Self: "a", Target: "b", PriorityDelay: 10 * time.Second, SelfPriority: 5, TargetPriority: 1}, nil, 0},
		{"equal priorities", raceDelayInput{Self: "a", Target: "b", PriorityDelay: 10 * time.Second, SelfPriority: 3, TargetPriority: 3}, nil, 0},
	}
	for _, c := range cases {
		if got := raceDelay(c.in, c.rnd); got != c.want {
			t.Errorf("%s: delay %s, want %s", c.name, got, c.want)
		}
	}
	// Asymmetric per-target bases decide the race: the favoured node
	// fences first.
	a := raceDelay(raceDelayInput{Self: "n1", Target: "n2", Base: 0}, nil)
	b := raceDelay(raceDelayInput{Self: "n2", Target: "n1", Base: 3 * time.Second}, nil)
	if a >= b {
		t.Errorf("n1 (%s) does not fence before n2 (%s)", a, b)
	}
}

func TestTwoNodeDelayFromCIB(t *testing.T) {
	cur, err := cib.Parse([]byte(`<cib><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="two-node-mode" value="true"/></cluster_property_set></crm_config>
<nodes><node id="n1" uname="n1"/><node id="n2" uname="n2"><instance_attributes id="n2-a"><nvpair id="n2-a-1" name="two-node-fenced-at" value="1000"/></instance_attributes></node></nodes>
<resources><primitive id="f" class="stonith" type="sandbox"><instance_attributes id="f-i">
<nvpair id="f-i-1" name="pcmk_delay_base" value="n1:4s;n2:0s"/><nvpair id="f-i-2" name="pcmk_delay_max" value="1s"/></instance_attributes></primitive></resources>
<constraints/></configuration><status/></cib>`))
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{cfg: Config{Name: "n2"}}
	tn := newTwoNode(d)
	if p, refused := tn.pair(cur); p != "n1" || refused != "" {
		t.Fatalf("pair = %q, %q", p, refused)
	}
	if got := tn.delay(cur, "n1"); got != 4*time.Second {
		t.Errorf("n2's delay to fence n1 = %s, want 4s", got)
	}
	d.cfg.Name = "n1"
	for i := 0; i < 20; i++ {
		if got := tn.delay(cur, "n2"); got < 0 || got > time.Second {
			t.Errorf("n1's delay to fence n2 = %s, want within [0,1s]", got)
		}
	}
	// The device delays are stripped for the fence itself, without
	// touching the shared CIB.
	stripped := withoutDeviceDelays(cur)
	if p := firstPairs(stripped.Config.Resources[0].Instance); p["pcmk_delay_base"] != "" || p["pcmk_delay_max"] != "" {
		t.Errorf("delays not stripped: %v", p)
	}
	if p := firstPairs(cur.Config.Resources[0].Instance); p["pcmk_delay_base"] == "" {
		t.Error("stripping modified the original CIB")
	}
	// A third node or a missing device refuses the mode.
	d.cfg.Name = "n3"
	if p, refused := tn.pair(cur); p != "" || refused == "" {
		t.Errorf("a node outside the pair: pair %q refused %q", p, refused)
	}
	// The fenced node's stale process is hidden from the DC; a new
	// incarnation is not.
	if at := nodeAttrUint(cur, "n2", FencedAtAttr); at != 1000 {
		t.Fatalf("fenced-at = %d", at)
	}
	// Only the fence time is known: compared with the incarnation.
	members := func(inc uint64) []membership.Member {
		return []membership.Member{{Name: "n1", Meta: membership.Meta{Incarnation: 1}},
			{Name: "n2", Meta: membership.Meta{Incarnation: inc}}}
	}
	if got := visibleMembers(cur, members(999)); len(got) != 1 || got[0].Name != "n1" {
		t.Errorf("stale fenced incarnation visible: %v", got)
	}
	if got := visibleMembers(cur, members(1001)); len(got) != 2 {
		t.Errorf("restarted fenced node hidden: %v", got)
	}
	// With the fenced incarnation recorded, the fence time (another
	// node's clock) no longer matters.
	n2 := cur.Config.Nodes[1]
	n2.Instance[0].Pairs = append(n2.Instance[0].Pairs, &cib.NVPair{ID: "n2-a-2", Name: FencedIncarnationAttr, Value: "500"})
	if got := visibleMembers(cur, members(500)); len(got) != 1 {
		t.Errorf("the fenced incarnation itself is visible: %v", got)
	}
	if got := visibleMembers(cur, members(501)); len(got) != 2 {
		t.Errorf("a newer incarnation (started before the survivor's fence time) is hidden: %v", got)
	}
}

// Without a device covering both nodes, or with a third voter, the daemon
// refuses the mode (and logs why) instead of racing.
func TestTwoNodePairRefused(t *testing.T) {
	cur, err := cib.Parse([]byte(`<cib><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="two-node-mode" value="true"/></cluster_property_set></crm_config>
<nodes><node id="n1" uname="n1"/><node id="n2" uname="n2"/></nodes>
<resources><primitive id="f" class="stonith" type="fence_x"><instance_attributes id="f-i">
<nvpair id="f-i-1" name="pcmk_host_list" value="n1"/></instance_attributes></primitive></resources>
<constraints/></configuration><status/></cib>`))
	if err != nil {
		t.Fatal(err)
	}
	tn := newTwoNode(&Daemon{cfg: Config{Name: "n1"}})
	p, refused := tn.pair(cur)
	if p != "" || !strings.Contains(refused, "two-node-mode refused") || !strings.Contains(refused, "can fence n2") {
		t.Fatalf("pair = %q, refused %q", p, refused)
	}
	tn.d.cfg.Arbiter = true
	cur.Config.Resources[0].Instance[0].Pairs[0].Value = "n1 n2"
	if p, refused := tn.pair(cur); p != "" || !strings.Contains(refused, "arbiter") {
		t.Fatalf("arbiter: pair = %q, refused %q", p, refused)
	}
	if n := countVoters([]consensus.Server{{ID: "a", Voter: true}, {ID: "b"}, {ID: "c", Voter: true}}); n != 2 {
		t.Fatalf("countVoters = %d", n)
	}
}
