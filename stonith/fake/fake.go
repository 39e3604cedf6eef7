// Package fake provides an in-memory, scriptable fence device for tests of
// the fencing executor and of everything built on it (DC integration,
// sandbox clusters). It fences nothing: it records calls and answers as
// scripted (success, failure, delay, hang).
package fake

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fsm"
)

// Type is the registry key of the plugin.
const Type = "fake"

// Outcome is one scripted answer to a Fence call.
type Outcome struct {
	Err   error         // returned error (nil = success)
	Delay time.Duration // real-time wait before answering (ctx aborts it)
	Hang  bool          // block until ctx is done
}

// Call is one recorded Fence call.
type Call struct {
	Target string
	Action stonith.Action
	Err    error
}

// Device is the fake device. It is safe for concurrent use.
type Device struct {
	mu         sync.Mutex
	id         string
	hosts      []string
	fail       map[string]bool
	delay      time.Duration
	passwd     string
	script     map[string][]Outcome
	power      map[string]stonith.PowerState
	calls      []Call
	started    int
	monitorErr error
}

// New returns a fake device that lists hosts.
func New(id string, hosts ...string) *Device {
	return &Device{id: id, hosts: hosts, fail: map[string]bool{}, script: map[string][]Outcome{}, power: map[string]stonith.PowerState{}}
}

// Script queues outcomes for the next Fence calls on target (FIFO); after
// the script runs out the default behaviour applies.
func (d *Device) Script(target string, outs ...Outcome) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.script[target] = append(d.script[target], outs...)
}

// FailTargets makes every Fence of these targets fail with ErrCannotFence.
func (d *Device) FailTargets(targets ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range targets {
		d.fail[t] = true
	}
}

// SetMonitorError sets the result of Monitor.
func (d *Device) SetMonitorError(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.monitorErr = err
}

// Started returns the number of Fence calls begun (finished or not).
func (d *Device) Started() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.started
}

// WaitStarted polls until n Fence calls have begun or timeout passes,
// reporting success.
func (d *Device) WaitStarted(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for d.Started() < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// Calls returns the recorded (finished) Fence calls.
func (d *Device) Calls() []Call {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls)
}

// Fence implements stonith.Device.
func (d *Device) Fence(ctx context.Context, target string, action stonith.Action) error {
	d.mu.Lock()
	d.started++
	out := Outcome{Delay: d.delay}
	if s := d.script[target]; len(s) > 0 {
		out, d.script[target] = s[0], s[1:]
	} else if d.fail[target] {
		out.Err = fmt.Errorf("%s: %w", target, stonith.ErrCannotFence)
		if d.passwd != "" {
			// Deliberately leak the password the way a careless agent
			// would, so tests can check the registry masks it.
			out.Err = fmt.Errorf("login to %s with password %s refused: %w", target, d.passwd, stonith.ErrFailed)
		}
	}
	d.mu.Unlock()
	err := out.Err
	switch {
	case out.Hang:
		<-ctx.Done()
		err = ctx.Err()
	case out.Delay > 0:
		t := time.NewTimer(out.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			err = ctx.Err()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, Call{Target: target, Action: action, Err: err})
	if err == nil {
		switch action {
		case stonith.ActionOff:
			d.power[target] = stonith.PowerOff
		case stonith.ActionOn, stonith.ActionReboot:
			d.power[target] = stonith.PowerOn
		}
	}
	return err
}

// Status implements stonith.Device: the last state set by Fence, "on" for
// other listed hosts.
func (d *Device) Status(_ context.Context, target string) (stonith.PowerState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.power[target]; ok {
		return s, nil
	}
	if slices.Contains(d.hosts, target) {
		return stonith.PowerOn, nil
	}
	return stonith.PowerUnknown, fmt.Errorf("status %s: %w", target, stonith.ErrCannotFence)
}

// PowerState returns the state of target as the fake believes it.
func (d *Device) PowerState(target string) stonith.PowerState {
	s, _ := d.Status(context.Background(), target)
	return s
}

// List implements stonith.Device.
func (d *Device) List(context.Context) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.hosts), nil
}

// Monitor implements stonith.Device.
func (d *Device) Monitor(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.monitorErr
}

// MetaData implements stonith.Device.
func (d *Device) MetaData(context.Context) (stonith.MetaData, error) { return metaData(), nil }

func metaData() stonith.MetaData {
	return stonith.MetaData{
		Name:      Type,
		ShortDesc: "In-memory scriptable fence device for tests",
		Params: []stonith.ParamSpec{
			{Name: "hosts", Type: "string", ShortDesc: "targets returned by list"},
			{Name: "fail", Type: "string", ShortDesc: "comma-separated targets whose fencing fails"},
			{Name: "delay", Type: "time", ShortDesc: "real-time delay of every fence action"},
			{Name: "passwd", Type: "string", Secret: true, ShortDesc: "a secret the device leaks into its errors (for masking tests)"},
		},
		Actions: []string{"reboot", "off", "on", "status", "list", "monitor", "metadata"},
	}
}

// Lab keeps the fake devices a registry created, by id, so tests can
// script them after configuration. It is safe for concurrent use.
type Lab struct {
	mu      sync.Mutex
	devices map[string]*Device
}

// NewLab returns an empty lab.
func NewLab() *Lab { return &Lab{devices: map[string]*Device{}} }

// Device returns the device configured with id (nil if none).
func (l *Lab) Device(id string) *Device {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.devices[id]
}

// Register adds the "fake" plugin to reg; devices it creates are recorded
// in lab (which may be nil).
func Register(reg *stonith.Registry, lab *Lab) error {
	return reg.Register(stonith.Plugin{
		Type:     Type,
		Strict:   true,
		MetaData: func(context.Context, string) (stonith.MetaData, error) { return metaData(), nil },
		New: func(_ context.Context, cfg stonith.Config) (stonith.Device, error) {
			d := New(cfg.ID, fsm.ParseHostList(cfg.Params.Get("hosts"))...)
			for _, t := range strings.Split(cfg.Params.Get("fail"), ",") {
				if t = strings.TrimSpace(t); t != "" {
					d.fail[t] = true
				}
			}
			if v := cfg.Params.Get("delay"); v != "" {
				dl, err := fsm.ParseDuration(v)
				if err != nil {
					return nil, &fsm.ParamError{Device: cfg.ID, Param: "delay", Msg: err.Error()}
				}
				d.delay = dl
			}
			d.passwd = cfg.Params.Get("passwd")
			if lab != nil {
				lab.mu.Lock()
				lab.devices[cfg.ID] = d
				lab.mu.Unlock()
			}
			return d, nil
		},
	})
}
