package status

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
)

// sharedCases returns ../shared/pacemaker-scheduler/xml or skips.
func sharedCases(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "pacemaker-scheduler", "xml")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared scheduler cases not available (%v)", err)
	}
	return dir
}

// sectionsAfterSummary splits text output into titled sections, dropping
// "Cluster Summary" and normalising whitespace.
func sectionsAfterSummary(text string) map[string]string {
	out := map[string]string{}
	cur := ""
	for _, l := range strings.Split(text, "\n") {
		if l != "" && l[0] != ' ' && strings.HasSuffix(l, ":") {
			cur = strings.TrimSuffix(l, ":")
			continue
		}
		if cur == "" || cur == "Cluster Summary" {
			continue
		}
		f := strings.Join(strings.Fields(l), " ")
		if f == "" {
			continue
		}
		out[cur] += f + "\n"
	}
	return out
}

func renderFile(t *testing.T, path string, now time.Time) (*Report, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := cib.Parse(data)
	if err != nil {
		return nil, err
	}
	return Build(c, Options{Now: now, Location: time.Local})
}

// TestCrmMonConformance compares the text output with crm_mon -1 -r on
// every shared case (all sections but the Cluster Summary header).
func TestCrmMonConformance(t *testing.T) {
	dir := sharedCases(t)
	if _, err := exec.LookPath("crm_mon"); err != nil {
		t.Skip("crm_mon not installed (apt-get install pacemaker-cli-utils)")
	}
	if testing.Short() {
		t.Skip("slow: runs crm_mon on every case")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	pass, total := 0, 0
	var failed []string
	for _, f := range files {
		cmd := exec.Command("crm_mon", "-1", "-r")
		cmd.Env = append(os.Environ(), "CIB_file="+f)
		want, err := cmd.Output()
		if err != nil {
			continue // crm_mon cannot render it: not a case
		}
		total++
		r, err := renderFile(t, f, time.Now())
		if err != nil {
			failed = append(failed, filepath.Base(f)+": "+err.Error())
			continue
		}
		var got bytes.Buffer
		if err := r.WriteText(&got); err != nil {
			t.Fatal(err)
		}
		ws, gs := sectionsAfterSummary(string(want)), sectionsAfterSummary(got.String())
		ok := len(ws) == len(gs)
		for k, v := range ws {
			if gs[k] != v {
				ok = false
			}
		}
		if ok {
			pass++
		} else {
			failed = append(failed, filepath.Base(f))
			if d := os.Getenv("STATUS_DIFF_DIR"); d != "" {
				base := filepath.Join(d, strings.TrimSuffix(filepath.Base(f), ".xml"))
				_ = os.WriteFile(base+".want", want, 0o644)
				_ = os.WriteFile(base+".got", got.Bytes(), 0o644)
			}
		}
	}
	rate := float64(pass) / float64(max(total, 1)) * 100
	t.Logf("crm status vs crm_mon -1 -r: %d/%d cases equal (%.1f%%)", pass, total, rate)
	if len(failed) > 0 {
		t.Logf("differing: %s", strings.Join(failed, " "))
	}
	if rate < 95 {
		t.Errorf("conformance %.1f%% below the 95%% target", rate)
	}
}

// TestCrmMonXMLConformance compares the <nodes> and <resources> elements
// of the XML output with crm_mon --output-as=xml on every shared case.
func TestCrmMonXMLConformance(t *testing.T) {
	dir := sharedCases(t)
	if _, err := exec.LookPath("crm_mon"); err != nil {
		t.Skip("crm_mon not installed (apt-get install pacemaker-cli-utils)")
	}
	if testing.Short() {
		t.Skip("slow: runs crm_mon on every case")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	pass, total := 0, 0
	banPass, banTotal := 0, 0
	var failed []string
	for _, f := range files {
		cmd := exec.Command("crm_mon", "-1", "--output-as=xml")
		cmd.Env = append(os.Environ(), "CIB_file="+f)
		want, err := cmd.Output()
		if err != nil {
			continue
		}
		wantEl, err := cib.ParseElement(want)
		if err != nil {
			continue
		}
		total++
		r, err := renderFile(t, f, time.Now())
		if err != nil {
			failed = append(failed, filepath.Base(f))
			continue
		}
		var buf bytes.Buffer
		if err := r.WriteXML(&buf); err != nil {
			t.Fatal(err)
		}
		gotEl, err := cib.ParseElement(buf.Bytes())
		if err != nil {
			t.Fatalf("%s: our XML does not parse: %v", f, err)
		}
		ok := true
		for _, name := range []string{"nodes", "resources"} {
			w, g := wantEl.Child(name), gotEl.Child(name)
			if (w == nil) != (g == nil) || w != nil && w.String() != g.String() {
				ok = false
			}
		}
		if w, g := wantEl.Child("bans"), gotEl.Child("bans"); w != nil || g != nil {
			banTotal++
			if w != nil && g != nil && w.String() == g.String() {
				banPass++
			}
		}
		if gotEl.Child("summary") == nil || gotEl.Child("status") == nil || gotEl.Child("status").Get("code") != "0" {
			t.Errorf("%s: summary or status element missing", f)
		}
		if ok {
			pass++
		} else {
			failed = append(failed, filepath.Base(f))
		}
	}
	rate := float64(pass) / float64(max(total, 1)) * 100
	t.Logf("crm status --output-as=xml nodes/resources vs crm_mon: %d/%d cases equal (%.1f%%)", pass, total, rate)
	t.Logf("<bans> equal in %d of %d cases with bans", banPass, banTotal)
	if len(failed) > 0 {
		t.Logf("differing: %s", strings.Join(failed, " "))
	}
	if rate < 95 {
		t.Errorf("XML conformance %.1f%% below the 95%% target", rate)
	}
}
