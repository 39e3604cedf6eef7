package scheduler_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// knownNotifyGraphBugs lists notify cases whose notification graph differs
// from crm_simulate's while the bug is open.
var knownNotifyGraphBugs = map[string]string{}

var (
	instanceSuffix = regexp.MustCompile(`([A-Za-z0-9_.-]+?):\d+_`)
	notifyDone     = regexp.MustCompile(`_notify_(running|stopped|promoted|demoted|stonith)_0`)
)

// normalizeNotifyLine makes crm_simulate's dot names of clone instance
// actions comparable with ours: the dot names an instance by the history
// id it was found under (cA, or cA:N for a new one), and names its
// notifications by the boundary's completion (cA_post_notify_running_0)
// or by the task (cA:2_post_notify_start_0), depending on that. Both
// sides drop instance numbers and name every notification by its task.
func normalizeNotifyLine(l string) string {
	l = instanceSuffix.ReplaceAllString(l, "${1}_")
	return notifyDone.ReplaceAllStringFunc(l, func(m string) string {
		task := map[string]string{"running": "start", "stopped": "stop", "promoted": "promote",
			"demoted": "demote", "stonith": "stop"}[notifyDone.FindStringSubmatch(m)[1]]
		return "_notify_" + task + "_0"
	})
}

func notifySubgraph(lines []string) []string {
	set := map[string]bool{}
	for _, l := range lines {
		if strings.Contains(l, "notify") {
			set[normalizeNotifyLine(l)] = true
		}
	}
	out := make([]string, 0, len(set))
	for l := range set {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// TestOracleNotifyGraphs compares, for every case with clone
// notifications, the notification actions and every ordering touching
// them with crm_simulate's graph (names normalised, see
// normalizeNotifyLine).
func TestOracleNotifyGraphs(t *testing.T) {
	for _, name := range caseNames(t) {
		xml, err := os.ReadFile(filepath.Join(casesDir, name+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(xml), `name="notify" value="true"`) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			// An empty expectation is meaningful too (nothing to notify,
			// e.g. a blocked stop): we must then schedule none either.
			want := notifySubgraph(readLines(t, filepath.Join(casesDir, name+".graph")))
			got := notifySubgraph(graphLines(scheduleFile(t, filepath.Join(casesDir, name+".xml"))))
			diff := ""
			if missing, extra := multisetDiff(want, got); len(missing) > 0 || len(extra) > 0 {
				diff = fmt.Sprintf("notification graph differs from crm_simulate\nmissing:\n  %s\nextra:\n  %s",
					strings.Join(missing, "\n  "), strings.Join(extra, "\n  "))
			}
			judge(t, knownNotifyGraphBugs, "knownNotifyGraphBugs", name, diff)
		})
	}
}
