// Package filesystem implements ocf:gocrm:Filesystem, the built-in
// counterpart of ocf:heartbeat:Filesystem: it mounts device on directory
// with fstype and options, monitors the mount through /proc/self/mountinfo
// (optionally with a write/read probe, statusfile_check), and on stop
// terminates the processes using the mount (SIGTERM, then SIGKILL after
// signal_delay) and unmounts it, retrying until the action's deadline. A
// stop that cannot unmount fails with rc 1, which makes the cluster fence
// the node: never report a still-mounted filesystem as stopped.
//
// All system access goes through Mounter, MountTable, FSTypes and Procs
// (SysMounter, ProcMountTable, KernelFSTypes and ProcScanner in
// production; FakeSystem and FakeFSTypes in tests).
//
// Limitations: mounts are done with mount(2) directly, so filesystems that
// need a userspace helper (nfs, cifs, fuse.*) and the "loop" option are not
// supported; attach images with losetup and give the loop device.
package filesystem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gocrm/gocrm/agents/agent"
)

// Key is the agent's registry key, ocf:gocrm:Filesystem.
var Key = agent.Key{Class: "ocf", Provider: "gocrm", Type: "Filesystem"}

// Register adds ocf:gocrm:Filesystem (with the real system) to r.
func Register(r *agent.Registry) error {
	return r.Register(Key, func(env agent.Env) (agent.Agent, error) { return New(env, Deps{}) })
}

// DefaultSignalDelay is the default wait after signalling the users of a
// busy mount before escalating.
const DefaultSignalDelay = 2 * time.Second

// Deps are the agent's dependencies; zero fields get the real system.
type Deps struct {
	Mounter Mounter
	Table   MountTable
	FSTypes FSTypes
	Procs   Procs
	Poll    time.Duration // re-check period while waiting (default 100ms)
}

// Agent is one node's ocf:gocrm:Filesystem. It keeps no state of its own
// (the kernel's mount table is the truth) and is safe for concurrent use;
// it starts no goroutines.
type Agent struct {
	agent.Unsupported
	node string
	log  *slog.Logger
	d    Deps
}

// New creates the agent for one node.
func New(env agent.Env, d Deps) (*Agent, error) {
	if d.Mounter == nil {
		d.Mounter = SysMounter{}
	}
	if d.Table == nil {
		d.Table = ProcMountTable{}
	}
	if d.FSTypes == nil {
		d.FSTypes = KernelFSTypes{}
	}
	if d.Procs == nil {
		d.Procs = ProcScanner{}
	}
	if d.Poll <= 0 {
		d.Poll = 100 * time.Millisecond
	}
	node := env.Node
	if node == "" {
		node, _ = os.Hostname()
	}
	return &Agent{node: node, log: env.Log(), d: d}, nil
}

// MetaData returns the OCF meta-data.
func (a *Agent) MetaData(context.Context) agent.Result {
	return agent.Result{RC: agent.OK, Output: metaData}
}

// check validates parameters against this node: fstype known to the
// kernel (rc 5), device present when it is a path (rc 5).
func (a *Agent) check(c agent.Call) (*config, error) {
	cfg, err := parseParams(c.Params)
	if err != nil {
		return nil, err
	}
	if !cfg.bind {
		ok, err := a.d.FSTypes.Supported(cfg.fstype)
		if err != nil {
			return nil, fmt.Errorf("parameter fstype=%q: %w", cfg.fstype, err)
		}
		if !ok {
			return nil, paramErr("fstype", cfg.fstype, agent.ErrNotInstalled, "filesystem type not supported by this kernel")
		}
	}
	if dev := resolveDevice(cfg.device); strings.HasPrefix(dev, "/") {
		if _, err := os.Stat(dev); err != nil {
			return nil, paramErr("device", cfg.device, agent.ErrNotInstalled, "%v", err)
		}
	}
	return cfg, nil
}

// Validate checks the parameters (errors name the parameter).
func (a *Agent) Validate(_ context.Context, c agent.Call) agent.Result {
	_, err := a.check(c)
	return agent.FromError(err)
}

// mountPoint returns the path the kernel reports for dir (symlinks resolved).
func mountPoint(dir string) string {
	if p, err := filepath.EvalSymlinks(dir); err == nil {
		return p
	}
	return dir
}

// errForeign means another filesystem is mounted on the directory.
var errForeign = errors.New("a different filesystem is mounted there")

// find returns the topmost mount on cfg.directory, nil if none, and
// errForeign (with the entry) if it is not cfg.device.
func (a *Agent) find(cfg *config) (*MountInfo, error) {
	ms, err := a.d.Table.Mounts()
	if err != nil {
		return nil, err
	}
	mp := mountPoint(cfg.directory)
	var found *MountInfo
	for i := range ms {
		if ms[i].MountPoint == mp {
			found = &ms[i]
		}
	}
	if found == nil || cfg.bind || sameDevice(cfg.device, found) {
		return found, nil
	}
	return found, fmt.Errorf("%s: %w (%s %s, want %s)", cfg.directory, errForeign, found.FSType, found.Source, cfg.device)
}

// sameDevice reports whether mount m is of device dev: same source text,
// same path after resolving symlinks, or (block devices) same device number.
func sameDevice(dev string, m *MountInfo) bool {
	dev = resolveDevice(dev)
	if dev == m.Source {
		return true
	}
	if !strings.HasPrefix(dev, "/") {
		return false
	}
	r1, err1 := filepath.EvalSymlinks(dev)
	r2, err2 := filepath.EvalSymlinks(m.Source)
	if err1 == nil && err2 == nil && r1 == r2 {
		return true
	}
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
		return int(unix.Major(st.Rdev)) == m.Major && int(unix.Minor(st.Rdev)) == m.Minor
	}
	return false
}

func errnoRC(err error) agent.RC {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return agent.ErrPerm
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENXIO):
		return agent.NotInstalled
	}
	return agent.ErrGeneric
}

// Start mounts the filesystem (OK if already mounted), creating the
// directory if needed.
func (a *Agent) Start(ctx context.Context, c agent.Call) agent.Result {
	cfg, err := a.check(c)
	if err != nil {
		return agent.FromError(err)
	}
	m, err := a.find(cfg)
	if err != nil {
		return agent.Failf(agent.ErrGeneric, "%v", err)
	}
	if m != nil {
		return agent.Result{RC: agent.OK}
	}
	if err := os.MkdirAll(cfg.directory, 0o755); err != nil {
		return agent.Failf(agent.ErrGeneric, "create mount point: %v", err)
	}
	dev := resolveDevice(cfg.device)
	flags := cfg.flags
	if cfg.bind {
		flags &^= unix.MS_RDONLY // a bind mount ignores ro: remount below
	}
	if err := a.d.Mounter.Mount(dev, cfg.directory, cfg.fstype, flags, cfg.data); err != nil {
		return agent.Failf(errnoRC(err), "mount %s on %s (%s): %v", cfg.device, cfg.directory, cfg.fstype, err)
	}
	if cfg.bind && cfg.readonly {
		rf := unix.MS_REMOUNT | unix.MS_BIND | cfg.flags&^(unix.MS_REC)
		if err := a.d.Mounter.Mount("", cfg.directory, "", rf, ""); err != nil {
			_ = a.d.Mounter.Unmount(cfg.directory, 0)
			return agent.Failf(agent.ErrGeneric, "remount bind mount %s read-only: %v", cfg.directory, err)
		}
	}
	if r := a.monitor(ctx, cfg); r.RC != agent.OK {
		return agent.Failf(agent.ErrGeneric, "mounted %s but monitor fails: %s", cfg.directory, r.Reason)
	}
	a.log.Info("filesystem mounted", "rsc", c.Resource, "device", cfg.device, "directory", cfg.directory)
	return agent.Result{RC: agent.OK}
}

// Monitor reports OK while the device is mounted on the directory (and,
// with statusfile_check, a file can be written and read back there),
// NotRunning when nothing is mounted there.
func (a *Agent) Monitor(ctx context.Context, c agent.Call) agent.Result {
	cfg, err := parseParams(c.Params)
	if err != nil {
		return agent.FromError(err)
	}
	if lvl, _ := strconv.Atoi(c.Params["OCF_CHECK_LEVEL"]); lvl >= 20 {
		cfg.statusChk = true
	}
	return a.monitor(ctx, cfg)
}

func (a *Agent) monitor(_ context.Context, cfg *config) agent.Result {
	m, err := a.find(cfg)
	if err != nil {
		return agent.Failf(agent.ErrGeneric, "%v", err)
	}
	if m == nil {
		return agent.Result{RC: agent.NotRunning, Reason: cfg.directory + " is not mounted"}
	}
	if cfg.statusChk {
		if err := a.probe(cfg); err != nil {
			return agent.Failf(agent.ErrGeneric, "status file check on %s: %v", cfg.directory, err)
		}
	}
	return agent.Result{RC: agent.OK}
}

// probe writes a small file inside the mount and reads it back (a
// read-only mount is only listed).
func (a *Agent) probe(cfg *config) error {
	if cfg.readonly {
		_, err := os.ReadDir(cfg.directory)
		return err
	}
	dir := filepath.Join(cfg.directory, ".Filesystem_status")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, strings.ReplaceAll(a.node, "/", "_"))
	want := []byte(fmt.Sprintf("gocrm %s %d\n", a.node, time.Now().UnixNano()))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(want); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	got, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return errors.New("read back different content")
	}
	return nil
}

// Stop unmounts the filesystem and every mount below it, killing the
// processes that keep them busy. It fails (rc 1) if the filesystem is
// still mounted when ctx ends.
func (a *Agent) Stop(ctx context.Context, c agent.Call) agent.Result {
	cfg, err := parseParams(c.Params)
	if err != nil {
		return agent.FromError(err)
	}
	force := c.Params["force_unmount"] == "" || isTrue(c.Params["force_unmount"])
	delay := DefaultSignalDelay
	if s := c.Params["signal_delay"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return agent.FromError(paramErr("signal_delay", s, agent.ErrNotConfigured, "want seconds"))
		}
		delay = time.Duration(n) * time.Second
	}
	ms, err := a.d.Table.Mounts()
	if err != nil {
		return agent.Failf(agent.ErrGeneric, "read mount table: %v", err)
	}
	mp := mountPoint(cfg.directory)
	var targets []string
	seen := map[string]bool{}
	for _, m := range ms {
		if under(m.MountPoint, mp) && !seen[m.MountPoint] {
			seen[m.MountPoint] = true
			targets = append(targets, m.MountPoint)
		}
	}
	if !seen[mp] {
		return agent.Result{RC: agent.OK}
	}
	// Deepest first: submounts keep the parent busy.
	sort.Slice(targets, func(i, j int) bool { return strings.Count(targets[i], "/") > strings.Count(targets[j], "/") })
	for _, t := range targets {
		if err := a.unmount(ctx, t, force, delay); err != nil {
			return agent.Failf(agent.ErrGeneric, "stop %s: %v", cfg.directory, err)
		}
	}
	a.log.Info("filesystem unmounted", "rsc", c.Resource, "directory", cfg.directory)
	return agent.Result{RC: agent.OK}
}

// mounted reports whether anything is mounted on mp.
func (a *Agent) mounted(mp string) (bool, error) {
	ms, err := a.d.Table.Mounts()
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m.MountPoint == mp {
			return true, nil
		}
	}
	return false, nil
}

// maxRoundsNoDeadline bounds the unmount attempts when ctx has no deadline.
const maxRoundsNoDeadline = 6

// unmount unmounts mp (every stacked mount on it), signalling its users
// when it is busy: SIGTERM in the first round, SIGKILL afterwards.
func (a *Agent) unmount(ctx context.Context, mp string, force bool, delay time.Duration) error {
	_, hasDeadline := ctx.Deadline()
	var lastErr error
	for round := 0; ; round++ {
		on, err := a.mounted(mp)
		if err != nil {
			return fmt.Errorf("read mount table: %w", err)
		}
		if !on {
			return nil
		}
		err = a.d.Mounter.Unmount(mp, 0)
		if err == nil {
			round = -1 // progress: a stacked mount may remain, start over
			continue
		}
		lastErr = err
		if !hasDeadline && round >= maxRoundsNoDeadline {
			break
		}
		if ctx.Err() != nil {
			break
		}
		if !errors.Is(err, unix.EBUSY) || !force {
			if !agent.Sleep(ctx, a.d.Poll) {
				break
			}
			continue
		}
		sig := syscall.SIGTERM
		if round > 0 {
			sig = syscall.SIGKILL
		}
		users, err := a.d.Procs.Users(mp)
		if err != nil {
			return fmt.Errorf("find processes using %s: %w", mp, err)
		}
		for _, pid := range users {
			a.log.Warn("signalling process using mount", "mount", mp, "pid", pid, "signal", sig.String())
			_ = a.d.Procs.Signal(pid, sig)
		}
		// Wait for them to exit, at most delay.
		wctx, cancel := context.WithTimeout(ctx, delay)
		for len(users) > 0 && agent.Sleep(wctx, a.d.Poll) {
			if users, err = a.d.Procs.Users(mp); err != nil {
				break
			}
		}
		cancel()
	}
	users, _ := a.d.Procs.Users(mp)
	return fmt.Errorf("cannot unmount %s: %w (processes still using it: %v)", mp, lastErr, users)
}

const metaData = `<?xml version="1.0"?>
<resource-agent name="Filesystem" version="1.0">
  <version>1.1</version>
  <longdesc lang="en">Mounts a filesystem with mount(2), monitors it through /proc/self/mountinfo and unmounts it on stop after terminating the processes that use it. A stop that cannot unmount fails, so the node gets fenced. Filesystems that need a mount helper (nfs, cifs, fuse) and the loop option are not supported.</longdesc>
  <shortdesc lang="en">Built-in filesystem mount agent</shortdesc>
  <parameters>
    <parameter name="device" required="1">
      <longdesc lang="en">Block device (or UUID=..., LABEL=..., a directory for bind mounts, or the source name of a virtual filesystem such as tmpfs).</longdesc>
      <shortdesc lang="en">Device</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="directory" required="1">
      <longdesc lang="en">Absolute path of the mount point; created if missing.</longdesc>
      <shortdesc lang="en">Mount point</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="fstype" required="1">
      <longdesc lang="en">Filesystem type; "none" with options=bind for bind mounts.</longdesc>
      <shortdesc lang="en">Filesystem type</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="options">
      <longdesc lang="en">Comma-separated mount options, as for mount -o.</longdesc>
      <shortdesc lang="en">Mount options</shortdesc>
      <content type="string" default=""/>
    </parameter>
    <parameter name="statusfile_check">
      <longdesc lang="en">Make every monitor write a small file in the mount and read it back (also done for OCF_CHECK_LEVEL 20).</longdesc>
      <shortdesc lang="en">Read/write probe</shortdesc>
      <content type="boolean" default="false"/>
    </parameter>
    <parameter name="force_unmount">
      <longdesc lang="en">Kill the processes that keep the mount busy on stop.</longdesc>
      <shortdesc lang="en">Kill users on stop</shortdesc>
      <content type="boolean" default="true"/>
    </parameter>
    <parameter name="signal_delay">
      <longdesc lang="en">Seconds to wait after signalling the users of a busy mount before escalating to SIGKILL.</longdesc>
      <shortdesc lang="en">Signal delay</shortdesc>
      <content type="integer" default="2"/>
    </parameter>
  </parameters>
  <actions>
    <action name="start" timeout="60s"/>
    <action name="stop" timeout="60s"/>
    <action name="monitor" timeout="40s" interval="20s" depth="0"/>
    <action name="validate-all" timeout="5s"/>
    <action name="meta-data" timeout="5s"/>
  </actions>
</resource-agent>
`

var _ agent.Agent = (*Agent)(nil)
