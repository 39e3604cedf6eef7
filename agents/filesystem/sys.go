package filesystem

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Mounter performs mount(2) and umount2(2). Implementations must be safe
// for concurrent use.
type Mounter interface {
	Mount(source, target, fstype string, flags uintptr, data string) error
	Unmount(target string, flags int) error
}

// MountTable lists the current mounts (of the agent's mount namespace).
type MountTable interface {
	Mounts() ([]MountInfo, error)
}

// FSTypes tells whether the kernel can mount a filesystem type.
type FSTypes interface {
	Supported(fstype string) (bool, error)
}

// Procs finds and signals the processes using files under a directory.
type Procs interface {
	// Users lists pids whose cwd, root, executable, open files or mapped
	// files are dir or below it.
	Users(dir string) ([]int, error)
	Signal(pid int, sig syscall.Signal) error
}

// ---- real implementations ----

// SysMounter calls the mount syscalls directly.
type SysMounter struct{}

// Mount calls unix.Mount.
func (SysMounter) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}

// Unmount calls unix.Unmount.
func (SysMounter) Unmount(target string, flags int) error { return unix.Unmount(target, flags) }

// ProcMountTable reads Path (default /proc/self/mountinfo).
type ProcMountTable struct{ Path string }

// Mounts parses the mountinfo file.
func (t ProcMountTable) Mounts() ([]MountInfo, error) {
	p := t.Path
	if p == "" {
		p = "/proc/self/mountinfo"
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open mount table: %w", err)
	}
	defer f.Close()
	return ParseMountinfo(f)
}

// KernelFSTypes consults /proc/filesystems (File) and, for types built as
// modules that are not loaded yet, the kernel's module directory
// (ModulesDir, default /lib/modules/$(uname -r)), where mount(2) would
// load them from.
type KernelFSTypes struct {
	File       string
	ModulesDir string
}

// Supported reports whether fstype is known to the kernel. "fuse.X"
// types need "fuse".
func (k KernelFSTypes) Supported(fstype string) (bool, error) {
	if base, _, ok := strings.Cut(fstype, "."); ok {
		fstype = base
	}
	p := k.File
	if p == "" {
		p = "/proc/filesystems"
	}
	f, err := os.Open(p)
	if err != nil {
		return false, fmt.Errorf("read supported filesystems: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[len(fields)-1] == fstype {
			return true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	dir := k.ModulesDir
	if dir == "" {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return false, nil
		}
		dir = filepath.Join("/lib/modules", unix.ByteSliceToString(u.Release[:]))
	}
	if fi, err := os.Stat(filepath.Join(dir, "kernel/fs", fstype)); err == nil && fi.IsDir() {
		return true, nil
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "kernel/fs/*", fstype+".ko*"))
	return len(matches) > 0, nil
}

// ProcScanner scans Root (default /proc) like fuser -m: cwd, root, exe,
// every fd and every mapped file. It never reports its own process, pid 1,
// or processes in another mount namespace (their paths name other files).
type ProcScanner struct{ Root string }

func (p ProcScanner) root() string {
	if p.Root == "" {
		return "/proc"
	}
	return p.Root
}

// under reports whether path is dir or inside it.
func under(path, dir string) bool {
	path = strings.TrimSuffix(path, " (deleted)")
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// Users lists the pids using dir.
func (p ProcScanner) Users(dir string) ([]int, error) {
	ents, err := os.ReadDir(p.root())
	if err != nil {
		return nil, fmt.Errorf("scan processes: %w", err)
	}
	self := os.Getpid()
	// Paths only mean the same thing inside our mount namespace.
	myNS, _ := os.Readlink(filepath.Join(p.root(), "self", "ns", "mnt"))
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || pid == 1 {
			continue
		}
		pdir := filepath.Join(p.root(), e.Name())
		if ns, err := os.Readlink(filepath.Join(pdir, "ns", "mnt")); err == nil && myNS != "" && ns != myNS {
			continue
		}
		if p.uses(pdir, dir) {
			out = append(out, pid)
		}
	}
	return out, nil
}

func (p ProcScanner) uses(pdir, dir string) bool {
	for _, l := range []string{"cwd", "root", "exe"} {
		if t, err := os.Readlink(filepath.Join(pdir, l)); err == nil && under(t, dir) {
			return true
		}
	}
	fds, _ := os.ReadDir(filepath.Join(pdir, "fd"))
	for _, fd := range fds {
		if t, err := os.Readlink(filepath.Join(pdir, "fd", fd.Name())); err == nil && under(t, dir) {
			return true
		}
	}
	f, err := os.Open(filepath.Join(pdir, "maps"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode pathname (pathname may hold blanks)
		line := sc.Text()
		if i := strings.IndexByte(line, '/'); i >= 0 && under(line[i:], dir) {
			return true
		}
	}
	return false
}

// Signal sends sig to pid.
func (ProcScanner) Signal(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

// ---- fakes ----

// FakeSystem is an in-memory kernel for tests: a Mounter and MountTable
// plus Procs whose "processes" exit on SIGTERM unless marked stubborn,
// and always on SIGKILL. A mount with users is busy (EBUSY). Safe for
// concurrent use.
type FakeSystem struct {
	mu        sync.Mutex
	mounts    []MountInfo
	nextID    int
	users     map[int]string // pid -> path in use
	stubborn  map[int]bool
	unkillabe map[int]bool
	signals   []string
	mountErr  error
	calls     []string
}

// NewFakeSystem returns a fake with only "/" mounted.
func NewFakeSystem() *FakeSystem {
	return &FakeSystem{
		mounts: []MountInfo{{ID: 1, Parent: 0, Major: 8, Minor: 1, Root: "/", MountPoint: "/", Options: "rw", FSType: "ext4", Source: "/dev/sda1", SuperOptions: "rw"}},
		nextID: 2, users: map[int]string{}, stubborn: map[int]bool{}, unkillabe: map[int]bool{},
	}
}

// AddUser makes pid use path; stubborn ignores SIGTERM, unkillable also
// SIGKILL (a process in uninterruptible sleep).
func (f *FakeSystem) AddUser(pid int, path string, stubborn, unkillable bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[pid] = path
	f.stubborn[pid] = stubborn
	f.unkillabe[pid] = unkillable
}

// FailMount makes Mount return err (nil clears it).
func (f *FakeSystem) FailMount(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mountErr = err
}

// Signals lists the signals sent, as "TERM 42".
func (f *FakeSystem) Signals() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.signals...)
}

// Calls lists mount calls, as "mount SRC DIR TYPE FLAGS DATA" and "umount DIR".
func (f *FakeSystem) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Mount records a mount (remounts change options only).
func (f *FakeSystem) Mount(source, target, fstype string, flags uintptr, data string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("mount %s %s %s %#x %s", source, target, fstype, flags, data))
	if f.mountErr != nil {
		return f.mountErr
	}
	opts := "rw"
	if flags&unix.MS_RDONLY != 0 {
		opts = "ro"
	}
	if flags&unix.MS_REMOUNT != 0 {
		for i := range f.mounts {
			if f.mounts[i].MountPoint == target {
				f.mounts[i].Options = opts
				return nil
			}
		}
		return unix.EINVAL
	}
	if flags&unix.MS_BIND != 0 {
		fstype = "ext4"
	}
	f.mounts = append(f.mounts, MountInfo{ID: f.nextID, Parent: 1, Major: 7, Minor: f.nextID, Root: "/",
		MountPoint: target, Options: opts, FSType: fstype, Source: source, SuperOptions: "rw"})
	f.nextID++
	return nil
}

// Unmount removes the newest mount on target, or fails with EBUSY while a
// process uses it or a mount below it exists.
func (f *FakeSystem) Unmount(target string, flags int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "umount "+target)
	idx := -1
	for i := range f.mounts {
		if f.mounts[i].MountPoint == target {
			idx = i
		}
	}
	if idx < 0 {
		return unix.EINVAL
	}
	for _, p := range f.users {
		if under(p, target) {
			return unix.EBUSY
		}
	}
	for i, m := range f.mounts {
		if i != idx && m.MountPoint != target && under(m.MountPoint, target) {
			return unix.EBUSY
		}
	}
	f.mounts = append(f.mounts[:idx], f.mounts[idx+1:]...)
	return nil
}

// Mounts returns a copy of the table.
func (f *FakeSystem) Mounts() ([]MountInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]MountInfo(nil), f.mounts...), nil
}

// Users lists fake processes using dir.
func (f *FakeSystem) Users(dir string) ([]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for pid, p := range f.users {
		if under(p, dir) {
			out = append(out, pid)
		}
	}
	return out, nil
}

// Signal delivers sig to a fake process.
func (f *FakeSystem) Signal(pid int, sig syscall.Signal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := map[syscall.Signal]string{syscall.SIGTERM: "TERM", syscall.SIGKILL: "KILL"}[sig]
	f.signals = append(f.signals, fmt.Sprintf("%s %d", name, pid))
	if _, ok := f.users[pid]; !ok {
		return syscall.ESRCH
	}
	if (sig == syscall.SIGTERM && !f.stubborn[pid]) || (sig == syscall.SIGKILL && !f.unkillabe[pid]) {
		delete(f.users, pid)
	}
	return nil
}

// FakeFSTypes is a fixed set of supported types.
type FakeFSTypes map[string]bool

// Supported looks fstype up.
func (f FakeFSTypes) Supported(fstype string) (bool, error) {
	if f == nil {
		return false, errors.New("no filesystem list")
	}
	return f[fstype], nil
}

var (
	_ Mounter    = SysMounter{}
	_ MountTable = ProcMountTable{}
	_ FSTypes    = KernelFSTypes{}
	_ Procs      = ProcScanner{}
	_ Mounter    = (*FakeSystem)(nil)
	_ MountTable = (*FakeSystem)(nil)
	_ Procs      = (*FakeSystem)(nil)
	_ FSTypes    = FakeFSTypes(nil)
)
