package vip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// FakeAddrLinker is an in-memory AddrLinker for tests. It mimics the
// kernel's keying: an IPv4 address is identified by (address, prefix
// length), an IPv6 address by the address alone. Safe for concurrent use.
type FakeAddrLinker struct {
	mu    sync.Mutex
	links []Link
	addrs map[int][]Addr // by link index
	// Err, if set, is returned by every mutating call (failure injection).
	Err error
	// Calls counts mutating calls by name ("replace", "del", "up").
	Calls map[string]int
	// ReplaceFlags are the IFA flags the "kernel" sets on every replaced
	// address (e.g. FlagTentative or FlagDADFailed for IPv6 DAD).
	ReplaceFlags int
}

// NewFakeAddrLinker returns a fake holding the given links.
func NewFakeAddrLinker(links ...Link) *FakeAddrLinker {
	return &FakeAddrLinker{links: links, addrs: map[int][]Addr{}, Calls: map[string]int{}}
}

// AddLink adds a device.
func (f *FakeAddrLinker) AddLink(l Link) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links = append(f.links, l)
}

// SetFlags sets the IFA flags of an existing address (e.g. FlagDADFailed).
func (f *FakeAddrLinker) SetFlags(dev string, ip netip.Addr, flags int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.links {
		if l.Name != dev {
			continue
		}
		for i, a := range f.addrs[l.Index] {
			if a.Prefix.Addr() == ip {
				f.addrs[l.Index][i].Flags = flags
			}
		}
	}
}

// Snapshot returns a copy of the device's addresses.
func (f *FakeAddrLinker) Snapshot(dev string) []Addr {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.links {
		if l.Name == dev {
			return append([]Addr(nil), f.addrs[l.Index]...)
		}
	}
	return nil
}

func (f *FakeAddrLinker) find(l Link) (int, bool) {
	for i, x := range f.links {
		if x.Index == l.Index || (l.Index == 0 && x.Name == l.Name) {
			return i, true
		}
	}
	return 0, false
}

// LinkByName implements AddrLinker.
func (f *FakeAddrLinker) LinkByName(name string) (Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.links {
		if l.Name == name {
			return l, nil
		}
	}
	return Link{}, fmt.Errorf("device %s: %w", name, ErrLinkNotFound)
}

// Links implements AddrLinker.
func (f *FakeAddrLinker) Links() ([]Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Link(nil), f.links...), nil
}

// LinkSetUp implements AddrLinker.
func (f *FakeAddrLinker) LinkSetUp(l Link) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls["up"]++
	if f.Err != nil {
		return f.Err
	}
	i, ok := f.find(l)
	if !ok {
		return fmt.Errorf("set %s up: %w", l.Name, ErrLinkNotFound)
	}
	f.links[i].Up = true
	return nil
}

// AddrList implements AddrLinker.
func (f *FakeAddrLinker) AddrList(l Link, family int) ([]Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.find(l)
	if !ok {
		return nil, fmt.Errorf("list %s: %w", l.Name, ErrLinkNotFound)
	}
	var out []Addr
	for _, a := range f.addrs[f.links[i].Index] {
		if family == 4 && !a.Prefix.Addr().Is4() || family == 6 && !a.Prefix.Addr().Is6() {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

func sameKey(a, b Addr) bool {
	if a.Prefix.Addr() != b.Prefix.Addr() {
		return false
	}
	return a.Prefix.Addr().Is6() || a.Prefix.Bits() == b.Prefix.Bits()
}

// AddrReplace implements AddrLinker.
func (f *FakeAddrLinker) AddrReplace(l Link, a Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls["replace"]++
	if f.Err != nil {
		return f.Err
	}
	i, ok := f.find(l)
	if !ok {
		return fmt.Errorf("add %s: %w", a.Prefix, ErrLinkNotFound)
	}
	if a.Label != "" && len(a.Label) > 15 {
		return fmt.Errorf("add %s: label %q: numerical result out of range", a.Prefix, a.Label)
	}
	idx := f.links[i].Index
	a.Flags = a.Flags&(FlagNoDAD|FlagNoPrefixRoute) | f.ReplaceFlags
	for j, x := range f.addrs[idx] {
		if sameKey(x, a) {
			f.addrs[idx][j] = a
			return nil
		}
	}
	f.addrs[idx] = append(f.addrs[idx], a)
	return nil
}

// AddrDel implements AddrLinker.
func (f *FakeAddrLinker) AddrDel(l Link, a Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls["del"]++
	if f.Err != nil {
		return f.Err
	}
	i, ok := f.find(l)
	if !ok {
		return fmt.Errorf("delete %s: %w", a.Prefix, ErrLinkNotFound)
	}
	idx := f.links[i].Index
	for j, x := range f.addrs[idx] {
		if sameKey(x, a) {
			f.addrs[idx] = append(f.addrs[idx][:j], f.addrs[idx][j+1:]...)
			return nil
		}
	}
	return fmt.Errorf("delete %s from %s: %w", a.Prefix, l.Name, ErrAddrNotFound)
}

// Announcement records one FakeNeighbour.Announce call.
type Announcement struct {
	Link string
	IP   netip.Addr
}

// FakeNeighbour records announcements and answers probes from a table of
// conflicting hosts. Safe for concurrent use.
type FakeNeighbour struct {
	mu        sync.Mutex
	announced []Announcement
	conflicts map[netip.Addr]net.HardwareAddr
	probes    int
	// ProbeErr, if set, is returned by Probe.
	ProbeErr error
	// Sent, if non-nil, receives every announcement (must be buffered or drained).
	Sent chan Announcement
}

// NewFakeNeighbour returns an empty FakeNeighbour.
func NewFakeNeighbour() *FakeNeighbour {
	return &FakeNeighbour{conflicts: map[netip.Addr]net.HardwareAddr{}}
}

// SetConflict makes Probe report mac as another owner of ip (nil clears).
func (n *FakeNeighbour) SetConflict(ip netip.Addr, mac net.HardwareAddr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if mac == nil {
		delete(n.conflicts, ip)
		return
	}
	n.conflicts[ip] = mac
}

// Announced returns the announcements sent so far.
func (n *FakeNeighbour) Announced() []Announcement {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Announcement(nil), n.announced...)
}

// Probes returns the number of Probe calls.
func (n *FakeNeighbour) Probes() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.probes
}

// Announce implements Neighbour.
func (n *FakeNeighbour) Announce(ctx context.Context, link Link, ip netip.Addr) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a := Announcement{Link: link.Name, IP: ip}
	n.mu.Lock()
	n.announced = append(n.announced, a)
	ch := n.Sent
	n.mu.Unlock()
	if ch != nil {
		select {
		case ch <- a:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Probe implements Neighbour.
func (n *FakeNeighbour) Probe(ctx context.Context, link Link, ip netip.Addr, timeout time.Duration) (net.HardwareAddr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.probes++
	if n.ProbeErr != nil {
		return nil, n.ProbeErr
	}
	return n.conflicts[ip], nil
}
