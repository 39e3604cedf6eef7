package dataplane

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/router"
)

var vipAddr = netip.MustParsePrefix("10.99.0.50/24")

// recRunner records commands (notify scripts) instead of running them.
type recRunner struct {
	mu   sync.Mutex
	runs [][]string
}

func (r *recRunner) Run(_ context.Context, argv []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, argv)
	return nil
}

func (r *recRunner) joined() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, a := range r.runs {
		out = append(out, strings.Join(a, " "))
	}
	return out
}

type node struct {
	name   string
	addrs  *vip.FakeAddrLinker
	frames *FakeFrames
	links  *FakeLinks
	runner *recRunner
	dp     *Dataplane
	cancel context.CancelFunc
	done   chan error
}

func instanceCfg(prio uint8, interval time.Duration) Instance {
	return Instance{
		Router: router.Config{
			FSM: fsm.Config{Name: "VI_1", VRID: 51, Version: 3, Priority: prio, AdvertInterval: interval,
				TrackInterfaces: []fsm.TrackInterface{{Name: "eth0"}}},
			VIPs: []netip.Addr{vipAddr.Addr()},
		},
		Interface: "eth0",
		Addresses: []VIP{{Prefix: vipAddr}},
		Notify:    Notify{Master: []string{"/bin/on-master"}, Any: []string{"/bin/notify", "x"}},
	}
}

func newNode(t *testing.T, seg *Segment, name string, idx byte, inst Instance) *node {
	t.Helper()
	return newNodeWith(t, seg, name, idx, inst, nil)
}

// newNodeWith is newNode with the dataplane's address I/O wrapped (nil:
// the fake itself).
func newNodeWith(t *testing.T, seg *Segment, name string, idx byte, inst Instance, wrap func(*vip.FakeAddrLinker) vip.AddrLinker) *node {
	t.Helper()
	mac := net.HardwareAddr{2, 0x99, 0, 0, 0, idx}
	n := &node{name: name, addrs: vip.NewFakeAddrLinker(vip.Link{Name: "eth0", Index: 2, Up: true, HardwareAddr: mac}),
		frames: &FakeFrames{}, links: NewFakeLinks(map[string]bool{"eth0": true}), runner: &recRunner{}}
	lk, _ := n.addrs.LinkByName("eth0")
	if err := n.addrs.AddrReplace(lk, vip.Addr{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 99, 0, idx}), 24),
		ValidLft: vip.Forever, PreferredLft: vip.Forever}); err != nil {
		t.Fatal(err)
	}
	var addrs vip.AddrLinker = n.addrs
	if wrap != nil {
		addrs = wrap(n.addrs)
	}
	dp, err := New(Config{Units: []Unit{{Name: inst.Router.FSM.Name, Instances: []Instance{inst}}}},
		Deps{Net: &FakeNet{Seg: seg, Node: name}, Addrs: addrs, Frames: n.frames, Links: n.links, Runner: n.runner})
	if err != nil {
		t.Fatal(err)
	}
	n.dp = dp
	return n
}

func (n *node) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() { n.done <- n.dp.Run(ctx) }()
	t.Cleanup(func() { n.stop(t) })
}

func (n *node) stop(t *testing.T) {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	select {
	case err := <-n.done:
		if err != nil {
			t.Errorf("%s: Run: %v", n.name, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: Run did not return", n.name)
	}
}

func (n *node) hasVIP() (bool, uint32) {
	for _, a := range n.addrs.Snapshot("eth0") {
		if a.Prefix == vipAddr {
			return true, a.ValidLft
		}
	}
	return false, 0
}

func (n *node) state() fsm.State { return n.dp.Status()["VI_1"].State }

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestElectionFailoverAndHandover(t *testing.T) {
	seg := NewSegment()
	// A long interval keeps n2's skew (195 ms) far below what a takeover
	// by its master-down timer could take (at least 2 intervals + skew),
	// so the bound below tells the two paths apart even on a loaded machine.
	iv := 300 * time.Millisecond
	n1 := newNode(t, seg, "n1", 11, instanceCfg(100, iv))
	n2 := newNode(t, seg, "n2", 12, instanceCfg(90, iv))
	n1.start(t)
	n2.start(t)
	waitFor(t, "n1 master", 2*time.Second, func() bool { return n1.state() == fsm.Master })
	time.Sleep(3 * iv)
	if n2.state() != fsm.Backup {
		t.Fatalf("n2 state %v, want BACKUP", n2.state())
	}
	ok, lft := n1.hasVIP()
	if !ok || lft != 1 {
		t.Fatalf("n1 VIP present=%v valid_lft=%d, want present with 1 s lifetime", ok, lft)
	}
	if ok, _ := n2.hasVIP(); ok {
		t.Fatal("backup n2 holds the VIP")
	}
	// 5 keepalived-style GARPs right away.
	garps := 0
	for _, f := range n1.frames.Frames() {
		if f.Dev == "eth0" && len(f.Bytes) == 42 && f.Bytes[12] == 0x08 && f.Bytes[13] == 0x06 {
			garps++
		}
	}
	if garps != 5 {
		t.Errorf("n1 sent %d GARPs, want 5", garps)
	}
	waitFor(t, "notify scripts", time.Second, func() bool {
		j := n1.runner.joined()
		return slices.Contains(j, "/bin/on-master") && slices.Contains(j, "/bin/notify x INSTANCE VI_1 MASTER 100")
	})

	// Graceful stop: n2 takes over after its skew; n1 keeps the VIP until
	// it hears n2, then removes it.
	t0 := time.Now()
	n1.stop(t)
	took := time.Since(t0)
	if n2.state() != fsm.Master {
		t.Fatalf("n2 state %v after n1's stop, want MASTER", n2.state())
	}
	skew := (256 - 90) * iv / 256
	if took >= 2*iv+skew {
		t.Errorf("shutdown took %v: n2 waited for its master-down timer (>= %v), not the priority-0 advert (skew %v)", took, 2*iv+skew, skew)
	}
	if ok, _ := n1.hasVIP(); ok {
		t.Error("n1 still holds the VIP after exit")
	}
	if ok, _ := n2.hasVIP(); !ok {
		t.Error("n2 does not hold the VIP")
	}
	if !slices.Contains(n1.runner.joined(), "/bin/notify x INSTANCE VI_1 STOP 100") {
		t.Errorf("no STOP notification: %q", n1.runner.joined())
	}
}

func TestShutdownWithoutSuccessorRemovesVIP(t *testing.T) {
	seg := NewSegment()
	n1 := newNode(t, seg, "n1", 11, instanceCfg(100, 30*time.Millisecond))
	n1.start(t)
	waitFor(t, "n1 master", 2*time.Second, func() bool { return n1.state() == fsm.Master })
	n1.stop(t)
	if ok, _ := n1.hasVIP(); ok {
		t.Fatal("VIP left behind without a successor")
	}
}

func TestLinkDownFaultsAndFailsOver(t *testing.T) {
	seg := NewSegment()
	iv := 40 * time.Millisecond
	n1 := newNode(t, seg, "n1", 11, instanceCfg(100, iv))
	n2 := newNode(t, seg, "n2", 12, instanceCfg(90, iv))
	n1.start(t)
	n2.start(t)
	waitFor(t, "n1 master", 2*time.Second, func() bool { return n1.state() == fsm.Master })
	seg.Cut("n1", true)
	n1.links.Set("eth0", false)
	waitFor(t, "n1 fault", time.Second, func() bool { return n1.state() == fsm.Fault })
	if ok, _ := n1.hasVIP(); ok {
		t.Error("n1 in FAULT keeps the VIP")
	}
	waitFor(t, "n2 master", 2*time.Second, func() bool { return n2.state() == fsm.Master })
	// Link back: n1 preempts.
	seg.Cut("n1", false)
	n1.links.Set("eth0", true)
	waitFor(t, "n1 master again", 2*time.Second, func() bool { return n1.state() == fsm.Master })
	waitFor(t, "n2 backup", time.Second, func() bool { return n2.state() == fsm.Backup })
	if ok, _ := n2.hasVIP(); ok {
		t.Error("n2 keeps the VIP after yielding")
	}
}

func TestPartitionHealReannounces(t *testing.T) {
	seg := NewSegment()
	iv := 40 * time.Millisecond
	n1 := newNode(t, seg, "n1", 11, instanceCfg(100, iv))
	n2 := newNode(t, seg, "n2", 12, instanceCfg(90, iv))
	n1.start(t)
	n2.start(t)
	waitFor(t, "n1 master", 2*time.Second, func() bool { return n1.state() == fsm.Master })
	// The router re-announces at most once a second: let the takeover
	// burst age first.
	time.Sleep(1100 * time.Millisecond)
	seg.Cut("n1", true)
	waitFor(t, "n2 master (split brain)", 2*time.Second, func() bool { return n2.state() == fsm.Master })
	before := len(n1.frames.Frames())
	seg.Cut("n1", false)
	waitFor(t, "n2 backup after heal", 2*time.Second, func() bool { return n2.state() == fsm.Backup })
	// Whatever advert crossed first, n1 must announce itself again so
	// clients leave n2's MAC.
	waitFor(t, "n1 re-announces", 2*time.Second, func() bool { return len(n1.frames.Frames()) > before })
	if n1.state() != fsm.Master {
		t.Fatalf("n1 state %v", n1.state())
	}
}

func TestReloadKeepsUnchangedUnits(t *testing.T) {
	seg := NewSegment()
	inst := instanceCfg(100, 30*time.Millisecond)
	n1 := newNode(t, seg, "n1", 11, inst)
	n1.start(t)
	waitFor(t, "master", 2*time.Second, func() bool { return n1.state() == fsm.Master })
	since := n1.dp.Status()["VI_1"].Since
	ctx := context.Background()
	if err := n1.dp.Reload(ctx, Config{Units: []Unit{{Name: "VI_1", Instances: []Instance{inst}}}}); err != nil {
		t.Fatal(err)
	}
	if s := n1.dp.Status()["VI_1"]; s.State != fsm.Master || !s.Since.Equal(since) {
		t.Fatalf("unchanged instance disturbed by reload: %+v", s)
	}
	// A changed instance restarts (backup first, then master again).
	inst2 := instanceCfg(110, 30*time.Millisecond)
	if err := n1.dp.Reload(ctx, Config{Units: []Unit{{Name: "VI_1", Instances: []Instance{inst2}}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "master after change", 2*time.Second, func() bool {
		s := n1.dp.Status()["VI_1"]
		return s.State == fsm.Master && s.Priority == 110
	})
	// An invalid configuration is refused and changes nothing.
	bad := instanceCfg(110, 30*time.Millisecond)
	bad.Router.VIPs = nil
	if err := n1.dp.Reload(ctx, Config{Units: []Unit{{Name: "VI_1", Instances: []Instance{bad}}}}); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad reload: %v, want ErrConfig", err)
	}
	// Removing the unit stops it and removes the VIP.
	if err := n1.dp.Reload(ctx, Config{}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := n1.hasVIP(); ok {
		t.Fatal("removed unit left its VIP")
	}
	if _, ok := n1.dp.Status()["VI_1"]; ok {
		t.Fatal("removed unit still in status")
	}
}

func TestSyncGroupMovesTogether(t *testing.T) {
	seg := NewSegment()
	iv := 40 * time.Millisecond
	mk := func(prio uint8, idx byte, name string) (*node, *Dataplane) {
		a := instanceCfg(prio, iv)
		b := instanceCfg(prio, iv)
		b.Router.FSM.Name, b.Router.FSM.VRID = "VI_2", 52
		b.Router.VIPs = []netip.Addr{netip.MustParseAddr("10.99.0.60")}
		b.Addresses = []VIP{{Prefix: netip.MustParsePrefix("10.99.0.60/24")}}
		n := newNode(t, seg, name, idx, a)
		dp, err := New(Config{Units: []Unit{{Name: "G", Group: true, Instances: []Instance{a, b}, Notify: Notify{Any: []string{"/bin/g"}}}}},
			Deps{Net: &FakeNet{Seg: seg, Node: name}, Addrs: n.addrs, Frames: n.frames, Links: n.links, Runner: n.runner})
		if err != nil {
			t.Fatal(err)
		}
		n.dp = dp
		return n, dp
	}
	n1, _ := mk(100, 11, "n1")
	n2, _ := mk(90, 12, "n2")
	n1.start(t)
	n2.start(t)
	waitFor(t, "group master on n1", 2*time.Second, func() bool {
		s := n1.dp.Status()
		return s["VI_1"].State == fsm.Master && s["VI_2"].State == fsm.Master
	})
	// One member's interface fails: the whole group leaves n1.
	seg.Cut("n1", true)
	n1.links.Set("eth0", false)
	waitFor(t, "group on n2", 2*time.Second, func() bool {
		s := n2.dp.Status()
		return s["VI_1"].State == fsm.Master && s["VI_2"].State == fsm.Master
	})
	waitFor(t, "group notify", time.Second, func() bool {
		return slices.Contains(n2.runner.joined(), "/bin/g GROUP G MASTER 0") // keepalived passes priority 0 for groups
	})
}

func TestNotifyFIFO(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fifo")
	seg := NewSegment()
	n1 := newNode(t, seg, "n1", 11, instanceCfg(100, 30*time.Millisecond))
	n1.dp.cfg.NotifyFIFO = path
	// Read the FIFO like a consumer would.
	lines := make(chan string, 8)
	n1.start(t)
	waitFor(t, "fifo created", time.Second, func() bool { _, err := os.Stat(path); return err == nil })
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if err != nil {
				close(lines)
				return
			}
			for _, l := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
				lines <- l
			}
		}
	}()
	waitFor(t, "master", 2*time.Second, func() bool { return n1.state() == fsm.Master })
	timeout := time.After(2 * time.Second)
	for {
		select {
		case l := <-lines:
			if l == `INSTANCE "VI_1" MASTER 100` {
				return
			}
		case <-timeout:
			t.Fatal("no MASTER line in the notify FIFO")
		}
	}
}

func TestLifetime(t *testing.T) {
	for _, c := range []struct{ in, want time.Duration }{
		{100 * time.Millisecond, time.Second},
		{500 * time.Millisecond, time.Second},
		{time.Second, 2 * time.Second},
		{3 * time.Second, 6 * time.Second},
	} {
		if got := Lifetime(c.in); got != c.want {
			t.Errorf("Lifetime(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestNotifyArgv(t *testing.T) {
	n := Notify{Master: []string{"/m", "a b"}, Any: []string{"/n"}}
	got := notifyArgv(n, false, "VI_1", fsm.Action{Kind: fsm.Notify, State: fsm.Master, Priority: 100})
	want := [][]string{{"/m", "a b"}, {"/n", "INSTANCE", "VI_1", "MASTER", "100"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("got %q, want %q", got, want)
	}
	got = notifyArgv(n, true, "G", fsm.Action{Kind: fsm.Notify, State: fsm.Stopped, Priority: 0})
	if len(got) != 1 || strings.Join(got[0], " ") != "/n GROUP G STOP 0" {
		t.Fatalf("group stop: %q", got)
	}
}

func TestAdvertOf(t *testing.T) {
	v4 := make([]byte, 28)
	v4[0] = 0x45
	v4[9] = 112
	v4[21], v4[22] = 51, 100
	if v, p := advertOf(v4, false); v != 51 || p != 100 {
		t.Fatalf("v4: %d %d", v, p)
	}
	ah := make([]byte, 52)
	ah[0] = 0x45
	ah[9] = 51
	ah[45], ah[46] = 7, 200
	if v, p := advertOf(ah, false); v != 7 || p != 200 {
		t.Fatalf("ah: %d %d", v, p)
	}
	for _, b := range [][]byte{nil, {0x45}, make([]byte, 21)} {
		if v, p := advertOf(b, false); v != 0 || p != 0 {
			t.Fatalf("short %v: %d %d", b, v, p)
		}
	}
}

func TestCheckRejects(t *testing.T) {
	bad := []Config{
		{Units: []Unit{{Name: ""}}},
		{Units: []Unit{{Name: "a", Instances: []Instance{instanceCfg(100, time.Second), instanceCfg(90, time.Second)}}}},
		{Units: []Unit{{Name: "a", Instances: []Instance{{Router: router.Config{FSM: fsm.Config{Name: "x"}}}}}}},
	}
	for i, c := range bad {
		if err := Check(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%d: Check = %v, want ErrConfig", i, err)
		}
	}
}

// With an injected clock the master down timer is exact: a lone router
// stays BACKUP until one full master down interval has passed.
func TestFakeClockMasterDown(t *testing.T) {
	seg := NewSegment()
	clk := NewFakeClock(time.Unix(1000, 0))
	inst := instanceCfg(100, time.Second)
	inst.Router.FSM.Version = 2
	n := newNode(t, seg, "n1", 11, inst)
	n.dp.deps.Clock = clk
	n.start(t)
	waitFor(t, "backup", time.Second, func() bool { return n.state() == fsm.Backup })
	mdi := 3*time.Second + (256-100)*time.Second/256 // 3.609375 s
	clk.Advance(mdi - time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	if n.state() != fsm.Backup {
		t.Fatalf("state %v before the master down interval", n.state())
	}
	clk.Advance(time.Millisecond)
	waitFor(t, "master", time.Second, func() bool { return n.state() == fsm.Master })
	if s := n.dp.Status()["VI_1"]; !s.Since.Equal(time.Unix(1000, 0).Add(mdi)) || !s.VIPs {
		t.Fatalf("status %+v, want master since exactly start+MDI with VIPs", s)
	}
	// Shutdown waits (on the injected clock) for a successor that never
	// comes, then removes the VIP.
	n.cancel()
	n.cancel = nil
	for {
		select {
		case err := <-n.done:
			if err != nil {
				t.Fatal(err)
			}
			if ok, _ := n.hasVIP(); ok {
				t.Fatal("VIP left behind")
			}
			return
		case <-time.After(10 * time.Millisecond):
			clk.Advance(time.Second)
		}
	}
}
