// Package cluster holds black-box tests of a running gocrm cluster: they
// build bin/crmd and bin/crm into a temporary directory, start a 3-node
// sandbox cluster on 127.0.0.1 (`crm sandbox up`) in the test's temporary
// directory, drive it only through the crm command line, signals to the
// crmd processes the sandbox started and the nodes' log files, and tear it
// down again (`crm sandbox down --purge`, signalling only the pids recorded
// in that sandbox's pid files).
//
// The fencing tests check that a frozen (SIGSTOPped) node is fenced before
// its resource is started elsewhere, that a resource is never active on two
// nodes, and that recovery waits while the fence device fails and completes
// once it works again; meanwhile `crm status` says that recovery waits for
// the fencing (with the last failed attempt, and crm_mon's "Failed Fencing
// Actions") and `crm stonith history` lists the failed attempts, then the
// success.
//
// The security tests (security_test.go) run the real crmd and crm: a user
// that is neither root nor in the administrative group cannot change the
// CIB through the control socket (SO_PEERCRED, even with the socket's file
// permissions opened), a read-only role lets it read, and a key file
// readable by group or others (or owned by another user) stops crmd with a
// clear message. Running crm as uid 65534 needs root; they skip otherwise.
//
// TestFreezeDuringActionFencedPromptly freezes a node while the DC waits on
// an action there: the lost action fails at once and the node is fenced
// after failure detection, not after the action's timeout.
//
// The two-node tests (twonode_test.go) check that two-node-mode is refused
// without a fence device, and run 20 partitions of a two-node-mode pair:
// each must end with exactly one survivor running the resources and the
// other fenced, which then rejoins as a voter. The partitions need root, a
// private network namespace, cgroup v2 and iptables (Debian package
// "iptables"): see twonode_helpers_test.go; they skip otherwise.
//
// The tests need Linux (/proc) and the Go toolchain but not root (except
// the two-node partitions); they are skipped under -short. Run them with:
//
//	go test -count=1 -v ./test/cluster/
package cluster
