package scheduler

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
)

// ErrUnsupported is wrapped when the CIB uses a feature the scheduler does
// not implement; the error names the element so the plan is never silently
// wrong.
var ErrUnsupported = errors.New("unsupported feature")

// ErrUnknownResource is returned when a named resource is not configured.
var ErrUnknownResource = errors.New("no such resource")

// clusterDefaults are Pacemaker 2.1.5's cluster option defaults.
var clusterDefaults = map[string]string{
	"no-quorum-policy":         "stop",
	"symmetric-cluster":        "true",
	"stonith-enabled":          "true",
	"stonith-action":           "reboot",
	"startup-fencing":          "true",
	"stop-orphan-resources":    "true",
	"stop-orphan-actions":      "true",
	"maintenance-mode":         "false",
	"stop-all-resources":       "false",
	"concurrent-fencing":       "false",
	"start-failure-is-fatal":   "true",
	"cluster-recheck-interval": "15min",
	"batch-limit":              "0",
	"node-health-strategy":     "none",
	"placement-strategy":       "default",
	"shutdown-lock":            "false",
	"priority-fencing-delay":   "0",
	"stonith-timeout":          "60s",
	"have-watchdog":            "false",
	"enable-startup-probes":    "true",
	"node-health-green":        "0",
	"node-health-yellow":       "0",
	"node-health-red":          "-INFINITY",
	"stonith-max-attempts":     "10",
	"election-timeout":         "2min",
	"shutdown-escalation":      "20min",
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "y", "1":
		return true
	}
	return false
}

// naturalLess orders names with embedded numbers numerically (node2 < node10).
func naturalLess(a, b string) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si := i
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			sj := j
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na := strings.TrimLeft(a[si:i], "0")
			nb := strings.TrimLeft(b[sj:j], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			continue
		}
		la, lb := lower(ca), lower(cb)
		if la != lb {
			return la < lb
		}
		i++
		j++
	}
	return len(a)-i < len(b)-j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

// Unpack builds the working set from a CIB. now is the evaluation time for
// rules and failure timeouts; if zero, the CIB's execution-date is used, and
// failing that the Unix epoch (deterministic, never the wall clock).
func Unpack(c *cib.CIB, now time.Time) (*Cluster, error) {
	cl := &Cluster{CIB: c, Index: cib.NewIndex(&c.Config), nodeByName: map[string]*Node{}, nodeByID: map[string]*Node{}, byID: map[string]*Resource{}}
	if now.IsZero() {
		if ed := c.GetAttr("execution-date"); ed != "" {
			if n, err := strconv.ParseInt(ed, 10, 64); err == nil {
				now = time.Unix(n, 0).UTC()
				cl.ExecutionDate = true
			}
		}
	}
	cl.Now = now
	ctx := &cib.RuleContext{Now: now, Index: cl.Index, NodeAttrs: map[string]string{}}
	cl.Options = cib.UnpackNVSets(c.Config.CRMConfig, ctx, "cib-bootstrap-options", nil)
	for k, v := range clusterDefaults {
		if _, ok := cl.Options[k]; !ok {
			cl.Options[k] = v
		}
	}
	// Legacy option names.
	if v, ok := cl.Options["default-resource-stickiness"]; ok {
		_ = v
	}
	cl.StonithEnabled = isTrue(cl.Options["stonith-enabled"])
	if v, ok := cl.Options["fencing-enabled"]; ok {
		cl.StonithEnabled = isTrue(v)
	}
	cl.SymmetricCluster = isTrue(cl.Options["symmetric-cluster"])
	cl.StartupFencing = isTrue(cl.Options["startup-fencing"])
	cl.StonithAction = cl.Options["stonith-action"]
	if cl.StonithAction == "poweroff" {
		cl.StonithAction = "off"
	}
	cl.ConcurrentFencing = isTrue(cl.Options["concurrent-fencing"])
	cl.StopOrphanResources = isTrue(cl.Options["stop-orphan-resources"])
	cl.shutdownLock = isTrue(cl.Options["shutdown-lock"])
	if v := cl.Options["shutdown-lock-limit"]; v != "" {
		if ms, err := cib.ParseIntervalMS(v); err == nil {
			cl.shutdownLockLimit = ms / 1000
		}
	}
	cl.StopOrphanActions = isTrue(cl.Options["stop-orphan-actions"])
	cl.MaintenanceMode = isTrue(cl.Options["maintenance-mode"])
	cl.StopAllResources = isTrue(cl.Options["stop-all-resources"])
	cl.NoQuorumPolicy = cl.Options["no-quorum-policy"]
	hq := c.GetAttr("have-quorum")
	cl.HaveQuorum = isTrue(hq)
	if cl.NoQuorumPolicy == "suicide" && !cl.StonithEnabled {
		cl.NoQuorumPolicy = "stop"
	}
	cl.rscDefaults = cib.UnpackNVSets(c.Config.RscDefaults, &cib.RuleContext{Now: now, Index: cl.Index}, "", nil)
	cl.opDefaults = c.Config.OpDefaults
	for _, set := range c.Config.RscDefaults {
		if len(set.Rules) > 0 {
			cl.rscDefaultsHaveRules = true
		}
	}

	if err := cl.unpackNodes(); err != nil {
		return nil, err
	}
	cl.Unfencing = cl.StonithEnabled && cl.unfencingEnabled()
	if err := cl.unpackResources(); err != nil {
		return nil, err
	}
	if err := cl.unpackStatus(); err != nil {
		return nil, err
	}
	return cl, nil
}

func (cl *Cluster) unpackNodes() error {
	for _, n := range cl.CIB.Config.Nodes {
		if n.Type == "remote" || n.Type == "ping" {
			if n.Type == "remote" {
				return fmt.Errorf("node %q: remote nodes: %w", n.Uname, ErrUnsupported)
			}
		}
		node := &Node{ID: n.ID, Name: n.Uname, Type: n.Type, Attrs: map[string]string{}, BaseScore: cib.Score(n.Score)}
		ctx := &cib.RuleContext{Now: cl.Now, Index: cl.Index, NodeAttrs: map[string]string{"#uname": n.Uname, "#id": n.ID, "#kind": "cluster"}}
		cib.UnpackNVSets(n.Instance, ctx, "", node.Attrs)
		node.Attrs["#uname"] = n.Uname
		node.Attrs["#id"] = n.ID
		node.Attrs["#kind"] = "cluster"
		if isTrue(node.Attrs["standby"]) {
			node.Standby = true
		}
		if isTrue(node.Attrs["maintenance"]) {
			node.Maintenance = true
		}
		if cl.StonithEnabled && cl.StartupFencing {
			node.Unclean = true
		}
		node.Unseen = true
		cl.Nodes = append(cl.Nodes, node)
		cl.nodeByName[node.Name] = node
		cl.nodeByID[node.ID] = node
	}
	sort.SliceStable(cl.Nodes, func(i, j int) bool { return naturalLess(cl.Nodes[i].Name, cl.Nodes[j].Name) })
	for i, n := range cl.Nodes {
		n.index = i
	}
	if dc := cl.CIB.GetAttr("dc-uuid"); dc != "" {
		if n := cl.nodeByID[dc]; n != nil {
			n.IsDC = true
			cl.DCNode = n
		}
	}
	for _, n := range cl.Nodes {
		n.Attrs["#is_dc"] = strconvBool(n.IsDC)
		if v, ok := cl.Options["cluster-name"]; ok {
			n.Attrs["#cluster-name"] = v
		}
	}
	return nil
}

// metaFor evaluates a resource's meta attributes (own, then inherited from
// parents, then rsc_defaults).
func (cl *Cluster) metaFor(def *cib.Resource, parent *Resource) map[string]string {
	ctx := &cib.RuleContext{Now: cl.Now, Index: cl.Index, RscClass: def.Class, RscProv: def.Provider, RscType: def.Type}
	m := cib.UnpackNVSets(def.Meta, ctx, "", nil)
	if def.Template != "" {
		if t := cl.Index.Resources[def.Template]; t != nil {
			cib.UnpackNVSets(t.Meta, ctx, "", m)
		}
	}
	if parent != nil {
		for k, v := range parent.Meta {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
	}
	return m
}

func (cl *Cluster) unpackResources() error {
	for _, def := range cl.CIB.Config.Resources {
		r, err := cl.buildResource(def, nil, -1)
		if err != nil {
			return err
		}
		cl.Resources = append(cl.Resources, r)
	}
	sort.SliceStable(cl.Resources, func(i, j int) bool { return cl.Resources[i].Priority > cl.Resources[j].Priority })
	for _, p := range cl.primitives {
		if id := p.Meta["container"]; id != "" {
			if c := cl.byID[id]; c != nil && c != p {
				p.container = c
			}
		}
	}
	return nil
}

func (cl *Cluster) register(r *Resource) {
	cl.byID[r.ID] = r
	if r.Kind == cib.KindPrimitive {
		cl.primitives = append(cl.primitives, r)
	}
}

func suffix(inst int) string {
	if inst < 0 {
		return ""
	}
	return ":" + strconv.Itoa(inst)
}

func (cl *Cluster) buildResource(def *cib.Resource, parent *Resource, inst int) (*Resource, error) {
	if def.Kind == cib.KindBundle {
		return nil, fmt.Errorf("resource %q: bundles: %w", def.ID, ErrUnsupported)
	}
	r := &Resource{ID: def.ID + suffix(inst), BaseID: def.ID, Kind: def.Kind, Parent: parent, Def: def, Role: RoleStopped, NextRole: RoleUnknown,
		knownOn: map[string]bool{}, failNodes: map[string]bool{}, lastFailure: map[string]*cib.LRMOp{}, opHistory: map[string][]*cib.LRMOp{},
		stopFailed: map[string]bool{}, allowed: map[string]int{}, actions: map[string]*Action{}, discoverNever: map[string]bool{}}
	if def.Kind == cib.KindMaster {
		r.Kind = cib.KindClone
	}
	r.Meta = cl.metaFor(def, parent)
	if def.Kind == cib.KindPrimitive {
		r.Class, r.Provider, r.Type = def.Class, def.Provider, def.Type
		var tmpl *cib.Resource
		if def.Template != "" {
			tmpl = cl.Index.Resources[def.Template]
			if tmpl != nil {
				if r.Class == "" {
					r.Class = tmpl.Class
				}
				if r.Provider == "" {
					r.Provider = tmpl.Provider
				}
				if r.Type == "" {
					r.Type = tmpl.Type
				}
			}
		}
		ctx := &cib.RuleContext{Now: cl.Now, Index: cl.Index, RscClass: r.Class, RscProv: r.Provider, RscType: r.Type}
		r.Params = cib.UnpackNVSets(def.Instance, ctx, "", nil)
		ops := def.Ops
		if tmpl != nil {
			cib.UnpackNVSets(tmpl.Instance, ctx, "", r.Params)
			ops = append(append([]*cib.Op(nil), def.Ops...), tmpl.Ops...)
		}
		// A template's operation is overridden by the primitive's own with
		// the same name, interval and role; duplicates within one
		// definition are kept (they cancel each other, see duplicateOp).
		own := map[string]bool{}
		for i, o := range ops {
			if o.IDRef != "" {
				if t := cl.Index.Ops[o.IDRef]; t != nil {
					o = t
				}
			}
			iv, _ := cib.ParseIntervalMS(o.Interval)
			key := o.Name + "_" + strconv.FormatInt(iv, 10) + "_" + o.Role
			if i < len(def.Ops) {
				own[key] = true
			} else if own[key] {
				continue
			}
			octx := &cib.RuleContext{Now: cl.Now, Index: cl.Index, RscClass: r.Class, RscProv: r.Provider, RscType: r.Type, OpName: o.Name, OpInterval: iv, HasOp: true}
			om := cib.UnpackNVSets(o.Meta, octx, "", nil)
			op := &Op{ID: o.ID, Name: o.Name, Interval: iv, Role: cib.NormalizeRole(o.Role), Timeout: o.Timeout, OnFail: o.OnFail, Enabled: o.Enabled == "" || isTrue(o.Enabled), Meta: om,
				Params: cib.UnpackNVSets(o.Instance, octx, "", nil)}
			if op.OnFail == "" {
				op.OnFail = om["on-fail"]
			}
			if v, ok := om["enabled"]; ok && o.Enabled == "" {
				op.Enabled = isTrue(v)
			}
			if op.Timeout == "" {
				op.Timeout = om["timeout"]
			}
			r.Ops = append(r.Ops, op)
		}
		r.IsStonith = r.Class == "stonith"
		if r.IsStonith {
			cl.HasStonithRsc = true
		}
	}
	defaults := cl.rscDefaults
	if cl.rscDefaultsHaveRules {
		defaults = cib.UnpackNVSets(cl.CIB.Config.RscDefaults, &cib.RuleContext{Now: cl.Now, Index: cl.Index, RscClass: r.Class, RscProv: r.Provider, RscType: r.Type}, "", nil)
	}
	get := func(name string) (string, bool) {
		if v, ok := r.Meta[name]; ok {
			return v, true
		}
		v, ok := defaults[name]
		return v, ok
	}
	r.Priority = 0
	if v, ok := get("priority"); ok {
		r.Priority = cib.Score(v)
	}
	r.Managed = !cl.MaintenanceMode
	if v, ok := get("is-managed"); ok {
		r.Managed = isTrue(v) && !cl.MaintenanceMode
	}
	if v, ok := get("maintenance"); ok && isTrue(v) {
		r.Managed = false
	}
	r.Stickiness = 0
	if v, ok := get("resource-stickiness"); ok {
		r.Stickiness = cib.Score(v)
	} else if v, ok := cl.Options["default-resource-stickiness"]; ok {
		r.Stickiness = cib.Score(v)
	}
	r.MigrationThreshold = cib.Infinity
	if v, ok := get("migration-threshold"); ok {
		r.MigrationThreshold = cib.Score(v)
	}
	if v, ok := get("failure-timeout"); ok {
		ms, _ := cib.ParseIntervalMS(v)
		r.FailureTimeout = ms / 1000
	}
	r.TargetRole = RoleStarted
	if v, ok := get("target-role"); ok {
		r.TargetRole = cib.NormalizeRole(v)
		if strings.EqualFold(v, "started") || strings.EqualFold(v, "default") {
			r.TargetRole = RoleStarted
		}
	}
	r.MultipleActive = "stop_start"
	if v, ok := get("multiple-active"); ok {
		r.MultipleActive = v
	}
	r.Critical = true
	if v, ok := get("critical"); ok {
		r.Critical = isTrue(v)
	}
	// requires
	switch {
	case r.IsStonith:
		r.Requires = "quorum"
	case !cl.StonithEnabled:
		r.Requires = "quorum"
	default:
		r.Requires = "fencing"
	}
	if v, ok := get("requires"); ok {
		switch v {
		case "nothing", "quorum":
			r.Requires = v
		case "fencing", "unfencing":
			if cl.StonithEnabled && !r.IsStonith {
				r.Requires = v
			}
		}
	} else if !r.IsStonith && cl.Unfencing {
		r.Requires = "unfencing"
	} else if !r.IsStonith && cl.StonithEnabled {
		r.Requires = "fencing"
	} else if !r.IsStonith && cl.NoQuorumPolicy == "ignore" {
		r.Requires = "nothing"
	}
	cl.register(r)

	switch r.Kind {
	case cib.KindGroup:
		for _, cd := range def.Children {
			child, err := cl.buildResource(cd, r, inst)
			if err != nil {
				return nil, err
			}
			r.Children = append(r.Children, child)
		}
	case cib.KindClone:
		r.Promotable = def.Kind == cib.KindMaster || isTrue(r.Meta["promotable"])
		if isTrue(r.Meta["globally-unique"]) {
			return nil, fmt.Errorf("clone %q: globally-unique clones: %w", def.ID, ErrUnsupported)
		}
		nn := len(cl.CIB.Config.Nodes)
		r.CloneMax = nn
		if v, ok := r.Meta["clone-max"]; ok {
			r.CloneMax = cib.Score(v)
		}
		r.CloneNodeMax = 1
		if v, ok := r.Meta["clone-node-max"]; ok && isTrue(r.Meta["globally-unique"]) {
			// Anonymous clones support only one instance per node.
			r.CloneNodeMax = cib.Score(v)
		}
		r.PromotedMax = 1
		for _, k := range []string{"promoted-max", "master-max"} {
			if v, ok := r.Meta[k]; ok {
				r.PromotedMax = cib.Score(v)
				break
			}
		}
		r.PromotedNodeMax = 1
		for _, k := range []string{"promoted-node-max", "master-node-max"} {
			if v, ok := r.Meta[k]; ok {
				r.PromotedNodeMax = cib.Score(v)
				break
			}
		}
		r.CloneMin = cib.Score(r.Meta["clone-min"])
		r.Interleave = isTrue(r.Meta["interleave"])
		r.Ordered = isTrue(r.Meta["ordered"])
		r.Notify = isTrue(r.Meta["notify"])
		if _, ok := get("resource-stickiness"); !ok {
			// Clones default to stickiness 1, which instances inherit.
			r.Stickiness = 1
			r.Meta["resource-stickiness"] = "1"
		}
		if len(def.Children) != 1 {
			return nil, fmt.Errorf("clone %q: needs exactly one child", def.ID)
		}
		for i := 0; i < r.CloneMax; i++ {
			if err := cl.addInstance(r); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func (cl *Cluster) addInstance(clone *Resource) error {
	inst := clone.instanceNum
	clone.instanceNum++
	child, err := cl.buildResource(clone.Def.Children[0], clone, inst)
	if err != nil {
		return err
	}
	clone.Children = append(clone.Children, child)
	return nil
}

func strconvBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
