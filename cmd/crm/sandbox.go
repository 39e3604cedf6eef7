package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/crm/sandbox"
)

func init() {
	register(&command{
		name:    "sandbox",
		summary: "run a local test cluster of crmd processes on 127.0.0.1",
		run:     runSandbox,
	})
}

const sandboxUsage = `usage: crm sandbox up --nodes N --dir DIR [--timeout 60s] [--two-node-mode] [--no-fence-device]
       (--two-node-mode needs --nodes 2: fence delays favour n1; --no-fence-device
        configures no fence device, so two-node-mode is refused)
       crm sandbox start --dir DIR NODE     (re)start one node
       crm sandbox stop --dir DIR NODE      stop one node (SIGTERM)
       crm sandbox kill --dir DIR NODE      kill one node (SIGKILL, like a crash)
       crm sandbox status --dir DIR         which nodes run, with their sockets
       crm sandbox down --dir DIR [--purge] stop every node; --purge also removes what "up" created
The crmd binary is $CRMD, else crmd next to this crm binary.
Use a node with: crm --socket DIR/n1/crmd.sock ... or CRM_SOCKET=DIR/n1/crmd.sock crm ...
`

// crmdBinary finds crmd: $CRMD, else next to the running crm binary.
func crmdBinary() (string, error) {
	if p := os.Getenv("CRMD"); p != "" {
		return filepath.Abs(p)
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locate crmd: %w", err)
	}
	p := filepath.Join(filepath.Dir(self), "crmd")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("crmd not found next to %s (set CRMD): %w", self, err)
	}
	return p, nil
}

func runSandbox(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, sandboxUsage)
		return exitUsage
	}
	sub := args[0]
	var dir string
	nodes := 0
	purge := false
	twoNode, noDevice := false, false
	timeout := 60 * time.Second
	var pos []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		name, value, has := strings.Cut(a, "=")
		needValue := func() bool {
			if has {
				return true
			}
			if i+1 >= len(args) {
				return false
			}
			i++
			value = args[i]
			return true
		}
		switch name {
		case "--dir", "--nodes", "--timeout":
			if !needValue() {
				fmt.Fprintf(e.stderr, "crm sandbox: %s needs a value\n", name)
				return exitUsage
			}
			switch name {
			case "--dir":
				dir = value
			case "--nodes":
				n, err := strconv.Atoi(value)
				if err != nil || n < 1 || n > 32 {
					fmt.Fprintf(e.stderr, "crm sandbox: --nodes must be 1..32, not %q\n", value)
					return exitUsage
				}
				nodes = n
			default:
				d, err := time.ParseDuration(value)
				if err != nil {
					fmt.Fprintf(e.stderr, "crm sandbox: --timeout: %v\n", err)
					return exitUsage
				}
				timeout = d
			}
		case "--purge":
			purge = true
		case "--two-node-mode":
			twoNode = true
		case "--no-fence-device":
			noDevice = true
		default:
			if strings.HasPrefix(a, "-") {
				fmt.Fprintf(e.stderr, "crm sandbox: unknown option %s\n%s", a, sandboxUsage)
				return exitUsage
			}
			pos = append(pos, a)
		}
	}
	if dir == "" {
		fmt.Fprintf(e.stderr, "crm sandbox: --dir is required\n%s", sandboxUsage)
		return exitUsage
	}
	switch sub {
	case "up":
		if nodes == 0 || len(pos) > 0 {
			fmt.Fprintf(e.stderr, "crm sandbox up: needs --nodes N and no other argument\n")
			return exitUsage
		}
		bin, err := crmdBinary()
		if err != nil {
			return fail(e, "sandbox up", err)
		}
		start := time.Now()
		s, dc, err := sandbox.Up(e.ctx, sandbox.Config{Dir: dir, Nodes: nodes, CRMD: bin, Logger: e.log,
			TwoNodeMode: twoNode, NoFenceDevice: noDevice}, timeout)
		if err != nil {
			if s != nil {
				fmt.Fprintf(e.stderr, "crm sandbox up: logs in %s/n*/crmd.log; stop with: crm sandbox down --dir %s\n", s.Dir(), s.Dir())
			}
			return fail(e, "sandbox up", err)
		}
		what := "fence device fence-sandbox configured"
		switch {
		case twoNode:
			what = "two-node-mode with fence device fence-sandbox (delays favour n1)"
		case noDevice:
			what = "no fence device"
		}
		fmt.Fprintf(e.stdout, "sandbox %s: %d nodes up in %s, DC %s, %s\n", s.Dir(), nodes, time.Since(start).Round(10*time.Millisecond), dc, what)
		printSandbox(e, s)
		return exitOK
	case "start", "stop", "kill":
		if len(pos) != 1 {
			fmt.Fprintf(e.stderr, "crm sandbox %s: needs exactly one NODE\n", sub)
			return exitUsage
		}
		s, err := sandbox.Open(dir, e.log)
		if err != nil {
			return fail(e, "sandbox "+sub, err)
		}
		switch sub {
		case "start":
			err = s.Start(e.ctx, pos[0])
		case "stop":
			err = s.Stop(e.ctx, pos[0], timeout)
		default:
			err = s.Kill(e.ctx, pos[0])
		}
		if err != nil {
			return fail(e, "sandbox "+sub, err)
		}
		return exitOK
	case "status":
		s, err := sandbox.Open(dir, e.log)
		if err != nil {
			return fail(e, "sandbox status", err)
		}
		printSandbox(e, s)
		return exitOK
	case "down":
		s, err := sandbox.Open(dir, e.log)
		if err != nil {
			return fail(e, "sandbox down", err)
		}
		if err := s.Down(e.ctx, timeout); err != nil {
			return fail(e, "sandbox down", err)
		}
		if purge {
			if err := s.Purge(); err != nil {
				return fail(e, "sandbox down", err)
			}
		}
		return exitOK
	}
	fmt.Fprintf(e.stderr, "crm sandbox: unknown command %q\n%s", sub, sandboxUsage)
	return exitUsage
}

func printSandbox(e *env, s *sandbox.Sandbox) {
	for _, n := range s.Nodes() {
		state := "stopped"
		if pid, err := s.PID(n); err == nil {
			state = "running pid " + strconv.Itoa(pid)
		}
		fmt.Fprintf(e.stdout, "  %s  %-18s socket %s  log %s\n", n, state, s.Socket(n), s.LogFile(n))
	}
}
