// Package testbin builds the project's commands (crmd, crm) once per test
// binary for the cross-package tests that run real processes (test/cluster,
// test/netlab, test/cts).
//
// Concurrency: a Set may be used by parallel tests; the build runs once.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Set is one test binary's build of crmd and crm.
type Set struct {
	// Prefix names the temporary directory ("gocrm-<prefix>-bin-*").
	Prefix string

	once sync.Once
	dir  string
	err  error
}

// Dir builds ./cmd/crmd and ./cmd/crm into a temporary directory on first
// use and returns it. It skips t when the go toolchain is missing and
// fails it when the build fails.
func (s *Set) Dir(t testing.TB) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
		if _, err := os.Stat(goBin); err != nil {
			t.Skip("the go toolchain is not in PATH: cannot build crmd and crm")
		}
	}
	s.once.Do(func() { s.dir, s.err = build(goBin, s.Prefix) })
	if s.err != nil {
		t.Fatalf("building the binaries: %v", s.err)
	}
	return s.dir
}

// Remove deletes the built binaries (call from TestMain after m.Run).
func (s *Set) Remove() {
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

func build(goBin, prefix string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "gocrm-"+prefix+"-bin-")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(goBin, "build", "-o", dir+"/", "./cmd/crmd", "./cmd/crm")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("go build ./cmd/crmd ./cmd/crm: %w\n%s", err, out)
	}
	return dir, nil
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
