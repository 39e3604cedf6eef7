package ra

import (
	"context"
	"os"
	"testing"

	"github.com/gocrm/gocrm/agents/agent"
)

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/fixture.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunMetaDataIPaddr2 measures one uncached meta-data run of the
// installed ocf:heartbeat:IPaddr2 (fork, exec, shell agent, parse).
func BenchmarkRunMetaDataIPaddr2(b *testing.B) {
	if _, err := os.Stat("/usr/lib/ocf/resource.d/heartbeat/IPaddr2"); err != nil {
		b.Skip("resource-agents not installed")
	}
	c := &Catalog{}
	k := agent.Key{Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"}
	for b.Loop() {
		c.Forget(k)
		if _, err := c.Info(context.Background(), k); err != nil {
			b.Fatal(err)
		}
	}
}
