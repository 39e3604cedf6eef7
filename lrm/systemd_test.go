package lrm

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

func TestSystemdExecutorWithFake(t *testing.T) {
	fake := NewFakeSystemd()
	fake.AddUnit("web.service")
	e := &SystemdExecutor{Manager: fake, PollInterval: 5 * time.Millisecond}
	rsc := Resource{ID: "web", Agent: agent.Key{Class: "systemd", Type: "web"}}
	step := func(op string, want agent.RC, wantSt ExecStatus) {
		t.Helper()
		r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: op, Timeout: time.Second})
		if r.RC != want || r.Status != wantSt {
			t.Fatalf("%s: got rc %d status %v (%s), want rc %d status %v", op, r.RC, r.Status, r.Reason, want, wantSt)
		}
	}
	step(OpMonitor, agent.NotRunning, StatusDone)
	step(OpStart, agent.OK, StatusDone)
	step(OpMonitor, agent.OK, StatusDone)
	step(OpReload, agent.OK, StatusDone)
	step(OpStop, agent.OK, StatusDone)
	step(OpMonitor, agent.NotRunning, StatusDone)
	step(OpPromote, agent.Unimplemented, StatusNotSupported)

	fake.SetActiveState("web.service", "failed")
	step(OpMonitor, agent.NotRunning, StatusDone)

	// settleLater moves the unit to state once the next step is polling.
	settleLater := func(state string) {
		go func() {
			time.Sleep(30 * time.Millisecond)
			fake.SetActiveState("web.service", state)
		}()
	}

	// A unit stuck in a transitional state is polled until the timeout.
	fake.SetActiveState("web.service", "activating")
	step(OpMonitor, agent.ErrGeneric, StatusTimeout)
	settleLater("active")
	step(OpMonitor, agent.OK, StatusDone)

	fake.FailStart("web.service", "failed")
	fake.SetActiveState("web.service", "inactive")
	step(OpStart, agent.ErrGeneric, StatusDone)

	// A stop succeeds only once the unit is down.
	fake.FailStart("web.service", "")
	step(OpStart, agent.OK, StatusDone)
	fake.StopLeaves("web.service", "deactivating")
	step(OpStop, agent.ErrGeneric, StatusTimeout)
	settleLater("inactive")
	step(OpStop, agent.OK, StatusDone)
	fake.StopLeaves("web.service", "")

	fake.SetError(errors.New("bus gone"))
	step(OpMonitor, agent.ErrGeneric, StatusError)
	fake.SetError(nil)

	want := []string{"start web.service", "reload web.service", "stop web.service", "start web.service",
		"start web.service", "stop web.service", "stop web.service"}
	if got := fake.Calls(); !slices.Equal(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}

	rsc.Agent.Type = "nosuch"
	step(OpStart, agent.NotInstalled, StatusNotInstalled)
	step(OpStop, agent.OK, StatusDone)
	step(OpMonitor, agent.NotRunning, StatusDone)
}

func TestSystemdUnavailable(t *testing.T) {
	e := &SystemdExecutor{}
	r, _ := execWithTimeout(e, Action{Rsc: Resource{ID: "x", Agent: agent.Key{Class: "systemd", Type: "x"}}, Op: OpStart})
	if r.Status != StatusNotConnected {
		t.Fatalf("got %+v", r)
	}
	if UnitName("httpd") != "httpd.service" || UnitName("data.mount") != "data.mount" {
		t.Fatal("unit name suffixing")
	}
}

func TestDBusSystemd(t *testing.T) {
	if _, err := os.Stat(SystemdRunDir); err != nil {
		ctx := context.Background()
		if _, err := NewDBusSystemd(ctx); !errors.Is(err, ErrNoSystemd) {
			t.Fatalf("without %s: got %v, want ErrNoSystemd", SystemdRunDir, err)
		}
		t.Skipf("systemd is not running here (%s absent); only the detection was tested", SystemdRunDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := NewDBusSystemd(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st, err := m.UnitState(ctx, "gocrm-surely-absent.service")
	if err != nil || st.LoadState == "loaded" {
		t.Fatalf("absent unit: %+v %v", st, err)
	}
}
