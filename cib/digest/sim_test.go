package digest

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestCrmSimulateOutputs recomputes every op-digest in CIBs that Debian's
// Pacemaker 2.1.5 crm_simulate wrote (testdata/sim-*.xml, produced with
// "crm_simulate -x IN -u node1 -u node2 -S -O OUT" from hand-written
// configurations: special characters, attribute ordering, op-level
// instance attributes, timeout forms, op_defaults with op rules, templates,
// group/clone inheritance, node rules, "#default", fencing parameters,
// equal-score set precedence in instance attributes, op meta_attributes and
// op_defaults, rsc_defaults instance attributes).
func TestCrmSimulateOutputs(t *testing.T) {
	files, _ := filepath.Glob("testdata/sim-*.xml")
	if len(files) == 0 {
		t.Fatal("no testdata/sim-*.xml")
	}
	for _, f := range files {
		c, cfg, ok := loadCase(t, f)
		if !ok {
			t.Fatalf("%s does not parse", f)
		}
		n := 0
		for _, ns := range c.Status.Nodes {
			na := nodeAttrs(cfg.Index, ns, cfg.Now)
			for _, lr := range ns.Resources {
				for _, op := range lr.Ops {
					rec := recordedOf(op)
					in, err := FromCIB(cfg, na, lr.ID, op.Operation, op.Interval)
					if errors.Is(err, ErrNoResource) {
						continue
					}
					if err != nil {
						t.Fatalf("%s: %s: %v", f, op.ID, err)
					}
					n++
					if got := OpDigest(in); got != rec.OpDigest {
						t.Errorf("%s: %s on %s: digest %s, crm_simulate recorded %s; canonical %q",
							f, op.ID, ns.Uname, got, rec.OpDigest, Canonical(allParams(in)))
					}
					if act, cmp := Check(in, rec, Options{}); act != NoAction || cmp.Result != Match {
						t.Errorf("%s: %s on %s: verdict %s/%s for an unchanged definition", f, op.ID, ns.Uname, act, cmp.Result)
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no operations checked", f)
		}
		t.Logf("%s: %d operations", f, n)
	}
}
