package lrm

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// trivialAgent writes an OCF root whose agent test:true only exits 0.
func trivialAgent(b *testing.B) (root, script string) {
	b.Helper()
	root = b.TempDir()
	script = filepath.Join(root, "resource.d", "test", "true")
	if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		b.Fatal(err)
	}
	return root, script
}

// BenchmarkOCFTrivialAgentThroughLRM is the LRM's whole per-action cost
// for a script agent (queue, worker, environment, fork/exec, pipes,
// result dispatch) with an agent that does nothing: compare with
// BenchmarkForkExecBaseline to get the LRM's own overhead.
func BenchmarkOCFTrivialAgentThroughLRM(b *testing.B) {
	root, _ := trivialAgent(b)
	done := make(chan OpResult, 1)
	l, err := New(Config{StateDir: b.TempDir(), OCF: &OCFExecutor{Root: root, RscTmp: b.TempDir()}, OnResult: func(r OpResult) { done <- r }})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	req := Request{Rsc: Resource{ID: "t", Agent: agent.Key{Class: "ocf", Provider: "test", Type: "true"}}, Op: OpStart, Timeout: 20 * time.Second}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Execute(1, req); err != nil {
			b.Fatal(err)
		}
		if r := <-done; r.RC != agent.OK {
			b.Fatalf("start failed: %+v", r)
		}
	}
}

// BenchmarkForkExecBaseline runs the same script with a bare exec.Cmd.
func BenchmarkForkExecBaseline(b *testing.B) {
	_, script := trivialAgent(b)
	for i := 0; i < b.N; i++ {
		if err := exec.Command(script, "start").Run(); err != nil {
			b.Fatal(err)
		}
	}
}
