package heartbeat

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"
)

// Seed corpora live in testdata/fuzz/Fuzz*/ (the conformance inputs of
// ../shared/heartbeat-cases); f.Add adds the grammar corners.

var crmPrefixes = []string{"node ", "primitive ", "group ", "clone ", "colocation ", "order ", "location ", "rsc_defaults ", "property ", "# "}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	for _, s := range []error{ErrSyntax, ErrInvalid, ErrUnknownDirective, ErrAuthkeys, ErrCRMEnabled, ErrNoSecret} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %q wraps no sentinel", err)
}

func FuzzHaresources(f *testing.F) {
	for _, s := range []string{
		"node1 10.0.0.1 \\\n httpd # c\n",
		"n IPaddr::1.2.3.4//eth0/x/y IPv6addr::fe80::1/64 OCF::a::b drbddisk Delay ids::a::b\n",
		"n a::::b \\",
		"n 1.2.3.4foo ::: a:::b\r\n",
		"n\tFilesystem::-Lx::/mnt::::::ro",
	} {
		f.Add([]byte(s))
	}
	cf, err := ParseHACF("ha.cf", []byte("bcast eth0\nnode n node1 n2\nauto_failback off\n"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hr, err := ParseHAResources("haresources", data)
		if err != nil {
			checkSentinel(t, err)
			if !strings.HasPrefix(err.Error(), "haresources") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, g := range hr.Groups {
			if len(g.Resources) == 0 || g.Node != strings.ToLower(g.Node) || g.Key != g.Resources[0].Raw {
				t.Fatalf("bad group %+v", g)
			}
		}
		crm, _, err := Translate(hr, cf)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(crm) {
			t.Fatal("output is not UTF-8")
		}
		ids := map[string]bool{}
		groups := 0
		for _, line := range strings.Split(strings.TrimSuffix(crm, "\n"), "\n") {
			ok := false
			for _, p := range crmPrefixes {
				ok = ok || strings.HasPrefix(line, p)
			}
			if !ok {
				t.Fatalf("unexpected crm line %q", line)
			}
			f := strings.Fields(line)
			if f[0] == "location" {
				groups++
			}
			if f[0] != "#" && f[0] != "node" && f[0] != "rsc_defaults" && f[0] != "property" {
				if ids[f[1]] {
					t.Fatalf("duplicate id %s in\n%s", f[1], crm)
				}
				ids[f[1]] = true
			}
		}
		if groups < len(hr.Groups) {
			t.Fatalf("%d locations for %d groups", groups, len(hr.Groups))
		}
	})
}

func FuzzHACF(f *testing.F) {
	for _, s := range []string{
		"bcast eth0\nnode a\nkeepalive 500ms\ndeadtime 1.5\n",
		"udpport 1\nucast e 10.0.0.1\nucast6 e ::1\nmcast6 e ff02::1 1 1 1\nnode a\nnice_failback on\n",
		"serial /dev/ttyS0\nbaud 1\nautojoin any\ncrm yes\n",
		"bcast e\nnode a\nkeepalive 1us\ndeadtime 3us\nwarntime 9\ninitdead 0\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cf, err := ParseHACF("ha.cf", data)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if len(cf.Media) == 0 || cf.DeadTime <= cf.Keepalive {
			t.Fatalf("accepted invalid ha.cf: media %d deadtime %v keepalive %v", len(cf.Media), cf.DeadTime, cf.Keepalive)
		}
		tm, expl, _ := MapTiming(cf)
		if tm.ProbeTimeout >= tm.ProbeInterval || tm.SuspicionMult < MinSuspicionMult || tm.ProbeInterval <= 0 || expl == "" {
			t.Fatalf("bad timing %+v", tm)
		}
		if tr, _, _ := MapTransport(cf); tr.Port == 0 && len(tr.Serial) == 0 {
			t.Fatalf("no port and no serial medium: %+v", tr)
		}
		_, _, err = Translate(&HAResources{}, cf)
		if cf.CRMEnabled != errors.Is(err, ErrCRMEnabled) {
			t.Fatalf("crm %v, translate error %v", cf.CRMEnabled, err)
		}
	})
}

func FuzzAuthkeys(f *testing.F) {
	f.Add([]byte("auth 3\n3 md5 x\n#c\n3 sha1 y z\n"), uint16(0o640))
	f.Add([]byte("auth 1\n1 crc\n"), uint16(0o600))
	f.Fuzz(func(t *testing.T, data []byte, mode uint16) {
		a, err := ParseAuthkeys("authkeys", data, fs.FileMode(mode)&fs.ModePerm)
		if a == nil {
			t.Fatal("nil result")
		}
		if (err == nil) != (len(a.Problems) == 0) {
			t.Fatalf("error %v with %d problems", err, len(a.Problems))
		}
		if err != nil {
			checkSentinel(t, err)
		}
		key, kerr := DeriveClusterKey(a)
		switch {
		case err != nil:
			if kerr == nil {
				t.Fatal("key derived from an invalid file")
			}
		case kerr != nil && !errors.Is(kerr, ErrNoSecret):
			t.Fatalf("valid file, derive error %v", kerr)
		case kerr == nil && key == (ClusterKey{}):
			t.Fatal("zero key")
		}
		// a redacted secret prints the same whatever its value
		masked := map[int]AuthKey{}
		for i, k := range a.Keys {
			if k.Secret != "" {
				k.Secret = "x"
			}
			masked[i] = k
		}
		show := func(m map[int]AuthKey) string { return fmt.Sprintf("%v %+v %#v %s", m, m, m, fmt.Sprint(a.Problems)) }
		if got, want := show(a.Keys), show(masked); got != want {
			t.Fatalf("secret printed: %s", got)
		}
	})
}
