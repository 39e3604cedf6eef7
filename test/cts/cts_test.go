package cts

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/internal/testbin"
	"github.com/gocrm/gocrm/test/cts/invariant"
)

// bins holds crmd and crm, built once per test binary run.
var bins = &testbin.Set{Prefix: "cts"}

func TestMain(m *testing.M) {
	os.Exit(bins.Run(m))
}

// binaries builds crmd and crm once per test binary run, or skips.
func binaries(t *testing.T) (crmd, crm string) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the CTS campaign in -short mode (starts 4 crmd processes, 1-3 min)")
	}
	if runtime.GOOS != "linux" {
		t.Skipf("the CTS lab needs Linux /proc, not %s", runtime.GOOS)
	}
	dir := bins.Dir(t)
	return filepath.Join(dir, "crmd"), filepath.Join(dir, "crm")
}

// webServer builds the campaign's web server (test/cts/cmd/ctshttpd) next
// to crmd once per test binary run.
func webServer(t *testing.T) string {
	t.Helper()
	return bins.Build(t, "./test/cts/cmd/ctshttpd")
}

// labMode returns whether to use network namespaces and tmpfs: as root
// with ip(8) and nsenter(1), else loopback.
func labMode(t *testing.T) (netns, tmpfs bool) {
	if os.Geteuid() != 0 {
		t.Log("not root: running on 127.0.0.1 without partition and disk faults")
		return false, false
	}
	for _, tool := range []string{"ip", "nsenter", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Logf("%s not found: running on 127.0.0.1 without partition and disk faults", tool)
			return false, false
		}
	}
	return true, true
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestShortCampaign runs a short seeded campaign (CTS_SEED, CTS_FAULTS,
// default 1 and 8): no invariant may be violated.
func TestShortCampaign(t *testing.T) {
	crmd, crm := binaries(t)
	netns, tmpfs := labMode(t)
	var out bytes.Buffer
	res, err := Run(context.Background(), Config{Seed: uint64(envInt("CTS_SEED", 1)), Faults: envInt("CTS_FAULTS", 8),
		CRMD: crmd, CRM: crm, HTTPD: webServer(t), Dir: t.TempDir(), Netns: netns, Tmpfs: tmpfs, Budget: 4 * time.Minute,
		KeepLogs: filepath.Join(os.TempDir(), fmt.Sprintf("gocrm-cts-logs-%d", time.Now().Unix())), Out: &out})
	t.Logf("campaign output:\n%s", out.String())
	if err != nil {
		t.Fatalf("campaign: %v", err)
	}
	if res.Setup != nil {
		t.Errorf("campaign stopped early: %v", res.Setup)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := fmt.Sprintf("faults %d violations %d", len(res.Faults), len(res.Violations))
	if last := lines[len(lines)-1]; last != want {
		t.Errorf("last line %q, want %q", last, want)
	}
	for _, v := range res.Violations {
		t.Errorf("violation: %s", v)
	}
	if len(res.Faults) == 0 {
		t.Error("no fault was injected")
	}
}

// TestTwoNodeShortCampaign runs a few faults (CTS_TWONODE_FAULTS, default
// 3) against a two-node-mode pair: no invariant may be violated.
func TestTwoNodeShortCampaign(t *testing.T) {
	crmd, crm := binaries(t)
	netns, tmpfs := labMode(t)
	var out bytes.Buffer
	res, err := Run(context.Background(), Config{Seed: uint64(envInt("CTS_SEED", 1)), Faults: envInt("CTS_TWONODE_FAULTS", 3),
		CRMD: crmd, CRM: crm, HTTPD: webServer(t), Dir: t.TempDir(), Netns: netns, Tmpfs: tmpfs, TwoNode: true,
		Budget: 3 * time.Minute, Out: &out})
	t.Logf("campaign output:\n%s", out.String())
	if err != nil {
		t.Fatalf("campaign: %v", err)
	}
	if res.Setup != nil {
		t.Errorf("campaign stopped early: %v", res.Setup)
	}
	for _, v := range res.Violations {
		t.Errorf("violation: %s", v)
	}
	if len(res.Faults) == 0 {
		t.Error("no fault was injected")
	}
}

// TestPlantedBugCaught runs crmd with the planted bug GOCRM_CTS_PLANT=
// skip-fence-wait (the DC treats fencing as confirmed at once and fences
// 3 s later) and freezes nodes running resources: the checker must report
// the resource started elsewhere before the frozen node was fenced.
func TestPlantedBugCaught(t *testing.T) {
	crmd, crm := binaries(t)
	netns, tmpfs := labMode(t)
	var out bytes.Buffer
	res, err := Run(context.Background(), Config{Seed: 7, Faults: 2, CRMD: crmd, CRM: crm, Dir: t.TempDir(),
		Netns: netns, Tmpfs: tmpfs, Plant: "skip-fence-wait", Kinds: []string{"freeze-long"}, Budget: 3 * time.Minute, Out: &out})
	t.Logf("campaign output:\n%s", out.String())
	if err != nil {
		t.Fatalf("campaign: %v", err)
	}
	caught := map[string]int{}
	for _, v := range res.Violations {
		caught[v.Invariant]++
	}
	if caught[invariant.FenceOrder] == 0 {
		t.Errorf("the checker did not report the planted bug as a fence-order violation (got %v)", caught)
	}
	if caught[invariant.ActiveOnce] == 0 {
		t.Errorf("the sampler did not see the resource active on the frozen node and its new node at once (got %v)", caught)
	}
	if !strings.HasSuffix(strings.TrimSpace(out.String()), fmt.Sprintf("faults %d violations %d", len(res.Faults), len(res.Violations))) {
		t.Errorf("last line does not report the violations")
	}
}

func TestParseEvent(t *testing.T) {
	for _, c := range []struct {
		line string
		kind invariant.EventKind
		node string
		rsc  string
	}{
		{`time=2026-11-24T03:16:56.903Z level=INFO msg="operation complete" node=n2 component=lrm rsc=d3 op=d3_start_0 call=8 rc=0 status=complete exec_ms=0 reason=""`,
			invariant.Started, "n2", "d3"},
		{`time=2026-11-24T03:16:56.903Z level=INFO msg="operation complete" node=n2 component=lrm rsc=d3 op=d3_stop_0 call=8 rc=0 status=complete`,
			invariant.Stopped, "n2", "d3"},
		{`time=2026-11-24T03:16:56.903Z level=INFO msg="operation complete" node=n2 component=lrm rsc=d3 op=d3_monitor_0 call=8 rc=0 status=complete`,
			invariant.Found, "n2", "d3"},
		{`time=2026-11-24T03:16:56.903Z level=INFO msg="operation complete" node=n2 component=lrm rsc=d3 op=d3_monitor_2000 call=8 rc=7 status=complete reason="No process state file found"`,
			invariant.Stopped, "n2", "d3"},
		{`time=2026-11-24T03:16:56.903Z level=INFO msg="operation complete" node=n2 rsc=d3 op=d3_monitor_0 call=1 rc=7 status=complete`,
			invariant.Stopped, "n2", "d3"},
		{`time=2026-11-24T03:16:56.901Z level=WARN msg="node fenced" node=n2 component=stonith target=n1 record="reboot of n1 by n2 for crmd@n2: done"`,
			invariant.NodeDown, "n1", ""},
	} {
		ev, ok := parseEvent("n2", c.line)
		if !ok || ev.Kind != c.kind || ev.Node != c.node || ev.Rsc != c.rsc {
			t.Errorf("%s\n got %+v ok=%v", c.line, ev, ok)
		}
	}
	for _, line := range []string{
		`time=2026-11-24T03:16:56.903Z level=INFO msg="operation complete" node=n2 rsc=d3 op=d3_start_0 call=1 rc=1 status=complete`,
		`time=2026-11-24T03:16:56.903Z level=INFO msg="operation complete" node=n2 rsc=d3 op=d3_start_0 call=1 rc=0 status=timeout`,
		`time=2026-11-24T03:16:56.903Z level=INFO msg="transition started" node=n2`,
		`garbage "operation complete"`,
	} {
		if ev, ok := parseEvent("n2", line); ok {
			t.Errorf("%s\n parsed as %+v", line, ev)
		}
	}
}

func TestHasLocal(t *testing.T) {
	fib := `Local:
  +-- 0.0.0.0/0 3 0 5
     +-- 10.99.0.0/24 2 0 2
        |-- 10.99.0.11
           /32 host LOCAL
        |-- 10.99.0.100
           /32 host LOCAL
        |-- 10.99.0.255
           /32 link BROADCAST
`
	if !hasLocal(fib, "10.99.0.100") || !hasLocal(fib, "10.99.0.11") || hasLocal(fib, "10.99.0.255") || hasLocal(fib, "10.99.0.1") {
		t.Error("hasLocal misreads fib_trie")
	}
}

func TestHelpers(t *testing.T) {
	x := `<cib epoch="3"><configuration><crm_config><cluster_property_set id="cts-markers">` +
		`<nvpair id="a" name="cts-marker-1" value="x"/><nvpair id="b" name="cts-marker-12" value="y"/>` +
		`</cluster_property_set></crm_config></configuration><status/></cib>`
	if got := strings.Join(markersIn(x), ","); got != "cts-marker-1,cts-marker-12" {
		t.Errorf("markersIn: %s", got)
	}
	if got := configSection(x); !strings.HasPrefix(got, "<configuration>") || strings.Contains(got, "status") {
		t.Errorf("configSection: %s", got)
	}
	ds := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if percentile(ds, .5) != 5 || percentile(ds, .9) != 9 || percentile(ds, 1) != 10 || percentile(nil, .5) != 0 {
		t.Error("percentile")
	}
}
