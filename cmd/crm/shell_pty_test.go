package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gocrm/gocrm/internal/testbin"
)

// TestShellHelperProcess is the child of TestInteractiveShellPTY: it runs
// "crm" with no arguments on the pseudo-terminal it was given.
func TestShellHelperProcess(t *testing.T) {
	if os.Getenv("GOCRM_SHELL_HELPER") != "1" {
		t.Skip("helper process for TestInteractiveShellPTY")
	}
	e := &env{ctx: context.Background(), stdout: os.Stdout, stderr: os.Stderr,
		log: slog.New(slog.DiscardHandler), now: time.Now, readFile: readFileOrStdin}
	os.Exit(dispatch(e, nil))
}

// openPTY opens a pseudo-terminal pair (/dev/ptmx, unlocked).
func openPTY() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: 200}); err != nil {
		m.Close()
		s.Close()
		return nil, nil, fmt.Errorf("window size: %w", err)
	}
	return m, s, nil
}

// ptyOutput collects what the child writes to the terminal.
type ptyOutput struct {
	testbin.SyncBuffer
}

// expect waits until the output after offset from contains want and
// returns the offset just past it.
func (p *ptyOutput) expect(t *testing.T, from int, want string) int {
	t.Helper()
	end := 0
	if _, ok := testbin.Poll(10*time.Second, 10*time.Millisecond, func() bool {
		i := strings.Index(p.String()[from:], want)
		end = from + i + len(want)
		return i >= 0
	}); ok {
		return end
	}
	t.Fatalf("terminal never showed %q; output after %d:\n%q", want, from, p.String()[from:])
	return 0
}

func TestInteractiveShellPTY(t *testing.T) {
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		t.Skip("no /dev/ptmx: cannot create a pseudo-terminal")
	}
	dir := t.TempDir()
	cibFile := filepath.Join(dir, "cib.xml")
	if err := os.WriteFile(cibFile, []byte(testShellCIB), 0o644); err != nil {
		t.Fatal(err)
	}
	// a fake OCF agent whose meta-data drives parameter completion
	agentDir := filepath.Join(dir, "ocf", "resource.d", "test")
	if err := os.MkdirAll(agentDir, 0o755); err != nil {
		t.Fatal(err)
	}
	agent := "#!/bin/sh\n[ \"$1\" = meta-data ] || exit 0\necho '<resource-agent name=\"Fake\"><parameters><parameter name=\"alpha\"/><parameter name=\"beta\"/></parameters></resource-agent>'\n"
	if err := os.WriteFile(filepath.Join(agentDir, "Fake"), []byte(agent), 0o755); err != nil {
		t.Fatal(err)
	}
	master, slave, err := openPTY()
	if err != nil {
		t.Skipf("cannot open a pseudo-terminal: %v", err)
	}
	defer master.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestShellHelperProcess$")
	cmd.Env = append(os.Environ(), "GOCRM_SHELL_HELPER=1", "CIB_file="+cibFile, "HOME="+dir,
		"CIB_shadow_dir="+filepath.Join(dir, "shadows"), "OCF_ROOT="+filepath.Join(dir, "ocf"), "TERM=xterm", "CIB_shadow=")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	out := &ptyOutput{}
	copied := make(chan struct{})
	go func() { // owned by this test: ends when the child closes the terminal
		defer close(copied)
		_, _ = io.Copy(out, master)
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }() // owned by this test: ends with the child
	exited := false
	defer func() {
		if !exited {
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	typeKeys := func(s string) {
		t.Helper()
		if _, err := master.Write([]byte(s)); err != nil {
			t.Fatalf("type %q: %v", s, err)
		}
	}

	pos := out.expect(t, 0, "crm(live")
	pos = out.expect(t, pos, ")# ")
	typeKeys("conf\t") // TAB completes the level name
	pos = out.expect(t, pos, "configure ")
	typeKeys("\r")
	pos = out.expect(t, pos, ")configure# ")
	typeKeys("prim\t") // TAB completes the command
	pos = out.expect(t, pos, "primitive ")
	typeKeys("p1 ocf:test:Fake params al\t") // TAB completes a parameter from meta-data
	pos = out.expect(t, pos, "alpha=")
	typeKeys("1 op monitor interval=10s\r")
	pos = out.expect(t, pos, ")configure# ")
	typeKeys("show p\t") // TAB completes an id from the session
	pos = out.expect(t, pos, "p1 ")
	typeKeys("\r")
	pos = out.expect(t, pos, "primitive p1 ocf:test:Fake \\")
	pos = out.expect(t, pos, ")configure# ")
	if data, _ := os.ReadFile(cibFile); strings.Contains(string(data), `id="p1"`) {
		t.Fatal("primitive reached the CIB before commit")
	}
	typeKeys("commit\r")
	pos = out.expect(t, pos, "Do you still want to commit (y/n)? ")
	typeKeys("y\r")
	pos = out.expect(t, pos, ")configure# ")
	typeKeys("quit\r")
	select {
	case err := <-done:
		exited = true
		if err != nil {
			t.Fatalf("shell exited with %v; output:\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("shell did not exit; output:\n%s", out.String())
	}
	<-copied
	data, err := os.ReadFile(cibFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `id="p1"`) || !strings.Contains(string(data), `name="alpha" value="1"`) {
		t.Errorf("CIB file lacks the primitive:\n%s", data)
	}
	hist, err := os.ReadFile(filepath.Join(dir, ".crm_history"))
	if err != nil || !strings.Contains(string(hist), "show p1") {
		t.Errorf("history = %q, %v", hist, err)
	}
	_ = pos
}

const testShellCIB = `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">
<configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="o-se" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="node1"/></nodes><resources><primitive id="web" class="ocf" provider="heartbeat" type="apache"/></resources><constraints/></configuration><status/></cib>`
