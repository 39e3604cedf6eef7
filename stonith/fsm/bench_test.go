package fsm

import (
	"fmt"
	"testing"
)

// BenchmarkBuildPlan: a 32-node cluster with one IPMI device per node and
// four shared PDUs, two topology levels per node.
func BenchmarkBuildPlan(b *testing.B) {
	var devs []DeviceInfo
	var levels []Level
	var nodes []string
	for i := 0; i < 32; i++ {
		n := fmt.Sprintf("node%02d", i)
		nodes = append(nodes, n)
		s, _ := ParseDeviceSpec("ipmi-"+n, "fence_ipmilan", map[string]string{"pcmk_host_list": n, "pcmk_delay_max": "5s"})
		devs = append(devs, DeviceInfo{Spec: s, RunsOn: fmt.Sprintf("node%02d", (i+1)%32)})
		l1, _ := ParseLevel(LevelConfig{ID: "l1-" + n, Target: n, Index: "1", Devices: "ipmi-" + n})
		l2, _ := ParseLevel(LevelConfig{ID: "l2-" + n, Target: n, Index: "2", Devices: fmt.Sprintf("pdu%d,pdu%d", i%4, (i+1)%4)})
		levels = append(levels, l1, l2)
	}
	for i := 0; i < 4; i++ {
		s, _ := ParseDeviceSpec(fmt.Sprintf("pdu%d", i), "fence_apc", map[string]string{"pcmk_host_check": "none"})
		devs = append(devs, DeviceInfo{Spec: s, RunsOn: "node00"})
	}
	topo, err := NewTopology(levels...)
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Target: "node17", Origin: "node00", Nodes: nodes}
	b.ReportAllocs()
	for b.Loop() {
		p, err := BuildPlan(DefaultOptions(), topo, devs, req, fixedRand(3))
		if err != nil || len(p.Levels) != 2 {
			b.Fatal(err)
		}
	}
}
