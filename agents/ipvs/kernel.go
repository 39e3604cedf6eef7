package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"

	mobyipvs "github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/gocrm/gocrm/agents/vip/ocf"
)

// Generic netlink constants moby/ipvs does not export.
const (
	genlName        = "IPVS"
	cmdGetInfo      = 15
	genlVersion     = 1
	infoAttrVersion = 1
	infoAttrConnTab = 2
)

// Kernel is the IPVS implementation over moby/ipvs. Open probes the IPVS
// generic-netlink family first: without it moby/ipvs reports success for
// every call and changes nothing. All calls share one netlink socket and
// are serialised by a mutex. Safe for concurrent use.
type Kernel struct {
	mu     sync.Mutex
	h      *mobyipvs.Handle
	ns     netns.NsHandle
	family uint16
}

// ProbeFamily returns the IPVS generic-netlink family id in the namespace
// ns (netns.None() = current), or an error wrapping ocf.ErrNotInstalled.
func ProbeFamily(ns netns.NsHandle) (uint16, error) {
	var (
		h   *netlink.Handle
		err error
	)
	if ns.IsOpen() {
		h, err = netlink.NewHandleAt(ns, unix.NETLINK_GENERIC)
	} else {
		h, err = netlink.NewHandle(unix.NETLINK_GENERIC)
	}
	if err != nil {
		return 0, fmt.Errorf("open generic netlink: %w", err)
	}
	defer h.Close()
	f, err := h.GenlFamilyGet(genlName)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("kernel has no IPVS (generic netlink family %q missing; load ip_vs): %w", genlName, ocf.ErrNotInstalled)
		}
		return 0, fmt.Errorf("probe IPVS netlink family: %w", err)
	}
	return f.ID, nil
}

// Open returns a Kernel for the network namespace at netnsPath ("" = the
// caller's). It fails with an error wrapping ocf.ErrNotInstalled when the
// kernel has no IPVS.
func Open(netnsPath string) (*Kernel, error) {
	ns := netns.None()
	if netnsPath != "" {
		var err error
		if ns, err = netns.GetFromPath(netnsPath); err != nil {
			return nil, fmt.Errorf("open netns %s: %w", netnsPath, err)
		}
	}
	// moby/ipvs runs "modprobe ip_vs" on first use; create the handle
	// first so the module has a chance to load, then probe.
	h, err := mobyipvs.New(netnsPath)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("open IPVS handle: %w", err)
	}
	fam, err := ProbeFamily(ns)
	if err != nil {
		h.Close()
		ns.Close()
		return nil, err
	}
	return &Kernel{h: h, ns: ns, family: fam}, nil
}

// Close releases the handle.
func (k *Kernel) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.h.Close()
	if k.ns.IsOpen() {
		k.ns.Close()
	}
}

func afOf(family int) uint16 {
	if family == 6 {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

func ipOf(a netip.Addr) net.IP {
	if !a.IsValid() {
		return nil
	}
	return net.IP(a.AsSlice())
}

func toAddr(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// mobyNetmask converts our netmask to moby's wire value (moby writes the
// attribute in host byte order; the kernel reads it as __be32 for IPv4).
func mobyNetmask(family int, m uint32) uint32 {
	if family == 6 {
		return m
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], m)
	return binary.NativeEndian.Uint32(b[:])
}

func fromMobyNetmask(family int, m uint32) uint32 {
	if family == 6 {
		return m
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], m)
	return binary.BigEndian.Uint32(b[:])
}

func toMobySvc(s Service) *mobyipvs.Service {
	ms := &mobyipvs.Service{
		AddressFamily: afOf(s.Family),
		SchedName:     s.Scheduler,
		Flags:         s.Flags &^ FlagHashed,
		Timeout:       s.Timeout,
		Netmask:       mobyNetmask(s.Family, s.Netmask),
		PEName:        s.PEName,
	}
	if s.FWMark != 0 {
		ms.FWMark = s.FWMark
	} else {
		ms.Protocol = uint16(s.Protocol)
		ms.Address = ipOf(s.Addr)
		ms.Port = s.Port
	}
	return ms
}

func keySvc(k Key) *mobyipvs.Service {
	return toMobySvc(Service{Key: k, Netmask: defaultNetmask(k.Family)})
}

func defaultNetmask(family int) uint32 {
	if family == 6 {
		return 128
	}
	return 0xffffffff
}

func fromMobyStats(s mobyipvs.SvcStats) Stats {
	return Stats{
		Conns: uint64(s.Connections), InPkts: uint64(s.PacketsIn), OutPkts: uint64(s.PacketsOut),
		InBytes: s.BytesIn, OutBytes: s.BytesOut,
		CPS: uint64(s.CPS), InPPS: uint64(s.PPSIn), OutPPS: uint64(s.PPSOut),
		InBPS: uint64(s.BPSIn), OutBPS: uint64(s.BPSOut),
	}
}

func fromMobySvc(ms *mobyipvs.Service) Service {
	fam := 4
	if ms.AddressFamily == unix.AF_INET6 {
		fam = 6
	}
	s := Service{
		Key:       Key{Family: fam, FWMark: ms.FWMark},
		Scheduler: ms.SchedName,
		Flags:     ms.Flags &^ FlagHashed,
		Timeout:   ms.Timeout,
		Netmask:   fromMobyNetmask(fam, ms.Netmask),
		PEName:    ms.PEName,
		Stats:     fromMobyStats(ms.Stats),
	}
	if ms.FWMark == 0 {
		s.Protocol = int(ms.Protocol)
		s.Addr = toAddr(ms.Address)
		s.Port = ms.Port
	}
	return s
}

func toMobyDest(family int, d Destination) *mobyipvs.Destination {
	return &mobyipvs.Destination{
		Address:         ipOf(d.Addr),
		Port:            d.Port,
		Weight:          d.Weight,
		ConnectionFlags: uint32(d.Forward) & mobyipvs.ConnectionFlagFwdMask,
		AddressFamily:   afOf(family),
		UpperThreshold:  d.UThreshold,
		LowerThreshold:  d.LThreshold,
	}
}

func mapErr(err error, notFound error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ESRCH):
		return fmt.Errorf("%w: %w", ErrNoService, err)
	case errors.Is(err, syscall.ENOENT) && notFound != nil:
		return fmt.Errorf("%w: %w", notFound, err)
	case errors.Is(err, syscall.EEXIST):
		return fmt.Errorf("%w: %w", ErrExists, err)
	}
	return err
}

// Info implements IPVS (IPVS_CMD_GET_INFO, which moby/ipvs lacks).
func (k *Kernel) Info() (Info, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	sock, err := nl.GetNetlinkSocketAt(k.ns, netns.None(), unix.NETLINK_GENERIC)
	if err != nil {
		return Info{}, fmt.Errorf("IPVS info: open socket: %w", err)
	}
	sh := &nl.SocketHandle{Socket: sock}
	defer sh.Close()
	req := nl.NewNetlinkRequest(int(k.family), unix.NLM_F_ACK)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_GENERIC: sh}
	req.AddData(&nl.Genlmsg{Command: cmdGetInfo, Version: genlVersion})
	msgs, err := req.Execute(unix.NETLINK_GENERIC, 0)
	if err != nil {
		return Info{}, fmt.Errorf("IPVS info: %w", err)
	}
	for _, m := range msgs {
		if len(m) < nl.SizeofGenlmsg {
			continue
		}
		attrs, err := nl.ParseRouteAttr(m[nl.SizeofGenlmsg:])
		if err != nil {
			return Info{}, fmt.Errorf("IPVS info: parse: %w", err)
		}
		var inf Info
		for _, a := range attrs {
			if len(a.Value) < 4 {
				continue
			}
			switch a.Attr.Type {
			case infoAttrVersion:
				inf.Version = binary.NativeEndian.Uint32(a.Value)
			case infoAttrConnTab:
				inf.ConnSize = binary.NativeEndian.Uint32(a.Value)
			}
		}
		return inf, nil
	}
	return Info{}, errors.New("IPVS info: empty answer")
}

// Services implements IPVS.
func (k *Kernel) Services() ([]Service, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ms, err := k.h.GetServices()
	if err != nil {
		return nil, fmt.Errorf("list IPVS services: %w", err)
	}
	out := make([]Service, 0, len(ms))
	for _, s := range ms {
		out = append(out, fromMobySvc(s))
	}
	return out, nil
}

// NewService implements IPVS.
func (k *Kernel) NewService(s Service) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.h.NewService(toMobySvc(s)); err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return fmt.Errorf("add IPVS service %s: scheduler %q not available: %w", s.Key, s.Scheduler, err)
		}
		return fmt.Errorf("add IPVS service %s: %w", s.Key, mapErr(err, nil))
	}
	return nil
}

// UpdateService implements IPVS.
func (k *Kernel) UpdateService(s Service) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.h.UpdateService(toMobySvc(s)); err != nil {
		return fmt.Errorf("update IPVS service %s: %w", s.Key, mapErr(err, nil))
	}
	return nil
}

// DelService implements IPVS.
func (k *Kernel) DelService(key Key) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.h.DelService(keySvc(key)); err != nil {
		return fmt.Errorf("delete IPVS service %s: %w", key, mapErr(err, nil))
	}
	return nil
}

// Destinations implements IPVS.
func (k *Kernel) Destinations(key Key) ([]Destination, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	md, err := k.h.GetDestinations(keySvc(key))
	if err != nil {
		return nil, fmt.Errorf("list destinations of %s: %w", key, mapErr(err, nil))
	}
	out := make([]Destination, 0, len(md))
	for _, d := range md {
		out = append(out, Destination{
			Addr: toAddr(d.Address), Port: d.Port, Weight: d.Weight,
			Forward:    Forward(d.ConnectionFlags & mobyipvs.ConnectionFlagFwdMask),
			UThreshold: d.UpperThreshold, LThreshold: d.LowerThreshold,
			ActiveConns: uint32(d.ActiveConnections), InactiveConns: uint32(d.InactiveConnections),
			Stats: fromMobyStats(mobyipvs.SvcStats(d.Stats)),
		})
	}
	return out, nil
}

// NewDestination implements IPVS.
func (k *Kernel) NewDestination(key Key, d Destination) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.h.NewDestination(keySvc(key), toMobyDest(key.Family, d)); err != nil {
		return fmt.Errorf("add destination %s to %s: %w", AddrPort(d.Addr, d.Port), key, mapErr(err, nil))
	}
	return nil
}

// UpdateDestination implements IPVS.
func (k *Kernel) UpdateDestination(key Key, d Destination) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.h.UpdateDestination(keySvc(key), toMobyDest(key.Family, d)); err != nil {
		return fmt.Errorf("update destination %s of %s: %w", AddrPort(d.Addr, d.Port), key, mapErr(err, ErrNoDestination))
	}
	return nil
}

// DelDestination implements IPVS.
func (k *Kernel) DelDestination(key Key, dk DestKey) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.h.DelDestination(keySvc(key), toMobyDest(key.Family, Destination{Addr: dk.Addr, Port: dk.Port})); err != nil {
		return fmt.Errorf("delete destination %s of %s: %w", AddrPort(dk.Addr, dk.Port), key, mapErr(err, ErrNoDestination))
	}
	return nil
}
