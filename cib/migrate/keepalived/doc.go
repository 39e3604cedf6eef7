// Package keepalived reads keepalived.conf files into typed Go values.
//
// It is the front end of `crmd keepalived -f keepalived.conf` (run gocrm as a
// keepalived drop-in) and of `crm migrate keepalived FILE` (convert a
// keepalived configuration into a CIB). It understands keepalived 2.2.7's
// syntax: whitespace separated words, nested { } blocks, '#' and '!'
// comments, double-quoted strings, `include` with globs (relative to the
// including file), `@ID` / `@^ID` conditional lines, and `$NAME=value`
// parameter definitions with `$NAME` / `${NAME}` substitution.
//
// The typed model covers global_defs, vrrp_instance, vrrp_sync_group,
// vrrp_script, track_file, virtual_server (with real_server and all health
// checkers), virtual_server_group and the static_* blocks. Every value keeps
// the file:line it came from (see [Val] and [Pos]). After parsing, values
// that were not given in the file hold keepalived's default and have
// Val.Set == false.
//
// Unknown or unsupported keywords become warnings ([Config.Warnings]);
// malformed input (unbalanced braces, bad numbers, out-of-range values,
// invalid addresses, missing required fields) is an error naming file:line
// and the field. [Config.Validate] checks cross references (tracked scripts
// and files, sync group members, virtual server groups, duplicate VRIDs).
//
// The package is pure: it does no I/O except reading files through the
// [fs.FS] passed by the caller, and it never panics on any input. To read
// the real file system, root the FS at "/" and say so in Options.Root, so
// that absolute include paths resolve and positions show real paths:
//
//	cfg, err := keepalived.Load(os.DirFS("/"), "etc/keepalived/keepalived.conf",
//		keepalived.Options{Root: "/", ConfigID: hostname})
//
// Tests use fstest.MapFS the same way. Parsing functions are safe for concurrent use; a *Config is a plain
// value and must not be mutated concurrently (Validate appends to its
// Warnings).
package keepalived
