package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/dc"
	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fsm"
	"github.com/gocrm/gocrm/stonith/meatware"
	"github.com/gocrm/gocrm/stonith/plugins"
	"github.com/gocrm/gocrm/stonith/ssh"
)

// cibFencer fences through devices configured from the CIB's stonith
// primitives, with every device step run on the DC itself.
type cibFencer struct {
	node string
	reg  *stonith.Registry
	log  *slog.Logger
}

func (d *Daemon) fencer() dc.Fencer {
	reg, err := plugins.NewRegistry(plugins.Deps{SSH: ssh.ExecRunner{}, Meatware: d.hub(), Sandbox: d.cfg.Killer})
	if err != nil {
		d.log.Error("fence plugin registry", "err", err)
		return nil
	}
	return &cibFencer{node: d.cfg.Name, reg: reg, log: d.log.With("component", "stonith")}
}

func (d *Daemon) hub() *meatware.Hub {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.meat == nil {
		d.meat = meatware.NewHub(func(node string) {
			d.log.Warn("manual fencing required: confirm with `crm node fence-confirm`", "target", node)
		}, d.log.With("component", "meatware"))
	}
	return d.meat
}

func firstPairs(sets []*cib.NVSet) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		if len(s.Rules) > 0 {
			continue
		}
		for _, p := range s.Pairs {
			if _, ok := out[p.Name]; !ok {
				out[p.Name] = p.Value
			}
		}
	}
	return out
}

func stonithPrimitives(rs []*cib.Resource, out *[]*cib.Resource) {
	for _, r := range rs {
		if r.Kind == cib.KindPrimitive && r.Class == "stonith" {
			*out = append(*out, r)
		}
		stonithPrimitives(r.Children, out)
	}
}

// Fence implements dc.Fencer.
func (f *cibFencer) Fence(ctx context.Context, cur *cib.CIB, target, action string, online []string) error {
	props := map[string]string{}
	for _, s := range cur.Config.CRMConfig {
		for _, p := range s.Pairs {
			if _, ok := props[p.Name]; !ok {
				props[p.Name] = p.Value
			}
		}
	}
	opts, err := fsm.ParseOptions(props)
	if err != nil {
		return fmt.Errorf("fencing options: %w", err)
	}
	var prims []*cib.Resource
	stonithPrimitives(cur.Config.Resources, &prims)
	var devs []*stonith.Configured
	for _, r := range prims {
		dev, err := f.reg.Configure(ctx, r.ID, r.Type, firstPairs(r.Instance), 0, f.log)
		if err != nil {
			f.log.Error("fence device not usable", "device", r.ID, "err", err)
			continue
		}
		devs = append(devs, dev)
	}
	if len(devs) == 0 {
		return fmt.Errorf("fence %s: %w", target, stonith.ErrNoDevice)
	}
	ex, err := stonith.NewExecutor(stonith.ExecutorConfig{Node: f.node, Options: opts, Devices: devs, Logger: f.log})
	if err != nil {
		return fmt.Errorf("fencing executor: %w", err)
	}
	defer ex.Close()
	act, err := fsm.ParseFenceAction(action)
	if err != nil {
		return err
	}
	nodes := online
	if !slices.Contains(nodes, f.node) {
		nodes = append([]string{f.node}, nodes...)
	}
	rec, err := ex.Fence(ctx, fsm.Request{Target: target, Action: act, Origin: f.node, Client: "crmd", Nodes: nodes})
	if err != nil {
		return err // the executor's error names the target
	}
	f.log.Warn("node fenced", "target", target, "record", rec.String())
	return nil
}
