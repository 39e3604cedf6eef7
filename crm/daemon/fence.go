package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

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
// Every fencing operation (pending, then done or failed) is recorded in
// hist, which outlives the fencer (the `crm stonith history` and
// `crm status` fencing sections read it).
type cibFencer struct {
	node string
	reg  *stonith.Registry
	hist *fenceHistory
	// persist writes a finished record to the CIB (nil: memory only).
	persist func(ctx context.Context, r fsm.Record)
	log     *slog.Logger
}

// fenceRegistry returns the fence plugins this daemon can configure.
func (d *Daemon) fenceRegistry() (*stonith.Registry, error) {
	return plugins.NewRegistry(plugins.Deps{SSH: ssh.ExecRunner{}, Meatware: d.hub(), Sandbox: d.cfg.Killer})
}

func (d *Daemon) fencer() dc.Fencer {
	reg, err := d.fenceRegistry()
	if err != nil {
		d.log.Error("fence plugin registry", "err", err)
		return nil
	}
	return &cibFencer{node: d.cfg.Name, reg: reg, hist: &d.fenceHist, persist: d.persistFence, log: d.log.With("component", "stonith")}
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
	act, err := fsm.ParseFenceAction(action)
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		err := fmt.Errorf("fence %s: %w", target, stonith.ErrNoDevice)
		f.finished(ctx, f.hist.failed(f.node, target, act, "no fence device is configured and usable", time.Now()))
		return err
	}
	// Every step runs here (no Remote): say so, so that the plan and the
	// history name this node as the executor (delegate).
	runsOn := make(map[string]string, len(devs))
	for _, dv := range devs {
		runsOn[dv.ID] = f.node
	}
	ex, err := stonith.NewExecutor(stonith.ExecutorConfig{Node: f.node, Options: opts, Devices: devs, RunsOn: runsOn,
		Logger: f.log, OnRecord: f.hist.record})
	if err != nil {
		return fmt.Errorf("fencing executor: %w", err)
	}
	defer ex.Close()
	nodes := online
	if !slices.Contains(nodes, f.node) {
		nodes = append([]string{f.node}, nodes...)
	}
	rec, err := ex.Fence(ctx, fsm.Request{Target: target, Action: act, Origin: f.node, Client: "crmd", Nodes: nodes})
	if rec.ID != "" {
		// Recorded before the DC acts on the outcome, so the history
		// in the CIB never lags behind a recovery.
		f.finished(ctx, rec)
	}
	if err != nil {
		return err // the executor's error names the target
	}
	f.log.Warn("node fenced", "target", target, "record", rec.String())
	return nil
}

// finished persists a finished fencing record when the fencer can.
func (f *cibFencer) finished(ctx context.Context, r fsm.Record) {
	if f.persist != nil {
		f.persist(ctx, r)
	}
}
