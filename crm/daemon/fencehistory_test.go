package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/stonith/fsm"
	"github.com/gocrm/gocrm/stonith/sandbox"
)

func TestFenceHistoryRecords(t *testing.T) {
	var h fenceHistory
	now := time.Unix(1000, 0)
	h.record(fsm.Record{ID: "a", Target: "n2", Action: fsm.ActionReboot, State: fsm.StatePending, Created: now})
	h.record(fsm.Record{ID: "b", Target: "n3", Action: fsm.ActionReboot, State: fsm.StatePending, Created: now})
	h.record(fsm.Record{ID: "a", Target: "n2", Action: fsm.ActionReboot, State: fsm.StateFailed, Created: now, Completed: now, Error: "x"})
	h.failed("n1", "N2", fsm.ActionOff, "no device", now)
	got := h.list("n2")
	if len(got) != 2 || got[0].ID != "a" || got[0].State != fsm.StateFailed || got[1].Action != fsm.ActionOff || got[1].Error != "no device" {
		t.Fatalf("history of n2 (case-insensitive, pending replaced by the result): %+v", got)
	}
	if all := h.list("*"); len(all) != 3 {
		t.Fatalf("whole history has %d records, want 3", len(all))
	}
	// The bound drops the oldest finished record and keeps running ones.
	for i := 0; i < maxFenceHistory; i++ {
		h.record(fsm.Record{ID: fmt.Sprint("x", i), Target: "n4", State: fsm.StateDone, Created: now, Completed: now})
	}
	all := h.list("")
	if len(all) != maxFenceHistory {
		t.Fatalf("history holds %d records, bound is %d", len(all), maxFenceHistory)
	}
	if all[0].ID != "b" || all[0].State != fsm.StatePending {
		t.Errorf("pending record b dropped by the bound; first is %+v", all[0])
	}
	for _, r := range all {
		if r.ID == "a" {
			t.Error("oldest finished record a kept beyond the bound")
		}
	}
}

func TestFenceHistoryConcurrent(t *testing.T) {
	var h fenceHistory
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				h.failed("n1", "n2", fsm.ActionReboot, "r", time.Now())
				_ = h.list("n2")
			}
		}()
	}
	wg.Wait()
	if n := len(h.list("n2")); n != 200 {
		t.Fatalf("%d records, want 200 (ids must be unique)", n)
	}
}

const ghostFencing = `<configuration><crm_config><cluster_property_set id="opts">
<nvpair id="opts-stonith" name="stonith-enabled" value="true"/>
<nvpair id="opts-timeout" name="stonith-timeout" value="5s"/>
</cluster_property_set></crm_config><nodes/>
<resources>
<primitive id="fence" class="stonith" type="sandbox">%s</primitive>
<primitive id="bad" class="stonith" type="sandbox"><instance_attributes id="bad-ia"><nvpair id="bad-u" name="nosuch" value="1"/></instance_attributes></primitive>
</resources><constraints/>
</configuration>`

// TestFenceHistoryAPI: a node configured but never seen (ghost) is fenced
// at startup; while the device refuses it the failures are in
// stonith.history, then the success. stonith.devices and stonith.status
// describe the devices, the bad one with its configuration error.
func TestFenceHistoryAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test skipped in -short mode")
	}
	k := sandbox.NewFakeKiller("h1", "ghost")
	cfg := Config{Name: "h1", DataDir: t.TempDir(), BindAddr: "127.0.0.1", GossipPort: freePorts(t), BootstrapExpect: 1,
		SocketPath: filepath.Join(t.TempDir(), "crmd.sock"), Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
		QuorumLease: 2 * time.Second, Killer: k, InsecureTransport: true,
		Logger: slog.New(slog.DiscardHandler)}
	if os.Getenv("GOCRM_TEST_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	err = d.Start(sctx)
	scancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Kill)
	waitFor(t, 20*time.Second, "h1 DC and in the configuration", func() bool {
		return d.IsDC() && len(d.Store().Current().Config.Nodes) == 1
	})
	apply := func(fenceParams string) {
		cur := d.Store().Current()
		x := withNodes(t, cur, fmt.Sprintf(ghostFencing, fenceParams))
		c, err := cib.Parse([]byte(x))
		if err != nil {
			t.Fatal(err)
		}
		c.Config.Nodes = append(c.Config.Nodes, &cib.Node{ID: "ghost", Uname: "ghost"})
		actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer acancel()
		if _, err := d.Raft().Apply(actx, store.Command{Op: store.OpReplaceConfiguration, XML: string(c.Marshal()), ExpectEpoch: store.EpochString(cur)}.Encode()); err != nil {
			t.Fatalf("configure: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := api.Dial(ctx, cfg.SocketPath)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	history := func() []fsm.Record {
		resp, err := cl.Do(ctx, api.Request{Op: api.OpFenceHistory, Node: "ghost"})
		if err != nil || resp.Fencing == nil {
			t.Fatalf("stonith.history: %+v %v", resp, err)
		}
		if resp.Fencing.Node != "h1" || !resp.Fencing.IsDC {
			t.Errorf("history answered by %q (DC %v), want h1 as DC", resp.Fencing.Node, resp.Fencing.IsDC)
		}
		return resp.Fencing.History
	}
	failures := func(h []fsm.Record) int {
		n := 0
		for _, r := range h {
			if r.State == fsm.StateFailed {
				n++
			}
		}
		return n
	}

	apply(`<instance_attributes id="fence-ia"><nvpair id="fence-fail" name="fail" value="ghost"/></instance_attributes>`)
	waitFor(t, 30*time.Second, "two failed fencings of ghost in the history", func() bool { return failures(history()) >= 2 })
	for _, r := range history() {
		if r.State == fsm.StateFailed && (r.Target != "ghost" || r.Origin != "h1" || r.Client != "crmd" || !strings.Contains(r.Error, "listed in fail")) {
			t.Errorf("failed record: %+v", r)
		}
	}
	if got := k.Kills(); len(got) != 0 {
		t.Fatalf("ghost killed although the device refuses it: %v", got)
	}

	resp, err := cl.Do(ctx, api.Request{Op: api.OpFenceDevices})
	if err != nil || resp.Fencing == nil || len(resp.Fencing.Devices) != 2 {
		t.Fatalf("stonith.devices: %+v %v", resp, err)
	}
	for _, dv := range resp.Fencing.Devices {
		switch dv.ID {
		case "fence":
			if dv.Error != "" || dv.Type != "sandbox" || dv.Monitor != "" {
				t.Errorf("device fence: %+v", dv)
			}
		case "bad":
			if !strings.Contains(dv.Error, "nosuch") {
				t.Errorf("device bad: configuration error %q does not name the parameter", dv.Error)
			}
		}
	}
	resp, err = cl.Do(ctx, api.Request{Op: api.OpFenceStatus, Node: "fence"})
	if err != nil || len(resp.Fencing.Devices) != 1 || resp.Fencing.Devices[0].Monitor != "OK" {
		t.Fatalf("stonith.status fence: %+v %v", resp, err)
	}
	if _, err := cl.Do(ctx, api.Request{Op: api.OpFenceStatus, Node: "nope"}); err == nil {
		t.Error("stonith.status of an unknown device succeeded")
	}

	apply("")
	waitFor(t, 30*time.Second, "successful fencing of ghost", func() bool {
		h := history()
		return len(h) > 0 && h[len(h)-1].State == fsm.StateDone
	})
	h := history()
	last := h[len(h)-1]
	if last.Target != "ghost" || last.Delegate != "h1" || len(last.Devices) != 1 || last.Devices[0] != "fence" || last.Completed.IsZero() {
		t.Errorf("success record: %+v", last)
	}
	// The finished records are in h1's node_state in the CIB, so a DC
	// without them in memory (a restart, another node) still shows them.
	// Repeated failures within failPersistEvery are written once (each
	// CIB write makes the DC plan, and so retry, at once).
	var persisted []fsm.Record
	waitFor(t, 10*time.Second, "the success in the CIB", func() bool {
		persisted = cibFenceRecords(d.Store().Current(), "h1")
		return len(persisted) > 0 && persisted[len(persisted)-1].State == fsm.StateDone
	})
	if len(persisted) < 2 || failures(persisted) != 1 || persisted[len(persisted)-1].State != fsm.StateDone {
		t.Fatalf("CIB history of h1 (want one failure, then successes): %+v", persisted)
	}
	d.fenceHist.mu.Lock()
	d.fenceHist.recs = nil
	d.fenceHist.mu.Unlock()
	if got := history(); failures(got) != 1 || got[len(got)-1].State != fsm.StateDone {
		t.Errorf("history from the CIB alone: %+v", got)
	}
	// (A never-seen node has no node_state for the DC to clear after its
	// fencing, so it may be fenced more than once here.)
	if got := k.Kills(); len(got) == 0 || slices.ContainsFunc(got, func(n string) bool { return n != "ghost" }) {
		t.Errorf("kills %v, want only ghost", got)
	}
}

func TestMergeAndCIBFenceRecords(t *testing.T) {
	t0 := time.Unix(2000, 0)
	pending := fsm.Record{ID: "a", Target: "n2", Action: fsm.ActionReboot, State: fsm.StatePending, Created: t0}
	done := pending
	done.State, done.Completed, done.Delegate = fsm.StateDone, t0.Add(time.Second), "n1"
	older := fsm.Record{ID: "b", Target: "n3", Action: fsm.ActionOff, State: fsm.StateFailed, Created: t0.Add(-time.Minute), Completed: t0, Error: "x"}
	got := mergeFenceRecords([]fsm.Record{pending}, []fsm.Record{done, older}, []fsm.Record{pending})
	if len(got) != 2 || got[0].ID != "b" || got[1].ID != "a" || got[1].State != fsm.StateDone {
		t.Fatalf("merged: %+v", got)
	}
	b, err := fsm.MarshalHistory(got)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cib.Parse([]byte(`<cib epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>`))
	if err != nil {
		t.Fatal(err)
	}
	c.Status.Nodes = []*cib.NodeState{
		{ID: "1", Uname: "n1", Attrs: []cib.Attr{{Name: "id", Value: "1"}, {Name: fenceHistoryAttr, Value: string(b)}}},
		{ID: "2", Uname: "n2", Attrs: []cib.Attr{{Name: "id", Value: "2"}, {Name: fenceHistoryAttr, Value: "not json"}}},
	}
	// Through the XML form, as every node reads it.
	c2, err := cib.Parse(c.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if recs := cibFenceRecords(c2, ""); len(recs) != 2 || recs[1].Delegate != "n1" || !recs[1].Completed.Equal(t0.Add(time.Second)) {
		t.Errorf("records from the CIB: %+v", recs)
	}
	if recs := cibFenceRecords(c2, "n2"); len(recs) != 0 {
		t.Errorf("unreadable attribute gave %+v", recs)
	}
}
