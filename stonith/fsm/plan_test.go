package fsm

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

type fixedRand int64

func (f fixedRand) Int63n(n int64) int64 { return int64(f) % n }

func dev(t *testing.T, id string, params map[string]string, runsOn string) DeviceInfo {
	t.Helper()
	s, err := ParseDeviceSpec(id, "fake", params)
	if err != nil {
		t.Fatal(err)
	}
	return DeviceInfo{Spec: s, RunsOn: runsOn}
}

var t0 = time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)

func TestPlanNoTopologyOrderAndExecutor(t *testing.T) {
	devs := []DeviceInfo{
		dev(t, "ipmi-n1", map[string]string{"pcmk_host_list": "n1"}, "n1"), // runs on the target
		dev(t, "pdu", map[string]string{"pcmk_host_map": "n1:3;n2:4"}, "n2"),
		dev(t, "other", map[string]string{"pcmk_host_list": "n2"}, "n1"),
		dev(t, "dyn", map[string]string{}, "n3"),
	}
	devs[0].Spec.Priority = 10
	req := Request{ID: "op1", Target: "n1", Origin: "n3", Nodes: []string{"n3", "n1", "n2"},
		DynamicLists: map[string][]string{"dyn": {"n1"}}}
	p, err := BuildPlan(DefaultOptions(), Topology{}, devs, req, fixedRand(0))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range p.Levels {
		s := l.Steps[0]
		got = append(got, s.Device+"@"+s.Executor)
		if s.SelfFence {
			t.Errorf("%s: self-fence chosen although other nodes exist", s.Device)
		}
	}
	// ipmi-n1 runs on the target, so it is delegated to the first other
	// member (n2); priority 10 puts it first.
	want := []string{"ipmi-n1@n2", "dyn@n3", "pdu@n2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan %v, want %v", got, want)
	}
	if p.Action != ActionReboot || p.Levels[0].Steps[0].Timeout != 60*time.Second || p.Levels[0].Steps[0].Tries != 2 {
		t.Errorf("defaults not applied: %+v", p)
	}
}

func TestPlanSelfFenceOnlyAsLastResort(t *testing.T) {
	devs := []DeviceInfo{dev(t, "d", map[string]string{"pcmk_host_list": "n1"}, "n1")}
	p, err := BuildPlan(DefaultOptions(), Topology{}, devs, Request{Target: "n1", Origin: "n1", Nodes: []string{"n1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Levels[0].Steps[0]; !s.SelfFence || s.Executor != "n1" {
		t.Errorf("lone node: %+v", s)
	}
	wd := dev(t, "wd", map[string]string{"pcmk_host_check": "none"}, "n2")
	wd.Spec.SelfFencing = true
	p, err = BuildPlan(DefaultOptions(), Topology{}, []DeviceInfo{wd}, Request{Target: "n1", Nodes: []string{"n1", "n2"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Levels[0].Steps[0]; !s.SelfFence || s.Executor != "n1" {
		t.Errorf("watchdog must run on the target: %+v", s)
	}
}

func TestPlanTopologyRemapAndSkip(t *testing.T) {
	topo, err := NewTopology(
		mustLevel(t, LevelConfig{ID: "l1", Target: "n1", Index: "1", Devices: "psu1,psu2"}),
		mustLevel(t, LevelConfig{ID: "l2", Target: "n1", Index: "2", Devices: "missing"}),
		mustLevel(t, LevelConfig{ID: "l3", Target: "n1", Index: "3", Devices: "pdu"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	devs := []DeviceInfo{
		dev(t, "psu1", map[string]string{"pcmk_host_list": "n1"}, "n2"),
		dev(t, "psu2", map[string]string{"pcmk_host_list": "n1", "pcmk_on_retries": "1"}, "n2"),
		dev(t, "pdu", map[string]string{"pcmk_host_list": "n1"}, "n2"),
	}
	p, err := BuildPlan(DefaultOptions(), topo, devs, Request{Target: "n1", Nodes: []string{"n2"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Levels) != 2 || p.Levels[0].Index != 1 || p.Levels[1].Index != 3 {
		t.Fatalf("levels: %+v", p.Levels)
	}
	var steps []string
	for _, s := range p.Levels[0].Steps {
		steps = append(steps, s.Device+":"+string(s.Action)+":"+map[bool]string{true: "req", false: "opt"}[s.Required])
	}
	want := []string{"psu1:off:req", "psu2:off:req", "psu1:on:opt", "psu2:on:opt"}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("remapped reboot: %v want %v", steps, want)
	}
	if len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0], "missing") {
		t.Errorf("skipped: %v", p.Skipped)
	}
	// Off through the same level is not remapped.
	p, _ = BuildPlan(DefaultOptions(), topo, devs, Request{Target: "n1", Action: ActionOff, Nodes: []string{"n2"}}, nil)
	if len(p.Levels[0].Steps) != 2 {
		t.Errorf("off: %+v", p.Levels[0].Steps)
	}
}

func TestPlanDelays(t *testing.T) {
	devs := []DeviceInfo{dev(t, "d", map[string]string{"pcmk_host_list": "n1 n2", "pcmk_delay_base": "n1:5s;n2:0s", "pcmk_delay_max": "8s"}, "n3")}
	opts := DefaultOptions()
	opts.PriorityFencingDelay = 20 * time.Second
	for _, tc := range []struct {
		target string
		rnd    int64
		prio   bool
		want   time.Duration
	}{
		{"n1", 0, false, 5 * time.Second},
		{"n1", int64(2 * time.Second), false, 7 * time.Second},
		{"n1", int64(3 * time.Second), false, 8 * time.Second}, // capped at max
		{"n2", int64(4 * time.Second), false, 4 * time.Second},
		{"n2", 0, true, 20 * time.Second},
	} {
		p, err := BuildPlan(opts, Topology{}, devs, Request{Target: tc.target, Nodes: []string{"n3"}, TargetHasPriority: tc.prio}, fixedRand(tc.rnd))
		if err != nil {
			t.Fatal(err)
		}
		if p.Delay != tc.want {
			t.Errorf("%s rnd=%v prio=%v: delay %v want %v", tc.target, time.Duration(tc.rnd), tc.prio, p.Delay, tc.want)
		}
	}
}

func TestPlanNoDevice(t *testing.T) {
	devs := []DeviceInfo{dev(t, "d", map[string]string{"pcmk_host_list": "n2"}, "n3"), dev(t, "s", map[string]string{"pcmk_host_check": "status"}, "")}
	_, err := BuildPlan(DefaultOptions(), Topology{}, devs, Request{Target: "n1"}, nil)
	if !errors.Is(err, ErrNoDevice) {
		t.Errorf("want ErrNoDevice, got %v", err)
	}
	p, err := BuildPlan(DefaultOptions(), Topology{}, devs, Request{Target: "n1", StatusOK: map[string]bool{"s": true}}, nil)
	if err != nil || p.Levels[0].Steps[0].Device != "s" {
		t.Errorf("status capability: %v %+v", err, p)
	}
	if _, err := BuildPlan(DefaultOptions(), Topology{}, devs, Request{Target: "n2", Action: ActionStatus}, nil); !errors.Is(err, ErrInvalidParam) {
		t.Errorf("status as fence action: %v", err)
	}
}

func TestPriorityDelayApplies(t *testing.T) {
	for _, tc := range []struct {
		target string
		lost   map[string]int
		want   bool
	}{
		{"a", map[string]int{"a": 10, "b": 5}, true},
		{"b", map[string]int{"a": 10, "b": 5}, false},
		{"a", map[string]int{"a": 5, "b": 5}, false},
		{"a", map[string]int{"a": 0}, false},
		{"a", map[string]int{"a": 3}, true},
		{"c", map[string]int{"a": 3}, false},
	} {
		if got := PriorityDelayApplies(tc.target, tc.lost); got != tc.want {
			t.Errorf("%s in %v: %v", tc.target, tc.lost, got)
		}
	}
}
