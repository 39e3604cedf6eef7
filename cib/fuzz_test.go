package cib

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that it returns either a CIB or
// an error wrapping one of the package's sentinels, and that a parsed CIB
// survives Marshal → Parse → Marshal unchanged. Seeds live in
// testdata/fuzz/FuzzParse; more are added here.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimalCIB))
	f.Add([]byte(richCIB))
	f.Add([]byte(withConfig(`<resources><group id="g"><primitive id="a" class="ocf" provider="p" type="t"/></group></resources>`)))
	f.Add([]byte(`<cib><configuration/><status><node_state uname="n"><lrm><lrm_resources><lrm_resource id="r"><lrm_rsc_op id="o" operation="start" interval="0"/></lrm_resource></lrm_resources></lrm></node_state></status></cib>`))
	f.Add([]byte("<cib>\n<configuration>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if c != nil {
				t.Fatalf("CIB and error both returned: %v", err)
			}
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrDanglingRef) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		out := c.Marshal()
		c2, err := Parse(out)
		if err != nil {
			t.Fatalf("Marshal output does not re-parse: %v\ninput:\n%q\noutput:\n%s", err, data, out)
		}
		if out2 := c2.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("Marshal is not a fixpoint:\n%s\n---\n%s", out, out2)
		}
		_ = c.Problems()
		_ = NewIndex(&c.Config)
	})
}

// TestParseTruncatedAndMutated is a deterministic complement to FuzzParse:
// every prefix of a rich document and single-byte corruptions of it must
// give a CIB or a sentinel-wrapped error, never a panic.
func TestParseTruncatedAndMutated(t *testing.T) {
	doc := []byte(richCIB)
	check := func(data []byte) {
		t.Helper()
		c, err := Parse(data)
		if err != nil {
			if c != nil || (!errors.Is(err, ErrSyntax) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrDanglingRef)) {
				t.Fatalf("bad error result %v for %q", err, data)
			}
			return
		}
		if _, err := Parse(c.Marshal()); err != nil {
			t.Fatalf("Marshal output does not re-parse: %v", err)
		}
	}
	for i := 0; i < len(doc); i += 3 {
		check(doc[:i])
	}
	junk := []byte{'<', '>', '"', '/', '=', 'x', 0, '&'}
	for i := 0; i < len(doc); i += 11 {
		m := append([]byte(nil), doc...)
		m[i] = junk[i%len(junk)]
		check(m)
	}
}
