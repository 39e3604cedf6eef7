package cts

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/mdlayher/arp"
	"golang.org/x/sys/unix"
)

// hubAddr is the observer's address on the hub bridge (inside the lab's
// hub namespace only).
const hubAddr = subnetPrefix + "1"

// inNetns runs f on a locked OS thread switched into the network
// namespace at nsPath. Sockets f opens stay in that namespace. If the
// thread cannot be switched back it stays locked and dies with its
// goroutine (it is never reused in the wrong namespace).
func inNetns(nsPath string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", nsPath, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// errNoHub is returned by VIPAnswers outside netns mode.
var errNoHub = errors.New("lab: the ARP probe needs netns mode")

// VIPAnswers asks, from the hub bridge, who has the VIP (two ARP requests)
// and returns the distinct MAC addresses that answered within wait: an
// observer's view of "the VIP is answered by exactly one MAC". A frozen
// node's kernel still answers for an address it holds.
func (l *Lab) VIPAnswers(wait time.Duration) ([]string, error) {
	if !l.netns {
		return nil, errNoHub
	}
	var c *arp.Client
	err := inNetns("/run/netns/"+l.hub, func() error {
		ifi, err := net.InterfaceByName("br0")
		if err != nil {
			return err
		}
		c, err = arp.Dial(ifi)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lab: arp on the hub bridge: %w", err)
	}
	defer c.Close()
	vip := netip.MustParseAddr(vipAddr)
	hub := netip.MustParseAddr(hubAddr)
	deadline := time.Now().Add(wait)
	if err := c.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	for i := 0; i < 2; i++ {
		if err := c.Request(vip); err != nil {
			return nil, fmt.Errorf("lab: arp request: %w", err)
		}
	}
	var macs []string
	for {
		p, _, err := c.Read()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			return macs, fmt.Errorf("lab: arp read: %w", err)
		}
		if p.Operation == arp.OperationReply && p.SenderIP == vip && p.TargetIP == hub {
			if m := p.SenderHardwareAddr.String(); !slices.Contains(macs, m) {
				macs = append(macs, m)
			}
		}
	}
	slices.Sort(macs)
	return macs, nil
}

// PoweredMACs drops from macs those of nodes whose crmd is dead: a
// powered-off node answers nothing (the lab removes the VIP from a dead
// node's namespace only a moment after its crmd died).
func (l *Lab) PoweredMACs(macs []string) []string {
	return slices.DeleteFunc(slices.Clone(macs), func(m string) bool {
		for _, n := range l.nodes {
			if n.mac == m {
				l.mu.Lock()
				pid := n.pid
				l.mu.Unlock()
				return pid == 0 || !procAlive(pid)
			}
		}
		return false
	})
}
