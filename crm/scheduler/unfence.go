package scheduler

import "github.com/gocrm/gocrm/cib"

// Unfencing: when a fence device provides unfencing (meta
// provides=unfencing, as fence_scsi-style devices do), a node must be
// unfenced ("on" fencing action) before it probes or starts resources that
// need it, and again when a device's definition on it changes. Resources
// then require unfencing by default; fence devices themselves only quorum.

// unfencingEnabled reports whether a fence device in the configuration
// provides unfencing. It looks at every stonith primitive, wherever it is
// defined, before resources are built (their "requires" default depends on
// it).
func (cl *Cluster) unfencingEnabled() bool {
	var walk func(rs []*cib.Resource) bool
	walk = func(rs []*cib.Resource) bool {
		for _, r := range rs {
			if r.Kind == cib.KindPrimitive && r.Class == "stonith" {
				for _, set := range r.Meta {
					for _, nv := range set.Pairs {
						if nv.Name == "provides" && nv.Value == "unfencing" {
							return true
						}
					}
				}
			}
			if walk(r.Children) {
				return true
			}
		}
		return false
	}
	return walk(cl.CIB.Config.Resources)
}

// nodeUnfenced reports whether n was unfenced since it joined (the
// controller records the time in the #node-unfenced node attribute).
func nodeUnfenced(n *Node) bool {
	v := n.Attrs["#node-unfenced"]
	return v != "" && v != "0"
}

// needsUnfencing reports whether r's probes and starts wait for unfencing.
func (cl *Cluster) needsUnfencing(r *Resource) bool {
	return (r.IsStonith && cl.Unfencing) || r.Requires == "unfencing"
}

// unfenceOp returns the node's unfencing action, creating it optional.
func (cl *Cluster) unfenceOp(n *Node) *Action {
	if a := cl.unfenceOps[n]; a != nil {
		return a
	}
	a := &Action{ID: cl.nextActionID, Task: "stonith", Node: n, Optional: true, Runnable: true, FenceAction: "on"}
	cl.nextActionID++
	cl.Actions = append(cl.Actions, a)
	if cl.unfenceOps == nil {
		cl.unfenceOps = map[*Node]*Action{}
	}
	cl.unfenceOps[n] = a
	return a
}

// triggerUnfencing makes n's unfencing required (with reason, if it has
// none yet) when n is up, clean and not shutting down.
func (cl *Cluster) triggerUnfencing(n *Node, reason string) {
	if !cl.Unfencing || n == nil || !n.Online || n.Unclean || n.Shutdown {
		return
	}
	a := cl.unfenceOp(n)
	if a.Optional && cl.canFence(n) {
		a.Optional = false
		if a.Reason == "" {
			a.Reason = reason
		}
	} else if a.Reason == "" {
		a.Reason = reason
	}
}

// orderVsUnfence orders n's unfencing before action (a probe or start of r
// on n) and requires the unfencing if n was never unfenced.
func (cl *Cluster) orderVsUnfence(r *Resource, n *Node, action *Action, flags int) {
	if !cl.Unfencing || n == nil || !cl.needsUnfencing(r) {
		return
	}
	u := cl.unfenceOp(n)
	cl.order(u, action, flags)
	if !nodeUnfenced(n) {
		cl.triggerUnfencing(n, "required by "+r.ID+" "+action.Task)
	}
}

// unfencingOrderings orders, on every usable node, the stops of resources
// requiring unfencing before the node's unfencing and their starts after
// it: unfencing a node restarts what needs it there.
func (cl *Cluster) unfencingOrderings() {
	if !cl.Unfencing {
		return
	}
	for _, r := range cl.primitives {
		if r.IsStonith || r.Requires != "unfencing" {
			continue
		}
		for _, n := range cl.Nodes {
			if !n.Online || n.Unclean {
				continue
			}
			u := cl.unfenceOp(n)
			if st := cl.findAction(r, "stop", n); st != nil {
				cl.order(st, u, ordOptional)
			}
			for _, st := range cl.findActions(r, "start") {
				if st.Node == n {
					cl.order(u, st, ordImpliesThen)
				}
			}
		}
	}
}

// unfenceForProbes requires, before any resource action exists, the
// unfencing that probes will need on nodes never unfenced. Pacemaker
// schedules probes before resource actions, so a probe names the reason
// ("required by DEVICE monitor") even when a start needs it too.
func (cl *Cluster) unfenceForProbes() {
	if !cl.Unfencing {
		return
	}
	for _, r := range cl.primitives {
		if r.Orphan || !cl.needsUnfencing(r) {
			continue
		}
		for _, n := range cl.Nodes {
			if !n.Online || n.Unclean || n.Pending || nodeUnfenced(n) || r.discoverNever[n.Name] || cl.knownAnywhereInClone(r, n) {
				continue
			}
			cl.triggerUnfencing(n, "required by "+r.ID+" monitor")
		}
	}
}

// knownAnywhereInClone reports whether n has history for r or, in an
// anonymous clone, for another instance of the same primitive.
func (cl *Cluster) knownAnywhereInClone(r *Resource, n *Node) bool {
	if r.knownOn[n.Name] {
		return true
	}
	ca := cloneAncestor(r)
	if ca == nil {
		return false
	}
	for _, inst := range ca.Children {
		for _, p := range inst.Primitives() {
			if p.BaseID == r.BaseID && p.knownOn[n.Name] {
				return true
			}
		}
	}
	return false
}
