// Package netlab holds the network-namespace failover lab test: three
// crmd processes, each in its own network namespace joined by veth pairs
// to a bridge in a fourth namespace, run a group of gocrm's built-in
// agents (Filesystem on a loop-device ext4 image, the VIP agent, httpd)
// while a client in a fifth namespace polls http://VIP/ every 10 ms.
//
// TestFailoverLab crashes the node running the group (link down, SIGKILL
// of every process in its namespace) and puts the active node in standby,
// and reports the client-visible outage of each. It checks that the group
// restarts on exactly one other node, that the filesystem is mounted in
// exactly that node's mount namespace, and that the client never sees
// answers from two servers interleaved.
//
// The test needs root, iproute2, util-linux (losetup), e2fsprogs
// (mkfs.ext4) and the Go toolchain (it builds crmd and crm); it skips
// with the reason otherwise and in -short mode. Every address it uses is
// inside 10.99.0.0/24 in namespaces it creates; namespaces, the loop
// device, mounts and processes are removed in t.Cleanup, also on failure.
// Only processes inside the test's own namespaces are ever signalled.
//
// The package has no non-test code. The test binary doubles as the web
// server the httpd resource runs (argument "netlab-httpd", see TestMain).
package netlab
