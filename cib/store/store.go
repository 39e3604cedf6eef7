// Package store is the CIB state machine replicated by raft: typed,
// versioned commands applied to an immutable CIB value.
//
// Every command is JSON with a version and an op name. Apply is
// deterministic (no clock, no randomness: timestamps come inside commands)
// so that every node reaches the same CIB. Configuration changes carry the
// epoch they were computed from and are rejected if the CIB moved on
// (optimistic concurrency: a change commits atomically or not at all).
// Pacemaker's admin_epoch/epoch/num_updates are maintained: configuration
// changes bump epoch and reset num_updates, status changes bump
// num_updates.
//
// Concurrency: Apply, Snapshot and Restore are called by raft from one
// goroutine; Current may be called from any goroutine and returns an
// immutable value (never modify it; use the commands). Subscribers get a
// non-blocking notification after every applied command.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/gocrm/gocrm/cib"
)

// Version is the current command format version.
const Version = 1

// Command ops.
const (
	OpReplaceConfiguration = "replace-configuration"
	OpNodeState            = "node-state"
	OpSetNodeAttr          = "set-node-attr"
	OpDeleteNodeAttr       = "delete-node-attr"
	OpRecordOp             = "record-op"
	OpDeleteHistory        = "delete-history"
	OpClearNodeStatus      = "clear-node-status"
	OpSetCIBAttr           = "set-cib-attr"
)

// Command is one CIB change.
type Command struct {
	V  int    `json:"v"`
	Op string `json:"op"`
	// ExpectEpoch, when non-zero, rejects a configuration change computed
	// from an older CIB (admin_epoch.epoch must match).
	ExpectEpoch string `json:"expect_epoch,omitempty"`
	// XML is a <configuration> (or whole <cib>) for replace-configuration.
	XML string `json:"xml,omitempty"`
	// Node (uname) and NodeID address a node.
	Node   string `json:"node,omitempty"`
	NodeID string `json:"node_id,omitempty"`
	// Attrs are node_state attributes (node-state) or lrm_rsc_op
	// attributes (record-op).
	Attrs map[string]string `json:"attrs,omitempty"`
	// Name/Value for attribute commands; Transient selects the status
	// section (transient_attributes) instead of the node's configuration.
	Name      string `json:"name,omitempty"`
	Value     string `json:"value,omitempty"`
	Transient bool   `json:"transient,omitempty"`
	// Resource identifies an lrm_resource (record-op, delete-history).
	Resource string `json:"resource,omitempty"`
	Class    string `json:"class,omitempty"`
	Provider string `json:"provider,omitempty"`
	Type     string `json:"type,omitempty"`
}

// Encode serialises a command, setting its version.
func (c Command) Encode() []byte {
	c.V = Version
	b, _ := json.Marshal(c)
	return b
}

// Sentinel errors.
var (
	ErrBadCommand  = errors.New("malformed CIB command")
	ErrStaleEpoch  = errors.New("configuration changed since it was read")
	ErrUnknownNode = errors.New("unknown node")
)

// Store holds the current CIB.
type Store struct {
	mu   sync.RWMutex
	cur  *cib.CIB
	subs []chan struct{}
}

// New returns a store holding c (an empty CIB when nil).
func New(c *cib.CIB) *Store {
	if c == nil {
		c = Empty()
	}
	return &Store{cur: c}
}

// Empty returns an empty CIB like `cibadmin --empty`.
func Empty() *cib.CIB {
	c, err := cib.Parse([]byte(`<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="0" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>`))
	if err != nil {
		panic(err)
	}
	return c
}

// Current returns the current CIB. It must not be modified.
func (s *Store) Current() *cib.CIB {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur
}

// Subscribe returns a channel signalled (coalesced) after each change.
func (s *Store) Subscribe() <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs = append(s.subs, ch)
	s.mu.Unlock()
	return ch
}

func (s *Store) notify() {
	for _, ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Apply applies a command; it returns nil or an error (rejected command).
func (s *Store) Apply(_ uint64, data []byte) any {
	var c Command
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	if c.V != Version {
		return fmt.Errorf("%w: version %d, want %d", ErrBadCommand, c.V, Version)
	}
	s.mu.RLock()
	cur := s.cur
	s.mu.RUnlock()
	next, err := ApplyTo(cur, c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.cur = next
	s.notify()
	s.mu.Unlock()
	return nil
}

// Snapshot returns the CIB as XML.
func (s *Store) Snapshot() ([]byte, error) {
	return s.Current().Marshal(), nil
}

// Restore replaces the CIB with a snapshot.
func (s *Store) Restore(b []byte) error {
	c, err := cib.Parse(b)
	if err != nil {
		return fmt.Errorf("restore CIB snapshot: %w", err)
	}
	s.mu.Lock()
	s.cur = c
	s.notify()
	s.mu.Unlock()
	return nil
}

// EpochString returns "admin_epoch.epoch" of a CIB.
func EpochString(c *cib.CIB) string {
	return orZero(c.GetAttr("admin_epoch")) + "." + orZero(c.GetAttr("epoch"))
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func bump(c *cib.CIB, name string) {
	n, _ := strconv.Atoi(c.GetAttr(name))
	c.SetAttr(name, strconv.Itoa(n+1))
}

// shallow copies the CIB's top level so that status entries can be
// replaced without touching the original.
func shallow(c *cib.CIB) *cib.CIB {
	n := *c
	n.Attrs = append([]cib.Attr(nil), c.Attrs...)
	n.Status.Nodes = append([]*cib.NodeState(nil), c.Status.Nodes...)
	return &n
}

// ApplyTo returns the CIB after command c, leaving cur untouched.
func ApplyTo(cur *cib.CIB, c Command) (*cib.CIB, error) {
	switch c.Op {
	case OpReplaceConfiguration:
		return replaceConfiguration(cur, c)
	case OpSetCIBAttr:
		switch c.Name {
		case "have-quorum", "dc-uuid", "no-quorum-panic":
		default:
			return nil, fmt.Errorf("%w: cib attribute %q cannot be set", ErrBadCommand, c.Name)
		}
		next := shallow(cur)
		next.SetAttr(c.Name, c.Value)
		bump(next, "num_updates")
		return next, nil
	}
	if c.Node == "" && c.NodeID == "" {
		return nil, fmt.Errorf("%w: %s needs a node", ErrBadCommand, c.Op)
	}
	for _, k := range sortedKeys(c.Attrs) {
		if !cib.IsXMLName(k) {
			return nil, fmt.Errorf("%w: %s: attribute name %q is not an XML name", ErrBadCommand, c.Op, k)
		}
	}
	next := shallow(cur)
	switch c.Op {
	case OpNodeState:
		ns := nodeState(next, c, true)
		for _, k := range sortedKeys(c.Attrs) {
			if k == "id" || k == "uname" {
				continue
			}
			setAttr(&ns.Attrs, k, c.Attrs[k])
		}
		syncNodeFields(ns)
	case OpSetNodeAttr, OpDeleteNodeAttr:
		if c.Name == "" {
			return nil, fmt.Errorf("%w: %s needs a name", ErrBadCommand, c.Op)
		}
		if !c.Transient {
			return setConfigNodeAttr(cur, c)
		}
		ns := nodeState(next, c, true)
		setTransient(ns, c.Name, c.Value, c.Op == OpDeleteNodeAttr)
	case OpRecordOp:
		if c.Resource == "" || c.Attrs["id"] == "" || c.Attrs["operation"] == "" {
			return nil, fmt.Errorf("%w: record-op needs resource, id and operation", ErrBadCommand)
		}
		ns := nodeState(next, c, true)
		recordOp(ns, c)
	case OpDeleteHistory:
		ns := nodeState(next, c, false)
		if ns == nil {
			return cur, nil
		}
		deleteHistory(ns, c.Resource)
	case OpClearNodeStatus:
		// A node fenced before it ever joined gets a node_state too: it
		// records that the node is known down (not unseen, so not fenced
		// again by startup-fencing).
		ns := nodeState(next, c, true)
		ns.Resources = nil
		ns.Transient = nil
		for _, kv := range [][2]string{{"in_ccm", "false"}, {"crmd", "offline"}, {"join", "down"}, {"expected", "down"}} {
			setAttr(&ns.Attrs, kv[0], kv[1])
		}
		syncNodeFields(ns)
	default:
		return nil, fmt.Errorf("%w: unknown op %q", ErrBadCommand, c.Op)
	}
	bump(next, "num_updates")
	return next, nil
}

func replaceConfiguration(cur *cib.CIB, c Command) (*cib.CIB, error) {
	if c.ExpectEpoch != "" && c.ExpectEpoch != EpochString(cur) {
		return nil, fmt.Errorf("%w: expected epoch %s, CIB is at %s", ErrStaleEpoch, c.ExpectEpoch, EpochString(cur))
	}
	root, err := cib.ParseElement([]byte(c.XML))
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if root.Name == "cib" {
		root = root.Child("configuration")
		if root == nil {
			return nil, fmt.Errorf("%w: <cib> without <configuration>", ErrBadCommand)
		}
	}
	if root.Name != "configuration" {
		return nil, fmt.Errorf("%w: expected <configuration>, got <%s>", ErrBadCommand, root.Name)
	}
	wrapper := &cib.Element{Name: "cib", Attrs: append([]cib.Attr(nil), cur.Attrs...), Children: []*cib.Element{root, {Name: "status"}}}
	parsed, err := cib.FromElement(wrapper)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	next := shallow(cur)
	next.Config = parsed.Config
	bump(next, "epoch")
	next.SetAttr("num_updates", "0")
	return next, nil
}

func setConfigNodeAttr(cur *cib.CIB, c Command) (*cib.CIB, error) {
	next := shallow(cur)
	next.Config.Nodes = append([]*cib.Node(nil), cur.Config.Nodes...)
	idx := -1
	for i, n := range next.Config.Nodes {
		if n.Uname == c.Node || (c.NodeID != "" && n.ID == c.NodeID) {
			idx = i
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnknownNode, c.Node)
	}
	old := next.Config.Nodes[idx]
	n := *old
	n.Instance = nil
	var set *cib.NVSet
	for _, s := range old.Instance {
		cp := *s
		cp.Pairs = append([]*cib.NVPair(nil), s.Pairs...)
		n.Instance = append(n.Instance, &cp)
		if set == nil && len(s.Rules) == 0 && s.IDRef == "" {
			set = &cp
		}
	}
	if set == nil {
		set = &cib.NVSet{Kind: "instance_attributes", ID: "nodes-" + n.ID}
		n.Instance = append(n.Instance, set)
	}
	setPair(set, n.ID, c.Name, c.Value, c.Op == OpDeleteNodeAttr, "nodes-")
	next.Config.Nodes[idx] = &n
	bump(next, "epoch")
	next.SetAttr("num_updates", "0")
	return next, nil
}

func setPair(set *cib.NVSet, nodeID, name, value string, del bool, prefix string) {
	for i, p := range set.Pairs {
		if p.Name == name {
			if del {
				set.Pairs = append(set.Pairs[:i:i], set.Pairs[i+1:]...)
				return
			}
			cp := *p
			cp.Value, cp.HasValue = value, true
			set.Pairs[i] = &cp
			return
		}
	}
	if del {
		return
	}
	set.Pairs = append(set.Pairs, &cib.NVPair{ID: prefix + nodeID + "-" + name, Name: name, Value: value, HasValue: true})
}

// nodeState returns a private (copied) node_state for c's node, creating
// it when create is set.
func nodeState(next *cib.CIB, c Command, create bool) *cib.NodeState {
	for i, ns := range next.Status.Nodes {
		if (c.NodeID != "" && ns.ID == c.NodeID) || (c.Node != "" && ns.Uname == c.Node) {
			cp := copyNodeState(ns)
			next.Status.Nodes[i] = cp
			return cp
		}
	}
	if !create {
		return nil
	}
	id := c.NodeID
	if id == "" {
		id = c.Node
		for _, n := range next.Config.Nodes {
			if n.Uname == c.Node {
				id = n.ID
			}
		}
	}
	uname := c.Node
	if uname == "" {
		uname = id
	}
	ns := &cib.NodeState{ID: id, Uname: uname, Attrs: []cib.Attr{{Name: "id", Value: id}, {Name: "uname", Value: uname}}}
	next.Status.Nodes = append(next.Status.Nodes, ns)
	return ns
}

func copyNodeState(ns *cib.NodeState) *cib.NodeState {
	cp := *ns
	cp.Attrs = append([]cib.Attr(nil), ns.Attrs...)
	cp.Transient = nil
	for _, s := range ns.Transient {
		sc := *s
		sc.Pairs = append([]*cib.NVPair(nil), s.Pairs...)
		cp.Transient = append(cp.Transient, &sc)
	}
	cp.Resources = nil
	for _, r := range ns.Resources {
		rc := *r
		rc.Ops = append([]*cib.LRMOp(nil), r.Ops...)
		cp.Resources = append(cp.Resources, &rc)
	}
	return &cp
}

func setAttr(attrs *[]cib.Attr, name, value string) {
	for i := range *attrs {
		if (*attrs)[i].Name == name {
			(*attrs)[i].Value = value
			return
		}
	}
	*attrs = append(*attrs, cib.Attr{Name: name, Value: value})
}

func syncNodeFields(ns *cib.NodeState) {
	get := func(n string) string {
		for _, a := range ns.Attrs {
			if a.Name == n {
				return a.Value
			}
		}
		return ""
	}
	ns.InCCM, ns.Crmd, ns.Join, ns.Expected = get("in_ccm"), get("crmd"), get("join"), get("expected")
}

func setTransient(ns *cib.NodeState, name, value string, del bool) {
	ns.HasTransient = true
	if ns.TransientID == "" {
		ns.TransientID = ns.ID
	}
	if len(ns.Transient) == 0 {
		ns.Transient = []*cib.NVSet{{Kind: "instance_attributes", ID: "status-" + ns.ID}}
	}
	setPair(ns.Transient[0], ns.ID, name, value, del, "status-")
}

func recordOp(ns *cib.NodeState, c Command) {
	ns.HasLRM = true
	if ns.LRMID == "" {
		ns.LRMID = ns.ID
	}
	var res *cib.LRMResource
	for _, r := range ns.Resources {
		if r.ID == c.Resource {
			res = r
		}
	}
	if res == nil {
		res = &cib.LRMResource{ID: c.Resource, Class: c.Class, Provider: c.Provider, Type: c.Type}
		res.Attrs = []cib.Attr{{Name: "id", Value: c.Resource}}
		if c.Type != "" {
			res.Attrs = append(res.Attrs, cib.Attr{Name: "type", Value: c.Type})
		}
		if c.Class != "" {
			res.Attrs = append(res.Attrs, cib.Attr{Name: "class", Value: c.Class})
		}
		if c.Provider != "" {
			res.Attrs = append(res.Attrs, cib.Attr{Name: "provider", Value: c.Provider})
		}
		ns.Resources = append(ns.Resources, res)
	}
	el := &cib.Element{Name: "lrm_rsc_op"}
	order := []string{"id", "operation_key", "operation", "crm-debug-origin", "crm_feature_set", "transition-key", "transition-magic", "exit-reason", "on_node", "call-id", "rc-code", "op-status", "interval", "last-rc-change", "exec-time", "queue-time", "op-digest"}
	seen := map[string]bool{}
	for _, k := range order {
		if v, ok := c.Attrs[k]; ok {
			el.Set(k, v)
			seen[k] = true
		}
	}
	for _, k := range sortedKeys(c.Attrs) {
		if !seen[k] {
			el.Set(k, c.Attrs[k])
		}
	}
	op, err := cib.ParseLRMOpElement(el)
	if err != nil {
		return
	}
	for i, o := range res.Ops {
		if o.ID == op.ID {
			res.Ops[i] = op
			return
		}
	}
	res.Ops = append(res.Ops, op)
}

func deleteHistory(ns *cib.NodeState, rsc string) {
	var keep []*cib.LRMResource
	for _, r := range ns.Resources {
		if rsc != "" && r.ID != rsc {
			keep = append(keep, r)
		}
	}
	ns.Resources = keep
	// Clear fail counts and last failures for the resource.
	for _, s := range ns.Transient {
		var pairs []*cib.NVPair
		for _, p := range s.Pairs {
			if isFailAttr(p.Name, rsc) {
				continue
			}
			pairs = append(pairs, p)
		}
		s.Pairs = pairs
	}
}

func isFailAttr(name, rsc string) bool {
	for _, prefix := range []string{"fail-count-", "last-failure-"} {
		if len(name) > len(prefix) && name[:len(prefix)] == prefix {
			rest := name[len(prefix):]
			if rsc == "" || rest == rsc || (len(rest) > len(rsc) && rest[:len(rsc)] == rsc && (rest[len(rsc)] == '#' || rest[len(rsc)] == ':')) {
				return true
			}
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
