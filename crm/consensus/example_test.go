package consensus_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/membership"
)

// counter is a trivial FSM.
type counter struct{ n int }

func (c *counter) Apply(uint64, []byte) any  { c.n++; return c.n }
func (c *counter) Snapshot() ([]byte, error) { return []byte{byte(c.n)}, nil }
func (c *counter) Restore(b []byte) error    { c.n = int(b[0]); return nil }

// Example shows how crmd wires membership into consensus: membership events
// drive bootstrap-expect, and the leader (DC) gates its work on LeaderCh and
// Barrier.
func Example() {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	tr, err := consensus.NewTCPTransport("127.0.0.1:0", nil, log)
	if err != nil {
		return
	}
	node, err := consensus.New(consensus.Config{
		NodeID: "node1", DataDir: "/var/lib/gocrm/raft", Transport: tr,
		FSM: &counter{}, Logger: log, BootstrapExpect: 3,
	})
	if err != nil {
		return
	}
	defer node.Shutdown(ctx)
	agent, err := membership.New(membership.Config{
		NodeName: "node1", ClusterName: "prod", KeyFile: "/etc/gocrm/gossip.key",
		RaftAddr: node.Addr(), Logger: log,
	})
	if err != nil || agent.Start(ctx) != nil {
		return
	}
	defer agent.Shutdown(ctx)

	go func() { // ends when agent.Shutdown closes Events
		for range agent.Events() {
			_, _ = node.MaybeBootstrap(ctx, consensus.ServersFromMembers(agent.Members()))
		}
	}()
	for st := range node.LeaderCh() {
		if st.IsLeader && node.Barrier(ctx) == nil {
			// establish leadership: run the scheduler until LeaderCh says false
		}
		_, _ = node.Apply(ctx, []byte("cmd")) // works on any node
		time.Sleep(time.Second)
	}
}
