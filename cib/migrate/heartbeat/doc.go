// Package heartbeat migrates heartbeat v1 (3.0.6) configurations to gocrm.
//
// It reads the three files of a heartbeat v1 cluster and turns them into
// things gocrm understands:
//
//   - haresources (ParseHAResources): the ResourceManager grammar, including
//     continuation lines, comments, bare IP tokens meaning IPaddr::token, the
//     "::" argument separator and the wrappers' IP spec splitting quirks;
//   - ha.cf (ParseHACF): every directive of ha.cf(5), in file order (udpport
//     and baud only affect media declared after them), times with units;
//   - authkeys (ParseAuthkeys): validated like heartbeat does, every problem
//     reported with file:line.
//
// Translate renders the parsed haresources and ha.cf as crm configure text
// following the reference translation policy of
// ../shared/heartbeat-cases/README.md (groups, preferred-node locations,
// auto_failback as stickiness, resource.d wrappers as OCF agents, init scripts
// as lsb:, "# ..." flag lines for what needs a human). MapTiming maps the ha.cf
// timers to membership (gossip failure detection) timing with a human
// explanation, and DeriveClusterKey turns the active authkeys secret into a
// 32-byte cluster key. Migrate ties everything together.
//
// The package is pure: no exec, no network, no wall clock. Files are passed as
// bytes or read through an fs.FS (LoadInputs). All functions are safe for
// concurrent use; the returned values are not shared with other callers.
package heartbeat
