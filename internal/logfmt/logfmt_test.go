package logfmt

import (
	"maps"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		line string
		want map[string]string
	}{
		{`time=2026-11-24T03:05:43.742Z level=INFO msg="operation complete" node=n1 op=web_stop_0 reason="a \"b\" c\\d" empty= node=n9`,
			map[string]string{"time": "2026-11-24T03:05:43.742Z", "level": "INFO", "msg": "operation complete",
				"node": "n1", "op": "web_stop_0", "reason": `a "b" c\d`, "empty": ""}},
		{"", map[string]string{}},
		{"   ", map[string]string{}},
		{"no pairs here", map[string]string{}},
		{`k="unterminated`, map[string]string{"k": "unterminated"}},
		{`a=1 trailing-words-without-equals`, map[string]string{"a": "1"}},
		{`a="x y"b=2`, map[string]string{"a": "x y", "b": "2"}},
		{`esc="tail\`, map[string]string{"esc": `tail\`}},
	} {
		if got := Parse(tc.line); !maps.Equal(got, tc.want) {
			t.Errorf("Parse(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}
