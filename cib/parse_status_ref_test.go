package cib

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// This file keeps the first node_state conversion (Get per field, a copy
// of every attribute list, one allocation per value) as the reference for
// the one-pass, slab-allocating conversion in parse_status.go.

func parseNodeStateRef(el *Element) (*NodeState, error) {
	n := &NodeState{ID: el.Get("id"), Uname: el.Get("uname"), InCCM: el.Get("in_ccm"), Crmd: el.Get("crmd"), Join: el.Get("join"),
		Expected: el.Get("expected"), Attrs: append([]Attr(nil), el.Attrs...), Line: el.Line}
	if n.ID == "" {
		n.ID = n.Uname
	}
	if n.ID == "" {
		return nil, perr(el, "missing id and uname")
	}
	for _, ch := range el.Children {
		switch ch.Name {
		case "transient_attributes":
			n.HasTransient = true
			n.TransientID = ch.Get("id")
			for _, s := range ch.Children {
				if s.Name != "instance_attributes" {
					continue
				}
				set, err := parseNVSet(s)
				if err != nil {
					return nil, err
				}
				n.Transient = append(n.Transient, set)
			}
		case "lrm":
			n.HasLRM = true
			n.LRMID = ch.Get("id")
			lr := ch.Child("lrm_resources")
			if lr == nil {
				continue
			}
			for _, r := range lr.Children {
				if r.Name != "lrm_resource" {
					continue
				}
				res := &LRMResource{ID: r.Get("id"), Class: r.Get("class"), Provider: r.Get("provider"), Type: r.Get("type"), Container: r.Get("container"),
					Attrs: append([]Attr(nil), r.Attrs...)}
				if res.ID == "" {
					return nil, perr(r, "missing id")
				}
				for _, o := range r.Children {
					if o.Name != "lrm_rsc_op" {
						continue
					}
					op, err := parseLRMOpRef(o)
					if err != nil {
						return nil, err
					}
					res.Ops = append(res.Ops, op)
				}
				n.Resources = append(n.Resources, res)
			}
		}
	}
	return n, nil
}

func atoiDefaultRef(s string, def int) int {
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return v
}

func parseLRMOpRef(el *Element) (*LRMOp, error) {
	op := &LRMOp{Attrs: append([]Attr(nil), el.Attrs...)}
	op.ID = el.Get("id")
	op.Operation = el.Get("operation")
	op.OperationKey = el.Get("operation_key")
	if op.ID == "" {
		return nil, perr(el, "missing id")
	}
	if op.Operation == "" {
		return nil, perr(el, "missing operation")
	}
	if iv := el.Get("interval"); iv != "" {
		// Status intervals are recorded in milliseconds.
		ms, err := strconv.ParseInt(strings.TrimSpace(iv), 10, 64)
		if err != nil {
			ms, err = ParseIntervalMS(iv)
			if err != nil {
				return nil, perr(el, "interval: %v", err)
			}
		}
		op.Interval = ms
	}
	op.OpStatus = atoiDefaultRef(el.Get("op-status"), 0)
	op.RCCode = atoiDefaultRef(el.Get("rc-code"), 0)
	op.CallID = atoiDefaultRef(el.Get("call-id"), 0)
	op.OpDigest = el.Get("op-digest")
	op.TransitionKey = el.Get("transition-key")
	op.TransitionMagic = el.Get("transition-magic")
	op.LastRCChange, _ = strconv.ParseInt(el.Get("last-rc-change"), 10, 64)
	op.LastRun, _ = strconv.ParseInt(el.Get("last-run"), 10, 64)
	op.ExitReason = el.Get("exit-reason")
	op.OnNode = el.Get("on_node")
	return op, nil
}

// checkStatusConversion converts every node_state of doc both ways and
// compares the results (or the errors).
func checkStatusConversion(t *testing.T, name string, doc []byte) {
	t.Helper()
	root, err := parseElementSeq(doc)
	if err != nil {
		return
	}
	st := root.Child("status")
	if st == nil {
		return
	}
	for _, el := range st.Children {
		if el.Name != "node_state" {
			continue
		}
		want, wantErr := parseNodeStateRef(el)
		for _, share := range []bool{false, true} {
			got, err := parseNodeState(el, share)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("%s: node_state line %d (share %v): error %v, want %v", name, el.Line, share, err, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: node_state line %d (share %v): conversion differs from the reference", name, el.Line, share)
			}
		}
	}
}

func TestNodeStateConversionMatchesReference(t *testing.T) {
	checkStatusConversion(t, "richCIB", []byte(richCIB))
	checkStatusConversion(t, "generated", genBenchCIB(3, 30))
	odd := `<cib><configuration/><status>
<node_state uname="u" id="" in_ccm="1" crmd="online" join="member" expected="member" expected="down"><lrm id="x"><lrm_resources>
<lrm_resource id="r" class="ocf" class="lsb" type="T" container="c"><lrm_rsc_op id="o" operation="start" interval=" 10 " op-status="x" rc-code="" call-id="-1" last-rc-change="99999999999999999999" last-run="abc"/>
<lrm_rsc_op id="p" operation="monitor" interval="10s"/><other/></lrm_resource><junk/></lrm_resources></lrm>
<transient_attributes id="t"><instance_attributes id="ia"><nvpair id="n" name="a" value="1"/></instance_attributes></transient_attributes></node_state>
<node_state id="2"><lrm><lrm_resources><lrm_resource id=""/></lrm_resources></lrm></node_state>
<node_state id="3"><lrm><lrm_resources><lrm_resource id="r"><lrm_rsc_op id="o"/></lrm_resource></lrm_resources></lrm></node_state>
<node_state id="4"><lrm><lrm_resources><lrm_resource id="r"><lrm_rsc_op id="o" operation="start" interval="bad"/></lrm_resource></lrm_resources></lrm></node_state>
<node_state/>
</status></cib>`
	// Duplicate attributes cannot be parsed; build them in memory.
	root, err := parseElementSeq([]byte(strings.NewReplacer(` expected="down"`, "", ` class="lsb"`, "").Replace(odd)))
	if err != nil {
		t.Fatal(err)
	}
	ns := root.Child("status").Children[0]
	ns.Attrs = append(ns.Attrs, Attr{"expected", "down"}, Attr{"id", "late"})
	lr := ns.Children[0].Children[0].Children[0]
	lr.Attrs = append(lr.Attrs, Attr{"class", "lsb"})
	op := lr.Children[0]
	op.Attrs = append(op.Attrs, Attr{"operation", "stop"}, Attr{"rc-code", "3"})
	for _, el := range root.Child("status").Children {
		want, wantErr := parseNodeStateRef(el)
		got, err := parseNodeState(el, false)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("node_state line %d: got %+v, %v; want %+v, %v", el.Line, got, err, want, wantErr)
		}
	}
	files, _ := filepath.Glob("../../shared/pacemaker-scheduler/xml/*.xml")
	if len(files) == 0 {
		t.Log("../shared/pacemaker-scheduler absent: the suite's CIBs are not compared")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkStatusConversion(t, filepath.Base(f), data)
	}
}

// TestParseSharesNoAttrsWithCaller checks that FromElement copies the
// attribute lists of a caller's tree (Parse, owning its tree, shares them).
func TestParseSharesNoAttrsWithCaller(t *testing.T) {
	root, err := parseElementSeq(genBenchCIB(2, 3))
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromElement(root)
	if err != nil {
		t.Fatal(err)
	}
	op := c.Status.Nodes[0].Resources[0].Ops[0]
	el := root.Child("status").Children[0].Child("lrm").Child("lrm_resources").Children[0].Children[0]
	el.Attrs[0].Value = "changed"
	if op.Attrs[0].Value == "changed" {
		t.Fatal("FromElement result shares an attribute list with the caller's tree")
	}
	ops := c.Status.Nodes[0].Resources[0].Ops
	if cap(ops) != len(ops) {
		t.Fatal("an operation list has room to append into a neighbour's")
	}
}
