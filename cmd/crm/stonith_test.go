package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/stonith/fsm"
)

var fenceT0 = time.Date(2026, 11, 24, 3, 2, 19, 500000000, time.UTC)

func fenceFixture() *api.Fencing {
	return &api.Fencing{Node: "n1", IsDC: true, History: []fsm.Record{
		{ID: "1", Target: "n2", Action: fsm.ActionReboot, Origin: "n1", Client: "crmd", Delegate: "n1", State: fsm.StateFailed,
			Created: fenceT0, Completed: fenceT0, Error: "sandbox fence reboot n2 (listed in fail): cannot fence"},
		{ID: "2", Target: "n2", Action: fsm.ActionReboot, Origin: "n1", Client: "crmd", Delegate: "n1", State: fsm.StateDone,
			Created: fenceT0.Add(time.Second), Completed: fenceT0.Add(2 * time.Second)},
	}}
}

func TestStonithHistoryText(t *testing.T) {
	var b bytes.Buffer
	if err := writeFenceHistory(&b, fenceFixture(), "text", "crm stonith history", time.UTC); err != nil {
		t.Fatal(err)
	}
	want := "reboot of n2 successful: delegate=n1, client=crmd, origin=n1, completed='2026-11-24 03:02:21Z'\n" +
		"reboot of n2 failed (sandbox fence reboot n2 (listed in fail): cannot fence): delegate=n1, client=crmd, origin=n1, completed='2026-11-24 03:02:19Z' (a later attempt from n1 succeeded)\n" +
		"2 events found\n"
	if b.String() != want {
		t.Errorf("history:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := writeFenceHistory(&b, &api.Fencing{}, "text", "", time.UTC); err != nil || b.String() != "0 events found\n" {
		t.Errorf("empty history: %q %v", b.String(), err)
	}
}

func TestStonithHistoryXML(t *testing.T) {
	var b bytes.Buffer
	if err := writeFenceHistory(&b, fenceFixture(), "xml", "crm stonith history --output-as=xml", time.UTC); err != nil {
		t.Fatal(err)
	}
	root, err := cib.ParseElement(b.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	var list *cib.Element
	for _, c := range root.Children {
		if c.Name == "list" {
			list = c
		}
	}
	if list == nil || list.Get("name") != "fencing history" || list.Get("count") != "2" || len(list.Children) != 2 {
		t.Fatalf("no fencing history list of 2:\n%s", b.String())
	}
	first, second := list.Children[0], list.Children[1]
	if first.Name != "fence_event" || first.Get("status") != "success" || first.Get("completed") != "2026-11-24 03:02:21Z" {
		t.Errorf("first event: %s", b.String())
	}
	if second.Get("status") != "failed" || !strings.Contains(second.Get("exit-reason"), "listed in fail") || second.Get("delegate") != "n1" {
		t.Errorf("second event: %s", b.String())
	}
}

func TestStonithListAndStatus(t *testing.T) {
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdout: &out, stderr: &errb}
	f := &api.Fencing{Devices: []api.FenceDevice{
		{ID: "fence-a", Type: "sandbox", RunningOn: []string{"n2"}, Monitor: "OK"},
		{ID: "fence-b", Type: "external/fence_x", Error: "fence device fence-b: parameter ip: required parameter missing"},
	}}
	if err := writeFenceList(e, f, "text", ""); err != nil {
		t.Fatal(err)
	}
	if out.String() != "fence-a\n1 fence device found\n" || !strings.Contains(errb.String(), "fence-b (stonith:external/fence_x) is not usable: ") {
		t.Errorf("list: stdout %q stderr %q", out.String(), errb.String())
	}
	out.Reset()
	if err := writeFenceList(e, f, "xml", "crm stonith list"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `<list name="registered fence devices" count="1">`) || !strings.Contains(out.String(), `<item name="device">fence-a</item>`) {
		t.Errorf("list XML:\n%s", out.String())
	}
	var st bytes.Buffer
	err := writeFenceStatus(&st, f, "text", "")
	if !errors.Is(err, errFenceDevice) {
		t.Errorf("status with a broken device: err %v, want errFenceDevice", err)
	}
	want := "fence-a (stonith:sandbox): running on n2; monitor OK\n" +
		"fence-b (stonith:external/fence_x): not running; configuration error: fence device fence-b: parameter ip: required parameter missing\n" +
		"2 fence devices checked\n"
	if st.String() != want {
		t.Errorf("status:\n%s\nwant:\n%s", st.String(), want)
	}
	st.Reset()
	if err := writeFenceStatus(&st, &api.Fencing{Devices: f.Devices[:1]}, "text", ""); err != nil {
		t.Errorf("healthy device: %v", err)
	}
}

func TestStonithUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"list", "x"}, {"history", "a", "b"}, {"--output-as=json", "list"}, {"--frob", "list"}} {
		var out, errb bytes.Buffer
		e := &env{ctx: context.Background(), stdout: &out, stderr: &errb}
		if code := runStonith(e, args); code != exitUsage {
			t.Errorf("crm stonith %v: exit %d, want %d (stderr %s)", args, code, exitUsage, errb.String())
		}
	}
}

func TestStatusFenceHistoryFlag(t *testing.T) {
	for _, args := range [][]string{{"--fence-history=4"}, {"--fence-history=x"}, {"-m=-1"}} {
		var out, errb bytes.Buffer
		e := &env{ctx: context.Background(), stdout: &out, stderr: &errb}
		if code := runStatus(e, args); code != exitUsage || !strings.Contains(errb.String(), "--fence-history") {
			t.Errorf("crm status %v: exit %d, stderr %q; want a usage error", args, code, errb.String())
		}
	}
}

// stonithAdminXML reads an output captured from Pacemaker 2.1.5's
// stonith_admin (see crm/status/fencing_pcmk_test.go) without its request
// attribute, which names the command.
func stonithAdminXML(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "crm", "status", "testdata", "fencing", name))
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(` request="[^"]*"`).ReplaceAllString(string(b), "")
}

func TestStonithXMLMatchesStonithAdmin(t *testing.T) {
	at := func(s string) time.Time { return time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC).Add(mustDur(t, s)) }
	f := &api.Fencing{History: []fsm.Record{
		{ID: "1", Target: "ghost", Action: fsm.ActionOff, Origin: "n1", Client: "stonith_admin.20969", State: fsm.StateFailed, Created: at("33m2s"), Completed: at("33m3s")},
		{ID: "2", Target: "n2", Action: fsm.ActionReboot, Origin: "n1", Client: "stonith_admin.20992", Delegate: "n1", State: fsm.StateDone, Created: at("33m7s"), Completed: at("33m36s")},
		{ID: "3", Target: "n2", Action: fsm.ActionReboot, Origin: "n1", Client: "stonith_admin.11129", State: fsm.StateFailed, Created: at("33m54s"), Completed: at("33m55s")},
		{ID: "4", Target: "n2", Action: fsm.ActionReboot, Origin: "n1", Client: "stonith_admin.12376", Delegate: "n1", State: fsm.StateDone, Created: at("34m1s"), Completed: at("34m2s")},
	}, Devices: []api.FenceDevice{{ID: "fence-lab", Type: "fence_pcmklab"}}}
	var b bytes.Buffer
	if err := writeFenceHistory(&b, f, "xml", "x", time.UTC); err != nil {
		t.Fatal(err)
	}
	strip := regexp.MustCompile(` request="[^"]*"`)
	if got, want := strip.ReplaceAllString(b.String(), ""), stonithAdminXML(t, "stonith_admin-history-verbose.xml"); got != want {
		t.Errorf("history XML:\n%s\nwant (stonith_admin):\n%s", got, want)
	}
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdout: &out, stderr: &errb}
	if err := writeFenceList(e, f, "xml", "x"); err != nil {
		t.Fatal(err)
	}
	if got, want := strip.ReplaceAllString(out.String(), ""), stonithAdminXML(t, "stonith_admin-list.xml"); got != want {
		t.Errorf("list XML:\n%s\nwant (stonith_admin):\n%s", got, want)
	}
}

func mustDur(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
