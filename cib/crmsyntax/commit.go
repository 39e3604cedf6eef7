package crmsyntax

import (
	"errors"
	"fmt"

	"github.com/gocrm/gocrm/cib"
)

// CheckCommit reports the problems for which Pacemaker's schema would
// refuse cfg when crmsh commits it: dangling references (constraint
// targets, id-refs, templates), containers without children, invalid node
// types, and attribute sets with more than one rule. It returns nil when
// the configuration would be accepted; otherwise the problems joined, each
// wrapping ErrCommit.
func CheckCommit(cfg *cib.Configuration) error {
	return checkCommit(cfg, nil)
}

// CheckCommit is the package-level CheckCommit plus the references only the
// session knows about ("operations $id-ref=").
func (s *Session) CheckCommit() error {
	return checkCommit(s.cfg, s.opsRef)
}

func checkCommit(cfg *cib.Configuration, opsRef map[*cib.Resource]string) error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrCommit, fmt.Sprintf(format, args...)))
	}
	for _, p := range (&cib.CIB{Config: *cfg}).Problems() {
		errs = append(errs, fmt.Errorf("%w: %w", ErrCommit, p))
	}
	if err := cib.CheckTwoNodeMode(cfg); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrCommit, err))
	}
	ix := cib.NewIndex(cfg)
	checkSets := func(owner string, sets []*cib.NVSet) {
		for _, s := range sets {
			if s.Score != "" && !schemaScore(s.Score) {
				add("%s: attribute set %s has score %q, not an integer or [+-]INFINITY", owner, s.ID, s.Score)
			}
			if len(s.Rules) > 1 {
				add("%s: attribute set %s has more than one rule", owner, s.ID)
			}
		}
	}
	checkSets("crm_config", cfg.CRMConfig)
	checkSets("rsc_defaults", cfg.RscDefaults)
	checkSets("op_defaults", cfg.OpDefaults)
	for _, n := range cfg.Nodes {
		if n.Type != "" && n.Type != "member" && n.Type != "ping" && n.Type != "remote" {
			add("node %s: invalid type %q", n.ID, n.Type)
		}
		checkSets("node "+n.ID, n.Instance)
		checkSets("node "+n.ID, n.Utilization)
	}
	role := func(where, v string) {
		if v != "" && !schemaRoles[v] {
			add("%s: role %q is not allowed by the schema", where, v)
		}
	}
	for _, c := range cfg.Constraints {
		switch x := c.(type) {
		case *cib.Location:
			role(x.ID, x.Role)
			for _, r := range x.Rules {
				role(r.ID, r.Role)
			}
			for _, rs := range x.Sets {
				role(rs.ID, rs.Role)
			}
		case *cib.Colocation:
			role(x.ID, x.RscRole)
			role(x.ID, x.WithRscRole)
			for _, rs := range x.Sets {
				role(rs.ID, rs.Role)
			}
			if len(x.Sets) > 0 && x.NodeAttribute != "" {
				add("%s: node-attribute is not allowed with resource sets", x.ID)
			}
		case *cib.Order:
			for _, rs := range x.Sets {
				role(rs.ID, rs.Role)
			}
		case *cib.RawConstraint:
			if el, ok := isTicket(x); ok {
				for _, ref := range ticketRefs(el) {
					if r, _ := ix.Resources[ref]; r == nil && ix.Tags[ref] == nil {
						add("rsc_ticket %s: resource %q does not exist", el.Get("id"), ref)
					}
				}
				role(el.Get("id"), el.Get("rsc-role"))
			}
		}
	}
	for _, r := range allResources(cfg) {
		for _, op := range r.Ops {
			role(op.ID, op.Role)
		}
		for _, sets := range [][]*cib.NVSet{r.Instance, r.Meta} {
			for _, s := range sets {
				for _, rl := range s.Rules {
					role(rl.ID, rl.Role)
				}
			}
		}
		if r.Kind == cib.KindPrimitive || r.Kind == cib.KindTemplate {
			if r.Template == "" && !schemaClasses[r.Class] {
				add("%s: resource class %q is not allowed by the schema", r.ID, r.Class)
			}
			if r.Class == "ocf" && r.Provider == "" {
				add("%s: ocf resources need a provider", r.ID)
			}
		}
		switch r.Kind {
		case cib.KindGroup, cib.KindClone, cib.KindMaster:
			if len(r.Children) == 0 {
				add("%s %s has no children", kindName(r.Kind), r.ID)
			}
		}
		checkSets(r.ID, r.Instance)
		checkSets(r.ID, r.Meta)
		checkSets(r.ID, r.Utilization)
		for _, op := range r.Ops {
			checkSets(op.ID, op.Instance)
			checkSets(op.ID, op.Meta)
		}
		if ref, ok := opsRef[r]; ok {
			if ix.IDs[ref] == "" && !hasOpsID(cfg, ref) {
				add("%s: operations id-ref %q does not exist", r.ID, ref)
			}
		}
	}
	return errors.Join(errs...)
}

func hasOpsID(cfg *cib.Configuration, id string) bool {
	for _, r := range allResources(cfg) {
		if r.OpsID == id {
			return true
		}
	}
	return false
}

// schemaClasses are the resource classes the Pacemaker 2.1 schema accepts.
var schemaClasses = map[string]bool{"ocf": true, "lsb": true, "heartbeat": true, "stonith": true,
	"upstart": true, "service": true, "systemd": true, "nagios": true}

// schemaRoles are the role names the Pacemaker 2.1 schema accepts.
var schemaRoles = map[string]bool{"Started": true, "Stopped": true, "Master": true, "Slave": true,
	"Promoted": true, "Unpromoted": true}

// schemaScore reports whether v is a valid score in the schema's sense.
func schemaScore(v string) bool {
	switch v {
	case "INFINITY", "+INFINITY", "-INFINITY":
		return true
	}
	if v == "" {
		return false
	}
	if v[0] == '+' || v[0] == '-' {
		v = v[1:]
	}
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}
