package fsm

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// simNet is a pure two-router LAN with one client: adverts between
// routers, GARPs to the client, and a partition that cuts router 0 off.
type simNet struct {
	t        *testing.T
	routers  []*Instance
	deadline []time.Time
	queue    []simMsg
	cut      bool // router 0 isolated
	now      time.Time
	clientAR int // router the client's ARP entry points to (-1: none)
	log      []string
}

type simMsg struct {
	at   time.Time
	to   int
	from int
	prio uint8
}

const simDelay = 100 * time.Microsecond

func newSimNet(t *testing.T, tweak func(*Config)) *simNet {
	s := &simNet{t: t, now: epoch, clientAR: -1}
	for n, p := range []uint8{100, 90} {
		cfg := Config{Name: fmt.Sprintf("r%d", n), VRID: 51, Version: 2, Priority: p, AdvertInterval: time.Second,
			PrimaryAddr: netip.AddrFrom4([4]byte{10, 99, 0, byte(11 + n)})}
		if tweak != nil {
			tweak(&cfg)
		}
		in, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.routers = append(s.routers, in)
		s.deadline = append(s.deadline, time.Time{})
	}
	return s
}

func (s *simNet) apply(n int, acts []Action) {
	for _, a := range acts {
		switch a.Kind {
		case SetTimer:
			s.deadline[n] = a.At
		case SendAdvert:
			if s.cut && n == 0 {
				continue
			}
			o := 1 - n
			if s.cut && o == 0 {
				continue
			}
			s.queue = append(s.queue, simMsg{at: s.now.Add(simDelay), to: o, from: n, prio: a.Priority})
		case SendGARP:
			if !(s.cut && n == 0) {
				s.clientAR = n
			}
		}
		if a.Kind != SetTimer {
			s.log = append(s.log, fmt.Sprintf("%.4f r%d %v", s.now.Sub(epoch).Seconds(), n, a))
		}
	}
}

// run advances the simulation to until.
func (s *simNet) run(until time.Time) {
	for {
		next, kind, idx := until, -1, -1
		for n, d := range s.deadline {
			if !d.IsZero() && d.Before(next) {
				next, kind, idx = d, 0, n
			}
		}
		for q, m := range s.queue {
			if m.at.Before(next) {
				next, kind, idx = m.at, 1, q
			}
		}
		if kind < 0 {
			s.now = until
			return
		}
		s.now = next
		if kind == 0 {
			s.apply(idx, s.routers[idx].Step(TimerExpired{At: next}))
			continue
		}
		m := s.queue[idx]
		s.queue = append(s.queue[:idx], s.queue[idx+1:]...)
		if s.cut && (m.to == 0 || m.from == 0) {
			continue
		}
		src := s.routers[m.from].cfg.PrimaryAddr
		s.apply(m.to, s.routers[m.to].Step(AdvertReceived{At: next, Src: src, Priority: m.prio, Interval: time.Second}))
	}
}

// partitionHeal returns the time from the heal until the client's ARP entry
// points at the final master again (or -1 if it never does within 20 s).
func partitionHeal(t *testing.T, tweak func(*Config), healOffset time.Duration) time.Duration {
	s := newSimNet(t, tweak)
	s.apply(0, s.routers[0].Step(Start{At: epoch}))
	s.apply(1, s.routers[1].Step(Start{At: epoch.Add(300 * time.Millisecond)}))
	s.run(epoch.Add(10 * time.Second))
	if s.routers[0].State() != Master || s.routers[1].State() != Backup || s.clientAR != 0 {
		t.Fatalf("before the partition: r0 %v r1 %v client→r%d", s.routers[0].State(), s.routers[1].State(), s.clientAR)
	}
	s.cut = true
	s.run(epoch.Add(20 * time.Second))
	if s.routers[1].State() != Master || s.clientAR != 1 {
		t.Fatalf("during the partition r1 %v, client→r%d", s.routers[1].State(), s.clientAR)
	}
	heal := epoch.Add(30*time.Second + healOffset)
	s.run(heal)
	s.cut = false
	for step := time.Millisecond; step <= 20*time.Second; step += time.Millisecond {
		s.run(heal.Add(step))
		if s.routers[0].State() == Master && s.routers[1].State() == Backup && s.clientAR == 0 {
			return step
		}
	}
	return -1
}

func TestPartitionHealReannounces(t *testing.T) {
	for off := time.Duration(0); off < time.Second; off += 50 * time.Millisecond {
		d := partitionHeal(t, nil, off)
		if d < 0 || d > 1100*time.Millisecond {
			t.Errorf("heal at +%v: client recovered after %v, want ≤ 1.1 s", off, d)
		}
	}
}

// TestPartitionHealKeepalivedDefaults shows the simulation reproduces
// keepalived's black hole when the yielding master stays silent (vrrp.md
// §6.5): for some heal phases the client keeps pointing at the backup.
func TestPartitionHealKeepalivedDefaults(t *testing.T) {
	quiet := func(c *Config) { c.NoHigherPrioSendAdvert = true; c.GARP.MasterRefresh = -1 }
	holes := 0
	for off := time.Duration(0); off < time.Second; off += 50 * time.Millisecond {
		if partitionHeal(t, quiet, off) < 0 {
			holes++
		}
	}
	if holes == 0 {
		t.Fatal("keepalived defaults never black-holed: the simulation does not model §6.5")
	}
	t.Logf("keepalived defaults: %d of 20 heal phases black-holed", holes)
}
