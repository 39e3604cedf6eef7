package shell

import (
	"context"
	"fmt"

	"github.com/gocrm/gocrm/agents/ra"
)

// CatalogMeta answers completion questions from a resource agent catalog
// (built-in agents and those installed under the OCF root, /etc/init.d,
// fence_* programs). Safe for concurrent use (the catalog is).
type CatalogMeta struct {
	Catalog *ra.Catalog
	// Classes listed by Agents (nil: ocf, lsb, stonith).
	Classes []string
}

// Agents lists agent names ("ocf:heartbeat:IPaddr2", "lsb:apache2").
func (m *CatalogMeta) Agents(_ context.Context) ([]string, error) {
	classes := m.Classes
	if classes == nil {
		classes = []string{"ocf", "lsb", "stonith"}
	}
	var out []string
	for _, cl := range classes {
		keys, err := m.Catalog.List(cl, "")
		if err != nil {
			return out, fmt.Errorf("list %s agents: %w", cl, err)
		}
		for _, k := range keys {
			out = append(out, k.String())
		}
	}
	return out, nil
}

// Params returns the parameter names of an agent as written in a
// primitive ("IPaddr2" is ocf:heartbeat:IPaddr2), deprecated ones left out.
func (m *CatalogMeta) Params(ctx context.Context, agent string) ([]string, error) {
	k, err := ra.ParseName(agent)
	if err != nil {
		return nil, err
	}
	md, err := m.Catalog.Info(ctx, k)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range md.Parameters {
		if !p.Deprecated {
			out = append(out, p.Name)
		}
	}
	return out, nil
}
