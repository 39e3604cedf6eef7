package filesystem

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const sampleMountinfo = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
36 27 98:0 /mnt1 /mnt/with\040space rw,noatime master:1 propagate_from:2 - ext3 /dev/root rw,errors=continue
40 27 7:0 / /srv/tab\011and\012nl\134bs rw - ext4 /dev/loop0 rw

41 27 0:50 / /run/user rw,nosuid - tmpfs my\040tmpfs rw,size=100k,mode=700
`

func TestParseMountinfo(t *testing.T) {
	ms, err := ParseMountinfo(strings.NewReader(sampleMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 5 {
		t.Fatalf("%d entries", len(ms))
	}
	want := MountInfo{ID: 36, Parent: 27, Major: 98, Minor: 0, Root: "/mnt1", MountPoint: "/mnt/with space",
		Options: "rw,noatime", Optional: []string{"master:1", "propagate_from:2"}, FSType: "ext3", Source: "/dev/root", SuperOptions: "rw,errors=continue"}
	if !reflect.DeepEqual(ms[2], want) {
		t.Errorf("got  %+v\nwant %+v", ms[2], want)
	}
	if ms[1].MountPoint != "/" || len(ms[1].Optional) != 1 || ms[1].Major != 8 || ms[1].Minor != 1 {
		t.Errorf("root %+v", ms[1])
	}
	if ms[0].Optional != nil {
		t.Errorf("no optional fields expected: %v", ms[0].Optional)
	}
	if ms[3].MountPoint != "/srv/tab\tand\nnl\\bs" {
		t.Errorf("escapes: %q", ms[3].MountPoint)
	}
	if ms[4].Source != "my tmpfs" || ms[4].SuperOptions != "rw,size=100k,mode=700" {
		t.Errorf("source %+v", ms[4])
	}
}

func TestParseMountinfoErrors(t *testing.T) {
	for _, bad := range []string{
		"22 27 0:21 / /proc rw,relatime proc proc rw",       // no separator
		"x 27 0:21 / /proc rw - proc proc rw",               // bad id
		"22 27 021 / /proc rw - proc proc rw",               // bad dev
		"22 27 0:21 / /pr\\04 rw - proc proc rw",            // truncated escape
		"22 27 0:21 / /pr\\999oc rw - proc proc rw",         // bad octal
		"22 27 0:21 / /proc rw -",                           // nothing after separator
		"1 2 3:4 / /a rw - ext4 /dev/x rw\n22 27 0:21 / /b", // second line short
	} {
		_, err := ParseMountinfo(strings.NewReader(bad))
		if !errors.Is(err, ErrBadMountinfo) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	_, err := ParseMountinfo(strings.NewReader("1 2 3:4 / /a rw - ext4 /dev/x rw\nbroken\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("line number missing: %v", err)
	}
}

func TestParseRealMountinfo(t *testing.T) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Skip("no /proc/self/mountinfo:", err)
	}
	defer f.Close()
	ms, err := ParseMountinfo(f)
	if err != nil {
		t.Fatal(err)
	}
	root := false
	for _, m := range ms {
		root = root || m.MountPoint == "/"
	}
	if !root {
		t.Error("no / mount in the real table")
	}
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add(sampleMountinfo)
	f.Add("1 2 3:4 / /a\\040b rw - ext4 /dev/x rw")
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMountinfo(strings.NewReader(s))
		if err != nil && !errors.Is(err, ErrBadMountinfo) {
			t.Fatalf("error %v does not wrap ErrBadMountinfo", err)
		}
		if err == nil && len(ms) > strings.Count(s, "\n")+1 {
			t.Fatalf("%d entries from %d lines", len(ms), strings.Count(s, "\n")+1)
		}
	})
}
