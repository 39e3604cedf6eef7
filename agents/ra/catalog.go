package ra

import (
	"bufio"
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
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// Defaults for Catalog fields left empty.
const (
	DefaultOCFRoot  = "/usr/lib/ocf"
	DefaultInitDir  = "/etc/init.d"
	DefaultFenceDir = "/usr/sbin"
	DefaultTimeout  = 10 * time.Second
	// MaxMetaDataSize bounds the output read from an agent.
	MaxMetaDataSize = 1 << 20
)

// DefaultUnitDirs are the systemd unit directories scanned, in priority order.
var DefaultUnitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}

// Sentinel errors.
var (
	// ErrNotFound: no such agent is built in or installed.
	ErrNotFound = errors.New("resource agent not found")
	// ErrUnknownClass: the class is not one of ocf, lsb, service, systemd, stonith.
	ErrUnknownClass = errors.New("unknown resource agent class")
	// ErrMetaDataFailed: the agent ran but produced no usable meta-data.
	ErrMetaDataFailed = errors.New("meta-data action failed")
)

// Classes supported by the catalog, in `crm ra classes` order.
var Classes = []string{"lsb", "ocf", "service", "stonith", "systemd"}

// Catalog discovers agents and serves their meta-data. Fields must be set
// before first use and not changed afterwards. Parsed meta-data is cached
// per agent (Forget drops it). All methods are safe for concurrent use.
type Catalog struct {
	Registry *agent.Registry // built-in agents (may be nil)
	// StateDir is given to built-in agent factories when their meta-data
	// is needed (use the node's built-in state directory). If empty, a
	// temporary directory is created and removed per call.
	StateDir string
	Node     string
	OCFRoot  string   // default DefaultOCFRoot
	InitDir  string   // default DefaultInitDir
	UnitDirs []string // default DefaultUnitDirs
	FenceDir string   // default DefaultFenceDir
	// Timeout bounds one meta-data run (default DefaultTimeout).
	Timeout time.Duration
	Logger  *slog.Logger

	mu    sync.Mutex
	cache map[agent.Key]*Metadata
}

func (c *Catalog) ocfRoot() string  { return or(c.OCFRoot, DefaultOCFRoot) }
func (c *Catalog) initDir() string  { return or(c.InitDir, DefaultInitDir) }
func (c *Catalog) fenceDir() string { return or(c.FenceDir, DefaultFenceDir) }
func (c *Catalog) unitDirs() []string {
	if len(c.UnitDirs) > 0 {
		return c.UnitDirs
	}
	return DefaultUnitDirs
}
func (c *Catalog) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}
func (c *Catalog) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ParseName turns a crm-style agent name into a key: "IPaddr2" means
// ocf:heartbeat:IPaddr2 (crmsh's shorthand); anything else is
// class:[provider:]type.
func ParseName(s string) (agent.Key, error) {
	if s != "" && !strings.Contains(s, ":") {
		return agent.Key{Class: "ocf", Provider: "heartbeat", Type: s}, nil
	}
	k, err := agent.ParseKey(s)
	if err != nil {
		return agent.Key{}, err
	}
	if !slices.Contains(Classes, k.Class) {
		return agent.Key{}, fmt.Errorf("%q: %w %q", s, ErrUnknownClass, k.Class)
	}
	return k, nil
}

// Providers lists OCF providers: directories under $OCF_ROOT/resource.d
// and providers of built-in OCF agents, sorted, without hidden entries.
func (c *Catalog) Providers() ([]string, error) {
	set := map[string]bool{}
	for _, k := range c.builtins() {
		if k.Class == "ocf" {
			set[k.Provider] = true
		}
	}
	dir := filepath.Join(c.ocfRoot(), "resource.d")
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list OCF providers in %s: %w", dir, err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && fi.IsDir() {
			set[e.Name()] = true
		}
	}
	return sortedKeys(set), nil
}

func (c *Catalog) builtins() []agent.Key {
	if c.Registry == nil {
		return nil
	}
	return c.Registry.Keys()
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// executables lists the executable regular files (or symlinks to them) in
// dir whose names are accepted by keep. A missing dir lists nothing.
func executables(dir string, keep func(string) bool) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") || !keep(n) {
			continue
		}
		if isExecutable(filepath.Join(dir, n)) {
			out = append(out, n)
		}
	}
	return out, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func all(string) bool { return true }

// initScript filters non-service files out of /etc/init.d.
func initScript(n string) bool {
	switch n {
	case "README", "skeleton", "rc", "rcS", "functions":
		return false
	}
	return true
}

// List returns the agents of class (and, for ocf, of provider; "" means
// every provider), built-in and installed, sorted by key. Built-in agents
// shadow installed ones with the same key.
func (c *Catalog) List(class, provider string) ([]agent.Key, error) {
	set := map[agent.Key]bool{}
	for _, k := range c.builtins() {
		if k.Class == class && (provider == "" || k.Provider == provider) {
			set[k] = true
		}
	}
	add := func(cl, prov string, names []string) {
		for _, n := range names {
			set[agent.Key{Class: cl, Provider: prov, Type: n}] = true
		}
	}
	switch class {
	case "ocf":
		provs := []string{provider}
		if provider == "" {
			var err error
			if provs, err = c.Providers(); err != nil {
				return nil, err
			}
		}
		for _, p := range provs {
			names, err := executables(filepath.Join(c.ocfRoot(), "resource.d", p), all)
			if err != nil {
				return nil, err
			}
			add("ocf", p, names)
		}
	case "lsb":
		names, err := executables(c.initDir(), initScript)
		if err != nil {
			return nil, err
		}
		add("lsb", "", names)
	case "systemd":
		names, err := c.units()
		if err != nil {
			return nil, err
		}
		add("systemd", "", names)
	case "service":
		names, err := c.units()
		if err != nil {
			return nil, err
		}
		lsb, err := executables(c.initDir(), initScript)
		if err != nil {
			return nil, err
		}
		add("service", "", append(names, lsb...))
	case "stonith":
		names, err := executables(c.fenceDir(), func(n string) bool { return strings.HasPrefix(n, "fence_") })
		if err != nil {
			return nil, err
		}
		add("stonith", "", names)
	default:
		return nil, fmt.Errorf("list %q: %w", class, ErrUnknownClass)
	}
	out := make([]agent.Key, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// units lists service units (without the .service suffix) found in the
// unit directories, skipping templates ("x@.service") and masked units.
func (c *Catalog) units() ([]string, error) {
	set := map[string]bool{}
	for _, dir := range c.unitDirs() {
		ents, err := os.ReadDir(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("list units in %s: %w", dir, err)
		}
		for _, e := range ents {
			n := e.Name()
			if !strings.HasSuffix(n, ".service") || strings.HasSuffix(n, "@.service") {
				continue
			}
			name := strings.TrimSuffix(n, ".service")
			if _, seen := set[name]; seen {
				continue // an earlier directory takes precedence
			}
			t, err := os.Readlink(filepath.Join(dir, n))
			set[name] = err != nil || t != "/dev/null" // false: masked

		}
	}
	var out []string
	for _, n := range sortedKeys(set) {
		if set[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// unitFile returns the path of a unit's file, or "".
func (c *Catalog) unitFile(name string) string {
	if !strings.Contains(name, ".") {
		name += ".service"
	}
	if strings.ContainsAny(name, "/\x00") {
		return ""
	}
	for _, dir := range c.unitDirs() {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Forget drops cached meta-data of k (all agents if k is the zero Key),
// e.g. after resource-agents was upgraded.
func (c *Catalog) Forget(k agent.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k == (agent.Key{}) {
		c.cache = nil
		return
	}
	delete(c.cache, k)
}

// Info returns k's parsed meta-data (cached after the first success).
// Stonith agents get Pacemaker's fencing parameters (pcmk_host_list, ...)
// appended, since the fencer accepts them for every device.
func (c *Catalog) Info(ctx context.Context, k agent.Key) (*Metadata, error) {
	c.mu.Lock()
	m, ok := c.cache[k]
	c.mu.Unlock()
	if ok {
		return m, nil
	}
	raw, err := c.MetaData(ctx, k)
	if err != nil {
		return nil, err
	}
	m, err = Parse([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("meta-data of %s: %w", k, err)
	}
	if k.Class == "stonith" {
		addFencingParams(m)
	}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = make(map[agent.Key]*Metadata)
	}
	c.cache[k] = m
	c.mu.Unlock()
	return m, nil
}

// ValidateParams checks params against k's meta-data (see Validate); for
// stonith agents only unknown parameters and bad values are errors.
func (c *Catalog) ValidateParams(ctx context.Context, k agent.Key, params map[string]string) error {
	m, err := c.Info(ctx, k)
	if err != nil {
		return err
	}
	err = Validate(m, params)
	var ve *ValidationError
	if k.Class == "stonith" && errors.As(err, &ve) {
		// As crmsh: fence agents' required parameters are not enforced
		// (host maps and the fencer may supply them).
		ve.Missing = nil
		if len(ve.Unknown)+len(ve.Invalid) == 0 {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", k, err)
	}
	return nil
}

// MetaData returns k's raw meta-data XML: a built-in agent's MetaData, the
// output of an OCF agent's meta-data action or of a fence agent's
// `-o metadata`, or meta-data generated for LSB scripts (from their LSB
// header) and systemd units. Errors wrap ErrNotFound, ErrUnknownClass or
// ErrMetaDataFailed.
func (c *Catalog) MetaData(ctx context.Context, k agent.Key) (string, error) {
	if c.Registry != nil {
		if f, ok := c.Registry.Lookup(k); ok {
			return c.builtinMetaData(ctx, k, f)
		}
	}
	switch k.Class {
	case "ocf":
		if !validName(k.Provider) || !validName(k.Type) {
			return "", fmt.Errorf("%s: %w", k, ErrNotFound)
		}
		path := filepath.Join(c.ocfRoot(), "resource.d", k.Provider, k.Type)
		if !isExecutable(path) {
			return "", fmt.Errorf("%s: %w (no executable %s)", k, ErrNotFound, path)
		}
		env := []string{
			"OCF_ROOT=" + c.ocfRoot(), "OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1",
			"OCF_RESOURCE_TYPE=" + k.Type, "OCF_RESOURCE_PROVIDER=" + k.Provider,
			"OCF_RESOURCE_INSTANCE=" + k.Type, "__OCF_ACTION=meta-data",
			"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		}
		return c.run(ctx, k, path, []string{"meta-data"}, env)
	case "stonith":
		if !validName(k.Type) || !strings.HasPrefix(k.Type, "fence_") {
			return "", fmt.Errorf("%s: %w", k, ErrNotFound)
		}
		path := filepath.Join(c.fenceDir(), k.Type)
		if !isExecutable(path) {
			return "", fmt.Errorf("%s: %w (no executable %s)", k, ErrNotFound, path)
		}
		return c.run(ctx, k, path, []string{"-o", "metadata"}, []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"})
	case "lsb":
		return c.lsbMetaData(k)
	case "systemd":
		return c.systemdMetaData(k)
	case "service":
		if c.unitFile(k.Type) != "" {
			return c.systemdMetaData(k)
		}
		return c.lsbMetaData(k)
	}
	return "", fmt.Errorf("%s: %w", k, ErrUnknownClass)
}

func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}

func (c *Catalog) builtinMetaData(ctx context.Context, k agent.Key, f agent.Factory) (string, error) {
	dir := c.StateDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "gocrm-ra-")
		if err != nil {
			return "", fmt.Errorf("%s: state dir for meta-data: %w", k, err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else {
		dir = filepath.Join(dir, k.Provider+"-"+k.Type)
	}
	a, err := f(agent.Env{Node: c.Node, StateDir: dir, Logger: c.log().With("agent", k.String())})
	if err != nil {
		return "", fmt.Errorf("%s: create built-in agent: %w", k, err)
	}
	r := a.MetaData(ctx)
	if r.RC != agent.OK || strings.TrimSpace(r.Output) == "" {
		return "", fmt.Errorf("%s: built-in meta-data rc %d (%v) %s: %w", k, int(r.RC), r.RC, r.Reason, ErrMetaDataFailed)
	}
	return r.Output, nil
}

// limitedBuffer keeps at most max bytes and notes truncation.
type limitedBuffer struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room < len(p) {
		b.truncated = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

// run executes path with args and exactly env, without a shell, in its own
// process group (killed as a whole on timeout), and returns stdout.
func (c *Catalog) run(ctx context.Context, k agent.Key, path string, args, env []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	var stdout, stderr = &limitedBuffer{max: MaxMetaDataSize}, &limitedBuffer{max: 64 << 10}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	start := time.Now()
	err := cmd.Run()
	c.log().Debug("ran meta-data", "agent", k.String(), "elapsed", time.Since(start), "err", err)
	if ctx.Err() != nil {
		return "", fmt.Errorf("%s: meta-data did not finish within %v: %w: %w", k, c.timeout(), ErrMetaDataFailed, ctx.Err())
	}
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return "", fmt.Errorf("%s: meta-data: %w: %w (stderr: %s)", k, ErrMetaDataFailed, err, firstLine(stderr.buf.String()))
	}
	if stdout.truncated {
		return "", fmt.Errorf("%s: meta-data larger than %d bytes: %w", k, MaxMetaDataSize, ErrMetaDataFailed)
	}
	out := stdout.buf.String()
	if strings.TrimSpace(out) == "" {
		return "", fmt.Errorf("%s: empty meta-data: %w", k, ErrMetaDataFailed)
	}
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// lsbHeader reads the "### BEGIN INIT INFO" block of an init script.
func lsbHeader(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := map[string]string{}
	sc := bufio.NewScanner(f)
	in := false
	last := ""
	for n := 0; sc.Scan() && n < 200; n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### BEGIN INIT INFO"):
			in = true
		case strings.HasPrefix(line, "### END INIT INFO"):
			return h, nil
		case in && strings.HasPrefix(line, "#"):
			body := strings.TrimPrefix(line, "#")
			if (strings.HasPrefix(body, "\t") || strings.HasPrefix(body, "  ")) && last != "" {
				h[last] += " " + strings.TrimSpace(body) // continuation
				continue
			}
			name, val, ok := strings.Cut(strings.TrimSpace(body), ":")
			if ok {
				last = strings.TrimSpace(name)
				h[last] = strings.TrimSpace(val)
			}
		}
	}
	return h, sc.Err()
}

type genAction struct {
	XMLName  xml.Name `xml:"action"`
	Name     string   `xml:"name,attr"`
	Timeout  string   `xml:"timeout,attr"`
	Interval string   `xml:"interval,attr,omitempty"`
}

type genAgent struct {
	XMLName   xml.Name    `xml:"resource-agent"`
	Name      string      `xml:"name,attr"`
	Version   string      `xml:"version"`
	LongDesc  string      `xml:"longdesc"`
	ShortDesc string      `xml:"shortdesc"`
	Params    struct{}    `xml:"parameters"`
	Actions   []genAction `xml:"actions>action"`
}

func classActions(timeout string) []genAction {
	return []genAction{
		{Name: "start", Timeout: timeout}, {Name: "stop", Timeout: timeout},
		{Name: "status", Timeout: timeout}, {Name: "restart", Timeout: timeout},
		{Name: "force-reload", Timeout: timeout},
		{Name: "monitor", Timeout: timeout, Interval: timeout},
		{Name: "meta-data", Timeout: "5"},
	}
}

func genMeta(g genAgent) (string, error) {
	out, err := xml.MarshalIndent(g, "", "  ")
	if err != nil {
		return "", err
	}
	return xml.Header + string(out) + "\n", nil
}

func (c *Catalog) lsbMetaData(k agent.Key) (string, error) {
	if !validName(k.Type) {
		return "", fmt.Errorf("%s: %w", k, ErrNotFound)
	}
	path := filepath.Join(c.initDir(), k.Type)
	if !isExecutable(path) {
		return "", fmt.Errorf("%s: %w (no executable %s)", k, ErrNotFound, path)
	}
	h, err := lsbHeader(path)
	if err != nil {
		return "", fmt.Errorf("%s: read LSB header of %s: %w", k, path, err)
	}
	return genMeta(genAgent{Name: k.Type, Version: "1.0", LongDesc: h["Description"],
		ShortDesc: h["Short-Description"], Actions: classActions("15")})
}

func (c *Catalog) systemdMetaData(k agent.Key) (string, error) {
	f := c.unitFile(k.Type)
	if f == "" {
		return "", fmt.Errorf("%s: %w (no unit file)", k, ErrNotFound)
	}
	unit := filepath.Base(f)
	return genMeta(genAgent{Name: k.Type, Version: "1.0", LongDesc: "Cluster controlled " + unit,
		ShortDesc: "systemd unit file for " + unit, Actions: classActions("100")})
}

// fencingParams are the device parameters Pacemaker's fencer handles
// itself, valid for every stonith resource.
var fencingParams = func() []Parameter {
	ps := []Parameter{
		{Name: "pcmk_host_argument", Type: "string", Default: "port", ShortDesc: "Agent parameter that receives the fencing target"},
		{Name: "pcmk_host_map", Type: "string", ShortDesc: "Map of node names to device ports (node1:1;node2:2,3)"},
		{Name: "pcmk_host_list", Type: "string", ShortDesc: "Nodes this device can fence"},
		{Name: "pcmk_host_check", Type: "string", Default: "dynamic-list", ShortDesc: "How to find the nodes this device can fence (dynamic-list, static-list, status, none)"},
		{Name: "pcmk_delay_max", Type: "time", Default: "0s", ShortDesc: "Upper bound of a random delay before fencing"},
		{Name: "pcmk_delay_base", Type: "string", Default: "0s", ShortDesc: "Fixed delay before fencing (or node:delay map)"},
		{Name: "pcmk_action_limit", Type: "integer", Default: "1", ShortDesc: "Parallel actions allowed on this device (-1: unlimited)"},
	}
	for _, a := range []string{"reboot", "off", "on", "list", "monitor", "status"} {
		ps = append(ps,
			Parameter{Name: "pcmk_" + a + "_action", Type: "string", Default: a, ShortDesc: "Device command to run for " + a},
			Parameter{Name: "pcmk_" + a + "_timeout", Type: "time", Default: "60s", ShortDesc: "Timeout of " + a + " instead of stonith-timeout"},
			Parameter{Name: "pcmk_" + a + "_retries", Type: "integer", Default: "2", ShortDesc: "Retries of " + a + " within the timeout"})
	}
	return ps
}()

// fencerSupplied are agent parameters the fencer fills in itself.
var fencerSupplied = map[string]bool{"action": true, "port": true, "plug": true}

func addFencingParams(m *Metadata) {
	for i := range m.Parameters {
		if fencerSupplied[m.Parameters[i].Name] {
			m.Parameters[i].Required = false
		}
	}
	for _, p := range fencingParams {
		if _, ok := m.Param(p.Name); !ok {
			m.Parameters = append(m.Parameters, p)
		}
	}
}

// SystemdRunDir exists when systemd is the running init system.
const SystemdRunDir = "/run/systemd/system"

// RenderClasses formats `crm ra classes`: one class per line, OCF
// followed by " / " and its providers. systemd (and service) are listed
// when systemdRunning; lsb when the init directory exists; stonith when
// fence agents are installed.
func (c *Catalog) RenderClasses(systemdRunning bool) (string, error) {
	provs, err := c.Providers()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if fi, err := os.Stat(c.initDir()); err == nil && fi.IsDir() {
		b.WriteString("lsb\n")
	}
	b.WriteString("ocf / " + strings.Join(provs, " ") + "\n")
	b.WriteString("service\n")
	if fence, _ := c.List("stonith", ""); len(fence) > 0 {
		b.WriteString("stonith\n")
	}
	if systemdRunning {
		b.WriteString("systemd\n")
	}
	return b.String(), nil
}

// ProvidersOf lists the OCF providers that have an agent called typ
// (`crm ra providers TYPE`).
func (c *Catalog) ProvidersOf(typ string) ([]string, error) {
	ks, err := c.List("ocf", "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range ks {
		if k.Type == typ {
			out = append(out, k.Provider)
		}
	}
	return out, nil
}

// Names returns the type names of keys (for Columns).
func Names(keys []agent.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Type
	}
	return out
}
