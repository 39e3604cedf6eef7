package daemon

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/vip/ocf"
)

type fakeInstance struct {
	running bool
	params  map[string]string
}

func (f *fakeInstance) Validate(p map[string]string) error {
	if p["ip"] == "" {
		return fmt.Errorf("ip: %w", ocf.ErrNotConfigured)
	}
	f.params = p
	return nil
}
func (f *fakeInstance) Start(context.Context) error { f.running = true; return nil }
func (f *fakeInstance) Stop(context.Context) error  { f.running = false; return nil }
func (f *fakeInstance) Monitor(context.Context) (int, error) {
	if f.running {
		return 0, nil
	}
	return 7, nil
}
func (f *fakeInstance) MetaData() string { return "<resource-agent/>" }

func TestPerInstanceAdapter(t *testing.T) {
	made := 0
	p := &perInstance{inst: map[string]instanceAgent{}, meta: "<resource-agent/>", mk: func() (instanceAgent, error) {
		made++
		return &fakeInstance{}, nil
	}}
	ctx := context.Background()
	call := agent.Call{Resource: "vip1", Params: map[string]string{"ip": "10.99.0.5"}}
	if r := p.Monitor(ctx, call); r.RC != agent.NotRunning {
		t.Fatalf("probe rc %v", r.RC)
	}
	if r := p.Start(ctx, call); r.RC != agent.OK {
		t.Fatalf("start rc %v", r.RC)
	}
	if r := p.Monitor(ctx, call); r.RC != agent.OK {
		t.Fatalf("monitor rc %v", r.RC)
	}
	other := agent.Call{Resource: "vip2", Params: map[string]string{"ip": "10.99.0.6"}}
	if r := p.Monitor(ctx, other); r.RC != agent.NotRunning {
		t.Fatalf("second instance shares state: rc %v", r.RC)
	}
	if r := p.Start(ctx, agent.Call{Resource: "bad"}); r.RC != agent.NotConfigured {
		t.Fatalf("invalid params rc %v", r.RC)
	}
	if r := p.Stop(ctx, call); r.RC != agent.OK {
		t.Fatalf("stop rc %v", r.RC)
	}
	if made != 3 {
		t.Fatalf("instances created: %d", made)
	}
	broken := &perInstance{inst: map[string]instanceAgent{}, mk: func() (instanceAgent, error) { return nil, errors.New("no netlink") }}
	if r := broken.Start(ctx, call); r.RC != agent.NotInstalled {
		t.Fatalf("unavailable kernel rc %v", r.RC)
	}
}

func TestDefaultBuiltins(t *testing.T) {
	reg, err := DefaultBuiltins()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ocf:gocrm:Dummy", "ocf:gocrm:IPaddr2", "ocf:gocrm:lvs", "ocf:gocrm:lvs-realserver"} {
		key, _ := agent.ParseKey(k)
		if _, ok := reg.Lookup(key); !ok {
			t.Errorf("%s not registered", k)
		}
	}
}
