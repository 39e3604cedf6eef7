// Package testbin is the test-support code shared by the project's tests:
// it builds the project's commands (crmd, crm, or any other main package)
// once per test binary for the tests that run real processes (test/cluster,
// test/netlab, test/cts, test/vrrp), and holds the small helpers those
// tests and the packages' own process-level tests had each written again:
// a goroutine-safe output buffer (SyncBuffer), polling for a condition
// (Poll, WaitFor), free loopback ports (FreePorts), reading crmd's slog
// text logs (ParseLogfmt, EachLine, LogTail) and throwaway network
// namespaces joined by veth pairs (Netns, Veth).
//
// Only tests import it. It imports nothing but the standard library, so
// any package's in-package tests can use it without an import cycle.
//
// Concurrency: a Set may be used by parallel tests; each build runs once.
// The other helpers are safe for concurrent use as documented on each.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// defaultPkgs is what a Set without Pkgs builds.
var defaultPkgs = []string{"./cmd/crmd", "./cmd/crm"}

// Set is one test binary's build of some of the project's commands, by
// default crmd and crm. The zero value (with Prefix set) is ready.
type Set struct {
	// Prefix names the temporary directory ("gocrm-<prefix>-bin-*").
	Prefix string
	// Pkgs are the main packages Dir builds, relative to the module root
	// ("./cmd/crmd"); empty means ./cmd/crmd and ./cmd/crm.
	Pkgs []string

	once sync.Once
	dir  string
	err  error

	mu    sync.Mutex
	extra map[string]*build // Build's packages
}

// build is one package built into a Set's directory by Build.
type build struct {
	once sync.Once
	path string
	err  error
}

// Dir builds the Set's packages into a temporary directory on first use
// and returns it; each binary is named after its package's last path
// element. It skips t when the go toolchain is missing and fails it when
// the build fails.
func (s *Set) Dir(t testing.TB) string {
	t.Helper()
	goBin := goTool(t, s.pkgs())
	s.once.Do(func() { s.dir, s.err = buildDir(goBin, s.Prefix, s.pkgs()) })
	if s.err != nil {
		t.Fatalf("building the binaries: %v", s.err)
	}
	return s.dir
}

// Build builds one more main package (relative to the module root, e.g.
// "./test/cts/cmd/ctshttpd") into Dir, once per Set, and returns the
// binary's path. It skips or fails t like Dir.
func (s *Set) Build(t testing.TB, pkg string) string {
	t.Helper()
	dir := s.Dir(t)
	goBin := goTool(t, []string{pkg})
	s.mu.Lock()
	if s.extra == nil {
		s.extra = map[string]*build{}
	}
	b := s.extra[pkg]
	if b == nil {
		b = &build{}
		s.extra[pkg] = b
	}
	s.mu.Unlock()
	b.once.Do(func() {
		if b.err = goBuild(goBin, dir, pkg); b.err == nil {
			b.path = filepath.Join(dir, path.Base(pkg))
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Run runs the package's tests and then removes the built binaries,
// returning m.Run's exit code: TestMain is os.Exit(bins.Run(m)).
func (s *Set) Run(m *testing.M) int {
	defer s.Remove()
	return m.Run()
}

// Remove deletes the built binaries (call from TestMain after m.Run).
func (s *Set) Remove() {
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

func (s *Set) pkgs() []string {
	if len(s.Pkgs) == 0 {
		return defaultPkgs
	}
	return s.Pkgs
}

// goTool returns the go command, from PATH or the standard install, and
// skips t (which needs pkgs built) when there is none.
func goTool(t testing.TB, pkgs []string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
		if _, err := os.Stat(goBin); err != nil {
			t.Skipf("the go toolchain is not in PATH: cannot build %s", strings.Join(pkgs, " "))
		}
	}
	return goBin
}

func buildDir(goBin, prefix string, pkgs []string) (string, error) {
	dir, err := os.MkdirTemp("", "gocrm-"+prefix+"-bin-")
	if err != nil {
		return "", err
	}
	if err := goBuild(goBin, dir, pkgs...); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// goBuild runs `go build -o dir/ pkgs...` in the module root.
func goBuild(goBin, dir string, pkgs ...string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	cmd := exec.Command(goBin, append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", strings.Join(pkgs, " "), err, out)
	}
	return nil
}

// moduleRoot is the nearest directory above the working directory (the
// test's package directory) holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}
