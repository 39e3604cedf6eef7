package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/crm/daemon"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestKeygen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "authkey")
	var errb bytes.Buffer
	if code := run([]string{"keygen", p}, &errb); code != exitOK {
		t.Fatalf("keygen: %d %s", code, errb.String())
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi, err)
	}
	if code := run([]string{"keygen", p}, &errb); code != exitError {
		t.Fatal("keygen overwrote an existing file")
	}
}

func TestRefusesLooseKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "authkey")
	var errb bytes.Buffer
	if code := run([]string{"keygen", p}, &errb); code != exitOK {
		t.Fatal(errb.String())
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	code := run([]string{"--name", "x", "--data-dir", dir, "--bind", "127.0.0.1:1", "--keyfile", p, "--socket", ""}, &errb)
	if code != exitError || !strings.Contains(errb.String(), "key file") {
		t.Fatalf("loose key file accepted: code %d, %s", code, errb.String())
	}
}

func TestBadFlags(t *testing.T) {
	var errb bytes.Buffer
	if code := run([]string{"--bind", "nope"}, &errb); code != exitUsage {
		t.Fatalf("bad bind: %d", code)
	}
}

// freeBase returns P with P..P+2 free on loopback.
func freeBase(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		ok := p+2 <= 65535
		for off := 0; ok && off < 3; off++ {
			l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+off))
			if err != nil {
				ok = false
				break
			}
			l2.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free ports")
	return 0
}

type proc struct {
	name, sock string
	cmd        *exec.Cmd
	log        *bytes.Buffer
}

func getCIB(t *testing.T, sock string) *cib.CIB {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := api.Dial(ctx, sock)
	if err != nil {
		return nil
	}
	defer c.Close()
	x, err := c.GetCIB(ctx)
	if err != nil {
		return nil
	}
	parsed, err := cib.Parse([]byte(x))
	if err != nil {
		t.Fatalf("CIB from %s: %v", sock, err)
	}
	return parsed
}

func startedOn(c *cib.CIB, rsc string) string {
	if c == nil {
		return ""
	}
	for _, ns := range c.Status.Nodes {
		if ns.InCCM != "true" {
			continue
		}
		for _, lr := range ns.Resources {
			if lr.ID != rsc {
				continue
			}
			for _, op := range lr.Ops {
				if op.ID == rsc+"_last_0" && op.Operation == "start" && op.RCCode == 0 {
					return ns.Uname
				}
			}
		}
	}
	return ""
}

// TestThreeProcesses builds crmd, runs three daemons on loopback,
// configures a Dummy resource through the control socket, kills -9 the node
// running it and measures the time until it is started elsewhere.
func TestThreeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level cluster test skipped in -short mode")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "crmd")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	key := filepath.Join(dir, "authkey")
	var errb bytes.Buffer
	if run([]string{"keygen", key}, &errb) != exitOK {
		t.Fatal(errb.String())
	}
	// The daemons talk mutual TLS with certificates from --tls-dir.
	pki := filepath.Join(dir, "pki")
	o := consensus.PKIOptions{OwnerCheck: consensus.RootOrCurrentUser}
	if _, err := consensus.InitPKI(pki, "t", "p1", o); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"p2", "p3"} {
		if _, _, err := consensus.IssueNodeCert(pki, n, o); err != nil {
			t.Fatal(err)
		}
	}
	var procs []*proc
	seed := ""
	for i := 1; i <= 3; i++ {
		name := "p" + strconv.Itoa(i)
		port := freeBase(t)
		p := &proc{name: name, sock: filepath.Join(dir, name, "run", "crmd.sock"), log: &bytes.Buffer{}}
		args := []string{"--name", name, "--data-dir", filepath.Join(dir, name, "data"), "--bind", "127.0.0.1:" + strconv.Itoa(port),
			"--bootstrap-expect", "3", "--socket", p.sock, "--keyfile", key, "--log-level", "warn", "--tls-dir", pki}
		if seed != "" {
			args = append(args, "--join", seed)
		} else {
			seed = "127.0.0.1:" + strconv.Itoa(port)
		}
		p.cmd = exec.Command(bin, args...)
		p.cmd.Stderr = p.log
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			if p.cmd.ProcessState == nil {
				_ = p.cmd.Process.Signal(syscall.SIGTERM)
				done := make(chan struct{})
				go func() { _ = p.cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(20 * time.Second):
					_ = p.cmd.Process.Kill()
					<-done
				}
			}
			if t.Failed() {
				t.Logf("%s log:\n%s", p.name, p.log.String())
			}
		}
	})
	wait := func(what string, timeout time.Duration, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for time.Since(start) < timeout {
			if cond() {
				return time.Since(start)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s", what)
		return 0
	}
	var cur *cib.CIB
	wait("3 nodes online", 30*time.Second, func() bool {
		cur = getCIB(t, procs[0].sock)
		if cur == nil || len(cur.Config.Nodes) != 3 {
			return false
		}
		n := 0
		for _, ns := range cur.Status.Nodes {
			if ns.InCCM == "true" && ns.Crmd == "online" {
				n++
			}
		}
		return n == 3
	})
	next := *cur
	next.Status = cib.Status{}
	cfg, err := cib.Parse([]byte(`<cib epoch="0" num_updates="0" admin_epoch="0"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/><resources>
<primitive id="vip" class="ocf" provider="gocrm" type="Dummy"><operations><op id="vip-mon" name="monitor" interval="1s"/></operations></primitive>
</resources><constraints/></configuration><status/></cib>`))
	if err != nil {
		t.Fatal(err)
	}
	next.Config.CRMConfig, next.Config.Resources = cfg.Config.CRMConfig, cfg.Config.Resources
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := api.Dial(ctx, procs[1].sock)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Apply(ctx, store.Command{Op: store.OpReplaceConfiguration, XML: string(next.Marshal()), ExpectEpoch: store.EpochString(cur)})
	c.Close()
	if err != nil {
		t.Fatalf("configure: %v", err)
	}
	where := ""
	wait("vip started", 30*time.Second, func() bool {
		where = startedOn(getCIB(t, procs[0].sock), "vip")
		return where != ""
	})
	var victim *proc
	var survivor *proc
	for _, p := range procs {
		if p.name == where {
			victim = p
		} else {
			survivor = p
		}
	}
	time.Sleep(time.Second) // let monitors settle
	wasDC := false
	if c, err := api.Dial(ctx, victim.sock); err == nil {
		if resp, err := c.Do(ctx, api.Request{Op: api.OpStatus}); err == nil && resp.Status != nil {
			wasDC = resp.Status.IsDC
		}
		c.Close()
	}
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = victim.cmd.Wait()
	took := wait("vip started elsewhere", 60*time.Second, func() bool {
		w := startedOn(getCIB(t, survivor.sock), "vip")
		return w != "" && w != victim.name
	})
	t.Logf("kill -9 of %s (DC: %v): vip started on another node after %v", victim.name, wasDC, took)

	// SIGTERM the node now running vip: a clean shutdown exits 0.
	owner := startedOn(getCIB(t, survivor.sock), "vip")
	var term *proc
	for _, p := range procs {
		if p.name == owner {
			term = p
		}
	}
	if term == nil {
		t.Fatalf("vip owner %q unknown", owner)
	}
	start := time.Now()
	if err := term.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- term.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("%s: exit after SIGTERM: %v", term.name, err)
		}
	case <-time.After(70 * time.Second):
		t.Fatalf("%s did not exit after SIGTERM", term.name)
	}
	t.Logf("SIGTERM of %s: clean exit after %v", term.name, time.Since(start))
}

func TestTLSFlags(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "authkey")
	var errb bytes.Buffer
	if code := run([]string{"keygen", key}, &errb); code != exitOK {
		t.Fatal(errb.String())
	}
	pki := filepath.Join(dir, "pki")
	base := []string{"--name", "x", "--data-dir", filepath.Join(dir, "data"), "--bind", "127.0.0.1:1", "--keyfile", key, "--socket", ""}
	// No certificate and no --insecure-transport: refused with a hint.
	errb.Reset()
	code := run(append(base, "--tls-dir", pki), &errb)
	if code != exitError || !strings.Contains(errb.String(), "crm cluster init") || !strings.Contains(errb.String(), "--insecure-transport") {
		t.Fatalf("missing certificate accepted: code %d, %s", code, errb.String())
	}
	// A world-readable TLS key stops crmd with a clear message.
	o := consensus.PKIOptions{OwnerCheck: consensus.RootOrCurrentUser}
	if _, err := consensus.InitPKI(pki, "t", "x", o); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(pki, "x.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	code = run(append(base, "--tls-dir", pki), &errb)
	if code != exitError || !strings.Contains(errb.String(), "x.key has mode 0644, must be 0600") {
		t.Fatalf("loose TLS key accepted: code %d, %s", code, errb.String())
	}
	// Explicit files naming another node are refused too.
	if err := os.Chmod(filepath.Join(pki, "x.key"), 0o600); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	code = run([]string{"--name", "y", "--data-dir", filepath.Join(dir, "data"), "--bind", "127.0.0.1:1", "--keyfile", key, "--socket", "",
		"--tls-cert", filepath.Join(pki, "x.crt"), "--tls-key", filepath.Join(pki, "x.key")}, &errb)
	if code != exitError || !strings.Contains(errb.String(), `certificate is for node "x"`) {
		t.Fatalf("certificate of another node accepted: code %d, %s", code, errb.String())
	}
}

func TestTLSDirFromSandboxEnv(t *testing.T) {
	sb := t.TempDir()
	o := consensus.PKIOptions{OwnerCheck: consensus.RootOrCurrentUser}
	if _, err := consensus.InitPKI(filepath.Join(sb, "pki"), "t", "n1", o); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOCRM_SANDBOX_DIR", sb)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, filepath.Join(sb, "pki", "n1.crt")},
		{[]string{"--tls-dir", "/nonexistent"}, ""},
	} {
		fl := flag.NewFlagSet("t", flag.ContinueOnError)
		tf := addTLSFlags(fl)
		if err := fl.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		cfg := daemon.Config{Name: "n1"}
		tf.apply(&cfg)
		if cfg.TLSCertFile != c.want {
			t.Errorf("args %v: certificate %q, want %q", c.args, cfg.TLSCertFile, c.want)
		}
	}
}
