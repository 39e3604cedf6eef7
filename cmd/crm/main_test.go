package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"time"
)

const testCIB = `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="n1" uname="node1"/></nodes>
    <resources><primitive id="rsc1" class="ocf" provider="pacemaker" type="Dummy"/></resources>
    <constraints/>
  </configuration>
  <status><node_state id="n1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member"/></status>
</cib>`

// testEnv returns an env reading files from an in-memory map.
func testEnv(files map[string]string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{
		ctx:    context.Background(),
		stdout: &out,
		stderr: &errb,
		log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:    func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
		readFile: func(name string) ([]byte, error) {
			if s, ok := files[name]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
	}, &out, &errb
}

func TestParseSimulateArgs(t *testing.T) {
	cases := []struct {
		args []string
		want simulateArgs
	}{
		{[]string{"-x", "f.xml", "-S"}, simulateArgs{xmlFile: "f.xml", simulate: true, outputAs: "text"}},
		{[]string{"--xml-file=f.xml", "--run", "--quiet"}, simulateArgs{xmlFile: "f.xml", run: true, quiet: true, outputAs: "text"}},
		{[]string{"--xml-file", "f.xml", "--output-as", "xml"}, simulateArgs{xmlFile: "f.xml", outputAs: "xml"}},
		{[]string{"-xf.xml", "-sSQ", "--output-as=xml"}, simulateArgs{xmlFile: "f.xml", showScores: true, simulate: true, quiet: true, outputAs: "xml"}},
		{[]string{"-Sx", "f.xml", "-t", "2014-05-07 00:28:00"}, simulateArgs{xmlFile: "f.xml", simulate: true, setTime: "2014-05-07 00:28:00", outputAs: "text"}},
		{[]string{"--set-datetime=2020-01-01", "--show-scores", "-x", "-"}, simulateArgs{xmlFile: "-", showScores: true, setTime: "2020-01-01", outputAs: "text"}},
	}
	for _, tc := range cases {
		got, err := parseSimulateArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if *got != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.args, *got, tc.want)
		}
	}
	for _, bad := range [][]string{
		{"-S"},                          // no -x
		{"-x"},                          // missing value
		{"-x", "f", "--output-as=json"}, // bad format
		{"-x", "f", "--bogus"},          // unknown long option
		{"-x", "f", "-Z"},               // unknown short option
		{"-x", "f", "--simulate=yes"},   // value on a switch
		{"-x", "f", "stray"},            // positional argument
		{"-x", "f", "--output-as"},      // missing value
	} {
		if _, err := parseSimulateArgs(bad); !errors.Is(err, errUsage) {
			t.Errorf("%q: err = %v, want errUsage", bad, err)
		}
	}
}

func TestDispatch(t *testing.T) {
	e, out, errb := testEnv(nil)
	if code := dispatch(e, nil); code != exitUsage || !strings.Contains(errb.String(), "simulate") {
		t.Errorf("no args: code %d, stderr %q", code, errb.String())
	}
	if code := dispatch(e, []string{"nosuch"}); code != exitUsage {
		t.Errorf("unknown command: code %d", code)
	}
	if code := dispatch(e, []string{"help"}); code != exitOK || !strings.Contains(out.String(), "simulate") {
		t.Errorf("help: code %d, stdout %q", code, out.String())
	}
}

func TestRunSimulate(t *testing.T) {
	e, out, errb := testEnv(map[string]string{"c.xml": testCIB, "bad.xml": "<cib"})
	if code := dispatch(e, []string{"simulate", "-x", "c.xml", "-S"}); code != exitOK {
		t.Fatalf("code %d, stderr %s", code, errb.String())
	}
	for _, want := range []string{"Current cluster status:", "  * Start      rsc1 ", "start on node1", "Revised Cluster Status:", "Started node1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	e, out, _ = testEnv(map[string]string{"c.xml": testCIB})
	if code := dispatch(e, []string{"simulate", "-x", "c.xml", "-S", "--output-as", "xml"}); code != exitOK || !strings.HasPrefix(out.String(), "<pacemaker-result") {
		t.Errorf("xml: code %d, output %s", code, out.String())
	}

	e, _, errb = testEnv(map[string]string{"bad.xml": "<cib"})
	if code := dispatch(e, []string{"simulate", "-x", "bad.xml", "-S"}); code != exitError || !strings.HasPrefix(errb.String(), "crm simulate: ") {
		t.Errorf("bad CIB: code %d, stderr %q", code, errb.String())
	}
	e, _, errb = testEnv(nil)
	if code := dispatch(e, []string{"simulate", "-x", "missing.xml"}); code != exitError || !strings.Contains(errb.String(), "crm simulate: reading CIB") {
		t.Errorf("missing file: code %d, stderr %q", code, errb.String())
	}
	e, _, _ = testEnv(map[string]string{"c.xml": testCIB})
	if code := dispatch(e, []string{"simulate", "-x", "c.xml", "-t", "not-a-date"}); code != exitUsage {
		t.Errorf("bad date: code %d", code)
	}
}

// FuzzParseSimulateArgs feeds arbitrary argument lists (split on NUL) to
// the flag parser: it must either succeed with an --xml-file or fail with
// errUsage, never panic.
func FuzzParseSimulateArgs(f *testing.F) {
	f.Add("-x\x00f.xml\x00-S")
	f.Add("-sSQx\x00f\x00--output-as=xml")
	f.Add("--set-datetime\x00")
	f.Fuzz(func(t *testing.T, joined string) {
		a, err := parseSimulateArgs(strings.Split(joined, "\x00"))
		if err != nil {
			if !errors.Is(err, errUsage) {
				t.Fatalf("error %v is not errUsage", err)
			}
			return
		}
		if a.xmlFile == "" && !a.help {
			t.Fatalf("accepted arguments without --xml-file: %+v", a)
		}
	})
}
