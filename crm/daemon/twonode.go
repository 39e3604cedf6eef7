package daemon

// Two-node-mode (design D2 in cluster-design.md §6.3).
//
// Both nodes of a pair are raft voters, so neither can commit alone. With the
// cluster option two-node-mode=true (refused unless each node can be fenced:
// cib.CheckTwoNodeMode, checked at commit time and again here) a node that
// loses its peer (gossip says dead, or no raft leader for longer than the
// failure-detection time):
//
//  1. freezes: keeps its resources (the local no-quorum-policy is not
//     applied) and starts nothing;
//  2. races to fence the peer after a delay: pcmk_delay_base for the target,
//     a random part up to pcmk_delay_max, plus priority-fencing-delay when
//     the target runs the more important resources (twonoderace.go);
//  3. only after a CONFIRMED fence forces raft to a single-voter
//     configuration in-process (consensus.Node.ForceSingleVoter), with the
//     fence recorded in the same step: the peer's status cleared (cleanly
//     down, so the DC recovers its resources without fencing it again) and
//     the node attributes two-node-fenced-at (when) and
//     two-node-fenced-incarnation (which crmd process) set in <nodes>.
//
// The fenced node comes back with wait-for-all semantics: it refuses to start
// anything and never races until it hears a leader whose two-voter
// configuration lists it. Its stale configuration cannot win an election (the
// survivor rejects votes from non-members). The DC sees a fenced node in
// membership only once its incarnation (its process start time) is newer than
// the fenced one (dcMembers), and then re-adds it as a voter through the
// usual reconciliation (AddServer: non-voter, caught up, voter).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/crm/scheduler"
	"github.com/gocrm/gocrm/membership"
	"github.com/gocrm/gocrm/stonith/fsm"
)

// Node attributes (in <nodes>) recording a fence by two-node-mode: when
// (the survivor's clock, Unix nanoseconds) and which incarnation of the
// fenced node's crmd (its gossip incarnation: its own start time) was
// fenced. The DC ignores that node until a newer incarnation appears.
const (
	FencedAtAttr          = "two-node-fenced-at"
	FencedIncarnationAttr = "two-node-fenced-incarnation"
)

// twoNodeTick is how often the two-node loop observes the cluster.
const twoNodeTick = 100 * time.Millisecond

// twoNode runs two-node-mode for one daemon. Its loop goroutine owns race;
// the accessors (startAllowed, frozen) are safe for concurrent use.
type twoNode struct {
	d    *Daemon
	race *twoNodeRace
	rnd  *rand.Rand

	mu      sync.Mutex
	enabled bool
	allowed bool // starts allowed (race.StartAllowed)
	refused string
}

func newTwoNode(d *Daemon) *twoNode {
	detect := d.cfg.FailureDetection
	if detect <= 0 {
		detect = membership.DefaultFailureDetection
	}
	return &twoNode{d: d, race: newTwoNodeRace(detect, 2*time.Second),
		rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x2b0de)), allowed: true}
}

// startAllowed reports whether this node may start resources now.
func (t *twoNode) startAllowed() bool {
	if t == nil {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.allowed
}

// active reports whether two-node-mode is on and accepted: on quorum loss
// the node freezes instead of applying no-quorum-policy.
func (t *twoNode) active() bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.enabled
}

// pair returns this node's peer when two-node-mode is on and valid for
// this node, else "" and (when set but refused) the reason.
func (t *twoNode) pair(cur *cib.CIB) (peer string, refused string) {
	if !cib.TwoNodeMode(&cur.Config) {
		return "", ""
	}
	if err := cib.CheckTwoNodeMode(&cur.Config); err != nil {
		return "", err.Error()
	}
	if t.d.cfg.Arbiter {
		return "", fmt.Sprintf("%s: node %s is an arbiter", cib.ErrTwoNodeMode, t.d.cfg.Name)
	}
	nodes := cib.TwoNodeNodes(&cur.Config)
	if !slices.Contains(nodes, t.d.cfg.Name) {
		return "", fmt.Sprintf("%s: this node (%s) is not one of the two nodes %v", cib.ErrTwoNodeMode, t.d.cfg.Name, nodes)
	}
	for _, n := range nodes {
		if n != t.d.cfg.Name {
			return n, ""
		}
	}
	return "", ""
}

// run is the two-node loop (owned by the daemon; ends with ctx).
func (t *twoNode) run(ctx context.Context) {
	d := t.d
	log := d.log.With("component", "two-node")
	tick := time.NewTicker(twoNodeTick)
	defer tick.Stop()
	type fenceResult struct {
		peer string
		inc  uint64 // the peer's incarnation when the race started
		err  error
	}
	results := make(chan fenceResult, 1)
	var fenceWG sync.WaitGroup
	defer fenceWG.Wait()
	fencing := false
	peer := ""
	var peerInc uint64 // last incarnation of the peer seen alive
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case res := <-results:
			fencing = false
			now := time.Now()
			if res.err != nil {
				log.Error("two-node: fencing the peer failed; staying frozen and retrying", "peer", res.peer, "err", res.err)
				t.race.FenceDone(now, false)
				break
			}
			t.race.FenceDone(now, true)
			log.Warn("two-node: peer fenced (confirmed); forcing a single-voter raft configuration", "peer", res.peer)
			t.setAllowed(true) // the DC of the new term must be able to start here
			err := t.recover(ctx, res.peer, now, res.inc)
			t.race.Recovered(time.Now(), err == nil)
			if err != nil {
				log.Error("two-node: recovery failed; retrying", "peer", res.peer, "err", err)
			} else {
				log.Warn("two-node: recovered as the only voter", "fenced", res.peer, "took", time.Since(now).Round(time.Millisecond))
			}
		}
		cur := d.store.Current()
		p, refused := t.pair(cur)
		servers, serr := d.raft.Servers()
		if voters := countVoters(servers); p != "" && serr == nil && voters > 2 {
			// An arbiter (or any third voter) keeps quorum: forcing a
			// single voter would throw it away.
			p, refused = "", fmt.Sprintf("%s: the raft configuration has %d voters (two-node-mode is for exactly two; use the arbiter's quorum instead)", cib.ErrTwoNodeMode, voters)
		}
		t.mu.Lock()
		if refused != "" && refused != t.refused {
			log.Error("two-node-mode refused; running with plain raft quorum", "reason", refused)
		}
		t.refused = refused
		t.enabled = p != ""
		t.mu.Unlock()
		if p != "" {
			peer = p
		}
		obs := raceObs{Now: time.Now(), Enabled: p != ""}
		if id, _ := d.raft.Leader(); id != "" {
			obs.LeaderKnown = true
		}
		if serr == nil {
			for _, s := range servers {
				obs.SelfVoter = obs.SelfVoter || (s.ID == d.cfg.Name && s.Voter)
				obs.PeerVoter = obs.PeerVoter || (s.ID == peer && s.Voter)
			}
		}
		for _, m := range d.ml.Members() {
			if m.Name == peer {
				obs.PeerAlive = true
				peerInc = m.Meta.Incarnation
			}
		}
		before := t.race.Phase()
		v := t.race.Step(obs, func() time.Duration { return t.delay(cur, peer) })
		switch v {
		case verdictFreeze:
			log.Warn("two-node: peer lost; freezing resources and racing to fence it",
				"peer", peer, "peer_alive", obs.PeerAlive, "leader_known", obs.LeaderKnown, "race_delay", t.race.lastDelay)
		case verdictThaw:
			log.Info("two-node: contact with the peer is back before any fencing; thawing", "peer", peer)
		case verdictFence:
			if !fencing {
				fencing = true
				fenceWG.Add(1)
				target, snapshot, inc := peer, cur, peerInc
				go func() {
					defer fenceWG.Done()
					err := t.fence(ctx, snapshot, target)
					select {
					case results <- fenceResult{peer: target, inc: inc, err: err}:
					case <-ctx.Done():
					}
				}()
			}
		}
		if after := t.race.Phase(); after != before {
			log.Info("two-node phase", "from", before.String(), "to", after.String())
		}
		t.mu.Lock()
		t.allowed = t.race.StartAllowed(obs.Enabled)
		t.mu.Unlock()
	}
}

func countVoters(servers []consensus.Server) int {
	n := 0
	for _, s := range servers {
		if s.Voter {
			n++
		}
	}
	return n
}

func (t *twoNode) setAllowed(v bool) {
	t.mu.Lock()
	t.allowed = v
	t.mu.Unlock()
}

// delay computes the race delay towards peer from the configuration and the
// resources each node runs (for priority-fencing-delay).
func (t *twoNode) delay(cur *cib.CIB, peer string) time.Duration {
	in := raceDelayInput{Self: t.d.cfg.Name, Target: peer}
	var prims []*cib.Resource
	stonithPrimitives(cur.Config.Resources, &prims)
	for _, r := range prims {
		if !cib.DeviceCovers(r, peer) {
			continue
		}
		p := firstPairs(r.Instance)
		if db, err := fsm.ParseDelayBase(p["pcmk_delay_base"]); err == nil {
			in.Base = db.For(peer)
		}
		if v := p["pcmk_delay_max"]; v != "" {
			if dm, err := fsm.ParseDuration(v); err == nil {
				in.Max = dm
			}
		}
		break
	}
	props := map[string]string{}
	for _, s := range cur.Config.CRMConfig {
		for _, p := range s.Pairs {
			if _, ok := props[p.Name]; !ok {
				props[p.Name] = p.Value
			}
		}
	}
	if opts, err := fsm.ParseOptions(props); err == nil {
		in.PriorityDelay = opts.PriorityFencingDelay
	}
	if in.PriorityDelay > 0 {
		if cl, err := scheduler.Unpack(cur, t.d.now()); err == nil {
			for _, n := range cl.Nodes {
				sum := 0
				for _, r := range n.Running {
					sum += r.Priority
				}
				switch n.Name {
				case in.Self:
					in.SelfPriority = sum
				case in.Target:
					in.TargetPriority = sum
				}
			}
		}
	}
	return raceDelay(in, t.rnd.Int64N)
}

// fence fences peer through the configured devices, without their own
// delays (the race delay was already waited). nil means confirmed.
func (t *twoNode) fence(ctx context.Context, cur *cib.CIB, peer string) error {
	f := t.d.fencer()
	if f == nil {
		return fmt.Errorf("two-node: fence %s: no fencing executor", peer)
	}
	action := crmOption(cur, "stonith-action")
	if action == "" {
		action = "reboot"
	}
	timeout := 2 * time.Minute
	if v := crmOption(cur, "stonith-timeout"); v != "" {
		if d, err := fsm.ParseDuration(v); err == nil && d > 0 {
			timeout = 2*d + 10*time.Second
		}
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t.d.log.Warn("two-node: fencing the peer", "target", peer, "action", action)
	return f.Fence(fctx, withoutDeviceDelays(cur), peer, action, []string{t.d.cfg.Name})
}

// withoutDeviceDelays returns a copy of cur whose stonith primitives carry
// no pcmk_delay_base/pcmk_delay_max (cur itself is not modified).
func withoutDeviceDelays(cur *cib.CIB) *cib.CIB {
	next := *cur
	var strip func(rs []*cib.Resource) []*cib.Resource
	strip = func(rs []*cib.Resource) []*cib.Resource {
		out := make([]*cib.Resource, len(rs))
		for i, r := range rs {
			c := *r
			c.Children = strip(r.Children)
			if r.Class == "stonith" {
				c.Instance = nil
				for _, s := range r.Instance {
					sc := *s
					sc.Pairs = slices.DeleteFunc(slices.Clone(s.Pairs), func(p *cib.NVPair) bool {
						return p.Name == "pcmk_delay_base" || p.Name == "pcmk_delay_max"
					})
					c.Instance = append(c.Instance, &sc)
				}
			}
			out[i] = &c
		}
		return out
	}
	next.Config.Resources = strip(cur.Config.Resources)
	return &next
}

// recover forces the single-voter configuration, recording the fence of
// peer (incarnation inc, 0 if never seen, fenced at at) in the same step.
func (t *twoNode) recover(ctx context.Context, peer string, at time.Time, inc uint64) error {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	records := [][]byte{
		store.Command{Op: store.OpClearNodeStatus, Node: peer}.Encode(),
		store.Command{Op: store.OpSetNodeAttr, Node: peer, Name: FencedAtAttr, Value: strconv.FormatInt(at.UnixNano(), 10)}.Encode(),
		store.Command{Op: store.OpSetNodeAttr, Node: peer, Name: FencedIncarnationAttr, Value: strconv.FormatUint(inc, 10)}.Encode(),
	}
	if err := t.d.raft.ForceSingleVoter(rctx, store.New(nil), records); err != nil {
		return fmt.Errorf("two-node: recover without %s: %w", peer, err)
	}
	return nil
}

// dcMembers is the membership view given to the DC: a node that
// two-node-mode fenced is hidden until it comes back as a new process
// (incarnation newer than the fenced one), so that a stale process can never
// be re-added as a voter or given resources.
type dcMembers struct{ d *Daemon }

// Members implements dc.Members.
func (m dcMembers) Members() []membership.Member {
	return visibleMembers(m.d.store.Current(), m.d.ml.Members())
}

// visibleMembers drops the members that two-node-mode fenced and that did
// not restart since (all is modified). Incarnations are compared with the
// fenced incarnation, both from the fenced node's own clock; only when that
// is unknown, with the fence time (then clock skew between the two nodes
// matters).
func visibleMembers(cur *cib.CIB, all []membership.Member) []membership.Member {
	return slices.DeleteFunc(all, func(mb membership.Member) bool {
		if inc := nodeAttrUint(cur, mb.Name, FencedIncarnationAttr); inc > 0 {
			return mb.Meta.Incarnation <= inc
		}
		at := nodeAttrUint(cur, mb.Name, FencedAtAttr)
		return at > 0 && mb.Meta.Incarnation <= at
	})
}

// nodeAttrUint returns a numeric attribute of node in <nodes> (0 if none).
func nodeAttrUint(cur *cib.CIB, node, name string) uint64 {
	for _, n := range cur.Config.Nodes {
		if n.Uname != node && !(n.Uname == "" && n.ID == node) {
			continue
		}
		if v := firstPairs(n.Instance)[name]; v != "" {
			if x, err := strconv.ParseUint(v, 10, 64); err == nil {
				return x
			}
		}
	}
	return 0
}
