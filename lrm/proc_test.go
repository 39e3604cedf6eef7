package lrm

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// Output larger than a pipe buffer (64 KiB), written just before the
// agent exits while a background child keeps the pipes open, is captured
// whole: part is read while the agent runs, the rest is drained from the
// pipe at exit.
func TestOutputBeforeExitIsDrainedWithHelperHoldingPipes(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	e, rsc := ocfFixture(t, "bigbg", fmt.Sprintf(`sleep 30 &
echo $! > %s
head -c 200000 /dev/zero | tr '\0' y
echo
echo END
head -c 100000 /dev/zero | tr '\0' z >&2
echo >&2
echo ocf-exit-reason:all done >&2
exit 0
`, pidFile))
	e.Proc = ProcOptions{}
	r, _ := execWithTimeout(e, Action{Rsc: rsc, Op: OpStart})
	for _, p := range readPIDs(t, pidFile) {
		_ = syscall.Kill(p, syscall.SIGKILL) // the orphan was started by this test
	}
	if r.RC != agent.OK {
		t.Fatalf("got rc %v status %v reason %q", r.RC, r.Status, r.Reason)
	}
	if want := strings.Repeat("y", 200000) + "\nEND\n"; r.Output != want {
		t.Errorf("stdout: %d bytes (want %d), tail %q", len(r.Output), len(want), r.Output[max(0, len(r.Output)-20):])
	}
	if !strings.HasSuffix(r.Stderr, "ocf-exit-reason:all done\n") || len(r.Stderr) != 100001+len("ocf-exit-reason:all done\n") {
		t.Errorf("stderr: %d bytes, tail %q", len(r.Stderr), r.Stderr[max(0, len(r.Stderr)-30):])
	}
	if r.Reason != "all done" {
		t.Errorf("reason %q", r.Reason)
	}
}

// An explicit WaitDelay still waits (that long at most) for output a
// background child writes after the agent exited.
func TestExplicitWaitDelayCollectsLateOutput(t *testing.T) {
	e, rsc := ocfFixture(t, "late", "(sleep 0.2; echo late) &\necho early\nexit 0\n")
	e.Proc = ProcOptions{WaitDelay: 5 * time.Second}
	r, took := execWithTimeout(e, Action{Rsc: rsc, Op: OpStart})
	if r.RC != agent.OK || r.Output != "early\nlate\n" {
		t.Fatalf("got %+v", r)
	}
	if took < 200*time.Millisecond || took > 4*time.Second {
		t.Errorf("took %v: want the late output (~200 ms), not the whole WaitDelay", took)
	}
	e.Proc = ProcOptions{}
	r, took = execWithTimeout(e, Action{Rsc: rsc, Op: OpStart})
	if r.RC != agent.OK || r.Output != "early\n" || took > 190*time.Millisecond {
		t.Errorf("without WaitDelay: output %q after %v, want %q at the agent's exit", r.Output, took, "early\n")
	}
}

// A timed-out agent's process group is killed and the result comes back
// even though a grandchild held the pipes.
func TestTimeoutKillsGroupAndReturns(t *testing.T) {
	e, rsc := ocfFixture(t, "hang", "sleep 30 &\nsleep 30\n")
	e.Proc = ProcOptions{}
	r, took := execWithTimeout(e, Action{Rsc: rsc, Op: OpStart, Timeout: 300 * time.Millisecond})
	if r.Status != StatusTimeout {
		t.Fatalf("got %+v", r)
	}
	if took > 3*time.Second {
		t.Errorf("timeout result after %v", took)
	}
}

// The result of an agent that leaves a background child holding its
// output pipes arrives as fast as that of an agent without one (HEAD's
// executor waited 100 ms for the pipes: every IPaddr2 start). Medians of
// five runs each, interleaved, so that machine load affects both alike.
func TestResultNotDelayedByBackgroundChild(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	plain, rsc := ocfFixture(t, "plain", "echo started\nexit 0\n")
	// $$ is the agent's pid, which is its process group's id.
	bg, rscBG := ocfFixture(t, "bg", fmt.Sprintf("(sleep 5; echo late) &\necho $$ >> %s\necho started\nexit 0\n", pidFile))
	plain.Proc, bg.Proc = ProcOptions{}, ProcOptions{}
	t.Cleanup(func() {
		for _, p := range readPIDs(t, pidFile) {
			_ = syscall.Kill(-p, syscall.SIGKILL) // the groups of the agents this test ran
		}
	})
	var tp, tb []time.Duration
	for i := 0; i < 5; i++ {
		r, d := execWithTimeout(plain, Action{Rsc: rsc, Op: OpStart})
		if r.RC != agent.OK || r.Output != "started\n" {
			t.Fatalf("plain: %+v", r)
		}
		tp = append(tp, d)
		r, d = execWithTimeout(bg, Action{Rsc: rscBG, Op: OpStart})
		if r.RC != agent.OK || r.Output != "started\n" {
			t.Fatalf("with a background child: %+v", r)
		}
		tb = append(tb, d)
	}
	slices.Sort(tp)
	slices.Sort(tb)
	if tb[2] > tp[2]+60*time.Millisecond {
		t.Errorf("median %v with a background child holding the pipes vs %v without: the result waited for the pipes", tb[2], tp[2])
	}
	t.Logf("median start %v plain, %v with a background child", tp[2], tb[2])
}
