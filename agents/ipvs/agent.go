package ipvs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/gocrm/gocrm/agents/ipvs/check"
	"github.com/gocrm/gocrm/agents/vip/ocf"
)

// AgentName is the agent's OCF type (ocf:gocrm:lvs).
const AgentName = "lvs"

// Deps are the agent's injected dependencies.
type Deps struct {
	// Open returns the IPVS table; it is called lazily by each action until
	// it succeeds. An error wrapping ocf.ErrNotInstalled means the kernel
	// has no IPVS (rc 5).
	Open   func() (IPVS, error)
	Clock  ocf.Clock      // for health-check loops; default system clock
	Dial   check.DialFunc // for TCP/HTTP checks; default net.Dialer
	Logger *slog.Logger
}

// Agent manages one IPVS virtual service. Methods are safe for concurrent
// use; actions are serialised. The health-check goroutine started by Start
// is owned by the Agent and ends on Stop, the next Start, or Close.
type Agent struct {
	d   Deps
	log *slog.Logger

	mu      sync.Mutex
	cfg     *Config
	table   IPVS
	checks  *checkJob
	tableMu sync.Mutex // serialises destination reconciliation (agent and checker)
}

type checkJob struct {
	mgr *check.Manager
	job *ocf.Job // runs mgr
}

// New returns an Agent.
func New(d Deps) *Agent {
	if d.Clock == nil {
		d.Clock = ocf.SystemClock{}
	}
	return &Agent{d: d, log: ocf.AgentLogger(d.Logger, AgentName)}
}

// MetaData returns the OCF meta-data XML.
func (a *Agent) MetaData() string {
	return ocf.AgentMeta(AgentName,
		"Manages an IPVS (LVS) virtual service and its real servers",
		"Creates one IPVS virtual service (TCP/UDP/SCTP address or firewall mark) with its "+
			"scheduler, persistence and real servers (NAT, DR, TUN), reconciles it to the "+
			"configuration without touching other services, and optionally health-checks the "+
			"real servers like keepalived (HTTP_GET, SSL_GET, TCP_CHECK, MISC_CHECK).",
		Params)
}

// Validate parses params without touching the host and records them.
func (a *Agent) Validate(params map[string]string) error {
	c, err := ParseParams(params)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.cfg = c
	a.mu.Unlock()
	return nil
}

func (a *Agent) open() (IPVS, error) {
	if a.table != nil {
		return a.table, nil
	}
	if a.d.Open == nil {
		return nil, fmt.Errorf("%s: no IPVS opener: %w", AgentName, ocf.ErrNotInstalled)
	}
	t, err := a.d.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", AgentName, err)
	}
	a.table = t
	return t, nil
}

func (a *Agent) prepare() (*Config, IPVS, error) {
	c, err := ocf.Configured(a.cfg, AgentName)
	if err != nil {
		return nil, nil, err
	}
	t, err := a.open()
	if err != nil {
		return nil, nil, err
	}
	return c, t, nil
}

func findService(t IPVS, k Key) (*Service, error) {
	svcs, err := t.Services()
	if err != nil {
		return nil, err
	}
	for _, s := range svcs {
		if s.Key == k {
			return &s, nil
		}
	}
	return nil, nil
}

// sameService compares the configurable attributes.
func sameService(want, got Service) bool {
	return want.Scheduler == got.Scheduler &&
		want.Flags&^FlagHashed == got.Flags&^FlagHashed &&
		(want.Flags&FlagPersistent == 0 || want.Timeout == got.Timeout && want.Netmask == got.Netmask) &&
		want.PEName == got.PEName
}

// ensureService creates or updates the virtual service.
func (a *Agent) ensureService(t IPVS, want Service) error {
	cur, err := findService(t, want.Key)
	if err != nil {
		return err
	}
	switch {
	case cur == nil:
		if err := t.NewService(want); err != nil {
			return err
		}
		a.log.Info("service added", "svc", want.Key.String(), "sched", want.Scheduler)
	case !sameService(want, *cur):
		if err := t.UpdateService(want); err != nil {
			return err
		}
		a.log.Info("service updated", "svc", want.Key.String(), "sched", want.Scheduler)
	}
	return nil
}

func sameDest(want, got Destination) bool {
	fwdOK := want.Forward == got.Forward || got.Forward == ForwardLocal // kernel rewrites local addresses
	return fwdOK && want.Weight == got.Weight && want.UThreshold == got.UThreshold && want.LThreshold == got.LThreshold
}

// ReconcileDestinations makes the service's real servers exactly want.
func ReconcileDestinations(t IPVS, k Key, want []Destination) error {
	cur, err := t.Destinations(k)
	if err != nil {
		return err
	}
	have := map[DestKey]Destination{}
	for _, d := range cur {
		have[d.Key()] = d
	}
	wantKeys := map[DestKey]bool{}
	for _, d := range want {
		wantKeys[d.Key()] = true
		got, ok := have[d.Key()]
		switch {
		case !ok:
			if err := t.NewDestination(k, d); err != nil {
				return err
			}
		case !sameDest(d, got):
			if err := t.UpdateDestination(k, d); err != nil {
				return err
			}
		}
	}
	for _, d := range cur {
		if !wantKeys[d.Key()] {
			if err := t.DelDestination(k, d.Key()); err != nil && !errors.Is(err, ErrNoDestination) {
				return err
			}
		}
	}
	return nil
}

func (c *Config) dest(rs RealServer, weight int) Destination {
	return Destination{Addr: rs.Addr, Port: rs.Port, Weight: weight, Forward: rs.Forward, UThreshold: rs.UThreshold, LThreshold: rs.LThreshold}
}

// staticDests is the destination set without health checks.
func (c *Config) staticDests() []Destination {
	out := make([]Destination, 0, len(c.RealServers))
	for _, rs := range c.RealServers {
		out = append(out, c.dest(rs, rs.Weight))
	}
	return out
}

// checkDests maps the checker's destination set to kernel destinations.
func (c *Config) checkDests(ds []check.Dest) []Destination {
	out := make([]Destination, 0, len(ds))
	for _, d := range ds {
		if d.Sorry && c.Sorry != nil {
			out = append(out, c.dest(*c.Sorry, d.Weight))
			continue
		}
		for _, rs := range c.RealServers {
			if rs.Addr == d.Addr && rs.Port == d.Port {
				out = append(out, c.dest(rs, d.Weight))
			}
		}
	}
	return out
}

// checkConfig builds the checker policy for c.
func (a *Agent) checkConfig(c *Config) check.Config {
	k := c.Check
	cc := check.Config{Quorum: k.Quorum, Hysteresis: k.Hysteresis, Alpha: k.Alpha, SorryInhibit: c.SorryInhib}
	if c.Sorry != nil {
		cc.Sorry = &check.Dest{Addr: c.Sorry.Addr, Port: c.Sorry.Port, Weight: c.Sorry.Weight}
	}
	for _, rs := range c.RealServers {
		port := rs.Port
		if k.Port != 0 {
			port = k.Port
		}
		hp := net.JoinHostPort(rs.Addr.String(), strconv.Itoa(int(port)))
		var ck check.Checker
		switch k.Type {
		case "tcp":
			ck = &check.TCPCheck{Addr: hp, Timeout: k.ConnectTimeout, Dial: a.d.Dial}
		case "http", "https":
			ck = &check.HTTPCheck{Addr: hp, TLS: k.Type == "https", Path: k.URL, VirtualHost: k.VirtualHost,
				Status: k.Status, Digest: k.Digest, Timeout: k.ConnectTimeout, Dial: a.d.Dial}
		case "misc":
			ck = &check.MiscCheck{Command: k.Command, Timeout: k.MiscTimeout, Dynamic: k.MiscDynamic}
		}
		cc.Servers = append(cc.Servers, check.Server{
			Addr: rs.Addr, Port: rs.Port, Weight: rs.Weight, Checker: ck,
			DelayLoop: k.DelayLoop, Retry: k.Retry, DelayBeforeRetry: k.DelayBeforeRetry,
			InhibitOnFailure: k.InhibitOnFailure,
		})
	}
	return cc
}

type applier struct {
	a   *Agent
	cfg *Config
	t   IPVS
}

// Apply implements check.Applier.
func (ap applier) Apply(ctx context.Context, ds []check.Dest) error {
	ap.a.tableMu.Lock()
	defer ap.a.tableMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	return ReconcileDestinations(ap.t, ap.cfg.Service.Key, ap.cfg.checkDests(ds))
}

// Start creates or updates the virtual service, installs its real servers
// and, with check != none, starts the health-check loop.
func (a *Agent) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, t, err := a.prepare()
	if err != nil {
		return err
	}
	a.stopChecks()
	if err := a.ensureService(t, c.Service); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if c.Check.Type == "" {
		a.tableMu.Lock()
		err := ReconcileDestinations(t, c.Service.Key, c.staticDests())
		a.tableMu.Unlock()
		if err != nil {
			return fmt.Errorf("start: %w", err)
		}
		return ctx.Err()
	}
	mgr := check.NewManager(a.checkConfig(c), applier{a, c, t}, a.d.Clock, a.log.With("svc", c.Service.Key.String()))
	initial, _ := mgr.Desired()
	if err := (applier{a, c, t}).Apply(ctx, initial); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	a.runChecks(mgr)
	return nil
}

// runChecks starts mgr in a goroutine owned by the Agent; caller holds a.mu.
func (a *Agent) runChecks(mgr *check.Manager) {
	a.checks = &checkJob{mgr: mgr, job: ocf.Go(func(ctx context.Context) { _ = mgr.Run(ctx) })}
}

// stopChecks ends the checker goroutine; caller holds a.mu.
func (a *Agent) stopChecks() {
	if a.checks != nil {
		a.checks.job.Stop()
		a.checks = nil
	}
}

// Checks returns the running health-check manager, or nil.
func (a *Agent) Checks() *check.Manager {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.checks == nil {
		return nil
	}
	return a.checks.mgr
}

// Close stops health checks and leaves the kernel table as it is.
func (a *Agent) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopChecks()
}

// Stop stops health checks and deletes the virtual service (with its real
// servers). A missing service is success; other services are untouched.
func (a *Agent) Stop(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, t, err := a.prepare()
	if err != nil {
		return err
	}
	a.stopChecks()
	if err := t.DelService(c.Service.Key); err != nil && !errors.Is(err, ErrNoService) {
		return fmt.Errorf("stop: %w", err)
	}
	a.log.Info("service removed", "svc", c.Service.Key.String())
	return ctx.Err()
}

// Monitor reports ocf.RCSuccess when the service exists with the
// configured scheduler, flags and persistence, ocf.RCNotRunning when it is
// absent, ocf.RCErrInstalled without kernel IPVS, and ocf.RCErrGeneric when
// it exists but differs from the configuration. If the service is running
// with health checks configured but this Agent runs none (the process was
// restarted), Monitor resumes them.
func (a *Agent) Monitor(ctx context.Context) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, t, err := a.prepare()
	if err != nil {
		return ocf.ExitCode(err), err
	}
	cur, err := findService(t, c.Service.Key)
	if err != nil {
		return ocf.RCErrGeneric, fmt.Errorf("monitor: %w", err)
	}
	if cur == nil {
		return ocf.RCNotRunning, nil
	}
	if !sameService(c.Service, *cur) {
		return ocf.RCErrGeneric, fmt.Errorf("monitor: service %s drifted: scheduler %s flags %#x timeout %d, want %s %#x %d",
			c.Service.Key, cur.Scheduler, cur.Flags, cur.Timeout, c.Service.Scheduler, c.Service.Flags, c.Service.Timeout)
	}
	if c.Check.Type != "" && a.checks == nil {
		// The service survived a restart of this process (the kernel keeps
		// it) but its health checks did not: resume them without touching
		// the running service. Servers start in their configured state and
		// the first round of checks corrects it.
		a.log.Warn("service running without health checks; resuming them", "svc", c.Service.Key.String())
		a.runChecks(check.NewManager(a.checkConfig(c), applier{a, c, t}, a.d.Clock, a.log.With("svc", c.Service.Key.String())))
	}
	return ocf.RCSuccess, ctx.Err()
}

// List writes the kernel table like `ipvsadm -Ln` (see List).
func (a *Agent) List(w io.Writer, f Format) error {
	a.mu.Lock()
	t, err := a.open()
	a.mu.Unlock()
	if err != nil {
		return err
	}
	return List(w, t, f)
}

// Config returns a copy of the validated configuration, or nil.
func (a *Agent) Config() *Config {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg == nil {
		return nil
	}
	c := *a.cfg
	return &c
}

// KernelOpener returns a Deps.Open function for the current namespace.
func KernelOpener() func() (IPVS, error) {
	return func() (IPVS, error) {
		k, err := Open("")
		if err != nil {
			return nil, err
		}
		return k, nil
	}
}
