package httpd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperArg as os.Args[1] turns the test binary into the tiny server the
// tests manage (see helperMain).
const helperArg = "httpd-test-helper"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == helperArg {
		os.Exit(helperMain(os.Args[2:]))
	}
	goleak.VerifyTestMain(m)
}

// helperMain is a small HTTP server:
//
//	-listen ADDR     serve on ADDR ("" = no server): / answers -status,
//	                 /redirect answers 302 to a closed loopback port
//	-ignore-term     ignore SIGTERM
//	-spawn-child     start an idle copy of itself in the same process group
//	-pidfile F       write own pid to F
//	-daemonize F     start a detached copy (new session) that writes pid file F, then exit 0
func helperMain(args []string) int {
	fs := flag.NewFlagSet(helperArg, flag.ContinueOnError)
	listen := fs.String("listen", "", "")
	status := fs.Int("status", 200, "")
	ignoreTerm := fs.Bool("ignore-term", false, "")
	spawn := fs.Bool("spawn-child", false, "")
	pidfile := fs.String("pidfile", "", "")
	daemonize := fs.String("daemonize", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	if *daemonize != "" {
		cmd := exec.Command(self, helperArg, "-listen", *listen, "-status", strconv.Itoa(*status), "-pidfile", *daemonize)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "helper: daemonize:", err)
			return 1
		}
		// Like a classic daemon: parent waits for the pid file, then exits.
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(*daemonize); err == nil {
				return 0
			}
			time.Sleep(20 * time.Millisecond)
		}
		return 1
	}
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}
	if *spawn {
		args := []string{helperArg}
		if *ignoreTerm {
			args = append(args, "-ignore-term")
		}
		cmd := exec.Command(self, args...) // inherits our process group
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "helper: spawn:", err)
			return 1
		}
		fmt.Printf("child %d\n", cmd.Process.Pid)
	}
	if *pidfile != "" {
		if err := os.WriteFile(*pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return 1
		}
	}
	if *listen == "" {
		select {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(*status) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/", http.StatusFound)
	})
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	err = srv.ListenAndServe()
	fmt.Fprintln(os.Stderr, "helper: serve:", err)
	return 1
}

// freePort returns a currently unused loopback port.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func selfBinary(t *testing.T) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitGone waits until pid no longer runs (zombies count as gone).
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		st, err := readStat("/proc", pid)
		if err != nil || !st.live() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var errTest = errors.New("test error")
