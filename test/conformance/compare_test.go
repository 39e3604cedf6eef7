package conformance

import (
	"reflect"
	"strings"
	"testing"
)

const expected = `Using the original execution date of: 2016-04-28 11:50:29Z
1 of 3 resource instances DISABLED and 0 BLOCKED from further action due to failure

Current cluster status:
  * Node List:
    * Online: [ n1 n2 ]

  * Full List of Resources:
    * a	(ocf:pacemaker:Dummy):	 Started n1
    * b	(ocf:pacemaker:Dummy):	 Stopped

Transition Summary:
  * Start      b     ( n2 )
  * Stop       a     ( n1 )  due to node availability

Executing Cluster Transition:
  * Resource action: a               stop on n1
  * Resource action: b               start on n2
Using the original execution date of: 2016-04-28 11:50:29Z

Revised Cluster Status:
  * Node List:
    * Online: [ n1 n2 ]

  * Full List of Resources:
    * a	(ocf:pacemaker:Dummy):	 Stopped
    * b	(ocf:pacemaker:Dummy):	 Started n2
`

func TestSplit(t *testing.T) {
	s := Split(expected)
	if len(s.Preamble) != 3 || !strings.HasPrefix(s.Preamble[0], "Using the original") || s.Preamble[2] != "" {
		t.Errorf("preamble = %q", s.Preamble)
	}
	if got := sortedCollapsed(s.Summary); !reflect.DeepEqual(got, []string{"* Start b ( n2 )", "* Stop a ( n1 ) due to node availability"}) {
		t.Errorf("summary = %q", got)
	}
	// The execution-date line printed while executing belongs to that section.
	if last := s.Executing[len(s.Executing)-2]; !strings.HasPrefix(last, "Using the original") {
		t.Errorf("executing section = %q", s.Executing)
	}
	if got := squeezedNonBlank(s.Revised); len(got) != 5 || got[4] != "*b(ocf:pacemaker:Dummy):Startedn2" {
		t.Errorf("revised = %q", got)
	}
	for _, h := range []string{HeaderCurrent, HeaderSummary, HeaderExecuting, HeaderRevised} {
		if !s.Headers[h] {
			t.Errorf("header %q not recorded", h)
		}
	}
	if e := Split(""); len(e.Preamble)+len(e.Summary) != 0 || len(e.Headers) != 0 {
		t.Errorf("Split(\"\") = %+v", e)
	}
}

func TestCollapse(t *testing.T) {
	for in, want := range map[string]string{
		"  * Start      b\t( n2 )  ": "* Start b ( n2 )",
		"":                           "",
		" \t ":                       "",
		"x":                          "x",
	} {
		if got := Collapse(in); got != want {
			t.Errorf("Collapse(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"* a (ocf::heartbeat:IPaddr2): Started n1":     "* a (ocf:heartbeat:IPaddr2): Started n1",
		"    * Masters: [ n1 ]":                        "    * Promoted: [ n1 ]",
		"    * Slaves: [ n2 n3 ]":                      "    * Unpromoted: [ n2 n3 ]",
		"* s:0 (ocf:pacemaker:Stateful): Master n1":    "* s:0 (ocf:pacemaker:Stateful): Promoted n1",
		"* s:0 (ocf:pacemaker:Stateful): Master":       "* s:0 (ocf:pacemaker:Stateful): Promoted",
		"* Promote s:0 ( Slave -> Master n1 )":         "* Promote s:0 ( Unpromoted -> Promoted n1 )",
		"* MasterSlave stays":                          "* MasterSlave stays",
		"no Master[ change twice Master ":              "no Promoted[ change twice Master ",
		"* rsc1\t(ocf:heartbeat:apache):\t Started n1": "* rsc1\t(ocf:heartbeat:apache):\t Started n1",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Normalize("a\r\nb ocf::x\r\n"); got != "a\nb ocf:x\n" {
		t.Errorf("CRLF: %q", got)
	}
}

// variant returns expected with old replaced by new (which must occur).
func variant(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(expected, old) {
		t.Fatalf("%q not in expected", old)
	}
	return strings.Replace(expected, old, new, 1)
}

func TestLevels(t *testing.T) {
	cases := []struct {
		name   string
		actual func(t *testing.T) string
		want   int
	}{
		{"identical", func(*testing.T) string { return expected }, 3},
		{"padding and tabs differ", func(t *testing.T) string {
			return variant(t, "  * Start      b     ( n2 )", "\t* Start b ( n2 )   ")
		}, 3},
		{"extra blank lines", func(t *testing.T) string {
			return variant(t, "Transition Summary:\n", "\n\nTransition Summary:\n\n")
		}, 3},
		{"summary reordered", func(t *testing.T) string {
			return variant(t, "  * Start      b     ( n2 )\n  * Stop       a     ( n1 )  due to node availability",
				"  * Stop a ( n1 ) due to node availability\n  * Start b ( n2 )")
		}, 2},
		{"executing order differs", func(t *testing.T) string {
			return variant(t, "  * Resource action: a               stop on n1\n  * Resource action: b               start on n2",
				"  * Resource action: b start on n2\n  * Resource action: a stop on n1")
		}, 2},
		{"current status differs", func(t *testing.T) string {
			return variant(t, "Started n1\n    * b\t(ocf:pacemaker:Dummy):\t Stopped\n\nTransition",
				"Started n2\n    * b\t(ocf:pacemaker:Dummy):\t Stopped\n\nTransition")
		}, 2},
		{"preamble missing", func(t *testing.T) string {
			return variant(t, "1 of 3 resource instances DISABLED and 0 BLOCKED from further action due to failure\n", "")
		}, 2},
		{"revised differs", func(t *testing.T) string {
			return variant(t, "Started n2\n", "Started n1\n")
		}, 1},
		{"revised missing", func(t *testing.T) string {
			return expected[:strings.Index(expected, "Revised Cluster Status:")]
		}, 1},
		{"summary line missing", func(t *testing.T) string {
			return variant(t, "  * Start      b     ( n2 )\n", "")
		}, 0},
		{"summary line duplicated", func(t *testing.T) string {
			return variant(t, "  * Start      b     ( n2 )\n", "  * Start      b     ( n2 )\n  * Start b ( n2 )\n")
		}, 0},
		{"summary word differs", func(t *testing.T) string {
			return variant(t, "due to node availability", "due to no quorum")
		}, 0},
		{"summary header missing", func(t *testing.T) string {
			return variant(t, "Transition Summary:\n", "")
		}, 0},
		{"empty output", func(*testing.T) string { return "" }, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			act := c.actual(t)
			if got := Level(expected, act); got != c.want {
				t.Errorf("Level = %d, want %d", got, c.want)
			}
			if MatchL1(expected, act) != (c.want >= 1) || MatchL2(expected, act) != (c.want >= 2) || MatchL3(expected, act) != (c.want >= 3) {
				t.Errorf("MatchL1/2/3 = %v/%v/%v, want level %d", MatchL1(expected, act), MatchL2(expected, act), MatchL3(expected, act), c.want)
			}
		})
	}
}

func TestEmptySummaries(t *testing.T) {
	a := "Current cluster status:\nx\nTransition Summary:\n\nExecuting Cluster Transition:\nRevised Cluster Status:\nx\n"
	if Level(a, a) != 3 {
		t.Fatal("empty transition summaries should match")
	}
	if got := SummaryLines(a); len(got) != 0 {
		t.Fatalf("SummaryLines = %q", got)
	}
	b := strings.Replace(a, "Transition Summary:\n\n", "Transition Summary:\n  * Start x ( n1 )\n", 1)
	if Level(a, b) != 0 || Level(b, a) != 0 {
		t.Fatal("a summary line against an empty summary must fail L1")
	}
}

func TestMatchWholeIgnoresAllSpace(t *testing.T) {
	// diff --ignore-all-space treats "a b" and "ab" as equal.
	if !MatchWhole("a b\n\nc\n", "ab\nc") {
		t.Error("whitespace inside lines should be ignored")
	}
	if MatchWhole("a\nb\n", "b\na\n") {
		t.Error("line order matters")
	}
}
