// Package scheduler is gocrm's policy engine: a pure function from a CIB
// (configuration + status) and an injected "now" to a transition (the actions
// to run, their orderings, and the Transition Summary), with Pacemaker 2.1.5
// semantics. It performs no I/O and never reads the wall clock.
//
// The pipeline mirrors Pacemaker's: Unpack builds a Cluster (node states,
// resource states from the operation history, fail-counts); Schedule applies
// location constraints, stickiness and failure thresholds, assigns resources
// to nodes (colocations, groups, clones), creates actions and orderings and
// propagates runnable/required flags to a fixed point.
//
// A Cluster is owned by one goroutine at a time; it is not safe for
// concurrent use.
package scheduler

import (
	"time"

	"github.com/gocrm/gocrm/cib"
)

// Roles.
const (
	RoleUnknown    = "Unknown"
	RoleStopped    = "Stopped"
	RoleStarted    = "Started"
	RoleUnpromoted = "Unpromoted"
	RolePromoted   = "Promoted"
)

func roleRank(r string) int {
	switch r {
	case RoleStopped:
		return 1
	case RoleStarted:
		return 2
	case RoleUnpromoted:
		return 3
	case RolePromoted:
		return 4
	}
	return 0
}

// Node is a cluster node and its state.
type Node struct {
	ID    string
	Name  string
	Type  string
	Attrs map[string]string // node attributes (config + transient), incl. #uname

	Online        bool
	Unclean       bool
	UncleanReason string
	Unseen        bool
	Pending       bool
	Standby       bool
	StandbyOnFail bool
	Maintenance   bool
	Shutdown      bool
	ExpectedUp    bool
	IsDC          bool
	Remote        bool
	// Fenced marks a node that this transition will fence.
	Fenced bool
	// BaseScore is the node's own score attribute: every resource starts
	// there with it in a symmetric cluster.
	BaseScore int

	Running     []*Resource // primitives active here
	numAssigned int
	index       int
}

// Available reports whether the node may run resources.
func (n *Node) Available() bool {
	return n.Online && !n.Unclean && !n.Standby && !n.Maintenance && !n.Shutdown && !n.Pending
}

// Op is an operation definition of a primitive.
type Op struct {
	ID       string
	Name     string
	Interval int64 // ms
	Role     string
	Timeout  string
	OnFail   string
	Enabled  bool
	Meta     map[string]string
	Params   map[string]string
}

// Resource is a primitive, group, clone or clone instance.
type Resource struct {
	ID       string // unique id; clone instances carry ":N"
	BaseID   string // id without the instance suffix
	Kind     string // primitive, group, clone
	Class    string
	Provider string
	Type     string
	Parent   *Resource
	Children []*Resource
	Def      *cib.Resource

	Meta   map[string]string
	Params map[string]string
	Ops    []*Op

	// Configuration-derived policy.
	Priority           int
	Stickiness         int
	MigrationThreshold int
	FailureTimeout     int64 // seconds
	Managed            bool
	TargetRole         string
	Requires           string // nothing, quorum, fencing, unfencing
	IsStonith          bool
	Critical           bool
	MultipleActive     string
	// stopUnexpected: multiply active with multiple-active=stop_unexpected
	// and staying on a node it runs on (set while creating actions).
	stopUnexpected bool

	// Clone policy.
	Promotable      bool
	CloneMax        int
	CloneNodeMax    int
	PromotedMax     int
	PromotedNodeMax int
	Interleave      bool
	Ordered         bool
	Notify          bool
	GloballyUnique  bool
	CloneMin        int
	instanceNum     int
	cloneName       string
	// orderPriority orders a clone's instances for assignment: the
	// configured priority, raised for a promotable clone's instance to its
	// best promotion score on an available node (set by addPromotionScores).
	orderPriority int

	// Current state (from the status section).
	RunningOn    []*Node
	Role         string
	Failed       bool
	Orphan       bool
	Blocked      bool
	PendingOp    string
	startPending bool            // a start is still in progress
	knownOn      map[string]bool // nodes with any history (probed)
	// activeByMonitor: nodes where a monitor, not a start, found the
	// resource active (a promotable instance is then unpromoted).
	activeByMonitor map[string]bool
	failNodes       map[string]bool // nodes with failed ops (for crm_mon)
	lastFailure     map[string]*cib.LRMOp
	opHistory       map[string][]*cib.LRMOp // per node, sorted by call-id
	stopFailed      map[string]bool
	onFail          string
	notManagedOn    []string
	stopOnly        bool
	container       *Resource
	forceStopOn     map[string]bool
	defChange       bool
	failureIgnored  bool
	// containerFailureIgnored: a failure inside a container was taken as
	// success, the container restarting instead (shown "failure ignored").
	containerFailureIgnored bool
	expiredOn               []*Node
	reload                  bool
	reschedule              []int64
	rescheduleOn            []rescheduleOp
	early                   []earlyAction
	cancels                 []cancelOp
	clearFailcount          []*Node
	agentChanged            map[string]bool // nodes whose history is for another agent
	lockNode                *Node           // shutdown lock (shutdown-lock=true)
	lockTime                int64
	lockExpiredOn           []*Node // nodes whose history lock expired: lrm_delete
	hardBanned              []string
	// unpackStopOn holds the nodes whose history makes Pacemaker create
	// this resource's stop while unpacking the status (a failure to
	// recover where the resource is active); the stop keeps that early id.
	unpackStopOn map[string]bool
	// activeCloneName is the history id (other than its own id) of the
	// last entry that left this instance active on its node.
	activeCloneName string
	// lastCloneName is the last history id other than its own id this
	// instance was found under; unlike cloneName, an entry under the own
	// id does not clear it (Pacemaker's clone_name).
	lastCloneName string

	// Placement.
	allowed       map[string]int // node name -> score
	Assigned      *Node
	NextRole      string
	provisional   bool
	assigning     bool
	thisWith      []*colocation // this resource depends on others
	withThis      []*colocation // others depend on this
	discoverNever map[string]bool

	actions    map[string]*Action
	actionList []*Action
}

// IsClone reports whether r is a clone (promotable or not).
func (r *Resource) IsClone() bool { return r.Kind == cib.KindClone }

// Top returns the top-level ancestor.
func (r *Resource) Top() *Resource {
	for r.Parent != nil {
		r = r.Parent
	}
	return r
}

// Primitives returns all primitive descendants (or r itself).
func (r *Resource) Primitives() []*Resource {
	if r.Kind == cib.KindPrimitive {
		return []*Resource{r}
	}
	var out []*Resource
	for _, c := range r.Children {
		out = append(out, c.Primitives()...)
	}
	return out
}

// Active reports whether the resource runs anywhere.
func (r *Resource) Active() bool {
	if r.Kind == cib.KindPrimitive {
		return len(r.RunningOn) > 0
	}
	for _, c := range r.Children {
		if c.Active() {
			return true
		}
	}
	return false
}

// activeNode returns the node a primitive is considered active on: the first
// clean, online node it runs on, else the first node.
func (r *Resource) activeNode() *Node {
	for _, n := range r.RunningOn {
		if n.Online && !n.Unclean {
			return n
		}
	}
	if len(r.RunningOn) > 0 {
		return r.RunningOn[0]
	}
	return nil
}

// CurrentNode returns the node a primitive runs on if exactly one.
func (r *Resource) CurrentNode() *Node {
	if len(r.RunningOn) == 1 {
		return r.RunningOn[0]
	}
	return nil
}

// Cluster is the unpacked working set.
type Cluster struct {
	CIB   *cib.CIB
	Index *cib.Index
	Now   time.Time

	Options    map[string]string
	Nodes      []*Node // natural order by name
	nodeByName map[string]*Node
	nodeByID   map[string]*Node
	Resources  []*Resource // top level, priority order
	byID       map[string]*Resource
	primitives []*Resource

	HaveQuorum          bool
	NoQuorumPolicy      string
	StonithEnabled      bool
	SymmetricCluster    bool
	StartupFencing      bool
	StonithAction       string
	ConcurrentFencing   bool
	StopOrphanResources bool
	StopOrphanActions   bool
	MaintenanceMode     bool
	StopAllResources    bool
	DCNode              *Node
	HasStonithRsc       bool
	// Unfencing: a fence device provides unfencing (meta
	// provides=unfencing); resources then require unfencing by default.
	Unfencing     bool
	unfenceOps    map[*Node]*Action // each node's unfencing action, once created
	ExecutionDate bool
	// Sanitized mirrors crm_simulate: a changed history entry whose secure
	// digest still matches is unchanged (only private parameters changed).
	Sanitized bool

	rscDefaults          map[string]string
	rscDefaultsHaveRules bool
	opDefaults           []*cib.NVSet

	locations   []*location
	colocations []*colocation
	orders      []*ordering
	relaxed     []*relaxedOrder

	// Transition.
	Actions      []*Action
	nextActionID int
	// clusterWideFlags is set while collective orderings are pushed to
	// children.
	clusterWideFlags  bool
	warnings          []string
	fencing           []*Action
	scores            []ScoreLine
	noScores          bool  // do not record ScoreLines (Options.NoScores)
	shutdownLock      bool  // shutdown-lock
	shutdownLockLimit int64 // shutdown-lock-limit, seconds (0: none)
	explain           *explainer
	// notifs holds each notifying clone's notification boundaries by task.
	notifs map[*Resource]map[string]*notifyOps
	// notifyActs indexes instance notify actions by key and node.
	notifyActs map[string]*Action
	// stoppedRecurring lists the Stopped-role recurring operations, ordered
	// after probes and stops once those exist.
	// baseClone maps a primitive base id to its outermost clone ancestor
	// (nil: none), for mapping history entries to instances.
	baseClone        map[string]*Resource
	stoppedRecurring []*Action
	// inhibited holds, per collective action of an interleaved "then"
	// clone, the instances an interleaved ordering unassigned: their
	// actions change when the propagation reaches that action (see
	// inhibit).
	inhibited map[*Action][]*Resource
}

// Warnings returns the configuration problems noticed while scheduling.
func (c *Cluster) Warnings() []string { return c.warnings }

// NodeByName returns a node by uname.
func (c *Cluster) NodeByName(n string) *Node { return c.nodeByName[n] }

// Resource returns a resource by id (instances as "id:N").
func (c *Cluster) Resource(id string) *Resource { return c.byID[id] }

// ContainerFailureIgnored reports whether a failure of r (a resource inside
// a container) was taken as success of the operation because its
// container restarts instead; status shows it as "failure ignored".
func (r *Resource) ContainerFailureIgnored() bool { return r.containerFailureIgnored }

// CloneName is the last history id other than the instance id that an
// anonymous clone instance was found under (Pacemaker's clone_name: an
// entry "web:1" mapped to instance "web:0", or the entry an orphan instance
// was created for; a later entry under the instance's own id keeps it),
// else "". Read only after scheduling; not safe to call while the Cluster
// is being scheduled.
func (r *Resource) CloneName() string { return r.lastCloneName }

// ActiveCloneName is the history id of the last history entry that left
// an anonymous clone instance active on its node when that id differs
// from the instance id ("web:1" for instance "web:0"), else "": the name
// under which the instance's executor knows it. The same concurrency
// contract as CloneName applies.
func (r *Resource) ActiveCloneName() string { return r.activeCloneName }

// HistoryID is the id under which a primitive's operations are recorded on
// a node and sent to its executor, as Pacemaker's transition graph names
// it: the history entry the instance was found under; else, for an
// instance of an anonymous clone (at most one per node), the primitive's
// own id ("web", not "web:1", so a node keeps one history whatever
// instance number the scheduler gives it); else the resource id.
func (r *Resource) HistoryID() string {
	if r.cloneName != "" {
		return r.cloneName
	}
	if c := cloneAncestor(r); c != nil && !c.GloballyUnique && c.CloneNodeMax <= 1 && r.BaseID != "" {
		return r.BaseID
	}
	return r.ID
}
