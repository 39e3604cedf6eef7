package cib

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sameTree compares two Element trees by name, attributes (in order), text
// and children; Line is not compared (the reference parser records the line
// of the start tag's '>', ParseElement the line of its '<').
func sameTree(a, b *Element) error {
	if a.Name != b.Name {
		return fmt.Errorf("name %q != %q", a.Name, b.Name)
	}
	if len(a.Attrs) != len(b.Attrs) {
		return fmt.Errorf("<%s>: attrs %q != %q", a.Name, a.Attrs, b.Attrs)
	}
	for i := range a.Attrs {
		if a.Attrs[i] != b.Attrs[i] {
			return fmt.Errorf("<%s>: attr %d: %q != %q", a.Name, i, a.Attrs[i], b.Attrs[i])
		}
	}
	if a.Text != b.Text {
		return fmt.Errorf("<%s>: text %q != %q", a.Name, a.Text, b.Text)
	}
	if len(a.Children) != len(b.Children) {
		return fmt.Errorf("<%s>: %d children != %d", a.Name, len(a.Children), len(b.Children))
	}
	for i := range a.Children {
		if err := sameTree(a.Children[i], b.Children[i]); err != nil {
			return fmt.Errorf("<%s>/[%d]: %w", a.Name, i, err)
		}
	}
	return nil
}

// stricterThanStd lists the checks ParseElement makes that encoding/xml's
// RawToken does not: documents the reference accepts may fail only with
// one of these.
var stricterThanStd = []string{
	"duplicate attribute",
	"missing white space before attribute",
	"text outside the root element",
	"unexpected end tag outside the root element",
	"unexpected <! sequence",
	"expected white space after <?",
	"invalid character in",
	"expected element name",
	"expected attribute name",
	"expected processing instruction target",
	"elements nested deeper",
	"unsupported XML version",
	"illegal character code", // surrogates and U+FFFE/U+FFFF as &#N;
	"unexpected end of document in DOCTYPE",
	"invalid UTF-8", // encoding/xml does not check processing instructions and comments
}

// compareWithStd parses data with both parsers and reports a difference
// that is not explained by ParseElement being stricter.
func compareWithStd(data []byte) error {
	got, err := ParseElement(data)
	want, stdErr := parseElementStd(data)
	if err != nil {
		if got != nil {
			return fmt.Errorf("tree and error both returned: %v", err)
		}
		if !errors.Is(err, ErrSyntax) {
			return fmt.Errorf("error does not wrap ErrSyntax: %v", err)
		}
		if !regexp.MustCompile(`^line [1-9][0-9]*: `).MatchString(err.Error()) {
			return fmt.Errorf("error does not start with the line: %v", err)
		}
		if stdErr == nil {
			for _, s := range stricterThanStd {
				if strings.Contains(err.Error(), s) {
					return nil
				}
			}
			return fmt.Errorf("rejected a document encoding/xml accepts: %v", err)
		}
		return nil
	}
	if stdErr != nil {
		// encoding/xml checks non-ASCII name characters against the
		// XML 1.0 (first edition) tables; ParseElement follows the
		// fifth edition, which allows more.
		if strings.Contains(stdErr.Error(), "invalid XML name") {
			return nil
		}
		return fmt.Errorf("accepted a document encoding/xml rejects (%v)", stdErr)
	}
	if err := sameTree(got, want); err != nil {
		return fmt.Errorf("trees differ: %w", err)
	}
	return checkLines(got, want)
}

// checkLines: every Line is at least 1 and at most the reference's line
// (the '<' of a start tag is never after its '>').
func checkLines(got, want *Element) error {
	if got.Line < 1 || got.Line > want.Line {
		return fmt.Errorf("<%s>: line %d, reference line %d", got.Name, got.Line, want.Line)
	}
	for i := range got.Children {
		if err := checkLines(got.Children[i], want.Children[i]); err != nil {
			return err
		}
	}
	return nil
}

func TestParseElementCases(t *testing.T) {
	cases := []struct {
		name, in string
		want     string // Element.String() of the result, if no error
		err      string // error substring
		line     int    // expected error line
	}{
		{"empty element", `<a/>`, "<a/>\n", "", 0},
		{"bom and declaration", "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a/>", "<a/>\n", "", 0},
		{"declaration single quotes", "<?xml version='1.0' encoding='utf-8' standalone='yes'?><a/>", "<a/>\n", "", 0},
		{"doctype", "<!DOCTYPE a [\n<!ELEMENT a ANY>\n<!-- x > y -->\n<!ATTLIST a b CDATA \"x>\">\n]>\n<a/>", "<a/>\n", "", 0},
		{"attrs both quotes", `<a x="1" y='2' z = "3"/>`, "<a x=\"1\" y=\"2\" z=\"3\"/>\n", "", 0},
		{"quotes inside values", `<a x="it's" y='say "hi"'/>`, "<a x=\"it's\" y=\"say &quot;hi&quot;\"/>\n", "", 0},
		{"entities", `<a v="&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;">&amp;x&#10;</a>`, "<a v=\"&lt;&gt;&amp;&quot;'AB\U0001F600\">&amp;x</a>\n", "", 0},
		{"namespaces kept raw", `<p:a xmlns:p="urn:x" p:y="2"><p:b/></p:a>`, "<p:a xmlns:p=\"urn:x\" p:y=\"2\">\n  <p:b/>\n</p:a>\n", "", 0},
		{"comments and PIs dropped", "<a><!-- c --><?pi data?><b/><!----></a>", "<a>\n  <b/>\n</a>\n", "", 0},
		{"cdata", "<a><![CDATA[ <x> & ]] ]]></a>", "<a>&lt;x&gt; &amp; ]]</a>\n", "", 0},
		{"text segments trimmed", "<a> x <b/> y <!--c--> z <![CDATA[ w ]]></a>", "<a>xyzw\n  <b/>\n</a>\n", "", 0},
		{"crlf in values", "<a v=\"1\r\n2\r3\"/>", "<a v=\"1&#10;2&#10;3\"/>\n", "", 0},
		{"end tag with space", "<a><b></b ></a >", "<a>\n  <b/>\n</a>\n", "", 0},
		{"gt in attribute", `<a v="x>y]]>"/>`, "<a v=\"x&gt;y]]&gt;\"/>\n", "", 0},
		{"trailing misc", "<a/>\n<!-- end -->\n<?x?>\n", "<a/>\n", "", 0},
		{"utf8 text and names", "<é ü=\"ß\">ö</é>", "<é ü=\"ß\">ö</é>\n", "", 0},

		{"empty input", "", "", "no root element", 1},
		{"only spaces", "  \n ", "", "no root element", 2},
		{"mismatched end", "<a>\n<b>\n</a>", "", "element <b> (line 2) closed by </a>", 3},
		{"unclosed", "<a>\n<b/>\n", "", "<a> (line 1): element not closed", 3},
		{"unclosed inner", "<a><b>text", "", "<b> (line 1): element not closed", 1},
		{"end without start", "</a>", "", "unexpected end tag", 1},
		{"two roots", "<a/>\n<b/>", "", "more than one root element", 2},
		{"duplicate attribute", "<a\n x=\"1\"\n x=\"2\"/>", "", `duplicate attribute "x" in <a>`, 3},
		{"duplicate after prediction", "<r><a x=\"1\" y=\"2\"/><a x=\"1\" x=\"2\"/></r>", "", `duplicate attribute "x"`, 1},
		{"unquoted value", "<a x=1/>", "", "unquoted or missing value", 1},
		{"missing value", "<a x/>", "", "without =", 1},
		{"no space between attrs", `<a x="1"y="2"/>`, "", "missing white space", 1},
		{"lt in value", `<a x="<"/>`, "", "unescaped <", 1},
		{"unterminated value", `<a x="1/>`, "", "end of document in attribute value", 1},
		{"unknown entity", "<a>\n&nbsp;</a>", "", "invalid character entity &nbsp;", 2},
		{"entity no semicolon", "<a>&amp</a>", "", "no semicolon", 1},
		{"bad char ref", "<a>&#xZZ;</a>", "", "invalid character entity", 1},
		{"char ref zero", "<a>&#0;</a>", "", "illegal character code U+0000", 1},
		{"char ref surrogate", "<a>&#xD800;</a>", "", "illegal character code U+D800", 1},
		{"char ref too big", "<a>&#x110000;</a>", "", "invalid character entity", 1},
		{"control char", "<a>\x01</a>", "", "illegal character code U+0001", 1},
		{"control char in value", "<a v=\"\x00\"/>", "", "illegal character code U+0000", 1},
		{"invalid utf8", "<a>\xff</a>", "", "invalid UTF-8", 1},
		{"invalid utf8 in name", "<a\xff/>", "", "invalid character in element name", 1},
		{"cdata end in text", "<a>]]></a>", "", "unescaped ]]>", 1},
		{"double dash comment", "<a><!-- a -- b --></a>", "", `"--" inside a comment`, 1},
		{"unterminated comment", "<a>\n<!-- x\n", "", "end of document in comment", 3},
		{"unterminated cdata", "<a><![CDATA[x", "", "end of document in CDATA", 1},
		{"unterminated PI", "<a><?pi x", "", "end of document in processing instruction", 1},
		{"bad <! in element", "<a><!FOO></a>", "", "unexpected <! sequence", 1},
		{"text before root", "x<a/>", "", "text outside the root element", 1},
		{"text after root", "<a/>x", "", "text outside the root element", 1},
		{"bad version", "<?xml version=\"1.1\"?><a/>", "", "unsupported XML version", 1},
		{"bad encoding", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", "", "unsupported encoding", 1},
		{"bad element name", "<1a/>", "", "expected element name", 1},
		{"space after <", "< a/>", "", "expected element name", 1},
		{"bad slash", "<a / >", "", "expected />", 1},
		{"eof in tag", "<a x=\"1\"", "", "end of document in start tag <a>", 1},
		{"eof after <", "<a><", "", "end of document after <", 1},
		{"doctype after root", "<a/><!DOCTYPE a>", "", "unexpected <! sequence", 1},
		{"deep nesting", strings.Repeat("<a>", maxXMLDepth+1), "", "nested deeper", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			el, err := ParseElement([]byte(c.in))
			if c.err == "" {
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if s := el.String(); s != c.want {
					t.Fatalf("got\n%s\nwant\n%s", s, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, tree:\n%s", el)
			}
			if el != nil {
				t.Error("tree and error both returned")
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("%v does not wrap ErrSyntax", err)
			}
			if !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %q does not contain %q", err, c.err)
			}
			if prefix := "line " + strconv.Itoa(c.line) + ": "; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
		})
	}
}

// TestParseElementManyTextSegments: text split by many comments is
// gathered in linear time.
func TestParseElementManyTextSegments(t *testing.T) {
	const n = 200000
	doc := "<a>" + strings.Repeat("x<!---->", n) + "<b>y<!---->z</b>" + strings.Repeat("x<!---->", n) + "</a>"
	el, err := ParseElement([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(el.Text) != 2*n || strings.Trim(el.Text, "x") != "" || el.Children[0].Text != "yz" {
		t.Fatalf("text: %d bytes, child %q", len(el.Text), el.Children[0].Text)
	}
}

func TestParseElementLines(t *testing.T) {
	doc := "<?xml version=\"1.0\"?>\n<!-- one\ntwo -->\n<a>\n  <b\n    x=\"1\n2\"/>\n  <c><![CDATA[\n\n]]></c>\r\n  <d>t&#10;\nu</d>\n  <e/>\n</a>\n"
	el, err := ParseElement([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a": 4, "b": 5, "c": 8, "d": 11, "e": 13}
	got := map[string]int{el.Name: el.Line}
	for _, c := range el.Children {
		got[c.Name] = c.Line
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("<%s> on line %d, want %d", k, got[k], v)
		}
	}
	if v := el.Children[0].Get("x"); v != "1\n2" {
		t.Errorf("multi-line value %q", v)
	}
	if d := el.Child("d").Text; d != "t\n\nu" {
		t.Errorf("text %q", d)
	}
}

// TestParseElementAppendDoesNotAlias: attribute and child slices come from
// shared slabs; growing one must not overwrite a neighbour.
func TestParseElementAppendDoesNotAlias(t *testing.T) {
	el, err := ParseElement([]byte(`<r><a x="1"><k/></a><b y="2"><l/></b></r>`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := el.Children[0], el.Children[1]
	a.Set("z", "3")
	a.Children = append(a.Children, &Element{Name: "new"})
	if b.Attrs[0] != (Attr{"y", "2"}) || b.Children[0].Name != "l" || len(a.Attrs) != 2 {
		t.Fatalf("append aliased a neighbour: a=%v b=%v", a, b)
	}
}

// TestParseElementMatchesStd compares ParseElement with the encoding/xml
// reference on every XML file of the repository and of the Pacemaker
// scheduler corpus (when ../shared is present).
func TestParseElementMatchesStd(t *testing.T) {
	var files []string
	for _, root := range []string{"..", filepath.Join("..", "..", "shared", "pacemaker-scheduler")} {
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".xml") {
				files = append(files, path)
			}
			return nil
		})
	}
	if len(files) == 0 {
		t.Skip("skipping: no XML files found")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := compareWithStd(data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	t.Logf("%d files compared", len(files))
	// Enough attributes and children to cross several slabs, and one
	// element wider than a slab.
	gen := genBenchCIB(4, 400)
	if err := compareWithStd(gen); err != nil {
		t.Errorf("generated CIB: %v", err)
	}
	var wide strings.Builder
	wide.WriteString("<r>")
	for i := 0; i < 3; i++ {
		wide.WriteString("<w")
		for j := 0; j < attrSlabSize+10; j++ {
			fmt.Fprintf(&wide, " a%d=\"%d\"", j, j%7)
		}
		wide.WriteString(">")
		for j := 0; j < kidSlabSize+10; j++ {
			wide.WriteString("<k/>")
		}
		wide.WriteString("</w>")
	}
	wide.WriteString("</r>")
	if err := compareWithStd([]byte(wide.String())); err != nil {
		t.Errorf("wide elements: %v", err)
	}
}

// FuzzParseElement: ParseElement never panics, returns a tree or an error
// wrapping ErrSyntax with a line, and agrees with encoding/xml on every
// document both accept (and on which documents are accepted, up to the
// extra strictness listed in stricterThanStd). An accepted tree survives
// String → ParseElement.
func FuzzParseElement(f *testing.F) {
	for _, s := range []string{
		`<a/>`, `<a x="1" y='2'><b>t&amp;x</b><!--c--><?p q?><![CDATA[d]]></a>`,
		"<?xml version=\"1.0\"?>\n<!DOCTYPE a>\n<a>\r\n&#x41;&#66;</a>",
		`<p:a xmlns:p="u" p:b="&quot;"/>`, "<a\n b = \"1\"\n/>", `<a x="1" x="2"/>`,
		"\xef\xbb\xbf<a>\u00e9</a>", `<a><b></a></b>`, minimalCIB, `<A A0000::=""/>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := compareWithStd(data); err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		el, err := ParseElement(data)
		if err != nil {
			return
		}
		back, err := ParseElement([]byte(el.String()))
		if err != nil {
			t.Fatalf("String output does not re-parse: %v\n%s", err, el)
		}
		if err := sameTree(el, back); err != nil {
			t.Fatalf("String round trip: %v", err)
		}
	})
}

func TestIsXMLName(t *testing.T) {
	for _, ok := range []string{"a", "_x", "in_ccm", "crm-debug-origin", "p:a", "é", "a.b-c_1"} {
		if !IsXMLName(ok) {
			t.Errorf("IsXMLName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "1a", "-a", "a b", "a=b", "a:b:c", "\xc6", "a\"", "<a"} {
		if IsXMLName(bad) {
			t.Errorf("IsXMLName(%q) = true", bad)
		}
	}
	// every name IsXMLName accepts is read back as an attribute name
	for _, n := range []string{"x", "é1", "p:q"} {
		if _, err := ParseElement([]byte("<a " + n + `="1"/>`)); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
}
