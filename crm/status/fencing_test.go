package status

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/stonith/fsm"
)

// The expectations below follow Pacemaker 2.1.5's fencing displays
// (stonith__history_description and the failed/pending/fencing lists of
// crm_mon, stonith_admin --history): derived from its behaviour, as a
// CIB_file crm_mon has no fencer and shows no history to compare with.

var t0 = time.Date(2026, 11, 24, 3, 2, 19, 123456789, time.UTC)

func rec(id, target string, action fsm.Action, state fsm.State, delegate string, completed time.Time, reason string) fsm.Record {
	return fsm.Record{ID: id, Target: target, Action: action, Origin: "node1", Client: "crmd", Delegate: delegate,
		State: state, Created: completed.Add(-time.Second), Completed: completed, Error: reason}
}

func TestFenceTime(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	west := time.FixedZone("X", -(4*3600 + 30*60))
	for _, c := range []struct {
		loc  *time.Location
		want string
	}{
		{nil, "2026-11-24 03:02:19Z"},
		{time.UTC, "2026-11-24 03:02:19Z"},
		{cet, "2026-11-24 04:02:19 +01:00"},
		{west, "2026-11-23 22:32:19 -04:30"},
	} {
		if got := FenceTime(t0, c.loc); got != c.want {
			t.Errorf("FenceTime(%v) = %q, want %q", c.loc, got, c.want)
		}
	}
}

func TestParseFenceLevel(t *testing.T) {
	for in, want := range map[string]FenceLevel{"": FenceWithSuccesses, "0": FenceOff, "1": FenceFailedPending, "3": FenceFull} {
		if got, err := ParseFenceLevel(in); err != nil || got != want {
			t.Errorf("ParseFenceLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"4", "-1", "x"} {
		if _, err := ParseFenceLevel(in); !errors.Is(err, ErrBadFenceLevel) {
			t.Errorf("ParseFenceLevel(%q) error %v, want ErrBadFenceLevel", in, err)
		}
	}
}

func TestFenceDescription(t *testing.T) {
	failed := rec("a", "node2", fsm.ActionReboot, fsm.StateFailed, "node1", t0, "device broken")
	done := rec("b", "node2", fsm.ActionReboot, fsm.StateDone, "node3", t0, "")
	pending := fsm.Record{ID: "c", Target: "node2", Action: fsm.ActionOff, Origin: "node1", Client: "crmd", State: fsm.StatePending, Created: t0}
	on := rec("d", "node4", fsm.ActionOn, fsm.StateDone, "", t0, "")
	for _, c := range []struct {
		r            fsm.Record
		full, detail bool
		later        string
		want         string
	}{
		{failed, false, false, "", "reboot of node2 by node1 for crmd@node1 last failed (device broken) at 2026-11-24 03:02:19Z"},
		{failed, true, false, "node3", "reboot of node2 by node1 for crmd@node1 failed (device broken) at 2026-11-24 03:02:19Z (a later attempt from node3 succeeded)"},
		{done, true, false, "", "reboot of node2 by node3 for crmd@node1 successful at 2026-11-24 03:02:19Z"},
		{pending, false, false, "", "turning off of node2 for crmd@node1 last pending"},
		{on, true, false, "", "unfencing of node4 for crmd@node1 successful at 2026-11-24 03:02:19Z"},
		{failed, true, true, "", "reboot of node2 failed (device broken): delegate=node1, client=crmd, origin=node1, completed='2026-11-24 03:02:19Z'"},
		{failed, false, true, "", "reboot of node2 failed (device broken): delegate=node1, client=crmd, origin=node1, last-failed='2026-11-24 03:02:19Z'"},
		{done, false, true, "", "reboot of node2 successful: delegate=node3, client=crmd, origin=node1, last-successful='2026-11-24 03:02:19Z'"},
		{pending, true, true, "", "turning off of node2 pending: client=crmd, origin=node1"},
	} {
		if got := FenceDescription(c.r, c.full, c.detail, c.later, time.UTC); got != c.want {
			t.Errorf("FenceDescription(%s %s, full=%v, detail=%v):\n got %q\nwant %q", c.r.Action, c.r.State, c.full, c.detail, got, c.want)
		}
	}
}

// history: two failed reboots of node2 from node1, then a success from
// node1, one failed reboot of node3 and a pending off of node3.
func history() []fsm.Record {
	return []fsm.Record{
		rec("f1", "node2", fsm.ActionReboot, fsm.StateFailed, "node1", t0, "sandbox: cannot fence node2"),
		rec("f2", "node2", fsm.ActionReboot, fsm.StateFailed, "node1", t0.Add(2*time.Second), "sandbox: cannot fence node2"),
		rec("s1", "node2", fsm.ActionReboot, fsm.StateDone, "node1", t0.Add(5*time.Second), ""),
		rec("f3", "node3", fsm.ActionReboot, fsm.StateFailed, "node1", t0.Add(3*time.Second), "timed out"),
		{ID: "p1", Target: "node3", Action: fsm.ActionOff, Origin: "node1", Client: "crmd", State: fsm.StatePending, Created: t0.Add(6 * time.Second)},
	}
}

func ids(recs []fsm.Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.ID)
	}
	return strings.Join(s, " ")
}

func TestSortAndReduce(t *testing.T) {
	h := history()
	h = append(h, fsm.Record{ID: "p2", Target: "node4", Action: fsm.ActionReboot, State: fsm.StatePending, Created: t0})
	sorted := SortFenceHistory(h)
	// Pending first (latest reported first), then newest completion first.
	if got, want := ids(sorted), "p2 p1 s1 f3 f2 f1"; got != want {
		t.Errorf("sorted %q, want %q", got, want)
	}
	if got, want := ids(ReduceFenceHistory(sorted)), "p2 p1 s1 f3 f2"; got != want {
		t.Errorf("reduced %q, want %q", got, want)
	}
	// Failures executed by different nodes are kept apart.
	other := rec("f4", "node2", fsm.ActionReboot, fsm.StateFailed, "node3", t0.Add(time.Second), "x")
	if got, want := ids(ReduceFenceHistory(SortFenceHistory(append(history(), other)))), "p1 s1 f3 f2 f4"; got != want {
		t.Errorf("reduced with a second executor %q, want %q", got, want)
	}
	if got := laterSucceeded(sorted, 4); got != "node1" {
		t.Errorf("later success of f2 = %q, want node1", got)
	}
	if got := laterSucceeded(sorted, 3); got != "" {
		t.Errorf("later success of f3 (node3) = %q, want none", got)
	}
}

// uncleanCIB has node2 lost with r1 running on it and fencing enabled.
const uncleanCIB = `<cib epoch="3" num_updates="1" admin_epoch="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="true"/>
      <nvpair id="o2" name="dc-version" value="2.1.5-1"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="fence1" class="stonith" type="sandbox"/>
      <primitive id="r1" class="ocf" provider="pacemaker" type="Dummy"/>
    </resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources>
        <lrm_resource id="fence1" class="stonith" type="sandbox">
          <lrm_rsc_op id="fence1_last_0" operation_key="fence1_start_0" operation="start" transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x" call-id="2" rc-code="0" op-status="0" interval="0"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="node2" in_ccm="false" crmd="offline" join="member" expected="member">
      <lrm id="2"><lrm_resources>
        <lrm_resource id="r1" class="ocf" provider="pacemaker" type="Dummy">
          <lrm_rsc_op id="r1_last_0" operation_key="r1_start_0" operation="start" transition-key="2:1:0:x" transition-magic="0:0;2:1:0:x" call-id="2" rc-code="0" op-status="0" interval="0"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
  </status>
</cib>`

func buildFenced(t *testing.T, cibXML string, opts Options) *Report {
	t.Helper()
	c, err := cib.Parse([]byte(cibXML))
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = t0.Add(time.Minute)
	opts.Location = time.UTC
	r, err := Build(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func text(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// tail returns out from the line "Failed Resource Actions:" or the first
// fencing section on.
func fenceTail(out string) string {
	i := strings.Index(out, "\nFull List of Resources:")
	j := strings.Index(out[i+1:], "\n\n")
	if j < 0 {
		return ""
	}
	return out[i+1+j+1:]
}

func TestFencingSectionsLevel1(t *testing.T) {
	r := buildFenced(t, sampleCIB, Options{FenceLevel: FenceFailedPending, FenceHistory: history()})
	got := fenceTail(text(t, r))
	want := `
Failed Resource Actions:
  * rsc1 10s-interval monitor on node1 returned 'not running' at Sun Sep  9 01:46:40 2001 after 2.500s

Failed Fencing Actions:
  * reboot of node3 by node1 for crmd@node1 last failed (timed out) at 2026-11-24 03:02:22Z
  * reboot of node2 by node1 for crmd@node1 last failed (sandbox: cannot fence node2) at 2026-11-24 03:02:21Z (a later attempt from node1 succeeded)

Pending Fencing Actions:
  * turning off of node3 for crmd@node1 last pending
`
	if got != want {
		t.Errorf("level 1 fencing sections:\n%s\nwant:\n%s", got, want)
	}
}

func TestFencingSectionsLevels2And3(t *testing.T) {
	// crm_mon 2.1.5 does not reduce the history at levels 2 and 3.
	want := `
Failed Fencing Actions:
  * reboot of node3 by node1 for crmd@node1 failed (timed out) at 2026-11-24 03:02:22Z
  * reboot of node2 by node1 for crmd@node1 failed (sandbox: cannot fence node2) at 2026-11-24 03:02:21Z (a later attempt from node1 succeeded)
  * reboot of node2 by node1 for crmd@node1 failed (sandbox: cannot fence node2) at 2026-11-24 03:02:19Z (a later attempt from node1 succeeded)

Fencing History:
  * turning off of node3 for crmd@node1 pending
  * reboot of node2 by node1 for crmd@node1 successful at 2026-11-24 03:02:24Z
`
	for _, lvl := range []FenceLevel{FenceWithSuccesses, FenceFull} {
		out := text(t, buildFenced(t, sampleCIB, Options{FenceLevel: lvl, FenceHistory: history()}))
		if !strings.HasSuffix(out, want) {
			t.Errorf("level %d output ends:\n%s\nwant suffix:\n%s", lvl, out, want)
		}
		if strings.Contains(out, "Pending Fencing Actions") {
			t.Errorf("level %d shows a Pending Fencing Actions section (crm_mon lists pending in Fencing History)", lvl)
		}
	}
}

func TestFencingSectionsOffOrEmpty(t *testing.T) {
	for _, opts := range []Options{
		{FenceLevel: FenceOff, FenceHistory: history()},
		{FenceLevel: FenceWithSuccesses},
	} {
		r := buildFenced(t, sampleCIB, opts)
		if out := text(t, r); strings.Contains(out, "Fencing") {
			t.Errorf("level %d with %d records shows fencing sections:\n%s", opts.FenceLevel, len(opts.FenceHistory), out)
		}
		var b bytes.Buffer
		if err := r.WriteXML(&b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "fence_history") {
			t.Errorf("level %d XML has fence_history:\n%s", opts.FenceLevel, b.String())
		}
	}
	r := buildFenced(t, sampleCIB, Options{FenceLevel: FenceFailedPending, FenceHistoryError: "connect to crmd: refused"})
	if out := text(t, r); !strings.Contains(out, "\nFailed Fencing Actions:\n  * Failed to get fencing history: connect to crmd: refused\n") {
		t.Errorf("history error not shown:\n%s", out)
	}
	var b bytes.Buffer
	if err := r.WriteXML(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<fence_history status="1"/>`) {
		t.Errorf("XML lacks the fence_history error status:\n%s", b.String())
	}
}

func TestFencingXML(t *testing.T) {
	r := buildFenced(t, sampleCIB, Options{FenceLevel: FenceFailedPending, FenceHistory: history()})
	var b bytes.Buffer
	if err := r.WriteXML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// crm_mon's XML has every section, the full history, between the
	// failures and the bans.
	want := `  <fence_history>
    <fence_event action="off" target="node3" client="crmd" origin="node1" status="pending" extended-status="1"/>
    <fence_event action="reboot" target="node2" client="crmd" origin="node1" status="success" delegate="node1" completed="2026-11-24 03:02:24Z"/>
    <fence_event action="reboot" target="node3" client="crmd" origin="node1" status="failed" exit-reason="timed out" delegate="node1" completed="2026-11-24 03:02:22Z"/>
    <fence_event action="reboot" target="node2" client="crmd" origin="node1" status="failed" exit-reason="sandbox: cannot fence node2" delegate="node1" completed="2026-11-24 03:02:21Z"/>
    <fence_event action="reboot" target="node2" client="crmd" origin="node1" status="failed" exit-reason="sandbox: cannot fence node2" delegate="node1" completed="2026-11-24 03:02:19Z"/>
  </fence_history>
`
	if !strings.Contains(out, want) {
		t.Fatalf("XML fence_history:\n%s\nwant:\n%s", out, want)
	}
	fi, hi, bi := strings.Index(out, "<failures>"), strings.Index(out, "<fence_history>"), strings.Index(out, "<bans>")
	if !(fi >= 0 && fi < hi && hi < bi) {
		t.Errorf("fence_history not between failures (%d) and bans (%d): at %d", fi, bi, hi)
	}
	if _, err := cib.ParseElement(b.Bytes()); err != nil {
		t.Errorf("XML does not parse: %v", err)
	}
}

func TestWaitsForFencingWarning(t *testing.T) {
	hist := []fsm.Record{
		rec("old", "node2", fsm.ActionReboot, fsm.StateDone, "node1", t0.Add(-time.Hour), ""),
		rec("f1", "node2", fsm.ActionReboot, fsm.StateFailed, "node1", t0, "sandbox: cannot fence node2"),
	}
	r := buildFenced(t, uncleanCIB, Options{FenceLevel: FenceFailedPending, FenceHistory: hist})
	out := text(t, r)
	for _, want := range []string{
		"  * WARNING: recovery of r1 waits for fencing of node node2 (UNCLEAN: peer is no longer part of the cluster); last reboot attempt failed at 2026-11-24 03:02:19Z: sandbox: cannot fence node2\n",
		"  * Node node2: UNCLEAN (offline)\n",
		"Started node2 (UNCLEAN)",
		"\nFailed Fencing Actions:\n  * reboot of node2 by node1 for crmd@node1 last failed (sandbox: cannot fence node2) at 2026-11-24 03:02:19Z\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	// A fencing in progress is said so; without any record only the wait.
	hist = append(hist, fsm.Record{ID: "p", Target: "node2", Action: fsm.ActionReboot, Origin: "node1", Client: "crmd", State: fsm.StatePending, Created: t0.Add(time.Second)})
	r = buildFenced(t, uncleanCIB, Options{FenceLevel: FenceFailedPending, FenceHistory: hist})
	if w := strings.Join(r.Warnings, "\n"); !strings.Contains(w, "waits for fencing of node node2 (UNCLEAN: peer is no longer part of the cluster); reboot in progress since 2026-11-24 03:02:20Z") {
		t.Errorf("pending fencing not described: %s", w)
	}
	r = buildFenced(t, uncleanCIB, Options{})
	if w := strings.Join(r.Warnings, "\n"); !strings.HasSuffix(w, "waits for fencing of node node2 (UNCLEAN: peer is no longer part of the cluster)") {
		t.Errorf("warning without history: %s", w)
	}
	// With fencing disabled nothing waits for it.
	r = buildFenced(t, strings.Replace(uncleanCIB, `name="stonith-enabled" value="true"`, `name="stonith-enabled" value="false"`, 1), Options{})
	if w := strings.Join(r.Warnings, "\n"); strings.Contains(w, "waits for fencing") {
		t.Errorf("stonith-enabled=false still waits for fencing: %s", w)
	}
}
