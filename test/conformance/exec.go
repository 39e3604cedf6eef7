package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// ExecSimulator runs `BIN simulate -x XML -S` as a child process with
// LC_ALL=C and CIB_shadow_dir set to ShadowDir, stdout and stderr merged into
// one stream as the suite does. It is safe for concurrent use.
type ExecSimulator struct {
	Bin       string
	ShadowDir string
}

// Simulate implements Simulator. The child is killed when ctx ends.
func (e ExecSimulator) Simulate(ctx context.Context, xmlPath string) ([]byte, error) {
	return e.run(ctx, xmlPath, "-S")
}

// Scores implements ScoreSimulator: `BIN simulate -x XML -sSQ`.
func (e ExecSimulator) Scores(ctx context.Context, xmlPath string) ([]byte, error) {
	return e.run(ctx, xmlPath, "-sSQ")
}

func (e ExecSimulator) run(ctx context.Context, xmlPath, flags string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, e.Bin, "simulate", "-x", xmlPath, flags)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if e.ShadowDir != "" {
		cmd.Env = append(cmd.Env, "CIB_shadow_dir="+e.ShadowDir)
	}
	cmd.Dir = filepath.Dir(xmlPath)
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && !ee.Exited() {
			return buf.Bytes(), fmt.Errorf("%s: %w: %v", filepath.Base(xmlPath), ErrCrash, err)
		}
		return buf.Bytes(), fmt.Errorf("%s: %w", filepath.Base(xmlPath), err)
	}
	return buf.Bytes(), nil
}

// FindModuleRoot walks up from dir to the directory holding go.mod.
func FindModuleRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		d = p
	}
}
