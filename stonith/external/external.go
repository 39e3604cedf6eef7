// Package external is the fence-device plugin that runs unmodified
// fence-agents executables (fence_ipmilan, fence_apc, fence_dummy, ...) the
// way Pacemaker's fencer does: parameters as key=value lines on standard
// input (plus action=, the host argument port=/plug= and nodename=),
// "-o metadata" for the meta-data, exit code 0 for success (status: 0 on,
// 2 off, anything else an error).
//
// Agents are found only by name under configured directories (default
// /usr/sbin) and run by absolute path, without a shell, with a minimal
// environment, in their own process group that is SIGKILLed as a whole when
// the action's context ends.
package external

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fsm"
)

// DefaultDirs are searched for agents when Options.Dirs is empty.
var DefaultDirs = []string{"/usr/sbin"}

// Defaults of Options.
const (
	DefaultMetadataTimeout = 10 * time.Second
	DefaultOutputLimit     = 64 << 10
	DefaultWaitDelay       = 2 * time.Second
	agentPath              = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// Options configure the plugin.
type Options struct {
	// Dirs are searched, in order, for agent executables (DefaultDirs if empty).
	Dirs []string
	// MetadataTimeout bounds "-o metadata" at configure time.
	MetadataTimeout time.Duration
	// OutputLimit bounds captured stdout and stderr, each.
	OutputLimit int
	// WaitDelay bounds output reading after the agent exited.
	WaitDelay time.Duration
}

func (o Options) dirs() []string {
	if len(o.Dirs) == 0 {
		return DefaultDirs
	}
	return o.Dirs
}

var agentName = regexp.MustCompile(`^fence_[A-Za-z0-9][A-Za-z0-9_.+-]*$`)

// Resolve returns the absolute path of agent, which must be a plain
// fence_* name found as an executable regular file in one of the
// directories. It wraps stonith.ErrNotInstalled when not found.
func (o Options) Resolve(agent string) (string, error) {
	if !agentName.MatchString(agent) || strings.Contains(agent, "..") {
		return "", fmt.Errorf("fence agent %q: %w", agent, &fsm.ParamError{Param: "type", Msg: "not a fence_* agent name"})
	}
	for _, dir := range o.dirs() {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, agent)
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("fence agent %s not found in %s: %w", agent, strings.Join(o.dirs(), ":"), stonith.ErrNotInstalled)
}

// Register adds a resolver for every fence_* type to reg.
func Register(reg *stonith.Registry, opts Options) {
	p := &plugin{opts: opts, meta: map[string]cachedMeta{}}
	reg.AddResolver(func(typ string) (stonith.Plugin, bool) {
		if !strings.HasPrefix(typ, "fence_") {
			return stonith.Plugin{}, false
		}
		return stonith.Plugin{Type: typ, MetaData: p.configMeta, New: p.newDevice}, true
	})
}

type cachedMeta struct {
	mtime time.Time
	meta  stonith.MetaData
}

type plugin struct {
	opts Options
	mu   sync.Mutex
	meta map[string]cachedMeta // by path
}

// suppliedParams are filled in by the fencer, never by the user.
var suppliedParams = map[string]bool{"action": true, "port": true, "plug": true, "nodename": true}

// configMeta returns the metadata with parameters the fencer supplies
// marked optional (fence agents declare "action" and "port" required).
func (p *plugin) configMeta(ctx context.Context, typ string) (stonith.MetaData, error) {
	path, err := p.opts.Resolve(typ)
	if err != nil {
		return stonith.MetaData{}, err
	}
	m, err := p.metadata(ctx, path)
	if err != nil {
		return stonith.MetaData{}, err
	}
	out := m
	out.Params = append([]stonith.ParamSpec(nil), m.Params...)
	for i := range out.Params {
		if suppliedParams[out.Params[i].Name] {
			out.Params[i].Required = false
		}
	}
	return out, nil
}

func (p *plugin) metadata(ctx context.Context, path string) (stonith.MetaData, error) {
	st, err := os.Stat(path)
	if err != nil {
		return stonith.MetaData{}, fmt.Errorf("meta-data of %s: %w", path, err)
	}
	p.mu.Lock()
	c, ok := p.meta[path]
	p.mu.Unlock()
	if ok && c.mtime.Equal(st.ModTime()) {
		return c.meta, nil
	}
	timeout := p.opts.MetadataTimeout
	if timeout <= 0 {
		timeout = DefaultMetadataTimeout
	}
	mctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := run(mctx, p.opts, path, []string{"-o", "metadata"}, "")
	if res.err != nil {
		return stonith.MetaData{}, fmt.Errorf("%s -o metadata: %w", filepath.Base(path), res.err)
	}
	if res.rc != 0 {
		return stonith.MetaData{}, fmt.Errorf("%s -o metadata: exit code %d: %s: %w", filepath.Base(path), res.rc, tail(res.stderr), stonith.ErrFailed)
	}
	m, err := ParseMetaData([]byte(res.stdout))
	if err != nil {
		return stonith.MetaData{}, fmt.Errorf("%s -o metadata: %w", filepath.Base(path), err)
	}
	p.mu.Lock()
	p.meta[path] = cachedMeta{mtime: st.ModTime(), meta: m}
	p.mu.Unlock()
	return m, nil
}

func (p *plugin) newDevice(ctx context.Context, cfg stonith.Config) (stonith.Device, error) {
	path, err := p.opts.Resolve(cfg.Type)
	if err != nil {
		return nil, err
	}
	for _, k := range cfg.Params.Names() {
		if strings.ContainsAny(k, "=\n\r") || k == "" {
			return nil, &fsm.ParamError{Device: cfg.ID, Param: strconv.Quote(k), Msg: "parameter names must not contain '=' or line breaks"}
		}
		if strings.ContainsAny(cfg.Params.Get(k), "\n\r") {
			return nil, &fsm.ParamError{Device: cfg.ID, Param: k, Msg: "value must not contain line breaks"}
		}
		if suppliedParams[k] {
			return nil, &fsm.ParamError{Device: cfg.ID, Param: k, Msg: "is supplied by the fencer and must not be configured"}
		}
	}
	meta, err := p.metadata(ctx, path)
	if err != nil {
		return nil, err
	}
	hostArg := cfg.Spec.HostArgument
	if hostArg == "" {
		hostArg = "port"
		_, hasPort := meta.Param("port")
		if _, hasPlug := meta.Param("plug"); hasPlug && !hasPort {
			hostArg = "plug"
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Device{id: cfg.ID, path: path, params: cfg.Params, spec: cfg.Spec, hostArg: hostArg, opts: p.opts, plugin: p, log: log}, nil
}

// Device runs one configured fence agent. It is safe for concurrent use
// (every call runs its own process).
type Device struct {
	id      string
	path    string
	params  stonith.Params
	spec    fsm.DeviceSpec
	hostArg string
	opts    Options
	plugin  *plugin
	log     *slog.Logger
}

// Path returns the agent's absolute path.
func (d *Device) Path() string { return d.path }

// stdin renders the agent's standard input. It contains secrets and must
// never be logged.
func (d *Device) stdin(action stonith.Action, target string) string {
	var b strings.Builder
	for _, k := range d.params.Names() {
		fmt.Fprintf(&b, "%s=%s\n", k, d.params.Get(k))
	}
	fmt.Fprintf(&b, "action=%s\n", d.spec.AgentAction(action))
	if target != "" {
		if d.hostArg != "none" {
			fmt.Fprintf(&b, "%s=%s\n", d.hostArg, d.spec.Port(target))
		}
		fmt.Fprintf(&b, "nodename=%s\n", target)
	}
	return b.String()
}

func (d *Device) call(ctx context.Context, action stonith.Action, target string) result {
	start := time.Now()
	res := run(ctx, d.opts, d.path, nil, d.stdin(action, target))
	d.log.Debug("fence agent ran", "agent", filepath.Base(d.path), "action", string(action), "target", target,
		"rc", res.rc, "err", d.params.RedactError(res.err), "elapsed", time.Since(start))
	return res
}

func (d *Device) fail(action stonith.Action, target string, res result) error {
	if res.err != nil {
		return fmt.Errorf("%s %s %s: %w", filepath.Base(d.path), action, target, res.err)
	}
	return fmt.Errorf("%s %s %s: exit code %d: %s: %w", filepath.Base(d.path), action, target, res.rc, tail(res.stderr), stonith.ErrFailed)
}

// Fence implements stonith.Device (rc 0 = success).
func (d *Device) Fence(ctx context.Context, target string, action stonith.Action) error {
	if !action.IsFence() {
		return fmt.Errorf("fence %s with %s: %w", target, action, stonith.ErrNotSupported)
	}
	res := d.call(ctx, action, target)
	if res.err == nil && res.rc == 0 {
		return nil
	}
	return d.fail(action, target, res)
}

// Status implements stonith.Device: rc 0 on, 2 off, else an error.
func (d *Device) Status(ctx context.Context, target string) (stonith.PowerState, error) {
	res := d.call(ctx, stonith.ActionStatus, target)
	switch {
	case res.err != nil:
	case res.rc == 0:
		return stonith.PowerOn, nil
	case res.rc == 2:
		return stonith.PowerOff, nil
	}
	return stonith.PowerUnknown, d.fail(stonith.ActionStatus, target, res)
}

// List implements stonith.Device: one target per output line, "name" or
// "name,alias"; the first field is the node (or port) name.
func (d *Device) List(ctx context.Context) ([]string, error) {
	res := d.call(ctx, stonith.ActionList, "")
	if res.err != nil || res.rc != 0 {
		return nil, d.fail(stonith.ActionList, "", res)
	}
	return ParseList(res.stdout), nil
}

// Monitor implements stonith.Device.
func (d *Device) Monitor(ctx context.Context) error {
	res := d.call(ctx, stonith.ActionMonitor, "")
	if res.err != nil || res.rc != 0 {
		return d.fail(stonith.ActionMonitor, "", res)
	}
	return nil
}

// MetaData implements stonith.Device (cached per executable modification time).
func (d *Device) MetaData(ctx context.Context) (stonith.MetaData, error) {
	return d.plugin.metadata(ctx, d.path)
}

// ParseList parses the output of a fence agent's list action.
func ParseList(out string) []string {
	var l []string
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), ",")
		if name = strings.TrimSpace(name); name != "" && !seen[name] {
			seen[name] = true
			l = append(l, name)
		}
	}
	sort.Strings(l)
	return l
}

// xmlMeta is the fence-agents meta-data document.
type xmlMeta struct {
	XMLName   xml.Name `xml:"resource-agent"`
	Name      string   `xml:"name,attr"`
	ShortDesc string   `xml:"shortdesc,attr"`
	LongDesc  string   `xml:"longdesc"`
	Params    []struct {
		Name       string `xml:"name,attr"`
		Required   string `xml:"required,attr"`
		Deprecated string `xml:"deprecated,attr"`
		Content    struct {
			Type    string `xml:"type,attr"`
			Default string `xml:"default,attr"`
		} `xml:"content"`
		ShortDesc string `xml:"shortdesc"`
	} `xml:"parameters>parameter"`
	Actions []struct {
		Name string `xml:"name,attr"`
	} `xml:"actions>action"`
}

// ErrBadMetaData is wrapped when an agent's meta-data cannot be parsed.
var ErrBadMetaData = errors.New("bad fence agent meta-data")

// ParseMetaData parses fence-agents meta-data XML. Parameters whose names
// denote secrets (stonith.IsSecretName) are marked Secret.
func ParseMetaData(b []byte) (stonith.MetaData, error) {
	var x xmlMeta
	if err := xml.Unmarshal(b, &x); err != nil {
		return stonith.MetaData{}, fmt.Errorf("%w: %v", ErrBadMetaData, err)
	}
	if x.Name == "" {
		return stonith.MetaData{}, fmt.Errorf("%w: resource-agent has no name", ErrBadMetaData)
	}
	m := stonith.MetaData{Name: x.Name, ShortDesc: x.ShortDesc, LongDesc: strings.TrimSpace(x.LongDesc)}
	for _, p := range x.Params {
		if p.Name == "" {
			return stonith.MetaData{}, fmt.Errorf("%w: parameter without name", ErrBadMetaData)
		}
		m.Params = append(m.Params, stonith.ParamSpec{Name: p.Name, Required: p.Required == "1",
			Secret: stonith.IsSecretName(p.Name), Type: p.Content.Type, Default: p.Content.Default,
			ShortDesc: strings.TrimSpace(p.ShortDesc)})
	}
	for _, a := range x.Actions {
		m.Actions = append(m.Actions, a.Name)
	}
	return m, nil
}

type result struct {
	rc     int
	stdout string
	stderr string
	err    error // not started, timed out, cancelled, killed by a signal
}

// run executes path with args, writing stdin, in its own process group,
// without a shell and with a minimal environment. When ctx ends the whole
// group is SIGKILLed.
func run(ctx context.Context, o Options, path string, args []string, stdin string) result {
	limit := o.OutputLimit
	if limit <= 0 {
		limit = DefaultOutputLimit
	}
	wait := o.WaitDelay
	if wait <= 0 {
		wait = DefaultWaitDelay
	}
	stdout, stderr := &bounded{max: limit}, &bounded{max: limit}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = []string{"PATH=" + agentPath, "LANG=C"}
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = wait
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return result{err: ctxErr(ctx)}
		}
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w", stonith.ErrNotInstalled, err)
		}
		return result{err: err}
	}
	err := cmd.Wait()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // children forked during the first kill
		res.err = ctxErr(ctx)
		return res
	}
	ps := cmd.ProcessState
	if ps == nil {
		res.err = err
		return res
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.err = fmt.Errorf("agent killed by signal %v: %w", ws.Signal(), stonith.ErrFailed)
		return res
	}
	res.rc = ps.ExitCode()
	return res
}

func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w; process group killed", stonith.ErrTimeout)
	}
	return fmt.Errorf("cancelled; process group killed: %w", ctx.Err())
}

// tail returns the last line(s) of an agent's stderr for error messages.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 512 {
		s = "..." + s[len(s)-512:]
	}
	if s == "" {
		return "no output"
	}
	return strings.ReplaceAll(s, "\n", " | ")
}

// bounded keeps the first max bytes written.
type bounded struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	dropped int
}

func (b *bounded) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := min(b.max-b.buf.Len(), len(p))
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

func (b *bounded) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return b.buf.String() + fmt.Sprintf("\n[%d bytes dropped]", b.dropped)
	}
	return b.buf.String()
}
