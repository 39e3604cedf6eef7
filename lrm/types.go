package lrm

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
)

// Action names understood by the LRM (OCF action names).
const (
	OpStart    = "start"
	OpStop     = "stop"
	OpMonitor  = "monitor"
	OpPromote  = "promote"
	OpDemote   = "demote"
	OpReload   = "reload"
	OpNotify   = "notify"
	OpMetaData = "meta-data"
	OpValidate = "validate-all"
	// OpProbe is accepted by LRM.Execute as shorthand for a one-shot
	// monitor (interval 0); results carry Op "monitor" and key rsc_monitor_0.
	OpProbe = "probe"
	// Migration actions are passed through to OCF scripts; built-in,
	// LSB and systemd agents answer Unimplemented.
	OpMigrateTo   = "migrate_to"
	OpMigrateFrom = "migrate_from"
)

var knownOps = map[string]bool{
	OpStart: true, OpStop: true, OpMonitor: true, OpPromote: true, OpDemote: true,
	OpReload: true, OpNotify: true, OpMetaData: true, OpValidate: true,
	OpProbe: true, OpMigrateTo: true, OpMigrateFrom: true,
}

// ExecStatus is Pacemaker's operation execution status (the op-status
// attribute of lrm_rsc_op), with Pacemaker's numbering. It says whether the
// agent's exit code (RC) is meaningful: only StatusDone results carry a real
// agent exit code; the others carry a synthetic one.
type ExecStatus int

// Execution statuses, numbered as Pacemaker's enum pcmk_exec_status.
const (
	StatusUnknown      ExecStatus = -2
	StatusPending      ExecStatus = -1
	StatusDone         ExecStatus = 0  // the agent ran; RC is its exit code
	StatusCancelled    ExecStatus = 1  // cancelled before completion
	StatusTimeout      ExecStatus = 2  // killed after the timeout
	StatusNotSupported ExecStatus = 3  // action not supported by the class
	StatusError        ExecStatus = 4  // executor-side failure (exec, signal)
	StatusErrorHard    ExecStatus = 5  // failure that should ban the node
	StatusErrorFatal   ExecStatus = 6  // failure that should stop the resource everywhere
	StatusNotInstalled ExecStatus = 7  // agent or unit not found
	StatusNotConnected ExecStatus = 8  // executor unavailable (e.g. no D-Bus)
	StatusInvalid      ExecStatus = 9  // request invalid (bad parameter names, ...)
	StatusNoFenceDev   ExecStatus = 10 // unused by the LRM; kept for numbering
	StatusNoTarget     ExecStatus = 11 // unused by the LRM; kept for numbering
)

var statusNames = map[ExecStatus]string{
	StatusUnknown: "unknown", StatusPending: "pending", StatusDone: "complete",
	StatusCancelled: "Cancelled", StatusTimeout: "Timed Out",
	StatusNotSupported: "NOT SUPPORTED", StatusError: "Error",
	StatusErrorHard: "Hard error", StatusErrorFatal: "Fatal error",
	StatusNotInstalled: "Not installed", StatusNotConnected: "Internal communication failure",
	StatusInvalid: "Cannot execute now", StatusNoFenceDev: "No fence device",
	StatusNoTarget: "No target",
}

// String returns the label Pacemaker uses for the status.
func (s ExecStatus) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return "status " + strconv.Itoa(int(s))
}

// Resource identifies a resource instance and its agent.
type Resource struct {
	ID    string    // resource instance, including clone suffix ("web:1")
	Agent agent.Key // class:provider:type
}

// Action is one agent invocation handed to an Executor.
type Action struct {
	Rsc      Resource
	Op       string            // OCF action name (never OpProbe: probes are monitors with Interval 0)
	Interval time.Duration     // recurring interval (0 for one-shot actions and probes)
	Timeout  time.Duration     // action timeout; ctx carries the same deadline
	Params   map[string]string // instance attributes
	Meta     map[string]string // meta attributes, as in agent.Call.Meta
}

// Result is an Executor's outcome for one action.
type Result struct {
	RC     agent.RC
	Status ExecStatus
	Reason string // exit reason
	Output string // agent stdout (bounded); meta-data XML for OpMetaData
	Stderr string // agent stderr (bounded)
}

// OpKey returns Pacemaker's operation key, e.g. "web_monitor_10000".
func OpKey(rsc, op string, interval time.Duration) string {
	return fmt.Sprintf("%s_%s_%d", rsc, op, interval.Milliseconds())
}

// OpResult is delivered to the LRM's result callback for every completed
// (or cancelled) operation. It carries everything the DC records in the
// CIB's lrm_rsc_op entries.
type OpResult struct {
	Rsc      Resource
	Op       string        // action name ("monitor" for probes)
	Interval time.Duration // 0 for one-shot actions
	Key      string        // OpKey(rsc, op, interval)
	CallID   int64         // increasing per LRM; recurring monitors keep theirs
	Term     uint64        // DC term of the request
	UserData string        // Request.UserData, echoed (e.g. the transition key)
	// JoinedTo is, for a request that joined an identical one in flight
	// instead of running (see LRM.Execute), the call ID of the execution
	// whose outcome this is; 0 for a result of its own.
	JoinedTo int64

	RC     agent.RC
	Status ExecStatus
	Reason string
	Output string
	Stderr string

	QueueTime    time.Duration // from request (or recurring tick) to start
	ExecTime     time.Duration // agent run time
	Finished     time.Time     // when the result was produced
	LastRCChange time.Time     // when this op key last returned a different RC
}

// Executor runs single agent actions of one agent class. Implementations
// must be safe for concurrent use (the LRM calls them for different
// resources in parallel), must honour ctx (its deadline is the action
// timeout) and must report a timed-out action with StatusTimeout.
type Executor interface {
	Exec(ctx context.Context, a Action) Result
}

// ms renders a duration as Pacemaker's millisecond meta values.
func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
