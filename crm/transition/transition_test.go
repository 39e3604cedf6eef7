package transition

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/scheduler"
)

var t0 = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

func mustNew(t *testing.T, g Graph) *Engine {
	t.Helper()
	e, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOrderingAndPseudo(t *testing.T) {
	// 1 -> 2(pseudo) -> 3 ; 4 independent
	e := mustNew(t, Graph{ID: 7, Actions: []Action{
		{ID: 1}, {ID: 2, Inputs: []int{1}, Pseudo: true}, {ID: 3, Inputs: []int{2}}, {ID: 4},
	}})
	if got := e.Dispatch(t0); !reflect.DeepEqual(got, []int{1, 4}) {
		t.Fatalf("first dispatch = %v", got)
	}
	if got := e.Dispatch(t0); got != nil {
		t.Fatalf("re-dispatch = %v, want none", got)
	}
	if e.Done() {
		t.Fatal("done with actions in flight")
	}
	if err := e.Confirm(1, true); err != nil {
		t.Fatal(err)
	}
	if got := e.Dispatch(t0); !reflect.DeepEqual(got, []int{3}) {
		t.Fatalf("after 1: %v", got)
	}
	if s, _ := e.State(2); s != Confirmed {
		t.Fatalf("pseudo state %v", s)
	}
	_ = e.Confirm(3, true)
	_ = e.Confirm(4, true)
	e.Dispatch(t0)
	if !e.Done() || !e.Summary().Complete() {
		t.Fatalf("not complete: %+v", e.Summary())
	}
}

func TestBatchLimit(t *testing.T) {
	e := mustNew(t, Graph{BatchLimit: 2, Actions: []Action{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 4, Pseudo: true}}})
	got := e.Dispatch(t0)
	if !reflect.DeepEqual(got, []int{1, 2}) {
		t.Fatalf("dispatch = %v", got)
	}
	if s, _ := e.State(4); s != Confirmed {
		t.Fatal("pseudo action held back by the batch limit")
	}
	if e.Done() {
		t.Fatal("done")
	}
	_ = e.Confirm(2, true)
	if got := e.Dispatch(t0); !reflect.DeepEqual(got, []int{3}) {
		t.Fatalf("dispatch = %v", got)
	}
}

func TestFailureAborts(t *testing.T) {
	e := mustNew(t, Graph{Actions: []Action{{ID: 1}, {ID: 2}, {ID: 3, Inputs: []int{1}}, {ID: 5, Inputs: []int{2}}}})
	e.Dispatch(t0)
	if err := e.Confirm(1, false); err != nil {
		t.Fatal(err)
	}
	if ab, _ := e.Aborted(); !ab {
		t.Fatal("failure did not abort")
	}
	if e.Done() {
		t.Fatal("done while 2 in flight")
	}
	// Completing 2 must not dispatch 5: aborted transitions start nothing.
	_ = e.Confirm(2, true)
	if got := e.Dispatch(t0); got != nil {
		t.Fatalf("dispatched %v after abort", got)
	}
	if !e.Done() {
		t.Fatal("not done")
	}
	s := e.Summary()
	if s.Failed != 1 || s.Confirmed != 1 || s.Pending != 2 || s.Complete() {
		t.Fatalf("summary %+v", s)
	}
}

func TestTimeouts(t *testing.T) {
	e := mustNew(t, Graph{DefaultTimeout: 10 * time.Second, Actions: []Action{{ID: 1, Timeout: 5 * time.Second}, {ID: 2}}})
	e.Dispatch(t0)
	d, ok := e.NextDeadline()
	if !ok || !d.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("deadline %v %v", d, ok)
	}
	if got := e.Expire(t0.Add(4 * time.Second)); got != nil {
		t.Fatalf("expired early: %v", got)
	}
	if got := e.Expire(t0.Add(5 * time.Second)); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("expired %v", got)
	}
	if ab, _ := e.Aborted(); !ab {
		t.Fatal("timeout did not abort")
	}
	if err := e.Confirm(1, true); !errors.Is(err, ErrNotInFlight) {
		t.Fatalf("late confirm: %v", err)
	}
	_ = e.Confirm(2, true)
	if !e.Done() {
		t.Fatal("not done")
	}
}

func TestExternalAbort(t *testing.T) {
	e := mustNew(t, Graph{Actions: []Action{{ID: 1}, {ID: 2, Inputs: []int{1}}}})
	e.Dispatch(t0)
	e.Abort("cib changed")
	e.Abort("second")
	if _, r := e.Aborted(); r != "cib changed" {
		t.Fatalf("reason %q", r)
	}
	_ = e.Confirm(1, true)
	if got := e.Dispatch(t0); got != nil || !e.Done() {
		t.Fatalf("dispatch %v done %v", got, e.Done())
	}
}

func TestLoopNeverRuns(t *testing.T) {
	e := mustNew(t, Graph{Actions: []Action{{ID: 1, Inputs: []int{2}}, {ID: 2, Inputs: []int{1}}, {ID: 3}}})
	if got := e.Dispatch(t0); !reflect.DeepEqual(got, []int{3}) {
		t.Fatalf("dispatch %v", got)
	}
	_ = e.Confirm(3, true)
	if !e.Done() {
		t.Fatal("loop blocks completion")
	}
}

func TestInvalidGraphs(t *testing.T) {
	if _, err := New(Graph{Actions: []Action{{ID: 1}, {ID: 1}}}); !errors.Is(err, ErrGraph) {
		t.Fatalf("dup: %v", err)
	}
	if _, err := New(Graph{Actions: []Action{{ID: 1, Inputs: []int{9}}}}); !errors.Is(err, ErrGraph) {
		t.Fatalf("unknown input: %v", err)
	}
	e := mustNew(t, Graph{Actions: []Action{{ID: 1}}})
	if err := e.Confirm(9, true); !errors.Is(err, ErrUnknownAction) {
		t.Fatalf("unknown confirm: %v", err)
	}
	if err := e.Confirm(1, true); !errors.Is(err, ErrNotInFlight) {
		t.Fatalf("confirm before dispatch: %v", err)
	}
}

const orderedCIB = `<cib epoch="1" num_updates="0" admin_epoch="0" have-quorum="1">
<configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="n1" uname="n1"/><node id="n2" uname="n2"/></nodes>
<resources>
<primitive id="a" class="ocf" provider="gocrm" type="Dummy"/>
<primitive id="b" class="ocf" provider="gocrm" type="Dummy"/>
</resources>
<constraints><rsc_order id="o-ab" first="a" then="b"/></constraints>
</configuration>
<status>
<node_state id="n1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/>
<node_state id="n2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
</status></cib>`

// TestFromSchedule executes a real scheduler graph: probes, then a's
// start before b's start.
func TestFromSchedule(t *testing.T) {
	c, err := cib.Parse([]byte(orderedCIB))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := scheduler.Schedule(c, t0)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int]*scheduler.Action{}
	for _, a := range tr.GraphActions() {
		byID[a.ID] = a
	}
	g := FromSchedule(tr, 1, 0, func(*scheduler.Action) time.Duration { return time.Minute })
	e := mustNew(t, g)
	var started []string
	confirmedStartA := false
	for step := 0; step < 20 && !e.Done(); step++ {
		for _, id := range e.Dispatch(t0) {
			a := byID[id]
			if a.Task == "start" {
				started = append(started, a.Rsc.ID)
				if a.Rsc.ID == "b" && !confirmedStartA {
					t.Fatalf("b dispatched before a's start was confirmed: %v", started)
				}
			}
		}
		for _, id := range e.InFlight() {
			if a := byID[id]; a.Task == "start" && a.Rsc.ID == "a" {
				confirmedStartA = true
			}
			if err := e.Confirm(id, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !e.Summary().Complete() {
		t.Fatalf("incomplete: %+v", e.Summary())
	}
	if len(started) != 2 {
		t.Fatalf("starts %v", started)
	}
}
