package dc

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/crm/noderpc"
	"github.com/gocrm/gocrm/membership"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fakeRaft struct {
	mu    sync.Mutex
	st    *store.Store
	index uint64
	ids   []string
}

func (f *fakeRaft) Apply(_ context.Context, cmd []byte) (consensus.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.index++
	if r := f.st.Apply(f.index, cmd); r != nil {
		return consensus.Result{}, &consensus.CommandError{Index: f.index, Msg: fmt.Sprint(r)}
	}
	return consensus.Result{Index: f.index}, nil
}
func (f *fakeRaft) Barrier(context.Context) error { return nil }
func (f *fakeRaft) Servers() ([]consensus.Server, error) {
	var out []consensus.Server
	for _, id := range f.ids {
		out = append(out, consensus.Server{ID: id, Address: id + ":1", Voter: true})
	}
	return out, nil
}
func (f *fakeRaft) AddServer(context.Context, string, string) error { return nil }

type fakeMembers []membership.Member

func (f fakeMembers) Members() []membership.Member { return f }

// fakeNodes plays the nodes: it records every request and writes the
// expected result into the CIB like a node's recorder would.
type fakeNodes struct {
	mu    sync.Mutex
	raft  *fakeRaft
	reqs  []noderpc.ActionRequest
	addrs map[string]string // rpc addr -> node
	call  int
	stale uint64 // refuse terms below this
}

func (f *fakeNodes) Call(ctx context.Context, addr string, req noderpc.ActionRequest) (noderpc.ActionResult, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.call++
	call := f.call
	node := f.addrs[addr]
	f.mu.Unlock()
	if req.Term < f.stale {
		return noderpc.ActionResult{}, noderpc.ErrStaleTerm
	}
	id := req.Rsc + "_last_0"
	if req.IntervalMS > 0 {
		id = req.Rsc + "_" + req.Task + "_" + strconv.FormatInt(req.IntervalMS, 10)
	}
	rc := req.TargetRC
	_, err := f.raft.Apply(ctx, store.Command{Op: store.OpRecordOp, Node: node, Resource: req.Rsc, Class: req.Class, Provider: req.Provider, Type: req.Type,
		Attrs: map[string]string{"id": id, "operation_key": req.Rsc + "_" + req.Task + "_" + strconv.FormatInt(req.IntervalMS, 10), "operation": req.Task,
			"transition-key": req.TransitionKey, "transition-magic": "0:" + strconv.Itoa(rc) + ";" + req.TransitionKey,
			"call-id": strconv.Itoa(call), "rc-code": strconv.Itoa(rc), "op-status": "0", "interval": strconv.FormatInt(req.IntervalMS, 10),
			"op-digest": req.OpDigest, "on_node": node}}.Encode())
	if err != nil {
		return noderpc.ActionResult{}, err
	}
	return noderpc.ActionResult{CallID: int64(call), RC: rc}, nil
}

const baseCIB = `<cib epoch="1" num_updates="0" admin_epoch="0">
<configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="a" uname="a"/><node id="b" uname="b"/></nodes>
<resources><primitive id="d1" class="ocf" provider="gocrm" type="Dummy"><operations>
<op id="d1-mon" name="monitor" interval="10s" timeout="30s"/></operations></primitive></resources>
<constraints/></configuration>
<status>
<node_state id="a" uname="a" in_ccm="true" crmd="online" join="member" expected="member"/>
<node_state id="b" uname="b" in_ccm="true" crmd="online" join="member" expected="member"/>
</status></cib>`

func setup(t *testing.T) (*store.Store, *fakeRaft, *fakeNodes, fakeMembers) {
	c, err := cib.Parse([]byte(baseCIB))
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(c)
	r := &fakeRaft{st: st, ids: []string{"a", "b"}}
	nodes := &fakeNodes{raft: r, addrs: map[string]string{"127.0.0.1:7002": "a", "127.0.0.1:7102": "b"}}
	members := fakeMembers{
		{Name: "a", Addr: netip.MustParseAddrPort("127.0.0.1:7000"), Meta: membership.Meta{Name: "a", RaftAddr: "a:1", Role: membership.RoleVoter}},
		{Name: "b", Addr: netip.MustParseAddrPort("127.0.0.1:7100"), Meta: membership.Meta{Name: "b", RaftAddr: "b:1", Role: membership.RoleVoter}},
	}
	return st, r, nodes, members
}

func started(c *cib.CIB) string {
	for _, ns := range c.Status.Nodes {
		for _, lr := range ns.Resources {
			for _, op := range lr.Ops {
				if lr.ID == "d1" && op.ID == "d1_last_0" && op.Operation == "start" && op.RCCode == 0 {
					return ns.Uname
				}
			}
		}
	}
	return ""
}

func TestDCStartsResource(t *testing.T) {
	st, r, nodes, members := setup(t)
	d, err := New(Config{Node: "a", Term: 7, Store: st, Raft: r, Members: members, Sender: nodes})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !d.Idle() || started(st.Current()) == "" {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("d1 not started; requests %+v", nodes.reqs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cur := st.Current()
	if cur.GetAttr("dc-uuid") != "a" || cur.GetAttr("have-quorum") != "1" {
		t.Fatalf("dc-uuid %q have-quorum %q", cur.GetAttr("dc-uuid"), cur.GetAttr("have-quorum"))
	}
	probes, starts, monitors := 0, 0, 0
	for _, q := range nodes.reqs {
		if q.Term != 7 {
			t.Errorf("request with term %d", q.Term)
		}
		parts := strings.Split(q.TransitionKey, ":")
		if len(parts) != 4 || parts[3] != d.uuid || parts[2] != strconv.Itoa(q.TargetRC) {
			t.Errorf("transition key %q (target %d)", q.TransitionKey, q.TargetRC)
		}
		switch {
		case q.Task == "monitor" && q.IntervalMS == 0:
			probes++
			if q.TargetRC != 7 {
				t.Errorf("probe target rc %d", q.TargetRC)
			}
		case q.Task == "start":
			starts++
			if q.OpDigest == "" || q.Meta["timeout"] != "20000" {
				t.Errorf("start request %+v", q)
			}
		case q.Task == "monitor":
			monitors++
			if q.IntervalMS != 10000 || q.Meta["timeout"] != "30000" || q.Meta["interval"] != "10000" {
				t.Errorf("monitor request %+v", q)
			}
		}
	}
	if probes != 2 || starts != 1 || monitors != 1 {
		t.Fatalf("probes %d starts %d monitors %d: %+v", probes, starts, monitors, nodes.reqs)
	}
	// One transition does it all: the transition's own results must not
	// abort it (they change the status section it plans from).
	if n := d.TransitionCount(); n != 1 {
		t.Fatalf("%d transitions, want 1", n)
	}
}

// TestDCReissuesPendingStartWithItsKey: a DC elected while a start runs
// (the CIB shows it pending) issues it again, as Pacemaker's scheduler
// does, naming the pending record's transition key so that the node can
// answer with that execution's result instead of starting twice.
func TestDCReissuesPendingStartWithItsKey(t *testing.T) {
	const oldKey = "3:1:0:0f0f0f0f-old-dc"
	x := strings.Replace(baseCIB, `<node_state id="b" uname="b" in_ccm="true" crmd="online" join="member" expected="member"/>`,
		`<node_state id="b" uname="b" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="b"><lrm_resources>
<lrm_resource id="d1" class="ocf" provider="gocrm" type="Dummy">
<lrm_rsc_op id="d1_last_0" operation_key="d1_start_0" operation="start" crm-debug-origin="do_update_resource" crm_feature_set="3.16.1"
 transition-key="`+oldKey+`" transition-magic="-1:193;`+oldKey+`" call-id="-1" rc-code="193" op-status="-1" interval="0" on_node="b"/>
</lrm_resource></lrm_resources></lrm></node_state>`, 1)
	c, err := cib.Parse([]byte(x))
	if err != nil {
		t.Fatal(err)
	}
	_, r, nodes, members := setup(t)
	st := store.New(c)
	r.st, nodes.raft = st, r
	d, err := New(Config{Node: "a", Term: 7, Store: st, Raft: r, Members: members, Sender: nodes})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var start *noderpc.ActionRequest
	deadline := time.Now().Add(10 * time.Second)
	for start == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		nodes.mu.Lock()
		for i := range nodes.reqs {
			if nodes.reqs[i].Task == "start" {
				q := nodes.reqs[i]
				start = &q
			}
		}
		nodes.mu.Unlock()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if start == nil {
		t.Fatalf("pending start not re-issued; requests %+v", nodes.reqs)
	}
	if start.Rsc != "d1" || start.PendingKey != oldKey {
		t.Fatalf("re-issued start %s pending key %q, want d1 with %q", start.Rsc, start.PendingKey, oldKey)
	}
	for _, q := range nodes.reqs {
		if q.Task != "start" && q.PendingKey != "" {
			t.Errorf("%s %s carries pending key %q", q.Task, q.Rsc, q.PendingKey)
		}
	}
}

func TestDCDeposedTermFailsActions(t *testing.T) {
	st, r, nodes, members := setup(t)
	nodes.stale = 8 // nodes have seen a newer DC
	d, err := New(Config{Node: "a", Term: 7, Store: st, Raft: r, Members: members, Sender: nodes})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if w := started(st.Current()); w != "" {
		t.Fatalf("deposed DC started d1 on %s", w)
	}
	if len(nodes.reqs) == 0 {
		t.Fatal("no request sent")
	}
}

func TestMemberDownMarksOffline(t *testing.T) {
	st, r, nodes, members := setup(t)
	failed := make(chan membership.Event, 1)
	d, err := New(Config{Node: "a", Term: 7, Store: st, Raft: r, Members: members[:1], Sender: nodes, Failed: failed, MissingGrace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	failed <- membership.Event{Kind: membership.EventFailed, Member: members[1]}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ns := nodeState(st.Current(), "b")
		if ns != nil && ns.InCCM == "false" && ns.Crmd == "offline" && ns.Expected == "member" {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("b not marked offline: %+v", ns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestHelpers(t *testing.T) {
	for in, want := range map[string]time.Duration{"15min": 15 * time.Minute, "30s": 30 * time.Second, "2m": 2 * time.Minute,
		"500ms": 500 * time.Millisecond, "10": 10 * time.Second, "1h": time.Hour, "x": time.Minute, "": time.Minute} {
		if got := parseInterval(in, time.Minute); got != want {
			t.Errorf("parseInterval(%q) = %v, want %v", in, got, want)
		}
	}
	for name, want := range map[string]bool{"fail-count-d1#monitor_1000": true, "last-failure-d1#start_0": true,
		"fail-count-d10#start_0": false, "fail-count-d1": true, "standby": false} {
		if got := isFailAttrOf(name, "d1"); got != want {
			t.Errorf("isFailAttrOf(%q) = %v", name, got)
		}
	}
	if k := TransitionKey(3, 9, 7, "u"); k != "3:9:7:u" {
		t.Errorf("key %q", k)
	}
}

func TestStaleFailureEventIgnored(t *testing.T) {
	st, r, nodes, members := setup(t)
	failed := make(chan membership.Event, 1)
	// b failed once but is a live member again when the DC reads the event.
	failed <- membership.Event{Kind: membership.EventFailed, Member: members[1]}
	d, err := New(Config{Node: "a", Term: 7, Store: st, Raft: r, Members: members, Sender: nodes, Failed: failed})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(failed) > 0 || !d.Idle() {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if ns := nodeState(st.Current(), "b"); ns == nil || ns.InCCM != "true" {
		t.Fatalf("live member b marked offline: %+v", ns)
	}
}
