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
	n := &NodeState{Attrs: sc.attrs(el.Attrs), Line: el.Line}
	var seen uint8
	for _, a := range el.Attrs {
		var bit uint8
		var dst *string
		switch a.Name {
		case "id":
			bit, dst = 1, &n.ID
		case "uname":
			bit, dst = 2, &n.Uname
		case "in_ccm":
			bit, dst = 4, &n.InCCM
		case "crmd":
			bit, dst = 8, &n.Crmd
		case "join":
			bit, dst = 16, &n.Join
		case "expected":
			bit, dst = 32, &n.Expected
		default:
			continue
		}
		if seen&bit == 0 {
			seen |= bit
			*dst = a.Value
		}
	}
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
				*res = LRMResource{Attrs: sc.attrs(r.Attrs)}
				var rseen uint8
				for _, a := range r.Attrs {
					var bit uint8
					var dst *string
					switch a.Name {
					case "id":
						bit, dst = 1, &res.ID
					case "class":
						bit, dst = 2, &res.Class
					case "provider":
						bit, dst = 4, &res.Provider
					case "type":
						bit, dst = 8, &res.Type
					case "container":
						bit, dst = 16, &res.Container
					default:
						continue
					}
					if rseen&bit == 0 {
						rseen |= bit
						*dst = a.Value
					}
				}
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

// Bits of the lrm_rsc_op attributes LRMOp has fields for.
const (
	lopID = 1 << iota
	lopOperation
	lopOperationKey
	lopInterval
	lopOpStatus
	lopRCCode
	lopCallID
	lopOpDigest
	lopTransitionKey
	lopTransitionMagic
	lopLastRCChange
	lopLastRun
	lopExitReason
	lopOnNode
)

// lrmOp converts an <lrm_rsc_op>. Each field takes the first attribute of
// its name.
func (sc *statusConv) lrmOp(el *Element) (*LRMOp, error) {
	op := sc.newOp()
	op.Attrs = sc.attrs(el.Attrs)
	var seen uint16
	var interval, opStatus, rcCode, callID, lastRCChange, lastRun string
	for _, a := range el.Attrs {
		var bit uint16
		var dst *string
		switch a.Name {
		case "id":
			bit, dst = lopID, &op.ID
		case "operation":
			bit, dst = lopOperation, &op.Operation
		case "operation_key":
			bit, dst = lopOperationKey, &op.OperationKey
		case "interval":
			bit, dst = lopInterval, &interval
		case "op-status":
			bit, dst = lopOpStatus, &opStatus
		case "rc-code":
			bit, dst = lopRCCode, &rcCode
		case "call-id":
			bit, dst = lopCallID, &callID
		case "op-digest":
			bit, dst = lopOpDigest, &op.OpDigest
		case "transition-key":
			bit, dst = lopTransitionKey, &op.TransitionKey
		case "transition-magic":
			bit, dst = lopTransitionMagic, &op.TransitionMagic
		case "last-rc-change":
			bit, dst = lopLastRCChange, &lastRCChange
		case "last-run":
			bit, dst = lopLastRun, &lastRun
		case "exit-reason":
			bit, dst = lopExitReason, &op.ExitReason
		case "on_node":
			bit, dst = lopOnNode, &op.OnNode
		default:
			continue
		}
		if seen&bit == 0 {
			seen |= bit
			*dst = a.Value
		}
	}
	if op.ID == "" {
		return nil, perr(el, "missing id")
	}
	if op.Operation == "" {
		return nil, perr(el, "missing operation")
	}
	if interval != "" {
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
	op.OpStatus = atoiDefault(opStatus, 0)
	op.RCCode = atoiDefault(rcCode, 0)
	op.CallID = atoiDefault(callID, 0)
	op.LastRCChange = parseInt64(lastRCChange)
	op.LastRun = parseInt64(lastRun)
	return op, nil
}
