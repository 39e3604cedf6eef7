package consensus

import "github.com/gocrm/gocrm/membership"

// ServersFromMembers selects the raft voters among membership members: every
// member with role voter or arbiter (an arbiter is a full raft voter that
// runs no resources) and a raft address. Raft IDs are node names. Use it to
// feed MaybeBootstrap and the leader's AddServer reconciliation.
func ServersFromMembers(members []membership.Member) []Server {
	var out []Server
	for _, m := range members {
		if m.Meta.RaftAddr == "" || m.Meta.Leaving {
			continue
		}
		switch m.Meta.Role {
		case membership.RoleVoter, membership.RoleArbiter:
			out = append(out, Server{ID: m.Name, Address: m.Meta.RaftAddr, Voter: true})
		}
	}
	return out
}
