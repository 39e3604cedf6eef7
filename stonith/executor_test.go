package stonith_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fake"
	"github.com/gocrm/gocrm/stonith/fsm"
)

const fsmSecond = time.Second

var start = time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)

func configure(t *testing.T, reg *stonith.Registry, id string, params map[string]string) *stonith.Configured {
	t.Helper()
	c, err := reg.Configure(context.Background(), id, "fake", params, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func topology(t *testing.T, cfgs ...fsm.LevelConfig) fsm.Topology {
	t.Helper()
	var ls []fsm.Level
	for _, c := range cfgs {
		l, err := fsm.ParseLevel(c)
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	topo, err := fsm.NewTopology(ls...)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

type recorder struct {
	mu   sync.Mutex
	recs []fsm.Record
}

func (r *recorder) add(rec fsm.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
}

func (r *recorder) states() []fsm.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []fsm.State
	for _, rec := range r.recs {
		s = append(s, rec.State)
	}
	return s
}

func TestExecutorTopologyFallthrough(t *testing.T) {
	reg, lab := newRegistry(t)
	ipmi := configure(t, reg, "ipmi", map[string]string{"pcmk_host_list": "n1", "fail": "n1", "pcmk_reboot_retries": "1"})
	pdu := configure(t, reg, "pdu", map[string]string{"pcmk_host_list": "n1 n2"})
	rec := &recorder{}
	ex, err := stonith.NewExecutor(stonith.ExecutorConfig{
		Node: "n2", Options: fsm.DefaultOptions(), Devices: []*stonith.Configured{ipmi, pdu},
		Topology: topology(t, fsm.LevelConfig{ID: "l1", Target: "n1", Index: "1", Devices: "ipmi"},
			fsm.LevelConfig{ID: "l2", Target: "n1", Index: "2", Devices: "pdu"}),
		Clock: stonith.NewFakeClock(start), OnRecord: rec.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	r, err := ex.Fence(context.Background(), fsm.Request{Target: "n1", Client: "test"})
	if err != nil {
		t.Fatalf("fence: %v (%+v)", err, r)
	}
	if r.State != fsm.StateDone || !reflect.DeepEqual(r.Devices, []string{"pdu"}) || r.Origin != "n2" || r.Delegate != "n2" || r.Client != "test" {
		t.Errorf("record %+v", r)
	}
	if c := lab.Device("ipmi").Calls(); len(c) != 1 || !errors.Is(c[0].Err, stonith.ErrCannotFence) {
		t.Errorf("ipmi calls %+v", c)
	}
	if c := lab.Device("pdu").Calls(); len(c) != 1 || c[0].Action != stonith.ActionReboot || c[0].Target != "n1" {
		t.Errorf("pdu calls %+v", c)
	}
	if got := rec.states(); !reflect.DeepEqual(got, []fsm.State{fsm.StatePending, fsm.StateDone}) {
		t.Errorf("OnRecord states %v", got)
	}
	if h := ex.History(); len(h) != 1 || h[0].ID != r.ID {
		t.Errorf("history %+v", h)
	}
}

func TestExecutorDelayWithFakeClock(t *testing.T) {
	reg, lab := newRegistry(t)
	d := configure(t, reg, "d", map[string]string{"pcmk_host_list": "n1", "pcmk_delay_base": "n1:5s", "pcmk_delay_max": "9s"})
	clock := stonith.NewFakeClock(start)
	ex, err := stonith.NewExecutor(stonith.ExecutorConfig{Node: "n2", Devices: []*stonith.Configured{d},
		Options: fsm.Options{Action: fsm.ActionOff, Timeout: time.Minute, MaxAttempts: 1, Concurrent: true, PriorityFencingDelay: 10 * time.Second},
		Clock:   clock, Rand: constRand(int64(3 * time.Second))})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	h, err := ex.Start(fsm.Request{Target: "n1", TargetHasPriority: true})
	if err != nil {
		t.Fatal(err)
	}
	if h2, _ := ex.Start(fsm.Request{Target: "n1"}); h2 != h {
		t.Error("identical request not merged")
	}
	if !clock.BlockUntil(1, 5*time.Second) {
		t.Fatal("executor never armed its delay timer")
	}
	clock.Advance(17 * time.Second) // 5s base + 3s random + 10s priority = 18s
	select {
	case <-h.Done():
		t.Fatal("fenced before the delay elapsed")
	case <-time.After(50 * time.Millisecond):
	}
	if n := len(lab.Device("d").Calls()); n != 0 {
		t.Fatalf("device called during the delay: %d", n)
	}
	clock.Advance(time.Second)
	<-h.Done()
	r, err := h.Result()
	if err != nil || r.State != fsm.StateDone || h.Plan().Delay != 18*time.Second {
		t.Errorf("result %+v %v delay %v", r, err, h.Plan().Delay)
	}
	if !r.Completed.Equal(start.Add(18 * time.Second)) {
		t.Errorf("completed at %v", r.Completed)
	}
	if lab.Device("d").PowerState("n1") != stonith.PowerOff {
		t.Error("target not off")
	}
}

type constRand int64

func (c constRand) Int63n(n int64) int64 { return int64(c) % n }

func TestExecutorTimeoutAndAttempts(t *testing.T) {
	reg, lab := newRegistry(t)
	d := configure(t, reg, "slow", map[string]string{"pcmk_host_list": "n1", "pcmk_reboot_timeout": "50ms", "pcmk_reboot_retries": "1"})
	lab.Device("slow").Script("n1", fake.Outcome{Hang: true}, fake.Outcome{Hang: true})
	ex, _ := stonith.NewExecutor(stonith.ExecutorConfig{Node: "n2", Devices: []*stonith.Configured{d},
		Options: fsm.Options{Action: fsm.ActionReboot, Timeout: time.Minute, MaxAttempts: 2, Concurrent: true}})
	defer ex.Close()
	r, err := ex.Fence(context.Background(), fsm.Request{Target: "n1"})
	if !errors.Is(err, stonith.ErrFenceFailed) || r.Attempts != 2 || !strings.Contains(r.Error, "timed out") {
		t.Errorf("got %v %+v", err, r)
	}
	if n := len(lab.Device("slow").Calls()); n != 2 {
		t.Errorf("%d calls, want 2 (one per attempt)", n)
	}
}

func TestExecutorNoDevice(t *testing.T) {
	reg, _ := newRegistry(t)
	d := configure(t, reg, "d", map[string]string{"pcmk_host_list": "n3"})
	ex, _ := stonith.NewExecutor(stonith.ExecutorConfig{Node: "n2", Devices: []*stonith.Configured{d}})
	defer ex.Close()
	r, err := ex.Fence(context.Background(), fsm.Request{Target: "n1"})
	if !errors.Is(err, stonith.ErrNoDevice) || r.State != fsm.StateFailed {
		t.Errorf("got %v %+v", err, r)
	}
}

func TestExecutorDynamicList(t *testing.T) {
	reg, lab := newRegistry(t)
	d := configure(t, reg, "dyn", map[string]string{"hosts": "n1,n3"})
	ex, _ := stonith.NewExecutor(stonith.ExecutorConfig{Node: "n2", Devices: []*stonith.Configured{d}})
	defer ex.Close()
	if _, err := ex.Fence(context.Background(), fsm.Request{Target: "n3", Action: fsm.ActionOff}); err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Fence(context.Background(), fsm.Request{Target: "n4"}); !errors.Is(err, stonith.ErrNoDevice) {
		t.Errorf("n4 is not in the list: %v", err)
	}
	if c := lab.Device("dyn").Calls(); len(c) != 1 || c[0].Target != "n3" {
		t.Errorf("calls %+v", c)
	}
}

type fakeRemote struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeRemote) RunStep(_ context.Context, node, target string, st fsm.Step) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, node+":"+st.Device+":"+string(st.Action)+":"+target)
	return nil
}

func TestExecutorDelegatesToDeviceNode(t *testing.T) {
	reg, lab := newRegistry(t)
	a := configure(t, reg, "a", map[string]string{"pcmk_host_list": "n1"})
	rem := &fakeRemote{}
	ex, _ := stonith.NewExecutor(stonith.ExecutorConfig{Node: "n2", Devices: []*stonith.Configured{a},
		RunsOn: map[string]string{"a": "n3"}, Remote: rem})
	defer ex.Close()
	r, err := ex.Fence(context.Background(), fsm.Request{Target: "n1", Nodes: []string{"n1", "n2", "n3"}})
	if err != nil || r.Delegate != "n3" {
		t.Fatalf("%v %+v", err, r)
	}
	if !reflect.DeepEqual(rem.calls, []string{"n3:a:reboot:n1"}) || len(lab.Device("a").Calls()) != 0 {
		t.Errorf("remote calls %v, local calls %v", rem.calls, lab.Device("a").Calls())
	}
	// The peer side runs the step on its local device.
	if err := ex.RunStep(context.Background(), "n1", fsm.Step{Device: "a", Action: fsm.ActionOff, Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	if c := lab.Device("a").Calls(); len(c) != 1 || c[0].Action != stonith.ActionOff {
		t.Errorf("RunStep calls %+v", c)
	}
}

func TestExecutorCloseCancels(t *testing.T) {
	reg, lab := newRegistry(t)
	d := configure(t, reg, "hang", map[string]string{"pcmk_host_list": "n1"})
	lab.Device("hang").Script("n1", fake.Outcome{Hang: true})
	ex, _ := stonith.NewExecutor(stonith.ExecutorConfig{Node: "n2", Devices: []*stonith.Configured{d}})
	h, err := ex.Start(fsm.Request{Target: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := ex.Fence(ctx, fsm.Request{Target: "n1"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("caller timeout: %v", err)
	}
	ex.Close()
	<-h.Done()
	r, err := h.Result()
	if !errors.Is(err, stonith.ErrFenceFailed) || !strings.HasPrefix(r.Error, "cancelled") {
		t.Errorf("after Close: %v %+v", err, r)
	}
	if _, err := ex.Start(fsm.Request{Target: "n1"}); !errors.Is(err, stonith.ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
}

func TestExecutorSerialisesWithoutConcurrentFencing(t *testing.T) {
	reg, lab := newRegistry(t)
	// No per-device limit: only concurrent-fencing=false serialises.
	d := configure(t, reg, "d", map[string]string{"pcmk_host_list": "n1 n3", "pcmk_action_limit": "-1"})
	lab.Device("d").Script("n1", fake.Outcome{Delay: 80 * time.Millisecond})
	opts := fsm.DefaultOptions()
	opts.Concurrent = false
	ex, _ := stonith.NewExecutor(stonith.ExecutorConfig{Node: "n2", Devices: []*stonith.Configured{d}, Options: opts})
	defer ex.Close()
	h1, _ := ex.Start(fsm.Request{Target: "n1"})
	if !lab.Device("d").WaitStarted(1, 5*time.Second) {
		t.Fatal("first fence never started")
	}
	h3, _ := ex.Start(fsm.Request{Target: "n3"})
	<-h1.Done()
	<-h3.Done()
	c := lab.Device("d").Calls()
	if len(c) != 2 || c[0].Target != "n1" || c[1].Target != "n3" {
		t.Errorf("calls not serialised: %+v", c)
	}
}

func TestExecutorActionLimit(t *testing.T) {
	reg, lab := newRegistry(t)
	d := configure(t, reg, "d", map[string]string{"pcmk_host_list": "n1 n3"}) // pcmk_action_limit defaults to 1
	lab.Device("d").Script("n1", fake.Outcome{Delay: 80 * time.Millisecond})
	ex, _ := stonith.NewExecutor(stonith.ExecutorConfig{Node: "n2", Devices: []*stonith.Configured{d}})
	defer ex.Close()
	h1, _ := ex.Start(fsm.Request{Target: "n1"})
	if !lab.Device("d").WaitStarted(1, 5*time.Second) {
		t.Fatal("first fence never started")
	}
	h3, _ := ex.Start(fsm.Request{Target: "n3"})
	<-h1.Done()
	<-h3.Done()
	if c := lab.Device("d").Calls(); len(c) != 2 || c[0].Target != "n1" {
		t.Errorf("device ran two actions at once: %+v", c)
	}
	u := configure(t, reg, "u", map[string]string{"pcmk_host_list": "n1 n3", "pcmk_action_limit": "-1"})
	lab.Device("u").Script("n1", fake.Outcome{Delay: 80 * time.Millisecond})
	ex.Reconfigure(stonith.ExecutorConfig{Devices: []*stonith.Configured{u}})
	h1, _ = ex.Start(fsm.Request{Target: "n1"})
	if !lab.Device("u").WaitStarted(1, 5*time.Second) {
		t.Fatal("first fence never started")
	}
	h3, _ = ex.Start(fsm.Request{Target: "n3"})
	<-h1.Done()
	<-h3.Done()
	if c := lab.Device("u").Calls(); len(c) != 2 || c[0].Target != "n3" {
		t.Errorf("unlimited device did not run concurrently: %+v", c)
	}
}
