package sandbox

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gocrm/gocrm/cib"
)

// TwoNodeDelay is the static fence delay that favours the first node of a
// two-node sandbox: fencing n1 waits this long, fencing n2 waits a random
// 0 to TwoNodeDelayMax. In a split, n1 therefore fences n2 first.
const (
	TwoNodeDelay    = "3s"
	TwoNodeDelayMax = "1s"
)

// TwoNodeConfig returns the crm configuration of a two-node-mode sandbox
// for nodes (favoured node first): the sandbox fence device with
// asymmetric delays (unless noDevice), fencing enabled and two-node-mode.
func TwoNodeConfig(nodes []string, noDevice bool) string {
	out := ""
	if !noDevice {
		out += fmt.Sprintf("primitive fence-sandbox stonith:sandbox params pcmk_delay_base=\"%s:%s;%s:0s\" pcmk_delay_max=%s op monitor interval=60s\n",
			nodes[0], TwoNodeDelay, nodes[1], TwoNodeDelayMax)
	}
	return out + "property stonith-enabled=true two-node-mode=true\n"
}

// configureFencing applies Up's fencing configuration: FencingConfig, or
// the two-node-mode configuration once both nodes are in <nodes> (the mode
// is refused until then). A refused two-node-mode (no fence device) is an
// error wrapping cib.ErrTwoNodeMode.
func (s *Sandbox) configureFencing(ctx context.Context, cfg Config) error {
	if !cfg.TwoNodeMode {
		if cfg.NoFenceDevice {
			return nil
		}
		return s.Configure(ctx, FencingConfig)
	}
	if err := s.waitConfigNodes(ctx, s.Nodes()); err != nil {
		return err
	}
	if err := s.Configure(ctx, TwoNodeConfig(s.Nodes(), cfg.NoFenceDevice)); err != nil {
		return fmt.Errorf("two-node-mode: %w", err)
	}
	return nil
}

// waitConfigNodes waits until every node of names is in the CIB's <nodes>
// (the DC adds a node once it announced itself).
func (s *Sandbox) waitConfigNodes(ctx context.Context, names []string) error {
	last := ""
	for {
		c, err := s.client(ctx)
		if err == nil {
			x, gerr := c.GetCIB(ctx)
			c.Close()
			err = gerr
			if err == nil {
				cur, perr := cib.Parse([]byte(x))
				if perr != nil {
					return fmt.Errorf("CIB: %w", perr)
				}
				have := cib.TwoNodeNodes(&cur.Config)
				missing := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(have, n) })
				if len(missing) == 0 {
					return nil
				}
				last = fmt.Sprintf("nodes %v not yet in the configuration", missing)
			}
		}
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s", ErrNotReady, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
