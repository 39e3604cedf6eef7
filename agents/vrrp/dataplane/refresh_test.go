package dataplane

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vrrp/fsm"
)

// stallAddrs is the fake address table with a kernel whose rtnl lock is
// held by someone else: while stalled, AddrReplace and AddrDel wait.
type stallAddrs struct {
	*vip.FakeAddrLinker
	mu       sync.Mutex
	gate     chan struct{} // nil: not stalled; closed by release
	replaces atomic.Int64
	blocked  atomic.Int64 // calls that found the gate shut
}

func (s *stallAddrs) wait() {
	s.mu.Lock()
	g := s.gate
	s.mu.Unlock()
	if g != nil {
		s.blocked.Add(1)
		<-g
	}
}

func (s *stallAddrs) stall() {
	s.mu.Lock()
	s.gate = make(chan struct{})
	s.mu.Unlock()
}

func (s *stallAddrs) release() {
	s.mu.Lock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
	s.mu.Unlock()
}

func (s *stallAddrs) AddrReplace(l vip.Link, a vip.Addr) error {
	s.wait()
	s.replaces.Add(1)
	return s.FakeAddrLinker.AddrReplace(l, a)
}

func (s *stallAddrs) AddrDel(l vip.Link, a vip.Addr) error {
	s.wait()
	return s.FakeAddrLinker.AddrDel(l, a)
}

// newStalledMaster is node n1 (priority 100) whose address I/O can be
// stalled.
func newStalledMaster(t *testing.T, seg *Segment, iv time.Duration) (*node, *stallAddrs) {
	var sa *stallAddrs
	n := newNodeWith(t, seg, "n1", 11, instanceCfg(100, iv), func(f *vip.FakeAddrLinker) vip.AddrLinker {
		sa = &stallAddrs{FakeAddrLinker: f}
		return sa
	})
	return n, sa
}

// A master's adverts must not wait for the kernel's address lock: with
// its lifetime renewals stalled for several master down intervals, the
// backup still hears it and stays backup, and the renewals resume after.
func TestStalledRenewalDoesNotDelayAdverts(t *testing.T) {
	seg := NewSegment()
	iv := 30 * time.Millisecond
	n1, sa := newStalledMaster(t, seg, iv)
	n2 := newNode(t, seg, "n2", 12, instanceCfg(90, iv))
	n1.start(t)
	n2.start(t)
	t.Cleanup(sa.release)
	waitFor(t, "n1 master", 2*time.Second, func() bool { return n1.state() == fsm.Master })
	waitFor(t, "a renewal", time.Second, func() bool { return sa.replaces.Load() >= 3 })

	sa.stall()
	mdi := 4 * iv // n2's master down interval is 3 intervals + skew (< 1 interval)
	deadline := time.Now().Add(4 * mdi)
	for time.Now().Before(deadline) {
		if st := n2.state(); st != fsm.Backup {
			t.Fatalf("n2 became %v while n1's renewals were stalled: n1's adverts waited for them", st)
		}
		time.Sleep(iv / 3)
	}
	if sa.blocked.Load() == 0 {
		t.Fatal("no renewal reached the stalled kernel: the test proves nothing")
	}
	if ok, _ := n1.hasVIP(); !ok {
		t.Fatal("n1 lost its VIP during the stall")
	}
	before := sa.replaces.Load()
	sa.release()
	waitFor(t, "renewals resume", time.Second, func() bool { return sa.replaces.Load() >= before+3 })
	if n1.state() != fsm.Master || n2.state() != fsm.Backup {
		t.Fatalf("states n1 %v n2 %v after the stall", n1.state(), n2.state())
	}
}

// A renewal under way when the master steps down must not re-add the
// address the step-down removes.
func TestRemovalWaitsForRenewal(t *testing.T) {
	seg := NewSegment()
	iv := 30 * time.Millisecond
	n1, sa := newStalledMaster(t, seg, iv)
	n1.start(t)
	t.Cleanup(sa.release)
	waitFor(t, "n1 master", 2*time.Second, func() bool { return n1.state() == fsm.Master })
	sa.stall()
	waitFor(t, "a renewal waiting for the kernel", time.Second, func() bool { return sa.blocked.Load() > 0 })
	// Interface down: FAULT, VIPs removed — after the renewal under way.
	n1.links.Set("eth0", false)
	time.Sleep(3 * iv)
	sa.release()
	waitFor(t, "n1 fault", time.Second, func() bool { return n1.state() == fsm.Fault })
	time.Sleep(5 * iv) // any late renewal would have landed by now
	if ok, _ := n1.hasVIP(); ok {
		t.Fatal("a renewal re-added the VIP after the step-down removed it")
	}
}
