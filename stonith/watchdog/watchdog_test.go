package watchdog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fsm"
	"github.com/gocrm/gocrm/stonith/watchdog"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var start = time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*stonith.FakeClock, *watchdog.FakeOpener, *stonith.Configured, *watchdog.Device) {
	t.Helper()
	clock := stonith.NewFakeClock(start)
	op := watchdog.NewFakeOpener(clock)
	reg := stonith.NewRegistry()
	if err := watchdog.Register(reg, watchdog.Deps{Node: "n1", Opener: op, Clock: clock}); err != nil {
		t.Fatal(err)
	}
	c, err := reg.Configure(context.Background(), "wd", "watchdog", map[string]string{"timeout": "6s", "pcmk_host_check": "none"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Spec.SelfFencing {
		t.Error("watchdog spec not marked self-fencing")
	}
	return clock, op, c, c.Underlying().(*watchdog.Device)
}

func TestWatchdogKeepaliveAndCleanDisarm(t *testing.T) {
	clock, op, c, d := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	if !clock.BlockUntil(1, 5*time.Second) {
		t.Fatal("Run never armed its keepalive timer")
	}
	dev := op.Devs()[0]
	if dev.Timeout() != 6*time.Second || dev.Path != watchdog.DefaultPath {
		t.Errorf("timeout %v path %s", dev.Timeout(), dev.Path)
	}
	if err := c.Device.Monitor(ctx); err != nil {
		t.Errorf("monitor while armed: %v", err)
	}
	for i := 0; i < 5; i++ { // 5 × 2s: well past the 6s timeout, but fed
		clock.Advance(2 * time.Second)
		if !clock.BlockUntil(1, 5*time.Second) {
			t.Fatal("keepalive loop stalled")
		}
	}
	if dev.Keepalives() < 5 || op.WouldReset() {
		t.Errorf("keepalives %d, would reset %v", dev.Keepalives(), op.WouldReset())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if closed, disarmed := dev.State(); !closed || !disarmed {
		t.Errorf("clean stop must magic-close: closed=%v disarmed=%v", closed, disarmed)
	}
	clock.Advance(time.Minute)
	if op.WouldReset() {
		t.Error("disarmed watchdog reset the node")
	}
	if err := c.Device.Monitor(context.Background()); !errors.Is(err, watchdog.ErrNotArmed) {
		t.Errorf("monitor after stop: %v", err)
	}
}

func TestWatchdogSelfFence(t *testing.T) {
	clock, op, c, d := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	if !clock.BlockUntil(1, 5*time.Second) {
		t.Fatal("not armed")
	}
	if err := c.Device.Fence(ctx, "n2", stonith.ActionReboot); !errors.Is(err, stonith.ErrCannotFence) {
		t.Errorf("fencing another node: %v", err)
	}
	if err := c.Device.Fence(ctx, "n1", stonith.ActionReboot); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run after fence: %v", err)
	}
	dev := op.Devs()[0]
	if closed, disarmed := dev.State(); !closed || disarmed {
		t.Errorf("self-fence must close without magic: closed=%v disarmed=%v", closed, disarmed)
	}
	if dev.Timeout() != watchdog.FenceTimeout || op.WouldReset() {
		t.Errorf("timeout %v, reset already %v", dev.Timeout(), op.WouldReset())
	}
	clock.Advance(watchdog.FenceTimeout)
	if !op.WouldReset() {
		t.Error("watchdog did not expire after the fence timeout")
	}
}

func TestWatchdogFenceWithoutRunAndPlan(t *testing.T) {
	clock, op, c, _ := setup(t)
	if err := c.Device.Fence(context.Background(), "n1", stonith.ActionOff); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	if !op.WouldReset() {
		t.Error("self-fence without Run did not leave the watchdog armed")
	}
	p, err := fsm.BuildPlan(fsm.DefaultOptions(), fsm.Topology{}, []fsm.DeviceInfo{{Spec: c.Spec, RunsOn: "n2"}},
		fsm.Request{Target: "n1", Nodes: []string{"n1", "n2"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Levels[0].Steps[0]; s.Executor != "n1" || !s.SelfFence {
		t.Errorf("watchdog step must run on the target: %+v", s)
	}
	if _, err := watchdog.New("x", "", "100ms", watchdog.Deps{Node: "n1", Opener: op}); !errors.Is(err, stonith.ErrInvalidParam) {
		t.Errorf("sub-second timeout accepted: %v", err)
	}
}

func TestWatchdogIsRunnable(t *testing.T) {
	_, _, c, d := setup(t)
	r, ok := c.Runnable()
	if !ok || r != stonith.Runnable(d) {
		t.Errorf("watchdog device not exposed as Runnable: %v %T", ok, r)
	}
}
