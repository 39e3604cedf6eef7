package vrrp

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// After a SIGKILL of the master, its VIP guard (agents/vrrp/guard) acts:
// with --vip-guard handover (the default) it sends the dead master's
// priority-0 advert, so the backup takes over after its skew time instead
// of a master down interval, and removes the VIP one advert interval
// later; with --vip-guard remove it removes the VIP at once (the backup
// then waits its master down interval). Either way the VIP leaves the dead
// master within 3 advert intervals, also with 0.1 s adverts.
func TestKill9VIPGuard(t *testing.T) {
	needRoot(t)
	if testing.Short() {
		t.Skip("slow (-short)")
	}
	bin := daemon(t)
	net := 82
	for _, mode := range []string{"handover", "remove"} {
		for _, c := range []struct {
			version int
			advert  string
			iv      time.Duration
		}{{2, "1", time.Second}, {3, "0.1", 100 * time.Millisecond}} {
			n := net
			net++
			t.Run(fmt.Sprintf("%s-v%d-%s", mode, c.version, c.advert), func(t *testing.T) {
				l := newLab(t, n)
				var p [2]*proc
				for i, prio := range []int{100, 90} {
					conf := writeConf(t, fmt.Sprintf("n%d.conf", i), instanceConf{Version: c.version, Advert: c.advert, Prio: prio, VIP: l.vipPrefix()})
					p[i] = start(t, l.ns[i], bin, "-n", "-f", conf, "--vip-guard", mode)
					if i == 0 {
						waitFor(t, "VIP on the master", 10*time.Second, func() bool { return l.hasVIP(0) })
					}
				}
				time.Sleep(4 * c.iv) // the backup has heard the master
				if l.hasVIP(1) {
					t.Fatal("backup holds the VIP before the kill")
				}
				t0 := time.Now()
				p[0].signal(syscall.SIGKILL)
				var goneAt, takenAt time.Duration
				waitFor(t, "VIP gone from the dead master and taken by the backup", 10*time.Second, func() bool {
					if goneAt == 0 && !l.hasVIP(0) {
						goneAt = time.Since(t0)
					}
					if takenAt == 0 && l.hasVIP(1) {
						takenAt = time.Since(t0)
					}
					return goneAt > 0 && takenAt > 0
				})
				skew := time.Duration(256-90) * time.Second / 256
				if c.version == 3 {
					skew = time.Duration(256-90) * c.iv / 256
				}
				mdi := 3*c.iv + skew
				t.Logf("after SIGKILL: VIP gone from the dead master in %v, backup holds it after %v (advert %v, backup skew %v, master down interval %v)",
					goneAt.Round(time.Millisecond), takenAt.Round(time.Millisecond), c.iv, skew, mdi)
				if goneAt > 3*c.iv {
					t.Errorf("VIP stayed %v on the dead master, want <= 3 advert intervals (%v)", goneAt, 3*c.iv)
				}
				if mode == "handover" && takenAt >= mdi {
					t.Errorf("backup took over after %v, want its skew time (< master down interval %v)", takenAt, mdi)
				}
				// The guard exits once done (it holds the daemon's
				// stderr, so the test's reader ends only then).
				select {
				case <-p[0].done:
				case <-time.After(5 * time.Second):
					t.Error("the dead master's guard is still running")
				}
				// A clean stop of the new master: its guard leaves with it.
				p[1].stop(t, syscall.SIGTERM, 10*time.Second)
				if l.hasVIP(1) {
					t.Error("VIP left behind after a graceful stop")
				}
			})
		}
	}
}
