// Package cts is gocrm's Cluster Test Suite: a seeded, randomized fault
// campaign against a real cluster of crmd processes (3 nodes and an
// arbiter, or a two-node-mode pair: twonode.go) with an out-of-band
// invariant checker (package test/cts/invariant) run after every fault has
// settled.
//
// The lab (Lab) runs each crmd in its own network namespace on a bridge in
// 10.99.0.0/24 when root (partitions are "from PEER blackhole" ip rules in
// the receiving namespace, packet loss iptables statistic rules, delay tc
// netem only when the kernel has sch_netem, data directories small tmpfs
// mounts), else all on 127.0.0.1 with only the process, resource and clock
// faults. Its directory is a crm/sandbox directory, so the crmds'
// stonith:sandbox device fences a node by SIGKILLing its crmd. A killed or
// fenced node counts as powered off (what runs in its namespace is killed
// too); it is rebooted (volatile resource state wiped, crmd started) by the
// campaign's repair step. Clock jumps move one crmd's wall clock through a
// test-only hook (crm/daemon/ctsclock.go), never the host's.
//
// Resources: three ocf:gocrm:Dummy (d1..d3; two for the pair), and in
// netns mode the group web = ocf:gocrm:IPaddr2 "vip" + ocf:gocrm:httpd
// "www" (test/cts/cmd/ctshttpd, when Config.HTTPD is set), and the
// fence-sandbox device. Observation is out of band: Dummy state files, the
// VIP among the node namespace's local addresses and the MACs answering
// ARP for it on the bridge, the web server's process and which node
// answers HTTP on the VIP, crmd liveness, plus each crmd's status and CIB
// over its control socket and the resource operations and fencing in the
// nodes' logs.
//
// Concurrency: a campaign is driven by Run on one goroutine; Run owns the
// sampler goroutine and stops it before returning.
package cts

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gocrm/gocrm/test/cts/invariant"
)

// Config configures a campaign.
type Config struct {
	Seed   uint64
	Faults int
	// CRMD and CRM are the binaries under test.
	CRMD, CRM string
	// Dir is where the lab directory is created (a temporary directory
	// when empty).
	Dir string
	// Netns and Tmpfs: see LabConfig (both need root).
	Netns, Tmpfs bool
	// Plant is the planted bug (GOCRM_CTS_PLANT) for the checker's own
	// test; "" for none.
	Plant string
	// Kinds restricts the fault kinds (nil = every kind the lab supports).
	Kinds []string
	// Lease is crmd's --quorum-lease; StopGrace the time a minority gets
	// beyond the lease to notice it lost its leader and stop its
	// resources (default 5 s).
	Lease, StopGrace time.Duration
	// SettleTimeout bounds every wait for the cluster to settle.
	SettleTimeout time.Duration
	// Budget bounds the whole campaign (faults not started by then are
	// skipped and reported).
	Budget time.Duration
	// KeepLogs, when set, receives a copy of the node logs if any
	// violation was found.
	KeepLogs string
	// HTTPD is the campaign's web server binary (test/cts/cmd/ctshttpd);
	// in netns mode it runs as ocf:gocrm:httpd "www" grouped with the VIP
	// ("" = no web group).
	HTTPD string
	// TwoNode runs the two-node-mode pair campaign (twonode.go) instead
	// of three nodes and an arbiter.
	TwoNode bool
	// Out receives the per-fault lines and the final table.
	Out    io.Writer
	Logger *slog.Logger
}

// FaultRecord is the outcome of one fault.
type FaultRecord struct {
	N        int
	Kind     string
	Target   string
	Detail   string
	Recovery time.Duration
	Settled  bool
	// Waited is what a slow recovery waited for last (see slowAfter).
	Waited     string
	Violations []invariant.Violation
}

// Result is the outcome of a campaign.
type Result struct {
	Seed       uint64
	Faults     []FaultRecord
	Violations []invariant.Violation
	Skipped    int
	Elapsed    time.Duration
	// Setup is an error that stopped the campaign before or between
	// faults (nil when it ran to the end).
	Setup error
}

// campaign is one run.
type campaign struct {
	cfg       Config
	log       *slog.Logger
	out       io.Writer
	lab       *Lab
	rng       *rand.Rand
	resources []string

	// partitions: node -> partition index (absent = 0) and since when.
	partMu    sync.Mutex
	part      map[string]int
	partSince time.Time

	committed []string
	markerSeq int

	tail     *logTail
	timeline *invariant.Timeline
	pending  []invariant.Event
	// ops are the recent resource operations fed to the timeline (for
	// the quiet check of clock jumps).
	ops []invariant.Event

	vmu     sync.Mutex
	seen    map[string]bool
	current *FaultRecord
	all     []invariant.Violation
}

func (c *campaign) partitionOf(n string) int {
	c.partMu.Lock()
	defer c.partMu.Unlock()
	return c.part[n]
}

func (c *campaign) setPartition(groups [][]string) {
	c.partMu.Lock()
	defer c.partMu.Unlock()
	c.part = map[string]int{}
	for i, g := range groups {
		for _, n := range g {
			c.part[n] = i
		}
	}
	c.partSince = time.Now()
}

func (c *campaign) clearPartition() {
	c.partMu.Lock()
	defer c.partMu.Unlock()
	c.part = map[string]int{}
	c.partSince = time.Time{}
}

// record adds violations to the current fault (once per distinct one).
func (c *campaign) record(vs []invariant.Violation) {
	c.vmu.Lock()
	defer c.vmu.Unlock()
	for _, v := range vs {
		key := v.Key()
		if v.Invariant == invariant.NotSettled && c.current != nil {
			// Liveness is judged per fault: the same symptom after
			// another fault is another violation.
			key += fmt.Sprintf("\x00fault %d", c.current.N)
		}
		if c.seen[key] {
			continue
		}
		c.seen[key] = true
		c.all = append(c.all, v)
		if c.current != nil {
			c.current.Violations = append(c.current.Violations, v)
		}
		c.log.Warn("invariant violated", "invariant", v.Invariant, "subject", v.Subject, "detail", v.Detail)
	}
}

// feedTimeline moves log and harness events older than the watermark (all
// when final) into the timeline and records its violations.
func (c *campaign) feedTimeline(final bool) {
	evs, err := c.tail.read()
	if err != nil {
		c.log.Warn("reading node logs", "err", err)
	}
	c.pending = append(c.pending, evs...)
	c.pending = append(c.pending, c.lab.TakeEvents()...)
	// Stonith resources are recovered without fencing (like Pacemaker's
	// requires=quorum for them): only the checked resources count.
	c.pending = slices.DeleteFunc(c.pending, func(e invariant.Event) bool {
		return e.Kind != invariant.NodeDown && !slices.Contains(c.resources, e.Rsc)
	})
	sort.SliceStable(c.pending, func(i, j int) bool { return c.pending[i].At.Before(c.pending[j].At) })
	cut := len(c.pending)
	if !final {
		mark := time.Now().Add(-1500 * time.Millisecond)
		cut = sort.Search(len(c.pending), func(i int) bool { return !c.pending[i].At.Before(mark) })
	}
	ready := c.pending[:cut]
	c.pending = append([]invariant.Event(nil), c.pending[cut:]...)
	for _, e := range ready {
		if e.Kind != invariant.NodeDown {
			c.ops = append(c.ops, e)
		}
	}
	if len(c.ops) > 500 {
		c.ops = append([]invariant.Event(nil), c.ops[len(c.ops)-250:]...)
	}
	c.record(c.timeline.Add(ready))
}

// check takes a snapshot, runs the checker and feeds the timeline.
func (c *campaign) check(ctx context.Context, settled bool, why string) {
	c.record(invariant.CheckSnapshot(c.snapshot(ctx, settled, why)))
	c.feedTimeline(false)
}

// sampler checks, every 200 ms until ctx ends, that no resource is really
// active on two powered nodes at once, and (netns mode) every 600 ms that
// at most one MAC answers ARP for the VIP.
func (c *campaign) sampler(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for tick := 0; ; tick++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if c.lab.Netns() && tick%3 == 0 {
			if macs, err := c.lab.VIPAnswers(150 * time.Millisecond); err == nil && len(c.lab.PoweredMACs(macs)) > 1 {
				c.record([]invariant.Violation{{Invariant: invariant.VIPOneMAC, Subject: "vip", At: time.Now(),
					Detail: "sampled ARP answers from " + strings.Join(macs, ", ")}})
			}
		}
		on := map[string][]string{}
		for _, n := range c.lab.Names() {
			for _, r := range c.lab.Active(n, c.resources) {
				on[r] = append(on[r], n)
			}
		}
		for r, nodes := range on {
			if len(nodes) > 1 {
				c.record([]invariant.Violation{{Invariant: invariant.ActiveOnce, Subject: r, At: time.Now(),
					Detail: "sampled active on " + strings.Join(nodes, ", ")}})
			}
		}
	}
}

// printf writes to the campaign output.
func (c *campaign) printf(format string, args ...any) {
	fmt.Fprintf(c.out, format, args...)
}

// baseConfig is the cluster configuration the campaign loads.
func (c *campaign) baseConfig() string {
	var b strings.Builder
	for _, r := range baseResources(c.cfg.TwoNode) {
		fmt.Fprintf(&b, "primitive %s ocf:gocrm:Dummy op monitor interval=2s timeout=10s meta failure-timeout=%s\n", r, clockJumpFailureTimeout)
	}
	if c.lab.Netns() {
		fmt.Fprintf(&b, "primitive vip ocf:gocrm:IPaddr2 params ip=%s cidr_netmask=24 nic=%s op monitor interval=2s timeout=10s\n", vipAddr, nodeNIC)
		if c.cfg.HTTPD != "" {
			fmt.Fprintf(&b, "primitive %s ocf:gocrm:httpd params binary=%s args=\"-listen :%s -vip %s\" statusurl=http://127.0.0.1:%s/ op monitor interval=2s timeout=10s\n",
				webRsc, c.cfg.HTTPD, webPort, vipAddr, webPort)
			fmt.Fprintf(&b, "group web vip %s\n", webRsc)
		}
	}
	// One property statement: a second one would replace the first's set.
	b.WriteString("rsc_defaults resource-stickiness=1\nproperty stonith-enabled=true no-quorum-policy=stop")
	if c.cfg.TwoNode {
		b.WriteString(" two-node-mode=true")
	}
	b.WriteString("\n")
	return b.String()
}

// baseResources are the Dummy resources of the campaign.
func baseResources(twoNode bool) []string {
	if twoNode {
		return []string{"d1", "d2"}
	}
	return []string{"d1", "d2", "d3"}
}

// Run runs the campaign and always tears the lab down.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Second
	}
	if cfg.StopGrace <= 0 {
		// A minority notices the loss of its leader only after raft's
		// detection (leader lease, then up to 2 heartbeat timeouts: 2.5 s
		// with consensus.WANTiming, which crmd may use on a loaded host)
		// before the quorum lease starts, then stops its resources.
		cfg.StopGrace = 5 * time.Second
	}
	if cfg.SettleTimeout <= 0 {
		cfg.SettleTimeout = 30 * time.Second
	}
	if cfg.Budget <= 0 {
		cfg.Budget = 30 * time.Minute
	}
	start := time.Now()
	base := cfg.Dir
	if base == "" {
		d, err := os.MkdirTemp("", "gocrm-cts-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		base = d
	}
	lab, err := NewLab(LabConfig{Dir: filepath.Join(base, "lab"), CRMD: cfg.CRMD, CRM: cfg.CRM, Netns: cfg.Netns,
		Tmpfs: cfg.Tmpfs, Plant: cfg.Plant, Lease: cfg.Lease, TwoNode: cfg.TwoNode, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c := &campaign{cfg: cfg, log: cfg.Logger, out: cfg.Out, lab: lab, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		resources: baseResources(cfg.TwoNode), part: map[string]int{}, timeline: invariant.NewTimeline(), seen: map[string]bool{}}
	if lab.Netns() {
		c.resources = append(c.resources, "vip")
		if cfg.HTTPD != "" {
			c.resources = append(c.resources, webRsc)
		}
	}
	files := map[string]string{}
	for _, n := range lab.Names() {
		files[n] = lab.LogFile(n)
	}
	c.tail = newLogTail(files)
	res := &Result{Seed: cfg.Seed}
	tabled := false // the table (whose last line ends the output) was printed
	sctx, stopSampler := context.WithCancel(ctx)
	var swg sync.WaitGroup
	defer func() {
		stopSampler()
		swg.Wait()
		if res.Setup != nil && !tabled && cfg.KeepLogs != "" {
			c.keepLogs(cfg.KeepLogs)
		}
		lab.Close()
	}()
	mode := "loopback (127.0.0.1; no network or disk faults)"
	if lab.Netns() {
		mode = "network namespaces in 10.99.0.0/24"
	}
	if cfg.TwoNode {
		mode = "two-node-mode pair, " + mode
	}
	c.printf("cts: seed %d, %d faults, %s, lab %s\n", cfg.Seed, cfg.Faults, mode, lab.Dir())
	if cfg.Plant != "" {
		c.printf("cts: PLANTED BUG %q active in every crmd (checker self-test)\n", cfg.Plant)
	}
	if err := c.bringUp(ctx); err != nil {
		res.Setup = err
		res.Elapsed = time.Since(start)
		return res, err
	}
	swg.Add(1)
	go func() {
		defer swg.Done()
		c.sampler(sctx)
	}()
	kinds := c.kinds()
	if len(kinds) == 0 {
		res.Setup = fmt.Errorf("cts: no fault kind left (asked %v; netns %v, tmpfs %v, netem %v)", cfg.Kinds, lab.Netns(), cfg.Tmpfs, lab.HasNetem())
		return res, res.Setup
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.name
	}
	c.printf("cts: fault kinds: %s\n", strings.Join(names, " "))
	deadline := start.Add(cfg.Budget)
	for i := 1; i <= cfg.Faults; i++ {
		if ctx.Err() != nil || time.Now().After(deadline) {
			res.Skipped = cfg.Faults - i + 1
			c.printf("cts: budget %s used up: %d faults skipped\n", cfg.Budget, res.Skipped)
			break
		}
		if i%3 == 1 {
			c.commitMarker(ctx)
		}
		k := pickKind(c.rng, kinds)
		f := &FaultRecord{N: i, Kind: k.name}
		c.vmu.Lock()
		c.current = f
		c.vmu.Unlock()
		t0 := time.Now()
		k.run(ctx, c, f)
		// Whatever the fault did, the cluster must end whole and healthy.
		c.repairAll()
		d, ok, why := c.waitSettled(ctx, t0, cfg.SettleTimeout, true)
		if !f.Settled && f.Recovery == 0 {
			f.Recovery, f.Settled = d, ok
			if ok {
				f.slow(d, why)
			}
		}
		if ok {
			why = ""
		}
		c.check(ctx, ok, why)
		c.vmu.Lock()
		c.current = nil
		c.vmu.Unlock()
		res.Faults = append(res.Faults, *f)
		status := "ok"
		if !f.Settled {
			status = "NOT SETTLED"
		}
		c.printf("fault %3d %-13s target=%-3s recovery=%6.2fs %-11s violations=%d %s\n", i, f.Kind, f.Target,
			f.Recovery.Seconds(), status, len(f.Violations), f.Detail)
		if f.Waited != "" {
			c.printf("    slow: last waited for: %s\n", f.Waited)
		}
		for _, v := range f.Violations {
			c.printf("    VIOLATION %s\n", v)
		}
		if !ok {
			// Start over from a clean slate rather than pile faults on a
			// broken cluster.
			c.log.Warn("cluster did not settle; restarting every node", "why", why)
			for _, n := range lab.Names() {
				_ = lab.Kill(n)
			}
			c.repairAll()
			if _, ok, why := c.waitSettled(ctx, time.Now(), cfg.SettleTimeout, true); !ok {
				res.Setup = fmt.Errorf("cluster did not recover after a full restart: %s", why)
				c.printf("cts: %v\n", res.Setup)
				res.Skipped = cfg.Faults - i
				break
			}
		}
	}
	// Final audit: every marker on every node, nothing double.
	c.commitMarker(ctx)
	_, ok, why := c.waitSettled(ctx, time.Now(), cfg.SettleTimeout, true)
	if ok {
		why = ""
	}
	c.check(ctx, ok, why)
	time.Sleep(1600 * time.Millisecond)
	c.feedTimeline(true)
	stopSampler()
	swg.Wait()
	res.Violations = append(res.Violations, c.all...)
	res.Elapsed = time.Since(start)
	if len(res.Violations) > 0 && cfg.KeepLogs != "" {
		c.keepLogs(cfg.KeepLogs)
	}
	c.table(res)
	tabled = true
	return res, nil
}

// bringUp starts every node, waits for the cluster, loads the
// configuration and waits until it runs.
func (c *campaign) bringUp(ctx context.Context) error {
	for _, n := range c.lab.Names() {
		if err := c.lab.Start(n); err != nil {
			return err
		}
	}
	// The fence device and stonith-enabled, as crm sandbox up configures
	// (two-node-mode is refused until both nodes are in <nodes>: retried).
	fencing := "primitive fence-sandbox stonith:sandbox op monitor interval=60s\n"
	if c.cfg.TwoNode {
		fencing = c.twoNodeConfigPrefix()
	}
	deadline := time.Now().Add(90 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = c.configure(ctx, fencing+c.baseConfig()); err == nil {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return fmt.Errorf("cts: configure the cluster: %w", err)
	}
	if d, ok, why := c.waitSettled(ctx, time.Now(), 90*time.Second, true); !ok {
		return fmt.Errorf("cts: cluster did not settle after start-up: %s", why)
	} else {
		c.printf("cts: cluster up and settled (%s after configuration)\n", d.Round(10*time.Millisecond))
	}
	c.check(ctx, true, "")
	return nil
}

// repairAll heals the network, frees disks, thaws and (re)boots every
// node that is not running.
func (c *campaign) repairAll() {
	c.lab.Heal()
	c.clearPartition()
	for _, n := range c.lab.Names() {
		c.lab.FreeDisk(n)
		if c.lab.Frozen(n) {
			_ = c.lab.Thaw(n)
		}
	}
	c.bootDead()
}

// bootDead boots every node whose crmd is not running.
func (c *campaign) bootDead() {
	for _, n := range c.lab.Names() {
		if !c.lab.Running(n) {
			if err := c.lab.Start(n); err != nil {
				c.log.Warn("restart failed", "node", n, "err", err)
			}
		}
	}
	c.lab.FixPIDFiles()
}

// commitMarker commits a new configuration marker; a marker counts as
// committed only when the commit succeeded.
func (c *campaign) commitMarker(ctx context.Context) {
	c.markerSeq++
	name := fmt.Sprintf("%s%d", markerPrefix, c.markerSeq)
	if err := c.addMarker(ctx, name, fmt.Sprintf("seed%d", c.cfg.Seed)); err != nil {
		c.log.Warn("marker not committed", "marker", name, "err", err)
		return
	}
	c.committed = append(c.committed, name)
}

// keepLogs copies the node logs to dir.
func (c *campaign) keepLogs(dir string) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return
	}
	for _, n := range c.lab.Names() {
		if b, err := os.ReadFile(c.lab.LogFile(n)); err == nil {
			_ = os.WriteFile(filepath.Join(dir, n+".log"), b, 0o640)
		}
	}
	c.printf("cts: node logs kept in %s\n", dir)
}

// percentile returns the p-th percentile (nearest rank) of sorted ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	k := int(float64(len(ds))*p+0.999999) - 1
	k = max(0, min(k, len(ds)-1))
	return ds[k]
}

// table prints faults by kind, recovery percentiles and violations; the
// last line is exactly "faults N violations V".
func (c *campaign) table(res *Result) {
	type row struct {
		n, unsettled, violations int
		rec                      []time.Duration
	}
	rows := map[string]*row{}
	var all []time.Duration
	for _, f := range res.Faults {
		r := rows[f.Kind]
		if r == nil {
			r = &row{}
			rows[f.Kind] = r
		}
		r.n++
		r.violations += len(f.Violations)
		if f.Settled {
			r.rec = append(r.rec, f.Recovery)
			all = append(all, f.Recovery)
		} else {
			r.unsettled++
		}
	}
	kinds := make([]string, 0, len(rows))
	for k := range rows {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	sec := func(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
	pct := func(ds []time.Duration, p float64) string {
		if len(ds) == 0 {
			return "-" // no fault of this kind settled
		}
		return sec(percentile(ds, p))
	}
	c.printf("\n%-14s %6s %9s %8s %8s %8s %10s\n", "kind", "faults", "unsettled", "p50", "p90", "max", "violations")
	for _, k := range kinds {
		r := rows[k]
		slices.Sort(r.rec)
		c.printf("%-14s %6d %9d %8s %8s %8s %10d\n", k, r.n, r.unsettled, pct(r.rec, .5), pct(r.rec, .9), pct(r.rec, 1), r.violations)
	}
	slices.Sort(all)
	c.printf("%-14s %6d %9s %8s %8s %8s %10d\n", "all", len(res.Faults), "", pct(all, .5), pct(all, .9), pct(all, 1), len(res.Violations))
	byInv := map[string]int{}
	for _, v := range res.Violations {
		byInv[v.Invariant]++
	}
	if len(byInv) > 0 {
		var parts []string
		for k, n := range byInv {
			parts = append(parts, fmt.Sprintf("%s=%d", k, n))
		}
		sort.Strings(parts)
		c.printf("violations by invariant: %s\n", strings.Join(parts, " "))
	}
	c.printf("elapsed %s, seed %d, recovery = fault injected (or healed) until the quorate partition settled\n",
		res.Elapsed.Round(time.Second), res.Seed)
	c.printf("faults %d violations %d\n", len(res.Faults), len(res.Violations))
}
