package sandbox

import (
	"context"
	"log/slog"
	"syscall"
	"time"
)

// Killer fences sandbox nodes by killing their crmd; it implements
// stonith/sandbox.Killer for a crmd started by a sandbox (the directory is
// in the EnvDir environment variable). Safe for concurrent use: every call
// re-reads the sandbox state from disk.
type Killer struct {
	dir string
	log *slog.Logger
}

// NewKiller returns a Killer for the sandbox in dir.
func NewKiller(dir string, logger *slog.Logger) *Killer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Killer{dir: dir, log: logger}
}

// Kill SIGKILLs node's crmd and returns once it is gone (nil if it was not
// running).
func (k *Killer) Kill(ctx context.Context, node string) error {
	s, err := Open(k.dir, k.log)
	if err != nil {
		return err
	}
	_, err = s.signal(ctx, node, syscall.SIGKILL, 10*time.Second)
	return err
}

// Running reports whether node's crmd runs.
func (k *Killer) Running(_ context.Context, node string) (bool, error) {
	s, err := Open(k.dir, k.log)
	if err != nil {
		return false, err
	}
	if _, err := s.node(node); err != nil {
		return false, err
	}
	return s.Running(node), nil
}

// Nodes lists the sandbox's nodes.
func (k *Killer) Nodes(_ context.Context) ([]string, error) {
	s, err := Open(k.dir, k.log)
	if err != nil {
		return nil, err
	}
	return s.Nodes(), nil
}
