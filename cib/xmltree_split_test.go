package cib

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// forceSplit makes every document with a status section eligible for the
// parallel split (and runs it with several workers) for the duration of
// the test.
func forceSplit(t *testing.T) {
	t.Helper()
	oldMin := splitMinBytes
	oldProcs := runtime.GOMAXPROCS(4)
	splitMinBytes = 1
	t.Cleanup(func() {
		splitMinBytes = oldMin
		runtime.GOMAXPROCS(oldProcs)
	})
}

// sameAsSequential checks that ParseElement and Parse give exactly what the
// sequential parser (and conversion) gives for data: the same tree with
// the same lines, the same CIB, or the same error. It returns whether the
// split was used.
func sameAsSequential(t *testing.T, name string, data []byte) bool {
	t.Helper()
	wantTree, wantErr := parseElementSeq(data)
	// The tree of a converting split has stand-ins for the node_states:
	// only the plain split's tree is compared.
	gotTree, _, splitErr := parseElementSplit(data, false)
	_, sp, convErr := parseElementSplit(data, true)
	used := sp != nil && convErr == nil
	tree, err := ParseElement(data)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: ParseElement error %v, sequential %v", name, err, wantErr)
	}
	if wantErr == nil {
		if !reflect.DeepEqual(tree, wantTree) {
			t.Fatalf("%s: ParseElement tree differs from the sequential one", name)
		}
		if splitErr == nil && !reflect.DeepEqual(gotTree, wantTree) {
			t.Fatalf("%s: split tree differs from the sequential one", name)
		}
	}
	if (splitErr != nil || convErr != nil) && wantErr == nil && sp != nil {
		t.Fatalf("%s: split failed on a good document: %v, %v", name, splitErr, convErr)
	}
	var wantCIB *CIB
	if wantErr == nil {
		wantCIB, wantErr = fromElement(wantTree, true, nil)
	}
	c, err := Parse(data)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: Parse error %v, sequential %v", name, err, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(c, wantCIB) {
		t.Fatalf("%s: Parse result differs from the sequential one", name)
	}
	return used
}

func TestSplitParseMatchesSequential(t *testing.T) {
	forceSplit(t)
	good := genBenchCIB(9, 40)
	if !sameAsSequential(t, "generated", good) {
		t.Fatal("the split was not used on a generated CIB")
	}
	crlf := bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n"))
	if !sameAsSequential(t, "CRLF", crlf) {
		t.Fatal("the split was not used with CRLF line ends")
	}
	status := bytes.Index(good, []byte("<status>"))
	firstNS := bytes.Index(good, []byte("<node_state"))
	secondNS := firstNS + 1 + bytes.Index(good[firstNS+1:], []byte("<node_state"))
	endStatus := bytes.Index(good, []byte("</status>"))
	firstLRM := bytes.Index(good, []byte("<lrm_resource "))
	at := func(pos int, insert string) []byte {
		return []byte(string(good[:pos]) + insert + string(good[pos:]))
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"comment before the first node_state", at(firstNS, "<!-- <node_state id=\"c\"> -->\n")},
		{"comment between node_states", at(secondNS, "<!-- x -->")},
		{"node_state inside a comment inside a node_state", at(firstLRM, "<!-- <node_state id=\"x\"> -->")},
		{"node_state inside CDATA", at(firstLRM, "<![CDATA[ <node_state id=\"x\"> ]]>")},
		{"status end inside CDATA", at(firstLRM, "<![CDATA[ </status> ]]>")},
		{"text inside a node_state", at(firstLRM, "some text")},
		{"other element between node_states", at(secondNS, "<foo/>\n")},
		{"text between node_states", at(secondNS, "stray")},
		{"empty node_state", at(secondNS, "<node_state id=\"e\" uname=\"e\"/>\n")},
		{"node_state_x element", at(firstLRM, "<node_state_x/>")},
		{"nested node_state", at(firstLRM, "<node_state id=\"n\"/>")},
		{"unclosed element in a node_state", at(firstLRM, "<open>")},
		{"syntax error in a node_state", at(firstLRM, "<a b=c/>")},
		{"bad op in a node_state", at(firstLRM, "<lrm_resource id=\"q\"><lrm_rsc_op id=\"q\"/></lrm_resource>")},
		{"missing status end", []byte(strings.Replace(string(good), "</status>", "", 1))},
		{"second status", at(endStatus+len("</status>"), "<status><node_state id=\"z\"/><node_state id=\"y\"/></status>")},
		{"status attributes", []byte(strings.Replace(string(good), "<status>", "<status a=\"1\">", 1))},
		{"syntax error after status", at(endStatus+len("</status>"), "<x")},
		{"dangling reference in configuration", []byte(strings.Replace(string(good), "</constraints>", "<rsc_order id=\"bad\" first=\"nope\" then=\"rsc1\"/></constraints>", 1))},
		{"node_state after status", append(append([]byte(nil), good...), "<!-- <node_state x> -->"...)},
		{"deep nesting in a node_state", at(firstLRM, strings.Repeat("<d>", maxXMLDepth-4)+strings.Repeat("</d>", maxXMLDepth-4))},
		{"too deep in a node_state", at(firstLRM, strings.Repeat("<d>", maxXMLDepth-2)+strings.Repeat("</d>", maxXMLDepth-2))},
		{"truncated in the last node_state", good[:endStatus-40]},
		{"status only whitespace", []byte(string(good[:status]) + "<status>\n \n</status></cib>")},
	}
	for _, c := range cases {
		sameAsSequential(t, c.name, c.data)
	}
	// Every cut inside the status section, coarsely.
	for cut := status; cut < len(good); cut += 997 {
		sameAsSequential(t, fmt.Sprintf("cut at %d", cut), good[:cut])
	}
}

// TestSplitParseSmallDocument checks that small documents are not split.
func TestSplitParseSmallDocument(t *testing.T) {
	if _, sp, err := parseElementSplit(genBenchCIB(2, 3), true); err != nil || sp != nil {
		t.Fatalf("small document: split %v, error %v", sp != nil, err)
	}
}

// TestSplitParseIrregularNodeStates runs the split on node_states of
// different shapes, so that a worker's recycled Elements held other kinds
// of elements in the previous chunk (an empty lrm_resource where the last
// chunk had one with operations).
func TestSplitParseIrregularNodeStates(t *testing.T) {
	forceSplit(t)
	runtime.GOMAXPROCS(2)
	doc := string(genBenchCIB(9, 20))
	parts := strings.Split(doc, "<node_state ")
	for i := 2; i < len(parts); i++ {
		start := strings.Index(parts[i], "<lrm_resource ")
		end := strings.Index(parts[i], "</lrm_resource>") + len("</lrm_resource>")
		if i%2 == 0 {
			parts[i] = parts[i][:start] + `<lrm_resource id="rsc1" class="ocf" provider="pacemaker" type="Dummy"/>` + parts[i][end:]
		} else {
			parts[i] = parts[i][:start] + `<lrm_resource id="rsc1" class="ocf" provider="pacemaker" type="Dummy">text</lrm_resource>` + parts[i][end:]
		}
	}
	if !sameAsSequential(t, "irregular", []byte(strings.Join(parts, "<node_state "))) {
		t.Fatal("the split was not used")
	}
}
