package heartbeat

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParseHR(t *testing.T, text string) *HAResources {
	t.Helper()
	hr, err := ParseHAResources("haresources", []byte(text))
	if err != nil {
		t.Fatalf("ParseHAResources(%q): %v", text, err)
	}
	return hr
}

func params(r Resource) map[string]string {
	m := map[string]string{}
	for _, p := range r.Params {
		m[p.Name] = p.Value
	}
	return m
}

func TestHAResourcesLexing(t *testing.T) {
	text := "# header\r\n" +
		"\r\n" +
		"NodeA\t 10.0.0.1 \\  # comment after the backslash\r\n" +
		"   httpd\\\n" +
		"\tmysql # trailing\n" +
		"   \t \n" +
		"nodeb Filesystem::host:/x::/mnt/x::nfs::ro,soft\n" +
		"nodea a \\\n" +
		"# a comment line ends the continuation\n" +
		"nodeb b\n"
	hr := mustParseHR(t, text)
	if len(hr.Groups) != 4 {
		t.Fatalf("got %d groups: %+v", len(hr.Groups), hr.Groups)
	}
	g := hr.Groups[0]
	if g.Node != "nodea" || g.Line != 1 || g.SourceLine != 3 || g.Key != "10.0.0.1" {
		t.Errorf("group 1: %+v", g)
	}
	var raws []string
	for _, r := range g.Resources {
		raws = append(raws, r.Raw)
	}
	if !reflect.DeepEqual(raws, []string{"10.0.0.1", "httpd", "mysql"}) {
		t.Errorf("group 1 resources %v", raws)
	}
	fs := hr.Groups[1].Resources[0]
	if !reflect.DeepEqual(fs.Args, []string{"host:/x", "/mnt/x", "nfs", "ro,soft"}) || params(fs)["options"] != "ro,soft" {
		t.Errorf("Filesystem: %+v", fs)
	}
	if hr.Groups[2].Key != "a" || hr.Groups[3].Key != "b" || hr.Groups[3].Line != 4 || hr.Groups[3].SourceLine != 10 {
		t.Errorf("groups 3,4: %+v %+v", hr.Groups[2], hr.Groups[3])
	}
}

func TestHAResourcesLatin1CommentAndGlue(t *testing.T) {
	hr := mustParseHR(t, "# Ressourcen f\xfcr den Webserver\nnode1 httpd\\\nmysql\n")
	if len(hr.Groups) != 1 || len(hr.Groups[0].Resources) != 2 {
		t.Fatalf("groups %+v", hr.Groups)
	}
	if ws := warningsText(hr.Warnings); !strings.Contains(ws, "haresources:3: continuation without a blank") {
		t.Errorf("warnings: %s", ws)
	}
}

func TestHAResourcesErrors(t *testing.T) {
	cases := []struct {
		text, want string
		sentinel   error
	}{
		{"node1 10.0.0.1\nnode2 10.0.0.1 httpd\n", "haresources:2: group key \"10.0.0.1\" already used by the group at line 1", ErrInvalid},
		{"# c\n\nnode1\n", "haresources:3: node \"node1\" has no resources", ErrSyntax},
		{"node1 foo/bar\n", "haresources:1: resource \"foo/bar\": invalid script name \"foo/bar\"", ErrSyntax},
		{"node1 ::x\n", "haresources:1: resource \"::x\": invalid script name \"\"", ErrSyntax},
		{"no=de httpd\n", "haresources:1: invalid node name \"no=de\"", ErrSyntax},
		{"node1 a\x00b\n", "haresources:1: control character", ErrSyntax},
		{"node1 \xff\n", "haresources:1: not valid UTF-8", ErrSyntax},
		{"# ok\nnode1 a\x1b[2Jb\n", "haresources:2: control character", ErrSyntax},
	}
	for _, c := range cases {
		_, err := ParseHAResources("haresources", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, c.sentinel) {
			t.Errorf("%q: error %v, want %q wrapping %v", c.text, err, c.want, c.sentinel)
		}
	}
}

func TestIPTokenGlob(t *testing.T) {
	for tok, want := range map[string]bool{
		"10.0.0.1":            true,
		"10.0.0.1/24/eth0":    true,
		"1.2.3.4foo":          true, // the glob's "*" matches anything
		"1.2.3.4.5":           true,
		"10.0.0":              false,
		"a.1.2.3":             false,
		"1.2.3.":              false,
		"1..2.3":              false,
		"1.2.3.x4":            false,
		"IPaddr::10.0.0.1":    false,
		"192.168.1.1::ignore": true,
	} {
		if got := isIPToken(tok); got != want {
			t.Errorf("isIPToken(%q) = %v, want %v", tok, got, want)
		}
	}
}

func TestResourceMapping(t *testing.T) {
	cases := []struct {
		tok     string
		agent   string
		params  map[string]string
		problem string // substring; "" means none
		note    string // substring of a note; "" means no check
	}{
		{"IPaddr::10.0.0.1/24/eth0/10.0.0.255", "ocf:heartbeat:IPaddr", map[string]string{"ip": "10.0.0.1", "cidr_netmask": "24", "nic": "eth0", "broadcast": "10.0.0.255"}, "", ""},
		{"IPaddr::10.0.0.1/24/10.0.0.127", "ocf:heartbeat:IPaddr", map[string]string{"ip": "10.0.0.1", "cidr_netmask": "24", "broadcast": "10.0.0.127"}, "", ""},
		{"IPaddr::10.0.0.1//eth0", "ocf:heartbeat:IPaddr", map[string]string{"ip": "10.0.0.1", "cidr_netmask": "eth0"}, "", "empty field"},
		{"IPaddr::10.0.0.1/24/eth0/1.1.1.1/extra", "ocf:heartbeat:IPaddr", map[string]string{"ip": "10.0.0.1", "cidr_netmask": "24", "nic": "eth0", "broadcast": "1.1.1.1"}, "", "ignored"},
		{"IPaddr::10.0.0.1::x", "ocf:heartbeat:IPaddr", map[string]string{"ip": "10.0.0.1"}, "2 arguments given", ""},
		{"IPaddr", "ocf:heartbeat:IPaddr", map[string]string{}, "needs an address", ""},
		{"IPaddr2::10.1.1.5/24/eth1:web", "ocf:heartbeat:IPaddr2", map[string]string{"ip": "10.1.1.5", "cidr_netmask": "24", "nic": "eth1:web"}, "", ""},
		{"IPv6addr::2001:db8:0:0:0:0:0:10/64/eth0", "ocf:heartbeat:IPv6addr", map[string]string{"ipv6addr": "2001:db8:0:0:0:0:0:10", "cidr_netmask": "64", "nic": "eth0"}, "", ""},
		{"IPv6addr::fe80::1::2", "ocf:heartbeat:IPv6addr", map[string]string{"ipv6addr": "fe80"}, "split it into 3 arguments", ""},
		{"SendArp::10.0.0.1/eth0", "ocf:heartbeat:SendArp", map[string]string{"ip": "10.0.0.1", "nic": "eth0"}, "", ""},
		{"IPsrcaddr::10.0.0.1", "ocf:heartbeat:IPsrcaddr", map[string]string{"ipaddress": "10.0.0.1"}, "", ""},
		{"Filesystem::/dev/sda1", "ocf:heartbeat:Filesystem", map[string]string{"device": "/dev/sda1"}, "needs at least 2 argument(s) (device, directory)", ""},
		{"Filesystem::-LDATA::/data", "ocf:heartbeat:Filesystem", map[string]string{"device": "-LDATA", "directory": "/data"}, "no fstype: ocf:heartbeat:Filesystem requires it", ""},
		{"Filesystem::a::b::c::d::e", "ocf:heartbeat:Filesystem", map[string]string{"device": "a", "directory": "b", "fstype": "c", "options": "d"}, "at most 4", ""},
		{"Filesystem::a::::/b::xfs", "ocf:heartbeat:Filesystem", map[string]string{"device": "a", "directory": "/b", "fstype": "xfs"}, "", "empty"},
		{"LVM::vg0", "ocf:heartbeat:LVM", map[string]string{"volgrpname": "vg0"}, "", "deprecated"},
		{"Raid1::/etc/raidtab::/dev/md0", "ocf:heartbeat:Raid1", map[string]string{"raidconf": "/etc/raidtab", "raiddev": "/dev/md0"}, "", ""},
		{"Delay", "ocf:heartbeat:Delay", map[string]string{"startdelay": "10"}, "", "default"},
		{"Delay::3", "ocf:heartbeat:Delay", map[string]string{"startdelay": "3"}, "", ""},
		{"MailTo::a@b", "ocf:heartbeat:MailTo", map[string]string{"email": "a@b"}, "", ""},
		{"apache", "ocf:heartbeat:apache", map[string]string{}, "", ""},
		{"portblock::tcp::80", "ocf:heartbeat:portblock", map[string]string{"protocol": "tcp", "portno": "80"}, "needs at least 3", ""},
		{"Xinetd::tftp", "ocf:heartbeat:Xinetd", map[string]string{"service": "tftp"}, "", ""},
		{"db2::db2inst1", "ocf:heartbeat:db2", map[string]string{"instance": "db2inst1"}, "", ""},
		{"ids", "ocf:heartbeat:ids", map[string]string{}, "", ""},
		{"ids::a::b::c", "ocf:heartbeat:ids", map[string]string{"informixdir": "a", "informixserver": "b", "onconfig": "c"}, "", ""},
		{"ids::a", "ocf:heartbeat:ids", map[string]string{"informixdir": "a"}, "0 or 3 arguments", ""},
		{"WinPopup", "ocf:heartbeat:WinPopup", map[string]string{}, "no hostfile", ""},
		{"SendArp::10.0.0.1", "ocf:heartbeat:SendArp", map[string]string{"ip": "10.0.0.1"}, "no nic", ""},
		{"WinPopup::/etc/hosts.smb", "ocf:heartbeat:WinPopup", map[string]string{"hostfile": "/etc/hosts.smb"}, "", ""},
		{"AudibleAlarm::n1::n2", "ocf:heartbeat:AudibleAlarm", map[string]string{"nodelist": "n1 n2"}, "", ""},
		{"LinuxSCSI::0:0:3:0", "ocf:heartbeat:LinuxSCSI", map[string]string{"scsi": "0:0:3:0"}, "", ""},
		{"ICP::c0h0::/dev/sdb", "ocf:heartbeat:ICP", map[string]string{"driveid": "c0h0", "device": "/dev/sdb"}, "", ""},
		{"ServeRAID::1::2", "ocf:heartbeat:ServeRAID", map[string]string{"serveraid": "1", "mergegroup": "2"}, "", ""},
		{"WAS::/cfg::9080", "ocf:heartbeat:WAS", map[string]string{"config": "/cfg", "port": "9080"}, "", ""},
		{"OCF::pgsql::main", "ocf:heartbeat:pgsql", map[string]string{}, "/etc/ha.d/conf/OCF/pgsql/main", ""},
		{"OCF", "ocf:heartbeat:unknown", map[string]string{}, "::type::instance", ""},
		{"drbddisk", "ocf:linbit:drbd", map[string]string{"drbd_resource": "all"}, "drbddisk: needs", "all DRBD resources"},
		{"drbddisk::r1", "ocf:linbit:drbd", map[string]string{"drbd_resource": "r1"}, "drbddisk: needs", ""},
		{"postfix", "lsb:postfix", map[string]string{}, "", ""},
		{"myapp::a::b", "lsb:myapp", map[string]string{}, problemPlainArgs, ""},
		{"10.0.0", "lsb:10.0.0", map[string]string{}, "", ""},
	}
	for _, c := range cases {
		r, err := parseResource(c.tok)
		if err != nil {
			t.Errorf("%s: %v", c.tok, err)
			continue
		}
		if a := agentOf(r); a != c.agent {
			t.Errorf("%s: agent %s, want %s", c.tok, a, c.agent)
		}
		if p := params(r); !reflect.DeepEqual(p, c.params) {
			t.Errorf("%s: params %v, want %v", c.tok, p, c.params)
		}
		if (c.problem == "") != (r.Problem == "") || !strings.Contains(r.Problem, c.problem) {
			t.Errorf("%s: problem %q, want %q", c.tok, r.Problem, c.problem)
		}
		if c.note != "" && !strings.Contains(strings.Join(r.Notes, "|"), c.note) {
			t.Errorf("%s: notes %q lack %q", c.tok, r.Notes, c.note)
		}
	}
}

func TestResourceIDs(t *testing.T) {
	for tok, want := range map[string]string{
		"135.9.216.110":                      "IPaddr_135_9_216_110",
		"IPaddr2::10.0.0.10/24/eth0":         "IPaddr2_10_0_0_10",
		"IPv6addr::2001:db8::10":             "IPv6addr_2001_db8",
		"Filesystem::/dev/sda1::/var/www/x/": "Filesystem_var_www_x",
		"Filesystem::/dev/sda1::/":           "Filesystem",
		"MailTo::root@example.com::Failover": "MailTo_root_example_com",
		"apache::/etc/apache2/apache2.conf":  "apache_etc_apache2_apache2_conf",
		"nfs-kernel-server":                  "nfs-kernel-server",
		"10.0.0":                             "rsc_10_0_0",
		"myapp::instance2":                   "myapp_instance2",
		"-x":                                 "rsc_-x",
	} {
		r, err := parseResource(tok)
		if err != nil {
			t.Fatalf("%s: %v", tok, err)
		}
		if got := resourceID(r); got != want {
			t.Errorf("resourceID(%s) = %q, want %q", tok, got, want)
		}
	}
}
