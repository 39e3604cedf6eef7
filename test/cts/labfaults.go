package cts

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/internal/atomicfile"
)

// ---- packet loss (netns mode, iptables) ----

// Loss makes a node drop a random share pct (1-99) of the packets it
// receives and sends on its lab interface: iptables statistic rules in its
// namespace (tc netem, which could add delay as well, needs the sch_netem
// kernel module; see HasNetem). Heal removes them.
func (l *Lab) Loss(name string, pct int) error {
	n := l.node(name)
	if !l.netns || n == nil {
		return errors.New("lab: packet loss needs netns mode")
	}
	if pct <= 0 || pct >= 100 {
		return fmt.Errorf("lab: loss %d%% out of range", pct)
	}
	p := strconv.FormatFloat(float64(pct)/100, 'f', 2, 64)
	l.mu.Lock()
	n.lossy = true
	l.mu.Unlock()
	for _, rule := range [][]string{
		{"INPUT", "-i", nodeNIC},
		{"OUTPUT", "-o", nodeNIC},
	} {
		args := append([]string{"netns", "exec", n.ns, "iptables", "-w", "-A"}, rule...)
		args = append(args, "-m", "statistic", "--mode", "random", "--probability", p, "-j", "DROP")
		if err := run("ip", args...); err != nil {
			return fmt.Errorf("lab: packet loss on %s: %w", name, err)
		}
	}
	return nil
}

// ---- clock jumps (crm/daemon/ctsclock.go) ----

// clockFileEnv names the file from which a sandboxed crmd reads its wall
// clock offset (see crm/daemon/ctsclock.go; honoured only with
// GOCRM_SANDBOX_DIR set, which the lab sets).
const clockFileEnv = "GOCRM_CTS_CLOCK_FILE"

// clockFile is a node's clock offset file; it lives beside (not in) the
// node's data directory, whose tmpfs a disk-full fault may fill.
func (l *Lab) clockFile(name string) string {
	return filepath.Join(l.sb.NodeDir(name), "cts-clock-offset")
}

// SetClockOffset sets a node's wall clock to the host clock plus off (its
// crmd notices within 100 ms); 0 puts it back.
func (l *Lab) SetClockOffset(name string, off time.Duration) error {
	if l.node(name) == nil {
		return fmt.Errorf("lab: unknown node %s", name)
	}
	if err := atomicfile.Write(l.clockFile(name), []byte(off.String()+"\n"), 0o640); err != nil {
		return fmt.Errorf("lab: clock offset of %s: %w", name, err)
	}
	return nil
}

// ---- the web server (ocf:gocrm:httpd) ----

// webRsc is the campaign's web server resource, grouped with the VIP.
const webRsc = "www"

// webPID returns the pid of the web server the httpd agent runs on a node
// (from the agent's state file "PID STARTTIME", checked against /proc), or
// 0 when none runs.
func (l *Lab) webPID(name string) int {
	b, err := os.ReadFile(filepath.Join(l.dataDir(name), "lrm", "agents", "gocrm-httpd", webRsc+".pid"))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(st), ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(st[i+1:]))
	// fields[0] is the state, fields[19] the start time (stat field 22).
	if len(fields) < 20 || fields[0] == "Z" || fields[0] == "X" || fields[19] != f[1] {
		return 0
	}
	return pid
}

// killNamespace SIGKILLs every process left in a node's namespace (its
// services, once its crmd is gone: a powered-off node runs nothing).
func (l *Lab) killNamespace(n *labNode) {
	out, err := runOut("ip", "netns", "pids", n.ns)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// runOut runs a command and returns its standard output.
func runOut(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return string(out), nil
}
