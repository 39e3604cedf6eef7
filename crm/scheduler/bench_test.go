package scheduler_test

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

const (
	benchExecDate = 1750000000
	benchDigest0  = "f2317cad3d54cec5d7d7aa7d0bf35cf8"
	benchDigest10 = "4811cef7f7f94e3a35a70be7916cb2fd"
)

// syntheticCIB builds a CIB with nodes cluster nodes and rscs Dummy
// primitives, deterministic for a seed: 10% location preferences, 2% bans,
// 5% colocations and 5% mandatory orders (always later-with/after-earlier,
// so no loops), one node offline and one in standby, 80% of the older
// resources running, the newest 10% without history, two failed monitors.
func syntheticCIB(nodes, rscs int, seed int64) string {
	rng := rand.New(rand.NewSource(seed))
	var b strings.Builder
	fmt.Fprintf(&b, `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1" execution-date="%d">`, benchExecDate)
	b.WriteString(`<configuration><crm_config><cluster_property_set id="opts">` +
		`<nvpair id="opts-se" name="stonith-enabled" value="false"/>` +
		`<nvpair id="opts-nqp" name="no-quorum-policy" value="stop"/></cluster_property_set></crm_config><nodes>`)
	for n := 1; n <= nodes; n++ {
		fmt.Fprintf(&b, `<node id="%d" uname="node%d">`, n, n)
		if n == 2 {
			fmt.Fprintf(&b, `<instance_attributes id="na-%d"><nvpair id="na-%d-sb" name="standby" value="on"/></instance_attributes>`, n, n)
		}
		b.WriteString(`</node>`)
	}
	b.WriteString(`</nodes><resources>`)
	for r := 1; r <= rscs; r++ {
		fmt.Fprintf(&b, `<primitive id="rsc%d" class="ocf" provider="pacemaker" type="Dummy"><operations>`+
			`<op id="rsc%d-mon" name="monitor" interval="10s" timeout="20s"/></operations></primitive>`, r, r)
	}
	b.WriteString(`</resources><constraints>`)
	node := func() int { return 1 + rng.Intn(nodes) }
	for i := 0; i < rscs/10; i++ {
		score := fmt.Sprint(50 + rng.Intn(450))
		if rng.Intn(5) == 0 {
			score = "INFINITY"
		}
		fmt.Fprintf(&b, `<rsc_location id="loc%d" rsc="rsc%d" node="node%d" score="%s"/>`, i, 1+rng.Intn(rscs), node(), score)
	}
	for i := 0; i < rscs/50; i++ {
		fmt.Fprintf(&b, `<rsc_location id="ban%d" rsc="rsc%d" node="node%d" score="-INFINITY"/>`, i, 1+rng.Intn(rscs), node())
	}
	pair := func() (int, int) {
		a, c := 1+rng.Intn(rscs), 1+rng.Intn(rscs)
		for a == c {
			c = 1 + rng.Intn(rscs)
		}
		if a > c {
			a, c = c, a
		}
		return a, c
	}
	for i := 0; i < rscs/20; i++ {
		a, c := pair()
		score := "INFINITY"
		if rng.Intn(2) == 0 {
			score = "200"
		}
		fmt.Fprintf(&b, `<rsc_colocation id="col%d" rsc="rsc%d" with-rsc="rsc%d" score="%s"/>`, i, c, a, score)
	}
	for i := 0; i < rscs/20; i++ {
		a, c := pair()
		fmt.Fprintf(&b, `<rsc_order id="ord%d" first="rsc%d" then="rsc%d" kind="Mandatory"/>`, i, a, c)
	}
	b.WriteString(`</constraints><rsc_defaults><meta_attributes id="rd">` +
		`<nvpair id="rd-st" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults></configuration><status>`)

	old := rscs - rscs/10
	where := make([]int, rscs+1) // 0: not running
	for r := 1; r <= old; r++ {
		if rng.Intn(10) < 8 {
			where[r] = node()
		}
	}
	failed := map[int]bool{}
	for len(failed) < 2 && old > 0 {
		if r := 1 + rng.Intn(old); where[r] != 0 && where[r] != nodes {
			failed[r] = true
		}
	}
	call := 0
	opXML := func(r, n int, task string, interval, rc, target int) {
		call++
		key := fmt.Sprintf("%d:1:%d:00000000-0000-0000-0000-000000000000", call, target)
		digest := benchDigest0
		if interval > 0 {
			digest = benchDigest10
		}
		fmt.Fprintf(&b, `<lrm_rsc_op id="rsc%d_%s_%d" operation_key="rsc%d_%s_%d" operation="%s" crm-debug-origin="bench" `+
			`crm_feature_set="3.16.1" transition-key="%s" transition-magic="0:%d;%s" on_node="node%d" call-id="%d" `+
			`rc-code="%d" op-status="0" interval="%d" last-rc-change="%d" exec-time="10" queue-time="0" op-digest="%s"/>`,
			r, task, interval, r, task, interval, task, key, rc, key, n, call, rc, interval, benchExecDate-3600, digest)
	}
	for n := 1; n <= nodes; n++ {
		if n == nodes { // the last node is cleanly offline
			fmt.Fprintf(&b, `<node_state id="%d" uname="node%d" in_ccm="false" crmd="offline" join="down" expected="down"/>`, n, n)
			continue
		}
		fmt.Fprintf(&b, `<node_state id="%d" uname="node%d" in_ccm="true" crmd="online" join="member" expected="member">`+
			`<lrm id="%d"><lrm_resources>`, n, n, n)
		for r := 1; r <= old; r++ {
			fmt.Fprintf(&b, `<lrm_resource id="rsc%d" class="ocf" provider="pacemaker" type="Dummy">`, r)
			if where[r] == n {
				opXML(r, n, "start", 0, 0, 0)
				rc := 0
				if failed[r] {
					rc = 7
				}
				opXML(r, n, "monitor", 10000, rc, 0)
			} else {
				opXML(r, n, "monitor", 0, 7, 7)
			}
			b.WriteString(`</lrm_resource>`)
		}
		b.WriteString(`</lrm_resources></lrm></node_state>`)
	}
	b.WriteString(`</status></cib>`)
	return b.String()
}

func TestSyntheticCIBSchedules(t *testing.T) {
	c, err := cib.Parse([]byte(syntheticCIB(8, 200, 1)))
	if err != nil {
		t.Fatalf("parse synthetic CIB: %v", err)
	}
	tr, err := scheduler.Schedule(c, time.Time{})
	if err != nil {
		t.Fatalf("schedule: %v", err)
	}
	// The offline node8 and standby node2 force moves, the newest 10%
	// start, the two failed monitors recover: there is work to do, and
	// nothing may be placed on the standby or offline node.
	if len(tr.Summary) == 0 || len(tr.GraphActions()) == 0 {
		t.Fatalf("empty transition for the synthetic CIB")
	}
	recovers := 0
	for _, l := range tr.Summary {
		if strings.HasPrefix(l, "Recover") {
			recovers++
		}
	}
	if recovers != 2 {
		t.Errorf("%d Recover lines, want 2 (the failed monitors)", recovers)
	}
	for i := 1; i <= 200; i++ {
		r := tr.Cluster.Resource(fmt.Sprintf("rsc%d", i))
		if r.Assigned != nil && (r.Assigned.Name == "node2" || r.Assigned.Name == "node8") {
			t.Errorf("%s assigned to unavailable %s", r.ID, r.Assigned.Name)
		}
	}
}

// BenchmarkSchedule schedules synthetic CIBs (16 nodes); the CIB is parsed
// once, outside the timer (Schedule does not modify its input).
func BenchmarkSchedule(b *testing.B) {
	for _, m := range []int{100, 1000} {
		b.Run(fmt.Sprintf("16x%d", m), func(b *testing.B) {
			doc := syntheticCIB(16, m, 1)
			c, err := cib.Parse([]byte(doc))
			if err != nil {
				b.Fatalf("parse: %v", err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var lines int
			for i := 0; i < b.N; i++ {
				tr, err := scheduler.Schedule(c, time.Time{})
				if err != nil {
					b.Fatal(err)
				}
				lines = len(tr.Summary)
			}
			b.ReportMetric(float64(lines), "summary-lines")
			b.ReportMetric(float64(len(doc))/1e6, "cib-MB")
		})
	}
}

// BenchmarkParseAndSchedule includes XML parsing, as a controller
// receiving a fresh CIB would pay it.
func BenchmarkParseAndSchedule(b *testing.B) {
	doc := []byte(syntheticCIB(16, 1000, 1))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := cib.Parse(doc)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := scheduler.Schedule(c, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

// syntheticCases are larger random CIBs from syntheticCIB stored under
// testdata/cases so that the oracle tests also cover them. Run with
// SCHED_WRITE_SYNTHETIC=1 to rewrite them (then testdata/regen.sh).
var syntheticCases = []struct {
	nodes, rscs int
	seed        int64
}{{5, 40, 1}, {8, 60, 2}, {12, 80, 3}}

func TestSyntheticCasesUpToDate(t *testing.T) {
	for _, sc := range syntheticCases {
		path := filepath.Join(casesDir, fmt.Sprintf("synthetic-%dx%d-s%d.xml", sc.nodes, sc.rscs, sc.seed))
		doc := syntheticCIB(sc.nodes, sc.rscs, sc.seed) + "\n"
		if os.Getenv("SCHED_WRITE_SYNTHETIC") != "" {
			if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		have, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with SCHED_WRITE_SYNTHETIC=1, then testdata/regen.sh)", err)
		}
		if string(have) != doc {
			t.Errorf("%s is stale: run with SCHED_WRITE_SYNTHETIC=1, then testdata/regen.sh", path)
		}
	}
}
