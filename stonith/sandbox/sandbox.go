// Package sandbox is the fence-device plugin of sandbox clusters (several
// crmd processes or network namespaces on one host): fencing a node kills
// that node's crmd through an injected Killer keyed by node name. The
// "fail" parameter lists nodes it pretends it cannot fence, to exercise
// topology fallthrough and fencing failures in cluster tests.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fsm"
)

// Type is the registry key of the plugin.
const Type = "sandbox"

// Killer reaches the simulated nodes of a sandbox cluster. Implementations
// must be safe for concurrent use and honour ctx.
type Killer interface {
	// Kill terminates node's crmd (SIGKILL-style: no clean shutdown) and
	// returns once it is gone.
	Kill(ctx context.Context, node string) error
	// Running reports whether node's crmd is alive.
	Running(ctx context.Context, node string) (bool, error)
	// Nodes lists the nodes the killer knows.
	Nodes(ctx context.Context) ([]string, error)
}

// Register adds the "sandbox" plugin to reg.
func Register(reg *stonith.Registry, k Killer) error {
	if k == nil {
		return errors.New("register sandbox fence plugin: nil Killer")
	}
	return reg.Register(stonith.Plugin{
		Type:     Type,
		Strict:   true,
		MetaData: func(context.Context, string) (stonith.MetaData, error) { return metaData(), nil },
		New: func(_ context.Context, cfg stonith.Config) (stonith.Device, error) {
			d := &Device{k: k}
			for _, n := range strings.Split(cfg.Params.Get("fail"), ",") {
				if n = strings.TrimSpace(n); n != "" {
					if strings.ContainsAny(n, " \t;:") {
						return nil, &fsm.ParamError{Device: cfg.ID, Param: "fail", Msg: fmt.Sprintf("%q is not a node name", n)}
					}
					d.fail = append(d.fail, n)
				}
			}
			return d, nil
		},
	})
}

func metaData() stonith.MetaData {
	return stonith.MetaData{
		Name:      Type,
		ShortDesc: "Kill a sandbox node's crmd (test clusters)",
		Params: []stonith.ParamSpec{
			{Name: "fail", Type: "string", ShortDesc: "comma-separated nodes this device pretends it cannot fence"},
		},
		Actions: []string{"reboot", "off", "status", "list", "monitor", "metadata"},
	}
}

// Device is a sandbox fence device. It is safe for concurrent use.
type Device struct {
	k    Killer
	fail []string
}

// Fence implements stonith.Device: reboot and off kill the node's crmd
// (the sandbox harness decides whether to restart it).
func (d *Device) Fence(ctx context.Context, target string, action stonith.Action) error {
	if slices.Contains(d.fail, target) {
		return fmt.Errorf("sandbox fence %s %s (listed in fail): %w", action, target, stonith.ErrCannotFence)
	}
	if action == stonith.ActionOn {
		return fmt.Errorf("sandbox on %s: %w", target, stonith.ErrNotSupported)
	}
	if err := d.k.Kill(ctx, target); err != nil {
		return fmt.Errorf("sandbox fence %s %s: %w", action, target, err)
	}
	return nil
}

// Status implements stonith.Device.
func (d *Device) Status(ctx context.Context, target string) (stonith.PowerState, error) {
	if slices.Contains(d.fail, target) {
		return stonith.PowerUnknown, fmt.Errorf("sandbox status %s: %w", target, stonith.ErrCannotFence)
	}
	up, err := d.k.Running(ctx, target)
	if err != nil {
		return stonith.PowerUnknown, fmt.Errorf("sandbox status %s: %w", target, err)
	}
	if up {
		return stonith.PowerOn, nil
	}
	return stonith.PowerOff, nil
}

// List implements stonith.Device: the killer's nodes (including those in
// "fail": the device claims them and then fails, like a broken PDU port).
func (d *Device) List(ctx context.Context) ([]string, error) {
	n, err := d.k.Nodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("sandbox list: %w", err)
	}
	return n, nil
}

// Monitor implements stonith.Device.
func (d *Device) Monitor(ctx context.Context) error {
	if _, err := d.k.Nodes(ctx); err != nil {
		return fmt.Errorf("sandbox monitor: %w", err)
	}
	return nil
}

// MetaData implements stonith.Device.
func (d *Device) MetaData(context.Context) (stonith.MetaData, error) { return metaData(), nil }
