// Package meatware is the manual fence-device plugin: fencing blocks until
// an operator confirms that the target was powered off or reset by hand
// (`crm node fence-confirm NODE` calls Hub.Confirm). Like Pacemaker's
// meatware and fence_ack_manual, it is only as safe as the operator's word.
package meatware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/gocrm/gocrm/stonith"
)

// Type is the registry key of the plugin.
const Type = "meatware"

// ErrNotPending is returned by Confirm when no fencing of the node waits
// for a confirmation.
var ErrNotPending = errors.New("no manual fencing pending for node")

// Hub connects waiting meatware devices with operator confirmations. One
// Hub serves every meatware device of a node. It is safe for concurrent use.
type Hub struct {
	mu      sync.Mutex
	waiters map[string][]chan struct{}
	notify  func(node string) // called when a wait starts
	log     *slog.Logger
}

// NewHub returns a hub. notify (may be nil) is called, outside the hub's
// lock, whenever a fencing starts waiting for an operator, so the daemon
// can tell administrators; logger may be nil.
func NewHub(notify func(node string), logger *slog.Logger) *Hub {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{waiters: map[string][]chan struct{}{}, notify: notify, log: logger}
}

// Confirm tells every device waiting to fence node that the operator has
// made sure it is down. It returns ErrNotPending when none is waiting.
func (h *Hub) Confirm(node string) error {
	h.mu.Lock()
	ws := h.waiters[node]
	delete(h.waiters, node)
	h.mu.Unlock()
	if len(ws) == 0 {
		return fmt.Errorf("confirm %s: %w", node, ErrNotPending)
	}
	for _, w := range ws {
		close(w)
	}
	h.log.Warn("manual fencing confirmed by operator", "node", node, "waiters", len(ws))
	return nil
}

// Pending returns the nodes whose fencing waits for confirmation, sorted.
func (h *Hub) Pending() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.waiters))
	for n := range h.waiters {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// wait blocks until node is confirmed or ctx ends.
func (h *Hub) wait(ctx context.Context, node string) error {
	ch := make(chan struct{})
	h.mu.Lock()
	h.waiters[node] = append(h.waiters[node], ch)
	h.mu.Unlock()
	h.log.Warn("manual fencing: waiting for operator confirmation", "node", node)
	if h.notify != nil {
		h.notify(node)
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		ws := h.waiters[node]
		for i, w := range ws {
			if w == ch {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(h.waiters, node)
		} else {
			h.waiters[node] = ws
		}
		h.mu.Unlock()
		select {
		case <-ch: // confirmed while we were giving up: accept it
			return nil
		default:
		}
		return fmt.Errorf("manual fencing of %s not confirmed: %w", node, ctx.Err())
	}
}

// Register adds the "meatware" plugin to reg; its devices wait on hub.
func Register(reg *stonith.Registry, hub *Hub) error {
	if hub == nil {
		return errors.New("register meatware fence plugin: nil Hub")
	}
	return reg.Register(stonith.Plugin{
		Type:     Type,
		Strict:   true,
		MetaData: func(context.Context, string) (stonith.MetaData, error) { return metaData(), nil },
		New: func(_ context.Context, cfg stonith.Config) (stonith.Device, error) {
			return &Device{hub: hub, hosts: cfg.Spec.StaticTargets()}, nil
		},
	})
}

func metaData() stonith.MetaData {
	return stonith.MetaData{
		Name:      Type,
		ShortDesc: "Manual fencing confirmed by an operator",
		LongDesc:  "Fencing waits until an operator runs `crm node fence-confirm NODE` after powering the node off by hand.",
		Actions:   []string{"reboot", "off", "status", "list", "monitor", "metadata"},
	}
}

// Device is a meatware device. It is safe for concurrent use.
type Device struct {
	hub   *Hub
	hosts []string
}

// Fence implements stonith.Device: it blocks until Hub.Confirm(target) or
// ctx ends (the fence timeout; stonith-timeout should be generous).
func (d *Device) Fence(ctx context.Context, target string, action stonith.Action) error {
	if action == stonith.ActionOn {
		return fmt.Errorf("meatware on %s: %w", target, stonith.ErrNotSupported)
	}
	return d.hub.wait(ctx, target)
}

// Status implements stonith.Device: a person's power switch has no status.
func (d *Device) Status(_ context.Context, target string) (stonith.PowerState, error) {
	return stonith.PowerUnknown, fmt.Errorf("meatware status %s: %w", target, stonith.ErrNotSupported)
}

// List implements stonith.Device (pcmk_host_list / pcmk_host_map targets).
func (d *Device) List(context.Context) ([]string, error) {
	if len(d.hosts) == 0 {
		return nil, fmt.Errorf("meatware list: %w", stonith.ErrNotSupported)
	}
	return append([]string(nil), d.hosts...), nil
}

// Monitor implements stonith.Device (always healthy).
func (d *Device) Monitor(context.Context) error { return nil }

// MetaData implements stonith.Device.
func (d *Device) MetaData(context.Context) (stonith.MetaData, error) { return metaData(), nil }
