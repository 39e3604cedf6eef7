package ra

import (
	"context"
	"errors"

	"github.com/gocrm/gocrm/agents/agent"
)

// Severity of a Finding.
type Severity string

// Severities, as crmsh prints them.
const (
	SevError   Severity = "ERROR"
	SevWarning Severity = "WARNING"
)

// Finding is one message of CheckPrimitive, worded as crmsh words it
// (print as `SEVERITY: MSG`).
type Finding struct {
	Severity Severity
	Msg      string
}

// CheckPrimitive runs the meta-data checks `crm configure` does for a
// primitive id of agent k: an agent without meta-data gives
// "KEY: got no meta-data, does this RA exist?"; parameter problems give
// "ID: parameter "foo" is not known" / "ID: required parameter "ip" not
// defined" (errors); op timeouts below the advised ones give warnings.
// Safe for concurrent use.
func (c *Catalog) CheckPrimitive(ctx context.Context, id string, k agent.Key, params map[string]string, ops []Op) []Finding {
	m, err := c.Info(ctx, k)
	if err != nil {
		return []Finding{{SevError, k.String() + ": got no meta-data, does this RA exist?"}}
	}
	var out []Finding
	var ve *ValidationError
	if err := c.ValidateParams(ctx, k, params); errors.As(err, &ve) {
		for _, msg := range ve.Messages() {
			out = append(out, Finding{SevError, id + ": " + msg})
		}
	} else if err != nil {
		out = append(out, Finding{SevError, id + ": " + err.Error()})
	}
	for _, w := range TimeoutWarnings(m, ops) {
		out = append(out, Finding{SevWarning, id + ": " + w})
	}
	return out
}
