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
// explanation, MapTransport maps the media to a gossip port, interfaces and
// join peers, and DeriveClusterKey turns the active authkeys secret into a
// 32-byte cluster key. Migrate ties everything together.
//
// Decisions where heartbeat's own behaviour or the reference left room:
//
//   - haresources: "#" starts a comment anywhere (also inside a token); the
//     comment is removed before a trailing "\" is looked for, so
//     "a \ # note" continues. Empty "::" arguments are dropped (the shell's
//     word splitting). The group number (group_<n>) counts resource lines,
//     not physical lines, as in the reference parse.
//   - The reference translation is reproduced exactly, including the copied
//     IPaddr empty-field quirk of case 19 (reported as a warning, not a flag
//     line, as expected.crm has none). Beyond the reference: a resource whose
//     current agent requires a parameter the v1 wrapper did not (Filesystem
//     fstype, SendArp nic, WinPopup hostfile) is flagged; a drbddisk-only line
//     gets a role=Promoted location rule on its clone; DRBD clones use
//     clone-max=2 (DRBD 8 peers); ids that collide get a _2, _3 suffix (node
//     names share the id space); stonith/stonith_host and ping/ping_group
//     lines become flag lines after the property line (STONITH parameters
//     are never copied: they hold passwords) and, with STONITH configured,
//     stonith-enabled=false is omitted.
//   - ha.cf: unknown directives are errors (heartbeat refuses them); tuning
//     directives without an equivalent are warnings; a repeated single-valued
//     directive warns and the last value wins.
//   - authkeys: only lines whose first non-blank is "#" are comments (a "#"
//     inside a secret is kept); any group/other permission bit is a problem
//     (0600 and 0400 pass); crc with a secret and text after the secret are
//     problems.
//
// The package is pure: no exec, no network, no wall clock. Files are passed as
// bytes or read through an fs.FS (LoadInputs). All functions are safe for
// concurrent use; the returned values are not shared with other callers.
package heartbeat
