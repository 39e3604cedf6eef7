package vrrp

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/dataplane"
)

// Without its VIP guard (--vip-guard off; the guard itself is tested by
// TestKill9VIPGuard), a SIGKILLed master's VIP still disappears by itself
// (kernel valid_lft, refreshed with every advert): within 3 advert
// intervals for 1 s adverts; for shorter intervals the kernel's one-second
// lifetime granularity rules.
func TestKill9VIPExpires(t *testing.T) {
	needRoot(t)
	if testing.Short() {
		t.Skip("slow (-short)")
	}
	bin := daemon(t)
	for i, c := range []struct {
		version int
		advert  string
		iv      time.Duration
	}{{2, "1", time.Second}, {3, "0.1", 100 * time.Millisecond}} {
		t.Run(fmt.Sprintf("v%d-%s", c.version, c.advert), func(t *testing.T) {
			l := newLab(t, 80+i)
			conf := writeConf(t, "n.conf", instanceConf{Version: c.version, Advert: c.advert, Prio: 100, VIP: l.vipPrefix()})
			p := start(t, l.ns[0], bin, "-n", "-f", conf, "--vip-guard", "off")
			waitFor(t, "VIP on the master", 10*time.Second, func() bool { return l.hasVIP(0) })
			time.Sleep(3 * c.iv) // steady state: refreshed by adverts
			p.stop(t, syscall.SIGKILL, 2*time.Second)
			took := waitFor(t, "VIP to expire", 10*time.Second, func() bool { return !l.hasVIP(0) })
			bound := max(3*c.iv, dataplane.Lifetime(c.iv)+time.Second) + 100*time.Millisecond
			t.Logf("VIP gone %v after SIGKILL (advert %v, valid_lft %v, bound %v)", took.Round(time.Millisecond), c.iv, dataplane.Lifetime(c.iv), bound)
			if took > bound {
				t.Errorf("VIP lived %v after SIGKILL, want <= %v", took, bound)
			}
		})
	}
}

// Our daemon and keepalived 2.2.7 in one VRID elect the right master both
// ways round and fail over both ways (graceful stop, then preemption).
func TestInteropKeepalived(t *testing.T) {
	needRoot(t, "keepalived")
	if testing.Short() {
		t.Skip("slow (-short)")
	}
	bin := daemon(t)
	cases := []struct {
		name    string
		version int
		advert  string
		auth    bool
		unicast bool
		v6      bool
	}{
		{"v2-pass-multicast", 2, "1", true, false, false},
		{"v2-none-unicast", 2, "1", false, true, false},
		{"v3-multicast", 3, "0.1", false, false, false},
		{"v3-unicast", 3, "0.1", false, true, false},
		{"v3-ipv6-multicast", 3, "0.1", false, false, true},
	}
	net := 90
	for _, c := range cases {
		for _, oursHigh := range []bool{true, false} {
			net++
			name := c.name + map[bool]string{true: "-gocrm-master", false: "-keepalived-master"}[oursHigh]
			n := net
			t.Run(name, func(t *testing.T) {
				l := newLabFamily(t, n, c.v6)
				// ns[0] runs gocrm, ns[1] keepalived.
				prio := [2]int{90, 100}
				if oursHigh {
					prio = [2]int{100, 90}
				}
				conf := [2]string{}
				for i := range 2 {
					conf[i] = writeConf(t, fmt.Sprintf("n%d.conf", i), instanceConf{Version: c.version, Advert: c.advert, Prio: prio[i],
						Auth: c.auth, Unicast: c.unicast, Src: l.addr[i], Dst: l.addr[1-i], VIP: l.vipPrefix()})
				}
				dir := t.TempDir()
				startOurs := func() *proc { return start(t, l.ns[0], bin, "-n", "-f", conf[0]) }
				startKA := func() *proc {
					return start(t, l.ns[1], "keepalived", "-n", "-l", "-D", "-P", "-f", conf[1],
						"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka.vrrp.pid"))
				}
				ours, ka := startOurs(), startKA()
				hi, lo := 0, 1
				if !oursHigh {
					hi, lo = 1, 0
				}
				limit := 15 * time.Second
				waitFor(t, "the higher priority to own the VIP", limit, func() bool { return l.hasVIP(hi) })
				time.Sleep(time.Second)
				if l.hasVIP(lo) || !l.hasVIP(hi) {
					t.Fatalf("after election: VIP on gocrm=%v keepalived=%v", l.hasVIP(0), l.hasVIP(1))
				}
				// Graceful stop of the master: the other takes over.
				procs := [2]*proc{ours, ka}
				t0 := time.Now()
				procs[hi].stop(t, syscall.SIGTERM, 10*time.Second)
				waitFor(t, "the lower priority to take over", limit, func() bool { return l.hasVIP(lo) })
				t.Logf("VIP on %s %v after SIGTERM to the master", map[int]string{0: "gocrm", 1: "keepalived"}[lo], time.Since(t0).Round(time.Millisecond))
				if l.hasVIP(hi) {
					t.Fatal("stopped master still owns the VIP")
				}
				// The higher priority comes back and preempts.
				if hi == 0 {
					startOurs()
				} else {
					startKA()
				}
				waitFor(t, "preemption by the returning master", limit, func() bool { return l.hasVIP(hi) })
				waitFor(t, "the backup to release the VIP", limit, func() bool { return !l.hasVIP(lo) })
				// Both are still running: check no one dropped out.
				for i, p := range procs {
					if i == hi {
						continue
					}
					select {
					case <-p.done:
						t.Fatalf("daemon %d exited", i)
					default:
					}
				}
			})
		}
	}
}

// `-t` accepts a clean configuration (warnings: see the dropin unit tests).
func TestConfigTestFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary (-short)")
	}
	bin := daemon(t)
	p := writeConf(t, "k.conf", instanceConf{Version: 2, Advert: "1", Prio: 100, VIP: "10.99.0.50/24"})
	if out, err := exec.Command(bin, "-t", "-f", p).CombinedOutput(); err != nil {
		t.Fatalf("clean config: %v\n%s", err, out)
	}
}

// virtual_server blocks run through the IPVS agent; on a kernel without
// IPVS the daemon logs one clear error and VRRP keeps running.
func TestVirtualServerWithVRRP(t *testing.T) {
	needRoot(t)
	if testing.Short() {
		t.Skip("slow (-short)")
	}
	bin := daemon(t)
	l := newLab(t, 88)
	c := instanceConf{Version: 3, Advert: "0.1", Prio: 100, VIP: l.vipPrefix()}
	src := c.String() + fmt.Sprintf(`virtual_server %s 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server %s 8080 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server %s 8081 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
`, l.vip(), l.addr[1], l.addr[1])
	conf := filepath.Join(t.TempDir(), "k.conf")
	if err := os.WriteFile(conf, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, l.ns[0], bin, "-n", "-f", conf)
	waitFor(t, "VIP", 5*time.Second, func() bool { return l.hasVIP(0) })
	time.Sleep(300 * time.Millisecond)
	log := p.log.String()
	_, statErr := os.Stat("/proc/net/ip_vs")
	if statErr != nil {
		if n := strings.Count(log, "kernel IPVS is not available"); n != 1 {
			t.Fatalf("want exactly one IPVS-unavailable error, got %d:\n%s", n, log)
		}
	} else {
		out, err := exec.Command("ip", "netns", "exec", l.ns[0], "ipvsadm", "-Ln").CombinedOutput()
		if err != nil || !strings.Contains(string(out), l.vip()+":80") {
			t.Fatalf("ipvsadm: %v\n%s\nlog:\n%s", err, out, log)
		}
	}
	p.stop(t, syscall.SIGTERM, 5*time.Second)
	if l.hasVIP(0) {
		t.Fatal("VIP left after SIGTERM")
	}
}

// SIGHUP reloads: a changed instance restarts with the new addresses, an
// unchanged one is left alone, a broken file is ignored.
func TestReloadSIGHUP(t *testing.T) {
	needRoot(t)
	if testing.Short() {
		t.Skip("slow (-short)")
	}
	bin := daemon(t)
	l := newLab(t, 87)
	dir := t.TempDir()
	conf := filepath.Join(dir, "k.conf")
	write := func(s string) {
		if err := os.WriteFile(conf, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := instanceConf{Version: 3, Advert: "0.1", Prio: 100, VIP: l.vipPrefix()}
	write(c.String())
	p := start(t, l.ns[0], bin, "-n", "-f", conf)
	waitFor(t, "VIP", 5*time.Second, func() bool { return l.hasVIP(0) })
	has := func(a string) bool {
		out, _ := exec.Command("ip", "-n", l.ns[0], "-4", "addr", "show", "dev", "eth0").Output()
		return strings.Contains(string(out), "inet "+a+"/")
	}
	// A broken file: nothing changes.
	write("vrrp_instance {\n")
	p.signal(syscall.SIGHUP)
	time.Sleep(500 * time.Millisecond)
	if !l.hasVIP(0) {
		t.Fatal("broken reload dropped the VIP")
	}
	// New address list.
	c.VIP = l.net + ".51/24"
	write(c.String())
	p.signal(syscall.SIGHUP)
	waitFor(t, "new VIP after reload", 5*time.Second, func() bool { return has(l.net + ".51") })
	waitFor(t, "old VIP removed", 5*time.Second, func() bool { return !l.hasVIP(0) })
	if !strings.Contains(p.log.String(), "reload failed") {
		t.Errorf("broken reload not reported:\n%s", p.log.String())
	}
	p.stop(t, syscall.SIGTERM, 5*time.Second)
	if has(l.net + ".51") {
		t.Fatal("VIP left after SIGTERM")
	}
}
