package filesystem

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/agents/ra"
)

func fakeAgent(t *testing.T) (*Agent, *FakeSystem) {
	t.Helper()
	fs := NewFakeSystem()
	a, err := New(agent.Env{Node: "n1"}, Deps{Mounter: fs, Table: fs, Procs: fs,
		FSTypes: FakeFSTypes{"ext4": true, "tmpfs": true, "xfs": true}, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return a, fs
}

func fsCall(dir string, extra ...string) agent.Call {
	p := map[string]string{"device": "/dev/null", "directory": dir, "fstype": "ext4"}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i]] = extra[i+1]
	}
	return agent.Call{Resource: "fs", Params: p, Timeout: 10 * time.Second}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestValidate(t *testing.T) {
	a, fs := fakeAgent(t)
	dir := filepath.Join(t.TempDir(), "mnt")
	for _, tc := range []struct {
		name   string
		params map[string]string
		rc     agent.RC
		param  string
	}{
		{"no device", map[string]string{"directory": dir, "fstype": "ext4"}, agent.NotConfigured, "device"},
		{"no directory", map[string]string{"device": "/dev/null", "fstype": "ext4"}, agent.NotConfigured, "directory"},
		{"relative directory", map[string]string{"device": "/dev/null", "directory": "mnt/x", "fstype": "ext4"}, agent.NotConfigured, "directory"},
		{"root directory", map[string]string{"device": "/dev/null", "directory": "/", "fstype": "ext4"}, agent.NotConfigured, "directory"},
		{"no fstype", map[string]string{"device": "/dev/null", "directory": dir}, agent.NotConfigured, "fstype"},
		{"unknown fstype", map[string]string{"device": "/dev/null", "directory": dir, "fstype": "zfsx"}, agent.NotInstalled, "fstype"},
		{"missing device", map[string]string{"device": "/dev/nonexistent-gocrm", "directory": dir, "fstype": "ext4"}, agent.NotInstalled, "device"},
		{"loop option", map[string]string{"device": "/dev/null", "directory": dir, "fstype": "ext4", "options": "loop"}, agent.NotConfigured, "options"},
		{"bind without none", map[string]string{"device": "/tmp", "directory": dir, "fstype": "ext4", "options": "bind"}, agent.NotConfigured, "fstype"},
		{"none without bind", map[string]string{"device": "/tmp", "directory": dir, "fstype": "none"}, agent.NotConfigured, "fstype"},
	} {
		c := agent.Call{Resource: "fs", Params: tc.params}
		r := a.Validate(context.Background(), c)
		if r.RC != tc.rc || !strings.Contains(r.Reason, "parameter "+tc.param+"=") {
			t.Errorf("%s: %v %q; want rc %v naming %s", tc.name, r.RC, r.Reason, tc.rc, tc.param)
		}
		if r := a.Start(context.Background(), c); r.RC != tc.rc {
			t.Errorf("%s: start rc %v", tc.name, r.RC)
		}
	}
	if len(fs.Calls()) != 0 {
		t.Errorf("validation touched the system: %v", fs.Calls())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Error("validation created the mount point")
	}
	for _, p := range []map[string]string{
		{"device": "/dev/null", "directory": dir, "fstype": "ext4", "options": "noatime,defaults,data=ordered"},
		{"device": "tmpfs", "directory": dir, "fstype": "tmpfs", "options": "size=1m"},
		{"device": "/tmp", "directory": dir, "fstype": "none", "options": "bind,ro"},
	} {
		if r := a.Validate(context.Background(), agent.Call{Params: p}); r.RC != agent.OK {
			t.Errorf("%v: %v %s", p, r.RC, r.Reason)
		}
	}
}

func TestParseOptions(t *testing.T) {
	flags, data, bind, ro, err := parseOptions("defaults,ro,noatime,nosuid,data=ordered,x-systemd.requires=a,errors=remount-ro,rw,ro")
	if err != nil || bind || !ro || data != "data=ordered,errors=remount-ro" ||
		flags != unix.MS_RDONLY|unix.MS_NOATIME|unix.MS_NOSUID {
		t.Errorf("flags %#x data %q bind %v ro %v err %v", flags, data, bind, ro, err)
	}
	flags, _, bind, _, _ = parseOptions("rbind")
	if !bind || flags != unix.MS_BIND|unix.MS_REC {
		t.Errorf("rbind %#x", flags)
	}
	if got := resolveDevice(`UUID="ab-cd"`); got != "/dev/disk/by-uuid/ab-cd" {
		t.Errorf("uuid %s", got)
	}
	if got := resolveDevice("-L data"); got != "/dev/disk/by-label/data" {
		t.Errorf("label %s", got)
	}
}

func TestLifecycle(t *testing.T) {
	a, fs := fakeAgent(t)
	ctx := ctxT(t, 10*time.Second)
	dir := filepath.Join(t.TempDir(), "mnt")
	c := fsCall(dir, "options", "noatime,data=ordered")
	if r := a.Monitor(ctx, c); r.RC != agent.NotRunning {
		t.Fatalf("probe %v", r)
	}
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatalf("start %v", r)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("mount point not created: %v", err)
	}
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatalf("second start %v", r)
	}
	calls := fs.Calls()
	if len(calls) != 1 || calls[0] != "mount /dev/null "+dir+" ext4 0x400 data=ordered" {
		t.Errorf("calls %v", calls)
	}
	// statusfile_check writes into the (real) directory.
	if r := a.Monitor(ctx, fsCall(dir, "statusfile_check", "true")); r.RC != agent.OK {
		t.Fatalf("monitor with probe %v", r)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".Filesystem_status", "n1")); err != nil || !strings.HasPrefix(string(b), "gocrm n1 ") {
		t.Errorf("status file %q %v", b, err)
	}
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Fatalf("stop %v", r)
	}
	if r := a.Monitor(ctx, c); r.RC != agent.NotRunning {
		t.Errorf("monitor after stop %v", r)
	}
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Errorf("second stop %v", r)
	}
	if len(fs.Signals()) != 0 {
		t.Errorf("signals sent without users: %v", fs.Signals())
	}
}

func TestForeignMountAndMountErrors(t *testing.T) {
	a, fs := fakeAgent(t)
	ctx := ctxT(t, 10*time.Second)
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := fs.Mount("/dev/other", dir, "xfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	c := fsCall(dir)
	if r := a.Monitor(ctx, c); r.RC != agent.ErrGeneric || !strings.Contains(r.Reason, "different filesystem") {
		t.Errorf("foreign monitor %v", r)
	}
	if r := a.Start(ctx, c); r.RC != agent.ErrGeneric {
		t.Errorf("foreign start %v", r)
	}
	a2, fs2 := fakeAgent(t)
	fs2.FailMount(unix.EPERM)
	if r := a2.Start(ctx, c); r.RC != agent.ErrPerm {
		t.Errorf("EPERM start %v", r)
	}
	fs2.FailMount(unix.EINVAL)
	if r := a2.Start(ctx, c); r.RC != agent.ErrGeneric {
		t.Errorf("EINVAL start %v", r)
	}
}

func TestBindReadOnlyRemounts(t *testing.T) {
	a, fs := fakeAgent(t)
	ctx := ctxT(t, 10*time.Second)
	src, dir := t.TempDir(), filepath.Join(t.TempDir(), "mnt")
	c := agent.Call{Params: map[string]string{"device": src, "directory": dir, "fstype": "none", "options": "bind,ro"}}
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatalf("start %v", r)
	}
	calls := fs.Calls()
	want := []string{"mount " + src + " " + dir + " none 0x1000 ", "mount  " + dir + "  0x1021 "}
	if strings.Join(calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls\n%q\nwant\n%q", calls, want)
	}
	ms, _ := fs.Mounts()
	if ms[len(ms)-1].Options != "ro" {
		t.Errorf("not read-only: %+v", ms[len(ms)-1])
	}
}

func TestStopKillsUsers(t *testing.T) {
	a, fs := fakeAgent(t)
	ctx := ctxT(t, 10*time.Second)
	dir := filepath.Join(t.TempDir(), "mnt")
	c := fsCall(dir, "signal_delay", "0")
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatal(r)
	}
	fs.AddUser(100, dir+"/a/file", false, false) // leaves on TERM
	fs.AddUser(101, dir, true, false)            // needs KILL
	fs.AddUser(102, dir+"x/other", false, false) // not under dir
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Fatalf("stop %v", r)
	}
	sig := fs.Signals()
	sort.Strings(sig)
	if strings.Join(sig, ",") != "KILL 101,TERM 100,TERM 101" {
		t.Errorf("signals %v", sig)
	}
	if r := a.Monitor(ctx, c); r.RC != agent.NotRunning {
		t.Errorf("monitor %v", r)
	}
}

func TestStopFailsWhenStillBusy(t *testing.T) {
	a, fs := fakeAgent(t)
	ctx := ctxT(t, 10*time.Second)
	dir := filepath.Join(t.TempDir(), "mnt")
	c := fsCall(dir, "signal_delay", "0")
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatal(r)
	}
	fs.AddUser(200, dir+"/f", true, true) // D state: survives SIGKILL
	sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	start := time.Now()
	r := a.Stop(sctx, c)
	cancel()
	if r.RC != agent.ErrGeneric || !strings.Contains(r.Reason, "[200]") || !strings.Contains(r.Reason, "busy") {
		t.Errorf("stop %v", r)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stop overran its deadline: %v", d)
	}
	if r := a.Monitor(ctx, c); r.RC != agent.OK {
		t.Errorf("still mounted, monitor %v", r)
	}
	// Without a deadline the attempts are bounded too.
	a2, fs2 := fakeAgent(t)
	if r := a2.Start(ctx, c); r.RC != agent.OK {
		t.Fatal(r)
	}
	fs2.AddUser(300, dir, false, false)
	if r := a2.Stop(context.Background(), fsCall(dir, "force_unmount", "false")); r.RC != agent.ErrGeneric {
		t.Errorf("force_unmount=false with users: %v", r)
	}
	if len(fs2.Signals()) != 0 {
		t.Errorf("force_unmount=false sent signals %v", fs2.Signals())
	}
}

func TestStopUnmountsSubmountsFirst(t *testing.T) {
	a, fs := fakeAgent(t)
	ctx := ctxT(t, 10*time.Second)
	dir := filepath.Join(t.TempDir(), "mnt")
	c := fsCall(dir)
	if r := a.Start(ctx, c); r.RC != agent.OK {
		t.Fatal(r)
	}
	for _, sub := range []string{dir + "/a", dir + "/a/b", dir + "x"} {
		if err := fs.Mount("tmpfs", sub, "tmpfs", 0, ""); err != nil {
			t.Fatal(err)
		}
	}
	if r := a.Stop(ctx, c); r.RC != agent.OK {
		t.Fatalf("stop %v", r)
	}
	calls := fs.Calls()
	got := strings.Join(calls[len(calls)-3:], ",")
	if got != "umount "+dir+"/a/b,umount "+dir+"/a,umount "+dir {
		t.Errorf("unmount order %s", got)
	}
	ms, _ := fs.Mounts()
	if ms[len(ms)-1].MountPoint != dir+"x" {
		t.Error("sibling mount was unmounted")
	}
}

func TestProcScannerFakeTree(t *testing.T) {
	root := t.TempDir()
	mk := func(pid, link, target string) {
		p := filepath.Join(root, pid, link)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	mk("100", "cwd", "/mnt/data/x")
	mk("101", "fd/3", "/mnt/data/f (deleted)")
	mk("102", "cwd", "/")
	if err := os.WriteFile(filepath.Join(root, "102", "maps"), []byte(
		"7f00-7f01 r-xp 00000000 07:00 12 /usr/lib/libc.so\n7f02-7f03 r-xp 00000000 07:00 13 /mnt/data/lib with space.so\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mk("103", "cwd", "/mnt/database")
	mk("104", "root", "/mnt/data")
	mk("105", "exe", "/mnt/data/bin/app")
	mk("1", "cwd", "/mnt/data")
	mk("self", "ns/mnt", "mnt:[4026531841]")
	mk("106", "ns/mnt", "mnt:[4026531841]")
	mk("106", "cwd", "/mnt/data")
	mk("107", "ns/mnt", "mnt:[4026532999]") // another namespace: same path, other file
	mk("107", "cwd", "/mnt/data")
	if err := os.MkdirAll(filepath.Join(root, "self-not-a-pid"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := ProcScanner{Root: root}.Users("/mnt/data")
	if err != nil {
		t.Fatal(err)
	}
	sort.Ints(got)
	if want := []int{100, 101, 102, 104, 105, 106}; !equalInts(got, want) {
		t.Errorf("users %v, want %v", got, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestKernelFSTypes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "filesystems")
	if err := os.WriteFile(file, []byte("nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\tfuse\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mods := filepath.Join(dir, "modules")
	if err := os.MkdirAll(filepath.Join(mods, "kernel/fs/xfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(mods, "kernel/fs/nls"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mods, "kernel/fs/nls/vfat.ko.xz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	k := KernelFSTypes{File: file, ModulesDir: mods}
	for fstype, want := range map[string]bool{"ext4": true, "tmpfs": true, "fuse.sshfs": true, "xfs": true, "vfat": true, "btrfz": false, "nodev": false} {
		if got, err := k.Supported(fstype); err != nil || got != want {
			t.Errorf("Supported(%s) = %v, %v", fstype, got, err)
		}
	}
	if _, err := (KernelFSTypes{File: filepath.Join(dir, "absent")}).Supported("ext4"); err == nil {
		t.Error("missing /proc/filesystems not reported")
	}
}

func TestMetaData(t *testing.T) {
	a, _ := fakeAgent(t)
	m, err := ra.Parse([]byte(a.MetaData(context.Background()).Output))
	if err != nil {
		t.Fatal(err)
	}
	if err := ra.Validate(m, map[string]string{"device": "/dev/sdb1", "directory": "/srv", "fstype": "ext4", "statusfile_check": "true"}); err != nil {
		t.Error(err)
	}
	if err := ra.Validate(m, map[string]string{"directory": "/srv"}); err == nil ||
		!strings.Contains(err.Error(), `"device"`) || !strings.Contains(err.Error(), `"fstype"`) {
		t.Errorf("required params: %v", err)
	}
	reg := agent.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
}
