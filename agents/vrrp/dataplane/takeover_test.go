package dataplane

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/router"
)

// movingLinker is a FakeAddrLinker whose eth0 can be "recreated" under a
// new index (the fake keeps its addresses under the original index); it
// counts LinkByName calls and refuses a stale index like the kernel does.
type movingLinker struct {
	*vip.FakeAddrLinker
	mu      sync.Mutex
	orig    int
	cur     int
	lookups int
}

func (m *movingLinker) LinkByName(name string) (vip.Link, error) {
	l, err := m.FakeAddrLinker.LinkByName(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups++
	l.Index = m.cur
	return l, err
}

func (m *movingLinker) AddrReplace(l vip.Link, a vip.Addr) error {
	m.mu.Lock()
	cur, orig := m.cur, m.orig
	m.mu.Unlock()
	if l.Index != cur {
		return fmt.Errorf("add %s: %w", a.Prefix, vip.ErrLinkNotFound)
	}
	l.Index = orig
	return m.FakeAddrLinker.AddrReplace(l, a)
}

func (m *movingLinker) AddrDel(l vip.Link, a vip.Addr) error {
	l.Index = m.orig
	return m.FakeAddrLinker.AddrDel(l, a)
}

func (m *movingLinker) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lookups
}

func (m *movingLinker) move(idx int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur = idx
}

// A takeover installs the VIPs and sends its gratuitous ARPs without a
// single link lookup (the links were resolved and the frame socket
// prepared at start); a stale cached link (interface recreated) costs one
// retry, and a link event drops the cache.
func TestTakeoverUsesPreparedLinks(t *testing.T) {
	mac := []byte{2, 0x99, 0, 0, 0, 11}
	ml := &movingLinker{FakeAddrLinker: vip.NewFakeAddrLinker(vip.Link{Name: "eth0", Index: 2, Up: true, HardwareAddr: mac}),
		orig: 2, cur: 2}
	frames := &FakeFrames{}
	inst := instanceCfg(100, time.Second)
	inst.Router.FSM.PrimaryAddr = netip.AddrFrom4([4]byte{10, 99, 0, 11}) // no AddrList lookup needed
	cfg := Config{Units: []Unit{{Name: "VI_1", Instances: []Instance{inst}}}}
	dp, err := New(cfg, Deps{Net: &FakeNet{Seg: NewSegment(), Node: "n1"}, Addrs: ml, Frames: frames,
		Runner: &recRunner{}, Clock: NewFakeClock(time.Unix(1000, 0))})
	if err != nil {
		t.Fatal(err)
	}
	l := newLoop(dp)
	defer l.close()
	if err := l.apply(cfg); err != nil {
		t.Fatal(err)
	}
	if p := frames.Prepared(); !slices.Equal(p, []string{"eth0"}) {
		t.Errorf("prepared %v, want [eth0]", p)
	}
	in := l.insts["VI_1"]
	before := ml.count()
	l.exec(in.unit, []router.MemberOutput{{Instance: "VI_1", Output: in.r.Step(fsm.TimerExpired{At: time.Unix(1005, 0)})}})
	if in.r.Instance().State() != fsm.Master {
		t.Fatalf("state %v after the master down interval, want MASTER", in.r.Instance().State())
	}
	if n := ml.count() - before; n != 0 {
		t.Errorf("takeover made %d link lookups, want 0", n)
	}
	if !in.up || len(ml.Snapshot("eth0")) != 1 {
		t.Fatalf("VIP not installed: up=%v addrs=%v", in.up, ml.Snapshot("eth0"))
	}
	if n := len(frames.Frames()); n != 5 {
		t.Errorf("%d gratuitous ARPs, want 5", n)
	}

	// The interface is recreated under index 7: the install retries once.
	l.removeVIPs(in)
	ml.move(7)
	var post []func()
	l.addVIPs(in, &post)
	if !in.up || in.idx[0] != 7 || len(ml.Snapshot("eth0")) != 1 {
		t.Errorf("after the interface moved: up=%v idx=%v addrs=%v", in.up, in.idx, ml.Snapshot("eth0"))
	}
	if len(post) == 0 {
		t.Error("no bookkeeping deferred after the install")
	}

	// The watcher's first report keeps the cache; a change drops it, and
	// the link coming back up resolves it again (before any takeover).
	l.track(trackEvent{link: &fsm.InterfaceChanged{Name: "eth0", Up: true}})
	if in.links[0].Index != 7 {
		t.Errorf("cache dropped by the first link report: %+v", in.links[0])
	}
	l.track(trackEvent{link: &fsm.InterfaceChanged{Name: "eth0", Up: false}})
	if in.links[0].Index != 0 || in.frames[0] != nil {
		t.Errorf("cache kept after the link went down: %+v", in.links[0])
	}
	ml.move(9)
	l.track(trackEvent{link: &fsm.InterfaceChanged{Name: "eth0", Up: true}})
	if in.links[0].Index != 9 {
		t.Errorf("link back up: cached %+v, want index 9", in.links[0])
	}
}

func cmsgTimestamp(sec, nsec int64) []byte {
	b := make([]byte, unix.CmsgSpace(16))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.SOL_SOCKET, unix.SO_TIMESTAMPNS
	h.SetLen(unix.CmsgLen(16))
	d := b[unix.CmsgLen(0):]
	binary.NativeEndian.PutUint64(d[0:8], uint64(sec))
	binary.NativeEndian.PutUint64(d[8:16], uint64(nsec))
	return b
}

func TestKernelAge(t *testing.T) {
	now := time.Unix(2000, 500_000_000)
	cases := []struct {
		name string
		oob  []byte
		want time.Duration
	}{
		{"2.5ms old", cmsgTimestamp(2000, 497_500_000), 2500 * time.Microsecond},
		{"none", nil, 0},
		{"future (clock stepped back)", cmsgTimestamp(2001, 0), 0},
		{"too old (clock stepped forward)", cmsgTimestamp(1990, 0), 0},
		{"truncated", cmsgTimestamp(2000, 0)[:unix.CmsgLen(8)], 0},
	}
	for _, c := range cases {
		if got := kernelAge(c.oob, now); got != c.want {
			t.Errorf("%s: age %v, want %v", c.name, got, c.want)
		}
	}
}

func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func TestParseCmsg6(t *testing.T) {
	dst := netip.MustParseAddr("ff02::12").As16()
	pktinfo := append(dst[:], 2, 0, 0, 0)
	i32 := func(v int32) []byte { return binary.NativeEndian.AppendUint32(nil, uint32(v)) }
	oob := slices.Concat(cmsg(unix.IPPROTO_IPV6, unix.IPV6_TCLASS, i32(0xc0)),
		cmsg(unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, i32(255)),
		cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, pktinfo),
		cmsgTimestamp(5, 0))
	m, ok := parseCmsg6(oob)
	if !ok || m.dst != dst || m.hopLimit != 255 || m.tclass != 0xc0 {
		t.Errorf("parseCmsg6 = %+v, %v; want dst ff02::12, hop limit 255, tclass 0xc0", m, ok)
	}
	if _, ok := parseCmsg6(cmsg(unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, i32(255))); ok {
		t.Error("accepted control messages without IPV6_PKTINFO")
	}
}

// An advert read before the master down timer fired is handled before
// the expiry: a backup whose master is alive stays backup even when the
// loop gets to both at once.
func TestQueuedAdvertBeatsExpiredTimer(t *testing.T) {
	clk := NewFakeClock(time.Unix(1000, 0))
	inst := instanceCfg(90, time.Second)
	inst.Router.FSM.PrimaryAddr = netip.AddrFrom4([4]byte{10, 99, 0, 12})
	cfg := Config{Units: []Unit{{Name: "VI_1", Instances: []Instance{inst}}}}
	mac := []byte{2, 0x99, 0, 0, 0, 12}
	dp, err := New(cfg, Deps{Net: &FakeNet{Seg: NewSegment(), Node: "n2"},
		Addrs:  vip.NewFakeAddrLinker(vip.Link{Name: "eth0", Index: 2, Up: true, HardwareAddr: mac}),
		Frames: &FakeFrames{}, Runner: &recRunner{}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	l := newLoop(dp)
	defer l.close()
	if err := l.apply(cfg); err != nil {
		t.Fatal(err)
	}
	in := l.insts["VI_1"]
	dl := in.r.Instance().Deadline()

	// The master's advert, as its router encodes it.
	mc := inst.Router
	mc.FSM.Priority, mc.FSM.PrimaryAddr = 100, netip.AddrFrom4([4]byte{10, 99, 0, 11})
	mc.FSM.TrackInterfaces = nil
	m, err := router.New(mc)
	if err != nil {
		t.Fatal(err)
	}
	m.Step(fsm.Start{At: time.Unix(1000, 0)})
	out := m.Step(fsm.TimerExpired{At: time.Unix(1010, 0)}) // master down: becomes master, adverts
	if len(out.Sends) == 0 {
		t.Fatal("the master router sent no advert")
	}
	l.rxc <- rxPacket{key: in.send.key, b: out.Sends[0].IP, at: dl.Add(-time.Millisecond)}
	clk.Advance(dl.Sub(clk.Now()) + time.Millisecond)
	l.timerFired()
	if st := in.r.Instance().State(); st != fsm.Backup {
		t.Fatalf("state %v, want BACKUP (the advert arrived before the deadline)", st)
	}
	if got := in.r.Instance().Deadline(); !got.After(dl) {
		t.Errorf("deadline %v not pushed back past %v", got, dl)
	}
}
