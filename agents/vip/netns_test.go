package vip

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"

	"github.com/gocrm/gocrm/agents/vip/netnslab"
	"github.com/gocrm/gocrm/agents/vip/ocf"
)

// capture collects Ethernet frames of proto received on vb in namespace B.
func capture(t *testing.T, lab *netnslab.Lab, proto int) (<-chan []byte, func()) {
	t.Helper()
	nl, err := NewNetlinkAt(lab.B)
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	l, err := nl.LinkByName("vb")
	if err != nil {
		t.Fatal(err)
	}
	var c *packet.Conn
	err = InNetns(lab.B, func() error {
		var err error
		c, err = packet.Listen(&net.Interface{Index: l.Index, Name: l.Name, HardwareAddr: l.HardwareAddr}, packet.Raw, proto, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan []byte, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		buf := make([]byte, 2048)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			ch <- append([]byte(nil), buf[:n]...)
		}
	}()
	return ch, func() { c.Close(); <-done }
}

func labAgent(t *testing.T, lab *netnslab.Lab) (*Agent, *Netlink) {
	t.Helper()
	nl, err := NewNetlinkAt(lab.A)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nl.Close)
	return New(Deps{Addrs: nl, Neigh: NewRawNeighbourAt(lab.A)}), nl
}

func vipCopies(t *testing.T, nl *Netlink, ip string) []Addr {
	t.Helper()
	l, err := nl.LinkByName("va")
	if err != nil {
		t.Fatal(err)
	}
	as, err := nl.AddrList(l, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []Addr
	for _, a := range as {
		if a.Prefix.Addr() == netip.MustParseAddr(ip) {
			out = append(out, a)
		}
	}
	return out
}

func TestNetnsIPv4(t *testing.T) {
	lab := netnslab.New(t, "vip4", "10.99.7.1/24", "10.99.7.2/24")
	ctx := context.Background()
	a, nl := labAgent(t, lab)
	frames, stop := capture(t, lab, 0x0806)
	defer stop()

	if err := a.Validate(map[string]string{"ip": "10.99.7.50", "label": "vip1", "arp_count": "3", "arp_interval": "10", "arp_bg": "false"}); err != nil {
		t.Fatal(err)
	}
	if c := a.Config(); c.Nic != "va" || c.PrefixLen != 24 {
		t.Fatalf("derived nic/prefix: %q/%d", c.Nic, c.PrefixLen)
	}
	if rc, err := a.Monitor(ctx); rc != ocf.RCNotRunning || err != nil {
		t.Fatalf("monitor before start: %d %v", rc, err)
	}
	for i := 0; i < 2; i++ {
		if err := a.Start(ctx); err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
	}
	got := vipCopies(t, nl, "10.99.7.50")
	if len(got) != 1 || got[0].Label != "va:vip1" || got[0].Prefix.Bits() != 24 || got[0].Broadcast != netip.MustParseAddr("10.99.7.255") {
		t.Fatalf("kernel copies after two starts: %+v", got)
	}

	// 2 starts x 3 announcements x (request + reply) gratuitous ARPs on the peer.
	vip := netip.MustParseAddr("10.99.7.50")
	srcMAC := "02:99:00:00:00:0a"
	var req, rep int
	deadline := time.After(3 * time.Second)
	for req+rep < 12 {
		select {
		case f := <-frames:
			var eth ethernet.Frame
			if err := eth.UnmarshalBinary(f); err != nil {
				continue
			}
			if m := Conflict(f, net.HardwareAddr{0, 0, 0, 0, 0, 0}, vip); m == nil || m.String() != srcMAC {
				continue
			}
			if eth.Destination.String() != "ff:ff:ff:ff:ff:ff" {
				t.Fatalf("GARP not broadcast: %v", eth.Destination)
			}
			switch eth.Payload[7] { // ARP opcode low byte
			case 1:
				req++
			case 2:
				rep++
			}
			// Target IP = sender IP = VIP (bytes 24..28 of the ARP payload).
			if netip.AddrFrom4([4]byte(eth.Payload[24:28])) != vip {
				t.Fatalf("GARP target IP %v", eth.Payload[24:28])
			}
		case <-deadline:
			t.Fatalf("saw %d requests and %d replies on the peer, want 6+6", req, rep)
		}
	}
	if req != 6 || rep != 6 {
		t.Fatalf("requests %d replies %d", req, rep)
	}

	if rc, err := a.Monitor(ctx); rc != ocf.RCSuccess || err != nil {
		t.Fatalf("monitor: %d %v", rc, err)
	}
	// Another host (B) claims the VIP: the ARP probe must notice.
	if _, err := netnslab.Run(lab.NameB, "ip", "addr", "add", "10.99.7.50/32", "dev", "vb"); err != nil {
		t.Fatal(err)
	}
	rc, err := a.Monitor(ctx)
	if rc != ocf.RCErrGeneric || !errors.Is(err, ocf.ErrDuplicate) || !strings.Contains(err.Error(), "02:99:00:00:00:0b") {
		t.Fatalf("duplicate monitor: %d %v", rc, err)
	}
	if _, err := netnslab.Run(lab.NameB, "ip", "addr", "del", "10.99.7.50/32", "dev", "vb"); err != nil {
		t.Fatal(err)
	}
	if rc, err := a.Monitor(ctx); rc != ocf.RCSuccess {
		t.Fatalf("monitor after conflict cleared: %d %v", rc, err)
	}

	for i := 0; i < 2; i++ {
		if err := a.Stop(ctx); err != nil {
			t.Fatalf("stop %d: %v", i, err)
		}
	}
	if got := vipCopies(t, nl, "10.99.7.50"); len(got) != 0 {
		t.Fatalf("after stop: %+v", got)
	}
	if got := vipCopies(t, nl, "10.99.7.1"); len(got) != 1 {
		t.Fatal("stop removed the base address")
	}
	if rc, err := a.Monitor(ctx); rc != ocf.RCNotRunning || err != nil {
		t.Fatalf("monitor after stop: %d %v", rc, err)
	}
}

func TestNetnsIPv6(t *testing.T) {
	lab := netnslab.New(t, "vip6", "10.99.8.1/24", "10.99.8.2/24")
	ctx := context.Background()
	a, nl := labAgent(t, lab)
	frames, stop := capture(t, lab, 0x86dd)
	defer stop()
	if err := a.Validate(map[string]string{"ip": "fd99:8::50", "cidr_netmask": "64", "nic": "va", "nodad": "true", "noprefixroute": "true", "arp_count": "2", "arp_interval": "0", "arp_bg": "false"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := vipCopies(t, nl, "fd99:8::50"); len(got) != 1 || got[0].Prefix.Bits() != 64 || got[0].Flags&(FlagNoDAD|FlagNoPrefixRoute) != FlagNoDAD|FlagNoPrefixRoute {
		t.Fatalf("kernel copies: %+v", got)
	}
	want := netip.MustParseAddr("fd99:8::50").As16()
	seen := 0
	deadline := time.After(3 * time.Second)
	for seen < 2 {
		select {
		case f := <-frames:
			// Ethernet(14) + IPv6(40): ICMPv6 type 136 with our target.
			if len(f) < 14+40+24 || f[14+6] != 58 || f[54] != 136 || string(f[62:78]) != string(want[:]) {
				continue
			}
			if net.HardwareAddr(f[0:6]).String() != "33:33:00:00:00:01" || f[14+7] != 255 {
				t.Fatalf("NA dst %v hop limit %d", net.HardwareAddr(f[0:6]), f[21])
			}
			seen++
		case <-deadline:
			t.Fatalf("saw %d unsolicited NAs on the peer, want 2", seen)
		}
	}
	if rc, err := a.Monitor(ctx); rc != ocf.RCSuccess || err != nil {
		t.Fatalf("monitor: %d %v", rc, err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if rc, _ := a.Monitor(ctx); rc != ocf.RCNotRunning {
		t.Fatalf("monitor after stop: %d", rc)
	}
}

func TestNetnsValidLifetime(t *testing.T) {
	lab := netnslab.New(t, "viplft", "10.99.9.1/24", "10.99.9.2/24")
	ctx := context.Background()
	a, nl := labAgent(t, lab)
	if err := a.Validate(map[string]string{"ip": "10.99.9.50", "nic": "va", "valid_lft": "2", "arp_count": "0", "dup_check": "false"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	got := vipCopies(t, nl, "10.99.9.50")
	if len(got) != 1 || got[0].ValidLft == Forever || got[0].ValidLft > 2 {
		t.Fatalf("lifetime not applied: %+v", got)
	}
	// Refreshing keeps it alive past its original lifetime...
	for i := 0; i < 3; i++ {
		time.Sleep(time.Second)
		if err := a.RefreshLifetime(ctx); err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
	if rc, _ := a.Monitor(ctx); rc != ocf.RCSuccess {
		t.Fatalf("refreshed address gone: rc %d", rc)
	}
	// ...and without refreshes the kernel removes it by itself.
	deadline := time.Now().Add(6 * time.Second)
	for {
		rc, _ := a.Monitor(ctx)
		if rc == ocf.RCNotRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("address with valid_lft 2 still present after 6 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := a.RefreshLifetime(ctx); !errors.Is(err, ocf.ErrNotRunning) {
		t.Fatalf("refresh after expiry: %v", err)
	}
}
