package netlab

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// nodeInit is a lab node's "init" (the test binary run as `netlab-node
// CRMD ARGS...` inside the node's namespaces): it gives the node a
// private /run (a tmpfs, like a booted machine: resource agents keep pid
// files in /run, which the three nodes would otherwise share), becomes
// the child subreaper of everything crmd starts and reaps orphans at
// once (as a real init does; this host's PID 1 reaps them about a second
// late, which would add to every stop of a daemonising agent), forwards
// SIGTERM and SIGINT to crmd and exits with crmd's status.
func nodeInit(argv []string) int {
	if err := unix.Mount("tmpfs", "/run", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=16m"); err != nil {
		fmt.Fprintln(os.Stderr, "netlab-node: private /run:", err)
		return 1
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "netlab-node: subreaper:", err)
		return 1
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "netlab-node: start crmd:", err)
		return 1
	}
	go func() { // forwards signals; ends with the process
		for s := range sigs {
			_ = syscall.Kill(pid, s.(syscall.Signal))
		}
	}()
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "netlab-node: wait:", err)
			return 1
		}
		if got == pid {
			if ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ws.ExitStatus()
		}
	}
}
