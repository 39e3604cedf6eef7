package dc

// ---- CTS planted-bug hook (TEST ONLY) ----------------------------------
//
// The CTS fault campaign (test/cts) must prove that its invariant checker
// can fail. With GOCRM_CTS_PLANT=skip-fence-wait in crmd's environment the
// DC does not wait for fencing: it treats a fence as confirmed at once
// (clearing the target's status so its resources are recovered elsewhere)
// and runs the fence device only plantFenceDelay later, in the background
// — a fence device that reports success before the node is off. The hook
// is compiled in but refused (logged, ignored) unless GOCRM_SANDBOX_DIR is
// set too, i.e. unless crmd runs in a sandbox test cluster. Nothing else
// reads these variables.

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/gocrm/gocrm/cib"
)

const (
	plantEnv           = "GOCRM_CTS_PLANT"
	plantSandboxEnv    = "GOCRM_SANDBOX_DIR"
	plantSkipFenceWait = "skip-fence-wait"
	plantFenceDelay    = 3 * time.Second
)

// plantFromEnv returns the planted bug requested by the environment, or ""
// (refusing any plant outside a sandbox).
func plantFromEnv(log *slog.Logger) string {
	v := os.Getenv(plantEnv)
	if v == "" {
		return ""
	}
	if os.Getenv(plantSandboxEnv) == "" {
		log.Error("refusing the CTS planted bug outside a sandbox cluster", "env", plantEnv, "value", v)
		return ""
	}
	if v != plantSkipFenceWait {
		log.Error("unknown CTS planted bug ignored", "env", plantEnv, "value", v)
		return ""
	}
	log.Warn("CTS PLANTED BUG ACTIVE: fencing is not waited for (test only)", "env", plantEnv, "value", v)
	return v
}

// plantedFence runs the fence in the background plantFenceDelay later; the
// goroutine is owned by the DC (d.wg) and ends with ctx.
func (d *DC) plantedFence(ctx context.Context, cur *cib.CIB, node, act string, online []string) {
	d.log.Warn("CTS PLANTED BUG: fence reported confirmed without waiting", "node", node)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		select {
		case <-ctx.Done():
			return
		case <-time.After(plantFenceDelay):
		}
		if err := d.cfg.Fencer.Fence(ctx, cur, node, act, online); err != nil {
			d.log.Warn("CTS PLANTED BUG: background fence failed", "node", node, "err", err)
		}
	}()
}

// ---- end of CTS planted-bug hook ----------------------------------------
