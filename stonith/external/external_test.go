package external_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/external"
	"github.com/gocrm/gocrm/stonith/fsm"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// agentScript is a fence-agents style test agent: it reads key=value lines
// on stdin, supports -o metadata, and keeps each port's power state in a
// file next to itself. Agents whose name ends in "plug" declare the "plug"
// host argument instead of "port".
const agentScript = `#!/bin/sh
dir=$(dirname "$0")
name=$(basename "$0")
hostarg=port
case "$name" in *plug) hostarg=plug;; esac
metadata() {
cat <<XML
<?xml version="1.0" ?>
<resource-agent name="$name" shortdesc="gocrm test fence agent">
<longdesc>Test agent speaking the fence-agents stdin protocol.</longdesc>
<parameters>
	<parameter name="action" unique="0" required="1">
		<getopt mixed="-o, --action=[action]" />
		<content type="string" default="reboot" />
		<shortdesc lang="en">Fencing action</shortdesc>
	</parameter>
	<parameter name="ipaddr" unique="0" required="1">
		<getopt mixed="-a, --ip=[ip]" />
		<content type="string" />
		<shortdesc lang="en">IP address or hostname of fencing device</shortdesc>
	</parameter>
	<parameter name="login" unique="0" required="0">
		<content type="string" />
		<shortdesc lang="en">Login name</shortdesc>
	</parameter>
	<parameter name="passwd" unique="0" required="0">
		<content type="string" />
		<shortdesc lang="en">Login password or passphrase</shortdesc>
	</parameter>
	<parameter name="$hostarg" unique="0" required="1">
		<content type="string" />
		<shortdesc lang="en">Physical plug number or name</shortdesc>
	</parameter>
	<parameter name="fail" unique="0" required="0">
		<content type="string" />
		<shortdesc lang="en">Port whose fencing fails (test only)</shortdesc>
	</parameter>
	<parameter name="hang" unique="0" required="0">
		<content type="boolean" />
		<shortdesc lang="en">Hang in reboot (test only)</shortdesc>
	</parameter>
</parameters>
<actions>
	<action name="on" automatic="0"/>
	<action name="off" />
	<action name="reboot" />
	<action name="status" />
	<action name="list" />
	<action name="monitor" />
	<action name="metadata" />
</actions>
</resource-agent>
XML
}
if [ "$1" = "-o" ] && [ "$2" = "metadata" ]; then metadata; exit 0; fi
[ $# -eq 0 ] || { echo "unexpected arguments: $*" >&2; exit 1; }
action= port= plug= passwd= fail= hang= nodename= ipaddr=
: > "$dir/stdin.$$"
while IFS= read -r line; do
	printf '%s\n' "$line" >> "$dir/stdin.$$"
	key=${line%%=*}; val=${line#*=}
	case "$key" in
	action) action=$val;; port) port=$val;; plug) plug=$val;; passwd) passwd=$val;;
	fail) fail=$val;; hang) hang=$val;; nodename) nodename=$val;; ipaddr) ipaddr=$val;;
	esac
done
mv "$dir/stdin.$$" "$dir/stdin.last"
[ -n "$plug" ] && port=$plug
[ -n "$ipaddr" ] || { echo "ipaddr missing" >&2; exit 1; }
state="$dir/state.$port"
case "$action" in
off|reboot|on|cycle)
	if [ -n "$fail" ] && [ "$port" = "$fail" ]; then echo "login as admin with password $passwd rejected" >&2; exit 1; fi
	if [ "$hang" = "1" ]; then sleep 300 & echo $! > "$dir/child.pid"; wait; fi
	case "$action" in off) echo off > "$state";; *) echo on > "$state";; esac
	echo "$action $port $nodename" >> "$dir/actions";;
status)
	[ -f "$state" ] && [ "$(cat "$state")" = off ] && exit 2
	exit 0;;
list) printf 'node1,alias-1\nnode2\n\nnode3,\n';;
monitor) exit 0;;
*) echo "unknown action $action" >&2; exit 1;;
esac
exit 0
`

func installAgent(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(agentScript), 0o755); err != nil {
		t.Fatal(err)
	}
}

func setup(t *testing.T) (string, *stonith.Registry) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("skipping: /bin/sh is needed to run the test fence agent")
	}
	dir := t.TempDir()
	installAgent(t, dir, "fence_gocrmtest")
	installAgent(t, dir, "fence_gocrmplug")
	reg := stonith.NewRegistry()
	external.Register(reg, external.Options{Dirs: []string{dir}, WaitDelay: 200 * time.Millisecond})
	return dir, reg
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExternalProtocol(t *testing.T) {
	dir, reg := setup(t)
	ctx := context.Background()
	c, err := reg.Configure(ctx, "pdu", "stonith:fence_gocrmtest", map[string]string{
		"ipaddr": "192.0.2.10", "login": "admin", "passwd": "pw-very-secret",
		"pcmk_host_map": "n1:plug1;n2:plug2", "pcmk_reboot_action": "cycle",
	}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Device.Fence(ctx, "n1", stonith.ActionReboot); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, filepath.Join(dir, "stdin.last"))
	wantLines := "ipaddr=192.0.2.10\nlogin=admin\npasswd=pw-very-secret\naction=cycle\nport=plug1\nnodename=n1\n"
	if got != wantLines {
		t.Errorf("stdin:\n%s\nwant:\n%s", got, wantLines)
	}
	if err := c.Device.Fence(ctx, "n2", stonith.ActionOff); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Device.Status(ctx, "n2"); err != nil || st != stonith.PowerOff {
		t.Errorf("status n2: %v %v", st, err)
	}
	if st, err := c.Device.Status(ctx, "n1"); err != nil || st != stonith.PowerOn {
		t.Errorf("status n1: %v %v", st, err)
	}
	if got := readFile(t, filepath.Join(dir, "actions")); got != "cycle plug1 n1\noff plug2 n2\n" {
		t.Errorf("actions log %q", got)
	}
	l, err := c.Device.List(ctx)
	if err != nil || !reflect.DeepEqual(l, []string{"node1", "node2", "node3"}) {
		t.Errorf("list %v %v", l, err)
	}
	if err := c.Device.Monitor(ctx); err != nil {
		t.Error(err)
	}
	if err := c.Device.Fence(ctx, "n1", stonith.ActionStatus); !errors.Is(err, stonith.ErrNotSupported) {
		t.Errorf("status as fence action: %v", err)
	}

	// The plug-only agent gets plug= instead of port=.
	p, err := reg.Configure(ctx, "pp", "fence_gocrmplug", map[string]string{"ipaddr": "a"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Device.Fence(ctx, "n7", stonith.ActionOn); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "stdin.last")); got != "ipaddr=a\naction=on\nplug=n7\nnodename=n7\n" {
		t.Errorf("plug stdin %q", got)
	}
}

func TestExternalMetadata(t *testing.T) {
	_, reg := setup(t)
	ctx := context.Background()
	c, err := reg.Configure(ctx, "pdu", "fence_gocrmtest", map[string]string{"ipaddr": "x"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Device.MetaData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "fence_gocrmtest" || m.ShortDesc != "gocrm test fence agent" || !strings.Contains(m.LongDesc, "stdin protocol") {
		t.Errorf("metadata header %+v", m)
	}
	ip, ok := m.Param("ipaddr")
	pw, ok2 := m.Param("passwd")
	act, ok3 := m.Param("action")
	if !ok || !ok2 || !ok3 || !ip.Required || ip.Secret || !pw.Secret || act.Default != "reboot" {
		t.Errorf("params ipaddr=%+v passwd=%+v action=%+v", ip, pw, act)
	}
	if !reflect.DeepEqual(m.Actions, []string{"on", "off", "reboot", "status", "list", "monitor", "metadata"}) {
		t.Errorf("actions %v", m.Actions)
	}
	if _, err := external.ParseMetaData([]byte("<resource-agent><parameters>")); !errors.Is(err, external.ErrBadMetaData) {
		t.Errorf("bad XML: %v", err)
	}
}

func TestExternalValidation(t *testing.T) {
	_, reg := setup(t)
	ctx := context.Background()
	_, err := reg.Configure(ctx, "pdu", "fence_gocrmtest", map[string]string{"login": "admin"}, 0, nil)
	var pe *fsm.ParamError
	if !errors.As(err, &pe) || pe.Param != "ipaddr" {
		t.Errorf("missing required ipaddr: %v", err)
	}
	_, err = reg.Configure(ctx, "pdu", "fence_gocrmtest", map[string]string{"ipaddr": "a", "login": "x\naction=off"}, 0, nil)
	if !errors.As(err, &pe) || pe.Param != "login" || strings.Contains(err.Error(), "action=off") {
		t.Errorf("line break injection: %v", err)
	}
	_, err = reg.Configure(ctx, "pdu", "fence_gocrmtest", map[string]string{"ipaddr": "a", "port": "3"}, 0, nil)
	if !errors.As(err, &pe) || pe.Param != "port" {
		t.Errorf("user-set port: %v", err)
	}
	if _, err := reg.Configure(ctx, "x", "fence_missing", map[string]string{}, 0, nil); !errors.Is(err, stonith.ErrNotInstalled) {
		t.Errorf("missing agent: %v", err)
	}
	for _, bad := range []string{"fence_../../bin/sh", "fence_", "/usr/sbin/fence_x"} {
		if _, err := (external.Options{}).Resolve(bad); err == nil {
			t.Errorf("Resolve(%q) accepted", bad)
		}
	}
}

func TestExternalFailureMasksSecret(t *testing.T) {
	_, reg := setup(t)
	ctx := context.Background()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := reg.Configure(ctx, "pdu", "fence_gocrmtest", map[string]string{"ipaddr": "a", "passwd": "hunter2hunter2", "fail": "n1"}, 0, logger)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Device.Fence(ctx, "n1", stonith.ActionOff)
	if err == nil || !errors.Is(err, stonith.ErrFailed) || !strings.Contains(err.Error(), "exit code 1") {
		t.Fatalf("want failure, got %v", err)
	}
	if strings.Contains(err.Error(), "hunter2hunter2") || !strings.Contains(err.Error(), "rejected") {
		t.Errorf("error leaks the password or lost the agent's message: %v", err)
	}
	logger.Info("device", "dev", c, "err", err)
	if !strings.Contains(logs.String(), "fence agent ran") || strings.Contains(logs.String(), "hunter2hunter2") {
		t.Errorf("logs leak the password or miss the agent run:\n%s", logs.String())
	}
	if strings.Contains(c.String(), "hunter2hunter2") || !strings.Contains(c.String(), "passwd="+stonith.Mask) {
		t.Errorf("String: %s", c)
	}
}

func TestExternalTimeoutKillsProcessGroup(t *testing.T) {
	dir, reg := setup(t)
	c, err := reg.Configure(context.Background(), "pdu", "fence_gocrmtest", map[string]string{"ipaddr": "a", "hang": "1"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err = c.Device.Fence(ctx, "n1", stonith.ActionReboot)
	if !errors.Is(err, stonith.ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	if el := time.Since(begin); el > 5*time.Second {
		t.Errorf("timeout took %v", el)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(dir, "child.pid"))))
	if err != nil {
		t.Fatal(err)
	}
	// The agent's child (sleep 300) must be gone or a zombie awaiting its reaper.
	deadline := time.Now().Add(2 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			break
		}
		f := strings.Fields(string(b))
		if len(f) > 2 && f[2] == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent child %d survived the timeout: %s", pid, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFenceDummyOracle drives the real fence-agents fence_dummy when it is
// installed (Debian package fence-agents).
func TestFenceDummyOracle(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/fence_dummy"); err != nil {
		t.Skip("skipping: /usr/sbin/fence_dummy not installed (apt-get install fence-agents)")
	}
	reg := stonith.NewRegistry()
	external.Register(reg, external.Options{})
	ctx := context.Background()
	status := filepath.Join(t.TempDir(), "status")
	c, err := reg.Configure(ctx, "dummy", "fence_dummy", map[string]string{"type": "file", "status_file": status,
		"pcmk_host_argument": "none", "pcmk_host_list": "n1"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Device.MetaData(ctx)
	if err != nil || m.Name != "fence_dummy" {
		t.Fatalf("metadata %v %v", m.Name, err)
	}
	if err := c.Device.Fence(ctx, "n1", stonith.ActionOn); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Device.Status(ctx, "n1"); err != nil || st != stonith.PowerOn {
		t.Errorf("after on: %v %v", st, err)
	}
	if err := c.Device.Fence(ctx, "n1", stonith.ActionOff); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Device.Status(ctx, "n1"); err != nil || st != stonith.PowerOff {
		t.Errorf("after off: %v %v", st, err)
	}
	if err := c.Device.Monitor(ctx); err != nil {
		t.Errorf("monitor: %v", err)
	}
	if _, err := c.Device.List(ctx); err == nil {
		t.Error("fence_dummy has no list action; want an error")
	}
}
