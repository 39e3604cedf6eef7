package digest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
)

// ErrNoResource is returned by [FromCIB] when the resource is not configured.
var ErrNoResource = errors.New("resource not configured")

// ErrOrphanOp is returned by [FromCIB] for a recurring operation that no
// enabled <op> configures any more. Pacemaker does not compare digests of
// such entries: it cancels the operation (stop-orphan-actions) or ignores
// it.
var ErrOrphanOp = errors.New("recurring operation not configured")

// Config is the configuration context [FromCIB] evaluates parameters in.
// It is read-only; a Config may be shared between goroutines as long as
// nobody modifies the underlying CIB.
type Config struct {
	CIB   *cib.Configuration
	Index *cib.Index // cib.NewIndex(CIB); built on demand when nil
	// Now is the evaluation time for date rules (the CIB's execution-date
	// in simulations).
	Now time.Time
}

// NodeAttrs are the attributes of the node an operation ran on, for rules
// in instance attributes: #uname, #id, #kind, the node's configured
// instance attributes and its transient attributes.
type NodeAttrs map[string]string

// FromCIB builds the digest Input of operation task/intervalMS of
// primitive rscID (a clone instance suffix ":N" is ignored) on a node with
// the given attributes, resolving the configuration like the Pacemaker
// 2.1.5 scheduler:
//
//   - resource parameters: the primitive's instance_attributes (with
//     those of its template, which precede them in document order), then
//     those of each parent group/clone, then rsc_defaults
//     instance_attributes; the first value seen for a name wins, sets are
//     taken by decreasing score and, on equal scores, in reverse document
//     order (as 2.1.5 does), rules are evaluated against node, and
//     "#default" unsets a name;
//   - the <op> whose name equals task and whose interval equals intervalMS
//     (disabled ops included; template ops the primitive does not redefine
//     included); its instance_attributes become OpParams;
//   - the timeout: the op's timeout attribute, else its meta_attributes,
//     else op_defaults meta_attributes (rules may test the op name and
//     interval), else the 20 s default.
func FromCIB(cfg Config, node NodeAttrs, rscID, task string, intervalMS int64) (Input, error) {
	if cfg.CIB == nil {
		return Input{}, fmt.Errorf("digest input for %s: nil configuration", rscID)
	}
	ix := cfg.Index
	if ix == nil {
		ix = cib.NewIndex(cfg.CIB)
	}
	id := rscID
	if i := strings.LastIndexByte(id, ':'); i > 0 {
		id = id[:i]
	}
	rsc, ok := ix.Resources[id]
	if !ok || rsc.Kind != cib.KindPrimitive {
		return Input{}, fmt.Errorf("digest input for %s: %w", rscID, ErrNoResource)
	}
	var tmpl *cib.Resource
	if rsc.Template != "" {
		tmpl = ix.Resources[rsc.Template]
	}

	ctx := &cib.RuleContext{Now: cfg.Now, NodeAttrs: node, Index: ix}
	in := Input{Task: task, IntervalMS: intervalMS}
	class := rsc.Class
	if class == "" && tmpl != nil {
		class = tmpl.Class
	}
	in.Stonith = class == "stonith"

	params := map[string]string{}
	// Template expansion puts the template's sets before the primitive's
	// in document order.
	var sets []*cib.NVSet
	if tmpl != nil {
		sets = append(sets, tmpl.Instance...)
	}
	sets = append(sets, rsc.Instance...)
	unpackSets(sets, ctx, params)
	for p := ix.Parent[id]; p != nil; p = ix.Parent[p.ID] {
		unpackSets(p.Instance, ctx, params)
	}
	var defs []*cib.NVSet
	for _, s := range cfg.CIB.RscDefaults {
		if s.Kind == "instance_attributes" {
			defs = append(defs, s)
		}
	}
	unpackSets(defs, ctx, params)
	in.Params = params

	op := findOp(ix, rsc, tmpl, task, intervalMS)
	if intervalMS > 0 && (op == nil || isFalse(op.Enabled)) {
		return Input{}, fmt.Errorf("digest input for %s %s every %dms: %w", rscID, task, intervalMS, ErrOrphanOp)
	}
	opCtx := &cib.RuleContext{Now: cfg.Now, NodeAttrs: node, Index: ix, OpName: task, OpInterval: intervalMS, HasOp: true}
	if op != nil {
		in.OpParams = unpackSets(op.Instance, ctx, map[string]string{})
		in.Timeout = op.Timeout
		if in.Timeout == "" {
			in.Timeout = unpackSetsOverwrite(op.Meta, opCtx, map[string]string{})["timeout"]
		}
	}
	if in.Timeout == "" {
		var od []*cib.NVSet
		for _, s := range cfg.CIB.OpDefaults {
			if s.Kind == "meta_attributes" {
				od = append(od, s)
			}
		}
		in.Timeout = unpackSets(od, opCtx, map[string]string{})["timeout"]
	}
	return in, nil
}

// findOp returns the configured operation matching task and interval, from
// the primitive's own ops first, then the template's.
func findOp(ix *cib.Index, rsc, tmpl *cib.Resource, task string, intervalMS int64) *cib.Op {
	match := func(ops []*cib.Op) *cib.Op {
		for _, o := range ops {
			if o.IDRef != "" {
				if t, ok := ix.Ops[o.IDRef]; ok {
					o = t
				}
			}
			iv, err := cib.ParseIntervalMS(o.Interval)
			if err != nil {
				continue
			}
			if strings.EqualFold(o.Name, task) && iv == intervalMS {
				return o
			}
		}
		return nil
	}
	if o := match(rsc.Ops); o != nil {
		return o
	}
	if tmpl != nil {
		return match(tmpl.Ops)
	}
	return nil
}

// unpackSets merges name/value sets (given in document order) into into
// like Pacemaker 2.1.5's non-overwriting unpack: sets in decreasing score
// order, and sets with equal scores in REVERSE document order (Pacemaker
// prepends them to a list before a stable sort, so the last of equal sets
// wins); rules are evaluated against ctx, the first value seen for a name
// wins, and the special value "#default" removes any value seen so far.
func unpackSets(sets []*cib.NVSet, ctx *cib.RuleContext, into map[string]string) map[string]string {
	return unpackSetsMode(sets, ctx, into, false)
}

// unpackSetsOverwrite is the overwriting variant Pacemaker uses for an
// op's own meta_attributes: same processing order, but a later value
// replaces an earlier one.
func unpackSetsOverwrite(sets []*cib.NVSet, ctx *cib.RuleContext, into map[string]string) map[string]string {
	return unpackSetsMode(sets, ctx, into, true)
}

func unpackSetsMode(sets []*cib.NVSet, ctx *cib.RuleContext, into map[string]string, overwrite bool) map[string]string {
	type item struct {
		s     *cib.NVSet
		score int
	}
	items := make([]item, 0, len(sets))
	for i := len(sets) - 1; i >= 0; i-- {
		s := sets[i]
		items = append(items, item{ctx.Index.ResolveSet(s), cib.Score(s.Score)})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].score > items[j].score })
	for _, it := range items {
		ok := true
		for _, r := range it.s.Rules {
			if !cib.EvalRule(r, ctx) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		for _, p := range it.s.Pairs {
			name, value := p.Name, p.Value
			if p.IDRef != "" {
				if t, ok := ctx.Index.Pairs[p.IDRef]; ok {
					value = t.Value
					if name == "" {
						name = t.Name
					}
				}
			}
			if name == "" {
				continue
			}
			if strings.EqualFold(value, "#default") {
				delete(into, name)
				continue
			}
			if _, seen := into[name]; !seen || overwrite {
				into[name] = value
			}
		}
	}
	return into
}

// isFalse reports whether a CIB boolean is false.
func isFalse(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "false", "no", "off", "n", "0":
		return true
	}
	return false
}
