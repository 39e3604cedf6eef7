package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/crmsyntax"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
)

// ErrNotReady is returned by WaitReady when the cluster did not form in
// time.
var ErrNotReady = errors.New("sandbox cluster not ready")

// NodeStatus asks one node's crmd for its runtime status.
func (s *Sandbox) NodeStatus(ctx context.Context, name string) (*api.Status, error) {
	c, err := api.Dial(ctx, s.Socket(name))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	resp, err := c.Do(ctx, api.Request{Op: api.OpStatus})
	if err != nil {
		return nil, err
	}
	if resp.Status == nil {
		return nil, fmt.Errorf("%s: empty status", name)
	}
	return resp.Status, nil
}

// Ready reports whether every running node answers, sees all running
// nodes alive and agrees on one DC. It returns the DC and a description
// of what is missing.
func (s *Sandbox) Ready(ctx context.Context) (dc string, missing string) {
	var running []string
	for _, n := range s.Nodes() {
		if s.Running(n) {
			running = append(running, n)
		}
	}
	if len(running) == 0 {
		return "", "no node running"
	}
	for _, n := range running {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := s.NodeStatus(cctx, n)
		cancel()
		if err != nil {
			return "", fmt.Sprintf("%s: %v", n, err)
		}
		alive := map[string]bool{}
		for _, m := range st.Members {
			if m.State == "alive" {
				alive[m.Name] = true
			}
		}
		for _, o := range running {
			if !alive[o] {
				return "", fmt.Sprintf("%s does not see %s alive", n, o)
			}
		}
		if st.DC == "" {
			return "", fmt.Sprintf("%s knows no DC", n)
		}
		if dc != "" && st.DC != dc {
			return "", fmt.Sprintf("DC disagreement: %s vs %s", dc, st.DC)
		}
		dc = st.DC
	}
	return dc, ""
}

// WaitReady polls Ready until it succeeds or timeout passes.
func (s *Sandbox) WaitReady(ctx context.Context, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	for {
		dc, missing := s.Ready(ctx)
		if missing == "" {
			return dc, nil
		}
		last = missing
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w after %s: %s", ErrNotReady, timeout, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// client connects to the first running node.
func (s *Sandbox) client(ctx context.Context) (*api.Client, error) {
	var errs []error
	for _, n := range s.Nodes() {
		if !s.Running(n) {
			continue
		}
		c, err := api.Dial(ctx, s.Socket(n))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, errors.New("no sandbox node running")
	}
	return nil, errors.Join(errs...)
}

// Configure applies crm configure statements to the cluster's CIB in one
// atomic change (retried when the CIB moved on meanwhile).
func (s *Sandbox) Configure(ctx context.Context, statements string) error {
	c, err := s.client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	for attempt := 1; ; attempt++ {
		x, err := c.GetCIB(ctx)
		if err != nil {
			return fmt.Errorf("get CIB: %w", err)
		}
		cur, err := cib.Parse([]byte(x))
		if err != nil {
			return fmt.Errorf("CIB: %w", err)
		}
		sess := crmsyntax.NewSession(&cur.Config, s.log)
		if err := sess.Update(statements); err != nil {
			return fmt.Errorf("sandbox configuration: %w", err)
		}
		if err := sess.CheckCommit(); err != nil {
			return fmt.Errorf("sandbox configuration: %w", err)
		}
		cmd := store.Command{V: store.Version, Op: store.OpReplaceConfiguration, ExpectEpoch: store.EpochString(cur), XML: sess.ConfigElement().String()}
		err = c.Apply(ctx, cmd)
		if err == nil {
			return nil
		}
		if attempt >= 5 || !errors.Is(err, api.ErrRejected) || !strings.Contains(err.Error(), store.ErrStaleEpoch.Error()) {
			return fmt.Errorf("commit sandbox configuration: %w", err)
		}
	}
}

// FencingConfig is the crm configuration Up applies: the sandbox fence
// device and fencing enabled.
const FencingConfig = "primitive fence-sandbox stonith:sandbox op monitor interval=60s\nproperty stonith-enabled=true\n"

// Up creates the sandbox, starts every node, waits until they formed a
// cluster with a DC and configures the sandbox fence device. On failure
// the nodes started so far are stopped.
func Up(ctx context.Context, cfg Config, timeout time.Duration) (*Sandbox, string, error) {
	if cfg.TwoNodeMode && cfg.Nodes != 2 {
		return nil, "", fmt.Errorf("sandbox: two-node-mode needs exactly 2 nodes, not %d", cfg.Nodes)
	}
	s, err := Create(cfg)
	if err != nil {
		return nil, "", err
	}
	for _, n := range s.Nodes() {
		if err := s.Start(ctx, n); err != nil {
			_ = s.Down(context.Background(), 10*time.Second)
			return s, "", err
		}
	}
	dc, err := s.WaitReady(ctx, timeout)
	if err != nil {
		return s, "", err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.configureFencing(cctx, cfg); err != nil {
		return s, dc, err
	}
	return s, dc, nil
}
