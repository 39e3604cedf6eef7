package heartbeat

// wrapper describes one /etc/ha.d/resource.d script of heartbeat 3.0.6: the
// OCF agent it runs and which positional "::" argument becomes which OCF
// parameter. The data was written from ../shared/heartbeat-cases/
// resource.d-args.tsv (which was read from the wrapper scripts).
type wrapper struct {
	agent   string   // OCF type (provider heartbeat)
	params  []string // positional argument -> parameter name
	minArgs int
	maxArgs int // -1: unlimited
	split   splitKind
	note    string // shown as a warning whenever the wrapper is used
	// required lists the parameters today's agent (resource-agents 4.12)
	// requires although the v1 wrapper could do without them.
	required []string
}

type splitKind int

const (
	splitPositional splitKind = iota // one argument per parameter
	splitIPv4                        // IPaddr/IPaddr2: ip[/bits[/nic[/bcast]]] or ip/bits/bcast
	splitIPv6                        // IPv6addr: ipv6[/bits[/nic]]
	splitSlash                       // SendArp: ip/nic
	splitJoinAll                     // AudibleAlarm: all arguments, space separated
	splitOCF                         // OCF::type::instance
	splitIDS                         // ids: 0 or 3 arguments
)

// wrappers maps the resource.d script name to its description.
var wrappers = map[string]wrapper{
	"IPaddr":     {agent: "IPaddr", params: []string{"ip", "cidr_netmask", "nic", "broadcast"}, minArgs: 1, maxArgs: 1, split: splitIPv4},
	"IPaddr2":    {agent: "IPaddr2", params: []string{"ip", "cidr_netmask", "nic", "broadcast"}, minArgs: 1, maxArgs: 1, split: splitIPv4},
	"IPv6addr":   {agent: "IPv6addr", params: []string{"ipv6addr", "cidr_netmask", "nic"}, minArgs: 1, maxArgs: 1, split: splitIPv6},
	"SendArp":    {agent: "SendArp", params: []string{"ip", "nic"}, minArgs: 1, maxArgs: 1, split: splitSlash, required: []string{"nic"}},
	"IPsrcaddr":  {agent: "IPsrcaddr", params: []string{"ipaddress"}, minArgs: 1, maxArgs: 1},
	"Filesystem": {agent: "Filesystem", params: []string{"device", "directory", "fstype", "options"}, minArgs: 2, maxArgs: 4, required: []string{"fstype"}},
	"LVM": {agent: "LVM", params: []string{"volgrpname"}, minArgs: 1, maxArgs: 1,
		note: "the LVM agent is deprecated in current resource-agents; consider ocf:heartbeat:LVM-activate"},
	"Raid1":        {agent: "Raid1", params: []string{"raidconf", "raiddev"}, minArgs: 2, maxArgs: 2},
	"Delay":        {agent: "Delay", params: []string{"startdelay", "stopdelay"}, minArgs: 0, maxArgs: 2},
	"MailTo":       {agent: "MailTo", params: []string{"email", "subject"}, minArgs: 1, maxArgs: 2},
	"apache":       {agent: "apache", params: []string{"configfile"}, minArgs: 0, maxArgs: 1},
	"portblock":    {agent: "portblock", params: []string{"protocol", "portno", "action"}, minArgs: 3, maxArgs: 3},
	"Xinetd":       {agent: "Xinetd", params: []string{"service"}, minArgs: 1, maxArgs: 1},
	"db2":          {agent: "db2", params: []string{"instance"}, minArgs: 1, maxArgs: 1},
	"ids":          {agent: "ids", params: []string{"informixdir", "informixserver", "onconfig"}, minArgs: 0, maxArgs: 3, split: splitIDS},
	"WinPopup":     {agent: "WinPopup", params: []string{"hostfile"}, minArgs: 0, maxArgs: 1, required: []string{"hostfile"}},
	"AudibleAlarm": {agent: "AudibleAlarm", params: []string{"nodelist"}, minArgs: 0, maxArgs: -1, split: splitJoinAll},
	"LinuxSCSI":    {agent: "LinuxSCSI", params: []string{"scsi"}, minArgs: 1, maxArgs: 1},
	"ICP":          {agent: "ICP", params: []string{"driveid", "device"}, minArgs: 2, maxArgs: 2},
	"ServeRAID":    {agent: "ServeRAID", params: []string{"serveraid", "mergegroup"}, minArgs: 2, maxArgs: 2},
	"WAS":          {agent: "WAS", params: []string{"config", "port"}, minArgs: 0, maxArgs: 2},
	"OCF":          {agent: "", params: nil, minArgs: 2, maxArgs: 2, split: splitOCF},
}

// delayDefaultStart is the start delay the Delay wrapper uses when no
// argument is given (the OCF agent's own default differs, so it is written
// out explicitly).
const delayDefaultStart = "10"

// Problem texts shared with the reference parse (parsed.json) of the cases.
const (
	problemPlainArgs = "arguments passed to a plain script; the lsb class cannot pass arguments"
	problemDRBD      = "drbddisk: needs ocf:linbit:drbd promotable clone + colocation + order (see notes)"
)
