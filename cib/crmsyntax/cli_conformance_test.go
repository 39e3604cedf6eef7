package crmsyntax

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/cib"
)

// emptyCIB is the file `crm -F -f` starts from, as crm-oracle.sh gives
// crmsh a fresh CIB.
const emptyCIB = `<cib validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">
  <configuration><crm_config/><nodes/><resources/><constraints/></configuration>
  <status/>
</cib>
`

// buildCRM compiles cmd/crm into dir (the test runs the real binary).
func buildCRM(t *testing.T, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go toolchain not in PATH (%v): cannot build cmd/crm", err)
	}
	bin := filepath.Join(dir, "crm")
	cmd := exec.Command(goBin, "build", "-o", bin, "../../cmd/crm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building cmd/crm: %v\n%s", err, out)
	}
	return bin
}

// TestOracleConformanceCLI is TestOracleConformance through the command
// line users run: `CIB_file=X crm -F -f SESSION` on an empty CIB file (the
// session is "configure", the input and "commit", as crm-oracle.sh runs
// crmsh), then
// the file's configuration section (canonical XML) and `CIB_file=X crm
// configure show` against crmsh 4.4.1's cib.xml and show.txt. A case whose
// commit crmsh refused must leave the file's configuration unchanged.
func TestOracleConformanceCLI(t *testing.T) {
	needCases(t)
	if testing.Short() {
		t.Skip("builds and runs the crm binary on every oracle case; skipped with -short")
	}
	tmp := t.TempDir()
	bin := buildCRM(t, tmp)
	cases := oracleCases(t)
	if len(cases) < 50 {
		t.Fatalf("only %d oracle cases found", len(cases))
	}
	empty := canonConfig((&cib.Configuration{}).Element())
	xmlPass, showPass := 0, 0
	for i, c := range cases {
		in, err := os.ReadFile(c.input)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(tmp, "c"+strings.Repeat("0", 3-len(itoa(i)))+itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cibPath := filepath.Join(dir, "cib.xml")
		inPath := filepath.Join(dir, "input.crm")
		if err := os.WriteFile(cibPath, []byte(emptyCIB), 0o644); err != nil {
			t.Fatal(err)
		}
		// As crm-oracle.sh feeds crmsh: configure level, the input, commit.
		session := "configure\n" + c.prefix + string(in) + "\n\ncommit\n"
		if err := os.WriteFile(inPath, []byte(session), 0o644); err != nil {
			t.Fatal(err)
		}
		env := append(os.Environ(), "CIB_file="+cibPath, "HOME="+dir, "CIB_shadow_dir="+dir, "LC_ALL=C", "EDITOR=false")
		run := func(args ...string) (string, error) {
			cmd := exec.Command(bin, args...)
			cmd.Env = env
			cmd.Dir = dir
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			return out.String(), err
		}
		batchOut, _ := run("-F", "-f", inPath)
		data, err := os.ReadFile(cibPath)
		if err != nil {
			t.Fatal(err)
		}
		root, err := cib.ParseElement(data)
		if err != nil {
			t.Fatalf("%s: CIB file after crm -f: %v", c.name, err)
		}
		got := empty
		if cfg := root.Child("configuration"); cfg != nil {
			got = canonConfig(cfg)
		}
		sessionLog, err := os.ReadFile(filepath.Join(c.dir, "session.log"))
		if err != nil {
			t.Fatal(err)
		}
		var want, wantShow string
		if strings.Contains(string(sessionLog), "cib written: yes") {
			oracle, err := os.ReadFile(filepath.Join(c.dir, "cib.xml"))
			if err != nil {
				t.Fatal(err)
			}
			want = oracleConfig(t, oracle)
			show, err := os.ReadFile(filepath.Join(c.dir, "show.txt"))
			if err != nil {
				t.Fatal(err)
			}
			wantShow = string(show)
		} else {
			// Refused by crmsh: nothing may be committed.
			want, wantShow = empty, ""
		}
		showOut, _ := run("configure", "show")
		xmlOK := got == want
		showOK := normShow(showOut) == normShow(wantShow)
		if xmlOK {
			xmlPass++
		}
		if showOK {
			showPass++
		}
		if !xmlOK || !showOK {
			t.Logf("MISMATCH %s (xml %v, show %v)\n  crm -f said: %s\n  got  %s\n  want %s", c.name, xmlOK, showOK,
				firstLines(batchOut, 3), got, want)
		}
	}
	xr := float64(xmlPass) / float64(len(cases))
	sr := float64(showPass) / float64(len(cases))
	t.Logf("CLI oracle conformance: %d cases; XML %d/%d (%.1f%%); show %d/%d (%.1f%%)",
		len(cases), xmlPass, len(cases), 100*xr, showPass, len(cases), 100*sr)
	if xr < 0.90 || sr < 0.90 {
		t.Errorf("CLI conformance below target 90%%: XML %.1f%%, show %.1f%%", 100*xr, 100*sr)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}
