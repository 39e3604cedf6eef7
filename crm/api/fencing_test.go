package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gocrm/gocrm/stonith/fsm"
)

func TestFencingOpsPermissions(t *testing.T) {
	for op, write := range map[string]bool{OpFenceHistory: false, OpFenceDevices: false, OpFenceStatus: true, OpFence: true} {
		if got := IsWrite(op); got != write {
			t.Errorf("IsWrite(%s) = %v, want %v", op, got, write)
		}
	}
}

func TestFencingJSONRoundTrip(t *testing.T) {
	when := time.Date(2026, 11, 24, 3, 2, 19, 123456789, time.UTC)
	in := Response{OK: true, Fencing: &Fencing{Node: "n1", IsDC: true,
		History: []fsm.Record{{ID: "x", Target: "n2", Action: fsm.ActionReboot, Origin: "n1", Client: "crmd",
			Delegate: "n1", State: fsm.StateDone, Created: when, Completed: when.Add(time.Second)}},
		Devices: []FenceDevice{{ID: "f", Type: "sandbox", RunningOn: []string{"n3"}, Monitor: "OK"}}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Response
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	r := out.Fencing.History[0]
	if out.Fencing.Node != "n1" || !out.Fencing.IsDC || r.State != fsm.StateDone || !r.Completed.Equal(when.Add(time.Second)) ||
		out.Fencing.Devices[0].RunningOn[0] != "n3" || out.Fencing.Devices[0].Monitor != "OK" {
		t.Errorf("round trip lost data: %s -> %+v", b, out.Fencing)
	}
}
