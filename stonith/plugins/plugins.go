// Package plugins builds a stonith.Registry with gocrm's device plugins
// (external fence-agents, ssh, watchdog, meatware, sandbox, fake), each
// wired to the dependencies the daemon supplies. It is the one place the
// daemon needs to know the plugin list.
package plugins

import (
	"fmt"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/external"
	"github.com/gocrm/gocrm/stonith/fake"
	"github.com/gocrm/gocrm/stonith/meatware"
	"github.com/gocrm/gocrm/stonith/sandbox"
	"github.com/gocrm/gocrm/stonith/ssh"
	"github.com/gocrm/gocrm/stonith/watchdog"
)

// Deps select and wire the plugins; a plugin whose dependency is nil is
// not registered (external is always registered).
type Deps struct {
	// External configures fence_* agent lookup (dirs default /usr/sbin).
	External external.Options
	// SSH runs the ssh plugin's commands (ssh.ExecRunner{} in production).
	SSH ssh.Runner
	// Watchdog enables the watchdog plugin (Node and Opener required).
	Watchdog *watchdog.Deps
	// Meatware receives operator confirmations (crm node fence-confirm).
	Meatware *meatware.Hub
	// Sandbox kills simulated nodes in sandbox clusters.
	Sandbox sandbox.Killer
	// Fake enables the fake plugin (tests only).
	Fake *fake.Lab
}

// NewRegistry returns a registry with the plugins deps enable.
func NewRegistry(deps Deps) (*stonith.Registry, error) {
	reg := stonith.NewRegistry()
	external.Register(reg, deps.External)
	if deps.SSH != nil {
		if err := ssh.Register(reg, deps.SSH); err != nil {
			return nil, fmt.Errorf("fence plugins: %w", err)
		}
	}
	if deps.Watchdog != nil {
		if err := watchdog.Register(reg, *deps.Watchdog); err != nil {
			return nil, fmt.Errorf("fence plugins: %w", err)
		}
	}
	if deps.Meatware != nil {
		if err := meatware.Register(reg, deps.Meatware); err != nil {
			return nil, fmt.Errorf("fence plugins: %w", err)
		}
	}
	if deps.Sandbox != nil {
		if err := sandbox.Register(reg, deps.Sandbox); err != nil {
			return nil, fmt.Errorf("fence plugins: %w", err)
		}
	}
	if deps.Fake != nil {
		if err := fake.Register(reg, deps.Fake); err != nil {
			return nil, fmt.Errorf("fence plugins: %w", err)
		}
	}
	return reg, nil
}
