package guard

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gocrm/gocrm/agents/vip"
)

// The test binary doubles as a daemon and as its guard (selected by
// GUARD_TEST_HELPER), so the real process plumbing is exercised: socket
// pair on fd 3, own session, end-of-file on SIGKILL.
const helperEnv = "GUARD_TEST_HELPER"

// fileRecorder is the helper guard's AddrDeleter and Sender: one line per
// action appended to a file.
type fileRecorder struct {
	mu sync.Mutex
	f  *os.File
}

func (r *fileRecorder) line(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(r.f, s)
}

func (r *fileRecorder) AddrDel(l vip.Link, a vip.Addr) error {
	r.line(fmt.Sprintf("del %s %d %s", l.Name, l.Index, a.Prefix))
	return nil
}

func (r *fileRecorder) Send(d Datagram) error {
	r.line(fmt.Sprintf("send %s %s", d.Dev, d.Dst))
	return nil
}

// helperMain runs a helper role and reports whether it did.
func helperMain() bool {
	switch os.Getenv(helperEnv) {
	case "guard":
		f, err := os.OpenFile(os.Getenv("GUARD_TEST_OUT"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			os.Exit(3)
		}
		rec := &fileRecorder{f: f}
		conn, err := ConnFromFD()
		if err != nil {
			rec.line("error " + err.Error())
			os.Exit(3)
		}
		out, err := Serve(context.Background(), conn, Deps{Addrs: rec, Sender: rec})
		rec.line(fmt.Sprintf("outcome %v %v", out, err))
		f.Close()
		os.Exit(0)
	case "daemon", "daemon-bye":
		bye := os.Getenv(helperEnv) == "daemon-bye"
		os.Setenv(helperEnv, "guard")
		c, err := Spawn(SpawnConfig{Path: os.Args[0], Stderr: os.Stderr,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
		if err != nil {
			fmt.Println("spawn error:", err)
			os.Exit(2)
		}
		h := Holding{Instance: "VI_1", Addrs: []Addr{{Dev: "eth0", Index: 2, Prefix: vip4}},
			Farewell: []Datagram{{Dev: "eth0", Src: netip.MustParseAddr("10.99.0.11"), Dst: netip.MustParseAddr("224.0.0.18"), IP: []byte{0x45}}},
			Linger:   20 * time.Millisecond}
		if err := c.Hold(h); err != nil {
			fmt.Println("hold error:", err)
			os.Exit(2)
		}
		fmt.Printf("ready %d\n", c.proc.Pid)
		if bye {
			if err := c.Close(); err != nil {
				fmt.Println("close error:", err)
				os.Exit(2)
			}
			os.Exit(0)
		}
		select {} // until SIGKILLed
	}
	return false
}

type helperRun struct {
	cmd      *exec.Cmd
	guardPID int
	out      string
}

func startHelper(t *testing.T, role string) *helperRun {
	t.Helper()
	out := filepath.Join(t.TempDir(), "guard.log")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, "GUARD_TEST_OUT="+out)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 2 || f[0] != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper daemon: %q %v", line, err)
	}
	pid, _ := strconv.Atoi(f[1])
	return &helperRun{cmd: cmd, guardPID: pid, out: out}
}

// gone reports whether pid has exited (it may linger as a zombie when no
// init reaps orphans in this container).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] == 'Z'
}

func waitLog(t *testing.T, path, want string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) || time.Now().After(deadline) {
			return string(b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSpawnedGuardActsOnSIGKILL(t *testing.T) {
	h := startHelper(t, "daemon")
	if sid, err := unix.Getsid(h.guardPID); err != nil || sid != h.guardPID {
		t.Errorf("guard session %d (%v), want its own (%d)", sid, err, h.guardPID)
	}
	t0 := time.Now()
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	h.cmd.Wait()
	log := waitLog(t, h.out, "outcome", 5*time.Second)
	took := time.Since(t0)
	want := "send eth0 224.0.0.18\ndel eth0 2 10.99.0.50/24\noutcome orphaned <nil>\n"
	if log != want {
		t.Fatalf("guard log:\n%s\nwant:\n%s", log, want)
	}
	t.Logf("guard acted %v after SIGKILL (linger 20ms)", took.Round(time.Millisecond))
	deadline := time.Now().Add(5 * time.Second)
	for !gone(h.guardPID) {
		if time.Now().After(deadline) {
			t.Fatal("guard still running after acting")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSpawnedGuardExitsOnBye(t *testing.T) {
	h := startHelper(t, "daemon-bye")
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper daemon: %v", err)
	}
	log := waitLog(t, h.out, "outcome", 5*time.Second)
	if log != "outcome bye <nil>\n" {
		t.Fatalf("guard log %q, want only a bye", log)
	}
	if !gone(h.guardPID) {
		t.Error("guard still running after Close")
	}
}

func TestSpawnNotAGuard(t *testing.T) {
	if _, err := Spawn(SpawnConfig{Path: "/bin/true", ReadyTimeout: 2 * time.Second}); err == nil {
		t.Fatal("a binary that is no guard was accepted")
	}
}
