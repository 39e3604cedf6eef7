package dataplane

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/gocrm/gocrm/agents/vrrp/router"
)

// RawNet is the production Net: raw IP sockets bound to the interface
// (SO_BINDTODEVICE). It needs CAP_NET_RAW. Safe for concurrent use.
type RawNet struct{}

// Open implements Net.
func (RawNet) Open(ifname string, ipv6 bool, proto int, groups []netip.Addr) (Conn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("vrrp socket on %s: %w", ifname, err)
	}
	if ipv6 {
		return open6(ifi, proto, groups)
	}
	return open4(ifi, proto, groups)
}

func bindToDevice(c syscall.Conn, ifname string) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.BindToDevice(int(fd), ifname)
		if serr == nil {
			// Room for bursts of adverts from many instances.
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("bind to device %s: %w", ifname, serr)
	}
	return nil
}

type conn4 struct {
	c   *net.IPConn
	rc  syscall.RawConn
	oob [128]byte // control messages; only the reader goroutine uses it
}

func open4(ifi *net.Interface, proto int, groups []netip.Addr) (Conn, error) {
	pc, err := net.ListenPacket(fmt.Sprintf("ip4:%d", proto), "0.0.0.0")
	if err != nil {
		return nil, fmt.Errorf("open ip4:%d socket on %s: %w", proto, ifi.Name, err)
	}
	c := pc.(*net.IPConn)
	fail := func(err error) (Conn, error) {
		c.Close()
		return nil, fmt.Errorf("ip4:%d socket on %s: %w", proto, ifi.Name, err)
	}
	if err := bindToDevice(c, ifi.Name); err != nil {
		return fail(err)
	}
	r, err := ipv4.NewRawConn(c) // sets IP_HDRINCL
	if err != nil {
		return fail(err)
	}
	for _, g := range groups {
		if err := r.JoinGroup(ifi, &net.IPAddr{IP: g.AsSlice()}); err != nil {
			return fail(fmt.Errorf("join %s: %w", g, err))
		}
	}
	if err := r.SetMulticastLoopback(false); err != nil {
		return fail(err)
	}
	if err := r.SetMulticastInterface(ifi); err != nil {
		return fail(err)
	}
	if err := r.SetMulticastTTL(255); err != nil {
		return fail(err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return fail(err)
	}
	// Kernel receive timestamps (ReadAged); without them the read time is
	// used, so a failure is not fatal.
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	})
	return &conn4{c: c, rc: rc}, nil
}

// Read returns the datagram with its IPv4 header (the net package would strip it).
func (k *conn4) Read(buf []byte) (int, error) {
	n, _, err := k.ReadAged(buf)
	return n, err
}

// ReadAged is Read plus the datagram's age from its kernel receive
// timestamp (AgedConn).
func (k *conn4) ReadAged(buf []byte) (int, time.Duration, error) {
	var n, oobn int
	var rerr error
	err := k.rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, k.oob[:], 0)
		return !errors.Is(rerr, unix.EAGAIN)
	})
	if err != nil {
		return 0, 0, err
	}
	if rerr != nil {
		return 0, 0, rerr
	}
	return n, kernelAge(k.oob[:oobn], time.Now()), nil
}

// maxKernelAge bounds a believable receive-timestamp age: anything older
// (or in the future) means the wall clock stepped, and the read time is
// used instead.
const maxKernelAge = time.Second

// kernelAge returns now minus the SCM_TIMESTAMPNS timestamp in oob (both
// wall clock), or 0 if there is none or it is not believable.
func kernelAge(oob []byte, now time.Time) time.Duration {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SO_TIMESTAMPNS || len(m.Data) < 16 {
			continue
		}
		sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
		nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
		age := now.Sub(time.Unix(sec, nsec))
		if age < 0 || age > maxKernelAge {
			return 0
		}
		return age
	}
	return 0
}

func (k *conn4) Send(d router.Datagram, _ netip.Addr) error {
	sa := &unix.SockaddrInet4{Addr: d.Dst.As4()}
	var serr error
	err := k.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), d.IP, 0, sa)
		return !errors.Is(serr, unix.EAGAIN)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("send advert to %s: %w", d.Dst, serr)
	}
	return nil
}

func (k *conn4) Close() error { return k.c.Close() }

type conn6 struct {
	c     net.PacketConn
	pc    *ipv6.PacketConn
	rc    syscall.RawConn
	ifi   *net.Interface
	proto int
	oob   [256]byte // control messages; only the reader goroutine uses it
}

func open6(ifi *net.Interface, proto int, groups []netip.Addr) (Conn, error) {
	c, err := net.ListenPacket(fmt.Sprintf("ip6:%d", proto), "::")
	if err != nil {
		return nil, fmt.Errorf("open ip6:%d socket on %s: %w", proto, ifi.Name, err)
	}
	fail := func(err error) (Conn, error) {
		c.Close()
		return nil, fmt.Errorf("ip6:%d socket on %s: %w", proto, ifi.Name, err)
	}
	if err := bindToDevice(c.(*net.IPConn), ifi.Name); err != nil {
		return fail(err)
	}
	pc := ipv6.NewPacketConn(c)
	for _, g := range groups {
		if err := pc.JoinGroup(ifi, &net.IPAddr{IP: g.AsSlice()}); err != nil {
			return fail(fmt.Errorf("join %s: %w", g, err))
		}
	}
	steps := []func() error{
		func() error { return pc.SetMulticastLoopback(false) },
		func() error { return pc.SetMulticastInterface(ifi) },
		func() error { return pc.SetMulticastHopLimit(255) },
		func() error { return pc.SetHopLimit(255) },
		func() error { return pc.SetTrafficClass(0xc0) },
		func() error {
			return pc.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface|ipv6.FlagTrafficClass, true)
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return fail(err)
		}
	}
	rc, err := c.(*net.IPConn).SyscallConn()
	if err != nil {
		return fail(err)
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	})
	return &conn6{c: c, pc: pc, rc: rc, ifi: ifi, proto: proto}, nil
}

// Read rebuilds the IPv6 header from the control messages in front of the
// payload.
func (k *conn6) Read(buf []byte) (int, error) {
	n, _, err := k.ReadAged(buf)
	return n, err
}

// ReadAged is Read plus the datagram's age from its kernel receive
// timestamp (AgedConn). Datagrams without a destination address
// (IPV6_PKTINFO) are skipped.
func (k *conn6) ReadAged(buf []byte) (int, time.Duration, error) {
	if len(buf) < 41 {
		return 0, 0, fmt.Errorf("read buffer too small")
	}
	for {
		var (
			n, oobn int
			from    unix.Sockaddr
			rerr    error
		)
		err := k.rc.Read(func(fd uintptr) bool {
			n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf[40:], k.oob[:], 0)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		if err != nil {
			return 0, 0, err
		}
		if rerr != nil {
			return 0, 0, rerr
		}
		sa, ok := from.(*unix.SockaddrInet6)
		if !ok {
			continue
		}
		m, ok := parseCmsg6(k.oob[:oobn])
		if !ok {
			continue
		}
		h := buf[:40]
		binary.BigEndian.PutUint32(h[0:4], 6<<28|uint32(m.tclass&0xff)<<20)
		binary.BigEndian.PutUint16(h[4:6], uint16(n))
		h[6] = byte(k.proto)
		h[7] = byte(m.hopLimit)
		copy(h[8:24], sa.Addr[:])
		copy(h[24:40], m.dst[:])
		return 40 + n, kernelAge(k.oob[:oobn], time.Now()), nil
	}
}

// cmsg6 is what an IPv6 VRRP datagram's control messages carry.
type cmsg6 struct {
	dst      [16]byte
	hopLimit int
	tclass   int
}

// parseCmsg6 reads IPV6_PKTINFO (required), IPV6_HOPLIMIT and IPV6_TCLASS.
func parseCmsg6(oob []byte) (cmsg6, bool) {
	var m cmsg6
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return m, false
	}
	dst := false
	for _, c := range msgs {
		if c.Header.Level != unix.IPPROTO_IPV6 {
			continue
		}
		switch c.Header.Type {
		case unix.IPV6_PKTINFO:
			if len(c.Data) >= 16 {
				copy(m.dst[:], c.Data[:16])
				dst = true
			}
		case unix.IPV6_HOPLIMIT:
			if len(c.Data) >= 4 {
				m.hopLimit = int(int32(binary.NativeEndian.Uint32(c.Data[:4])))
			}
		case unix.IPV6_TCLASS:
			if len(c.Data) >= 4 {
				m.tclass = int(int32(binary.NativeEndian.Uint32(c.Data[:4])))
			}
		}
	}
	return m, dst
}

func (k *conn6) Send(d router.Datagram, src netip.Addr) error {
	cm := &ipv6.ControlMessage{HopLimit: 255, TrafficClass: 0xc0, IfIndex: k.ifi.Index}
	if src.IsValid() {
		cm.Src = src.AsSlice()
	}
	dst := &net.IPAddr{IP: d.Dst.AsSlice(), Zone: k.ifi.Name}
	if _, err := k.pc.WriteTo(d.Payload, cm, dst); err != nil {
		return fmt.Errorf("send advert to %s: %w", d.Dst, err)
	}
	return nil
}

func (k *conn6) Close() error { return k.c.Close() }

// PacketSender is the production FrameSender: one AF_PACKET socket per
// interface, opened on first use and kept (needs CAP_NET_RAW). Safe for
// concurrent use.
type PacketSender struct {
	mu    sync.Mutex
	conns map[string]*packet.Conn
}

// conn returns the interface's socket, opening it if needed; p.mu held.
func (p *PacketSender) conn(ifname string) (*packet.Conn, error) {
	if c := p.conns[ifname]; c != nil {
		return c, nil
	}
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("frame socket on %s: %w", ifname, err)
	}
	c, err := packet.Listen(ifi, packet.Raw, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("frame socket on %s: %w", ifname, err)
	}
	if p.conns == nil {
		p.conns = map[string]*packet.Conn{}
	}
	p.conns[ifname] = c
	return c, nil
}

// Prepare implements FramePreparer: it opens the interface's socket now
// (an interface lookup and a socket set-up that would otherwise delay the
// first gratuitous ARP of a takeover by a few hundred microseconds).
func (p *PacketSender) Prepare(ifname string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.conn(ifname)
	return err
}

// Send implements FrameSender.
func (p *PacketSender) Send(ifname string, frame []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(frame) < 14 {
		return fmt.Errorf("short frame")
	}
	c, err := p.conn(ifname)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(frame, &packet.Addr{HardwareAddr: net.HardwareAddr(frame[0:6])}); err != nil {
		// The interface may have been recreated: reopen next time.
		c.Close()
		delete(p.conns, ifname)
		return fmt.Errorf("send frame on %s: %w", ifname, err)
	}
	return nil
}

// Close implements FrameSender.
func (p *PacketSender) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n, c := range p.conns {
		c.Close()
		delete(p.conns, n)
	}
	return nil
}

// NetlinkWatcher is the production LinkWatcher (RTNLGRP_LINK). An
// interface is up when it is administratively up and has carrier
// (IFF_UP and IFF_RUNNING), like keepalived.
type NetlinkWatcher struct{}

// Watch implements LinkWatcher.
func (NetlinkWatcher) Watch(ctx context.Context, emit func(name string, up bool)) error {
	ch := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	errc := make(chan error, 1)
	err := netlink.LinkSubscribeWithOptions(ch, done, netlink.LinkSubscribeOptions{
		ListExisting: true,
		ErrorCallback: func(err error) {
			select {
			case errc <- err:
			default:
			}
		},
	})
	if err != nil {
		return fmt.Errorf("subscribe to link changes: %w", err)
	}
	last := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errc:
			return fmt.Errorf("link subscription: %w", err)
		case u, ok := <-ch:
			if !ok {
				return fmt.Errorf("link subscription closed: %w", os.ErrClosed)
			}
			a := u.Attrs()
			if a == nil {
				continue
			}
			up := u.Header.Type != unix.RTM_DELLINK && a.RawFlags&unix.IFF_UP != 0 && a.RawFlags&unix.IFF_RUNNING != 0
			if prev, ok := last[a.Name]; ok && prev == up {
				continue
			}
			last[a.Name] = up
			emit(a.Name, up)
		}
	}
}

// preciseAfter is time.After on a timerfd. The goroutine it starts ends
// when the timer fires (a superseded timer is simply not read).
func preciseAfter(d time.Duration) <-chan time.Time {
	if d <= 0 {
		d = 1 // a zero it_value would disarm the timer
	}
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return time.After(d)
	}
	if err := unix.TimerfdSettime(fd, 0, &unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}, nil); err != nil {
		unix.Close(fd)
		return time.After(d)
	}
	f := os.NewFile(uintptr(fd), "timerfd")
	c := make(chan time.Time, 1)
	go func() {
		defer f.Close()
		var b [8]byte
		if _, err := f.Read(b[:]); err != nil {
			time.Sleep(d) // unexpected: keep the contract
		}
		c <- time.Now()
	}()
	return c
}
