package check

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gocrm/gocrm/agents/vip/ocf"
)

// Server is one real server and how it is checked.
type Server struct {
	Addr             netip.Addr
	Port             uint16
	Weight           int     // configured weight
	Checker          Checker // nil = never checked, always up
	DelayLoop        time.Duration
	Retry            int // additional attempts after a failure
	DelayBeforeRetry time.Duration
	InhibitOnFailure bool // failed server gets weight 0 instead of removal
}

// Dest is one destination the Applier must install.
type Dest struct {
	Addr   netip.Addr
	Port   uint16
	Weight int
	Sorry  bool // the sorry server
}

// Applier installs exactly the given destinations for the virtual service
// (adding, updating and removing real servers). It is called from the
// Manager's goroutine only.
type Applier interface {
	Apply(ctx context.Context, dests []Dest) error
}

// Config is a virtual service's checking policy.
type Config struct {
	Servers      []Server
	Quorum       int // minimum live weight (keepalived default 1)
	Hysteresis   int
	Sorry        *Dest // sorry server, installed while quorum is lost
	SorryInhibit bool  // keep the sorry server at weight 0 while quorum is up
	Alpha        bool  // servers start down until their first success
}

// ServerState is the health of one server.
type ServerState struct {
	Up     bool
	Weight int // current weight (configured, or dynamic from MISC_CHECK)
	Err    error
}

// Compute is the pure policy: from the servers' states and the previous
// quorum state it returns the destination set and the new quorum state.
// Quorum is gained at live weight >= quorum + hysteresis and lost below
// quorum - hysteresis.
func Compute(cfg Config, st []ServerState, quorumUp bool) ([]Dest, bool) {
	live := 0
	var out []Dest
	for i, s := range cfg.Servers {
		switch {
		case st[i].Up:
			live += st[i].Weight
			out = append(out, Dest{Addr: s.Addr, Port: s.Port, Weight: st[i].Weight})
		case s.InhibitOnFailure:
			out = append(out, Dest{Addr: s.Addr, Port: s.Port, Weight: 0})
		}
	}
	if quorumUp && live < cfg.Quorum-cfg.Hysteresis {
		quorumUp = false
	} else if !quorumUp && live >= cfg.Quorum+cfg.Hysteresis {
		quorumUp = true
	}
	if cfg.Sorry != nil {
		sorry := *cfg.Sorry
		sorry.Sorry = true
		if !quorumUp {
			if sorry.Weight == 0 {
				sorry.Weight = 1
			}
			out = append(out, sorry)
		} else if cfg.SorryInhibit {
			sorry.Weight = 0
			out = append(out, sorry)
		}
	}
	return out, quorumUp
}

type event struct {
	idx int
	res Result
}

// Manager runs the checks of one virtual service. Run owns every goroutine
// it starts and returns only after they have exited. State and Desired may
// be called concurrently with Run.
type Manager struct {
	cfg   Config
	ap    Applier
	clock ocf.Clock
	log   *slog.Logger

	mu       sync.Mutex
	st       []ServerState
	quorumUp bool
	desired  []Dest
	applied  bool
	applies  int
}

// NewManager returns a Manager; clock and log may be nil (system clock,
// discard logger).
func NewManager(cfg Config, ap Applier, clock ocf.Clock, log *slog.Logger) *Manager {
	if clock == nil {
		clock = ocf.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{cfg: cfg, ap: ap, clock: clock, log: log, st: make([]ServerState, len(cfg.Servers))}
	for i, s := range cfg.Servers {
		m.st[i] = ServerState{Up: !cfg.Alpha || s.Checker == nil, Weight: s.Weight}
	}
	m.quorumUp = true
	m.desired, m.quorumUp = Compute(cfg, m.st, m.quorumUp)
	return m
}

// State returns a copy of the servers' states.
func (m *Manager) State() []ServerState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.st)
}

// Desired returns the current destination set and quorum state.
func (m *Manager) Desired() ([]Dest, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.desired), m.quorumUp
}

// Applies returns how many times Apply succeeded.
func (m *Manager) Applies() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.applies
}

// Run applies the initial destination set, then checks every server until
// ctx is cancelled, applying each change of the destination set. It
// returns ctx.Err() after all checker goroutines have exited.
func (m *Manager) Run(ctx context.Context) error {
	events := make(chan event)
	var wg sync.WaitGroup
	for i, s := range m.cfg.Servers {
		if s.Checker == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.loop(ctx, i, s, events)
		}()
	}
	defer wg.Wait()
	m.apply(ctx)
	retry := time.Duration(0)
	for {
		var retryC <-chan time.Time
		if retry > 0 {
			retryC = m.clock.After(retry)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-events:
			m.update(ev)
		case <-retryC:
		}
		if m.apply(ctx) {
			retry = 0
		} else {
			retry = time.Second
		}
	}
}

func (m *Manager) update(ev event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.cfg.Servers[ev.idx]
	old := m.st[ev.idx]
	nw := ServerState{Up: ev.res.OK, Weight: s.Weight, Err: ev.res.Err}
	if ev.res.OK && ev.res.HasWeight {
		nw.Weight = ev.res.Weight
	}
	if !ev.res.OK {
		nw.Weight = old.Weight
	}
	m.st[ev.idx] = nw
	if old.Up != nw.Up {
		if nw.Up {
			m.log.Info("real server up", "rs", addrPort(s), "check", s.Checker.Kind())
		} else {
			m.log.Warn("real server down", "rs", addrPort(s), "check", s.Checker.Kind(), "err", ev.res.Err)
		}
	}
	prevQ := m.quorumUp
	var d []Dest
	d, m.quorumUp = Compute(m.cfg, m.st, m.quorumUp)
	if prevQ != m.quorumUp {
		m.log.Warn("quorum changed", "up", m.quorumUp)
	}
	if !slices.Equal(d, m.desired) {
		m.desired = d
		m.applied = false
	}
}

// apply pushes the desired set if it changed; it reports success.
func (m *Manager) apply(ctx context.Context) bool {
	m.mu.Lock()
	if m.applied {
		m.mu.Unlock()
		return true
	}
	d := slices.Clone(m.desired)
	m.mu.Unlock()
	if err := m.ap.Apply(ctx, d); err != nil {
		if ctx.Err() == nil {
			m.log.Error("apply real servers", "err", err)
		}
		return false
	}
	m.mu.Lock()
	if slices.Equal(d, m.desired) {
		m.applied = true
	}
	m.applies++
	m.mu.Unlock()
	return true
}

func addrPort(s Server) string {
	return netip.AddrPortFrom(s.Addr, s.Port).String()
}

// loop checks one server forever: a check, with up to Retry further
// attempts DelayBeforeRetry apart on failure, then DelayLoop of rest.
func (m *Manager) loop(ctx context.Context, idx int, s Server, events chan<- event) {
	for {
		var res Result
		for attempt := 0; ; attempt++ {
			res = s.Checker.Check(ctx)
			if res.OK || attempt >= s.Retry {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-m.clock.After(s.DelayBeforeRetry):
			}
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case events <- event{idx, res}:
		case <-ctx.Done():
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-m.clock.After(s.DelayLoop):
		}
	}
}

// String renders a state for logs.
func (s ServerState) String() string {
	if s.Up {
		return fmt.Sprintf("up(w=%d)", s.Weight)
	}
	return fmt.Sprintf("down(%v)", s.Err)
}
