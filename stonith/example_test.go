package stonith_test

import (
	"context"
	"fmt"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fsm"
	"github.com/gocrm/gocrm/stonith/plugins"
	"github.com/gocrm/gocrm/stonith/sandbox"
)

// Example shows the calls the DC makes: build the registry, configure the
// stonith primitives and the topology from the CIB, then fence.
func Example() {
	killer := sandbox.NewFakeKiller("node1", "node2", "node3")
	reg, err := plugins.NewRegistry(plugins.Deps{Sandbox: killer})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	opts, err := fsm.ParseOptions(map[string]string{"stonith-timeout": "30s", "stonith-max-attempts": "2"})
	if err != nil {
		panic(err)
	}
	broken, err := reg.Configure(ctx, "fence-broken", "stonith:sandbox", map[string]string{"fail": "node1"}, 0, nil)
	if err != nil {
		panic(err)
	}
	backup, err := reg.Configure(ctx, "fence-backup", "stonith:sandbox", map[string]string{"pcmk_host_list": "node1 node2 node3"}, 0, nil)
	if err != nil {
		panic(err)
	}
	l1, _ := fsm.ParseLevel(fsm.LevelConfig{ID: "fl-1", TargetPattern: "^node", Index: "1", Devices: "fence-broken"})
	l2, _ := fsm.ParseLevel(fsm.LevelConfig{ID: "fl-2", TargetPattern: "^node", Index: "2", Devices: "fence-backup"})
	topo, err := fsm.NewTopology(l1, l2)
	if err != nil {
		panic(err)
	}
	ex, err := stonith.NewExecutor(stonith.ExecutorConfig{
		Node: "node2", Options: opts, Topology: topo,
		Devices: []*stonith.Configured{broken, backup},
		RunsOn:  map[string]string{"fence-broken": "node3", "fence-backup": "node2"},
		OnRecord: func(r fsm.Record) {
			fmt.Println("history:", r.State)
		},
	})
	if err != nil {
		panic(err)
	}
	defer ex.Close()
	rec, err := ex.Fence(ctx, fsm.Request{Target: "node1", Client: "crmd", Nodes: []string{"node2", "node3"}})
	fmt.Println(rec.State, rec.Devices, err)
	fmt.Println("killed:", killer.Kills())
	// Output:
	// history: pending
	// history: done
	// done [fence-backup] <nil>
	// killed: [node1]
}
