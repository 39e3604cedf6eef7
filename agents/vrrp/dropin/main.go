// Package dropin runs gocrm as a keepalived drop-in: `crmd keepalived -f
// keepalived.conf` reads keepalived's configuration (cib/migrate/keepalived)
// and runs every vrrp_instance and vrrp_sync_group with the VRRP dataplane
// (agents/vrrp/dataplane) and every virtual_server with the IPVS agent and
// its health checkers (agents/ipvs). It always runs in the foreground.
//
// Signals: SIGTERM/SIGINT stop gracefully (masters send priority-0
// adverts, VIPs are removed, IPVS services deleted, exit 0); SIGHUP reloads
// the configuration (unchanged instances keep running undisturbed; a
// configuration that does not load is reported and ignored).
//
// The VIP guard (agents/vrrp/guard, --vip-guard) is spawned once at start
// as `BINARY vip-guard` (GuardMain) in its own session; it acts only if
// this process dies without stopping (SIGKILL, crash).
//
// Main owns every goroutine it starts and returns only after they ended.
package dropin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/agents/ipvs"
	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vip/ocf"
	"github.com/gocrm/gocrm/agents/vrrp/dataplane"
	"github.com/gocrm/gocrm/cib/migrate/keepalived"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitError    = 1 // bad usage, unloadable configuration, start failure
	ExitWarnings = 5 // -t: configuration loads but has warnings (as keepalived)
)

// Options are the parsed command-line flags.
type Options struct {
	File     string // -f
	ConfigID string // -i (default: host name)
	Test     bool   // -t
	Debug    bool   // -D
	OnlyVRRP bool   // -P
	OnlyLVS  bool   // -C
	PidFiles []string
	ShowHelp bool
	ShowVer  bool
	// VIPLifetime (--vip-lifetime, a gocrm extension): kernel valid_lft of
	// master VIPs; 0 = automatic (dataplane.Lifetime), < 0 = forever.
	VIPLifetime time.Duration
	// VIPGuard (--vip-guard, a gocrm extension): what the VIP guard does
	// if this daemon dies without stopping: "handover" (default: send the
	// masters' priority-0 adverts, remove the VIPs 50 ms after the
	// successor's first advert, at most 1.5 advert intervals later),
	// "remove" (remove them at once) or "off" (no guard).
	VIPGuard string
}

const usage = `usage: crmd keepalived [-f FILE] [-t] [-i ID] [-n] [-l] [-D] [-P|-C] [-p PIDFILE]
  -f, --use-file FILE     configuration file (default /etc/keepalived/keepalived.conf)
  -t, --config-test       check the configuration and exit (0 clean, 5 warnings, 1 errors)
  -i, --config-id ID      select @ID conditional lines (default: host name)
  -n, --dont-fork         accepted (always foreground)
  -l, --log-console       accepted (logs go to stderr)
  -D, --log-detail        debug logging
  -P, --vrrp              run only VRRP;  -C, --check  run only IPVS/checkers
  -p, --pid FILE          write the process id to FILE (also -r/--vrrp_pid, -c/--checkers_pid)
      --vip-lifetime D    gocrm: kernel valid_lft of master VIPs, refreshed with every advert
                          (auto = 2 advert intervals rounded up to seconds, forever, or e.g. 4s)
      --vip-guard MODE    gocrm: if this daemon is killed (SIGKILL, crash) its guard process
                          handover = sends the masters' priority-0 adverts and removes their
                          VIPs 50 ms after the successor's first advert (at most 1.5 advert
                          intervals later; default); remove = removes the VIPs at once;
                          off = no guard (VIPs expire with their lifetime)
`

// ParseArgs parses keepalived's command line (short options may be
// combined, e.g. -nlD; long options take --opt VALUE or --opt=VALUE).
func ParseArgs(args []string) (Options, error) {
	o := Options{File: "/etc/keepalived/keepalived.conf", VIPGuard: guardHandover}
	withArg := map[string]string{"f": "f", "use-file": "f", "i": "i", "config-id": "i", "p": "p", "pid": "p",
		"r": "p", "vrrp_pid": "p", "c": "p", "checkers_pid": "p", "S": "S", "log-facility": "S", "vip-lifetime": "L", "vip-guard": "G"}
	flag := map[string]func(){
		"n": func() {}, "dont-fork": func() {}, "l": func() {}, "log-console": func() {},
		"G": func() {}, "no-syslog": func() {}, "d": func() {}, "dump-conf": func() {},
		"D": func() { o.Debug = true }, "log-detail": func() { o.Debug = true },
		"t": func() { o.Test = true }, "config-test": func() { o.Test = true },
		"P": func() { o.OnlyVRRP = true }, "vrrp": func() { o.OnlyVRRP = true },
		"C": func() { o.OnlyLVS = true }, "check": func() { o.OnlyLVS = true },
		"h": func() { o.ShowHelp = true }, "help": func() { o.ShowHelp = true },
		"v": func() { o.ShowVer = true }, "version": func() { o.ShowVer = true },
	}
	var lerr error
	set := func(k, v string) {
		switch withArg[k] {
		case "G":
			switch v {
			case guardHandover, guardRemove, guardOff:
				o.VIPGuard = v
			default:
				lerr = fmt.Errorf("--vip-guard %q: want handover, remove or off", v)
			}
		case "L":
			switch v {
			case "auto":
				o.VIPLifetime = 0
			case "forever":
				o.VIPLifetime = -1
			default:
				d, err := time.ParseDuration(v)
				if err != nil || d < time.Second {
					lerr = fmt.Errorf("--vip-lifetime %q: want auto, forever or a duration >= 1s", v)
				}
				o.VIPLifetime = d
			}
		case "f":
			o.File = v
		case "i":
			o.ConfigID = v
		case "p":
			o.PidFiles = append(o.PidFiles, v)
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "--") && len(a) > 2:
			name, val, hasVal := strings.Cut(a[2:], "=")
			if _, ok := withArg[name]; ok {
				if !hasVal {
					if i+1 >= len(args) {
						return o, fmt.Errorf("option --%s needs a value", name)
					}
					i++
					val = args[i]
				}
				set(name, val)
				continue
			}
			f, ok := flag[name]
			if !ok || hasVal {
				return o, fmt.Errorf("unknown option --%s", name)
			}
			f()
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				c := a[j : j+1]
				if _, ok := withArg[c]; ok {
					val := a[j+1:]
					if val == "" {
						if i+1 >= len(args) {
							return o, fmt.Errorf("option -%s needs a value", c)
						}
						i++
						val = args[i]
					}
					set(c, val)
					break
				}
				f, ok := flag[c]
				if !ok {
					return o, fmt.Errorf("unknown option -%s", c)
				}
				f()
			}
		default:
			return o, fmt.Errorf("unexpected argument %q", a)
		}
	}
	if lerr != nil {
		return o, lerr
	}
	if o.OnlyVRRP && o.OnlyLVS {
		return o, errors.New("-P and -C are mutually exclusive")
	}
	return o, nil
}

// load reads and converts the configuration, printing warnings and notices.
func load(o Options, log io.Writer) (*keepalived.Config, dataplane.Config, map[string]map[string]string, int, error) {
	path, err := filepath.Abs(o.File)
	if err != nil {
		return nil, dataplane.Config{}, nil, 0, err
	}
	id := o.ConfigID
	if id == "" {
		id, _ = os.Hostname()
	}
	kc, err := keepalived.Load(os.DirFS("/"), strings.TrimPrefix(path, "/"), keepalived.Options{Root: "/", ConfigID: id})
	nwarn := 0
	if kc != nil {
		for _, w := range kc.Warnings {
			fmt.Fprintf(log, "warning: %s\n", w)
			nwarn++
		}
	}
	if err != nil {
		var el keepalived.ErrorList
		if errors.As(err, &el) {
			for _, e := range el {
				fmt.Fprintf(log, "error: %s\n", e)
			}
			return nil, dataplane.Config{}, nil, nwarn, fmt.Errorf("%s: %d configuration error(s): %w", o.File, len(el), err)
		}
		return nil, dataplane.Config{}, nil, nwarn, fmt.Errorf("load %s: %w", o.File, err)
	}
	var vc dataplane.Config
	if !o.OnlyLVS {
		var notes []Notice
		vc, notes = VRRPConfig(kc)
		for _, n := range notes {
			fmt.Fprintf(log, "notice: %s\n", n)
		}
		for i := range vc.Units {
			for j := range vc.Units[i].Instances {
				vc.Units[i].Instances[j].VIPLifetime = o.VIPLifetime
			}
		}
		vc.CrashHandover = o.VIPGuard == guardHandover
		if err := dataplane.Check(vc); err != nil {
			return nil, dataplane.Config{}, nil, nwarn, err
		}
	}
	lvs := map[string]map[string]string{}
	if !o.OnlyVRRP {
		for _, vs := range kc.VirtualServers {
			p, notes, err := LVSParams(kc, vs)
			for _, n := range notes {
				fmt.Fprintf(log, "notice: %s\n", n)
			}
			if err != nil {
				fmt.Fprintf(log, "notice: %v; skipped\n", err)
				continue
			}
			if _, err := ipvs.ParseParams(p); err != nil {
				return nil, dataplane.Config{}, nil, nwarn, fmt.Errorf("%s: virtual_server: %w", vs.Pos, err)
			}
			lvs[vs.Pos.String()] = p
		}
	}
	return kc, vc, lvs, nwarn, nil
}

// Main implements `crmd keepalived ARGS`; it returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "crmd keepalived: %v\n%s", err, usage)
		return ExitError
	}
	if o.ShowHelp {
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	if o.ShowVer {
		fmt.Fprintln(stdout, "gocrm keepalived drop-in (keepalived 2.2.7 configuration compatible)")
		return ExitOK
	}
	if o.Test {
		_, _, _, nwarn, err := load(o, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "crmd keepalived: %v\n", err)
			return ExitError
		}
		if nwarn > 0 {
			return ExitWarnings
		}
		return ExitOK
	}
	level := slog.LevelInfo
	if o.Debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	lw := &logWriter{log: log}
	_, vc, lvs, _, err := load(o, lw)
	if err != nil {
		log.Error("configuration not loaded", "err", err)
		return ExitError
	}
	for _, pf := range o.PidFiles {
		if err := os.WriteFile(pf, fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644); err != nil {
			log.Error("write pid file", "file", pf, "err", err)
			return ExitError
		}
		defer os.Remove(pf)
	}
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigc)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var dp *dataplane.Dataplane
	dpDone := make(chan error, 1)
	if !o.OnlyLVS && len(vc.Units) > 0 {
		nl, err := vip.NewNetlink()
		if err != nil {
			log.Error("netlink", "err", err)
			return ExitError
		}
		defer nl.Close()
		deps := dataplane.Deps{Net: dataplane.RawNet{}, Addrs: nl, Frames: &dataplane.PacketSender{},
			Links: dataplane.NetlinkWatcher{}, Logger: log.With("sub", "vrrp")}
		if g := startGuard(o, stderr, log); g != nil {
			// Every return below waits for the dataplane first, so the
			// bye comes after its last report.
			defer g.Close()
			deps.Guard = g
		}
		dp, err = dataplane.New(vc, deps)
		if err != nil {
			log.Error("VRRP configuration", "err", err)
			return ExitError
		}
		go func() { dpDone <- dp.Run(runCtx) }()
	} else {
		close(dpDone)
	}
	lv := newLVS(log.With("sub", "ipvs"))
	defer lv.stopAll(context.WithoutCancel(ctx))
	lv.apply(runCtx, lvs)

	rc := ExitOK
	for {
		select {
		case err, ok := <-dpDone:
			if ok && err != nil {
				log.Error("VRRP stopped", "err", err)
				rc = ExitError
			}
			if !ok || dp == nil {
				dpDone = nil // IPVS only: wait for a signal
				continue
			}
			return rc
		case <-ctx.Done():
			stop()
			if dp != nil {
				<-dpDone
			}
			return rc
		case s := <-sigc:
			switch s {
			case syscall.SIGHUP:
				log.Info("reloading configuration", "file", o.File)
				_, nvc, nlvs, _, err := load(o, lw)
				if err != nil {
					log.Error("reload failed; keeping the running configuration", "err", err)
					continue
				}
				if dp != nil {
					if err := dp.Reload(runCtx, nvc); err != nil {
						log.Error("VRRP reload", "err", err)
					}
				} else if len(nvc.Units) > 0 {
					log.Warn("reload: VRRP instances added to a configuration that had none need a restart")
				}
				lv.apply(runCtx, nlvs)
			default:
				log.Info("stopping", "signal", s.String())
				stop()
				if dp != nil {
					if err := <-dpDone; err != nil {
						log.Error("VRRP stopped", "err", err)
					}
				}
				return rc
			}
		}
	}
}

// logWriter turns configuration remarks into log records.
type logWriter struct{ log *slog.Logger }

func (w *logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.log.Warn(line)
	}
	return len(p), nil
}

// lvs runs the virtual servers with the IPVS agent.
type lvs struct {
	log      *slog.Logger
	agents   map[string]*ipvs.Agent
	params   map[string]map[string]string
	disabled bool // kernel without IPVS: reported once
}

func newLVS(log *slog.Logger) *lvs {
	return &lvs{log: log, agents: map[string]*ipvs.Agent{}, params: map[string]map[string]string{}}
}

func (l *lvs) apply(ctx context.Context, want map[string]map[string]string) {
	for k, a := range l.agents {
		if w, ok := want[k]; ok && reflect.DeepEqual(w, l.params[k]) {
			continue
		}
		if err := a.Stop(ctx); err != nil {
			l.log.Error("stop virtual server", "at", k, "err", err)
		}
		a.Close()
		delete(l.agents, k)
		delete(l.params, k)
	}
	if l.disabled {
		return
	}
	for k, p := range want {
		if _, ok := l.agents[k]; ok {
			continue
		}
		a := ipvs.New(ipvs.Deps{Open: ipvs.KernelOpener(), Logger: l.log})
		if err := a.Validate(p); err != nil {
			l.log.Error("virtual server", "at", k, "err", err)
			continue
		}
		if err := a.Start(ctx); err != nil {
			a.Close()
			if errors.Is(err, ocf.ErrNotInstalled) {
				l.log.Error("kernel IPVS is not available (load the ip_vs module); virtual_server blocks are not run, VRRP keeps running", "err", err)
				l.disabled = true
				return
			}
			l.log.Error("start virtual server", "at", k, "err", err)
			continue
		}
		l.agents[k], l.params[k] = a, p
		l.log.Info("virtual server running", "at", k, "vip", p["vip"], "port", p["port"], "fwmark", p["fwmark"])
	}
}

func (l *lvs) stopAll(ctx context.Context) {
	for k, a := range l.agents {
		if err := a.Stop(ctx); err != nil {
			l.log.Error("stop virtual server", "at", k, "err", err)
		}
		a.Close()
		delete(l.agents, k)
	}
}
