package ipvs

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
)

// Format selects a List layout.
type Format int

// List layouts, matching `ipvsadm -Ln`, `ipvsadm -Ln --stats` and
// `ipvsadm -Ln --rate`.
const (
	FormatDefault Format = iota
	FormatStats
	FormatRate
)

// List writes the kernel table in ipvsadm's numeric text layout: the
// version line, the title lines, then every service sorted like ipvsadm
// (fwmark, family, protocol, address, port) with its destinations sorted by
// address and port. It reads everything it prints from t.
func List(w io.Writer, t IPVS, f Format) error {
	info, err := t.Info()
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	svcs, err := t.Services()
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "IP Virtual Server version %s (size=%d)\n", info.VersionString(), info.ConnSize)
	writeTitle(&b, f)
	SortServices(svcs)
	for _, s := range svcs {
		ds, err := t.Destinations(s.Key)
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		writeService(&b, s, ds, f)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func writeTitle(b *strings.Builder, f Format) {
	switch f {
	case FormatStats:
		fmt.Fprintf(b, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes")
	case FormatRate:
		fmt.Fprintf(b, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
	default:
		b.WriteString("Prot LocalAddress:Port Scheduler Flags\n" +
			"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
	}
}

// largeNum renders a counter in a 9-character column, scaling large
// values with K/M/G/T like ipvsadm.
func largeNum(i uint64) string {
	switch {
	case i < 100000000:
		return fmt.Sprintf("%9d", i)
	case i < 1000000000:
		return fmt.Sprintf("%8dK", i/1000)
	case i < 100000000000:
		return fmt.Sprintf("%8dM", i/1000000)
	case i < 100000000000000:
		return fmt.Sprintf("%8dG", i/1000000000)
	}
	return fmt.Sprintf("%8dT", i/1000000000000)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// SchedFlagNames returns the scheduler flag names ipvsadm prints.
func SchedFlagNames(sched string, flags uint32) []string {
	names := [3]string{"flag-1", "flag-2", "flag-3"}
	switch sched {
	case "sh":
		names = [3]string{"sh-fallback", "sh-port", "flag-3"}
	case "mh":
		names = [3]string{"mh-fallback", "mh-port", "flag-3"}
	}
	var out []string
	for i, bit := range []uint32{FlagSched1, FlagSched2, FlagSched3} {
		if flags&bit != 0 {
			out = append(out, names[i])
		}
	}
	return out
}

func netmaskString(family int, m uint32) string {
	if family == 6 {
		return fmt.Sprint(m)
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], m)
	return netip.AddrFrom4(b).String()
}

func writeService(b *strings.Builder, s Service, ds []Destination, f Format) {
	name := s.Key.String()
	if s.FWMark == 0 && s.Family == 4 {
		name = truncate(name, 33)
	}
	switch f {
	case FormatStats:
		fmt.Fprintf(b, "%-33s", name)
		for _, v := range []uint64{s.Stats.Conns, s.Stats.InPkts, s.Stats.OutPkts, s.Stats.InBytes, s.Stats.OutBytes} {
			b.WriteString(largeNum(v))
		}
	case FormatRate:
		fmt.Fprintf(b, "%-33s", name)
		for _, v := range []uint64{s.Stats.CPS, s.Stats.InPPS, s.Stats.OutPPS, s.Stats.InBPS, s.Stats.OutBPS} {
			b.WriteString(largeNum(v))
		}
	default:
		fmt.Fprintf(b, "%s %s", name, s.Scheduler)
		if fl := SchedFlagNames(s.Scheduler, s.Flags); len(fl) > 0 {
			fmt.Fprintf(b, " (%s)", strings.Join(fl, ","))
		}
		if s.Flags&FlagPersistent != 0 {
			fmt.Fprintf(b, " persistent %d", s.Timeout)
			if s.Netmask != defaultNetmask(s.Family) {
				fmt.Fprintf(b, " mask %s", netmaskString(s.Family, s.Netmask))
			}
			if s.PEName != "" {
				fmt.Fprintf(b, " pe %s", s.PEName)
			}
		}
		if s.Flags&FlagOnePacket != 0 {
			b.WriteString(" ops")
		}
	}
	b.WriteString("\n")
	SortDestinations(ds)
	for _, d := range ds {
		dn := AddrPort(d.Addr, d.Port)
		if s.Family == 4 {
			dn = truncate(dn, 28)
		}
		switch f {
		case FormatStats:
			fmt.Fprintf(b, "  -> %-28s", dn)
			for _, v := range []uint64{d.Stats.Conns, d.Stats.InPkts, d.Stats.OutPkts, d.Stats.InBytes, d.Stats.OutBytes} {
				b.WriteString(largeNum(v))
			}
			b.WriteString("\n")
		case FormatRate:
			fmt.Fprintf(b, "  -> %-28s %8d %8d %8d", dn, uint32(d.Stats.CPS), uint32(d.Stats.InPPS), uint32(d.Stats.OutPPS))
			b.WriteString(largeNum(d.Stats.InBPS))
			b.WriteString(largeNum(d.Stats.OutBPS))
			b.WriteString("\n")
		default:
			fmt.Fprintf(b, "  -> %-28s %-7s %-6d %-10d %-10d\n", dn, d.Forward, d.Weight, d.ActiveConns, d.InactiveConns)
		}
	}
}

// cmp32 reproduces ipvsadm's comparison of two unsigned 32-bit values by
// subtraction into a signed int (values more than 2^31 apart compare
// "wrapped"), so List sorts exactly like ipvsadm.
func cmp32(a, b uint32) int { return int(int32(a - b)) }

func addrWords(a netip.Addr) []uint32 {
	s := a.AsSlice()
	out := make([]uint32, 0, len(s)/4)
	for i := 0; i+4 <= len(s); i += 4 {
		out = append(out, binary.BigEndian.Uint32(s[i:]))
	}
	return out
}

func cmpAddr(a, b netip.Addr) int {
	wa, wb := addrWords(a), addrWords(b)
	for i := 0; i < len(wa) && i < len(wb); i++ {
		if r := cmp32(wa[i], wb[i]); r != 0 {
			return r
		}
	}
	return 0
}

// SortServices sorts like ipvsadm's default listing.
func SortServices(s []Service) {
	af := func(f int) int {
		if f == 6 {
			return 10 // AF_INET6
		}
		return 2 // AF_INET
	}
	sort.SliceStable(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if r := cmp32(a.FWMark, b.FWMark); r != 0 {
			return r < 0
		}
		if r := af(a.Family) - af(b.Family); r != 0 {
			return r < 0
		}
		if r := a.Protocol - b.Protocol; r != 0 {
			return r < 0
		}
		if r := cmpAddr(a.Addr, b.Addr); r != 0 {
			return r < 0
		}
		return int(a.Port)-int(b.Port) < 0
	})
}

// SortDestinations sorts like ipvsadm (address, then port).
func SortDestinations(d []Destination) {
	sort.SliceStable(d, func(i, j int) bool {
		if r := cmpAddr(d[i].Addr, d[j].Addr); r != 0 {
			return r < 0
		}
		return int(d[i].Port)-int(d[j].Port) < 0
	})
}
