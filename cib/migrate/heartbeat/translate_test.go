package heartbeat

import (
	"errors"
	"strings"
	"testing"
)

func translateText(t *testing.T, hr, cf string) (string, string) {
	t.Helper()
	h := mustParseHR(t, hr)
	c, err := ParseHACF("ha.cf", []byte(cf))
	if err != nil {
		t.Fatal(err)
	}
	crm, ws, err := Translate(h, c)
	if err != nil {
		t.Fatal(err)
	}
	return crm, warningsText(ws)
}

func TestTranslateStickiness(t *testing.T) {
	for af, want := range map[string]string{
		"auto_failback on": "resource-stickiness=0", "auto_failback legacy": "resource-stickiness=0",
		"auto_failback off": "resource-stickiness=200", "nice_failback on": "resource-stickiness=200",
		"": "resource-stickiness=0",
	} {
		crm, _ := translateText(t, "n1 httpd\n", "bcast eth0\nnode n1 n2\n"+af+"\n")
		if !strings.Contains(crm, "rsc_defaults "+want+"\n") {
			t.Errorf("%q: %s", af, crm)
		}
	}
}

func TestTranslateEdgeCases(t *testing.T) {
	hr := "n1 httpd IPaddr::10.0.0.1\n" +
		"n2 IPaddr2::10.0.0.1/24 httpd::x\n" + // same address id, same script
		"n3 drbddisk::r0\n" + // drbd only, unknown node
		"n1 drbddisk::r1 Filesystem::/dev/drbd1::/srv\n" + // drbd + one resource
		"n2 AudibleAlarm::n1::n2 myapp::a\"b\n" +
		"N1 group_1 x\n" // primitive id that collides with a group id
	crm, ws := translateText(t, hr, "bcast eth0\nnode n1 n2\nauto_failback on\nstonith_host * baytech 10.0.0.3 login pw\n")
	want := `node n1
node n2
primitive httpd lsb:httpd
primitive IPaddr_10_0_0_1 ocf:heartbeat:IPaddr params ip=10.0.0.1
group group_1 httpd IPaddr_10_0_0_1
location pref_group_1 group_1 100: n1
primitive IPaddr2_10_0_0_1 ocf:heartbeat:IPaddr2 params ip=10.0.0.1 cidr_netmask=24
# httpd::x: arguments passed to a plain script; the lsb class cannot pass arguments
primitive httpd_x lsb:httpd
group group_2 IPaddr2_10_0_0_1 httpd_x
location pref_group_2 group_2 100: n2
# drbddisk::r0: drbddisk: needs ocf:linbit:drbd promotable clone + colocation + order (see notes)
primitive drbddisk_r0 ocf:linbit:drbd params drbd_resource=r0
clone ms_drbddisk_r0 drbddisk_r0 meta promotable=true promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true
# drbddisk::r0: preferred node n3 is not a node of ha.cf
location pref_ms_drbddisk_r0 ms_drbddisk_r0 rule role=Promoted 100: #uname eq n3
# drbddisk::r1: drbddisk: needs ocf:linbit:drbd promotable clone + colocation + order (see notes)
primitive drbddisk_r1 ocf:linbit:drbd params drbd_resource=r1
# Filesystem::/dev/drbd1::/srv: no fstype: ocf:heartbeat:Filesystem requires it (the v1 wrapper did not); add it by hand
primitive Filesystem_srv ocf:heartbeat:Filesystem params device=/dev/drbd1 directory=/srv
clone ms_drbddisk_r1 drbddisk_r1 meta promotable=true promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true
colocation col_Filesystem_srv_on_drbddisk_r1 inf: Filesystem_srv ms_drbddisk_r1:Promoted
order ord_drbddisk_r1_before_Filesystem_srv Mandatory: ms_drbddisk_r1:promote Filesystem_srv:start
location pref_Filesystem_srv Filesystem_srv 100: n1
primitive AudibleAlarm_n1 ocf:heartbeat:AudibleAlarm params nodelist="n1 n2"
# myapp::a"b: arguments passed to a plain script; the lsb class cannot pass arguments
primitive myapp_a_b lsb:myapp
group group_5 AudibleAlarm_n1 myapp_a_b
location pref_group_5 group_5 100: n2
primitive group_1_2 lsb:group_1
primitive x lsb:x
group group_6 group_1_2 x
location pref_group_6 group_6 100: n1
rsc_defaults resource-stickiness=0
# ha.cf:4: stonith_host * baytech: heartbeat v1 STONITH device; define a stonith resource by hand (parameters not copied: they may hold passwords)
`
	if crm != want {
		t.Errorf("got:\n%s\nwant:\n%s", crm, want)
	}
	for _, w := range []string{"haresources:6: resource \"group_1\": id group_1_2 already used, renamed", "haresources:3: preferred node n3 is not a node of ha.cf", "ha.cf:4: stonith_host * baytech: v1 STONITH"} {
		if !strings.Contains(ws, w) {
			t.Errorf("warnings lack %q:\n%s", w, ws)
		}
	}
	if strings.Contains(crm+ws, "pw") {
		t.Error("stonith parameters leaked")
	}
}

func TestTranslateErrors(t *testing.T) {
	if _, _, err := Translate(&HAResources{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil ha.cf: %v", err)
	}
	cf, err := ParseHACF("ha.cf", []byte("bcast eth0\nnode a\npacemaker on\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Translate(&HAResources{}, cf); !errors.Is(err, ErrCRMEnabled) || !strings.Contains(err.Error(), "ha.cf:3: pacemaker on") {
		t.Errorf("crm mode: %v", err)
	}
}

func TestQuoteValue(t *testing.T) {
	for in, want := range map[string]string{"a": "a", "": `""`, "a b": `"a b"`, `a"b`: `"a\"b"`, `a\b`: `"a\\b"`, "a#b": `"a#b"`, "x=y": "x=y"} {
		if got := quoteValue(in); got != want {
			t.Errorf("quoteValue(%q) = %s, want %s", in, got, want)
		}
	}
}
