package fsm

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the expected output of testdata/scenarios")

// TestScenarios runs the text scenarios of testdata/scenarios. Each file
// is a script, a line "----", then the expected trace; run with -update
// to rewrite the expectations. Script lines:
//
//	options KEY=VALUE...                  cluster options (stonith-*)
//	device ID [runs=NODE] [priority=N] [selffencing=1] PCMK_PARAM=VALUE...
//	level ID index=N (target=|pattern=|attr=A value=V) devices=A,B
//	list DEVICE=HOST,HOST                 dynamic-list output
//	request target=T [action=A] [origin=O] [nodes=A,B] [priority=1] [attr:K=V]
//	rand N                                the random draw (ns) for pcmk_delay_max
//	fail DEVICE:ACTION[#CALL]             fail that device action (every call, or the Nth)
//
// Every reported step takes one second of simulated time.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			script, want, _ := strings.Cut(string(raw), "----\n")
			got, err := runScenario(script)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(f, []byte(script+"----\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("%s: trace differs\n--- got\n%s--- want\n%s", f, got, want)
			}
		})
	}
}

func kv(fields []string) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		m[k] = v
	}
	return m
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func runScenario(script string) (string, error) {
	opts := DefaultOptions()
	var devs []DeviceInfo
	var levels []Level
	req := Request{ID: "op", DynamicLists: map[string][]string{}}
	var rnd fixedRand
	failAll := map[string]bool{}
	failNth := map[string]bool{}
	for n, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		bad := func(err error) (string, error) { return "", fmt.Errorf("line %d %q: %w", n+1, line, err) }
		switch f[0] {
		case "options":
			o, err := ParseOptions(kv(f[1:]))
			if err != nil {
				return bad(err)
			}
			opts = o
		case "device":
			m := kv(f[2:])
			info := DeviceInfo{RunsOn: m["runs"]}
			prio, _ := strconv.Atoi(m["priority"])
			self := m["selffencing"] == "1"
			delete(m, "runs")
			delete(m, "priority")
			delete(m, "selffencing")
			s, err := ParseDeviceSpec(f[1], "fake", m)
			if err != nil {
				return bad(err)
			}
			s.Priority, s.SelfFencing = prio, self
			info.Spec = s
			devs = append(devs, info)
		case "level":
			m := kv(f[2:])
			l, err := ParseLevel(LevelConfig{ID: f[1], Index: m["index"], Target: m["target"], TargetPattern: m["pattern"],
				TargetAttribute: m["attr"], TargetValue: m["value"], Devices: m["devices"]})
			if err != nil {
				return bad(err)
			}
			levels = append(levels, l)
		case "list":
			for k, v := range kv(f[1:]) {
				req.DynamicLists[k] = splitList(v)
			}
		case "request":
			m := kv(f[1:])
			req.Target, req.Action, req.Origin, req.Nodes = m["target"], Action(m["action"]), m["origin"], splitList(m["nodes"])
			req.TargetHasPriority = m["priority"] == "1"
			req.TargetAttrs = map[string]string{}
			for k, v := range m {
				if a, ok := strings.CutPrefix(k, "attr:"); ok {
					req.TargetAttrs[a] = v
				}
			}
		case "rand":
			v, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return bad(err)
			}
			rnd = fixedRand(v)
		case "fail":
			if strings.Contains(f[1], "#") {
				failNth[f[1]] = true
			} else {
				failAll[f[1]] = true
			}
		default:
			return bad(fmt.Errorf("unknown command"))
		}
	}
	topo, err := NewTopology(levels...)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	plan, err := BuildPlan(opts, topo, devs, req, rnd)
	for _, s := range plan.Skipped {
		fmt.Fprintf(&b, "skipped: %s\n", s)
	}
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.String(), nil
	}
	fmt.Fprintf(&b, "plan %s %s delay=%v\n", plan.Action, plan.Target, plan.Delay)
	for _, l := range plan.Levels {
		var steps []string
		for _, s := range l.Steps {
			x := fmt.Sprintf("%s:%s@%s tries=%d timeout=%v", s.Device, s.Action, s.Executor, s.Tries, s.Timeout)
			if s.SelfFence {
				x += " self"
			}
			if !s.Required {
				x += " optional"
			}
			steps = append(steps, x)
		}
		fmt.Fprintf(&b, "  level %d: %s\n", l.Index, strings.Join(steps, "; "))
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	op := NewOperation(plan, req, opts, now)
	calls := map[string]int{}
	for i := 0; i < 500 && !op.Finished(); i++ {
		n := op.Next(now)
		switch n.Kind {
		case NextWait:
			fmt.Fprintf(&b, "+%v wait until +%v\n", now.Sub(start), n.Until.Sub(start))
			now = n.Until
		case NextRun:
			key := n.Step.Device + ":" + string(n.Step.Action)
			calls[key]++
			var res error
			if failAll[key] || failNth[key+"#"+strconv.Itoa(calls[key])] {
				res = fmt.Errorf("%s failed", key)
			}
			out := "ok"
			if res != nil {
				out = "fail"
			}
			fmt.Fprintf(&b, "+%v run attempt=%d level=%d %s@%s try=%d -> %s\n", now.Sub(start), n.Attempt, n.Level, key, n.Step.Executor, n.Try, out)
			now = now.Add(time.Second)
			if err := op.Report(now, StepResult{Err: res}); err != nil {
				return "", err
			}
		}
	}
	r := op.Record()
	devices := append([]string(nil), r.Devices...)
	sort.Strings(devices)
	fmt.Fprintf(&b, "final state=%s delegate=%s devices=%s attempts=%d at=+%v\n", r.State, r.Delegate, strings.Join(devices, ","), r.Attempts, r.Completed.Sub(start))
	if r.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", r.Error)
	}
	return b.String(), nil
}
