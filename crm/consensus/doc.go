// Package consensus is gocrm's replicated-log layer: a thin, opinionated
// wrapper around hashicorp/raft v1.7.3 with raft-boltdb/v2 storage. It plays
// the part of corosync's totem ordering plus the CIB replication of
// Pacemaker's pacemaker-based: every CIB change is a raft log entry applied,
// in the same order, to a state machine on every node.
//
// The package knows nothing about the CIB. Callers plug in a generic FSM
// (Apply/Snapshot/Restore over byte slices); package cib provides the real one.
// What the wrapper adds to raft:
//
//   - storage under Config.DataDir (raft.db for log and stable store,
//     snapshots/ for FSM snapshots);
//   - a Transport that multiplexes raft and a small write-forwarding RPC over
//     one StreamLayer (mutual TLS 1.3 with per-node certificates authorised
//     against the cluster members, tls.go and tlspki.go; or plain TCP), and
//     an in-memory network for tests;
//   - Apply from any node: followers forward writes to the leader (see
//     forward.go for the wire protocol);
//   - bootstrap-expect (MaybeBootstrap), explicit Bootstrap, AddServer as a
//     non-voter promoted once caught up, RemoveServer only on explicit call;
//   - ForceSingleVoter (recover.go): the fence-gated, in-process rewrite of
//     the configuration to a single voter that two-node-mode uses after its
//     peer was fenced; the Node, its LeaderCh and forwarding survive the
//     swap of the underlying *raft.Raft;
//   - a storage guard (diskguard.go): a node whose raft log, stable or
//     snapshot writes fail (full disk, I/O errors) gives up leadership,
//     never votes for itself until a probe write in its data dir succeeds,
//     reports it (StorageHealth, StorageHealthCh), and waits instead of
//     panicking when it cannot save a new term;
//   - a non-blocking, latest-value-wins leader observation channel;
//   - one documented timing profile (Timing) and an hclog→slog adapter.
//
// The raft leader is gocrm's DC. Leadership as reported here is a hint: code
// that actuates (fencing, resource moves) must first call Barrier (once per
// leadership term) and must stop as soon as LeaderCh reports loss.
package consensus
