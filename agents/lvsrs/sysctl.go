package lvsrs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/vishvananda/netns"

	"github.com/gocrm/gocrm/agents/vip"
)

// ErrNoSysctl is wrapped when a sysctl key does not exist (e.g. no such
// device).
var ErrNoSysctl = errors.New("no such sysctl")

// Sysctl reads and writes kernel parameters by key in slash form
// ("net/ipv4/conf/lo/arp_ignore"). Implementations must be safe for
// concurrent use.
type Sysctl interface {
	Get(key string) (string, error)
	Set(key, value string) error
}

// ProcSysctl is Sysctl over /proc/sys, optionally inside a network
// namespace (net/* keys are per namespace). Safe for concurrent use.
type ProcSysctl struct {
	ns netns.NsHandle
}

// NewProcSysctl returns a ProcSysctl for the caller's namespace.
func NewProcSysctl() *ProcSysctl { return &ProcSysctl{ns: netns.None()} }

// NewProcSysctlAt returns a ProcSysctl that accesses /proc/sys/net from
// inside ns (the caller keeps ns open while in use).
func NewProcSysctlAt(ns netns.NsHandle) *ProcSysctl { return &ProcSysctl{ns: ns} }

func path(key string) (string, error) {
	clean := filepath.Clean("/" + key)
	if clean != "/"+key || strings.Contains(key, "..") {
		return "", fmt.Errorf("sysctl key %q: invalid", key)
	}
	return filepath.Join("/proc/sys", clean), nil
}

// Get implements Sysctl.
func (p *ProcSysctl) Get(key string) (string, error) {
	fp, err := path(key)
	if err != nil {
		return "", err
	}
	var b []byte
	err = vip.InNetns(p.ns, func() error {
		var err error
		b, err = os.ReadFile(fp)
		return err
	})
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", key, ErrNoSysctl)
	}
	if err != nil {
		return "", fmt.Errorf("read sysctl %s: %w", key, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Set implements Sysctl.
func (p *ProcSysctl) Set(key, value string) error {
	fp, err := path(key)
	if err != nil {
		return err
	}
	err = vip.InNetns(p.ns, func() error {
		f, err := os.OpenFile(fp, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if _, err := f.WriteString(value); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("write %s: %w", key, ErrNoSysctl)
	}
	if err != nil {
		return fmt.Errorf("write sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

// FakeSysctl is an in-memory Sysctl. Keys not present are missing. Safe
// for concurrent use.
type FakeSysctl struct {
	mu sync.Mutex
	m  map[string]string
}

// NewFakeSysctl returns a FakeSysctl with initial values.
func NewFakeSysctl(init map[string]string) *FakeSysctl {
	m := map[string]string{}
	for k, v := range init {
		m[k] = v
	}
	return &FakeSysctl{m: m}
}

// Get implements Sysctl.
func (f *FakeSysctl) Get(key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[key]
	if !ok {
		return "", fmt.Errorf("read %s: %w", key, ErrNoSysctl)
	}
	return v, nil
}

// Set implements Sysctl.
func (f *FakeSysctl) Set(key, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[key]; !ok {
		return fmt.Errorf("write %s: %w", key, ErrNoSysctl)
	}
	f.m[key] = value
	return nil
}
