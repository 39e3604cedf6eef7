package fsm

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRecordStableSerialisation(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	r := Record{ID: "n2-1", Target: "n1", Action: ActionReboot, Origin: "n2", Client: "crmd", Delegate: "n3",
		Devices: []string{"pdu"}, State: StateDone, Attempts: 1,
		Created: time.Date(2026, 11, 24, 2, 0, 0, 5, loc), Completed: time.Date(2026, 11, 24, 2, 0, 7, 0, loc)}
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	const golden = `{"id":"n2-1","target":"n1","action":"reboot","origin":"n2","client":"crmd","delegate":"n3","devices":["pdu"],"state":"done","attempts":1,"created":"2026-11-24T01:00:00.000000005Z","completed":"2026-11-24T01:00:07Z"}`
	if string(b) != golden {
		t.Errorf("serialisation changed:\n got %s\nwant %s", b, golden)
	}
	back, err := UnmarshalRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Created.Equal(r.Created) || !back.Completed.Equal(r.Completed) || back.Target != r.Target || !reflect.DeepEqual(back.Devices, r.Devices) {
		t.Errorf("round trip: %+v", back)
	}
	b2, _ := back.Marshal()
	if string(b2) != golden {
		t.Errorf("second round differs: %s", b2)
	}
	pending := Record{ID: "p", Target: "n1", Action: ActionOff, Origin: "n2", State: StatePending, Created: time.Unix(0, 0)}
	pb, _ := pending.Marshal()
	if strings.Contains(string(pb), "completed") || strings.Contains(string(pb), "error") {
		t.Errorf("empty optional fields serialised: %s", pb)
	}
	if got := r.String(); got != "reboot of n1 by n3 for crmd@n2: done" {
		t.Errorf("String: %q", got)
	}
}

func TestUnmarshalRecordRejects(t *testing.T) {
	for _, in := range []string{
		`{"id":"a","target":"n1","action":"reboot","origin":"o","state":"weird","created":"2026-01-01T00:00:00Z"}`,
		`{"id":"a","target":"n1","action":"status","origin":"o","state":"done","created":"2026-01-01T00:00:00Z"}`,
		`{"id":"","target":"n1","action":"off","origin":"o","state":"done","created":"2026-01-01T00:00:00Z"}`,
		`{"id":"a","target":"n1","action":"off","origin":"o","state":"done","created":"2026-01-01T00:00:00Z","extra":1}`,
		`not json`,
	} {
		if _, err := UnmarshalRecord([]byte(in)); err == nil {
			t.Errorf("accepted %s", in)
		}
	}
}

func TestHistoryOrder(t *testing.T) {
	a := Record{ID: "b", Target: "n1", Action: ActionOff, Origin: "o", State: StateFailed, Created: t0.Add(time.Second), Error: "x"}
	b := Record{ID: "a", Target: "n2", Action: ActionOn, Origin: "o", State: StateDone, Created: t0.Add(time.Second)}
	c := Record{ID: "z", Target: "n3", Action: ActionReboot, Origin: "o", State: StatePending, Created: t0}
	x, err := MarshalHistory([]Record{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	y, _ := MarshalHistory([]Record{c, b, a})
	if string(x) != string(y) {
		t.Errorf("order-dependent history:\n%s\n%s", x, y)
	}
	recs, err := UnmarshalHistory(x)
	if err != nil || len(recs) != 3 || recs[0].ID != "z" || recs[1].ID != "a" || recs[2].ID != "b" {
		t.Errorf("history %v %v", recs, err)
	}
}
