package digest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gocrm/gocrm/cib"
)

// FuzzFromCIB feeds arbitrary CIBs through parameter resolution and the
// comparison of every history entry: nothing may panic, and digests are
// always 32 hex digits.
func FuzzFromCIB(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.xml")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := cib.Parse(data)
		if err != nil {
			return
		}
		cfg := Config{CIB: &c.Config}
		for _, ns := range c.Status.Nodes {
			na := NodeAttrs{"#uname": ns.Uname}
			for _, lr := range ns.Resources {
				for _, op := range lr.Ops {
					in, err := FromCIB(cfg, na, lr.ID, op.Operation, op.Interval)
					if err != nil {
						continue
					}
					_, cmp := Check(in, RecordedFromLRMOp(op), Options{Sanitized: true})
					if len(cmp.All) != 32 || len(cmp.Secure) != 32 {
						t.Fatalf("bad digest %q / %q", cmp.All, cmp.Secure)
					}
				}
			}
		}
	})
}
