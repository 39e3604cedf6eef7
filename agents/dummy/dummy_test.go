package dummy

import (
	"context"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

func newAgent(t *testing.T) (*Agent, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	a, err := New(agent.Env{Node: "n1", StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return a, dir
}

func TestLifecycle(t *testing.T) {
	a, dir := newAgent(t)
	ctx := context.Background()
	c := agent.Call{Resource: "d1", Params: map[string]string{"fake": "v1"}}
	probe := c
	if r := a.Monitor(ctx, probe); r.RC != agent.NotRunning || r.Reason != "" {
		t.Fatalf("probe before start: %+v", r)
	}
	for i := 0; i < 2; i++ { // start is idempotent
		if r := a.Start(ctx, c); r.RC != agent.OK {
			t.Fatalf("start: %+v", r)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "Dummy-d1.state"))
	if err != nil || string(b) != "v1\n" {
		t.Fatalf("state file: %q %v", b, err)
	}
	if r := a.Monitor(ctx, c); r.RC != agent.OK {
		t.Fatalf("monitor: %+v", r)
	}
	if r := a.Reload(ctx, c); r.RC != agent.OK {
		t.Fatalf("reload: %+v", r)
	}
	for i := 0; i < 2; i++ { // stop is idempotent
		if r := a.Stop(ctx, c); r.RC != agent.OK {
			t.Fatalf("stop: %+v", r)
		}
	}
	rec := c
	rec.Interval = 10 * time.Second
	if r := a.Monitor(ctx, rec); r.RC != agent.NotRunning || r.Reason == "" {
		t.Fatalf("recurring monitor after stop: %+v", r)
	}
	if r := a.Promote(ctx, c); r.RC != agent.Unimplemented {
		t.Fatalf("promote: %+v", r)
	}
}

func TestStatePaths(t *testing.T) {
	a, dir := newAgent(t)
	for _, c := range []struct {
		call agent.Call
		want string
	}{
		{agent.Call{Resource: "web:1"}, filepath.Join(dir, "Dummy-web:1.state")},
		{agent.Call{Resource: "web:1", Meta: map[string]string{"globally_unique": "false"}}, filepath.Join(dir, "Dummy-web.state")},
		{agent.Call{Resource: "../../etc/x"}, filepath.Join(dir, "Dummy-x.state")},
		{agent.Call{Resource: "d", Params: map[string]string{"state": "sub/s"}}, filepath.Join(dir, "sub/s")},
		{agent.Call{Resource: "d", Params: map[string]string{"state": "../../escape"}}, filepath.Join(dir, "escape")},
		{agent.Call{Resource: "d", Params: map[string]string{"state": "/abs/s"}}, "/abs/s"},
	} {
		if got := a.statePath(c.call); got != c.want {
			t.Errorf("statePath(%+v) = %q, want %q", c.call, got, c.want)
		}
	}
}

func TestNodeIsolation(t *testing.T) {
	base := t.TempDir()
	a1, err := New(agent.Env{StateDir: filepath.Join(base, "n1")})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := New(agent.Env{StateDir: filepath.Join(base, "n2")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := agent.Call{Resource: "d1"}
	if r := a1.Start(ctx, c); r.RC != agent.OK {
		t.Fatal(r)
	}
	if r := a2.Monitor(ctx, c); r.RC != agent.NotRunning {
		t.Fatalf("n2 sees n1's state: %+v", r)
	}
	if _, err := New(agent.Env{}); !errors.Is(err, ErrNoStateDir) {
		t.Fatalf("empty state dir: %v", err)
	}
}

func TestOpSleepValidateAndCollision(t *testing.T) {
	a, _ := newAgent(t)
	ctx := context.Background()
	if r := a.Validate(ctx, agent.Call{Resource: "d", Params: map[string]string{"op_sleep": "x"}}); r.RC != agent.NotConfigured {
		t.Fatalf("validate bad op_sleep: %+v", r)
	}
	if r := a.Start(ctx, agent.Call{Resource: "d", Params: map[string]string{"op_sleep": "-1"}}); r.RC != agent.NotConfigured {
		t.Fatalf("start bad op_sleep: %+v", r)
	}
	if r := a.Validate(ctx, agent.Call{Resource: "d"}); r.RC != agent.OK {
		t.Fatalf("validate: %+v", r)
	}
	if r := a.Validate(ctx, agent.Call{Resource: "d", Params: map[string]string{"state": "/proc/nope/s"}}); r.RC != agent.ErrArgs {
		t.Fatalf("validate unwritable: %+v", r)
	}

	// Two overlapping sleeping actions on one resource collide (the LRM
	// must serialise them); a cancelled context interrupts the sleep.
	c := agent.Call{Resource: "d", Params: map[string]string{"op_sleep": "1"}}
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var first agent.Result
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = a.Monitor(sctx, c)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.mu.Lock()
		busy := len(a.busy) > 0
		a.mu.Unlock()
		if busy || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if r := a.Monitor(ctx, c); r.RC != agent.ErrGeneric {
		t.Fatalf("overlapping monitor: %+v", r)
	}
	cancel()
	wg.Wait()
	if first.RC != agent.ErrGeneric {
		t.Fatalf("interrupted monitor: %+v", first)
	}
}

func TestMetaDataIsXML(t *testing.T) {
	a, _ := newAgent(t)
	r := a.MetaData(context.Background())
	var md struct {
		Name   string `xml:"name,attr"`
		Params []struct {
			Name string `xml:"name,attr"`
		} `xml:"parameters>parameter"`
	}
	if err := xml.Unmarshal([]byte(r.Output), &md); err != nil {
		t.Fatal(err)
	}
	if md.Name != "Dummy" || len(md.Params) != 3 {
		t.Fatalf("meta-data %+v", md)
	}
	reg := agent.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Lookup(agent.Key{Class: "ocf", Provider: "gocrm", Type: "Dummy"}); !ok {
		t.Fatal("not registered as ocf:gocrm:Dummy")
	}
}

func TestNotifyAccepted(t *testing.T) {
	a, err := New(agent.Env{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	dir := a.stateDir
	r := a.Notify(context.Background(), agent.Call{Resource: "d:0", Meta: map[string]string{"notify_type": "pre", "notify_operation": "start"}})
	if r.RC != agent.OK {
		t.Fatalf("notify: %+v", r)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "Dummy-d:0.state.notify")); err != nil || string(b) != "pre start\n" {
		t.Fatalf("notification record: %q %v", b, err)
	}
}
