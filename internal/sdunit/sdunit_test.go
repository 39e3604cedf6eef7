package sdunit

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"
)

func TestUnitName(t *testing.T) {
	for in, want := range map[string]string{
		"httpd":             "httpd.service",
		"httpd.service":     "httpd.service",
		"data.mount":        "data.mount",
		"dev-sdb.device":    "dev-sdb.device",
		"swapfile.swap":     "swapfile.swap",
		"proc.automount":    "proc.automount",
		"getty@tty1":        "getty@tty1.service",
		"my.app":            "my.app.service",
		"sshd.socket":       "sshd.socket",
		"multi-user.target": "multi-user.target",
	} {
		if got := UnitName(in); got != want {
			t.Errorf("UnitName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFakeLifecycle(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	f.AddUnit("web.service")
	state := func(want string) {
		t.Helper()
		st, err := f.UnitState(ctx, "web.service")
		if err != nil || st.LoadState != "loaded" || st.ActiveState != want {
			t.Fatalf("state %+v %v, want loaded/%s", st, err, want)
		}
	}
	job := func(fn func(context.Context, string) (string, error), want string) {
		t.Helper()
		if r, err := fn(ctx, "web.service"); err != nil || r != want {
			t.Fatalf("job result %q %v, want %q", r, err, want)
		}
	}
	state("inactive")
	job(f.ReloadUnit, "failed") // not active
	job(f.StartUnit, "done")
	state("active")
	job(f.ReloadUnit, "done")
	job(f.StopUnit, "done")
	state("inactive")

	f.FailStart("web.service", "dependency")
	job(f.StartUnit, "dependency")
	state("failed")
	f.FailStart("web.service", "")
	f.StopLeaves("web.service", "deactivating")
	job(f.StopUnit, "done")
	state("deactivating")
	f.SetActiveState("web.service", "active")
	state("active")
	f.SetActiveState("nosuch.service", "active") // unknown units stay unknown

	want := []string{"reload web.service", "start web.service", "reload web.service", "stop web.service",
		"start web.service", "stop web.service"}
	if got := f.Calls(); !slices.Equal(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}

	st, err := f.UnitState(ctx, "nosuch.service")
	if err != nil || st != (UnitState{LoadState: "not-found", ActiveState: "inactive", SubState: "dead"}) {
		t.Fatalf("unknown unit: %+v %v", st, err)
	}
	if _, err := f.StartUnit(ctx, "nosuch.service"); err == nil {
		t.Fatal("start of an unknown unit succeeded")
	}

	boom := errors.New("bus gone")
	f.SetError(boom)
	if _, err := f.UnitState(ctx, "web.service"); !errors.Is(err, boom) {
		t.Fatalf("SetError: state err %v", err)
	}
	if _, err := f.StopUnit(ctx, "web.service"); !errors.Is(err, boom) {
		t.Fatalf("SetError: job err %v", err)
	}
	f.SetError(nil)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	n := len(f.Calls())
	if _, err := f.StartUnit(cctx, "web.service"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled start: %v", err)
	}
	if _, err := f.UnitState(cctx, "web.service"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled state: %v", err)
	}
	if len(f.Calls()) != n {
		t.Fatal("a cancelled job was recorded")
	}
}

func systemdRunning() bool {
	_, err := os.Stat(RunDir)
	return err == nil
}

// Without systemd, Dial and every call of a zero Client fail with
// ErrNoSystemd before any D-Bus traffic.
func TestClientWithoutSystemd(t *testing.T) {
	if systemdRunning() {
		t.Skipf("systemd is running here (%s exists)", RunDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Dial(ctx)
	if !errors.Is(err, ErrNoSystemd) {
		t.Errorf("Dial: %v, want ErrNoSystemd", err)
	}
	var c Client
	defer c.Close()
	calls := map[string]func() error{
		"UnitState":  func() error { _, err := c.UnitState(ctx, "x.service"); return err },
		"StartUnit":  func() error { _, err := c.StartUnit(ctx, "x.service"); return err },
		"StopUnit":   func() error { _, err := c.StopUnit(ctx, "x.service"); return err },
		"ReloadUnit": func() error { _, err := c.ReloadUnit(ctx, "x.service"); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrNoSystemd) {
			t.Errorf("%s: %v, want ErrNoSystemd", name, err)
		}
	}
}

// With systemd, a Client reads unit states and reconnects after Close.
func TestClientWithSystemd(t *testing.T) {
	if !systemdRunning() {
		t.Skipf("systemd is not running here (%s absent); TestClientWithoutSystemd covers detection", RunDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for round := range 2 {
		st, err := c.UnitState(ctx, "gocrm-surely-absent.service")
		if err != nil || st.LoadState == "loaded" {
			t.Fatalf("round %d: absent unit: %+v %v", round, st, err)
		}
		c.Close() // the next round reconnects
	}
}
