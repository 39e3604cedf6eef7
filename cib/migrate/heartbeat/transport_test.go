package heartbeat

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMapTransport(t *testing.T) {
	cf, err := ParseHACF("ha.cf", []byte("bcast eth0\nudpport 1694\nbcast eth1\nmcast eth2 239.192.0.1 1695 1 0\n"+
		"ucast eth1 10.0.0.2\nucast eth1 10.0.0.2\nserial /dev/ttyS0\nnode n1 n2\n"))
	if err != nil {
		t.Fatal(err)
	}
	tr, expl, ws := MapTransport(cf)
	want := Transport{Interfaces: []string{"eth0", "eth1", "eth2"}, Port: 694, Peers: []string{"10.0.0.2"}, Multicast: []string{"239.192.0.1"}, Serial: []string{"/dev/ttyS0"}}
	if !reflect.DeepEqual(tr, want) {
		t.Errorf("got %+v\nwant %+v", tr, want)
	}
	for _, line := range []string{
		"bcast eth1 port 1694 → gossip on eth1",
		"mcast eth2 239.192.0.1 port 1695 → gossip on eth2 (no multicast",
		"ucast eth1 10.0.0.2 port 1694 → join peer 10.0.0.2",
		"serial /dev/ttyS0 (19200 baud) → not supported",
		"gossip port 694 on eth0, eth1, eth2",
	} {
		if !strings.Contains(expl, line) {
			t.Errorf("explanation lacks %q:\n%s", line, expl)
		}
	}
	if got := warningsText(ws); !strings.Contains(got, "media use ports 694, 1694, 1695: gossip uses a single port, 694") {
		t.Errorf("warnings: %s", got)
	}

	serialOnly, err := ParseHACF("ha.cf", []byte("serial /dev/ttyS0\nnode a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tr, _, ws := MapTransport(serialOnly); tr.Port != 0 || !strings.Contains(warningsText(ws), "no UDP medium") {
		t.Errorf("serial only: %+v %v", tr, ws)
	}
}

func TestMapTransportSamples(t *testing.T) {
	dir := filepath.Join(sharedCases(t), "hacf")
	cf, err := ParseHACF("02", readFile(t, filepath.Join(dir, "02-ucast-ipfail.cf")))
	if err != nil {
		t.Fatal(err)
	}
	tr, _, _ := MapTransport(cf)
	if !reflect.DeepEqual(tr.Peers, []string{"192.168.10.2", "192.168.10.1"}) || tr.Port != 694 || !reflect.DeepEqual(tr.Interfaces, []string{"eth1"}) {
		t.Errorf("02: %+v", tr)
	}
}
