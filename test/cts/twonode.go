package cts

// The two-node-mode pair campaign (Config.TwoNode, `TOPO=twonode make cts`):
// two crmd (n1, n2) with two-node-mode=true and the sandbox fence device
// with the asymmetric delays crm/sandbox configures (n1 favoured). Losing
// the peer, each node keeps its resources, races to fence the peer and,
// once the fence is confirmed, continues alone as a single raft voter; the
// fenced node is booted again and must rejoin (wait-for-all) before the
// next fault. Faults: kill, freeze (short and until fenced) and a 1|1
// partition. The safety checks are those of the main campaign except
// no-quorum-run: a lone node legitimately keeps running in two-node-mode
// while it races, so "never both" is checked by active-once (sampled every
// 200 ms) and fence-order instead.

import (
	"context"
	"fmt"
	"time"

	"github.com/gocrm/gocrm/test/cts/invariant"
)

// twoNodeKinds are the fault kinds of the pair campaign.
var twoNodeKinds = []faultKind{
	{name: "tn-kill", weight: 3, run: faultTwoNodeKill},
	{name: "tn-freeze-short", weight: 2, run: faultFreezeShort},
	{name: "tn-freeze-long", weight: 2, run: faultTwoNodeFreezeLong},
	{name: "tn-partition", weight: 3, netns: true, run: faultTwoNodePartition},
}

// TwoNodeKindNames lists the fault kinds of the two-node pair campaign.
func TwoNodeKindNames() []string {
	out := make([]string, len(twoNodeKinds))
	for i, k := range twoNodeKinds {
		out[i] = k.name
	}
	return out
}

// twoNodeGroup is the pair's "quorate" group: both nodes when both run
// unfrozen in one partition; the survivor alone once its peer is powered
// off (fenced or killed); nil otherwise (a race is still on).
func (c *campaign) twoNodeGroup() []string {
	names := c.lab.Names()
	var live []string
	for _, n := range names {
		if c.lab.Running(n) && !c.lab.Frozen(n) {
			live = append(live, n)
		}
	}
	switch len(live) {
	case 2:
		if c.partitionOf(live[0]) == c.partitionOf(live[1]) {
			return live
		}
	case 1:
		for _, n := range names {
			if n != live[0] && c.lab.Running(n) {
				return nil // the peer is powered: frozen or cut off
			}
		}
		return live
	}
	return nil
}

// twoNodeConfigPrefix is the pair's fence device (as crm sandbox up
// --two-node-mode configures it; two-node-mode=true is in baseConfig's
// property statement).
func (c *campaign) twoNodeConfigPrefix() string {
	names := c.lab.Names()
	return fmt.Sprintf("primitive fence-sandbox stonith:sandbox params pcmk_delay_base=\"%s:3s;%s:0s\" pcmk_delay_max=1s op monitor interval=60s\n",
		names[0], names[1]) // the properties: baseConfig
}

// survivorSettles waits until the node other than gone runs alone and has
// settled (its peer fenced or dead), measuring from t0.
func (c *campaign) survivorSettles(ctx context.Context, f *FaultRecord, gone string, t0 time.Time) {
	if _, ok := c.waitGone(ctx, gone, c.cfg.SettleTimeout); !ok {
		c.record(notSettled(gone, fmt.Sprintf("%s not fenced within %s", gone, c.cfg.SettleTimeout)))
		return
	}
	c.settleAfter(ctx, f, t0, false)
}

// faultTwoNodeKill SIGKILLs one node: the survivor must fence it (a no-op
// on a dead node) and take everything over; then the node is booted and
// must rejoin (the campaign's repair step).
func faultTwoNodeKill(ctx context.Context, c *campaign, f *FaultRecord) {
	f.Target = c.pick(c.lab.Names())
	t0 := time.Now()
	if err := c.lab.Kill(f.Target); err != nil {
		f.Detail = err.Error()
		return
	}
	c.settleAfter(ctx, f, t0, false)
	f.Detail = "survivor settled alone"
}

// faultTwoNodeFreezeLong SIGSTOPs the node holding a resource until its
// peer fences it.
func faultTwoNodeFreezeLong(ctx context.Context, c *campaign, f *FaultRecord) {
	rsc, node := c.holder()
	if node == "" {
		node = c.pick(c.lab.Names())
	}
	f.Target = node
	t0 := time.Now()
	if err := c.lab.Freeze(node); err != nil {
		f.Detail = err.Error()
		return
	}
	c.survivorSettles(ctx, f, node, t0)
	f.Detail = fmt.Sprintf("ran %s; fenced by its peer", rsc)
}

// faultTwoNodePartition cuts the pair 1|1: both freeze and race, exactly
// one fences the other and continues alone; the network is healed and the
// loser booted again.
func faultTwoNodePartition(ctx context.Context, c *campaign, f *FaultRecord) {
	names := c.lab.Names()
	if err := c.partition([][]string{{names[0]}, {names[1]}}); err != nil {
		f.Detail = err.Error()
		return
	}
	f.Target = "all"
	t0 := time.Now()
	// One of them must be fenced by the other.
	deadline := t0.Add(c.cfg.SettleTimeout)
	loser := ""
	for loser == "" && time.Now().Before(deadline) && ctx.Err() == nil {
		for _, n := range names {
			if !c.lab.Running(n) {
				loser = n
			}
		}
		sleep(ctx, 100*time.Millisecond)
	}
	c.midCheck(ctx)
	if loser == "" {
		c.record(notSettled("all", fmt.Sprintf("neither node fenced the other within %s of the partition", c.cfg.SettleTimeout)))
		f.Detail = "NO FENCE"
		c.heal(ctx, f)
		return
	}
	c.settleAfter(ctx, f, t0, false)
	f.Detail = fmt.Sprintf("%s lost the fence race after %.1fs", loser, time.Since(t0).Seconds())
	// The winner is alone: heal and boot the loser (the repair step).
	c.lab.Heal()
	c.clearPartition()
}

// notSettled is a not-settled violation about subject.
func notSettled(subject, detail string) []invariant.Violation {
	return []invariant.Violation{{Invariant: invariant.NotSettled, Subject: subject, At: time.Now(), Detail: detail}}
}
