package sandbox

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/crmsyntax"
)

// The two-node configuration favours the first node, is accepted by the
// commit check, and is refused without its fence device.
func TestTwoNodeConfig(t *testing.T) {
	nodes := []string{"n1", "n2"}
	cfg := TwoNodeConfig(nodes, false)
	for _, want := range []string{`pcmk_delay_base="n1:3s;n2:0s"`, "pcmk_delay_max=1s", "two-node-mode=true", "stonith-enabled=true"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("configuration lacks %s:\n%s", want, cfg)
		}
	}
	check := func(stmts string) error {
		var c cib.Configuration
		s := crmsyntax.NewSession(&c, nil)
		if err := s.Update("node n1\nnode n2\n" + stmts); err != nil {
			t.Fatalf("parse %q: %v", stmts, err)
		}
		return s.CheckCommit()
	}
	if err := check(cfg); err != nil {
		t.Errorf("two-node sandbox configuration refused: %v", err)
	}
	if err := check(TwoNodeConfig(nodes, true)); !errors.Is(err, cib.ErrTwoNodeMode) {
		t.Errorf("two-node-mode without a device: err = %v, want ErrTwoNodeMode", err)
	}
}

func TestUpTwoNodeNeedsTwoNodes(t *testing.T) {
	_, _, err := Up(context.Background(), Config{Dir: t.TempDir(), Nodes: 3, CRMD: "/bin/false", TwoNodeMode: true}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "exactly 2 nodes") {
		t.Fatalf("err = %v", err)
	}
}
