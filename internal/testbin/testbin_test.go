package testbin

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a testing.TB that records Logf and Fatalf; Fatalf ends the
// calling goroutine like the real one (run the code under test with
// capture).
type recorder struct {
	testing.TB
	mu     sync.Mutex
	logs   []string
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.failed = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// capture runs f with a recorder on its own goroutine, as a test would.
func capture(t *testing.T, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestSyncBufferConcurrent(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				fmt.Fprintf(&b, "%d\n", w)
			}
		}()
	}
	reads := 0
	for b.Len() < 800 {
		_ = b.String()
		reads++
		runtime.Gosched()
	}
	wg.Wait()
	s := b.String()
	for w := range 4 {
		if n := strings.Count(s, strconv.Itoa(w)+"\n"); n != 100 {
			t.Errorf("writer %d: %d lines, want 100", w, n)
		}
	}
	if b.Len() != len(s) || len(s) != 800 {
		t.Errorf("Len %d, String %d bytes, want 800", b.Len(), len(s))
	}
}

func TestPoll(t *testing.T) {
	calls := 0
	took, ok := Poll(time.Second, time.Millisecond, func() bool { calls++; return calls == 3 })
	if !ok || calls != 3 || took > time.Second {
		t.Errorf("Poll = %v, %v after %d calls; want true after 3", took, ok, calls)
	}
	calls = 0
	took, ok = Poll(30*time.Millisecond, 5*time.Millisecond, func() bool { calls++; return false })
	if ok || took < 30*time.Millisecond || calls < 2 {
		t.Errorf("Poll of a false condition = %v, %v after %d calls", took, ok, calls)
	}
	// A condition that already holds is checked once, even with no time.
	calls = 0
	if _, ok := Poll(0, time.Hour, func() bool { calls++; return true }); !ok || calls != 1 {
		t.Errorf("Poll(0) = %v after %d calls", ok, calls)
	}
}

func TestWaitFor(t *testing.T) {
	r := capture(t, func(tb testing.TB) {
		WaitFor(tb, 20*time.Millisecond, time.Millisecond, "the impossible", func() bool { return false })
	})
	if want := "timed out after 20ms waiting for the impossible"; r.failed != want {
		t.Errorf("failure %q, want %q", r.failed, want)
	}
	n := 0
	r = capture(t, func(tb testing.TB) {
		WaitFor(tb, time.Second, time.Millisecond, "n to reach 2", func() bool { n++; return n >= 2 })
	})
	if r.failed != "" || n != 2 {
		t.Errorf("failure %q after %d calls", r.failed, n)
	}
}

func TestFreePorts(t *testing.T) {
	p := FreePorts(t, 3)
	if p <= 0 || p+2 > 65535 {
		t.Fatalf("FreePorts = %d", p)
	}
	for off := range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+off))
		if err != nil {
			t.Fatalf("port %d: %v", p+off, err)
		}
		l.Close()
	}
	u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Fatalf("udp port %d: %v", p, err)
	}
	// A taken port is not reported free.
	if portsFree(p, 1) {
		t.Errorf("udp port %d reported free while bound", p)
	}
	u.Close()
}

// TestParseLogfmt: the testbin name is the logfmt parser (its own
// tests are in internal/logfmt).
func TestParseLogfmt(t *testing.T) {
	if got := ParseLogfmt(`a=1 b="x y" a=2`); fmt.Sprint(got) != "map[a:1 b:x y]" {
		t.Errorf("ParseLogfmt = %v", got)
	}
}

func TestEachLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	long := strings.Repeat("x", 200<<10)
	if err := os.WriteFile(p, []byte("a\n"+long+"\nlast"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := EachLine(p, func(l string) { got = append(got, l) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "a" || got[1] != long || got[2] != "last" {
		t.Errorf("lines %d, first %q", len(got), got[0])
	}
	err := EachLine(filepath.Join(t.TempDir(), "missing"), func(string) { t.Error("line from a missing file") })
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLogTail(t *testing.T) {
	p := filepath.Join(t.TempDir(), "crmd.log")
	var lines []string
	for i := 1; i <= 50; i++ {
		lines = append(lines, "line"+strconv.Itoa(i))
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := capture(t, func(tb testing.TB) { LogTail(tb, "n1 crmd.log", p, 40) })
	want := "--- tail of n1 crmd.log:\n" + strings.Join(lines[10:], "\n")
	if len(r.logs) != 1 || r.logs[0] != want {
		t.Errorf("logged %q, want %q", r.logs, want)
	}
	r = capture(t, func(tb testing.TB) { LogTail(tb, "none", p+".missing", 40) })
	if len(r.logs) != 0 {
		t.Errorf("missing file logged %q", r.logs)
	}
}

// TestSetBuild builds a tiny main package (testdata/hello) with Dir and
// again with Build: once each, into one directory that Remove deletes.
func TestSetBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary; skipped in -short mode")
	}
	s := &Set{Prefix: "testbin", Pkgs: []string{"./internal/testbin/testdata/hello"}}
	dir := s.Dir(t)
	if s.Dir(t) != dir {
		t.Error("second Dir call built again")
	}
	out, err := exec.Command(filepath.Join(dir, "hello")).Output()
	if err != nil || string(out) != "hello from testbin\n" {
		t.Fatalf("built hello: %q %v", out, err)
	}
	p := s.Build(t, "./internal/testbin/testdata/hello")
	if p != filepath.Join(dir, "hello") {
		t.Errorf("Build = %s", p)
	}
	if again := s.Build(t, "./internal/testbin/testdata/hello"); again != p {
		t.Errorf("second Build = %s", again)
	}
	s.Remove()
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Remove left %s: %v", dir, err)
	}
}

// TestSetBuildFailure: a package that does not build fails the test with
// the compiler's output.
func TestSetBuildFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool; skipped in -short mode")
	}
	s := &Set{Prefix: "testbin", Pkgs: []string{"./internal/testbin/testdata/missing"}}
	defer s.Remove()
	r := capture(t, func(tb testing.TB) { s.Dir(tb) })
	if !strings.Contains(r.failed, "go build ./internal/testbin/testdata/missing") {
		t.Errorf("failure %q", r.failed)
	}
}

// TestNetnsVeth builds two namespaces joined by a veth pair, checks the
// addresses and the link, and that the namespaces go with the test.
func TestNetnsVeth(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skipf("needs ip(8): %v", err)
	}
	a, b := fmt.Sprintf("tbn%d-a", os.Getpid()), fmt.Sprintf("tbn%d-b", os.Getpid())
	t.Run("lab", func(t *testing.T) {
		Netns(t, a)
		Netns(t, b)
		NoDAD(t, a)
		Veth(t, VethEnd{NS: a, Name: "va", MAC: "02:99:00:00:00:21", Addr: "10.99.0.21/24"},
			VethEnd{NS: b, Name: "vb", Addr: "10.99.0.22/24"})
		if out := Run(t, "ip", "-n", a, "addr", "show", "dev", "va"); !strings.Contains(out, "inet 10.99.0.21/24") ||
			!strings.Contains(out, "02:99:00:00:00:21") || !strings.Contains(out, "state UP") && !strings.Contains(out, "LOWER_UP") {
			t.Errorf("va:\n%s", out)
		}
		if out := Run(t, "ip", "-n", b, "addr", "show", "dev", "vb"); !strings.Contains(out, "inet 10.99.0.22/24") {
			t.Errorf("vb:\n%s", out)
		}
		if out := Run(t, "ip", "netns", "exec", a, "sysctl", "-n", "net.ipv6.conf.default.accept_dad"); strings.TrimSpace(out) != "0" {
			t.Errorf("accept_dad in %s = %q", a, out)
		}
		if out := Run(t, "ip", "-n", a, "link", "show", "lo"); !strings.Contains(out, "UP") {
			t.Errorf("lo of %s not up:\n%s", a, out)
		}
		// A bridge end.
		Run(t, "ip", "-n", b, "link", "add", "br0", "type", "bridge")
		Veth(t, VethEnd{NS: b, Name: "p1", Master: "br0"}, VethEnd{NS: a, Name: "eth1"})
		if out := Run(t, "ip", "-n", b, "link", "show", "p1"); !strings.Contains(out, "master br0") {
			t.Errorf("p1 not in br0:\n%s", out)
		}
		r := capture(t, func(tb testing.TB) { Run(tb, "ip", "-n", a, "link", "show", "nonexistent0") })
		if !strings.Contains(r.failed, "ip -n "+a+" link show nonexistent0: exit status") {
			t.Errorf("failed command reported as %q", r.failed)
		}
	})
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{a, b} {
		if strings.Contains(string(out), ns) {
			t.Errorf("namespace %s left after the test", ns)
		}
	}
}

// TestCrmStatusEmbedded: a test's own status type embedding CrmStatus
// gets the DC and the nodes, and its own fields.
func TestCrmStatusEmbedded(t *testing.T) {
	const out = `<pacemaker-result api-version="2.0" request="crm status --output-as=xml">
<summary><current_dc present="true" version="x" name="n2" with_quorum="true"/></summary>
<nodes>
<node name="n1" id="1" online="true" standby="false" pending="false" unclean="false"/>
<node name="n2" id="2" online="false" standby="true" pending="true" unclean="true"/>
</nodes>
<resources><resource id="r1" role="Started"/></resources>
</pacemaker-result>`
	var s struct {
		CrmStatus
		Resources []struct {
			ID string `xml:"id,attr"`
		} `xml:"resources>resource"`
	}
	if err := xml.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	want := []StatusNode{{"n1", "true", "false", "false", "false"}, {"n2", "false", "true", "true", "true"}}
	if s.DC.Name != "n2" || s.DC.Present != "true" || fmt.Sprint(s.Nodes) != fmt.Sprint(want) ||
		len(s.Resources) != 1 || s.Resources[0].ID != "r1" {
		t.Errorf("parsed %+v", s)
	}
}
