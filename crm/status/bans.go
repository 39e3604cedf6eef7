package status

import (
	"strconv"

	"github.com/gocrm/gocrm/cib"
)

// Ban is a location constraint (or one of its rules) keeping a resource
// off a node, as crm_mon's <bans> lists them.
type Ban struct {
	ID           string `json:"id"`
	Resource     string `json:"resource"`
	Node         string `json:"node"`
	Weight       int    `json:"weight"`
	PromotedOnly bool   `json:"promoted_only"`
}

// bans evaluates the location constraints of the configuration for every
// node and returns the negative placements.
func (r *Report) bans() []Ban {
	var out []Ban
	ix := r.Cluster.Index
	if ix == nil {
		ix = cib.NewIndex(&r.CIB.Config)
	}
	// crm_mon lists the most recently unpacked constraint first.
	cons := r.CIB.Config.Constraints
	for i := len(cons) - 1; i >= 0; i-- {
		loc, ok := cons[i].(*cib.Location)
		if !ok || loc.Rsc == "" || len(loc.Sets) > 0 {
			continue
		}
		promoted := cib.NormalizeRole(loc.Role) == "Promoted"
		if loc.Node != "" {
			if w := cib.Score(loc.Score); w < 0 {
				out = append(out, Ban{ID: loc.ID, Resource: loc.Rsc, Node: loc.Node, Weight: w, PromotedOnly: promoted})
			}
			continue
		}
		for j := len(loc.Rules) - 1; j >= 0; j-- {
			rule := loc.Rules[j]
			if rule.IDRef != "" {
				if ref := ix.Rules[rule.IDRef]; ref != nil {
					rule = ref
				}
			}
			w := cib.Score(rule.Score)
			if rule.Score == "" {
				w = cib.Score(loc.Score)
			}
			if w >= 0 {
				continue
			}
			for k := len(r.Cluster.Nodes) - 1; k >= 0; k-- {
				n := r.Cluster.Nodes[k]
				ctx := &cib.RuleContext{Now: r.Now, NodeAttrs: n.Attrs, Index: ix}
				if cib.EvalRule(rule, ctx) {
					out = append(out, Ban{ID: rule.ID, Resource: loc.Rsc, Node: n.Name, Weight: w,
						PromotedOnly: promoted || cib.NormalizeRole(rule.Role) == "Promoted"})
				}
			}
		}
	}
	return out
}

func (r *Report) bansElement() *cib.Element {
	bs := r.bans()
	if len(bs) == 0 {
		return nil
	}
	out := el("bans")
	for _, b := range bs {
		out.Children = append(out.Children, el("ban", "id", b.ID, "resource", b.Resource, "node", b.Node,
			"weight", strconv.Itoa(b.Weight), "promoted-only", boolStr(b.PromotedOnly), "master_only", boolStr(b.PromotedOnly)))
	}
	return out
}
