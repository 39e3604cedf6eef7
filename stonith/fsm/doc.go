// Package fsm is the pure core of gocrm's fencing (STONITH) subsystem, the
// deterministic part of what Pacemaker's pacemaker-fenced does.
//
// It parses and validates the fencing configuration (cluster options
// stonith-*, per-device pcmk_* parameters, fencing-topology levels), turns
// a fence request into an ordered attempt plan (BuildPlan: levels,
// devices, the node executing each device action, timeouts, tries and the
// initial delay from pcmk_delay_base/pcmk_delay_max and
// priority-fencing-delay), and steps through that plan as results arrive
// (Operation), producing a fencing-history Record with a stable JSON form.
//
// The package does no I/O, starts no goroutines and never reads the wall
// clock: callers pass "now" and a Rand. All values are plain data;
// Topology and Plan are immutable and safe to share, an Operation is owned
// by one driver (package stonith's Executor).
package fsm
