package daemon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gocrm/gocrm/crm/noderpc"
)

// TestActionsRefusedBeforeFirstAnnouncement: until a crmd process has
// cleared the status of its previous incarnation it refuses actions, whose
// history the clearing would wipe.
func TestActionsRefusedBeforeFirstAnnouncement(t *testing.T) {
	d := &Daemon{}
	_, err := d.handleAction(context.Background(), noderpc.ActionRequest{Term: 1, Task: "start", Rsc: "r",
		Class: "ocf", Provider: "gocrm", Type: "Dummy"})
	if !errors.Is(err, errNotAnnounced) {
		t.Fatalf("action before the first announcement: %v, want %v", err, errNotAnnounced)
	}
}

// TestReannounceKeepsRunningHistory: a node that re-announces itself (as
// when quorum returns) while it runs a resource with nothing in progress in
// its LRM (no recurring monitor) keeps that resource's history. Clearing it
// showed the node cleanly down with nothing running for a moment, and the
// DC started the resource a second time elsewhere (CTS fence-order
// violation after a 2|2 split healed).
func TestReannounceKeepsRunningHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node cluster test skipped in -short mode")
	}
	tc, starts := newCountingCluster(t, "a1", "a2", "a3")
	tc.waitConfigNodes(3)
	tc.configure(`<configuration><crm_config><cluster_property_set id="opts">
<nvpair id="opts-stonith" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/>
<resources><primitive id="quiet" class="ocf" provider="gocrm" type="Dummy"/></resources>
<constraints/></configuration>`)
	tc.waitIdleRunning("quiet running", "quiet")
	holder := runningOn(tc.dc(), "quiet")[0]
	n := tc.nodes[holder]
	if p := n.lrm.Pending(); len(p) != 0 {
		t.Fatalf("precondition: %s's LRM has operations in progress: %+v", holder, p)
	}
	n.reannounce <- struct{}{}
	// The announcement runs at once; watch the history for 3 s (in the
	// DC's CIB: a follower's copy may lag behind).
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if d := tc.dc(); d != nil && !startRecorded(d.Store().Current(), holder, "quiet") {
			t.Fatalf("the start of quiet on %s vanished from the CIB when %s re-announced itself", holder, holder)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tc.waitIdleRunning("quiet still running", "quiet")
	if on := runningOn(tc.dc(), "quiet"); len(on) != 1 || on[0] != holder {
		t.Errorf("quiet runs on %v, want [%s]", on, holder)
	}
	if got := starts.get("quiet"); got != 1 {
		t.Errorf("quiet started %d times, want 1", got)
	}
}
