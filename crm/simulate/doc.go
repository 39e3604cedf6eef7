// Package simulate reproduces Pacemaker 2.1.5's crm_simulate text output on
// top of gocrm's pure scheduler: the crm_mon-style "Current cluster status"
// rendering, the Transition Summary, a simulated execution of the transition
// graph ("Executing Cluster Transition") in the order Pacemaker's graph
// executor fires actions, and the "Revised Cluster Status" computed by
// applying the executed actions to a copy of the CIB status section and
// unpacking it again.
//
// The package is pure: it reads and writes only in-memory values and
// io.Writers and never consults the wall clock (the caller injects "now").
// Functions are safe for concurrent use as long as callers do not share a
// *cib.CIB being mutated; Run never modifies the CIB it is given.
package simulate
