package cts

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/test/cts/invariant"
)

// faultKind is one kind of fault the campaign can inject. run injects it,
// makes the mid-fault checks, and may set f.Recovery/f.Settled (else the
// campaign measures recovery from the injection to the final settle).
type faultKind struct {
	name   string
	weight int
	netns  bool // needs network namespaces
	tmpfs  bool // needs tmpfs data directories
	run    func(ctx context.Context, c *campaign, f *FaultRecord)
}

// allKinds lists the fault kinds. netem is disabled where the kernel lacks
// sch_netem (loss then comes from iptables, kind loss; there is no delay).
var allKinds = []faultKind{
	{name: "kill-restart", weight: 2, run: faultKillRestart},
	{name: "kill-dc", weight: 2, run: faultKillDC},
	{name: "freeze-short", weight: 2, run: faultFreezeShort},
	{name: "freeze-long", weight: 2, run: faultFreezeLong},
	{name: "monitor-fail", weight: 3, run: faultMonitorFail},
	{name: "fence-fail", weight: 1, run: faultFenceFail},
	{name: "part-isolate", weight: 2, netns: true, run: faultIsolate},
	{name: "part-split", weight: 1, netns: true, run: faultSplit},
	{name: "part-asym", weight: 1, netns: true, run: faultAsym},
	{name: "netem", weight: 1, netns: true, run: faultNetem},
	{name: "loss", weight: 1, netns: true, run: faultLoss},
	{name: "clock-jump", weight: 1, run: faultClockJump},
	{name: "disk-full", weight: 1, tmpfs: true, run: faultDiskFull},
}

// KindNames lists every fault kind name.
func KindNames() []string {
	out := make([]string, len(allKinds))
	for i, k := range allKinds {
		out[i] = k.name
	}
	return out
}

// kinds returns the fault kinds this lab supports, restricted to
// cfg.Kinds when given.
func (c *campaign) kinds() []faultKind {
	var out []faultKind
	kinds := allKinds
	if c.cfg.TwoNode {
		kinds = twoNodeKinds
	}
	for _, k := range kinds {
		if k.netns && !c.lab.Netns() || k.tmpfs && !c.cfg.Tmpfs || k.name == "netem" && !c.lab.HasNetem() {
			continue
		}
		if len(c.cfg.Kinds) > 0 && !slices.Contains(c.cfg.Kinds, k.name) {
			continue
		}
		out = append(out, k)
	}
	return out
}

func pickKind(rng *rand.Rand, kinds []faultKind) faultKind {
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	x := rng.IntN(total)
	for _, k := range kinds {
		if x < k.weight {
			return k
		}
		x -= k.weight
	}
	return kinds[len(kinds)-1]
}

func (c *campaign) pick(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[c.rng.IntN(len(list))]
}

func (c *campaign) jitter(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(c.rng.Int64N(int64(hi-lo)+1))
}

// dc returns the DC named by the quorate nodes ("" if none).
func (c *campaign) dc(ctx context.Context) string {
	for _, n := range c.quorateGroup() {
		resp, err := c.apiCall(ctx, n, 2*time.Second, api.Request{Op: api.OpStatus})
		if err == nil && resp.Status.DC != "" {
			return resp.Status.DC
		}
	}
	return ""
}

// holder picks a random resource and returns it with the node it really
// runs on ("" when it runs on exactly one node nowhere).
func (c *campaign) holder() (rsc, node string) {
	rsc = c.pick(c.resources)
	var on []string
	for _, n := range c.lab.Names() {
		if slices.Contains(c.lab.Active(n, []string{rsc}), rsc) {
			on = append(on, n)
		}
	}
	if len(on) != 1 {
		return rsc, ""
	}
	return rsc, on[0]
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// midCheck checks the safety invariants while the fault is in place.
func (c *campaign) midCheck(ctx context.Context) { c.check(ctx, false, "") }

// settleAfter measures recovery from `from` and checks the settled state;
// reboot: see waitSettled (false: the survivors must settle on their own).
func (c *campaign) settleAfter(ctx context.Context, f *FaultRecord, from time.Time, reboot bool) {
	d, ok, why := c.waitSettled(ctx, from, c.cfg.SettleTimeout, reboot)
	f.Recovery, f.Settled = d, ok
	if ok {
		f.slow(d, why)
		why = ""
	}
	c.check(ctx, ok, why)
}

// slowAfter is the recovery time beyond which a fault's line says what the
// campaign waited for.
const slowAfter = 10 * time.Second

func (f *FaultRecord) slow(d time.Duration, waited string) {
	if d > slowAfter && waited != "" {
		f.Waited = waited
	}
}

// faultKillRestart SIGKILLs a random node and boots it again 0-2 s later.
func faultKillRestart(ctx context.Context, c *campaign, f *FaultRecord) {
	f.Target = c.pick(c.lab.Names())
	down := c.jitter(0, 2*time.Second)
	if err := c.lab.Kill(f.Target); err != nil {
		f.Detail = err.Error()
		return
	}
	sleep(ctx, down)
	if err := c.lab.Start(f.Target); err != nil {
		f.Detail = err.Error()
		return
	}
	f.Detail = fmt.Sprintf("down %.1fs", down.Seconds())
}

// faultKillDC SIGKILLs the DC; the survivors must take over (and fence
// it) before it is booted again.
func faultKillDC(ctx context.Context, c *campaign, f *FaultRecord) {
	f.Target = c.dc(ctx)
	if f.Target == "" {
		f.Detail = "no DC known; nothing done"
		return
	}
	t0 := time.Now()
	if err := c.lab.Kill(f.Target); err != nil {
		f.Detail = err.Error()
		return
	}
	c.settleAfter(ctx, f, t0, false)
	f.Detail = "survivors settled without it"
}

// faultFreezeShort SIGSTOPs a node for less than the failure detection
// time (or about it) and resumes it.
func faultFreezeShort(ctx context.Context, c *campaign, f *FaultRecord) {
	f.Target = c.pick(c.lab.Names())
	d := c.jitter(200*time.Millisecond, 900*time.Millisecond)
	if err := c.lab.Freeze(f.Target); err != nil {
		f.Detail = err.Error()
		return
	}
	sleep(ctx, d)
	fenced := !c.lab.Running(f.Target)
	_ = c.lab.Thaw(f.Target)
	f.Detail = fmt.Sprintf("frozen %.1fs", d.Seconds())
	if fenced {
		f.Detail += ", fenced meanwhile"
	}
}

// waitGone waits until a node's crmd is gone (fenced) or timeout.
func (c *campaign) waitGone(ctx context.Context, node string, timeout time.Duration) (time.Duration, bool) {
	t0 := time.Now()
	ch := c.lab.Exited(node)
	if ch == nil {
		return 0, true
	}
	select {
	case <-ch:
		return time.Since(t0), true
	case <-time.After(timeout):
	case <-ctx.Done():
	}
	return time.Since(t0), false
}

// faultFreezeLong SIGSTOPs the node running a resource until it is fenced;
// the resource must be recovered elsewhere only after that.
func faultFreezeLong(ctx context.Context, c *campaign, f *FaultRecord) {
	rsc, node := c.holder()
	if node == "" {
		node = c.pick(c.lab.Members())
	}
	f.Target = node
	t0 := time.Now()
	if err := c.lab.Freeze(node); err != nil {
		f.Detail = err.Error()
		return
	}
	d, gone := c.waitGone(ctx, node, c.cfg.SettleTimeout)
	if !gone {
		c.record([]invariant.Violation{{Invariant: invariant.NotSettled, Subject: node, At: time.Now(),
			Detail: fmt.Sprintf("frozen node not fenced within %s", c.cfg.SettleTimeout)}})
		f.Detail = "NOT fenced"
		return
	}
	c.settleAfter(ctx, f, t0, false)
	f.Detail = fmt.Sprintf("ran %s, fenced after %.1fs", rsc, d.Seconds())
}

// faultMonitorFail makes a resource's monitor fail where it runs (the
// Dummy's state file or the VIP address disappears); it must be recovered
// and its fail-count is cleaned up afterwards.
func faultMonitorFail(ctx context.Context, c *campaign, f *FaultRecord) {
	rsc, node := c.holder()
	if node == "" {
		f.Detail = rsc + " not running on exactly one node; nothing done"
		return
	}
	f.Target = node
	t0 := time.Now()
	if err := c.lab.RemoveState(node, rsc); err != nil {
		f.Detail = err.Error()
		return
	}
	c.settleAfter(ctx, f, t0, true)
	f.Detail = rsc + " failed"
	if g := c.quorateGroup(); len(g) > 0 {
		if _, err := c.lab.Crm(ctx, g[0], 15*time.Second, "resource", "cleanup", rsc); err != nil {
			f.Detail += "; cleanup: " + err.Error()
		}
	}
}

// faultFenceFail makes the fence device fail for a node, freezes that
// node for 4 s, checks that its resources are not recovered while fencing fails,
// then repairs the device: the node is fenced and the resources recovered.
func faultFenceFail(ctx context.Context, c *campaign, f *FaultRecord) {
	rsc, node := c.holder()
	if node == "" || node == c.lab.Arbiter() {
		node = c.pick(c.lab.Members())
	}
	f.Target = node
	via := ""
	for _, n := range c.quorateGroup() {
		if n != node {
			via = n
			break
		}
	}
	if _, err := c.lab.Crm(ctx, via, 15*time.Second, "resource", "param", "fence-sandbox", "set", "fail", node); err != nil {
		f.Detail = err.Error()
		return
	}
	// The parameter change restarts the device.
	if _, ok, why := c.waitSettled(ctx, time.Now(), c.cfg.SettleTimeout, false); !ok {
		f.Detail = "no settle after the device change: " + why
	}
	if err := c.lab.Freeze(node); err != nil {
		f.Detail = err.Error()
		return
	}
	sleep(ctx, 4*time.Second)
	fencedEarly := !c.lab.Running(node)
	c.midCheck(ctx)
	t1 := time.Now()
	var err error
	for _, n := range c.quorateGroup() {
		if _, err = c.lab.Crm(ctx, n, 15*time.Second, "resource", "param", "fence-sandbox", "delete", "fail"); err == nil {
			break
		}
	}
	if err != nil {
		f.Detail = "cannot repair the device: " + err.Error()
		return
	}
	_, gone := c.waitGone(ctx, node, c.cfg.SettleTimeout)
	d := time.Since(t1) // from the start of the repair (the commit takes a moment)
	if !gone {
		c.record([]invariant.Violation{{Invariant: invariant.NotSettled, Subject: node, At: time.Now(),
			Detail: "frozen node not fenced after the fence device was repaired"}})
	}
	c.settleAfter(ctx, f, t1, false)
	f.Detail = fmt.Sprintf("ran %s; fenced within %.1fs of the device repair", rsc, d.Seconds())
	if fencedEarly {
		f.Detail += "; FENCED WHILE THE DEVICE FAILED"
	}
}

// partition applies a symmetric partition into groups.
func (c *campaign) partition(groups [][]string) error {
	for i, g := range groups {
		for j, h := range groups {
			if i == j {
				continue
			}
			for _, a := range g {
				for _, b := range h {
					if err := c.lab.Block(a, b); err != nil {
						return err
					}
				}
			}
		}
	}
	c.setPartition(groups)
	return nil
}

// heal removes the network faults; recovery is measured from here.
func (c *campaign) heal(ctx context.Context, f *FaultRecord) {
	c.lab.Heal()
	c.clearPartition()
	t := time.Now()
	c.repairAll()
	c.settleAfter(ctx, f, t, true)
}

// waitLease waits until the quorum lease and the stop grace have passed
// since the partition began.
func (c *campaign) waitLease(ctx context.Context, extra time.Duration) {
	c.partMu.Lock()
	since := c.partSince
	c.partMu.Unlock()
	sleep(ctx, time.Until(since.Add(c.cfg.Lease+c.cfg.StopGrace+extra)))
}

// faultIsolate cuts one node off from all others (both ways).
func faultIsolate(ctx context.Context, c *campaign, f *FaultRecord) {
	f.Target = c.pick(c.lab.Names())
	var rest []string
	for _, n := range c.lab.Names() {
		if n != f.Target {
			rest = append(rest, n)
		}
	}
	if err := c.partition([][]string{rest, {f.Target}}); err != nil {
		f.Detail = err.Error()
		return
	}
	t0 := time.Now()
	_, ok, why := c.waitSettled(ctx, t0, c.cfg.SettleTimeout, false)
	c.waitLease(ctx, 500*time.Millisecond)
	if ok {
		// The convergence checks need a snapshot of a settled cluster:
		// settled again now, after the lease (the isolated node's
		// resources are stopped by now). A node fenced meanwhile boots
		// again, as a real one would (the isolated one stays cut off).
		_, ok, why = c.waitSettled(ctx, time.Now(), c.cfg.SettleTimeout, true)
	}
	if ok {
		why = ""
	}
	c.check(ctx, ok, why)
	f.Detail = "majority settled"
	if !c.lab.Running(f.Target) {
		f.Detail += ", isolated node fenced"
	}
	c.heal(ctx, f)
}

// faultSplit splits the cluster 2|2: no side has quorum, so everything
// must stop after the lease; then it heals.
func faultSplit(ctx context.Context, c *campaign, f *FaultRecord) {
	names := c.lab.Names()
	c.rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	groups := [][]string{{names[0], names[1]}, {names[2], names[3]}}
	slices.Sort(groups[0])
	slices.Sort(groups[1])
	f.Target = "all"
	if err := c.partition(groups); err != nil {
		f.Detail = err.Error()
		return
	}
	c.waitLease(ctx, 500*time.Millisecond)
	c.midCheck(ctx)
	f.Detail = fmt.Sprintf("%v|%v", groups[0], groups[1])
	c.heal(ctx, f)
}

// faultAsym makes one node deaf to another (one way) for a few seconds.
func faultAsym(ctx context.Context, c *campaign, f *FaultRecord) {
	names := c.lab.Names()
	a := c.pick(names)
	b := c.pick(slices.DeleteFunc(slices.Clone(names), func(s string) bool { return s == a }))
	f.Target = a
	if err := c.lab.Block(b, a); err != nil {
		f.Detail = err.Error()
		return
	}
	hold := c.jitter(2*time.Second, 5*time.Second)
	sleep(ctx, hold)
	c.midCheck(ctx)
	f.Detail = fmt.Sprintf("%s deaf to %s for %.1fs", a, b, hold.Seconds())
	c.heal(ctx, f)
}

// faultNetem adds packet loss and delay to one node for a few seconds.
func faultNetem(ctx context.Context, c *campaign, f *FaultRecord) {
	f.Target = c.pick(c.lab.Names())
	delay := c.jitter(20*time.Millisecond, 150*time.Millisecond).Round(time.Millisecond)
	loss := 5 + c.rng.IntN(30)
	if err := c.lab.Netem(f.Target, delay, loss); err != nil {
		f.Detail = err.Error()
		return
	}
	hold := c.jitter(3*time.Second, 6*time.Second)
	sleep(ctx, hold)
	c.midCheck(ctx)
	f.Detail = fmt.Sprintf("delay %s loss %d%% for %.1fs", delay, loss, hold.Seconds())
	c.heal(ctx, f)
}

// faultDiskFull fills the tmpfs under a node's data directory for a few
// seconds.
func faultDiskFull(ctx context.Context, c *campaign, f *FaultRecord) {
	f.Target = c.pick(c.lab.Names())
	if err := c.lab.FillDisk(f.Target); err != nil {
		f.Detail = err.Error()
		return
	}
	hold := c.jitter(2*time.Second, 5*time.Second)
	end := time.Now().Add(hold)
	// A configuration change while the disk is full: the node's raft log
	// cannot take it; once committed by the others it must not be lost.
	c.commitMarker(ctx)
	sleep(ctx, time.Until(end))
	c.midCheck(ctx)
	c.lab.FreeDisk(f.Target)
	f.Detail = fmt.Sprintf("full for %.1fs", hold.Seconds())
	if !c.lab.Running(f.Target) {
		f.Detail += ", crmd died"
	}
	t := time.Now()
	c.repairAll()
	c.settleAfter(ctx, f, t, true)
}

// faultLoss makes one node lose a random share of its packets (both
// directions) for a few seconds: iptables statistic rules, since this
// kernel may lack sch_netem (no delay then).
func faultLoss(ctx context.Context, c *campaign, f *FaultRecord) {
	f.Target = c.pick(c.lab.Names())
	loss := 10 + c.rng.IntN(41)
	if err := c.lab.Loss(f.Target, loss); err != nil {
		f.Detail = err.Error()
		return
	}
	hold := c.jitter(3*time.Second, 6*time.Second)
	sleep(ctx, hold)
	c.midCheck(ctx)
	f.Detail = fmt.Sprintf("loss %d%% for %.1fs", loss, hold.Seconds())
	if !c.lab.Running(f.Target) {
		f.Detail += ", fenced meanwhile"
	}
	c.heal(ctx, f)
}

// clockJumpFailureTimeout is the Dummies' failure-timeout: longer than
// the clock jump, so a jump must not expire their fail-counts.
const clockJumpFailureTimeout = "90min"

// faultClockJump moves one node's wall clock (crmd's, through the
// GOCRM_CTS_CLOCK_FILE hook; the host clock is untouched) an hour forward
// or backward for a few seconds, then puts it back. First a Dummy's
// monitor is made to fail (it is recovered in place, leaving a fail-count
// whose failure-timeout is longer than the jump). During the jump a marker
// is committed. Nothing may be started or stopped anywhere because of the
// jump, the CIB must stay identical everywhere and the fail-count must
// survive it (failure-timeout must not expire it); then it is cleaned up.
func faultClockJump(ctx context.Context, c *campaign, f *FaultRecord) {
	f.Target = c.pick(c.lab.Names())
	dc := c.dc(ctx)
	if c.rng.IntN(2) == 0 && dc != "" {
		f.Target = dc // the DC's clock drives the scheduler
	}
	off := time.Hour
	if c.rng.IntN(2) == 0 {
		off = -time.Hour
	}
	hold := c.jitter(3*time.Second, 6*time.Second)
	failed := ""
	if rsc, node := c.holder(); node != "" && strings.HasPrefix(rsc, "d") {
		if err := c.lab.RemoveState(node, rsc); err == nil {
			if _, ok, why := c.waitSettled(ctx, time.Now(), c.cfg.SettleTimeout, true); ok {
				failed = rsc
			} else {
				c.log.Warn("clock-jump: the failure before the jump did not settle", "rsc", rsc, "why", why)
			}
		}
	}
	t0 := time.Now()
	if err := c.lab.SetClockOffset(f.Target, off); err != nil {
		f.Detail = err.Error()
		return
	}
	// crmd re-reads the offset at most every 100 ms: commit once it has
	// (the DC schedules on the change, with its jumped clock).
	sleep(ctx, 300*time.Millisecond)
	c.commitMarker(ctx)
	sleep(ctx, time.Until(t0.Add(hold)))
	c.midCheck(ctx)
	t1 := time.Now()
	if err := c.lab.SetClockOffset(f.Target, 0); err != nil {
		f.Detail = err.Error()
		return
	}
	f.Detail = fmt.Sprintf("%+v for %.1fs", off, hold.Seconds())
	if f.Target == dc {
		f.Detail += " on the DC"
	}
	c.settleAfter(ctx, f, t1, true)
	// The operations are in the timeline once older than its watermark.
	end := time.Now()
	sleep(ctx, 1600*time.Millisecond)
	c.feedTimeline(false)
	c.record(invariant.CheckQuiet(c.ops, t0, end, fmt.Sprintf("a %+v clock jump on %s", off, f.Target)))
	if failed == "" {
		return
	}
	f.Detail += "; " + failed + " failed before"
	if g := c.quorateGroup(); len(g) > 0 {
		if resp, err := c.apiCall(ctx, g[0], 2*time.Second, api.Request{Op: api.OpGetCIB}); err == nil &&
			!strings.Contains(resp.CIB, `name="fail-count-`+failed+`#`) {
			c.record([]invariant.Violation{{Invariant: invariant.FailCountKept, Subject: failed, At: time.Now(),
				Detail: fmt.Sprintf("fail-count (failure-timeout %s) gone after a %+v clock jump on %s", clockJumpFailureTimeout, off, f.Target)}})
		}
		if _, err := c.lab.Crm(ctx, g[0], 15*time.Second, "resource", "cleanup", failed); err != nil {
			f.Detail += "; cleanup: " + err.Error()
		}
	}
}
