// Package membership is gocrm's gossip membership layer, the role corosync's
// CPG/totem membership plays for Pacemaker. It wraps hashicorp/memberlist
// v0.6.0 and adds what the cluster needs on top of raw gossip:
//
//   - a mandatory AES-GCM keyring loaded from a root-owned, mode-0600 key
//     file (memberlist v0.6.0 lacks several remote-input DoS fixes, so only
//     key holders may reach its decoder; see cluster-design.md §1.2);
//   - the memberlist Label set to the cluster name, so two clusters sharing a
//     network never merge;
//   - compact, versioned node metadata (name, raft address, role,
//     incarnation) validated on admission;
//   - one timing knob, [Config.FailureDetection], mapped onto memberlist's
//     probe/suspicion/gossip parameters;
//   - membership events (join, leave, failed, update) delivered on a bounded
//     channel with a documented drop-oldest policy, consumed by the raft
//     leader (the DC) to reconcile raft peers and CIB node state;
//   - memberlist's *log.Logger output adapted into an injected slog.Logger.
//
// Membership is advisory: it says who is reachable, never who may act.
// Decisions that need agreement go through raft (package crm/consensus).
package membership
