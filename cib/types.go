// Package cib models Pacemaker's Cluster Information Base (CIB) as typed Go
// values: the configuration (cluster options, nodes, resources, constraints,
// defaults, fencing topology, tags) and the status section (node states,
// resource operation history, transient node attributes).
//
// It reads every schema generation the Pacemaker 2.1.5 scheduler accepts
// (pacemaker-2.x and 3.x documents), writes Pacemaker 2.1.5 XML back, and
// provides the pure building blocks used by the scheduler: score arithmetic,
// rule evaluation against an injected "now", and name/value set (nvset)
// unpacking with Pacemaker's precedence rules.
//
// The package is pure: no I/O beyond byte slices, no wall clock. Values are
// not safe for concurrent mutation; treat a parsed *CIB as immutable once
// shared between goroutines and derive modified copies by re-parsing
// Marshal's output.
package cib

// CIB is a whole Cluster Information Base document.
type CIB struct {
	// Attributes of the <cib> element (admin_epoch, epoch, num_updates,
	// validate-with, have-quorum, dc-uuid, execution-date, ...), in order.
	Attrs  []Attr
	Config Configuration
	Status Status
}

// Configuration is the <configuration> section.
type Configuration struct {
	CRMConfig   []*NVSet // cluster_property_set
	Nodes       []*Node
	Resources   []*Resource // top-level resources in CIB order
	Templates   []*Resource // <template> elements (Kind == KindTemplate)
	Constraints []Constraint
	RscDefaults []*NVSet // meta_attributes of rsc_defaults
	OpDefaults  []*NVSet // meta_attributes of op_defaults
	Fencing     []*FencingLevel
	FencingID   string // id of fencing-topology, if any
	Tags        []*Tag
	// Other keeps configuration children the typed model does not cover
	// (acls, alerts) so they survive a round trip.
	Other []*Element
	// HasFencingTopology records an empty <fencing-topology/>.
	HasFencingTopology bool
	HasTags            bool
	RscDefaultsID      string
	OpDefaultsID       string
	HasRscDefaults     bool
	HasOpDefaults      bool
}

// NVSet is a meta_attributes / instance_attributes / utilization /
// cluster_property_set block.
type NVSet struct {
	Kind  string // element name
	ID    string
	IDRef string
	Score string // precedence score ("" = 0)
	Rules []*Rule
	Pairs []*NVPair
	Extra []Attr
	Line  int
}

// NVPair is one name/value pair.
type NVPair struct {
	ID    string
	IDRef string
	Name  string
	Value string
	// HasValue distinguishes value="" from an absent value.
	HasValue bool
	Extra    []Attr
}

// Node is a configured cluster node.
type Node struct {
	ID          string
	Uname       string
	Type        string
	Description string
	Score       string
	Instance    []*NVSet
	Utilization []*NVSet
	Extra       []Attr
	Line        int
}

// Resource kinds.
const (
	KindPrimitive = "primitive"
	KindGroup     = "group"
	KindClone     = "clone"
	KindMaster    = "master" // legacy promotable clone element
	KindBundle    = "bundle"
	KindTemplate  = "template"
)

// Resource is a primitive, group, clone (incl. promotable) or template.
type Resource struct {
	Kind        string
	ID          string
	Class       string
	Provider    string
	Type        string
	Template    string // template= reference (primitives)
	Description string
	Meta        []*NVSet
	Instance    []*NVSet
	Utilization []*NVSet
	Ops         []*Op
	OpsID       string
	HasOps      bool
	Children    []*Resource
	Extra       []Attr
	// Raw keeps unsupported resource elements (bundles) verbatim.
	Raw  *Element
	Line int
}

// Op is an <op> in a resource's <operations>.
type Op struct {
	ID             string
	IDRef          string
	Name           string
	Interval       string
	Role           string
	Timeout        string
	OnFail         string
	Enabled        string
	Requires       string
	StartDelay     string
	IntervalOrigin string
	RecordPending  string
	Description    string
	Meta           []*NVSet
	Instance       []*NVSet
	Extra          []Attr
}

// Constraint is one of *Location, *Colocation, *Order, or *RawConstraint.
type Constraint interface {
	ConstraintID() string
}

// ResourceSet is a <resource_set> inside a constraint.
type ResourceSet struct {
	ID         string
	IDRef      string
	Sequential string
	RequireAll string
	Ordering   string
	Action     string
	Role       string
	Score      string
	Kind       string
	Refs       []string
	Extra      []Attr
}

// Location is an rsc_location constraint.
type Location struct {
	ID                string
	Rsc               string
	RscPattern        string
	Role              string
	Score             string
	Node              string
	ResourceDiscovery string
	Rules             []*Rule
	Sets              []*ResourceSet
	Extra             []Attr
	Line              int
}

// Colocation is an rsc_colocation constraint.
type Colocation struct {
	ID            string
	Rsc           string
	WithRsc       string
	RscRole       string
	WithRscRole   string
	Score         string
	NodeAttribute string
	Influence     string
	RscInstance   string
	WithInstance  string
	Sets          []*ResourceSet
	Extra         []Attr
	Line          int
}

// Order is an rsc_order constraint.
type Order struct {
	ID          string
	First       string
	Then        string
	FirstAction string
	ThenAction  string
	Kind        string
	Score       string
	Symmetrical string
	RequireAll  string
	Sets        []*ResourceSet
	Extra       []Attr
	Line        int
}

// RawConstraint keeps constraints the model does not interpret (rsc_ticket).
type RawConstraint struct {
	El *Element
}

// ConstraintID implements Constraint.
func (c *Location) ConstraintID() string { return c.ID }

// ConstraintID implements Constraint.
func (c *Colocation) ConstraintID() string { return c.ID }

// ConstraintID implements Constraint.
func (c *Order) ConstraintID() string { return c.ID }

// ConstraintID implements Constraint.
func (c *RawConstraint) ConstraintID() string { return c.El.Get("id") }

// FencingLevel is one fencing-level of the fencing-topology.
type FencingLevel struct {
	ID              string
	Target          string
	TargetPattern   string
	TargetAttribute string
	TargetValue     string
	Index           string
	Devices         string
	Extra           []Attr
}

// Tag groups resource ids under a name.
type Tag struct {
	ID   string
	Refs []string
}

// Rule is a <rule>. Exprs holds *Expression, *DateExpression, *Rule,
// *RscExpression and *OpExpression in document order.
type Rule struct {
	ID             string
	IDRef          string
	Score          string
	ScoreAttribute string
	BooleanOp      string
	Role           string
	Exprs          []any
	Extra          []Attr
}

// Expression is a node attribute <expression>.
type Expression struct {
	ID          string
	Attribute   string
	Operation   string
	Value       string
	Type        string
	ValueSource string
	Extra       []Attr
}

// DateExpression is a <date_expression>.
type DateExpression struct {
	ID        string
	Operation string
	Start     string
	End       string
	DateSpec  *DateSpec
	Duration  *DateSpec
	Extra     []Attr
}

// DateSpec is a <date_spec> or <duration>; values keep Pacemaker's range syntax.
type DateSpec struct {
	ID     string
	Fields []Attr // hours, monthdays, weekdays, yeardays, months, weeks, years, weekyears, moon, minutes, seconds
}

// RscExpression is an <rsc_expression>.
type RscExpression struct {
	ID, Class, Provider, Type string
}

// OpExpression is an <op_expression>.
type OpExpression struct {
	ID, Name, Interval string
}

// Status is the <status> section.
type Status struct {
	Nodes []*NodeState
}

// NodeState is a <node_state>.
type NodeState struct {
	ID           string
	Uname        string
	InCCM        string
	Crmd         string
	Join         string
	Expected     string
	Attrs        []Attr // every attribute in document order (incl. the above)
	Transient    []*NVSet
	TransientID  string
	HasTransient bool
	LRMID        string
	HasLRM       bool
	Resources    []*LRMResource
	Line         int
}

// LRMResource is one resource's operation history on a node.
type LRMResource struct {
	ID        string
	Class     string
	Provider  string
	Type      string
	Container string
	Attrs     []Attr
	Ops       []*LRMOp
}

// LRMOp is one recorded operation (lrm_rsc_op). Attrs holds every attribute.
type LRMOp struct {
	Attrs []Attr
	// Parsed fields (from Attrs).
	ID              string
	Operation       string
	OperationKey    string
	Interval        int64 // milliseconds
	OpStatus        int
	RCCode          int
	CallID          int
	OpDigest        string
	TransitionKey   string
	TransitionMagic string
	LastRCChange    int64
	LastRun         int64
	ExitReason      string
	OnNode          string
}

// Get returns an attribute of the operation.
func (o *LRMOp) Get(name string) string {
	for _, a := range o.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

// GetAttr returns a <cib> element attribute.
func (c *CIB) GetAttr(name string) string {
	for _, a := range c.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

// SetAttr sets a <cib> element attribute.
func (c *CIB) SetAttr(name, value string) {
	for i := range c.Attrs {
		if c.Attrs[i].Name == name {
			c.Attrs[i].Value = value
			return
		}
	}
	c.Attrs = append(c.Attrs, Attr{name, value})
}
