package fsm

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"5": 5 * time.Second, "5s": 5 * time.Second, "500ms": 500 * time.Millisecond, "2min": 2 * time.Minute,
		"1m": time.Minute, "1h": time.Hour, "1.5s": 1500 * time.Millisecond, " 3 sec ": 3 * time.Second, "1m30s": 90 * time.Second,
		"0": 0, "10us": 10 * time.Microsecond,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "abc", "5 parsecs", "s", "1e400"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", in)
		}
	}
}

func TestParseHostMap(t *testing.T) {
	m, err := ParseHostMap("node1:1;node2:2,3 node3=plug3")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"node1": "1", "node2": "2,3", "node3": "plug3"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %v want %v", m, want)
	}
	for _, bad := range []string{"node1", "node1:;node2:2", ":1", "a:1;a:2", ";;", ""} {
		if _, err := ParseHostMap(bad); err == nil {
			t.Errorf("ParseHostMap(%q) succeeded", bad)
		}
	}
}

func TestParseDelayBase(t *testing.T) {
	d, err := ParseDelayBase("node1:5s;node2:0s")
	if err != nil {
		t.Fatal(err)
	}
	if d.For("node1") != 5*time.Second || d.For("node2") != 0 || d.For("node3") != 0 {
		t.Errorf("per-node delays wrong: %+v", d)
	}
	d, err = ParseDelayBase("3s")
	if err != nil || d.For("anything") != 3*time.Second {
		t.Errorf("static delay: %+v %v", d, err)
	}
	if _, err := ParseDelayBase("node1:soon"); err == nil || !strings.Contains(err.Error(), "node1") {
		t.Errorf("bad per-node delay: %v", err)
	}
}

func TestParseDeviceSpec(t *testing.T) {
	s, err := ParseDeviceSpec("f1", "fence_x", map[string]string{
		"pcmk_host_map": "n1:p1;n2:p2", "pcmk_delay_base": "n1:2s", "pcmk_delay_max": "10s",
		"pcmk_reboot_action": "cycle", "pcmk_off_timeout": "30s", "pcmk_reboot_retries": "4",
		"ipaddr": "10.0.0.1", "passwd": "s3cret",
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.HostCheck != CheckStaticList {
		t.Errorf("host check defaulted to %s, want static-list", s.HostCheck)
	}
	if s.Port("n2") != "p2" || s.Port("n9") != "n9" {
		t.Errorf("Port: %s %s", s.Port("n2"), s.Port("n9"))
	}
	if s.AgentAction(ActionReboot) != "cycle" || s.AgentAction(ActionOff) != "off" {
		t.Errorf("action names: %v", s.ActionNames)
	}
	if s.Timeout(ActionOff, time.Minute) != 30*time.Second || s.Timeout(ActionReboot, time.Minute) != time.Minute {
		t.Errorf("timeouts: %v", s.Timeouts)
	}
	if s.Tries(ActionReboot) != 4 || s.Tries(ActionOff) != DefaultTries {
		t.Errorf("tries: %v", s.Retries)
	}
	if !s.CanFence("n1", nil, false) || s.CanFence("n3", nil, false) {
		t.Error("static-list capability wrong")
	}

	s, err = ParseDeviceSpec("f2", "fence_x", map[string]string{})
	if err != nil || s.HostCheck != CheckDynamicList {
		t.Fatalf("default host check: %v %v", s.HostCheck, err)
	}
	if s.CanFence("n1", nil, false) || !s.CanFence("n1", []string{"n0", "n1"}, false) {
		t.Error("dynamic-list capability wrong")
	}

	for name, tc := range map[string]struct {
		params map[string]string
		param  string
	}{
		"bad map":        {map[string]string{"pcmk_host_map": "n1:1;n2"}, "pcmk_host_map"},
		"bad check":      {map[string]string{"pcmk_host_check": "maybe"}, "pcmk_host_check"},
		"bad delay base": {map[string]string{"pcmk_delay_base": "n1:forever"}, "pcmk_delay_base"},
		"bad delay max":  {map[string]string{"pcmk_delay_max": "-3"}, "pcmk_delay_max"},
		"bad timeout":    {map[string]string{"pcmk_reboot_timeout": "0"}, "pcmk_reboot_timeout"},
		"bad retries":    {map[string]string{"pcmk_off_retries": "x"}, "pcmk_off_retries"},
		"typo":           {map[string]string{"pcmk_host_lst": "n1"}, "pcmk_host_lst"},
		"static empty":   {map[string]string{"pcmk_host_check": "static-list"}, "pcmk_host_check"},
		"limit":          {map[string]string{"pcmk_action_limit": "0"}, "pcmk_action_limit"},
	} {
		_, err := ParseDeviceSpec("dev1", "fence_x", tc.params)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param || pe.Device != "dev1" || !errors.Is(err, ErrInvalidParam) {
			t.Errorf("%s: error %v, want ParamError naming %s", name, err, tc.param)
			continue
		}
		if !strings.Contains(err.Error(), tc.param) || !strings.Contains(err.Error(), "dev1") {
			t.Errorf("%s: message %q does not name parameter and device", name, err)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions(map[string]string{"stonith-action": "poweroff", "stonith-timeout": "90s",
		"priority-fencing-delay": "15s", "concurrent-fencing": "false", "fencing-max-attempts": "3", "stonith-enabled": "yes"})
	if err != nil {
		t.Fatal(err)
	}
	want := Options{Enabled: true, Action: ActionOff, Timeout: 90 * time.Second, PriorityFencingDelay: 15 * time.Second, Concurrent: false, MaxAttempts: 3}
	if o != want {
		t.Errorf("got %+v want %+v", o, want)
	}
	if o, _ := ParseOptions(nil); o != DefaultOptions() {
		t.Errorf("defaults: %+v", o)
	}
	for k, v := range map[string]string{"stonith-action": "on", "stonith-timeout": "0", "stonith-max-attempts": "0",
		"concurrent-fencing": "perhaps", "stonith-enabled": "2", "priority-fencing-delay": "x"} {
		_, err := ParseOptions(map[string]string{k: v})
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != k {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}
