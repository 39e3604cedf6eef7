package crmsyntax

import (
	"errors"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/cib"
)

// two-node-mode is refused at commit time unless both nodes can be fenced.
func TestCheckCommitTwoNodeMode(t *testing.T) {
	const nodes = "node n1\nnode n2\n"
	cases := []struct {
		name, cfg string
		refused   string // substring of the error; "" = accepted
	}{
		{"off", nodes + "property two-node-mode=false\n", ""},
		{"unset", nodes, ""},
		{"not a boolean", nodes + "property two-node-mode=maybe\n", "not a boolean"},
		{"no device", nodes + "property two-node-mode=true\n", "no fencing device (stonith primitive) can fence n1 and n2"},
		{"dynamic device", nodes + "primitive f stonith:sandbox\nproperty two-node-mode=true\n", ""},
		{"static list covers one", nodes + "primitive f stonith:fence_x params pcmk_host_list=n1\nproperty two-node-mode=true\n", "can fence n2"},
		{"two static devices", nodes + "primitive f1 stonith:fence_x params pcmk_host_list=n1\nprimitive f2 stonith:fence_x params pcmk_host_map=\"n2:port2\"\nproperty two-node-mode=true\n", ""},
		{"check none", nodes + "primitive f stonith:fence_x params pcmk_host_check=none pcmk_host_list=n1\nproperty two-node-mode=true\n", ""},
		{"fencing disabled", nodes + "primitive f stonith:sandbox\nproperty two-node-mode=true stonith-enabled=false\n", "stonith-enabled is false"},
		{"three nodes", nodes + "node n3\nprimitive f stonith:sandbox\nproperty two-node-mode=true\n", "exactly two cluster nodes"},
		{"one node", "node n1\nprimitive f stonith:sandbox\nproperty two-node-mode=true\n", "exactly two cluster nodes"},
		{"non-stonith primitive", nodes + "primitive d Dummy params pcmk_host_list=\"n1 n2\"\nproperty two-node-mode=true\n", "no fencing device"},
	}
	for _, c := range cases {
		s := mustRun(t, c.cfg)
		err := s.CheckCommit()
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.refused != "" && (err == nil || !errors.Is(err, cib.ErrTwoNodeMode) || !errors.Is(err, ErrCommit) || !strings.Contains(err.Error(), c.refused)):
			t.Errorf("%s: err = %v, want ErrTwoNodeMode containing %q", c.name, err, c.refused)
		}
		if c.refused == "" && cib.TwoNodeMode(s.cfg) != strings.Contains(c.cfg, "two-node-mode=true") {
			t.Errorf("%s: TwoNodeMode = %v", c.name, cib.TwoNodeMode(s.cfg))
		}
	}
}
