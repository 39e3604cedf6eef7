// Package crmsyntax reads and writes the crm shell's configure language
// (crmsh 4.4.1 and the current 5.x spelling) on top of the typed CIB model
// in package cib.
//
// A Session applies configure-level statements (node, primitive,
// rsc_template, group, clone, ms/master, location, colocation, order,
// property, rsc_defaults, op_defaults, fencing_topology, tag, rsc_ticket,
// monitor, plus the session commands delete, rename, erase and filter) to a
// *cib.Configuration, generating element ids exactly as crmsh 4.4.1 does.
// Like "crm -f", a failing statement is reported with its line and column
// and skipped; the others still apply. Session.Update replaces existing
// objects instead of refusing them (for "edit" and "load update").
// CheckCommit emulates the schema checks Pacemaker runs when crmsh commits;
// Session.ConfigElement gives the XML including what only the session
// records (operations id-refs).
//
// Show prints a configuration as "crm configure show" does (object order,
// " \" continuations, quoting, secret masking), in the classic dialect
// (ms, Master/Slave) or the current one (promotable clones,
// Promoted/Unpromoted).
//
// The package is pure: no I/O, no clock, no goroutines.
package crmsyntax
