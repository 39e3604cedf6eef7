package cts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/crmsyntax"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/crm/status"
	"github.com/gocrm/gocrm/test/cts/invariant"
)

// nodeView is what one observation saw of a node.
type nodeView struct {
	name      string
	arbiter   bool
	powered   bool
	frozen    bool
	partition int
	st        *api.Status
	cib       string // whole CIB XML ("" when not read)
	active    []string
	err       error
}

// markerPrefix names the configuration markers the campaign commits.
const markerPrefix = "cts-marker-"

// apiCall runs one request against a node's socket with a short timeout.
func (c *campaign) apiCall(ctx context.Context, node string, timeout time.Duration, req api.Request) (*api.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl, err := api.Dial(ctx, c.lab.Socket(node))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return cl.Do(ctx, req)
}

// observe reads every node: real state always, crmd's status and (withCIB)
// its CIB when it runs and is not frozen.
func (c *campaign) observe(ctx context.Context, withCIB bool) []nodeView {
	names := c.lab.Names()
	out := make([]nodeView, len(names))
	done := make(chan int, len(names))
	for i, n := range names {
		out[i] = nodeView{name: n, arbiter: n == c.lab.Arbiter(), powered: c.lab.Running(n), frozen: c.lab.Frozen(n),
			partition: c.partitionOf(n), active: c.lab.Active(n, c.resources)}
		go func(v *nodeView, i int) {
			defer func() { done <- i }()
			if !v.powered || v.frozen {
				return
			}
			resp, err := c.apiCall(ctx, v.name, 2*time.Second, api.Request{Op: api.OpStatus})
			if err != nil {
				v.err = err
				return
			}
			v.st = resp.Status
			if withCIB {
				resp, err := c.apiCall(ctx, v.name, 2*time.Second, api.Request{Op: api.OpGetCIB})
				if err != nil {
					v.err = err
					return
				}
				v.cib = resp.CIB
			}
		}(&out[i], i)
	}
	for range names {
		<-done
	}
	return out
}

func digestOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// configSection returns the <configuration> element of a CIB XML text.
func configSection(x string) string {
	i := strings.Index(x, "<configuration")
	j := strings.LastIndex(x, "</configuration>")
	if i < 0 || j < i {
		return ""
	}
	return x[i:j]
}

// markersIn lists the campaign markers in a CIB XML text.
func markersIn(x string) []string {
	var out []string
	for _, part := range strings.Split(x, `name="`+markerPrefix)[1:] {
		if k := strings.IndexByte(part, '"'); k > 0 {
			out = append(out, markerPrefix+part[:k])
		}
	}
	return out
}

// quorateGroup returns the running, unfrozen nodes of the partition that
// holds a majority of the voters, or nil.
func (c *campaign) quorateGroup() []string {
	if c.cfg.TwoNode {
		return c.twoNodeGroup()
	}
	groups := map[int][]string{}
	for _, n := range c.lab.Names() {
		if c.lab.Running(n) && !c.lab.Frozen(n) {
			p := c.partitionOf(n)
			groups[p] = append(groups[p], n)
		}
	}
	for _, g := range groups {
		if 2*len(g) > len(c.lab.Names()) {
			sort.Strings(g)
			return g
		}
	}
	return nil
}

// settled reports whether the quorate partition has converged: every
// expected node answers, is quorate and names the same DC among them, the
// DC is idle, every expected member is online in the CIB, all expected
// nodes hold the same CIB, and every resource is really active on exactly
// one node. It returns a description of what is missing.
func (c *campaign) settled(ctx context.Context, views []nodeView) (bool, string) {
	group := c.quorateGroup()
	if group == nil {
		return false, "no quorate partition"
	}
	dc := ""
	var cibs []string
	for _, v := range views {
		if !slices.Contains(group, v.name) {
			continue
		}
		if v.st == nil {
			return false, fmt.Sprintf("%s does not answer: %v", v.name, v.err)
		}
		if !v.st.Quorate || v.st.DC == "" {
			return false, v.name + " knows no DC"
		}
		if dc != "" && v.st.DC != dc {
			return false, fmt.Sprintf("DC disagreement: %s vs %s", dc, v.st.DC)
		}
		dc = v.st.DC
		alive := 0
		for _, m := range v.st.Members {
			if m.State == "alive" && slices.Contains(group, m.Name) {
				alive++
			}
		}
		if alive != len(group) {
			return false, fmt.Sprintf("%s sees %d of %d members alive", v.name, alive, len(group))
		}
		if c.cfg.TwoNode && len(group) == 1 {
			// A lone survivor has settled only once it has noticed the
			// loss of its peer (and fenced it: see below, the CIB).
			for _, m := range v.st.Members {
				if m.Name != v.name && m.State == "alive" {
					return false, fmt.Sprintf("%s still sees its dead peer %s alive", v.name, m.Name)
				}
			}
		}
		cibs = append(cibs, v.cib)
	}
	if !slices.Contains(group, dc) {
		return false, "DC " + dc + " outside the quorate partition"
	}
	for _, v := range views {
		if v.name == dc && !v.st.Idle {
			return false, "DC " + dc + " is not idle"
		}
	}
	for i := 1; i < len(cibs); i++ {
		if cibs[i] != cibs[0] {
			return false, "CIBs differ"
		}
	}
	if len(cibs) > 0 && cibs[0] != "" {
		cur, err := cib.Parse([]byte(cibs[0]))
		if err != nil {
			return false, fmt.Sprintf("CIB: %v", err)
		}
		if c.cfg.TwoNode && len(group) == 1 {
			for _, ns := range cur.Status.Nodes {
				if ns.Uname != group[0] && ns.InCCM == "true" && ns.Crmd == "online" {
					return false, "the survivor's CIB still shows " + ns.Uname + " online"
				}
			}
		}
		for _, n := range group {
			if n == c.lab.Arbiter() {
				continue
			}
			online := false
			for _, ns := range cur.Status.Nodes {
				if ns.Uname == n && ns.InCCM == "true" && ns.Crmd == "online" && ns.Join == "member" {
					online = true
				}
			}
			if !online {
				return false, n + " not online in the CIB"
			}
		}
	}
	for _, r := range c.resources {
		var on []string
		for _, v := range views {
			if v.powered && slices.Contains(v.active, r) {
				on = append(on, v.name)
			}
		}
		if len(on) != 1 {
			return false, fmt.Sprintf("%s active on %v", r, on)
		}
	}
	return true, ""
}

// waitSettled polls until settled or timeout; it returns how long it took
// and what was missing at the last poll that failed.
// With reboot, a node whose crmd died meanwhile (fenced with "reboot", or
// crashed) is booted again, as a real node would come back.
func (c *campaign) waitSettled(ctx context.Context, since time.Time, timeout time.Duration, reboot bool) (time.Duration, bool, string) {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		if reboot {
			c.bootDead()
		}
		views := c.observe(ctx, true)
		ok, why := c.settled(ctx, views)
		if ok {
			// The last thing waited for explains a slow recovery.
			return time.Since(since), true, last
		}
		last = why
		if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Since(since), false, last
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// stoppedReasons reads, from the CIB of a quorate node, the reason status
// gives for each resource that runs nowhere: no quorum, a failed action,
// an UNCLEAN node waiting for fencing, a blocked or disabled resource.
func (c *campaign) stoppedReasons(views []nodeView) map[string]string {
	out := map[string]string{}
	var x string
	for _, v := range views {
		if v.st != nil && v.st.Quorate && v.cib != "" {
			x = v.cib
			break
		}
	}
	if x == "" {
		for _, r := range c.resources {
			out[r] = "no quorum: no node has a quorate CIB"
		}
		return out
	}
	cur, err := cib.Parse([]byte(x))
	if err != nil {
		return out
	}
	rep, err := status.Build(cur, status.Options{Now: time.Now()})
	if err != nil {
		return out
	}
	unclean := ""
	for _, l := range rep.NodeLines {
		if strings.Contains(l, "UNCLEAN") {
			unclean = strings.TrimSpace(l)
		}
	}
	for _, r := range c.resources {
		var why []string
		for _, f := range rep.Failed {
			if f.Rsc == r {
				why = append(why, fmt.Sprintf("failed %s on %s", f.OpKey, f.Node))
			}
		}
		for _, l := range rep.ResourceLines {
			if strings.Contains(l, " "+r+" ") && (strings.Contains(l, "blocked") || strings.Contains(l, "disabled")) {
				why = append(why, strings.TrimSpace(l))
			}
		}
		if unclean != "" {
			why = append(why, "node "+unclean)
		}
		if len(why) > 0 {
			out[r] = strings.Join(why, "; ")
		}
	}
	return out
}

// agree reports whether the reachable nodes of the quorate partition
// returned the same CIB and name the same DC.
func (c *campaign) agree(views []nodeView) bool {
	group := c.quorateGroup()
	first, dc := "", ""
	seen := false
	for _, v := range views {
		if v.st == nil || !slices.Contains(group, v.name) {
			continue
		}
		if !seen {
			first, dc, seen = v.cib, v.st.DC, true
		} else if v.cib != first || v.st.DC != dc {
			return false
		}
	}
	return true
}

// snapshot observes the cluster and builds the checker's input. The
// nodes are read one after the other, so a commit or a leader election in
// between can make them differ for a moment: differing CIBs or DC names
// are read again (up to 3 s) before they count.
func (c *campaign) snapshot(ctx context.Context, settled bool, why string) invariant.Snapshot {
	views := c.observe(ctx, true)
	for try := 0; settled && try < 15 && !c.agree(views); try++ {
		sleep(ctx, 200*time.Millisecond)
		views = c.observe(ctx, true)
	}
	s := invariant.Snapshot{At: time.Now(), Resources: c.resources, Voters: len(views),
		PartitionSince: c.partSince, Lease: c.cfg.Lease, StopGrace: c.cfg.StopGrace,
		StoppedReasons: c.stoppedReasons(views), Committed: append([]string(nil), c.committed...),
		Settled: settled, NotSettledReason: why}
	if c.lab.Netns() {
		macs, err := c.lab.VIPAnswers(300 * time.Millisecond)
		if err != nil {
			c.log.Warn("ARP probe of the VIP failed", "err", err)
		} else {
			s.VIP, s.VIPMACs = "vip", c.lab.PoweredMACs(macs)
		}
	}
	if c.cfg.TwoNode {
		// A lone node keeps running while it races to fence its peer
		// (two-node-mode): "never both" is active-once's; the fenced
		// peer no longer votes.
		s.PartitionSince = time.Time{}
		s.Voters = 0
		for _, v := range views {
			if v.powered {
				s.Voters++
			}
		}
	}
	if c.lab.Netns() && slices.Contains(c.resources, webRsc) {
		s.WebGroup = []string{"vip", webRsc}
		// Retried: a loaded 2-core host may delay an answer by a second.
		for try := 0; try < 3; try++ {
			node, err := c.lab.WebAnswer(2 * time.Second)
			s.HTTPNode, s.HTTPErr = node, ""
			if err == nil {
				break
			}
			s.HTTPErr = err.Error()
		}
	}
	for _, v := range views {
		o := invariant.NodeObs{Name: v.name, Arbiter: v.arbiter, Powered: v.powered, Frozen: v.frozen,
			Reachable: v.st != nil, Partition: v.partition, Active: v.active}
		if v.st != nil {
			o.IsDC, o.DC, o.Quorate = v.st.IsDC, v.st.DC, v.st.Quorate
		}
		if v.cib != "" {
			o.CIBDigest, o.ConfigDigest, o.Markers = digestOf(v.cib), digestOf(configSection(v.cib)), markersIn(v.cib)
		}
		s.Nodes = append(s.Nodes, o)
	}
	return s
}

// errNoQuorateNode is returned when no node can take a configuration change.
var errNoQuorateNode = errors.New("no reachable quorate node")

// addMarker commits a new nvpair in the cluster_property_set "cts-markers"
// directly (not through crm syntax: a "property" statement loaded as an
// update replaces the whole cib-bootstrap-options set).
func (c *campaign) addMarker(ctx context.Context, name, value string) error {
	group := c.quorateGroup()
	if len(group) == 0 {
		return errNoQuorateNode
	}
	node := group[0]
	for attempt := 1; ; attempt++ {
		resp, err := c.apiCall(ctx, node, 5*time.Second, api.Request{Op: api.OpGetCIB})
		if err != nil {
			return fmt.Errorf("get CIB from %s: %w", node, err)
		}
		cur, err := cib.Parse([]byte(resp.CIB))
		if err != nil {
			return fmt.Errorf("CIB of %s: %w", node, err)
		}
		next := *cur
		next.Status = cib.Status{}
		next.Config.CRMConfig = append([]*cib.NVSet(nil), cur.Config.CRMConfig...)
		var set *cib.NVSet
		for i, s := range next.Config.CRMConfig {
			if s.ID == "cts-markers" {
				cp := *s
				cp.Pairs = append([]*cib.NVPair(nil), s.Pairs...)
				set = &cp
				next.Config.CRMConfig[i] = set
			}
		}
		if set == nil {
			set = &cib.NVSet{Kind: "cluster_property_set", ID: "cts-markers"}
			next.Config.CRMConfig = append(next.Config.CRMConfig, set)
		}
		set.Pairs = append(set.Pairs, &cib.NVPair{ID: "cts-markers-" + name, Name: name, Value: value, HasValue: true})
		cmd := store.Command{V: store.Version, Op: store.OpReplaceConfiguration, ExpectEpoch: store.EpochString(cur), XML: string(next.Marshal())}
		_, err = c.apiCall(ctx, node, 10*time.Second, api.Request{Op: api.OpApply, Command: &cmd})
		if err == nil {
			return nil
		}
		if attempt >= 5 || !errors.Is(err, api.ErrRejected) || !strings.Contains(err.Error(), store.ErrStaleEpoch.Error()) {
			return fmt.Errorf("commit through %s: %w", node, err)
		}
	}
}

// configure commits crm configure statements through a quorate node in one
// atomic change (retried when the CIB moved on meanwhile).
func (c *campaign) configure(ctx context.Context, statements string) error {
	group := c.quorateGroup()
	if len(group) == 0 {
		return errNoQuorateNode
	}
	node := group[0]
	for attempt := 1; ; attempt++ {
		resp, err := c.apiCall(ctx, node, 5*time.Second, api.Request{Op: api.OpGetCIB})
		if err != nil {
			return fmt.Errorf("get CIB from %s: %w", node, err)
		}
		cur, err := cib.Parse([]byte(resp.CIB))
		if err != nil {
			return fmt.Errorf("CIB of %s: %w", node, err)
		}
		sess := crmsyntax.NewSession(&cur.Config, c.log)
		if err := sess.Update(statements); err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
		if err := sess.CheckCommit(); err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
		cmd := store.Command{V: store.Version, Op: store.OpReplaceConfiguration, ExpectEpoch: store.EpochString(cur), XML: sess.ConfigElement().String()}
		_, err = c.apiCall(ctx, node, 10*time.Second, api.Request{Op: api.OpApply, Command: &cmd})
		if err == nil {
			return nil
		}
		if attempt >= 5 || !errors.Is(err, api.ErrRejected) || !strings.Contains(err.Error(), store.ErrStaleEpoch.Error()) {
			return fmt.Errorf("commit through %s: %w", node, err)
		}
	}
}
