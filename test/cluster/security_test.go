package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/crm/daemon"
	"github.com/gocrm/gocrm/internal/testbin"
)

// Security tests of issue 7 with the real binaries: the control socket
// refuses CIB changes from users that are neither root nor in the
// configured group (SO_PEERCRED, checked even when file permissions would
// let them connect), a read-only role lets everyone read, and a key file
// readable by group or others stops crmd with a clear message.

// nobody is the unprivileged user the tests run crm as.
const nobody = 65534

// requireRoot skips unless the test can run processes as other users.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs crm as uid 65534 against a root-owned socket")
	}
}

// requireBinaries skips in -short mode and returns the directory holding
// freshly built crm and crmd.
func requireBinaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts crmd; skipped in -short mode")
	}
	return requireSandbox(t)
}

// openDir creates a fresh directory every user can traverse (t.TempDir
// and its parent are private), for the copied crm binary and the sockets.
func openDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{filepath.Dir(d), d} {
		if err := os.Chmod(p, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// crmFor copies the built crm into a directory every user can execute.
func crmFor(t *testing.T, bin string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bin, "crm"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(openDir(t), "crm")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// runCrmAs runs crm against sock as uid/gid with supplementary groups.
func runCrmAs(crm, sock string, uid, gid uint32, groups []uint32, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, crm, args...)
	cmd.Env = []string{"CRM_SOCKET=" + sock, "LC_ALL=C", "HOME=/nonexistent", "PATH=/usr/bin:/bin"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: groups}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// startCrmd starts the real crmd binary as a one-node cluster and returns
// its socket path once a DC exists.
func startCrmd(t *testing.T, crmd, crm, dir string) string {
	t.Helper()
	key := filepath.Join(dir, "authkey")
	if out, err := exec.Command(crmd, "keygen", key).CombinedOutput(); err != nil {
		t.Fatalf("crmd keygen: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "run", "crmd.sock")
	var logb testbin.SyncBuffer
	cmd := exec.Command(crmd, "--name", "s1", "--data-dir", filepath.Join(dir, "data"),
		"--bind", "127.0.0.1:"+strconv.Itoa(testbin.FreePorts(t, 3)), "--bootstrap-expect", "1",
		"--socket", sock, "--keyfile", key, "--insecure-transport", "--log-level", "warn")
	cmd.Stderr = &logb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("crmd log:\n%s", logb.String())
		}
	})
	if !waitFor(30*time.Second, func() bool {
		out, err := runCrmAs(crm, sock, 0, 0, nil, "status")
		return err == nil && strings.Contains(out, "Current DC: s1")
	}) {
		t.Fatalf("crmd did not become DC within 30 s:\n%s", logb.String())
	}
	return sock
}

// attrOf reads node s1's permanent attribute name as root ("" if unset).
func attrOf(t *testing.T, crm, sock, name string) string {
	t.Helper()
	out, err := runCrmAs(crm, sock, 0, 0, nil, "node", "attribute", "s1", "show", name)
	if err != nil {
		return ""
	}
	_, v, ok := strings.Cut(strings.TrimSpace(out), " value=")
	if !ok {
		t.Fatalf("crm node attribute show: %q", out)
	}
	return v
}

// TestSocketRefusesUnprivilegedWrites runs the real crmd and the crm shell
// as uid 65534: the 0750 root-owned socket directory keeps it out; with the
// directory and socket opened up (a misconfigured host) SO_PEERCRED still
// refuses its reads and writes, and the CIB is unchanged; in group 0 (the
// daemon's default administrative group) the same user may change the CIB.
func TestSocketRefusesUnprivilegedWrites(t *testing.T) {
	requireRoot(t)
	bin := requireBinaries(t)
	crm := crmFor(t, bin)
	dir := openDir(t)
	sock := startCrmd(t, filepath.Join(bin, "crmd"), crm, dir)
	write := []string{"node", "attribute", "s1", "set", "sec-test", "nobody"}

	fi, err := os.Stat(filepath.Dir(sock))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o750 || st.Uid != 0 {
		t.Errorf("socket directory mode %04o uid %d, want 0750 root", fi.Mode().Perm(), st.Uid)
	}
	for _, args := range [][]string{{"status"}, write} {
		out, err := runCrmAs(crm, sock, nobody, nobody, nil, args...)
		t.Logf("crm %s as uid %d through the 0750 directory: %v: %s", strings.Join(args, " "), nobody, err, strings.TrimSpace(out))
		if err == nil || !strings.Contains(out, "permission denied") {
			t.Errorf("crm %s as uid %d through the 0750 directory: err %v, output %q; want permission denied", strings.Join(args, " "), nobody, err, out)
		}
	}

	// Open the directory and the socket: only SO_PEERCRED protects now.
	if err := os.Chmod(filepath.Dir(sock), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	out, err := runCrmAs(crm, sock, nobody, nobody, nil, write...)
	t.Logf("crm %s as uid %d through an open socket: %v: %s", strings.Join(write, " "), nobody, err, strings.TrimSpace(out))
	if err == nil || !strings.Contains(out, "permission denied for cib.") {
		t.Errorf("write as uid %d through an open socket: err %v, output %q; want the daemon's permission denied (SO_PEERCRED)", nobody, err, out)
	}
	if out, err := runCrmAs(crm, sock, nobody, nobody, nil, "status"); err == nil || !strings.Contains(out, "permission denied for cib.get") {
		t.Errorf("read as uid %d without a read-only role: err %v, output %q; want permission denied", nobody, err, out)
	}
	if v := attrOf(t, crm, sock, "sec-test"); v != "" {
		t.Fatalf("CIB changed by uid %d: sec-test=%q", nobody, v)
	}
	// The same user in group 0 is an administrator.
	if out, err := runCrmAs(crm, sock, nobody, nobody, []uint32{0}, write...); err != nil {
		t.Fatalf("write as uid %d in group 0: %v\n%s", nobody, err, out)
	}
	if v := attrOf(t, crm, sock, "sec-test"); v != "nobody" {
		t.Errorf("write by a group-0 member not committed: sec-test=%q", v)
	}
}

// TestReadOnlyRole runs a daemon whose socket allows writes to root and
// group 4242 and reads to everyone: crm as uid 65534 reads the status and
// the configuration but cannot change the CIB or fence; in group 4242 it
// can change the CIB.
func TestReadOnlyRole(t *testing.T) {
	requireRoot(t)
	bin := requireBinaries(t)
	crm := crmFor(t, bin)
	const group = 4242
	dir := openDir(t)
	sock := filepath.Join(dir, "run", "crmd.sock")
	d, err := daemon.New(daemon.Config{Name: "s1", DataDir: filepath.Join(dir, "data"), BindAddr: "127.0.0.1",
		GossipPort: testbin.FreePorts(t, 3), BootstrapExpect: 1, SocketPath: sock,
		Keys:              [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
		Auth:              api.GroupAuthorizer{Group: group, ReadOnlyForAll: true},
		InsecureTransport: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	err = d.Start(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Kill)
	// The directory stays root-owned; the read-only role is for users
	// that can reach the socket (e.g. a monitoring group): open it here.
	if err := os.Chmod(filepath.Dir(sock), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	if !waitFor(30*time.Second, func() bool {
		out, err := runCrmAs(crm, sock, nobody, nobody, nil, "status")
		return err == nil && strings.Contains(out, "Current DC: s1")
	}) {
		out, err := runCrmAs(crm, sock, nobody, nobody, nil, "status")
		t.Fatalf("crm status as uid %d with the read-only role: %v\n%s", nobody, err, out)
	}
	for _, args := range [][]string{{"configure", "show"}, {"stonith", "history"}, {"stonith", "list"}} {
		if out, err := runCrmAs(crm, sock, nobody, nobody, nil, args...); err != nil {
			t.Errorf("crm %s as uid %d (read-only): %v\n%s", strings.Join(args, " "), nobody, err, out)
		}
	}
	write := []string{"node", "attribute", "s1", "set", "sec-test", "ro"}
	// Reads succeed, so each refusal is the daemon's write check.
	for op, args := range map[string][]string{api.OpApply: write, api.OpFence: {"node", "fence", "s1"}, api.OpFenceStatus: {"stonith", "status"}} {
		out, err := runCrmAs(crm, sock, nobody, nobody, nil, args...)
		if err == nil || !strings.Contains(out, "permission denied for "+op) {
			t.Errorf("crm %s as read-only uid %d: err %v, output %q; want permission denied for %s", strings.Join(args, " "), nobody, err, out, op)
		}
	}
	if v := attrOf(t, crm, sock, "sec-test"); v != "" {
		t.Fatalf("CIB changed by read-only uid %d: sec-test=%q", nobody, v)
	}
	if out, err := runCrmAs(crm, sock, nobody, nobody, []uint32{group}, write...); err != nil {
		t.Fatalf("write as uid %d in group %d: %v\n%s", nobody, group, err, out)
	}
	if v := attrOf(t, crm, sock, "sec-test"); v != "ro" {
		t.Errorf("write by a group %d member not committed: sec-test=%q", group, v)
	}
}

// TestLooseKeyFileStopsCrmd starts the real crmd with a key file that is
// group- or world-readable, or not owned by root (crmd accepts root or its
// own user): it must exit at once with status 1 and a message naming the
// file and the problem. Only the owner case needs root.
func TestLooseKeyFileStopsCrmd(t *testing.T) {
	bin := requireBinaries(t)
	crmd := filepath.Join(bin, "crmd")
	for _, c := range []struct {
		name  string
		mode  os.FileMode
		owner int // -1: keep (the test's user, accepted by crmd)
		want  string
	}{
		{"group-readable", 0o640, -1, "has mode 0640, must be 0600"},
		{"world-readable", 0o604, -1, "has mode 0604, must be 0600"},
		{"other owner", 0o600, nobody, fmt.Sprintf("is owned by uid %d, must be owned by root", nobody)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.owner >= 0 && os.Geteuid() != 0 {
				t.Skip("needs root to give the key file another owner")
			}
			dir := t.TempDir()
			key := filepath.Join(dir, "authkey")
			if out, err := exec.Command(crmd, "keygen", key).CombinedOutput(); err != nil {
				t.Fatalf("keygen: %v\n%s", err, out)
			}
			if err := os.Chmod(key, c.mode); err != nil {
				t.Fatal(err)
			}
			if c.owner >= 0 {
				if err := os.Chown(key, c.owner, c.owner); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, crmd, "--name", "k1", "--data-dir", filepath.Join(dir, "data"),
				"--bind", "127.0.0.1:"+strconv.Itoa(testbin.FreePorts(t, 3)), "--bootstrap-expect", "1",
				"--socket", filepath.Join(dir, "run", "crmd.sock"), "--keyfile", key, "--insecure-transport")
			start := time.Now()
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("crmd with a %s key file: %v (want exit status 1)\n%s", c.name, err, out)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("crmd took %v to refuse the key file", took.Round(time.Millisecond))
			}
			msg := string(out)
			t.Logf("crmd: %s", strings.TrimSpace(msg))
			if !strings.Contains(msg, key) || !strings.Contains(msg, c.want) || !strings.Contains(msg, "key file") {
				t.Errorf("crmd's message does not name the key file %s and %q:\n%s", key, c.want, msg)
			}
			if _, err := os.Stat(filepath.Join(dir, "run", "crmd.sock")); err == nil {
				t.Error("crmd opened its control socket before refusing the key file")
			}
		})
	}
}
