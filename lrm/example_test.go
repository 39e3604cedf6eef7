package lrm_test

import (
	"fmt"
	"os"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/dummy"
	"github.com/gocrm/gocrm/lrm"
)

// Example shows how the daemon wires an LRM and how the DC's transition
// engine drives it: every request carries the DC term, results arrive on
// the callback.
func Example() {
	stateDir, _ := os.MkdirTemp("", "lrm-example")
	defer os.RemoveAll(stateDir)

	reg := agent.NewRegistry()
	_ = dummy.Register(reg)
	results := make(chan lrm.OpResult, 16)
	l, err := lrm.New(lrm.Config{
		Node:     "node1",
		StateDir: stateDir, // node-private
		Builtins: reg,
		OnResult: func(r lrm.OpResult) { results <- r },
		// Systemd: &lrm.SystemdExecutor{Manager: m} with m from lrm.NewDBusSystemd
	})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	const term = 3
	rsc := lrm.Resource{ID: "d1", Agent: dummy.Key}
	for _, op := range []string{lrm.OpProbe, lrm.OpStart} {
		if _, err := l.Execute(term, lrm.Request{Rsc: rsc, Op: op, Timeout: 20 * time.Second, UserData: "transition-key"}); err != nil {
			panic(err)
		}
	}
	for i := 0; i < 2; i++ {
		r := <-results
		fmt.Println(r.Key, r.CallID, int(r.RC), r.Status)
	}
	_, err = l.Execute(term-1, lrm.Request{Rsc: rsc, Op: lrm.OpStop})
	fmt.Println(err)
	// Output:
	// d1_monitor_0 1 7 complete
	// d1_start_0 2 0 complete
	// d1 stop: term 2 < current 3: stale DC term
}
