package keepalived

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Val is a configuration value with its origin. When Set is false the value
// was not in the file and V holds keepalived's default (Pos is then zero or
// the position of the block the default was inherited from).
type Val[T any] struct {
	V   T
	Pos Pos
	Set bool
}

func (v *Val[T]) set(x T, p Pos) { v.V, v.Pos, v.Set = x, p, true }

// def stores a default if no value was given.
func (v *Val[T]) def(x T) {
	if !v.Set {
		v.V = x
	}
}

// inherit copies another value's content (keeping Set false) if no value
// was given.
func (v *Val[T]) inherit(from Val[T]) {
	if !v.Set {
		v.V, v.Pos = from.V, from.Pos
	}
}

// Secret is a string that must not be printed: String, GoString and
// fmt's %v show a fixed placeholder. Use Reveal for the real value.
type Secret string

// Reveal returns the clear text.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// GoString redacts for %#v as well.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// State is a VRRP instance's configured initial state.
type State int

// Initial states.
const (
	StateBackup State = iota
	StateMaster
)

func (s State) String() string {
	if s == StateMaster {
		return "MASTER"
	}
	return "BACKUP"
}

// Config is a parsed keepalived.conf (with its includes).
type Config struct {
	Files    []string  // every file read, main file first, in read order
	Warnings []Warning // non-fatal remarks, in file order

	Global              GlobalDefs
	Instances           []*VRRPInstance
	SyncGroups          []*SyncGroup
	Scripts             []*VRRPScript
	TrackFiles          []*TrackFileDef
	VirtualServers      []*VirtualServer
	VirtualServerGroups []*VirtualServerGroup
	StaticAddresses     []*Address // static_ipaddress
	StaticRoutes        []*Route   // static_routes
	StaticRules         []*Rule    // static_rules

	NetNamespace Val[string] // top-level net_namespace
	InstanceName Val[string] // top-level instance
}

// Instance returns the vrrp_instance with the given name, or nil.
func (c *Config) Instance(name string) *VRRPInstance {
	return byName(c.Instances, name, func(v *VRRPInstance) string { return v.Name })
}

// Script returns the vrrp_script with the given name, or nil.
func (c *Config) Script(name string) *VRRPScript {
	return byName(c.Scripts, name, func(v *VRRPScript) string { return v.Name })
}

// TrackFile returns the track_file definition with the given name, or nil.
func (c *Config) TrackFile(name string) *TrackFileDef {
	return byName(c.TrackFiles, name, func(v *TrackFileDef) string { return v.Name })
}

// VirtualServerGroup returns the virtual_server_group with the given name,
// or nil.
func (c *Config) VirtualServerGroup(name string) *VirtualServerGroup {
	return byName(c.VirtualServerGroups, name, func(v *VirtualServerGroup) string { return v.Name })
}

// byName returns the first element of list whose name (as nameOf reads it)
// is name, or nil.
func byName[T any](list []*T, name string, nameOf func(*T) string) *T {
	for _, v := range list {
		if nameOf(v) == name {
			return v
		}
	}
	return nil
}

// Command is a script to run: keepalived's `"path args" [user [group]]`.
type Command struct {
	Script string // as written (quotes removed): program and arguments
	User   string // optional user to run as
	Group  string // optional group
}

// Argv splits Script into words like keepalived does: on white space, with
// single or double quotes grouping and backslash escaping one character.
func (c Command) Argv() []string { return SplitCommand(c.Script) }

// SplitCommand splits a script string into argv words.
func SplitCommand(s string) []string {
	var out []string
	var b strings.Builder
	in := false
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '\'' || c == '"'):
			q, in = c, true
		case c == '\\' && q != '\'' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			in = true
		case q == 0 && (c == ' ' || c == '\t'):
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}

// GlobalDefs is the global_defs block. Timer values are durations.
type GlobalDefs struct {
	Pos Pos // of the global_defs keyword (zero if absent)

	RouterID              Val[string]
	NotificationEmail     []Val[string]
	NotificationEmailFrom Val[string]
	SMTPServer            Val[string] // "host" or "host port"
	SMTPConnectTimeout    Val[time.Duration]

	VRRPVersion                 Val[int]        // default 2
	VRRPMcastGroup4             Val[netip.Addr] // default 224.0.0.18
	VRRPMcastGroup6             Val[netip.Addr] // default ff02::12
	VRRPGarpMasterDelay         Val[time.Duration]
	VRRPGarpMasterRepeat        Val[int]
	VRRPGarpMasterRefresh       Val[time.Duration]
	VRRPGarpMasterRefreshRepeat Val[int]
	VRRPGarpLowerPrioDelay      Val[time.Duration]
	VRRPGarpLowerPrioRepeat     Val[int]
	VRRPGarpInterval            Val[time.Duration]
	VRRPGnaInterval             Val[time.Duration]
	VRRPMinGarp                 Val[bool]
	VRRPLowerPrioNoAdvert       Val[bool]
	VRRPHigherPrioSendAdvert    Val[bool]
	VRRPStrict                  Val[bool]
	VRRPSkipCheckAdvAddr        Val[bool]
	VRRPCheckUnicastSrc         Val[bool]
	VRRPStartupDelay            Val[time.Duration]
	VRRPDownTimerAdverts        Val[int] // default 3
	VRRPPriority                Val[int] // process nice value
	VRRPRTPriority              Val[int]
	VRRPNoSwap                  Val[bool]
	MaxAutoPriority             Val[int] // -1 when given without a value
	DynamicInterfaces           Val[bool]

	ScriptUser           Val[string]
	ScriptGroup          Val[string]
	EnableScriptSecurity Val[bool]

	NotifyFifo           Val[Command] // Script holds the FIFO path
	NotifyFifoScript     Val[Command]
	VRRPNotifyFifo       Val[Command]
	VRRPNotifyFifoScript Val[Command]
	LVSNotifyFifo        Val[Command]
	LVSNotifyFifoScript  Val[Command]

	LVSSyncDaemon  Val[[]string] // raw words: IF [inst VI] [id N] ...
	LVSFlush       Val[bool]
	LVSFlushOnStop Val[string] // "" or "VS" when given
	LVSTimeouts    Val[map[string]time.Duration]
}

// VRRPInstance is a vrrp_instance block.
type VRRPInstance struct {
	Name string
	Pos  Pos

	State           Val[State]
	Interface       Val[string]
	VirtualRouterID Val[int]
	Priority        Val[int]
	AdvertInt       Val[time.Duration]
	Version         Val[int]
	Nopreempt       Val[bool]
	PreemptDelay    Val[time.Duration]

	UnicastSrcIP       Val[netip.Addr] // unicast_src_ip / mcast_src_ip
	UnicastPeers       []UnicastPeer
	UnicastTTL         Val[int]
	McastDstIP         Val[netip.Addr]
	CheckUnicastSrc    Val[bool]
	UnicastFaultNoPeer Val[bool]
	TrackSrcIP         Val[bool]

	Authentication *Authentication

	VirtualIPAddresses         []*Address
	VirtualIPAddressesExcluded []*Address
	VirtualRoutes              []*Route
	VirtualRules               []*Rule

	TrackInterfaces []TrackInterface
	TrackScripts    []TrackRef
	TrackFiles      []TrackRef

	NotifyMaster           Val[Command]
	NotifyBackup           Val[Command]
	NotifyFault            Val[Command]
	NotifyStop             Val[Command]
	Notify                 Val[Command]
	NotifyMasterRxLowerPri Val[Command]
	NotifyPriorityChanges  Val[bool]
	SMTPAlert              Val[bool]

	GarpMasterDelay         Val[time.Duration]
	GarpMasterRepeat        Val[int]
	GarpMasterRefresh       Val[time.Duration]
	GarpMasterRefreshRepeat Val[int]
	GarpLowerPrioDelay      Val[time.Duration]
	GarpLowerPrioRepeat     Val[int]

	UseVMAC      Val[VMAC]
	VMACXmitBase Val[bool]

	DontTrackPrimary     Val[bool]
	Accept               Val[bool] // accept (true) / no_accept (false)
	StrictMode           Val[bool]
	SkipCheckAdvAddr     Val[bool]
	LowerPrioNoAdvert    Val[bool]
	HigherPrioSendAdvert Val[bool]
	DownTimerAdverts     Val[int]
	PromoteSecondaries   Val[bool]
}

// AdvertIntSeconds returns advert_int in (fractional) seconds.
func (v *VRRPInstance) AdvertIntSeconds() float64 { return v.AdvertInt.V.Seconds() }

// VMAC is use_vmac's configuration. Enabled is false when use_vmac is absent.
type VMAC struct {
	Enabled bool
	Name    string // interface name; empty means "vrrp.VRID"
	MAC     MAC    // zero means the standard VRRP MAC
}

// MAC is an Ethernet address.
type MAC [6]byte

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// parseMAC parses six colon-separated hex octets.
func parseMAC(s string) (MAC, bool) {
	var m MAC
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return m, false
	}
	for i, p := range parts {
		if len(p) != 2 {
			return m, false
		}
		n, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return m, false
		}
		m[i] = byte(n)
	}
	return m, true
}

// UnicastPeer is one unicast_peer entry.
type UnicastPeer struct {
	Pos    Pos
	Addr   netip.Addr
	MinTTL Val[int] // given min_ttl implies check_unicast_src
	MaxTTL Val[int]
}

// AuthType is VRRPv2 authentication.
type AuthType string

// Authentication types.
const (
	AuthPass AuthType = "PASS"
	AuthAH   AuthType = "AH"
)

// Authentication is an instance's authentication block.
type Authentication struct {
	Pos  Pos
	Type Val[AuthType]
	Pass Val[Secret] // at most 8 bytes are used on the wire
}

// Address is one virtual_ipaddress / virtual_ipaddress_excluded /
// static_ipaddress entry: ADDR[/PREFIX] [brd B] [dev X] [scope S] [label L]
// [peer P] and flags.
type Address struct {
	Pos           Pos
	Prefix        netip.Prefix // address with its length (/32 or /128 if omitted)
	Broadcast     netip.Addr   // zero if not given
	Dev           string       // empty: the instance's interface
	Scope         string       // empty: global
	Label         string
	TrackGroup    string
	Peer          netip.Prefix // zero if not given
	PreferredLft  string       // "forever" or seconds, empty if not given
	Home          bool
	NoDAD         bool
	MngTmpAddr    bool
	NoPrefixRoute bool
	AutoJoin      bool
	NoTrack       bool
	UseVMAC       bool
}

// Addr returns the address without its prefix length.
func (a *Address) Addr() netip.Addr { return a.Prefix.Addr() }

// Route is a virtual_routes / static_routes entry (ip-route like).
type Route struct {
	Pos     Pos
	Type    string       // "" (unicast) or blackhole, unreachable, prohibit, throw, ...
	Family  string       // "inet6" or "inet" when forced by keyword
	Dest    netip.Prefix // destination ("default" is 0.0.0.0/0 or ::/0)
	Src     netip.Addr
	Via     netip.Addr // via / gw
	Or      netip.Addr // deprecated alternative gateway
	Dev     string
	Scope   string
	Table   string
	Metric  Val[int]
	NoTrack bool
	Options map[string]string // other ip-route options (proto, mtu, ...) as written
}

// Rule is a virtual_rules / static_rules entry (ip-rule like).
type Rule struct {
	Pos        Pos
	From       netip.Prefix // zero: any
	To         netip.Prefix // zero: any
	Table      string
	Preference Val[int] // preference / priority / order
	NoTrack    bool
	Not        bool
	Options    map[string]string // other ip-rule options as written
}

// TrackInterface is a track_interface entry; without a weight the instance
// goes to FAULT while the interface is down.
type TrackInterface struct {
	Pos     Pos
	Name    string
	Weight  Val[int]
	Reverse bool
}

// TrackRef is a track_script or track_file entry in an instance or group.
// When Weight is not Set the referenced definition's weight applies.
type TrackRef struct {
	Pos     Pos
	Name    string
	Weight  Val[int]
	Reverse bool
}

// SyncGroup is a vrrp_sync_group block.
type SyncGroup struct {
	Name string
	Pos  Pos

	Group           []Val[string] // member instance names
	TrackInterfaces []TrackInterface
	TrackScripts    []TrackRef
	TrackFiles      []TrackRef

	NotifyMaster  Val[Command]
	NotifyBackup  Val[Command]
	NotifyFault   Val[Command]
	NotifyStop    Val[Command]
	Notify        Val[Command]
	NotifyDeleted Val[Command] // Set with an empty Script: notify_deleted without a script

	SMTPAlert               Val[bool]
	NotifyPriorityChanges   Val[bool]
	SyncGroupTrackingWeight Val[bool]
}

// VRRPScript is a vrrp_script block.
type VRRPScript struct {
	Name string
	Pos  Pos

	Script   Val[string]
	Interval Val[time.Duration] // whole seconds, default 1s
	Timeout  Val[time.Duration] // whole seconds, default: Interval
	Weight   Val[int]
	Reverse  bool
	Rise     Val[int] // default 1
	Fall     Val[int] // default 1
	User     Val[string]
	Group    Val[string]
	InitFail Val[bool]
}

// TrackFileDef is a top-level track_file / vrrp_track_file block.
type TrackFileDef struct {
	Name string
	Pos  Pos

	File     Val[string]
	Weight   Val[int] // default 1
	Reverse  bool
	InitFile Val[InitFile]
}

// InitFile is track_file's init_file [VALUE] [overwrite].
type InitFile struct {
	Value     int
	Overwrite bool
}

// VSKind says how a virtual_server is addressed.
type VSKind int

// Virtual server kinds.
const (
	VSAddr   VSKind = iota // virtual_server IP PORT
	VSFwmark               // virtual_server fwmark N
	VSGroup                // virtual_server group NAME
)

// LBKind is an IPVS forwarding method.
type LBKind string

// Forwarding methods.
const (
	LBNAT LBKind = "NAT"
	LBDR  LBKind = "DR"
	LBTUN LBKind = "TUN"
)

// VirtualServer is a virtual_server block.
type VirtualServer struct {
	Pos    Pos
	Kind   VSKind
	Addr   netip.Addr // VSAddr
	Port   Val[int]   // VSAddr; may be omitted for persistent services
	Fwmark uint32     // VSFwmark
	Family string     // VSFwmark: "inet" or "inet6" if given
	Group  string     // VSGroup

	DelayLoop              Val[time.Duration] // default 60s
	LBAlgo                 Val[string]        // default wlc
	LBKind                 Val[LBKind]        // default NAT
	TunnelOptions          []string           // TUN type/port/csum words
	SchedFlags             []Val[string]      // flag-1.., sh-port, sh-fallback, mh-port, mh-fallback
	OPS                    Val[bool]
	PersistenceTimeout     Val[time.Duration] // 0 = no persistence; whole seconds
	PersistenceGranularity Val[int]           // prefix length
	PersistenceEngine      Val[string]
	Protocol               Val[string] // TCP, UDP, SCTP (default TCP)
	IPFamily               Val[string]
	Quorum                 Val[int] // default 1
	Hysteresis             Val[int]
	QuorumUp               Val[Command]
	QuorumDown             Val[Command]
	SorryServer            *SorryServer
	SorryServerInhibit     Val[bool]
	SorryServerLVSMethod   Val[LBKind]
	Alpha                  Val[bool]
	Omega                  Val[bool]
	HASuspend              Val[bool]
	InhibitOnFailure       Val[bool]
	Virtualhost            Val[string]
	SMTPAlert              Val[bool]

	// Defaults inherited by real servers and their checkers.
	ConnectTimeout   Val[time.Duration]
	Retry            Val[int]
	DelayBeforeRetry Val[time.Duration]
	Warmup           Val[time.Duration]

	RealServers []*RealServer
}

// SorryServer is the virtual server's sorry_server.
type SorryServer struct {
	Pos  Pos
	Addr netip.Addr
	Port int // 0 if not given
}

// RealServer is a real_server block.
type RealServer struct {
	Pos  Pos
	Addr netip.Addr
	Port Val[int] // default: the virtual server's port

	Weight           Val[int] // default 1
	LVSMethod        Val[LBKind]
	NotifyUp         Val[Command]
	NotifyDown       Val[Command]
	UThreshold       Val[int]
	LThreshold       Val[int]
	InhibitOnFailure Val[bool]
	Alpha            Val[bool]
	ConnectTimeout   Val[time.Duration]
	Retry            Val[int]
	DelayBeforeRetry Val[time.Duration]
	Warmup           Val[time.Duration]
	DelayLoop        Val[time.Duration]
	Virtualhost      Val[string]
	SMTPAlert        Val[bool]

	Checkers []*Checker
}

// CheckerType names a health checker block.
type CheckerType string

// Health checkers.
const (
	CheckHTTP CheckerType = "HTTP_GET"
	CheckSSL  CheckerType = "SSL_GET"
	CheckTCP  CheckerType = "TCP_CHECK"
	CheckMisc CheckerType = "MISC_CHECK"
	CheckSMTP CheckerType = "SMTP_CHECK"
	CheckDNS  CheckerType = "DNS_CHECK"
	CheckUDP  CheckerType = "UDP_CHECK"
	CheckPing CheckerType = "PING_CHECK"
	CheckFile CheckerType = "FILE_CHECK"
	CheckBFD  CheckerType = "BFD_CHECK"
)

// Checker is one health checker of a real server. Fields that do not apply
// to Type stay zero. Connection defaults are inherited from the real server
// and virtual server (Set false).
type Checker struct {
	Pos  Pos
	Type CheckerType

	ConnectIP        Val[netip.Addr] // default: real server address
	ConnectPort      Val[int]        // default: real server port
	BindTo           Val[netip.Addr]
	BindIf           Val[string]
	BindPort         Val[int]
	Fwmark           Val[uint32]
	ConnectTimeout   Val[time.Duration] // default 5s
	Retry            Val[int]           // default 1 (DNS 3, MISC 0)
	DelayBeforeRetry Val[time.Duration] // default 1s (HTTP/SSL 3s)
	Warmup           Val[time.Duration]
	DelayLoop        Val[time.Duration]
	Alpha            Val[bool]
	LogAllFailures   Val[bool]

	// HTTP_GET / SSL_GET
	URLs         []*URL
	HTTPProtocol Val[string]
	FastRecovery Val[bool]
	EnableSNI    Val[bool]
	Virtualhost  Val[string]

	// MISC_CHECK
	MiscPath    Val[Command]
	MiscTimeout Val[time.Duration] // whole seconds
	MiscDynamic Val[bool]

	// SMTP_CHECK
	HeloName Val[string]
	Hosts    []*Checker // legacy host { } sub-blocks (connection fields only)

	// DNS_CHECK
	DNSType Val[string]
	DNSName Val[string]

	// UDP_CHECK
	Payload        Val[[]byte]
	RequireReply   Val[[]byte] // Set with empty V: any reply
	MinReplyLength Val[int]
	MaxReplyLength Val[int]

	// FILE_CHECK
	TrackFile     Val[string]
	Dynamic       Val[bool]
	Weight        Val[int]
	WeightReverse bool

	// BFD_CHECK
	BFDName Val[string]
}

// URL is an HTTP_GET/SSL_GET url block.
type URL struct {
	Pos            Pos
	Path           Val[string]
	Digest         Val[string] // lower-case hex MD5
	StatusCodes    []StatusRange
	Virtualhost    Val[string]
	Regex          Val[string]
	RegexNoMatch   Val[bool]
	RegexOptions   Val[string]
	RegexMinOffset Val[int]
	RegexMaxOffset Val[int]
}

// StatusRange is an inclusive HTTP status code range.
type StatusRange struct{ Lo, Hi int }

// VirtualServerGroup is a virtual_server_group block.
type VirtualServerGroup struct {
	Name    string
	Pos     Pos
	Entries []VSGEntry
}

// VSGEntry is one virtual_server_group line: an address (or address
// range) with a port, or a firewall mark.
type VSGEntry struct {
	Pos      Pos
	Addr     netip.Addr // first address; zero for fwmark entries
	RangeEnd netip.Addr // last address of "A-N" ranges, else equal to Addr
	Port     Val[int]   // optional
	Fwmark   uint32
	Family   string // fwmark: "inet"/"inet6" if given
}
