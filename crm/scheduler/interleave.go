package scheduler

import "github.com/gocrm/gocrm/cib"

// interleaved reports whether ordering o between two clones pairs their
// instances node by node: the "then" clone's interleave meta attribute
// decides, except that an ordering whose "then" action is a stop or demote
// (the inverse of a start or promote ordering) takes it from the "first"
// clone, the "then" clone of the original ordering.
func interleaved(o *ordering) bool {
	if !o.first.IsClone() || !o.then.IsClone() {
		return false
	}
	if o.thenAction == "stop" || o.thenAction == "demote" {
		return o.first.Interleave
	}
	return o.then.Interleave
}

// instanceFlags returns the ordering flags that an ordering from f to a
// clone's collective action t carries over to x, the matching action of
// one of t's instances (0: none). An instance action on the first
// action's node gets them all; elsewhere, only the requirement travels:
// a required first action makes every instance's action required (a
// restart of "P" restarts every instance of a clone ordered after it),
// while the other flags are judged on the first action's node only.
func instanceFlags(f, t, x *Action, flags int) int {
	if !t.Rsc.IsClone() || f.Node == nil || x.Node == f.Node {
		return flags
	}
	return flags & ordImpliesThen
}

// summaryOnly reports whether a is a collective's completion pseudo
// action (group or clone running, stopped, promoted, demoted) whose
// children all leave the task optional: its flags only summarise theirs,
// so an ordering cannot make it required on its own.
func summaryOnly(a *Action) bool {
	task, ok := doneToTask[a.Task]
	if !ok || a.Rsc == nil || a.Rsc.Kind == cib.KindPrimitive || a.isNotification() {
		return false
	}
	for _, p := range a.Rsc.Primitives() {
		for _, x := range p.actionList {
			if x.Task == task && x.Interval == 0 && !x.Optional && !x.isNotification() {
				return false
			}
		}
	}
	return true
}
