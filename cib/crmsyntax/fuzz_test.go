package crmsyntax

import (
	"strings"
	"testing"

	"github.com/gocrm/gocrm/cib"
)

// FuzzParse feeds arbitrary text to a session and shows the result in both
// dialects; the shown text is parsed again. Nothing may panic. Seeds live
// in testdata/fuzz/FuzzParse (taken from the crmsh conformance inputs).
func FuzzParse(f *testing.F) {
	f.Add("primitive vip IPaddr2 params ip=10.0.0.1 op monitor interval=10s\ngroup g vip\n")
	f.Add("location l g rule -inf: not_defined pingd or pingd lte 0\n")
	f.Add("colocation c inf: a ( b c ) [ d e sequential=true ]\norder o Mandatory: a:start b:promote\n")
	f.Add("node 1: n1 attributes a=1\nfencing_topology s1 s2\ndelete n1\n")
	f.Fuzz(func(t *testing.T, src string) {
		cfg := &cib.Configuration{}
		s := NewSession(cfg, nil)
		err := s.Exec(src)
		_ = s.CheckCommit()
		_ = s.ConfigElement().String()
		out := s.Show(ShowOptions{NoObscure: true})
		_ = ShowWith(cfg, ShowOptions{Dialect: Current})
		again := NewSession(&cib.Configuration{}, nil)
		err2 := again.Exec(out)
		out2 := again.Show(ShowOptions{NoObscure: true})
		// what parsed cleanly must survive show and parse unchanged
		if err == nil && !strings.Contains(out, "\nxml ") && !strings.HasPrefix(out, "xml ") {
			if err2 != nil {
				t.Fatalf("input %q\nshown as %q\ndoes not parse again: %v", src, out, err2)
			}
			if out2 != out {
				t.Fatalf("input %q\nshown as %q\nthen as %q", src, out, out2)
			}
			// applying the shown text as an update changes nothing
			if err := s.Update(out); err != nil {
				t.Fatalf("input %q\nshown as %q\nupdate failed: %v", src, out, err)
			}
			if out3 := s.Show(ShowOptions{NoObscure: true}); out3 != out {
				t.Fatalf("input %q\nshown as %q\nafter update %q", src, out, out3)
			}
		}
	})
}
