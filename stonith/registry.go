package stonith

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/gocrm/gocrm/stonith/fsm"
)

// Config is what a Plugin receives to build a Device.
type Config struct {
	ID   string // primitive id
	Type string // device type as configured (e.g. "fence_ipmilan")
	// Params are the device's own parameters (without pcmk_*), secrets
	// marked.
	Params Params
	// Spec holds the parsed pcmk_* parameters (host map, action names, ...).
	Spec   fsm.DeviceSpec
	Logger *slog.Logger
}

// Plugin is a device type.
type Plugin struct {
	// Type is the registry key ("ssh", "sandbox", "external", ...).
	Type string
	// MetaData describes the type's parameters (required, secret). It is
	// called at configure time with the configured type name.
	MetaData func(ctx context.Context, typ string) (MetaData, error)
	// Strict rejects parameters that MetaData does not list.
	Strict bool
	// SelfFencing devices can only fence the node they run on (watchdog).
	SelfFencing bool
	// New builds a device; it may assume Configure validated the params.
	New func(ctx context.Context, cfg Config) (Device, error)
}

// Resolver maps a device type that has no exact registration to a plugin
// (e.g. every "fence_*" type to the external plugin).
type Resolver func(typ string) (Plugin, bool)

// Registry holds device types keyed by type string. It is safe for
// concurrent use.
type Registry struct {
	mu        sync.RWMutex
	plugins   map[string]Plugin
	resolvers []Resolver
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{plugins: map[string]Plugin{}} }

// Register adds a plugin; registering a type twice is an error.
func (r *Registry) Register(p Plugin) error {
	if p.Type == "" || p.New == nil {
		return fmt.Errorf("register fence plugin %q: type and New are required", p.Type)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.plugins[p.Type]; dup {
		return fmt.Errorf("register fence plugin %q: already registered", p.Type)
	}
	r.plugins[p.Type] = p
	return nil
}

// AddResolver adds a fallback consulted, in order, for unregistered types.
func (r *Registry) AddResolver(res Resolver) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resolvers = append(r.resolvers, res)
}

// Types returns the registered type names, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.plugins))
	for t := range r.plugins {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the plugin for typ (exact registration first, then the
// resolvers). A "stonith:" class prefix is ignored.
func (r *Registry) Lookup(typ string) (Plugin, error) {
	typ = strings.TrimPrefix(typ, "stonith:")
	r.mu.RLock()
	defer r.mu.RUnlock()
	if p, ok := r.plugins[typ]; ok {
		return p, nil
	}
	for _, res := range r.resolvers {
		if p, ok := res(typ); ok {
			return p, nil
		}
	}
	return Plugin{}, fmt.Errorf("fence device type %q: %w", typ, ErrUnknownType)
}

// Configured is a validated device: its spec (pcmk_* parameters), its
// parameters (secrets marked) and the Device. It is immutable after
// Configure and safe for concurrent use.
type Configured struct {
	ID     string
	Type   string
	Spec   fsm.DeviceSpec
	Params Params
	Device Device
}

// String renders the device with secrets masked.
func (c *Configured) String() string {
	return fmt.Sprintf("stonith:%s %s (%s)", c.Type, c.ID, c.Params)
}

// LogValue implements slog.LogValuer with secrets masked.
func (c *Configured) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID), slog.String("type", c.Type), slog.Any("params", c.Params))
}

// Configure validates a fence primitive's parameters and builds its
// device. It checks, with errors naming the parameter (errors.Is
// ErrInvalidParam): pcmk_* syntax (host map, host check, delays, timeouts,
// retries), required parameters missing or empty, and, for strict plugins,
// unknown parameters. Secret parameters (by name or marked in metadata)
// never appear in errors, logs or String output; errors of the returned
// Device are masked too. priority is the primitive's priority meta
// attribute (orders devices without topology).
func (r *Registry) Configure(ctx context.Context, id, typ string, params map[string]string, priority int, logger *slog.Logger) (*Configured, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p, err := r.Lookup(typ)
	if err != nil {
		return nil, fmt.Errorf("configure fence device %s: %w", id, err)
	}
	typ = strings.TrimPrefix(typ, "stonith:")
	spec, err := fsm.ParseDeviceSpec(id, typ, params)
	if err != nil {
		return nil, err
	}
	spec.Priority = priority
	spec.SelfFencing = p.SelfFencing
	own := map[string]string{}
	for k, v := range params {
		if !fsm.IsPcmkParam(k) {
			own[k] = v
		}
	}
	var meta MetaData
	var secret []string
	if p.MetaData != nil {
		if meta, err = p.MetaData(ctx, typ); err != nil {
			return nil, fmt.Errorf("configure fence device %s: meta-data of %s: %w", id, typ, NewParams(own).RedactError(err))
		}
		for _, ps := range meta.Params {
			if ps.Secret {
				secret = append(secret, ps.Name)
			}
		}
	}
	prm := NewParams(own, secret...)
	for _, ps := range meta.Params {
		if v, ok := own[ps.Name]; ps.Required && (!ok || strings.TrimSpace(v) == "") {
			return nil, &fsm.ParamError{Device: id, Param: ps.Name, Msg: "required parameter missing"}
		}
	}
	if p.Strict {
		for _, k := range prm.Names() {
			if _, ok := meta.Param(k); !ok {
				return nil, &fsm.ParamError{Device: id, Param: k, Msg: fmt.Sprintf("unknown parameter for type %s", typ)}
			}
		}
	}
	cfg := Config{ID: id, Type: typ, Params: prm, Spec: spec, Logger: logger.With("device", id)}
	dev, err := p.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("configure fence device %s: %w", id, prm.RedactError(err))
	}
	return &Configured{ID: id, Type: typ, Spec: spec, Params: prm, Device: redacting{dev: dev, p: prm}}, nil
}

// redacting masks secret values in every error of the wrapped device.
type redacting struct {
	dev Device
	p   Params
}

func (d redacting) Fence(ctx context.Context, target string, action Action) error {
	return d.p.RedactError(d.dev.Fence(ctx, target, action))
}

func (d redacting) Status(ctx context.Context, target string) (PowerState, error) {
	s, err := d.dev.Status(ctx, target)
	return s, d.p.RedactError(err)
}

func (d redacting) List(ctx context.Context) ([]string, error) {
	l, err := d.dev.List(ctx)
	return l, d.p.RedactError(err)
}

func (d redacting) Monitor(ctx context.Context) error { return d.p.RedactError(d.dev.Monitor(ctx)) }

func (d redacting) MetaData(ctx context.Context) (MetaData, error) {
	m, err := d.dev.MetaData(ctx)
	return m, d.p.RedactError(err)
}

// Unwrap returns the plugin's device (e.g. to reach a meatware or fake
// device's own methods).
func (d redacting) Unwrap() Device { return d.dev }

// Underlying returns the plugin's own device behind c.Device.
func (c *Configured) Underlying() Device {
	if r, ok := c.Device.(redacting); ok {
		return r.dev
	}
	return c.Device
}

// Runnable returns the device's background loop, if it has one (see
// Runnable).
func (c *Configured) Runnable() (Runnable, bool) {
	r, ok := c.Underlying().(Runnable)
	return r, ok
}
