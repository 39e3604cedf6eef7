package cib

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// This file pins the XML writer's output byte for byte: the SHA-256 of
// Marshal for every CIB the package's tests know (the rich and generated
// documents, a CIB with every writable field filled in, the fuzz corpus and,
// when ../shared is present, Pacemaker's scheduler suite) is recorded in
// testdata/write_golden.sha256. A change to the writer that alters any
// output fails TestMarshalGolden; an intended change is recorded with
//
//	go test ./cib -run TestMarshalGolden -update-write-golden

var updateWriteGolden = flag.Bool("update-write-golden", false, "rewrite testdata/write_golden.sha256 from the current writer")

const writeGoldenFile = "testdata/write_golden.sha256"

// writeGoldenInputs returns the CIB documents (or CIB values) whose Marshal
// output the golden file records, by name.
func writeGoldenInputs(t *testing.T) map[string]*CIB {
	t.Helper()
	out := map[string]*CIB{}
	add := func(name string, doc []byte) {
		c, err := Parse(doc)
		if err != nil {
			return // only accepted documents have an output
		}
		out[name] = c
	}
	add("richCIB", []byte(richCIB))
	add("minimalCIB", []byte(minimalCIB))
	add("generated-3x30", genBenchCIB(3, 30))
	out["filled"] = filledCIB()
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	for _, f := range seeds {
		doc, err := readFuzzSeed(f)
		if err != nil {
			t.Fatal(err)
		}
		add("fuzz/"+filepath.Base(f), doc)
	}
	suite, _ := filepath.Glob(filepath.Join("..", "..", "shared", "pacemaker-scheduler", "xml", "*.xml"))
	for _, f := range suite {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		add("suite/"+filepath.Base(f), doc)
	}
	return out
}

// readFuzzSeed decodes a one-value "go test fuzz v1" corpus file.
func readFuzzSeed(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fuzz seed: %w", err)
	}
	lines := strings.SplitN(strings.TrimSpace(string(data)), "\n", 2)
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
		return nil, fmt.Errorf("fuzz seed %s: not a single []byte value", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		return nil, fmt.Errorf("fuzz seed %s: %w", path, err)
	}
	return []byte(s), nil
}

func TestMarshalGolden(t *testing.T) {
	inputs := writeGoldenInputs(t)
	names := slices.Sorted(maps.Keys(inputs))
	got := make(map[string]string, len(names))
	for _, n := range names {
		sum := sha256.Sum256(inputs[n].Marshal())
		got[n] = hex.EncodeToString(sum[:])
	}
	if *updateWriteGolden {
		var b bytes.Buffer
		for _, n := range names {
			fmt.Fprintf(&b, "%s %s\n", got[n], n)
		}
		if err := os.WriteFile(writeGoldenFile, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d sums to %s", len(names), writeGoldenFile)
		return
	}
	f, err := os.Open(writeGoldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			t.Fatalf("%s: malformed line %q", writeGoldenFile, sc.Text())
		}
		want[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	checked, unknown := 0, 0
	for _, n := range names {
		w, ok := want[n]
		if !ok {
			unknown++ // a corpus file added since the sums were recorded
			continue
		}
		checked++
		if got[n] != w {
			t.Errorf("%s: Marshal output changed (sha256 %s, recorded %s; record an intended change with -update-write-golden)", n, got[n], w)
		}
	}
	for _, n := range []string{"richCIB", "generated-3x30", "filled"} {
		if _, ok := want[n]; !ok {
			t.Errorf("%s records no sum for %s", writeGoldenFile, n)
		}
	}
	if !strings.Contains(strings.Join(names, " "), "suite/") {
		t.Log("../shared/pacemaker-scheduler absent: the suite's CIBs are not compared")
	}
	t.Logf("%d outputs match the recorded sums (%d inputs have none recorded)", checked, unknown)
}

// filledCIB builds a CIB in which every field the writer reads is set,
// each slice holding one filled and one empty value, so that every
// attribute of every element is written both ways. Strings hold their
// field path.
func filledCIB() *CIB {
	c := &CIB{}
	fillValue(reflect.ValueOf(c).Elem(), "cib", 0)
	raw := &Resource{}
	fillValue(reflect.ValueOf(raw).Elem(), "raw", 0) // Raw wins over the fields
	c.Config.Resources = append(c.Config.Resources, raw)
	return c
}

// maxFillDepth bounds the nesting of filled values (resources in
// resources, rules in rules).
const maxFillDepth = 6

// fillValue fills v (settable) as filledCIB describes; depth bounds the
// recursion through resources and rules.
func fillValue(v reflect.Value, path string, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(path)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(len(path)))
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Attr]() {
			v.Set(reflect.ValueOf(Attr{"x-" + strings.ReplaceAll(path, ".", "-"), path}))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || (f.Name == "Raw" && depth > 0) { // see filledCIB
				continue
			}
			fillValue(v.Field(i), path+"."+f.Name, depth)
		}
	case reflect.Pointer:
		if v.Type() == reflect.TypeFor[*Element]() {
			v.Set(reflect.ValueOf(&Element{Name: "raw", Attrs: []Attr{{"id", path}}, Children: []*Element{{Name: "child"}}}))
			return
		}
		if depth > maxFillDepth {
			return
		}
		p := reflect.New(v.Type().Elem())
		fillValue(p.Elem(), path, depth+1)
		v.Set(p)
	case reflect.Slice:
		fillSlice(v, path, depth)
	}
}

func fillSlice(v reflect.Value, path string, depth int) {
	et := v.Type().Elem()
	var elems []reflect.Value
	switch {
	case et == reflect.TypeFor[Constraint]():
		for _, c := range []Constraint{&Location{}, &Colocation{}, &Order{}, &RawConstraint{}} {
			p := reflect.ValueOf(c)
			fillValue(p.Elem(), fmt.Sprintf("%s.%T", path, c), depth+1)
			elems = append(elems, p)
			if _, raw := c.(*RawConstraint); !raw { // an empty one has no element
				elems = append(elems, reflect.New(p.Elem().Type()))
			}
		}
	case et.Kind() == reflect.Interface: // Rule.Exprs
		if depth > maxFillDepth {
			return
		}
		for _, x := range []any{&Expression{}, &DateExpression{}, &Rule{}, &RscExpression{}, &OpExpression{}} {
			p := reflect.ValueOf(x)
			fillValue(p.Elem(), fmt.Sprintf("%s.%T", path, x), depth+1)
			elems = append(elems, p, reflect.New(p.Elem().Type()))
		}
	case et.Kind() == reflect.Pointer && et != reflect.TypeFor[*Element]():
		if depth > maxFillDepth {
			return
		}
		full := reflect.New(et.Elem())
		fillValue(full.Elem(), path+"[0]", depth+1)
		elems = append(elems, full, reflect.New(et.Elem()))
	default:
		for i := range 2 {
			e := reflect.New(et).Elem()
			fillValue(e, fmt.Sprintf("%s[%d]", path, i), depth+1)
			elems = append(elems, e)
		}
	}
	s := reflect.MakeSlice(v.Type(), 0, len(elems))
	for _, e := range elems {
		if e.Type() != et {
			e = e.Convert(et)
		}
		s = reflect.Append(s, e)
	}
	v.Set(s)
}

// TestFilledCIBCoversTheWriter checks that filledCIB reaches the parts of
// the writer it is meant to: every element kind the writer emits appears.
func TestFilledCIBCoversTheWriter(t *testing.T) {
	out := string(filledCIB().Marshal())
	for _, el := range []string{"<fencing-level ", "<nvpair ", "<expression ", "<date_expression ", "<date_spec ", "<duration ",
		"<rsc_expression ", "<op_expression ", "<rule ", "<op ", "<operations ", "<resource_set ", "<resource_ref ",
		"<rsc_location ", "<rsc_colocation ", "<rsc_order ", "<tag ", "<obj_ref ", "<rsc_defaults ", "<op_defaults ",
		"<node ", "<node_state ", "<transient_attributes ", "<lrm ", "<lrm_resource ", "<lrm_rsc_op ", "<raw "} {
		if !strings.Contains(out, el) {
			t.Errorf("the filled CIB writes no %s element", el)
		}
	}
	// Empty optional attributes are omitted, empty required ones kept.
	if !strings.Contains(out, `<fencing-level id="" index="" devices=""`) {
		t.Errorf("an empty fencing-level is not written with its required attributes only")
	}
}
