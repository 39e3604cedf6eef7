package cib

import (
	"strconv"
	"strings"
)

// This file converts <node_state> elements into NodeStates. The status
// section is the bulk of a large CIB (one lrm_rsc_op per recorded
// operation), so the conversion reads each element's attributes in one
// pass and carves LRMResources, LRMOps and their pointer lists out of
// per-node_state slabs instead of allocating them one by one.

// statusConv converts node_state elements. share reports whether the
// converted values may keep the elements' attribute slices instead of
// copying them: Parse owns the tree it converts and drops it afterwards;
// FromElement's caller may keep and change its tree, so it copies. A
// statusConv is used by one goroutine at a time.
type statusConv struct {
	share bool
	ops   []LRMOp
	opPtr []*LRMOp
	rscs  []LRMResource
}

func (sc *statusConv) attrs(a []Attr) []Attr {
	if sc.share {
		return a[:len(a):len(a)]
	}
	return append([]Attr(nil), a...)
}

// reserve sizes the slabs for the lrm_resource elements below lr.
func (sc *statusConv) reserve(lr []*Element) {
	nops := 0
	for _, r := range lr {
		if r.Name == "lrm_resource" {
			nops += len(r.Children)
		}
	}
	if cap(sc.ops)-len(sc.ops) < nops {
		sc.ops = make([]LRMOp, 0, nops)
	}
	if cap(sc.opPtr)-len(sc.opPtr) < nops {
		sc.opPtr = make([]*LRMOp, 0, nops)
	}
	if cap(sc.rscs)-len(sc.rscs) < len(lr) {
		sc.rscs = make([]LRMResource, 0, len(lr))
	}
}

func (sc *statusConv) newOp() *LRMOp {
	if len(sc.ops) == cap(sc.ops) {
		sc.ops = make([]LRMOp, 0, 64)
	}
	sc.ops = sc.ops[:len(sc.ops)+1]
	return &sc.ops[len(sc.ops)-1]
}

func (sc *statusConv) newResource() *LRMResource {
	if len(sc.rscs) == cap(sc.rscs) {
		sc.rscs = make([]LRMResource, 0, 64)
	}
	sc.rscs = sc.rscs[:len(sc.rscs)+1]
	return &sc.rscs[len(sc.rscs)-1]
}

// opList appends ops to the pointer slab and returns them as a slice
// capped at its length (an append by a user copies).
func (sc *statusConv) opList(ops []*LRMOp) []*LRMOp {
	if len(ops) == 0 {
		return nil
	}
	if cap(sc.opPtr)-len(sc.opPtr) < len(ops) {
		sc.opPtr = make([]*LRMOp, 0, max(64, len(ops)))
	}
	start := len(sc.opPtr)
	sc.opPtr = append(sc.opPtr, ops...)
	return sc.opPtr[start : start+len(ops) : start+len(ops)]
}

func parseNodeState(el *Element, share bool) (*NodeState, error) {
	sc := statusConv{share: share}
	return sc.nodeState(el)
}

func (sc *statusConv) nodeState(el *Element) (*NodeState, error) {
	v := findStatusAttrs(el.Attrs)
	n := &NodeState{ID: v.get(saID), Uname: v.get(saUname), InCCM: v.get(saInCCM), Crmd: v.get(saCrmd), Join: v.get(saJoin),
		Expected: v.get(saExpected), Attrs: sc.attrs(el.Attrs), Line: el.Line}
	if n.ID == "" {
		n.ID = n.Uname
	}
	if n.ID == "" {
		return nil, perr(el, "missing id and uname")
	}
	var ops []*LRMOp // scratch for one lrm_resource's operations
	for _, ch := range el.Children {
		switch ch.Name {
		case "transient_attributes":
			n.HasTransient = true
			n.TransientID = ch.Get("id")
			for _, s := range ch.Children {
				if s.Name != "instance_attributes" {
					continue
				}
				set, err := parseNVSet(s)
				if err != nil {
					return nil, err
				}
				n.Transient = append(n.Transient, set)
			}
		case "lrm":
			n.HasLRM = true
			n.LRMID = ch.Get("id")
			lr := ch.Child("lrm_resources")
			if lr == nil {
				continue
			}
			sc.reserve(lr.Children)
			if n.Resources == nil {
				n.Resources = make([]*LRMResource, 0, len(lr.Children))
			}
			for _, r := range lr.Children {
				if r.Name != "lrm_resource" {
					continue
				}
				res := sc.newResource()
				v = findStatusAttrs(r.Attrs)
				res.ID, res.Class, res.Provider = v.get(saID), v.get(saClass), v.get(saProvider)
				res.Type, res.Container, res.Attrs = v.get(saType), v.get(saContainer), sc.attrs(r.Attrs)
				if res.ID == "" {
					return nil, perr(r, "missing id")
				}
				ops = ops[:0]
				for _, o := range r.Children {
					if o.Name != "lrm_rsc_op" {
						continue
					}
					op, err := sc.lrmOp(o)
					if err != nil {
						return nil, err
					}
					ops = append(ops, op)
				}
				res.Ops = sc.opList(ops)
				n.Resources = append(n.Resources, res)
			}
			if len(n.Resources) == 0 {
				n.Resources = nil // as when nothing was ever appended
			}
		}
	}
	return n, nil
}

func atoiDefault(s string, def int) int {
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return v
}

// parseInt64 is strconv.ParseInt(s, 10, 64) with the error dropped (0 for
// a malformed value, the clamped value out of range), without the error
// allocation for the common empty value.
func parseInt64(s string) int64 {
	if s == "" {
		return 0
	}
	v, _ := strconv.ParseInt(s, 10, 64)
	return v
}

// lrmOp converts an <lrm_rsc_op>.
func (sc *statusConv) lrmOp(el *Element) (*LRMOp, error) {
	v := findStatusAttrs(el.Attrs)
	op := sc.newOp()
	op.Attrs, op.ID, op.Operation = sc.attrs(el.Attrs), v.get(saID), v.get(saOperation)
	op.OperationKey, op.OpDigest, op.TransitionKey = v.get(saOperationKey), v.get(saOpDigest), v.get(saTransitionKey)
	op.TransitionMagic, op.ExitReason, op.OnNode = v.get(saTransitionMagic), v.get(saExitReason), v.get(saOnNode)
	if op.ID == "" {
		return nil, perr(el, "missing id")
	}
	if op.Operation == "" {
		return nil, perr(el, "missing operation")
	}
	if interval := v.get(saInterval); interval != "" {
		// Status intervals are recorded in milliseconds.
		ms, err := strconv.ParseInt(strings.TrimSpace(interval), 10, 64)
		if err != nil {
			ms, err = ParseIntervalMS(interval)
			if err != nil {
				return nil, perr(el, "interval: %v", err)
			}
		}
		op.Interval = ms
	}
	op.OpStatus = atoiDefault(v.get(saOpStatus), 0)
	op.RCCode = atoiDefault(v.get(saRCCode), 0)
	op.CallID = atoiDefault(v.get(saCallID), 0)
	op.LastRCChange = parseInt64(v.get(saLastRCChange))
	op.LastRun = parseInt64(v.get(saLastRun))
	return op, nil
}

// Indexes of statusAttrs.first: the attributes of node_state, lrm_resource
// and lrm_rsc_op elements that NodeState, LRMResource and LRMOp have fields
// for.
const (
	saID = iota
	saUname
	saInCCM
	saCrmd
	saJoin
	saExpected
	saClass
	saProvider
	saType
	saContainer
	saOperation
	saOperationKey
	saInterval
	saOpStatus
	saRCCode
	saCallID
	saOpDigest
	saTransitionKey
	saTransitionMagic
	saLastRCChange
	saLastRun
	saExitReason
	saOnNode
	saCount
)

// statusAttrs locates the modelled attributes of one status element. It
// records positions rather than values so that the one pass over the
// attributes stores no pointers (no write barriers) and clears little.
type statusAttrs struct {
	attrs []Attr
	first [saCount]int // 1 + index in attrs of the first attribute of each name, 0 if none
}

// findStatusAttrs reads attrs in one pass, noting for each modelled name
// where it first occurs. Attributes no status type models are skipped.
func findStatusAttrs(attrs []Attr) (s statusAttrs) {
	s.attrs = attrs
	for j, a := range attrs {
		var i int
		switch a.Name {
		case "id":
			i = saID
		case "uname":
			i = saUname
		case "in_ccm":
			i = saInCCM
		case "crmd":
			i = saCrmd
		case "join":
			i = saJoin
		case "expected":
			i = saExpected
		case "class":
			i = saClass
		case "provider":
			i = saProvider
		case "type":
			i = saType
		case "container":
			i = saContainer
		case "operation":
			i = saOperation
		case "operation_key":
			i = saOperationKey
		case "interval":
			i = saInterval
		case "op-status":
			i = saOpStatus
		case "rc-code":
			i = saRCCode
		case "call-id":
			i = saCallID
		case "op-digest":
			i = saOpDigest
		case "transition-key":
			i = saTransitionKey
		case "transition-magic":
			i = saTransitionMagic
		case "last-rc-change":
			i = saLastRCChange
		case "last-run":
			i = saLastRun
		case "exit-reason":
			i = saExitReason
		case "on_node":
			i = saOnNode
		default:
			continue
		}
		if s.first[i] == 0 {
			s.first[i] = j + 1
		}
	}
	return s
}

// get returns the value of the first attribute of the name i stands for
// ("" when there is none), as Element.Get would.
func (s *statusAttrs) get(i int) string {
	if j := s.first[i]; j != 0 {
		return s.attrs[j-1].Value
	}
	return ""
}
