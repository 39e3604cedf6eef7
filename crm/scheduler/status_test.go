package scheduler

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/cib"
)

// targetRCBySplit is targetRC as first written (splitting the whole key),
// the reference for TestTargetRC.
func targetRCBySplit(op *cib.LRMOp) int {
	k := op.TransitionKey
	if k == "" {
		if m := op.TransitionMagic; m != "" {
			if i := strings.Index(m, ";"); i >= 0 {
				k = m[i+1:]
			}
		}
	}
	parts := strings.Split(k, ":")
	if len(parts) >= 3 {
		if v, err := strconv.Atoi(parts[2]); err == nil {
			return v
		}
	}
	return -1
}

func TestTargetRC(t *testing.T) {
	keys := []string{"", ":", "::", ":::", "1:2:7:uuid", "1:2:0", "1:2:", "1:2", "1", "a:b:c:d", "1:2:-3:x", "1:2: 7:x",
		"1:2:99999999999999999999:x", "3:1:8:6cacb40a-dbbb-49b0-bac7-1794a61d2910", "x:y:7", "::7::"}
	for _, k := range keys {
		for _, op := range []*cib.LRMOp{
			{TransitionKey: k},
			{TransitionMagic: "0:7;" + k},
			{TransitionMagic: k},
			{TransitionKey: k, TransitionMagic: "0:0;1:1:0:u"},
		} {
			if got, want := targetRC(op), targetRCBySplit(op); got != want {
				t.Errorf("targetRC(key %q, magic %q) = %d, want %d", op.TransitionKey, op.TransitionMagic, got, want)
			}
		}
	}
}

// TestSortedHistory checks sortedHistory against sort.SliceStable with the
// same order on random histories with repeated call ids, negative call ids
// and last-rc-change ties (sortedHistory skips the sort when nothing
// would move), and that it never reorders its argument.
func TestSortedHistory(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 30; n++ {
		for trial := 0; trial < 200; trial++ {
			ops := make([]*cib.LRMOp, n)
			for i := range ops {
				ops[i] = &cib.LRMOp{ID: strconv.Itoa(i), CallID: rng.IntN(6) - 1, LastRCChange: int64(rng.IntN(4) - 1)}
			}
			if trial%3 == 0 {
				// Mostly in order, as histories usually are.
				sort.SliceStable(ops, func(i, j int) bool { return ops[i].CallID < ops[j].CallID })
			}
			orig := append([]*cib.LRMOp(nil), ops...)
			want := append([]*cib.LRMOp(nil), ops...)
			sort.SliceStable(want, func(i, j int) bool { return historyLess(want[i], want[j]) })
			got := sortedHistory(ops)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("n=%d trial %d: sortedHistory differs from sort.SliceStable", n, trial)
			}
			if !slices.Equal(ops, orig) {
				t.Fatalf("n=%d trial %d: sortedHistory changed its argument", n, trial)
			}
			if len(got) > 0 && &got[0] == &ops[0] && cap(got) != len(got) {
				t.Fatalf("n=%d: result has room to append into the history", n)
			}
		}
	}
}

// TestFileHistories checks that histories filed resource by resource end
// up as written node by node: every (resource, node) pair present, the
// later entry for a pair winning, knownOn only where known, and maps that
// already hold entries kept.
func TestFileHistories(t *testing.T) {
	newRsc := func() *Resource {
		return &Resource{opHistory: map[string][]*cib.LRMOp{}, knownOn: map[string]bool{}}
	}
	a, b, c := newRsc(), newRsc(), newRsc()
	c.opHistory["n0"] = nil
	c.knownOn["n0"] = true
	op := func(id string) []*cib.LRMOp { return []*cib.LRMOp{{ID: id}} }
	hist := []historyEntry{
		{r: a, node: "n1", ops: op("a1"), known: true},
		{r: b, node: "n1", ops: op("b1")},
		{r: a, node: "n2", ops: op("a2")},
		{r: c, node: "n1", ops: op("c1"), known: true},
		{r: b, node: "n1", ops: op("b1-later"), known: true},
		{r: a, node: "n3", ops: nil, known: true},
	}
	// The same maps, written directly in order.
	wantA, wantB, wantC := newRsc(), newRsc(), newRsc()
	wantC.opHistory["n0"] = nil
	wantC.knownOn["n0"] = true
	for _, h := range hist {
		w := map[*Resource]*Resource{a: wantA, b: wantB, c: wantC}[h.r]
		w.opHistory[h.node] = h.ops
		if h.known {
			w.knownOn[h.node] = true
		}
	}
	fileHistories(hist)
	for _, p := range []struct {
		name      string
		got, want *Resource
	}{{"a", a, wantA}, {"b", b, wantB}, {"c", c, wantC}} {
		if !reflect.DeepEqual(p.got.opHistory, p.want.opHistory) || !reflect.DeepEqual(p.got.knownOn, p.want.knownOn) {
			t.Errorf("resource %s: opHistory %v knownOn %v, want %v %v", p.name, p.got.opHistory, p.got.knownOn, p.want.opHistory, p.want.knownOn)
		}
	}
	if _, ok := a.opHistory["n3"]; !ok {
		t.Error("an empty history is not recorded")
	}
	fileHistories(nil)
}
