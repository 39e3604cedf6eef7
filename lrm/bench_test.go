package lrm

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/dummy"
)

// BenchmarkBuiltinMonitor measures one built-in Dummy monitor through the
// whole LRM path (queue, worker, agent, result dispatch).
func BenchmarkBuiltinMonitor(b *testing.B) {
	reg := agent.NewRegistry()
	if err := dummy.Register(reg); err != nil {
		b.Fatal(err)
	}
	done := make(chan OpResult, 1)
	l, err := New(Config{StateDir: b.TempDir(), Builtins: reg, OnResult: func(r OpResult) { done <- r }})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	req := Request{Rsc: Resource{ID: "d", Agent: dummy.Key}, Op: OpMonitor, Timeout: time.Second}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Execute(1, req); err != nil {
			b.Fatal(err)
		}
		<-done
	}
}

// BenchmarkOCFHeartbeatDummyMonitor measures a monitor of the real
// ocf:heartbeat:Dummy script (fork/exec of /bin/sh sourcing ocf-shellfuncs).
func BenchmarkOCFHeartbeatDummyMonitor(b *testing.B) {
	k := agent.Key{Class: "ocf", Provider: "heartbeat", Type: "Dummy"}
	if _, err := os.Stat(filepath.Join(DefaultOCFRoot, "resource.d", k.Provider, k.Type)); err != nil {
		b.Skipf("ocf:heartbeat:Dummy not installed: %v", err)
	}
	done := make(chan OpResult, 1)
	l, err := New(Config{StateDir: b.TempDir(), OnResult: func(r OpResult) { done <- r }})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	req := Request{Rsc: Resource{ID: "d", Agent: k}, Op: OpMonitor, Timeout: 20 * time.Second}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Execute(1, req); err != nil {
			b.Fatal(err)
		}
		if r := <-done; r.Status != StatusDone {
			b.Fatalf("monitor failed: %+v", r)
		}
	}
}
