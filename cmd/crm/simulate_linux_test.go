//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"

	"github.com/gocrm/gocrm/cib"
)

// bigCIB returns a valid CIB of more than 1 MiB (so that it is mapped, and
// its status section parsed in parallel).
func bigCIB() []byte {
	var b strings.Builder
	b.WriteString(`<cib have-quorum="1"><configuration><crm_config/><nodes>`)
	for n := 1; n <= 4; n++ {
		fmt.Fprintf(&b, `<node id="%d" uname="node%d"/>`, n, n)
	}
	b.WriteString(`</nodes><resources>`)
	for r := 0; r < 1500; r++ {
		fmt.Fprintf(&b, `<primitive id="r%d" class="ocf" provider="pacemaker" type="Dummy"/>`, r)
	}
	b.WriteString("</resources><constraints/></configuration>\n<status>\n")
	for n := 1; n <= 4; n++ {
		fmt.Fprintf(&b, `<node_state id="%d" uname="node%d" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="%d"><lrm_resources>`+"\n", n, n, n)
		for r := 0; r < 1500; r++ {
			fmt.Fprintf(&b, `<lrm_resource id="r%d" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="r%d_last_0" operation_key="r%d_monitor_0" operation="monitor" transition-key="1:1:7:x" transition-magic="0:7;1:1:7:x" call-id="%d" rc-code="7" op-status="0" interval="0" last-rc-change="1" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource>`+"\n", r, r, r, r+1)
		}
		b.WriteString("</lrm_resources></lrm></node_state>\n")
	}
	b.WriteString("</status></cib>\n")
	return []byte(b.String())
}

func TestMapFileReadOnly(t *testing.T) {
	dir := t.TempDir()
	big, small := filepath.Join(dir, "big.xml"), filepath.Join(dir, "small.xml")
	doc := bigCIB()
	if len(doc) < mapMinBytes {
		t.Fatalf("test CIB is only %d bytes", len(doc))
	}
	if err := os.WriteFile(big, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(small, []byte("<cib/>"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{big, small} {
		data, release, err := mapFileReadOnly(name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(name)
		if string(data) != string(want) {
			t.Errorf("%s: mapped contents differ from the file", name)
		}
		release()
	}
	if _, _, err := mapFileReadOnly(filepath.Join(dir, "missing.xml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v, want ErrNotExist", err)
	}
}

// TestParseCIBDataTruncatedFile checks that a mapped CIB truncated under
// the parser gives an error, not a crash, and that an intact one parses as
// the same document read normally.
func TestParseCIBDataTruncatedFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "cib.xml")
	doc := bigCIB()
	if err := os.WriteFile(name, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	data, release, err := mapFileReadOnly(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCIBData(data)
	if err != nil {
		t.Fatalf("intact mapped file: %v", err)
	}
	want, err := cib.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Marshal()) != string(want.Marshal()) {
		t.Error("mapped file parsed differently from the same bytes read")
	}
	if err := os.Truncate(name, 0); err != nil {
		t.Fatal(err)
	}
	_, err = parseCIBData(data)
	release()
	if !errors.Is(err, errFileChanged) {
		t.Fatalf("truncated mapped file: error %v, want errFileChanged", err)
	}
}

// TestOneShotGCRestores checks that oneShotGC restores the collector
// settings it changes.
func TestOneShotGCRestores(t *testing.T) {
	oldPercent := debug.SetGCPercent(77)
	oldLimit := debug.SetMemoryLimit(1 << 40)
	defer func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}()
	restore := oneShotGC(40 << 20)
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GC percent during a simulation = %d, want -1 (off)", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 240<<20 {
		t.Errorf("memory limit during a simulation = %d, want %d", l, 240<<20)
	}
	restore()
	if p := debug.SetGCPercent(77); p != 77 {
		t.Errorf("GC percent after = %d, want 77", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 1<<40 {
		t.Errorf("memory limit after = %d, want %d", l, int64(1)<<40)
	}
}

// residentBytes is the process's resident set size.
func residentBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		t.Fatal(err)
	}
	return resident * int64(os.Getpagesize())
}

// TestHeapReservePopulate checks that populate maps the reserve's pages
// (the resident set grows by most of it) and stops when asked.
func TestHeapReservePopulate(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if r := prepareHeap(1 << 20); r.size != 0 {
		t.Fatal("a small reserve was set aside")
	}
	stopped := make(chan struct{})
	close(stopped)
	r := prepareHeap(64 << 20)
	if r.size != 64<<20 || r.base == 0 {
		t.Fatalf("reserve %+v", r)
	}
	before := residentBytes(t)
	r.populate(stopped)
	if grew := residentBytes(t) - before; grew > 8<<20 {
		t.Fatalf("a stopped populate mapped %d bytes", grew)
	}
	r.populate(make(chan struct{}))
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, r.base, 4096, madvPopulateWrite); errno != 0 {
		t.Skipf("MADV_POPULATE_WRITE unsupported: %v", errno)
	}
	if grew := residentBytes(t) - before; grew < 32<<20 {
		t.Fatalf("populate mapped only %d bytes of a 64 MiB reserve", grew)
	}
}
