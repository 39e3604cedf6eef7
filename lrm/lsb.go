package lrm

import (
	"bufio"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gocrm/gocrm/agents/agent"
)

// DefaultInitDir is where LSB init scripts live.
const DefaultInitDir = "/etc/init.d"

// LSBExecutor runs LSB init scripts, INITDIR/NAME ACTION, with only PATH in
// the environment. "monitor" runs the script's "status" action and its exit
// code is translated with the LSB status rules (LSBStatusRC); the other
// actions use the LSB codes 0-7, which coincide with OCF's.
//
// An LSBExecutor is immutable after construction and safe for concurrent use.
type LSBExecutor struct {
	// InitDir holds the scripts (DefaultInitDir if empty).
	InitDir string
	Proc    ProcOptions
}

func (e *LSBExecutor) dir() string {
	if e.InitDir == "" {
		return DefaultInitDir
	}
	return e.InitDir
}

// LSB status exit codes (LSB Core, "Init Script Actions").
const (
	lsbStatusOK           = 0
	lsbStatusDeadPID      = 1 // program dead, /var/run pid file exists
	lsbStatusDeadLock     = 2 // program dead, /var/lock lock file exists
	lsbStatusNotRunning   = 3
	lsbStatusNotInstalled = 150 // Pacemaker's extension
	lsbStatusNoPrivilege  = 151 // Pacemaker's extension
)

// LSBStatusRC maps the exit code of an LSB "status" action to an OCF code
// exactly as Pacemaker does: 0 running -> OK; 1, 2 (dead with a stale pid
// or lock file) and 3 (stopped) -> NotRunning; 150 -> NotInstalled;
// 151 -> ErrPerm; 4 (unknown) and anything else -> ErrGeneric.
func LSBStatusRC(code int) agent.RC {
	switch code {
	case lsbStatusOK:
		return agent.OK
	case lsbStatusDeadPID, lsbStatusDeadLock, lsbStatusNotRunning:
		return agent.NotRunning
	case lsbStatusNotInstalled:
		return agent.NotInstalled
	case lsbStatusNoPrivilege:
		return agent.ErrPerm
	default:
		return agent.ErrGeneric
	}
}

// LSBActionRC maps the exit code of a non-status LSB action: 0-7 mean the
// same as in OCF, anything else is a generic error.
func LSBActionRC(code int) agent.RC {
	if code < 0 || code > int(agent.NotRunning) {
		return agent.ErrGeneric
	}
	return agent.RC(code)
}

// Exec runs the action.
func (e *LSBExecutor) Exec(ctx context.Context, a Action) Result {
	name := a.Rsc.Agent.Type
	if !safeName(name) {
		return Result{RC: agent.NotInstalled, Status: StatusNotInstalled,
			Reason: fmt.Sprintf("invalid init script name %q", name)}
	}
	if !filepath.IsAbs(e.dir()) {
		return Result{RC: agent.NotInstalled, Status: StatusInvalid,
			Reason: fmt.Sprintf("init directory %q is not an absolute path", e.dir())}
	}
	path := filepath.Join(e.dir(), name)
	var action string
	mapRC := LSBActionRC
	switch a.Op {
	case OpStart, OpStop:
		action = a.Op
	case OpMonitor:
		action, mapRC = "status", LSBStatusRC
	case OpReload:
		action = "force-reload"
	case OpValidate:
		if _, err := os.Stat(path); err != nil {
			return Result{RC: agent.NotInstalled, Status: StatusNotInstalled, Reason: err.Error()}
		}
		return Result{RC: agent.OK, Status: StatusDone}
	case OpMetaData:
		md, err := lsbMetaData(path, name)
		if err != nil {
			return Result{RC: agent.NotInstalled, Status: StatusNotInstalled, Reason: err.Error()}
		}
		return Result{RC: agent.OK, Status: StatusDone, Output: md}
	default:
		return Result{RC: agent.Unimplemented, Status: StatusNotSupported,
			Reason: fmt.Sprintf("LSB scripts do not support %q", a.Op)}
	}
	env := []string{"PATH=" + e.Proc.path()}
	return outcomeResult(runProcess(ctx, e.Proc, path, []string{action}, env), mapRC)
}

// lsbMetaData builds OCF-style meta-data from the script's LSB header
// (the "### BEGIN INIT INFO" block).
func lsbMetaData(path, name string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read init script %s: %w", path, err)
	}
	defer f.Close()
	var short, long string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### BEGIN INIT INFO"):
			in = true
		case strings.HasPrefix(line, "### END INIT INFO"):
			in = false
		case in:
			if v, ok := strings.CutPrefix(line, "# Short-Description:"); ok {
				short = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(line, "# Description:"); ok {
				long = strings.TrimSpace(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read init script %s: %w", path, err)
	}
	return classMetaData(name, "lsb", short, long), nil
}

// classMetaData renders minimal meta-data for non-OCF classes.
func classMetaData(name, class, short, long string) string {
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	if short == "" {
		short = name
	}
	if long == "" {
		long = short
	}
	return fmt.Sprintf(`<?xml version="1.0"?>
<resource-agent name="%s" version="0.1">
  <version>1.1</version>
  <longdesc lang="en">%s</longdesc>
  <shortdesc lang="en">%s</shortdesc>
  <parameters/>
  <actions>
    <action name="start" timeout="100s"/>
    <action name="stop" timeout="100s"/>
    <action name="monitor" timeout="100s" interval="60s"/>
    <action name="meta-data" timeout="5s"/>
  </actions>
  <special tag="%s"/>
</resource-agent>
`, esc(name), esc(long), esc(short), esc(class))
}
