package scheduler_test

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/crm/scheduler"
)

// graphAction returns the in-graph action with the given key on node ("" for
// none), failing the test when there is not exactly one.
func graphAction(t *testing.T, tr *scheduler.Transition, key, node string) *scheduler.Action {
	t.Helper()
	var found []*scheduler.Action
	for _, a := range tr.GraphActions() {
		n := ""
		if a.Node != nil {
			n = a.Node.Name
		}
		if a.Key() == key && n == node {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one in-graph action %s on %q, found %d", key, node, len(found))
	}
	return found[0]
}

// notifyNodes returns the nodes of the in-graph notify actions with key
// suffix suffix (e.g. "_post_notify_stop_0"), sorted.
func notifyNodes(tr *scheduler.Transition, suffix string) []string {
	var out []string
	for _, a := range tr.GraphActions() {
		if a.Task == "notify" && !a.Pseudo && strings.HasSuffix(a.Key(), suffix) {
			out = append(out, a.Node.Name)
		}
	}
	sort.Strings(out)
	return out
}

func hasInput(a *scheduler.Action, key string) bool {
	for _, in := range a.Inputs() {
		if in.Key() == key && in.InGraph() {
			return true
		}
	}
	return false
}

func scheduleCase(t *testing.T, name string) *scheduler.Transition {
	t.Helper()
	return scheduleFile(t, filepath.Join(casesDir, name+".xml"))
}

// A stopping instance hears the pre-stop notification but not the
// post-stop one; the others hear both.
func TestNotifyStopRecipients(t *testing.T) {
	tr := scheduleCase(t, "notify-clone-stop-ban")
	if got := strings.Join(notifyNodes(tr, "_pre_notify_stop_0"), " "); got != "node1 node2 node3" {
		t.Errorf("pre-stop notifications on %q, want node1 node2 node3", got)
	}
	if got := strings.Join(notifyNodes(tr, "_post_notify_stop_0"), " "); got != "node1 node2" {
		t.Errorf("post-stop notifications on %q, want node1 node2", got)
	}
	stop := graphAction(t, tr, "CL_stop_0", "")
	if !hasInput(stop, "CL_confirmed-pre_notify_stop_0") {
		t.Error("CL_stop_0 does not wait for the confirmed pre-stop notifications")
	}
	post := graphAction(t, tr, "CL_post_notify_stopped_0", "")
	if !hasInput(post, "CL_stopped_0") {
		t.Error("post-stop notifications do not wait for CL_stopped_0")
	}
	// No start happens: the start notifications stay out of the graph.
	for _, a := range tr.GraphActions() {
		if strings.Contains(a.Key(), "notify_start") || strings.Contains(a.Key(), "notify_running") {
			t.Errorf("unexpected start notification %s in the graph", a)
		}
	}
}

// A starting instance hears only the post-start notification; instances
// already running hear both.
func TestNotifyStartRecipients(t *testing.T) {
	tr := scheduleCase(t, "notify-clone-start")
	if got := strings.Join(notifyNodes(tr, "_pre_notify_start_0"), " "); got != "node1" {
		t.Errorf("pre-start notifications on %q, want node1", got)
	}
	if got := strings.Join(notifyNodes(tr, "_post_notify_start_0"), " "); got != "node1 node2 node3" {
		t.Errorf("post-start notifications on %q, want node1 node2 node3", got)
	}
	// New instances' recurring monitors wait for the post notifications.
	for _, a := range tr.GraphActions() {
		if a.Task == "monitor" && a.Interval > 0 && !hasInput(a, "CL_confirmed-post_notify_running_0") {
			t.Errorf("%s does not wait for the post-start notifications", a)
		}
	}
}

// The victim of fencing hears nothing; the survivors hear of the implied
// stop right after the fencing, through notifications shared with the
// clone's own post-stop notifications.
func TestNotifyAfterFencing(t *testing.T) {
	tr := scheduleCase(t, "notify-clone-fence")
	if got := strings.Join(notifyNodes(tr, "_notify_stop_0"), " "); got != "node1 node1 node2 node2" {
		t.Errorf("stop notifications on %q, want pre and post on node1 and node2", got)
	}
	var post *scheduler.Action
	for _, a := range tr.GraphActions() {
		if a.Pseudo && strings.HasSuffix(a.Key(), "_post_notify_stonith_0") {
			post = a
		}
	}
	if post == nil {
		t.Fatal("no INSTANCE_post_notify_stonith_0 pseudo action")
	}
	if len(post.Inputs()) != 1 || post.Inputs()[0].Task != "stonith" {
		t.Errorf("%s inputs %v, want the fencing of node3", post, post.Inputs())
	}
	for _, a := range tr.GraphActions() {
		if a.Task != "notify" || a.Pseudo || !strings.HasSuffix(a.Key(), "_post_notify_stop_0") {
			continue
		}
		if !hasInput(a, post.Key()) || !hasInput(a, "CL_post_notify_stopped_0") {
			t.Errorf("%s inputs %v, want both post-stop boundaries", a, a.Inputs())
		}
		if a.NotifyMeta["notify_stop_resource"] == "" || a.NotifyMeta["notify_stop_uname"] == " " {
			t.Errorf("%s: no stop list in %v", a, a.NotifyMeta)
		}
	}
}

// A notifying clone's task is complete for the resources ordered after it
// once its post-notifications are confirmed.
func TestNotifyOrderingRemap(t *testing.T) {
	tr := scheduleCase(t, "notify-clone-then-prim")
	start := graphAction(t, tr, "P_start_0", "node1")
	if !hasInput(start, "CL_confirmed-post_notify_running_0") {
		t.Errorf("P start inputs %v, want CL_confirmed-post_notify_running_0", start.Inputs())
	}
	if hasInput(start, "CL_running_0") {
		t.Error("P start is ordered after CL_running_0 instead of the confirmed notifications")
	}
}

// Demotions are notified, then promotions, each phase after the previous
// one's post-notifications; the meta data lists every instance's change,
// as crm_simulate's graph shows for this case.
func TestNotifyPromotableMeta(t *testing.T) {
	tr := scheduleCase(t, "notify-promotable-move")
	pre := graphAction(t, tr, "MS_pre_notify_promote_0", "")
	if !hasInput(pre, "MS_confirmed-post_notify_demoted_0") {
		t.Errorf("%s inputs %v, want MS_confirmed-post_notify_demoted_0", pre, pre.Inputs())
	}
	a := graphAction(t, tr, "cS:2_pre_notify_promote_0", "node3")
	want := map[string]string{
		"notify_type": "pre", "notify_operation": "promote",
		"notify_key_type": "pre", "notify_key_operation": "promote",
		"notify_active_resource": "cS:0 cS:1 cS:2", "notify_active_uname": "node1 node2 node3",
		"notify_all_uname": "node1 node2 node3", "notify_available_uname": "node1 node2 node3",
		"notify_demote_resource": "cS:0", "notify_demote_uname": "node1",
		"notify_promote_resource": "cS:1", "notify_promote_uname": "node2",
		"notify_inactive_resource": " ",
		"notify_master_resource":   "cS:0", "notify_master_uname": "node1",
		"notify_promoted_resource": "cS:0", "notify_promoted_uname": "node1",
		"notify_slave_resource": "cS:1 cS:2", "notify_slave_uname": "node2 node3",
		"notify_unpromoted_resource": "cS:1 cS:2", "notify_unpromoted_uname": "node2 node3",
		"notify_start_resource": " ", "notify_start_uname": " ",
		"notify_stop_resource": " ", "notify_stop_uname": " ",
	}
	for k, v := range want {
		if got, ok := a.NotifyMeta[k]; !ok || got != v {
			t.Errorf("%s meta %s = %q, want %q", a, k, got, v)
		}
	}
	if len(a.NotifyMeta) != len(want) {
		t.Errorf("%s has %d meta entries, want %d: %v", a, len(a.NotifyMeta), len(want), a.NotifyMeta)
	}
	post := graphAction(t, tr, "cS:0_post_notify_demote_0", "node1")
	if post.NotifyMeta["notify_key_operation"] != "demoted" || post.NotifyMeta["notify_type"] != "post" {
		t.Errorf("%s meta %v, want a post-demote notification", post, post.NotifyMeta)
	}
	// The task's own actions carry the lists too.
	promote := graphAction(t, tr, "cS:1_promote_0", "node2")
	if promote.NotifyMeta["notify_promote_uname"] != "node2" {
		t.Errorf("promote meta %v, want the notification lists", promote.NotifyMeta)
	}
}
