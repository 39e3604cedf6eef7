package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// Key names a resource agent as Pacemaker does: class, provider (OCF only)
// and type, written "class:provider:type" or "class:type".
type Key struct {
	Class    string // "ocf", "lsb", "systemd", "service", "stonith"
	Provider string // OCF provider ("heartbeat", "pacemaker", "gocrm"); empty otherwise
	Type     string
}

// String formats the key as "class:provider:type" ("class:type" without a provider).
func (k Key) String() string {
	if k.Provider == "" {
		return k.Class + ":" + k.Type
	}
	return k.Class + ":" + k.Provider + ":" + k.Type
}

// ErrBadKey is returned by ParseKey for malformed agent names.
var ErrBadKey = errors.New("malformed agent key")

// ParseKey parses "class:provider:type" or "class:type". The type may itself
// contain '@' or '.' (systemd units) but not ':' beyond the separators.
func ParseKey(s string) (Key, error) {
	parts := strings.Split(s, ":")
	var k Key
	switch len(parts) {
	case 2:
		k = Key{Class: parts[0], Type: parts[1]}
	case 3:
		k = Key{Class: parts[0], Provider: parts[1], Type: parts[2]}
	default:
		return Key{}, fmt.Errorf("%q: %w: want class:[provider:]type", s, ErrBadKey)
	}
	if k.Class == "" || k.Type == "" || (len(parts) == 3 && k.Provider == "") {
		return Key{}, fmt.Errorf("%q: %w: empty field", s, ErrBadKey)
	}
	if k.Class == "ocf" && k.Provider == "" {
		return Key{}, fmt.Errorf("%q: %w: ocf agents need a provider", s, ErrBadKey)
	}
	return k, nil
}

// Env is the per-node environment a built-in agent instance is created with.
type Env struct {
	// Node is the local node name.
	Node string
	// StateDir is a node-private directory the agent may keep state in.
	// Two LRMs on one host (tests, containers) get different StateDirs, so
	// agents must never keep state anywhere else.
	StateDir string
	// Logger is the agent's logger (already tagged with the agent key).
	Logger *slog.Logger
}

// Factory creates an agent instance for one node.
type Factory func(Env) (Agent, error)

// ErrDuplicate is returned when a key is registered twice.
var ErrDuplicate = errors.New("agent already registered")

// Registry maps agent keys to factories. It is safe for concurrent use.
// There is no global registry: the daemon builds one and passes it to the
// LRM, so tests can register fakes freely.
type Registry struct {
	mu sync.RWMutex
	m  map[Key]Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: make(map[Key]Factory)} }

// Register adds a factory; registering an existing key fails with ErrDuplicate.
func (r *Registry) Register(k Key, f Factory) error {
	if k.Class == "" || k.Type == "" || f == nil {
		return fmt.Errorf("register %s: %w: empty class, type or factory", k, ErrBadKey)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[k]; ok {
		return fmt.Errorf("register %s: %w", k, ErrDuplicate)
	}
	r.m[k] = f
	return nil
}

// Lookup returns the factory registered for k.
func (r *Registry) Lookup(k Key) (Factory, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.m[k]
	return f, ok
}

// Keys returns the registered keys sorted by their string form.
func (r *Registry) Keys() []Key {
	r.mu.RLock()
	keys := make([]Key, 0, len(r.m))
	for k := range r.m {
		keys = append(keys, k)
	}
	r.mu.RUnlock()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}
