// Package ssh is a fence-device plugin that reboots or powers off a peer by
// running a command on it over ssh, like Pacemaker's external/ssh. It is
// meant for test clusters: a node that is hung or unreachable cannot be
// fenced this way, so it is never a safe production device.
//
// The plugin only builds argument vectors; running them is the job of an
// injected Runner (ExecRunner runs the ssh client without a shell; tests
// use a fake that records the argv and never contacts any host).
package ssh

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fsm"
)

// Type is the registry key of the plugin.
const Type = "ssh"

// Runner runs one command. Implementations must be safe for concurrent use
// and stop the command when ctx ends.
type Runner interface {
	// Run executes argv[0] with argv[1:] and returns its exit code; err
	// is non-nil only when the command could not run to completion.
	Run(ctx context.Context, argv []string) (exitCode int, output string, err error)
}

// ExitDisconnected is ssh's exit code when the connection dropped (which
// is what a successful "reboot -f" usually causes).
const ExitDisconnected = 255

// Default commands run on the target.
const (
	DefaultRebootCommand = "reboot -f"
	DefaultOffCommand    = "poweroff -f"
)

// Register adds the "ssh" plugin to reg using runner.
func Register(reg *stonith.Registry, runner Runner) error {
	if runner == nil {
		return errors.New("register ssh fence plugin: nil Runner")
	}
	return reg.Register(stonith.Plugin{
		Type:     Type,
		Strict:   true,
		MetaData: func(context.Context, string) (stonith.MetaData, error) { return metaData(), nil },
		New: func(_ context.Context, cfg stonith.Config) (stonith.Device, error) {
			return newDevice(cfg, runner)
		},
	})
}

func metaData() stonith.MetaData {
	return stonith.MetaData{
		Name:      Type,
		ShortDesc: "Reboot a peer over ssh (test clusters only)",
		LongDesc:  "Runs a reboot or power-off command on the target over ssh with key authentication. A hung or unreachable node cannot be fenced; do not rely on it in production.",
		Params: []stonith.ParamSpec{
			{Name: "hostlist", Type: "string", ShortDesc: "targets this device can fence (also the list action)"},
			{Name: "user", Type: "string", Default: "root", ShortDesc: "remote user"},
			{Name: "identity_file", Type: "string", ShortDesc: "private key file (ssh -i)"},
			{Name: "ssh_port", Type: "integer", Default: "22", ShortDesc: "ssh port"},
			{Name: "ssh_binary", Type: "string", Default: "/usr/bin/ssh", ShortDesc: "absolute path of the ssh client"},
			{Name: "connect_timeout", Type: "integer", Default: "5", ShortDesc: "ConnectTimeout in seconds"},
			{Name: "reboot_command", Type: "string", Default: DefaultRebootCommand, ShortDesc: "command run for reboot"},
			{Name: "off_command", Type: "string", Default: DefaultOffCommand, ShortDesc: "command run for off"},
		},
		Actions: []string{"reboot", "off", "status", "list", "monitor", "metadata"},
	}
}

// Device reboots peers over ssh. It is safe for concurrent use.
type Device struct {
	id             string
	spec           fsm.DeviceSpec
	runner         Runner
	hosts          []string
	user, identity string
	port           int
	binary         string
	connectTimeout int
	rebootCmd      string
	offCmd         string
}

var safeWord = func(s string) bool {
	return s != "" && !strings.HasPrefix(s, "-") && !strings.ContainsAny(s, " \t\r\n'\"`$;&|<>\\")
}

func newDevice(cfg stonith.Config, runner Runner) (*Device, error) {
	p := cfg.Params
	bad := func(param, msg string) error { return &fsm.ParamError{Device: cfg.ID, Param: param, Msg: msg} }
	d := &Device{id: cfg.ID, spec: cfg.Spec, runner: runner, hosts: fsm.ParseHostList(p.Get("hostlist")),
		user: "root", port: 22, binary: "/usr/bin/ssh", connectTimeout: 5,
		rebootCmd: DefaultRebootCommand, offCmd: DefaultOffCommand}
	if v, ok := p.Lookup("user"); ok {
		if !safeWord(v) {
			return nil, bad("user", "not a plain user name")
		}
		d.user = v
	}
	if v, ok := p.Lookup("identity_file"); ok {
		if !strings.HasPrefix(v, "/") {
			return nil, bad("identity_file", "must be an absolute path")
		}
		d.identity = v
	}
	if v, ok := p.Lookup("ssh_port"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return nil, bad("ssh_port", fmt.Sprintf("%q is not a port number", v))
		}
		d.port = n
	}
	if v, ok := p.Lookup("ssh_binary"); ok {
		if !strings.HasPrefix(v, "/") {
			return nil, bad("ssh_binary", "must be an absolute path")
		}
		d.binary = v
	}
	if v, ok := p.Lookup("connect_timeout"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, bad("connect_timeout", fmt.Sprintf("%q is not a positive number of seconds", v))
		}
		d.connectTimeout = n
	}
	if v, ok := p.Lookup("reboot_command"); ok {
		if strings.TrimSpace(v) == "" {
			return nil, bad("reboot_command", "empty")
		}
		d.rebootCmd = v
	}
	if v, ok := p.Lookup("off_command"); ok {
		if strings.TrimSpace(v) == "" {
			return nil, bad("off_command", "empty")
		}
		d.offCmd = v
	}
	for _, h := range append(d.hosts, cfg.Spec.StaticTargets()...) {
		if !safeWord(cfg.Spec.Port(h)) {
			return nil, bad("hostlist", fmt.Sprintf("host %q is not a plain host name", h))
		}
	}
	return d, nil
}

// Argv returns the ssh argument vector that runs command on target's host
// (its pcmk_host_map entry, or the node name).
func (d *Device) Argv(target, command string) ([]string, error) {
	host := d.spec.Port(target)
	if !safeWord(host) {
		return nil, fmt.Errorf("ssh fence %s: host %q: %w", target, host, stonith.ErrCannotFence)
	}
	argv := []string{d.binary,
		"-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "ConnectTimeout=" + strconv.Itoa(d.connectTimeout),
		"-p", strconv.Itoa(d.port)}
	if d.identity != "" {
		argv = append(argv, "-i", d.identity)
	}
	return append(argv, "-l", d.user, "--", host, command), nil
}

// Fence implements stonith.Device. reboot and off succeed when the command
// exits 0 or the connection drops (exit 255 after the command started is
// indistinguishable from a failed connection, so a status check follows:
// the target must then be unreachable).
func (d *Device) Fence(ctx context.Context, target string, action stonith.Action) error {
	var cmd string
	switch action {
	case stonith.ActionReboot:
		cmd = d.rebootCmd
	case stonith.ActionOff:
		cmd = d.offCmd
	default:
		return fmt.Errorf("ssh fence %s %s: %w", action, target, stonith.ErrNotSupported)
	}
	argv, err := d.Argv(target, cmd)
	if err != nil {
		return err
	}
	rc, out, err := d.runner.Run(ctx, argv)
	if err != nil {
		return fmt.Errorf("ssh fence %s %s: %w", action, target, err)
	}
	switch rc {
	case 0:
		return nil
	case ExitDisconnected:
		// Did the command run (host gone) or did we never connect?
		if st, serr := d.Status(ctx, target); serr == nil && st == stonith.PowerOn {
			return fmt.Errorf("ssh fence %s %s: connection failed and host still answers: %w", action, target, stonith.ErrFailed)
		}
		return nil
	}
	return fmt.Errorf("ssh fence %s %s: exit code %d: %s: %w", action, target, rc, strings.TrimSpace(out), stonith.ErrFailed)
}

// Status implements stonith.Device: on if "true" runs on the host; off is
// never certain over ssh, so an unreachable host is PowerUnknown with an error.
func (d *Device) Status(ctx context.Context, target string) (stonith.PowerState, error) {
	argv, err := d.Argv(target, "true")
	if err != nil {
		return stonith.PowerUnknown, err
	}
	rc, _, err := d.runner.Run(ctx, argv)
	if err == nil && rc == 0 {
		return stonith.PowerOn, nil
	}
	if err == nil {
		err = fmt.Errorf("exit code %d: %w", rc, stonith.ErrFailed)
	}
	return stonith.PowerUnknown, fmt.Errorf("ssh status %s: %w", target, err)
}

// List implements stonith.Device (the hostlist parameter).
func (d *Device) List(context.Context) ([]string, error) {
	if len(d.hosts) == 0 {
		return nil, fmt.Errorf("ssh list: no hostlist configured: %w", stonith.ErrNotSupported)
	}
	return append([]string(nil), d.hosts...), nil
}

// Monitor implements stonith.Device: the ssh client must be usable (no
// remote host is contacted).
func (d *Device) Monitor(ctx context.Context) error {
	rc, out, err := d.runner.Run(ctx, []string{d.binary, "-V"})
	if err != nil {
		return fmt.Errorf("ssh monitor: %w", err)
	}
	if rc != 0 {
		return fmt.Errorf("ssh monitor: %s -V exit code %d: %s: %w", d.binary, rc, strings.TrimSpace(out), stonith.ErrNotInstalled)
	}
	return nil
}

// MetaData implements stonith.Device.
func (d *Device) MetaData(context.Context) (stonith.MetaData, error) { return metaData(), nil }

// ExecRunner runs commands directly (no shell) in their own process group,
// SIGKILLed as a whole when ctx ends.
type ExecRunner struct {
	// WaitDelay bounds output reading after exit (2s if zero).
	WaitDelay time.Duration
}

// Run implements Runner.
func (r ExecRunner) Run(ctx context.Context, argv []string) (int, string, error) {
	if len(argv) == 0 || !strings.HasPrefix(argv[0], "/") {
		return 0, "", errors.New("run: argv[0] must be an absolute path")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = r.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 2 * time.Second
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return 0, string(out), fmt.Errorf("%w: %w", stonith.ErrTimeout, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return ee.ExitCode(), string(out), nil
	}
	if err != nil {
		return 0, string(out), err
	}
	return 0, string(out), nil
}
