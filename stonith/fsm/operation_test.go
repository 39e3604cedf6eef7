package fsm

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// drive runs op to completion, answering each step with answer, and
// returns the trace "attempt/level/device:action#try=ok|err".
func drive(t *testing.T, op *Operation, now time.Time, answer func(n Next) error) []string {
	t.Helper()
	var trace []string
	for i := 0; i < 1000; i++ {
		n := op.Next(now)
		switch n.Kind {
		case NextFinished:
			return trace
		case NextWait:
			trace = append(trace, fmt.Sprintf("wait %v", n.Until.Sub(now)))
			now = n.Until
		case NextRun:
			err := answer(n)
			res := "ok"
			if err != nil {
				res = "err"
			}
			trace = append(trace, fmt.Sprintf("%d/%d/%s:%s#%d=%s", n.Attempt, n.Level, n.Step.Device, n.Step.Action, n.Try, res))
			now = now.Add(time.Second)
			if err := op.Report(now, StepResult{Err: err}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatal("operation did not finish")
	return nil
}

func TestOperationTopologyFallthrough(t *testing.T) {
	topo, _ := NewTopology(
		mustLevel(t, LevelConfig{ID: "l1", Target: "n1", Index: "1", Devices: "ipmi"}),
		mustLevel(t, LevelConfig{ID: "l2", Target: "n1", Index: "2", Devices: "pdu"}),
	)
	devs := []DeviceInfo{
		dev(t, "ipmi", map[string]string{"pcmk_host_list": "n1", "pcmk_reboot_retries": "2", "pcmk_delay_base": "3s"}, "n2"),
		dev(t, "pdu", map[string]string{"pcmk_host_list": "n1"}, "n3"),
	}
	req := Request{ID: "op7", Target: "n1", Origin: "n2", Client: "crmd", Nodes: []string{"n2", "n3"}}
	plan, err := BuildPlan(DefaultOptions(), topo, devs, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	op := NewOperation(plan, req, DefaultOptions(), t0)
	if r := op.Record(); r.State != StatePending || r.Created != t0 {
		t.Errorf("initial record %+v", r)
	}
	trace := drive(t, op, t0, func(n Next) error {
		if n.Step.Device == "ipmi" {
			return errors.New("ipmi: connection refused")
		}
		return nil
	})
	want := []string{"wait 3s", "1/1/ipmi:reboot#1=err", "1/1/ipmi:reboot#2=err", "1/2/pdu:reboot#1=ok"}
	if !reflect.DeepEqual(trace, want) {
		t.Errorf("trace %q\nwant  %q", trace, want)
	}
	r := op.Record()
	if r.State != StateDone || r.Delegate != "n3" || !reflect.DeepEqual(r.Devices, []string{"pdu"}) || r.Attempts != 1 {
		t.Errorf("record %+v", r)
	}
	if !r.Completed.Equal(t0.Add(6 * time.Second)) {
		t.Errorf("completed at %v", r.Completed)
	}
	if op.Report(t0, StepResult{}) != ErrNoStep {
		t.Error("Report after finish accepted")
	}
}

func TestOperationMaxAttempts(t *testing.T) {
	devs := []DeviceInfo{dev(t, "a", map[string]string{"pcmk_host_list": "n1", "pcmk_off_retries": "1"}, "n2"),
		dev(t, "b", map[string]string{"pcmk_host_list": "n1", "pcmk_off_retries": "1"}, "n2")}
	opts := DefaultOptions()
	opts.MaxAttempts = 3
	req := Request{ID: "x", Target: "n1", Action: ActionOff, Nodes: []string{"n2"}}
	plan, err := BuildPlan(opts, Topology{}, devs, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	op := NewOperation(plan, req, opts, t0)
	trace := drive(t, op, t0, func(Next) error { return errors.New("boom") })
	if len(trace) != 6 || !strings.HasPrefix(trace[5], "3/2/b:off") {
		t.Errorf("trace %q", trace)
	}
	r := op.Record()
	if r.State != StateFailed || r.Attempts != 3 || !strings.Contains(r.Error, "boom") || !strings.Contains(r.Error, "3 attempt") {
		t.Errorf("record %+v", r)
	}
	if len(op.Events()) != 6 {
		t.Errorf("events: %d", len(op.Events()))
	}
}

func TestOperationOptionalOnFailureStillSucceeds(t *testing.T) {
	topo, _ := NewTopology(mustLevel(t, LevelConfig{ID: "l1", Target: "n1", Index: "1", Devices: "p1,p2"}))
	devs := []DeviceInfo{dev(t, "p1", map[string]string{"pcmk_host_list": "n1"}, "n2"), dev(t, "p2", map[string]string{"pcmk_host_list": "n1", "pcmk_on_retries": "1"}, "n2")}
	req := Request{ID: "r", Target: "n1", Nodes: []string{"n2"}}
	plan, _ := BuildPlan(DefaultOptions(), topo, devs, req, nil)
	op := NewOperation(plan, req, DefaultOptions(), t0)
	trace := drive(t, op, t0, func(n Next) error {
		if n.Step.Action == ActionOn && n.Step.Device == "p2" {
			return errors.New("on failed")
		}
		return nil
	})
	want := []string{"1/1/p1:off#1=ok", "1/1/p2:off#1=ok", "1/1/p1:on#1=ok", "1/1/p2:on#1=err"}
	if !reflect.DeepEqual(trace, want) || op.Record().State != StateDone {
		t.Errorf("trace %q state %s", trace, op.Record().State)
	}
}

func TestOperationWaitAndCancel(t *testing.T) {
	devs := []DeviceInfo{dev(t, "d", map[string]string{"pcmk_host_list": "n1", "pcmk_delay_base": "10s"}, "n2")}
	req := Request{ID: "w", Target: "n1", Nodes: []string{"n2"}}
	plan, _ := BuildPlan(DefaultOptions(), Topology{}, devs, req, nil)
	op := NewOperation(plan, req, DefaultOptions(), t0)
	if n := op.Next(t0.Add(9 * time.Second)); n.Kind != NextWait || !n.Until.Equal(t0.Add(10*time.Second)) {
		t.Errorf("before delay: %+v", n)
	}
	if op.Report(t0, StepResult{}) != ErrNoStep {
		t.Error("Report without outstanding step accepted")
	}
	if n := op.Next(t0.Add(10 * time.Second)); n.Kind != NextRun {
		t.Errorf("after delay: %+v", n)
	}
	op.Cancel(t0.Add(11*time.Second), "shutdown")
	if r := op.Record(); r.State != StateFailed || r.Error != "cancelled: shutdown" || op.Next(t0).Kind != NextFinished {
		t.Errorf("after cancel: %+v", r)
	}
}
