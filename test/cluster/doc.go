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
// once it works again.
//
// TestFreezeDuringActionFencedPromptly freezes a node while the DC waits on
// an action there: the lost action fails at once and the node is fenced
// after failure detection, not after the action's timeout.
//
// The tests need Linux (/proc) and the Go toolchain but not root; they are
// skipped under -short. Run them with:
//
//	go test -count=1 -v ./test/cluster/
package cluster
