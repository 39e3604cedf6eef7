package netlab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/gocrm/gocrm/internal/testbin"
)

// Lab addressing: everything lives in 10.99.0.0/24 inside the test's
// own namespaces.
const (
	net4    = "10.99.0"
	vipAddr = net4 + ".50"
	// clusterName is the crmd --cluster-name (and the CA's cluster).
	clusterName = "netlab"
	clientAddr  = net4 + ".100"
	gossipPort  = 7946

	// pollInterval is the client's request period; probeTimeout bounds
	// one request (connect + answer).
	pollInterval = 10 * time.Millisecond
	probeTimeout = 50 * time.Millisecond

	// httpdArg makes the test binary run the lab's web server.
	httpdArg = "netlab-httpd"
	// nodeArg makes the test binary run a node's init (see nodeInit).
	nodeArg = "netlab-node"
	// dataFile is the file on the ext4 image the web server answers with.
	dataFile = "data.txt"
)

var nodes = []string{"n1", "n2", "n3"}

// nodeAddr returns node nK's address 10.99.0.1K.
func nodeAddr(n string) string { return net4 + ".1" + strings.TrimPrefix(n, "n") }

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == httpdArg {
		os.Exit(serveHTTP(os.Args[2]))
	}
	if len(os.Args) > 2 && os.Args[1] == nodeArg {
		os.Exit(nodeInit(os.Args[2:]))
	}
	os.Exit(bins.Run(m))
}

// serveHTTP is the web server of the httpd resource: it listens on :80 in
// the node's namespace and answers "node=nK data=<ROOT/data.txt>", or 503
// while the file is unreadable (the filesystem is not mounted). The node
// is the owner of the namespace's 10.99.0.1K address.
func serveHTTP(root string) int {
	node := "unknown"
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			s := ipn.IP.String()
			if rest, ok := strings.CutPrefix(s, net4+".1"); ok && len(rest) == 1 {
				node = "n" + rest
			}
		}
	}
	l, err := net.Listen("tcp", ":80")
	if err != nil {
		fmt.Fprintln(os.Stderr, "netlab-httpd:", err)
		return 1
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		data, err := os.ReadFile(filepath.Join(root, dataFile))
		if err != nil {
			http.Error(w, "node="+node+" no data: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "node=%s data=%s\n", node, strings.TrimSpace(string(data)))
	})}
	if err := srv.Serve(l); err != nil {
		fmt.Fprintln(os.Stderr, "netlab-httpd:", err)
		return 1
	}
	return 0
}

// bins holds crmd and crm, built once per test binary run.
var bins = &testbin.Set{Prefix: "netlab"}

// requireLab skips the test unless the lab can run here and returns the
// directory holding freshly built crmd and crm.
func requireLab(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping netns failover lab in -short mode (3 crmd processes, ~1 min)")
	}
	if runtime.GOOS != "linux" {
		t.Skipf("the netns lab needs Linux, not %s", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: the netns lab needs root (network namespaces, veth, loop device, mount)")
	}
	for _, tool := range []string{"ip", "losetup", "mkfs.ext4"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s not installed (iproute2, util-linux, e2fsprogs): %v", tool, err)
		}
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skipf("skipping: no loop devices here: %v", err)
	}
	if dir := os.Getenv("GOCRM_NETLAB_BIN"); dir != "" {
		// Prebuilt crmd and crm (e.g. while the tree is mid-edit).
		for _, b := range []string{"crmd", "crm"} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				t.Fatalf("GOCRM_NETLAB_BIN: %v", err)
			}
		}
		return dir
	}
	return bins.Dir(t)
}

// lab is one test's namespaces, loop device and crmd processes.
type lab struct {
	t       *testing.T
	prefix  string // namespace name prefix
	dir     string // scratch directory (short: unix socket paths)
	crmd    string
	crm     string
	self    string   // this test binary (the web server)
	mnt     string   // the Filesystem resource's mount point
	data    string   // the marker in data.txt on the image
	members []string // the group's members in start order

	pki     string // --tls-dir of every crmd ("" = a crmd without TLS support)
	crashed map[string]bool

	mu      sync.Mutex
	madeNS  []string
	loopDev string
	procs   map[string]*crmdProc
}

// crmdProc is a crmd this test started.
type crmdProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (l *lab) ns(name string) string { return l.prefix + name }

// run runs a command that must succeed.
func (l *lab) run(name string, args ...string) string {
	l.t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newLab builds the network (bridge namespace, three nodes, a client)
// and the ext4 image on a loop device, and registers the teardown.
func newLab(t *testing.T) *lab {
	bin := requireLab(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cleanStale(t)
	tag := "gnl" + strconv.Itoa(os.Getpid()) + "-"
	dir, err := os.MkdirTemp("", tag)
	if err != nil {
		t.Fatal(err)
	}
	var marker [3]byte
	_, _ = rand.Read(marker[:])
	l := &lab{t: t, prefix: tag, dir: dir,
		crmd: filepath.Join(bin, "crmd"), crm: filepath.Join(bin, "crm"), self: self,
		mnt: filepath.Join(dir, "mnt"), data: "netlab-" + hex.EncodeToString(marker[:]),
		members: defaultMembers, procs: map[string]*crmdProc{}, crashed: map[string]bool{}}
	t.Cleanup(l.teardown)

	for _, n := range append([]string{"sw", "c1"}, nodes...) {
		l.run("ip", "netns", "add", l.ns(n))
		l.mu.Lock()
		l.madeNS = append(l.madeNS, l.ns(n))
		l.mu.Unlock()
		l.run("ip", "-n", l.ns(n), "link", "set", "lo", "up")
	}
	sw := l.ns("sw")
	l.run("ip", "-n", sw, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0")
	l.run("ip", "-n", sw, "link", "set", "br0", "up")
	for _, n := range append([]string{"c1"}, nodes...) {
		addr := clientAddr
		if n != "c1" {
			addr = nodeAddr(n)
		}
		// The switch end is named after the namespace; the node end is eth0.
		testbin.Veth(t, testbin.VethEnd{NS: sw, Name: n, Master: "br0"},
			testbin.VethEnd{NS: l.ns(n), Name: "eth0", Addr: addr + "/24"})
	}

	// The shared disk: an ext4 image (populated by mkfs, never mounted
	// on the host) on a loop device.
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, dataFile), []byte(l.data+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(l.mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		t.Fatal(err)
	}
	l.run("mkfs.ext4", "-q", "-F", "-d", src, img)
	dev := strings.TrimSpace(l.run("losetup", "--find", "--show", img))
	l.mu.Lock()
	l.loopDev = dev
	l.mu.Unlock()
	l.run(l.crmd, "keygen", filepath.Join(dir, "authkey"))
	// Raft and the node RPC run over mutual TLS, as in production, when
	// this crmd has certificates (older ones only know plain TCP).
	if help, _ := exec.Command(l.crmd, "--help").CombinedOutput(); strings.Contains(string(help), "-tls-dir") {
		l.pki = filepath.Join(dir, "pki")
		l.run(l.crm, "cluster", "init", "--pki-dir", l.pki, "--name", nodes[0], "--cluster-name", clusterName)
		for _, n := range nodes[1:] {
			l.run(l.crm, "cluster", "cert", n, "--pki-dir", l.pki)
		}
	}
	return l
}

// stalePID parses the PID out of a name this test gives its namespaces
// and scratch directories (gnl<PID>-...) and reports whether that process
// is gone, i.e. the run that made it was killed before its cleanup.
func stalePID(name string) bool {
	rest, ok := strings.CutPrefix(name, "gnl")
	i := strings.IndexByte(rest, '-')
	if !ok || i <= 0 {
		return false
	}
	pid, err := strconv.Atoi(rest[:i])
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	_, err = os.Stat(fmt.Sprintf("/proc/%d", pid))
	return errors.Is(err, os.ErrNotExist)
}

// cleanStale removes what an earlier run of this test left when it was
// killed before t.Cleanup could run: its namespaces (and the processes in
// them, which that run started), loop devices and scratch directories.
// Only names of runs whose process no longer exists are touched.
func cleanStale(t *testing.T) {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !stalePID(f[0]) {
			continue
		}
		if err := killNS(f[0]); err != nil {
			t.Logf("stale lab: %v", err)
		}
		if b, err := exec.Command("ip", "netns", "delete", f[0]).CombinedOutput(); err != nil {
			t.Logf("stale lab: ip netns delete %s: %v %s", f[0], err, b)
		} else {
			t.Logf("removed namespace %s of an earlier, killed run", f[0])
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "gnl*-*"))
	for _, d := range dirs {
		if !stalePID(filepath.Base(d)) {
			continue
		}
		img := filepath.Join(d, "fs.img")
		if b, err := exec.Command("losetup", "-j", img).Output(); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if dev, _, ok := strings.Cut(line, ":"); ok && strings.HasPrefix(dev, "/dev/loop") {
					_ = exec.Command("losetup", "-d", dev).Run()
				}
			}
		}
		if err := os.RemoveAll(d); err == nil {
			t.Logf("removed %s of an earlier, killed run", d)
		}
	}
}

// nsPids lists the processes inside one of the test's namespaces.
func nsPids(ns string) []int {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if p, err := strconv.Atoi(f); err == nil && p > 0 && p != os.Getpid() {
			pids = append(pids, p)
		}
	}
	return pids
}

// killNS SIGKILLs every process in the namespace (all of them were
// started by this test) until none is left.
func killNS(ns string) error {
	for i := 0; i < 200; i++ {
		pids := nsPids(ns)
		if len(pids) == 0 {
			return nil
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("processes survive in namespace %s: %v", ns, nsPids(ns))
}

// teardown kills the test's processes, detaches the loop device, deletes
// the namespaces and the scratch directory. It runs on failure too.
func (l *lab) teardown() {
	l.mu.Lock()
	made := append([]string(nil), l.madeNS...)
	dev := l.loopDev
	procs := l.procs
	l.mu.Unlock()
	if l.t.Failed() {
		l.dumpLogs()
	}
	for _, ns := range made {
		if err := killNS(ns); err != nil {
			l.t.Error(err)
		}
	}
	for n, p := range procs {
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			l.t.Errorf("crmd of %s did not exit", n)
		}
	}
	if dev != "" {
		// The mounts lived in the killed crmd processes' mount namespaces;
		// if one is still being torn down, -d sets autoclear instead.
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			l.t.Errorf("losetup -d %s: %v\n%s", dev, err, out)
		}
	}
	for _, ns := range made {
		if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
			l.t.Errorf("ip netns delete %s: %v\n%s", ns, err, out)
		}
	}
	if os.Getenv("GOCRM_NETLAB_KEEP") == "" {
		_ = os.RemoveAll(l.dir)
	} else {
		l.t.Logf("kept %s (GOCRM_NETLAB_KEEP)", l.dir)
	}
}

func (l *lab) logFile(n string) string { return filepath.Join(l.dir, n, "crmd.log") }
func (l *lab) socket(n string) string  { return filepath.Join(l.dir, n, "crmd.sock") }

func (l *lab) dumpLogs() {
	for _, n := range nodes {
		testbin.LogTail(l.t, n+" crmd.log", l.logFile(n), 40)
	}
}

// startCrmd starts node n's crmd inside its network namespace under the
// node's init (nodeInit). `ip netns exec` also gives the node a private
// mount namespace: the Filesystem resource's mount is visible to that
// node's processes only.
func (l *lab) startCrmd(n string) {
	l.t.Helper()
	nd := filepath.Join(l.dir, n)
	if err := os.MkdirAll(filepath.Join(nd, "data"), 0o750); err != nil {
		l.t.Fatal(err)
	}
	logf, err := os.OpenFile(l.logFile(n), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		l.t.Fatal(err)
	}
	defer logf.Close()
	args := []string{"netns", "exec", l.ns(n), l.self, nodeArg, l.crmd, "--name", n, "--cluster-name", clusterName,
		"--data-dir", filepath.Join(nd, "data"), "--bind", net.JoinHostPort(nodeAddr(n), strconv.Itoa(gossipPort)),
		"--bootstrap-expect", strconv.Itoa(len(nodes)), "--socket", l.socket(n),
		"--keyfile", filepath.Join(l.dir, "authkey")}
	if l.pki != "" {
		args = append(args, "--tls-dir", l.pki)
	}
	if lvl := os.Getenv("GOCRM_NETLAB_LOG_LEVEL"); lvl != "" {
		args = append(args, "--log-level", lvl)
	}
	for _, o := range nodes {
		if o != n {
			args = append(args, "--join", net.JoinHostPort(nodeAddr(o), strconv.Itoa(gossipPort)))
		}
	}
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("start crmd %s: %v", n, err)
	}
	p := &crmdProc{cmd: cmd, done: make(chan struct{})}
	go func() { // reaps the process; ends when it exits
		_ = cmd.Wait()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs[n] = p
	l.mu.Unlock()
}

// crmPID returns the pid of node n's init (ip netns exec execs it in
// place; it shares crmd's namespaces) or 0 when it has exited.
func (l *lab) crmPID(n string) int {
	l.mu.Lock()
	p := l.procs[n]
	l.mu.Unlock()
	if p == nil {
		return 0
	}
	select {
	case <-p.done:
		return 0
	default:
		return p.cmd.Process.Pid
	}
}

// crmCmd runs crm against node n's socket.
func (l *lab) crmCmd(n string, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.crm, args...)
	cmd.Env = append(os.Environ(), "CRM_SOCKET="+l.socket(n), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("crm %s (via %s): %w", strings.Join(args, " "), n, err)
	}
	return string(out), nil
}

// rscXML and statusXML are the parts of `crm status --output-as=xml` the
// test reads.
type rscXML struct {
	ID      string `xml:"id,attr"`
	Role    string `xml:"role,attr"`
	Active  string `xml:"active,attr"`
	Failed  string `xml:"failed,attr"`
	Blocked string `xml:"blocked,attr"`
	Nodes   []struct {
		Name string `xml:"name,attr"`
	} `xml:"node"`
}

type statusXML struct {
	testbin.CrmStatus
	Resources struct {
		Resources []rscXML `xml:"resource"`
		Groups    []struct {
			ID        string   `xml:"id,attr"`
			Resources []rscXML `xml:"resource"`
		} `xml:"group"`
	} `xml:"resources"`
	Failures []struct {
		Node string `xml:"node,attr"`
		Op   string `xml:"op_key,attr"`
	} `xml:"failures>failure"`
}

func (s *statusXML) online() []string {
	var out []string
	for _, n := range s.Nodes {
		if n.Online == "true" {
			out = append(out, n.Name)
		}
	}
	slices.Sort(out)
	return out
}

func (s *statusXML) node(name string) (online, standby bool) {
	for _, n := range s.Nodes {
		if n.Name == name {
			return n.Online == "true", n.Standby == "true"
		}
	}
	return false, false
}

// groupNode returns the node running every member of group g (each
// Started on exactly one node, none failed), or "".
func (s *statusXML) groupNode(g string) string {
	for _, gr := range s.Resources.Groups {
		if gr.ID != g || len(gr.Resources) == 0 {
			continue
		}
		where := ""
		for _, r := range gr.Resources {
			if r.Role != "Started" || r.Active != "true" || r.Failed == "true" || r.Blocked == "true" || len(r.Nodes) != 1 {
				return ""
			}
			if where != "" && r.Nodes[0].Name != where {
				return ""
			}
			where = r.Nodes[0].Name
		}
		return where
	}
	return ""
}

// status reads the cluster status through node n.
func (l *lab) status(n string) (*statusXML, error) {
	out, err := l.crmCmd(n, 5*time.Second, "status", "--output-as=xml")
	if err != nil {
		return nil, err
	}
	var s statusXML
	if err := xml.Unmarshal([]byte(out), &s); err != nil {
		return nil, fmt.Errorf("parse crm status xml: %w", err)
	}
	return &s, nil
}

// waitStatus polls node n's status every 100 ms until cond holds.
func (l *lab) waitStatus(n string, timeout time.Duration, what string, cond func(*statusXML) bool) *statusXML {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		for _, node := range nodes {
			if !l.crashed[node] && l.crmPID(node) == 0 {
				l.t.Fatalf("crmd of %s exited while waiting for %s (see its log below)", node, what)
			}
		}
		s, err := l.status(n)
		if err == nil && cond(s) {
			return s
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			out, _ := l.crmCmd(n, 5*time.Second, "status")
			l.t.Fatalf("timed out after %v waiting for %s (last error %v); status via %s:\n%s", timeout, what, last, n, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mountedIn lists the live nodes whose crmd mount namespace has the lab's
// filesystem mounted at the mount point.
func (l *lab) mountedIn() ([]string, error) {
	var out []string
	for _, n := range nodes {
		pid := l.crmPID(n)
		if pid == 0 {
			continue
		}
		has, err := hasMount(fmt.Sprintf("/proc/%d/mountinfo", pid), l.mnt)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // exited meanwhile
			}
			return nil, err
		}
		if has {
			out = append(out, n)
		}
	}
	return out, nil
}

// hasMount reports whether a mountinfo file lists a mount at dir.
func hasMount(mountinfo, dir string) (bool, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && fields[4] == dir {
			return true, nil
		}
	}
	return false, sc.Err()
}

// probe is one client request.
type probe struct {
	start, end time.Time
	ok         bool
	node, data string
	err        string
}

// poller is the client: one goroutine, its OS thread locked into the
// client namespace, requests http://VIP/ every pollInterval until its
// context ends. Owned by the test; stop waits for the goroutine.
type poller struct {
	mu     sync.Mutex
	probes []probe
	cancel context.CancelFunc
	done   chan struct{}
}

func startPoller(t *testing.T, clientNS string) *poller {
	ctx, cancel := context.WithCancel(context.Background())
	p := &poller{cancel: cancel, done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		defer close(p.done)
		// The thread stays locked and dies with this goroutine: it is in
		// the client namespace from now on.
		runtime.LockOSThread()
		h, err := netns.GetFromName(clientNS)
		if err == nil {
			err = netns.Set(h)
			h.Close()
		}
		ready <- err
		if err != nil {
			return
		}
		tick := time.NewTicker(pollInterval)
		defer tick.Stop()
		for {
			pr := request(ctx)
			p.mu.Lock()
			p.probes = append(p.probes, pr)
			p.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	if err := <-ready; err != nil {
		cancel()
		<-p.done
		t.Fatalf("client thread into namespace %s: %v", clientNS, err)
	}
	t.Cleanup(p.stop)
	return p
}

func (p *poller) stop() {
	p.cancel()
	<-p.done
}

func (p *poller) snapshot() []probe {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]probe(nil), p.probes...)
}

// request performs one HTTP/1.0 GET of http://VIP/ from the calling
// (namespace-locked) thread: the dial creates its socket synchronously
// here, so it belongs to the client namespace.
func request(ctx context.Context) probe {
	pr := probe{start: time.Now()}
	defer func() { pr.end = time.Now() }()
	d := net.Dialer{Timeout: probeTimeout}
	conn, err := d.DialContext(ctx, "tcp4", net.JoinHostPort(vipAddr, "80"))
	if err != nil {
		pr.err = err.Error()
		pr.end = time.Now()
		return pr
	}
	defer conn.Close()
	_ = conn.SetDeadline(pr.start.Add(probeTimeout))
	if _, err := io.WriteString(conn, "GET / HTTP/1.0\r\nHost: "+vipAddr+"\r\n\r\n"); err != nil {
		pr.err = err.Error()
		pr.end = time.Now()
		return pr
	}
	body, err := io.ReadAll(io.LimitReader(conn, 4096))
	pr.end = time.Now()
	if err != nil {
		pr.err = err.Error()
		return pr
	}
	head, content, _ := bytes.Cut(body, []byte("\r\n\r\n"))
	status := string(head)
	if i := strings.IndexByte(status, '\n'); i >= 0 {
		status = status[:i]
	}
	if f := strings.Fields(status); len(f) < 2 || f[1] != "200" {
		pr.err = "bad answer: " + strings.TrimSpace(status) + " " + strings.TrimSpace(string(content))
		return pr
	}
	for _, f := range strings.Fields(string(content)) {
		if v, ok := strings.CutPrefix(f, "node="); ok {
			pr.node = v
		}
		if v, ok := strings.CutPrefix(f, "data="); ok {
			pr.data = v
		}
	}
	pr.ok = pr.node != ""
	if !pr.ok {
		pr.err = "answer without node: " + string(content)
	}
	return pr
}

// waitAnswers waits until the client got n consecutive good answers
// from node since t0.
func (l *lab) waitAnswers(p *poller, node string, since time.Time, n int, timeout time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		probes := p.snapshot()
		run := 0
		for _, pr := range probes {
			if pr.start.Before(since) {
				continue
			}
			if pr.ok && pr.node == node {
				run++
			} else {
				run = 0
			}
		}
		if run >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	probes := p.snapshot()
	var tail []string
	for _, pr := range probes[max(0, len(probes)-10):] {
		tail = append(tail, fmt.Sprintf("ok=%v node=%s err=%s", pr.ok, pr.node, pr.err))
	}
	l.t.Fatalf("client did not get %d good answers in a row from %s within %v; last probes:\n%s", n, node, timeout, strings.Join(tail, "\n"))
}

// outage is the client's view of one failover.
type outage struct {
	firstFail   time.Duration // from T0 to the start of the first failed request (-1: none)
	firstNew    time.Duration // from T0 to the first good answer from the new node
	outage      time.Duration // first failed request's start -> first good answer from the new node
	maxGap      time.Duration // longest gap between two good answers around T0
	failed      int           // failed requests after T0
	servers     []string      // servers of the good answers after T0, in order, consecutive duplicates merged
	wrongData   int           // good answers whose data is not the image's marker
	preFailures int           // failed requests in the second before T0 (load noise)
}

func (o outage) String() string {
	return fmt.Sprintf("outage %v (first failure at T0+%v, first answer from the new node at T0+%v), longest gap between good answers %v, %d failed requests, servers %v",
		o.outage.Round(time.Millisecond), o.firstFail.Round(time.Millisecond), o.firstNew.Round(time.Millisecond),
		o.maxGap.Round(time.Millisecond), o.failed, o.servers)
}

// analyze computes the outage of the failover that started at t0 to
// newNode: from the first failed request after the old server's last
// answer (a failure followed by another answer from the old server is
// load noise, not the outage) to the first answer from newNode.
func analyze(probes []probe, t0 time.Time, newNode, data string) outage {
	o := outage{firstFail: -1, firstNew: -1}
	var failAt time.Time
	var lastGood time.Time
	for _, pr := range probes {
		if pr.start.Before(t0) {
			if !pr.ok && pr.start.After(t0.Add(-time.Second)) {
				o.preFailures++
			}
			if pr.ok {
				lastGood = pr.end
			}
			continue
		}
		if !pr.ok {
			o.failed++
			if failAt.IsZero() {
				failAt = pr.start
				o.firstFail = pr.start.Sub(t0)
			}
			continue
		}
		if pr.data != data {
			o.wrongData++
		}
		if len(o.servers) == 0 || o.servers[len(o.servers)-1] != pr.node {
			o.servers = append(o.servers, pr.node)
		}
		if pr.node != newNode && o.firstNew < 0 {
			failAt, o.firstFail = time.Time{}, -1
		}
		if !lastGood.IsZero() && pr.end.Sub(lastGood) > o.maxGap {
			o.maxGap = pr.end.Sub(lastGood)
		}
		lastGood = pr.end
		if pr.node == newNode && o.firstNew < 0 {
			o.firstNew = pr.end.Sub(t0)
			if !failAt.IsZero() {
				o.outage = pr.end.Sub(failAt)
			}
		}
	}
	return o
}

// logTimeline logs the crmd events after t0 that explain a failover:
// transitions and completed operations (with their execution time).
func (l *lab) logTimeline(t0 time.Time) {
	var lines []string
	for _, n := range nodes {
		// A log that cannot be read adds nothing to the timeline.
		_ = testbin.EachLine(l.logFile(n), func(line string) {
			if !strings.Contains(line, `msg="operation complete"`) && !strings.Contains(line, `msg="transition started"`) &&
				!strings.Contains(line, "member failed") && !strings.Contains(line, `msg="transition complete"`) {
				return
			}
			ts, ok := strings.CutPrefix(line, "time=")
			if !ok {
				return
			}
			ts, _, _ = strings.Cut(ts, " ")
			at, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil || at.Before(t0) {
				return
			}
			if strings.Contains(line, "_monitor_") && !strings.Contains(line, "_monitor_0") {
				return // recurring monitors
			}
			_, rest, _ := strings.Cut(line, " msg=")
			lines = append(lines, fmt.Sprintf("%6d ms %s %s", at.Sub(t0).Milliseconds(), n, rest))
		})
	}
	slices.SortStableFunc(lines, func(a, b string) int {
		ai, _ := strconv.Atoi(strings.TrimSpace(strings.Fields(a)[0]))
		bi, _ := strconv.Atoi(strings.TrimSpace(strings.Fields(b)[0]))
		return ai - bi
	})
	l.t.Logf("crmd timeline after T0:\n%s", strings.Join(lines, "\n"))
}

// checkFailover asserts the outcome of a failover from oldNode: the group
// runs on exactly one other node, the filesystem is mounted there only,
// and the client saw the old server, then the new one, never interleaved.
func (l *lab) checkFailover(kind string, p *poller, t0 time.Time, oldNode, newNode string, limit time.Duration) outage {
	l.t.Helper()
	if newNode == oldNode {
		l.t.Fatalf("%s: the group stayed on %s", kind, oldNode)
	}
	where, err := l.mountedIn()
	if err != nil {
		l.t.Fatalf("%s: read mount tables: %v", kind, err)
	}
	if want := []string{newNode}; !l.hasFS() {
		if len(where) > 0 {
			l.t.Errorf("%s: filesystem %s mounted on %v, but the group has no Filesystem", kind, l.mnt, where)
		}
	} else if !slices.Equal(where, want) {
		l.t.Errorf("%s: filesystem %s mounted on %v, want only on %s", kind, l.mnt, where, newNode)
	}
	if has, err := hasMount("/proc/self/mountinfo", l.mnt); err != nil || has {
		l.t.Errorf("%s: filesystem visible on the host (mounted=%v, err=%v)", kind, has, err)
	}
	o := analyze(p.snapshot(), t0, newNode, l.data)
	l.t.Logf("%s %s -> %s: %v (%d failed requests in the second before T0)", kind, oldNode, newNode, o, o.preFailures)
	switch {
	case len(o.servers) == 0 || o.servers[len(o.servers)-1] != newNode:
		l.t.Errorf("%s: the client's last answers are not from %s: %v", kind, newNode, o.servers)
	case len(o.servers) > 2 || (len(o.servers) == 2 && o.servers[0] != oldNode):
		l.t.Errorf("%s: the client saw answers from two servers interleaved: %v", kind, o.servers)
	}
	if o.wrongData > 0 {
		l.t.Errorf("%s: %d answers did not carry the filesystem's data %q", kind, o.wrongData, l.data)
	}
	if o.firstNew > limit {
		l.t.Errorf("%s: first answer from %s after %v, want <= %v", kind, newNode, o.firstNew, limit)
	}
	l.logTimeline(t0)
	return o
}
