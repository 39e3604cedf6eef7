package bench

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const sampleOutput = `Using the original execution date of: 2023-11-14 22:13:20Z
Current cluster status:
  * Node List:
    * Online: [ node1 node2 ]

Transition Summary:
  * Move       rsc3       ( node15 -> node13 )
  * Start      rsc196     (            node1 )
  * Start      rsc196     (            node1 )

Executing Cluster Transition:
  * Resource action: rsc1 start on node1
`

func TestExtractSummary(t *testing.T) {
	got, err := ExtractSummary(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"* Move rsc3 ( node15 -> node13 )", "* Start rsc196 ( node1 )", "* Start rsc196 ( node1 )"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if _, err := ExtractSummary(strings.NewReader("Current cluster status:\n")); !errors.Is(err, ErrNoSummary) {
		t.Errorf("missing section: %v", err)
	}
	empty, err := ExtractSummary(strings.NewReader("Transition Summary:\n"))
	if err != nil || len(empty) != 0 {
		t.Errorf("empty section: %q %v", empty, err)
	}
}

func TestCompareSummaries(t *testing.T) {
	ours := []string{"a", "b", "b", "c"}
	theirs := []string{"b", "c", "c", "a"}
	d := CompareSummaries(ours, theirs)
	if d.Identical() || d.Differing() != 2 ||
		!reflect.DeepEqual(d.OnlyOurs, []string{"b"}) || !reflect.DeepEqual(d.OnlyTheirs, []string{"c"}) {
		t.Errorf("diff %+v", d)
	}
	if d := CompareSummaries([]string{"x", "y"}, []string{"y", "x"}); !d.Identical() || d.Differing() != 0 {
		t.Errorf("order must not matter: %+v", d)
	}
}
