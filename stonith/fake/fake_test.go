package fake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fake"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFakeScript(t *testing.T) {
	d := fake.New("f", "n1", "n2")
	ctx := context.Background()
	boom := errors.New("boom")
	d.Script("n1", fake.Outcome{Err: boom}, fake.Outcome{Delay: 5 * time.Millisecond})
	d.FailTargets("n2")
	if err := d.Fence(ctx, "n1", stonith.ActionOff); !errors.Is(err, boom) {
		t.Errorf("scripted failure: %v", err)
	}
	if d.PowerState("n1") != stonith.PowerOn {
		t.Error("failed fence changed the power state")
	}
	if err := d.Fence(ctx, "n1", stonith.ActionOff); err != nil || d.PowerState("n1") != stonith.PowerOff {
		t.Errorf("scripted success: %v %v", err, d.PowerState("n1"))
	}
	if err := d.Fence(ctx, "n2", stonith.ActionReboot); !errors.Is(err, stonith.ErrCannotFence) {
		t.Errorf("fail target: %v", err)
	}
	if _, err := d.Status(ctx, "n9"); err == nil {
		t.Error("status of unknown host")
	}
	d.Script("n1", fake.Outcome{Hang: true})
	cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := d.Fence(cctx, "n1", stonith.ActionOn); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang: %v", err)
	}
	if c := d.Calls(); len(c) != 4 || c[3].Action != stonith.ActionOn {
		t.Errorf("calls %+v", c)
	}
	d.SetMonitorError(boom)
	if err := d.Monitor(ctx); !errors.Is(err, boom) {
		t.Errorf("monitor: %v", err)
	}
}

func TestFakePluginParams(t *testing.T) {
	reg := stonith.NewRegistry()
	lab := fake.NewLab()
	if err := fake.Register(reg, lab); err != nil {
		t.Fatal(err)
	}
	c, err := reg.Configure(context.Background(), "f1", "fake", map[string]string{"hosts": "a,b", "fail": "b", "delay": "1ms"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lab.Device("f1") == nil || lab.Device("nope") != nil {
		t.Fatal("lab does not track devices")
	}
	if err := c.Device.Fence(context.Background(), "b", stonith.ActionOff); !errors.Is(err, stonith.ErrCannotFence) {
		t.Errorf("fail param: %v", err)
	}
	if l, _ := c.Device.List(context.Background()); len(l) != 2 {
		t.Errorf("hosts: %v", l)
	}
}
