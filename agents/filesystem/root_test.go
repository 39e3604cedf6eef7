package filesystem

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// sleeper starts `sleep 300` with its working directory in dir and returns
// it with a channel that yields once it has been reaped.
func sleeper(t *testing.T, dir string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Skip("cannot run sleep:", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd, done
}

func TestProcScannerRealProcess(t *testing.T) {
	dir := t.TempDir()
	cmd, _ := sleeper(t, dir)
	var users []int
	for i := 0; i < 50; i++ { // cwd is set after fork, before exec
		users, _ = ProcScanner{}.Users(dir)
		if slices.Contains(users, cmd.Process.Pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("sleep %d with cwd %s not found: %v", cmd.Process.Pid, dir, users)
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (mount(2))")
	}
}

// realLifecycle mounts with the real system, checks monitor (with the
// read/write probe), keeps the mount busy with a process whose cwd is
// inside, and checks that stop kills it and unmounts.
func realLifecycle(t *testing.T, params map[string]string) {
	t.Helper()
	a, err := New(agent.Env{Node: "n1"}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	dir := params["directory"]
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := agent.Call{Resource: "fs", Params: params, Timeout: 30 * time.Second}
	if r := a.Validate(ctx, c); r.RC != agent.OK {
		t.Fatalf("validate %v", r)
	}
	if r := a.Monitor(ctx, c); r.RC != agent.NotRunning {
		t.Fatalf("probe %v", r)
	}
	if r := a.Start(ctx, c); r.RC != agent.OK {
		if r.RC == agent.ErrPerm {
			t.Skip("mount not permitted here:", r.Reason)
		}
		t.Fatalf("start %v", r)
	}
	c.Params["statusfile_check"] = "yes"
	if r := a.Monitor(ctx, c); r.RC != agent.OK {
		t.Fatalf("monitor %v", r)
	}
	_, done := sleeper(t, dir)
	c.Params["signal_delay"] = "1"
	start := time.Now()
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Fatalf("stop %v", r)
	}
	t.Logf("stop with one busy process took %v", time.Since(start))
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("process using the mount survived stop")
	}
	if r := a.Monitor(ctx, c); r.RC != agent.NotRunning {
		t.Errorf("monitor after stop %v", r)
	}
}

func TestRootTmpfs(t *testing.T) {
	needRoot(t)
	realLifecycle(t, map[string]string{"device": "gocrm-test", "directory": filepath.Join(t.TempDir(), "mnt"),
		"fstype": "tmpfs", "options": "size=1m,mode=0755,nosuid"})
}

func TestRootLoopExt4(t *testing.T) {
	needRoot(t)
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		t.Skip("mkfs.ext4 (e2fsprogs) not installed")
	}
	losetup, err := exec.LookPath("losetup")
	if err != nil {
		t.Skip("losetup not installed")
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(16 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, err := exec.Command(mkfs, "-q", "-F", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	out, err := exec.Command(losetup, "-f", "--show", img).Output()
	if err != nil {
		t.Skipf("no loop device available: %v", err)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command(losetup, "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	realLifecycle(t, map[string]string{"device": dev, "directory": filepath.Join(t.TempDir(), "mnt"),
		"fstype": "ext4", "options": "noatime"})
}
