package fsm

import (
	"errors"
	"reflect"
	"testing"
)

func mustLevel(t *testing.T, c LevelConfig) Level {
	t.Helper()
	l, err := ParseLevel(c)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestParseLevelErrors(t *testing.T) {
	for name, c := range map[string]LevelConfig{
		"no target":    {ID: "l", Index: "1", Devices: "a"},
		"two targets":  {ID: "l", Target: "n1", TargetPattern: "n.*", Index: "1", Devices: "a"},
		"bad regex":    {ID: "l", TargetPattern: "n(", Index: "1", Devices: "a"},
		"bad index":    {ID: "l", Target: "n1", Index: "0", Devices: "a"},
		"no devices":   {ID: "l", Target: "n1", Index: "1", Devices: " , "},
		"value alone":  {ID: "l", Target: "n1", TargetValue: "x", Index: "1", Devices: "a"},
		"index letter": {ID: "l", Target: "n1", Index: "one", Devices: "a"},
	} {
		if _, err := ParseLevel(c); !errors.Is(err, ErrInvalidParam) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLevelsForSelection(t *testing.T) {
	byName2 := mustLevel(t, LevelConfig{ID: "n2", Target: "node1", Index: "2", Devices: "b"})
	byName1 := mustLevel(t, LevelConfig{ID: "n1", Target: "node1", Index: "1", Devices: "a,c"})
	byPat := mustLevel(t, LevelConfig{ID: "p1", TargetPattern: "^node[0-9]$", Index: "1", Devices: "pdu"})
	byAttr := mustLevel(t, LevelConfig{ID: "a1", TargetAttribute: "rack", TargetValue: "r1", Index: "1", Devices: "rackpdu"})
	topo, err := NewTopology(byName2, byAttr, byPat, byName1)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ls []Level) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.ID)
		}
		return out
	}
	if got := ids(topo.LevelsFor("node1", map[string]string{"rack": "r1"})); !reflect.DeepEqual(got, []string{"n1", "n2"}) {
		t.Errorf("node1: %v", got)
	}
	if got := ids(topo.LevelsFor("node2", map[string]string{"rack": "r1"})); !reflect.DeepEqual(got, []string{"p1"}) {
		t.Errorf("node2: %v", got)
	}
	if got := ids(topo.LevelsFor("db1", map[string]string{"rack": "r1"})); !reflect.DeepEqual(got, []string{"a1"}) {
		t.Errorf("db1: %v", got)
	}
	if got := topo.LevelsFor("db1", map[string]string{"rack": "r2"}); got != nil {
		t.Errorf("db1 rack r2: %v", got)
	}
	if got := byName1.Devices; !reflect.DeepEqual(got, []string{"a", "c"}) {
		t.Errorf("devices: %v", got)
	}
	if _, err := NewTopology(byName1, mustLevel(t, LevelConfig{ID: "dup", Target: "node1", Index: "1", Devices: "x"})); !errors.Is(err, ErrInvalidParam) {
		t.Errorf("duplicate index accepted: %v", err)
	}
}

func TestHandBuiltLevel(t *testing.T) {
	good := Level{ID: "h", Index: 1, Kind: TargetByPattern, Pattern: "^db", Devices: []string{"x"}}
	bad := Level{ID: "b", Index: 1, Kind: TargetByPattern, Pattern: "db(", Devices: []string{"x"}}
	if !good.Matches("db1", nil) || good.Matches("web1", nil) || bad.Matches("db(", nil) {
		t.Error("hand-built pattern levels match wrongly")
	}
}
