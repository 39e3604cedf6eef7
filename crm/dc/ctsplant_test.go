package dc

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// The CTS planted bug is honoured only inside a sandbox cluster.
func TestPlantFromEnv(t *testing.T) {
	for _, c := range []struct {
		plant, sandbox, want, log string
	}{
		{"", "", "", ""},
		{plantSkipFenceWait, "", "", "refusing"},
		{plantSkipFenceWait, "/tmp/sb", plantSkipFenceWait, "PLANTED BUG ACTIVE"},
		{"other", "/tmp/sb", "", "unknown"},
	} {
		t.Setenv(plantEnv, c.plant)
		t.Setenv(plantSandboxEnv, c.sandbox)
		var buf bytes.Buffer
		got := plantFromEnv(slog.New(slog.NewTextHandler(&buf, nil)))
		if got != c.want || !strings.Contains(buf.String(), c.log) {
			t.Errorf("plant %q sandbox %q: got %q, log %q; want %q, log containing %q", c.plant, c.sandbox, got, buf.String(), c.want, c.log)
		}
	}
}
