package ipvs

import (
	"fmt"
	"sync"
)

// Fake is an in-memory IPVS for tests with the kernel's identity and error
// rules (duplicate service/destination, missing service/destination,
// unknown scheduler). Safe for concurrent use.
type Fake struct {
	mu    sync.Mutex
	svcs  []Service
	dests map[Key][]Destination
	// Err, if set, is returned by every mutating call.
	Err error
	// Ops records mutating calls ("new-svc TCP  10.0.0.1:80", "set-dest ...").
	Ops []string
}

// NewFake returns an empty table.
func NewFake() *Fake { return &Fake{dests: map[Key][]Destination{}} }

func (f *Fake) idx(k Key) int {
	for i, s := range f.svcs {
		if s.Key == k {
			return i
		}
	}
	return -1
}

// Info implements IPVS.
func (f *Fake) Info() (Info, error) { return Info{Version: 0x010201, ConnSize: 4096}, nil }

// Services implements IPVS.
func (f *Fake) Services() ([]Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Service(nil), f.svcs...), nil
}

func (f *Fake) op(format string, args ...any) error {
	f.Ops = append(f.Ops, fmt.Sprintf(format, args...))
	return f.Err
}

// NewService implements IPVS.
func (f *Fake) NewService(s Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.op("new-svc %s %s", s.Key, s.Scheduler); err != nil {
		return err
	}
	if !KnownScheduler(s.Scheduler) {
		return fmt.Errorf("add IPVS service %s: scheduler %q not available", s.Key, s.Scheduler)
	}
	if f.idx(s.Key) >= 0 {
		return fmt.Errorf("add IPVS service %s: %w", s.Key, ErrExists)
	}
	s.Flags &^= FlagHashed
	f.svcs = append(f.svcs, s)
	return nil
}

// UpdateService implements IPVS.
func (f *Fake) UpdateService(s Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.op("set-svc %s %s", s.Key, s.Scheduler); err != nil {
		return err
	}
	i := f.idx(s.Key)
	if i < 0 {
		return fmt.Errorf("update IPVS service %s: %w", s.Key, ErrNoService)
	}
	if !KnownScheduler(s.Scheduler) {
		return fmt.Errorf("update IPVS service %s: scheduler %q not available", s.Key, s.Scheduler)
	}
	s.Flags &^= FlagHashed
	s.Stats = f.svcs[i].Stats
	f.svcs[i] = s
	return nil
}

// DelService implements IPVS.
func (f *Fake) DelService(k Key) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.op("del-svc %s", k); err != nil {
		return err
	}
	i := f.idx(k)
	if i < 0 {
		return fmt.Errorf("delete IPVS service %s: %w", k, ErrNoService)
	}
	f.svcs = append(f.svcs[:i], f.svcs[i+1:]...)
	delete(f.dests, k)
	return nil
}

// Destinations implements IPVS.
func (f *Fake) Destinations(k Key) ([]Destination, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.idx(k) < 0 {
		return nil, fmt.Errorf("list destinations of %s: %w", k, ErrNoService)
	}
	return append([]Destination(nil), f.dests[k]...), nil
}

func (f *Fake) didx(k Key, dk DestKey) int {
	for i, d := range f.dests[k] {
		if d.Key() == dk {
			return i
		}
	}
	return -1
}

// NewDestination implements IPVS.
func (f *Fake) NewDestination(k Key, d Destination) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.op("new-dest %s %s w=%d %s", k, AddrPort(d.Addr, d.Port), d.Weight, d.Forward); err != nil {
		return err
	}
	if f.idx(k) < 0 {
		return fmt.Errorf("add destination to %s: %w", k, ErrNoService)
	}
	if f.didx(k, d.Key()) >= 0 {
		return fmt.Errorf("add destination %s to %s: %w", AddrPort(d.Addr, d.Port), k, ErrExists)
	}
	f.dests[k] = append(f.dests[k], d)
	return nil
}

// UpdateDestination implements IPVS.
func (f *Fake) UpdateDestination(k Key, d Destination) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.op("set-dest %s %s w=%d %s", k, AddrPort(d.Addr, d.Port), d.Weight, d.Forward); err != nil {
		return err
	}
	if f.idx(k) < 0 {
		return fmt.Errorf("update destination of %s: %w", k, ErrNoService)
	}
	i := f.didx(k, d.Key())
	if i < 0 {
		return fmt.Errorf("update destination %s of %s: %w", AddrPort(d.Addr, d.Port), k, ErrNoDestination)
	}
	old := f.dests[k][i]
	d.ActiveConns, d.InactiveConns, d.PersistConns, d.Stats = old.ActiveConns, old.InactiveConns, old.PersistConns, old.Stats
	f.dests[k][i] = d
	return nil
}

// DelDestination implements IPVS.
func (f *Fake) DelDestination(k Key, dk DestKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.op("del-dest %s %s", k, AddrPort(dk.Addr, dk.Port)); err != nil {
		return err
	}
	if f.idx(k) < 0 {
		return fmt.Errorf("delete destination of %s: %w", k, ErrNoService)
	}
	i := f.didx(k, dk)
	if i < 0 {
		return fmt.Errorf("delete destination %s of %s: %w", AddrPort(dk.Addr, dk.Port), k, ErrNoDestination)
	}
	f.dests[k] = append(f.dests[k][:i], f.dests[k][i+1:]...)
	return nil
}

// SetStats sets counters of a service (dest == nil) or destination.
func (f *Fake) SetStats(k Key, dest *DestKey, st Stats, active, inactive uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if dest == nil {
		if i := f.idx(k); i >= 0 {
			f.svcs[i].Stats = st
		}
		return
	}
	if i := f.didx(k, *dest); i >= 0 {
		f.dests[k][i].Stats = st
		f.dests[k][i].ActiveConns = active
		f.dests[k][i].InactiveConns = inactive
	}
}
