package cluster

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fencingSetup is a 3-node sandbox running resource r1 on victim. The
// victim is either the DC or a node that is neither the DC nor the host of
// the fence device; observer is another node, through which the tests read
// the status.
type fencingSetup struct {
	c        *sandboxCluster
	observer string
	victim   string
}

const rsc = "r1"

func setupFencing(t *testing.T, victimIsDC bool) *fencingSetup {
	t.Helper()
	c := startSandbox(t, 3)
	var st *statusXML
	if !waitFor(15*time.Second, func() bool {
		s, err := c.status("n1")
		if err != nil || s.DC.Present != "true" || s.DC.Name == "" || len(s.running("fence-sandbox")) != 1 {
			return false
		}
		st = s
		return true
	}) {
		t.Fatal("no DC with a running fence-sandbox device within 15 s of sandbox up")
	}
	dc := st.DC.Name
	f := &fencingSetup{c: c}
	fenceHost := st.running("fence-sandbox")[0]
	if victimIsDC {
		f.victim = dc
		for _, n := range c.nodes {
			if n != dc {
				f.observer = n
				break
			}
		}
	} else {
		f.observer = dc
		for _, n := range c.nodes {
			if n != dc && n != fenceHost {
				f.victim = n
				break
			}
		}
	}
	if f.victim == "" || f.observer == "" {
		t.Fatalf("cannot pick victim and observer (DC %s, fence host %s)", dc, fenceHost)
	}
	show := c.crm(f.observer, "configure", "show")
	if !strings.Contains(show, "stonith:sandbox") || !strings.Contains(show, "stonith-enabled=true") {
		t.Fatalf("sandbox did not configure the fence device and stonith-enabled:\n%s", show)
	}
	c.load(f.observer, fmt.Sprintf("primitive %s ocf:gocrm:Dummy op monitor interval=1s timeout=10s\nlocation %s-on-victim %s 100: %s\n",
		rsc, rsc, rsc, f.victim))
	// Wait for the recurring monitor too: the transition that starts r1
	// must be over before the freeze, or the DC only notices the loss
	// when that transition's action on the victim times out (see
	// TestFreezeDuringActionFencedPromptly).
	if !waitFor(15*time.Second, func() bool {
		s, err := c.status(f.observer)
		return err == nil && slices.Equal(s.running(rsc), []string{f.victim}) && s.hasRecurringMonitor(f.victim, rsc)
	}) {
		t.Fatalf("%s did not start and get monitored on %s within 15 s:\n%s", rsc, f.victim, c.crm(f.observer, "status"))
	}
	time.Sleep(500 * time.Millisecond)
	t.Logf("DC %s, fence device on %s, %s runs on victim %s, observer %s", dc, fenceHost, rsc, f.victim, f.observer)
	return f
}

// sample checks one status sample: rsc is active on at most one node. It
// returns where rsc runs (nil when the status could not be read).
func (f *fencingSetup) sample(t *testing.T) (*statusXML, []string) {
	t.Helper()
	s, err := f.c.status(f.observer)
	if err != nil {
		t.Logf("status sample failed: %v", err)
		return nil, nil
	}
	on := s.running(rsc)
	if len(on) > 1 {
		t.Errorf("%s active on %d nodes at once: %v", rsc, len(on), on)
	}
	return s, on
}

// fenceAndStartEvents finds, in the nodes' logs from since on, the fencing
// of the victim and the first successful start of rsc on another node, and
// checks that the fencing completed first and that rsc started exactly once
// elsewhere.
func (f *fencingSetup) fenceAndStartEvents(t *testing.T, since time.Time) (fenced, started logEvent) {
	t.Helper()
	since = since.Truncate(time.Millisecond)
	evs, err := f.c.readLogs()
	if err != nil {
		t.Fatalf("reading logs: %v", err)
	}
	notVictim := func(e logEvent) bool { return e.fields["node"] == f.victim }
	fenced, ok := firstEvent(evs, since, map[string]string{"msg": "node fenced", "target": f.victim}, nil)
	if !ok {
		t.Fatalf("no \"node fenced\" record for %s in the logs since %s", f.victim, since.Format(time.RFC3339Nano))
	}
	startWant := map[string]string{"msg": "operation complete", "rsc": rsc, "op": rsc + "_start_0", "rc": "0"}
	started, ok = firstEvent(evs, since, startWant, notVictim)
	if !ok {
		t.Fatalf("no successful start of %s on another node in the logs", rsc)
	}
	if started.at.Before(fenced.at) {
		t.Errorf("%s started on %s at %s, before %s was fenced at %s",
			rsc, started.fields["node"], started.at.Format("15:04:05.000"), f.victim, fenced.at.Format("15:04:05.000"))
	}
	if n := countEvents(evs, since, startWant, notVictim); n != 1 {
		t.Errorf("%s started %d times on other nodes after the freeze, want exactly 1", rsc, n)
	}
	// The op history in the CIB agrees (it has one-second resolution).
	cib := f.c.crm(f.observer, "cib", "export")
	re := regexp.MustCompile(`<lrm_rsc_op [^>]*operation_key="` + rsc + `_start_0"[^>]*on_node="` +
		regexp.QuoteMeta(started.fields["node"]) + `"[^>]*rc-code="0"[^>]*last-rc-change="(\d+)"`)
	m := re.FindStringSubmatch(cib)
	if m == nil {
		t.Errorf("CIB op history has no successful %s_start_0 on %s", rsc, started.fields["node"])
	} else if sec, _ := strconv.ParseInt(m[1], 10, 64); sec < fenced.at.Unix() {
		t.Errorf("CIB op history: %s start on %s at %d, before the fencing of %s (%d)",
			rsc, started.fields["node"], sec, f.victim, fenced.at.Unix())
	}
	return fenced, started
}

// holdOff keeps sampling for d after recovery: rsc must stay on exactly
// one node, never the victim.
func (f *fencingSetup) holdOff(t *testing.T, d time.Duration, where string) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if _, on := f.sample(t); on != nil && (len(on) != 1 || on[0] != where) {
			t.Errorf("after recovery %s is active on %v, want only %s", rsc, on, where)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFrozenNodeFencedBeforeRecovery freezes (SIGSTOP) the crmd running a
// resource, once on an ordinary member and once on the DC: the sandbox
// device must fence it (kill the frozen process) before the resource starts
// elsewhere, and the resource must never be active on two nodes.
func TestFrozenNodeFencedBeforeRecovery(t *testing.T) {
	t.Run("member", func(t *testing.T) { testFrozenNode(t, false) })
	t.Run("DC", func(t *testing.T) { testFrozenNode(t, true) })
}

func testFrozenNode(t *testing.T, victimIsDC bool) {
	f := setupFencing(t, victimIsDC)
	pid, frozenAt := f.c.freeze(f.victim)

	var uncleanAt, movedAt time.Time
	var newNode string
	deadline := frozenAt.Add(30 * time.Second)
	for time.Now().Before(deadline) {
		s, on := f.sample(t)
		if s != nil && uncleanAt.IsZero() && s.unclean(f.victim) {
			uncleanAt = time.Now()
		}
		if len(on) == 1 && on[0] != f.victim {
			movedAt, newNode = time.Now(), on[0]
			if st := procState(pid); alive(pid) {
				t.Errorf("%s reported on %s while the frozen crmd of %s (pid %d) still exists (state %s): not fenced",
					rsc, newNode, f.victim, pid, st)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if movedAt.IsZero() {
		t.Fatalf("%s was not recovered within 30 s of freezing %s; frozen crmd state %q\n%s",
			rsc, f.victim, procState(pid), f.c.crm(f.observer, "status"))
	}
	if alive(pid) {
		t.Errorf("frozen crmd of %s (pid %d) still exists after recovery: the fence device did not kill it", f.victim, pid)
	}
	fenced, started := f.fenceAndStartEvents(t, frozenAt)
	// The cluster was idle at the freeze: fencing follows failure
	// detection (about 1 s here), not some action timeout.
	if d := fenced.at.Sub(frozenAt); d > 10*time.Second {
		t.Errorf("%s fenced %v after the freeze of an idle cluster, want < 10 s", f.victim, d.Round(time.Millisecond))
	}
	f.holdOff(t, 2*time.Second, newNode)

	req, _ := f.c.readLogs()
	requested, _ := firstEvent(req, frozenAt.Truncate(time.Millisecond), map[string]string{"msg": "fencing requested", "target": f.victim}, nil)
	t.Logf("timings: freeze->UNCLEAN seen %v, freeze->fencing requested %v, freeze->fenced %v, fenced->started on %s %v, freeze->seen running on %s %v",
		elapsed(frozenAt, uncleanAt), elapsed(frozenAt, requested.at), fenced.at.Sub(frozenAt).Round(time.Millisecond),
		started.fields["node"], started.at.Sub(fenced.at).Round(time.Millisecond), newNode, movedAt.Sub(frozenAt).Round(time.Millisecond))
}

// TestFailingFenceDeviceBlocksRecovery makes the fence device unable to
// fence the victim (its "fail" parameter, set with crm resource param as an
// operator would), freezes the victim and checks that the resource is not
// recovered while status shows the victim UNCLEAN; once the parameter is
// removed the fencing and the recovery complete.
func TestFailingFenceDeviceBlocksRecovery(t *testing.T) {
	f := setupFencing(t, false)
	c := f.c
	c.crm(f.observer, "resource", "param", "fence-sandbox", "set", "fail", f.victim)
	if got := strings.TrimSpace(c.crm(f.observer, "resource", "param", "fence-sandbox", "show", "fail")); got != f.victim {
		t.Fatalf("fence-sandbox fail parameter reads %q, want %q", got, f.victim)
	}
	// The parameter change restarts the device; wait until it runs again.
	if !waitFor(10*time.Second, func() bool {
		s, err := c.status(f.observer)
		if err != nil {
			return false
		}
		for _, r := range s.Resources {
			if r.ID == "fence-sandbox" {
				return r.Role == "Started" && len(r.Nodes) == 1
			}
		}
		return false
	}) {
		t.Fatalf("fence-sandbox not started after the parameter change:\n%s", c.crm(f.observer, "status"))
	}
	time.Sleep(500 * time.Millisecond)

	pid, frozenAt := c.freeze(f.victim)
	since := frozenAt.Truncate(time.Millisecond)
	var failedAt time.Time
	if !waitFor(20*time.Second, func() bool {
		f.sample(t)
		evs, err := c.readLogs()
		if err != nil {
			return false
		}
		e, ok := firstEvent(evs, since, map[string]string{"msg": "fencing failed", "target": f.victim}, nil)
		failedAt = e.at
		return ok
	}) {
		t.Fatalf("no failed fencing of %s within 20 s of freezing it\n%s", f.victim, c.crm(f.observer, "status"))
	}

	// While the device fails: never recovered, victim UNCLEAN, frozen
	// process untouched.
	var text string
	holdEnd := time.Now().Add(5 * time.Second)
	for time.Now().Before(holdEnd) {
		s, on := f.sample(t)
		if on != nil && !slices.Equal(on, []string{f.victim}) {
			t.Fatalf("%s recovered to %v although %s could not be fenced", rsc, on, f.victim)
		}
		if s != nil && !s.unclean(f.victim) {
			t.Errorf("status XML does not mark %s unclean while its fencing fails", f.victim)
		}
		if st := procState(pid); st != "T" && st != "t" {
			t.Fatalf("frozen crmd of %s (pid %d) is in state %q although the device cannot fence it", f.victim, pid, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	text = c.crm(f.observer, "status")
	t.Logf("crm status while fencing of %s fails:\n%s", f.victim, text)
	for _, want := range []string{
		"Node " + f.victim + ": UNCLEAN (offline)",
		"Started " + f.victim + " (UNCLEAN)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("crm status lacks %q while the fencing of %s fails", want, f.victim)
		}
	}
	// The status says why the resource is not recovered.
	if want := "WARNING: recovery of " + rsc + " waits for fencing of node " + f.victim + " (UNCLEAN"; !strings.Contains(text, want) {
		t.Errorf("crm status lacks %q while the fencing of %s fails", want, f.victim)
	}
	// crm stonith history (stonith_admin --history --verbose) lists every
	// failed attempt. The history is kept by the node that ran the
	// fencing (the DC at the time), so every live node is asked; the
	// status of a node that fenced also lists the failure as crm_mon does
	// ("Failed Fencing Actions") and gives it as the reason of the wait.
	// (A DC that loses its leadership meanwhile records its attempt as
	// cancelled.)
	failedLine := regexp.MustCompile(`^reboot of ` + regexp.QuoteMeta(f.victim) + ` failed \((.*)\): (delegate=[^,]+, )?client=crmd, origin=[^,]+, completed='[0-9-]+ [0-9:.]+(Z| [+-][0-9:]+)'$`)
	hists := f.histories(t)
	refused, refusedMax := 0, 0
	for node, lines := range hists {
		n := 0
		for _, l := range lines {
			if !failedLine.MatchString(l) {
				t.Errorf("%s: history line is not a failed reboot of %s: %q", node, f.victim, l)
			}
			if strings.Contains(l, "listed in fail") {
				refused++
				n++
			}
		}
		refusedMax = max(refusedMax, n)
		if len(lines) > 0 {
			st := c.crm(node, "status")
			for _, want := range []string{
				"waits for fencing of node " + f.victim + " (UNCLEAN: peer is no longer part of the cluster); last reboot attempt failed at ",
				"\nFailed Fencing Actions:\n  * reboot of " + f.victim + " by ",
				" last failed (all fencing levels failed",
			} {
				if !strings.Contains(st, want) {
					t.Errorf("crm status on %s (which tried to fence) lacks %q:\n%s", node, want, st)
				}
			}
		}
	}
	if refused == 0 {
		t.Errorf("no node's crm stonith history lists a reboot of %s refused by the device", f.victim)
	}
	if l := c.crm(f.observer, "stonith", "list"); l != "fence-sandbox\n1 fence device found\n" {
		t.Errorf("crm stonith list:\n%s", l)
	}
	if st := c.crm(f.observer, "stonith", "status"); !strings.Contains(st, "fence-sandbox (stonith:sandbox): running on ") || !strings.Contains(st, "; monitor OK\n") {
		t.Errorf("crm stonith status:\n%s", st)
	}

	// Repair the device: recovery must complete.
	fixedAt := time.Now()
	c.crm(f.observer, "resource", "param", "fence-sandbox", "delete", "fail")
	var newNode string
	if !waitFor(20*time.Second, func() bool {
		_, on := f.sample(t)
		if len(on) == 1 && on[0] != f.victim {
			newNode = on[0]
			return true
		}
		return false
	}) {
		t.Fatalf("%s not recovered within 20 s of repairing the fence device\n%s", rsc, c.crm(f.observer, "status"))
	}
	if alive(pid) {
		t.Errorf("%s recovered on %s but the frozen crmd of %s (pid %d) still exists", rsc, newNode, f.victim, pid)
	}
	fenced, started := f.fenceAndStartEvents(t, frozenAt)
	if fenced.at.Before(fixedAt.Truncate(time.Millisecond)) {
		t.Errorf("%s reported fenced at %s, before the device was repaired at %s",
			f.victim, fenced.at.Format("15:04:05.000"), fixedAt.Format("15:04:05.000"))
	}
	f.holdOff(t, 2*time.Second, newNode)
	if st := c.crm(f.observer, "status"); !strings.Contains(st, "OFFLINE: [ "+f.victim+" ]") || strings.Contains(st, "UNCLEAN") ||
		strings.Contains(st, "waits for fencing") {
		t.Errorf("after recovery status should show %s OFFLINE and nothing UNCLEAN or waiting:\n%s", f.victim, st)
	}
	// Every node now lists the success first (newest first: the DC's
	// finished records are in the CIB); the failures follow, each noting
	// that a later attempt succeeded.
	okLine := regexp.MustCompile(`^reboot of ` + regexp.QuoteMeta(f.victim) + ` successful: delegate=([^,]+), client=crmd, origin=([^,]+), completed='`)
	laterOK := regexp.MustCompile(` \(a later attempt from [^)]+ succeeded\)$`)
	hists = f.histories(t)
	afterFailed := 0
	for node, lines := range hists {
		m := okLine.FindStringSubmatch(strings.Join(lines, "\n"))
		if len(lines) == 0 || m == nil || !okLine.MatchString(lines[0]) {
			t.Errorf("%s: crm stonith history does not start with the successful reboot of %s", node, f.victim)
			continue
		}
		delegate, origin := m[1], m[2]
		superseded := " (a later attempt from " + delegate + " succeeded)"
		n := 0
		for _, l := range lines[1:] {
			if !strings.HasSuffix(l, superseded) || !failedLine.MatchString(strings.TrimSuffix(l, superseded)) {
				// A cancelled attempt of another DC has another
				// delegate (or none) and may name no later success.
				if failedLine.MatchString(laterOK.ReplaceAllString(l, "")) && !strings.Contains(l, "listed in fail") {
					continue
				}
				t.Errorf("%s: history line after the success is not a failure superseded by it: %q", node, l)
			}
			n++
		}
		afterFailed = max(afterFailed, n)
		if st := c.crm(node, "status", "--fence-history=2"); !strings.Contains(st, "\nFencing History:\n  * reboot of "+f.victim+" by "+delegate+" for crmd@"+origin+" successful at ") {
			t.Errorf("crm status --fence-history=2 on %s lacks the successful fencing:\n%s", node, st)
		}
	}
	// Repeated failures reach the CIB at most every 15 s (the DC keeps
	// all of them in memory), so a node that is not the DC may show fewer.
	if afterFailed < 1 || refusedMax < 1 {
		t.Errorf("histories lost the failures: %d after the repair, %d before", afterFailed, refusedMax)
	}
	t.Logf("timings: freeze->first fencing failure %v, repair->fenced %v, fenced->started on %s %v",
		failedAt.Sub(frozenAt).Round(time.Millisecond), fenced.at.Sub(fixedAt).Round(time.Millisecond),
		started.fields["node"], started.at.Sub(fenced.at).Round(time.Millisecond))
}

// histories returns, for every node but the victim, the event lines of its
// `crm stonith history VICTIM` (without the count line and notes).
func (f *fencingSetup) histories(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, n := range f.c.nodes {
		if n == f.victim {
			continue
		}
		h := f.c.crm(n, "stonith", "history", f.victim)
		t.Logf("crm stonith history %s on %s:\n%s", f.victim, n, h)
		var lines []string
		found := false
		for _, l := range strings.Split(h, "\n") {
			if strings.HasSuffix(l, " events found") || strings.HasSuffix(l, " event found") {
				found = true
				if want := fmt.Sprintf("%d event", len(lines)); !strings.HasPrefix(l, want) {
					t.Errorf("%s: %q after %d events", n, l, len(lines))
				}
				break
			}
			lines = append(lines, l)
		}
		if !found {
			t.Errorf("%s: crm stonith history has no count line:\n%s", n, h)
		}
		out[n] = lines
	}
	return out
}

func elapsed(from, to time.Time) string {
	if to.IsZero() {
		return "n/a"
	}
	return to.Sub(from).Round(time.Millisecond).String()
}

// TestFreezeDuringActionFencedPromptly freezes a node while the DC waits
// for an action on it (the start of r2, which takes 4 s through the Dummy
// agent's op_sleep). The node's loss must lead to its fencing as promptly
// as when the cluster is idle (about 1 s of failure detection), not only
// once the lost action times out.
//
// The DC fails the RPCs in flight to a node that leaves the membership
// (crm/dc), so fencing does not wait for the lost action's timeout.
func TestFreezeDuringActionFencedPromptly(t *testing.T) {
	f := setupFencing(t, false)
	c := f.c
	c.load(f.observer, fmt.Sprintf("primitive r2 ocf:gocrm:Dummy params op_sleep=4 op start timeout=20s op monitor interval=10s timeout=20s\n"+
		"location r2-on-victim r2 100: %s\n", f.victim))
	if !waitFor(20*time.Second, func() bool {
		out, err := c.run(f.observer, 5*time.Second, "status")
		return err == nil && strings.Contains(out, "Starting "+f.victim)
	}) {
		t.Fatalf("r2 was never seen starting on %s:\n%s", f.victim, c.crm(f.observer, "status"))
	}
	pid, frozenAt := c.freeze(f.victim)
	const limit = 10 * time.Second
	var requested logEvent
	ok := waitFor(limit, func() bool {
		evs, err := c.readLogs()
		if err != nil {
			return false
		}
		var found bool
		requested, found = firstEvent(evs, frozenAt.Truncate(time.Millisecond),
			map[string]string{"msg": "fencing requested", "target": f.victim}, nil)
		return found
	})
	if !ok {
		t.Fatalf("%s (pid %d, state %q) frozen during the start of r2 was not fenced within %v",
			f.victim, pid, procState(pid), limit)
	}
	t.Logf("freeze during r2 start -> fencing requested after %v", requested.at.Sub(frozenAt).Round(time.Millisecond))
}
