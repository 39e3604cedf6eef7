package sandbox_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fsm"
	"github.com/gocrm/gocrm/stonith/sandbox"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSandboxFailParamAndFallthrough(t *testing.T) {
	k := sandbox.NewFakeKiller("n1", "n2", "n3")
	reg := stonith.NewRegistry()
	if err := sandbox.Register(reg, k); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	broken, err := reg.Configure(ctx, "sb-broken", "sandbox", map[string]string{"fail": "n1, n2"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	good, err := reg.Configure(ctx, "sb-good", "sandbox", nil, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := broken.Device.Fence(ctx, "n1", stonith.ActionReboot); !errors.Is(err, stonith.ErrCannotFence) {
		t.Errorf("fail param ignored: %v", err)
	}
	if st, err := broken.Device.Status(ctx, "n3"); err != nil || st != stonith.PowerOn {
		t.Errorf("status n3: %v %v", st, err)
	}
	if l, _ := broken.Device.List(ctx); !reflect.DeepEqual(l, []string{"n1", "n2", "n3"}) {
		t.Errorf("list %v", l)
	}

	l1, _ := fsm.ParseLevel(fsm.LevelConfig{ID: "l1", TargetPattern: "^n", Index: "1", Devices: "sb-broken"})
	l2, _ := fsm.ParseLevel(fsm.LevelConfig{ID: "l2", TargetPattern: "^n", Index: "2", Devices: "sb-good"})
	topo, err := fsm.NewTopology(l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := stonith.NewExecutor(stonith.ExecutorConfig{Node: "n3", Devices: []*stonith.Configured{broken, good}, Topology: topo})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	r, err := ex.Fence(ctx, fsm.Request{Target: "n1"})
	if err != nil || !reflect.DeepEqual(r.Devices, []string{"sb-good"}) {
		t.Fatalf("fallthrough: %v %+v", err, r)
	}
	if up, _ := k.Running(ctx, "n1"); up || !reflect.DeepEqual(k.Kills(), []string{"n1"}) {
		t.Errorf("n1 still running (kills %v)", k.Kills())
	}
	if st, _ := good.Device.Status(ctx, "n1"); st != stonith.PowerOff {
		t.Errorf("status after kill %v", st)
	}
	if _, err := reg.Configure(ctx, "x", "sandbox", map[string]string{"fail": "n1;n2"}, 0, nil); !errors.Is(err, stonith.ErrInvalidParam) {
		t.Errorf("bad fail list accepted: %v", err)
	}
	if _, err := reg.Configure(ctx, "x", "sandbox", map[string]string{"nodes": "n1"}, 0, nil); !errors.Is(err, stonith.ErrInvalidParam) {
		t.Errorf("unknown param accepted: %v", err)
	}
}
