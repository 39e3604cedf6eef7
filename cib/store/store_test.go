package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/cib"
)

func apply(t *testing.T, s *Store, c Command) {
	t.Helper()
	if res := s.Apply(1, c.Encode()); res != nil {
		t.Fatalf("apply %s: %v", c.Op, res)
	}
}

const cfg = `<configuration><crm_config/><nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><primitive id="d1" class="ocf" provider="gocrm" type="Dummy"/></resources><constraints/></configuration>`

func TestReplaceConfigurationBumpsEpochAndChecksIt(t *testing.T) {
	s := New(nil)
	before := s.Current()
	apply(t, s, Command{Op: OpReplaceConfiguration, XML: cfg, ExpectEpoch: "0.0"})
	c := s.Current()
	if c.GetAttr("epoch") != "1" || c.GetAttr("num_updates") != "0" {
		t.Fatalf("epoch %s num_updates %s", c.GetAttr("epoch"), c.GetAttr("num_updates"))
	}
	if len(c.Config.Resources) != 1 || len(before.Config.Resources) != 0 {
		t.Fatalf("resources: now %d, before %d (the old value must not change)", len(c.Config.Resources), len(before.Config.Resources))
	}
	res := s.Apply(2, Command{Op: OpReplaceConfiguration, XML: cfg, ExpectEpoch: "0.0"}.Encode())
	err, _ := res.(error)
	if !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("stale epoch accepted: %v", res)
	}
	if s.Current() != c {
		t.Fatal("rejected command changed the CIB")
	}
}

func TestBadConfigurationIsRejectedWithElementID(t *testing.T) {
	s := New(nil)
	res := s.Apply(1, Command{Op: OpReplaceConfiguration, XML: `<configuration><crm_config/><nodes/><resources/><constraints><rsc_order id="o1" first="a" then="b"/></constraints></configuration>`}.Encode())
	err, _ := res.(error)
	if err == nil || !strings.Contains(err.Error(), `"o1"`) || !errors.Is(err, cib.ErrDanglingRef) {
		t.Fatalf("got %v", err)
	}
	if s.Current().GetAttr("epoch") != "0" {
		t.Fatal("nothing may be committed")
	}
}

func TestStatusCommands(t *testing.T) {
	s := New(nil)
	apply(t, s, Command{Op: OpReplaceConfiguration, XML: cfg})
	apply(t, s, Command{Op: OpNodeState, Node: "n1", Attrs: map[string]string{"in_ccm": "true", "crmd": "online", "join": "member", "expected": "member"}})
	apply(t, s, Command{Op: OpRecordOp, Node: "n1", Resource: "d1", Class: "ocf", Provider: "gocrm", Type: "Dummy",
		Attrs: map[string]string{"id": "d1_last_0", "operation_key": "d1_start_0", "operation": "start", "call-id": "3", "rc-code": "0", "op-status": "0", "interval": "0", "transition-key": "1:1:0:x"}})
	apply(t, s, Command{Op: OpSetNodeAttr, Node: "n1", Name: "fail-count-d1#monitor_10000", Value: "2", Transient: true})
	c := s.Current()
	if c.GetAttr("num_updates") != "3" {
		t.Fatalf("num_updates %s", c.GetAttr("num_updates"))
	}
	ns := c.Status.Nodes[0]
	if ns.Uname != "n1" || ns.ID != "1" || ns.Crmd != "online" || len(ns.Resources) != 1 || ns.Resources[0].Ops[0].CallID != 3 {
		t.Fatalf("node state %+v", ns)
	}
	// Round trip through XML keeps everything.
	back, err := cib.Parse(c.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if back.Status.Nodes[0].Transient[0].Pairs[0].Value != "2" {
		t.Fatal("transient attribute lost")
	}
	// Replacing an op with the same id keeps one entry.
	apply(t, s, Command{Op: OpRecordOp, Node: "n1", Resource: "d1", Attrs: map[string]string{"id": "d1_last_0", "operation": "stop", "call-id": "4", "rc-code": "0"}})
	if ops := s.Current().Status.Nodes[0].Resources[0].Ops; len(ops) != 1 || ops[0].Operation != "stop" {
		t.Fatalf("ops %+v", ops)
	}
	// Cleanup removes history and fail counts.
	apply(t, s, Command{Op: OpDeleteHistory, Node: "n1", Resource: "d1"})
	ns = s.Current().Status.Nodes[0]
	if len(ns.Resources) != 0 || len(ns.Transient[0].Pairs) != 0 {
		t.Fatalf("cleanup left %+v %+v", ns.Resources, ns.Transient[0].Pairs)
	}
	// The earlier value is untouched (immutability).
	if len(c.Status.Nodes[0].Resources) != 1 {
		t.Fatal("old CIB value was modified")
	}
}

func TestConfigNodeAttribute(t *testing.T) {
	s := New(nil)
	apply(t, s, Command{Op: OpReplaceConfiguration, XML: cfg})
	apply(t, s, Command{Op: OpSetNodeAttr, Node: "n2", Name: "standby", Value: "on"})
	n := s.Current().Config.Nodes[1]
	if len(n.Instance) != 1 || n.Instance[0].Pairs[0].Value != "on" {
		t.Fatalf("node %+v", n)
	}
	if s.Current().GetAttr("epoch") != "2" {
		t.Fatal("config change must bump epoch")
	}
	res := s.Apply(3, Command{Op: OpSetNodeAttr, Node: "nope", Name: "standby", Value: "on"}.Encode())
	if err, _ := res.(error); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("got %v", res)
	}
}

func TestSnapshotRestoreAndBadInput(t *testing.T) {
	s := New(nil)
	apply(t, s, Command{Op: OpReplaceConfiguration, XML: cfg})
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	r := New(nil)
	ch := r.Subscribe()
	if err := r.Restore(snap); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	default:
		t.Fatal("no notification")
	}
	if string(r.Current().Marshal()) != string(s.Current().Marshal()) {
		t.Fatal("restore differs")
	}
	for _, bad := range []string{`{`, `{"v":99,"op":"node-state"}`, `{"v":1,"op":"nope","node":"n1"}`, `{"v":1,"op":"node-state"}`} {
		if res := s.Apply(9, []byte(bad)); res == nil {
			t.Errorf("%s accepted", bad)
		} else if err, _ := res.(error); !errors.Is(err, ErrBadCommand) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if err := r.Restore([]byte("<cib")); err == nil {
		t.Fatal("bad snapshot accepted")
	}
}

func FuzzApply(f *testing.F) {
	f.Add([]byte(Command{Op: OpReplaceConfiguration, XML: cfg}.Encode()))
	f.Add([]byte(Command{Op: OpNodeState, Node: "n1", Attrs: map[string]string{"in_ccm": "true"}}.Encode()))
	f.Add([]byte(Command{Op: OpRecordOp, Node: "n1", Resource: "d1", Attrs: map[string]string{"id": "x", "operation": "start"}}.Encode()))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(nil)
		s.Apply(1, data)
		if _, err := cib.Parse(s.Current().Marshal()); err != nil {
			t.Fatalf("store produced an unparsable CIB: %v", err)
		}
	})
}

// TestClearNodeStatusOfNeverSeenNode: fencing a configured node that never
// joined records it as cleanly down, so the scheduler no longer treats it
// as unseen (and fences it again on every transition).
func TestClearNodeStatusOfNeverSeenNode(t *testing.T) {
	s := New(nil)
	apply(t, s, Command{Op: OpReplaceConfiguration, XML: cfg})
	apply(t, s, Command{Op: OpClearNodeStatus, Node: "n2"})
	c := s.Current()
	if len(c.Status.Nodes) != 1 {
		t.Fatalf("node states %+v", c.Status.Nodes)
	}
	ns := c.Status.Nodes[0]
	if ns.ID != "2" || ns.Uname != "n2" || ns.InCCM != "false" || ns.Crmd != "offline" || ns.Join != "down" || ns.Expected != "down" {
		t.Fatalf("node state %+v", ns)
	}
	if _, err := cib.Parse(c.Marshal()); err != nil {
		t.Fatal(err)
	}
}
