package membership

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hashicorp/memberlist"
)

// MetaVersion is the encoding version written as the first byte of node
// metadata. Decoders reject other versions; fields appended after the known
// ones within the same version are ignored, so a version may grow compatibly.
const MetaVersion byte = 1

// MaxMetaSize is the upper bound on encoded metadata, memberlist's own limit
// (memberlist panics on larger metadata, so we refuse it up front).
const MaxMetaSize = memberlist.MetaMaxSize

// maxMetaString bounds each string field, keeping the encoding far from
// MaxMetaSize and rejecting absurd values early.
const maxMetaString = 200

// ErrInvalidMeta is returned (wrapped) when node metadata cannot be encoded or
// decoded.
var ErrInvalidMeta = errors.New("invalid node metadata")

// Role says what a node contributes to the cluster.
type Role uint8

const (
	// RoleVoter is a full node: a raft voter that may also run resources.
	RoleVoter Role = 1
	// RoleArbiter is a raft voter that never runs resources (design D1, the
	// third-site tie breaker). It still counts toward bootstrap-expect.
	RoleArbiter Role = 2
)

// String returns "voter" or "arbiter".
func (r Role) String() string {
	switch r {
	case RoleVoter:
		return "voter"
	case RoleArbiter:
		return "arbiter"
	default:
		return fmt.Sprintf("role(%d)", uint8(r))
	}
}

// ParseRole parses "voter" or "arbiter".
func ParseRole(s string) (Role, error) {
	switch s {
	case "voter":
		return RoleVoter, nil
	case "arbiter":
		return RoleArbiter, nil
	}
	return 0, fmt.Errorf("%w: unknown role %q (want voter or arbiter)", ErrInvalidMeta, s)
}

func (r Role) valid() bool { return r == RoleVoter || r == RoleArbiter }

// Meta is the metadata every node gossips about itself.
type Meta struct {
	// Name is the node name; it must equal the memberlist node name.
	Name string
	// RaftAddr is the host:port where the node's raft transport listens.
	RaftAddr string
	// Role is the node's cluster role.
	Role Role
	// Incarnation is the application-level boot incarnation (for example a
	// boot counter or start time), not memberlist's internal incarnation. The
	// leader compares it with fencing records to re-admit a fenced node.
	Incarnation uint64
	// Leaving is set by Agent.Leave just before the leave message, so peers
	// can tell a graceful leave from a failure (memberlist v0.6.0 reports
	// both through the same callback without saying which).
	Leaving bool
}

const flagLeaving byte = 1 << 0

// Encode returns the compact wire form:
//
//	version(1) | role(1) | flags(1) | uvarint incarnation | uvarint len + name | uvarint len + raftAddr
//
// It fails with ErrInvalidMeta if a field is invalid or the result would
// exceed MaxMetaSize.
func (m Meta) Encode() ([]byte, error) {
	if m.Name == "" {
		return nil, fmt.Errorf("%w: empty node name", ErrInvalidMeta)
	}
	if len(m.Name) > maxMetaString {
		return nil, fmt.Errorf("%w: node name is %d bytes (max %d)", ErrInvalidMeta, len(m.Name), maxMetaString)
	}
	if len(m.RaftAddr) > maxMetaString {
		return nil, fmt.Errorf("%w: raft address is %d bytes (max %d)", ErrInvalidMeta, len(m.RaftAddr), maxMetaString)
	}
	if !m.Role.valid() {
		return nil, fmt.Errorf("%w: %s", ErrInvalidMeta, m.Role)
	}
	b := make([]byte, 0, 3+binary.MaxVarintLen64*3+len(m.Name)+len(m.RaftAddr))
	var flags byte
	if m.Leaving {
		flags |= flagLeaving
	}
	b = append(b, MetaVersion, byte(m.Role), flags)
	b = binary.AppendUvarint(b, m.Incarnation)
	b = binary.AppendUvarint(b, uint64(len(m.Name)))
	b = append(b, m.Name...)
	b = binary.AppendUvarint(b, uint64(len(m.RaftAddr)))
	b = append(b, m.RaftAddr...)
	if len(b) > MaxMetaSize {
		return nil, fmt.Errorf("%w: encoded size %d exceeds %d bytes", ErrInvalidMeta, len(b), MaxMetaSize)
	}
	return b, nil
}

// DecodeMeta parses metadata produced by Encode. It never panics on
// arbitrary input.
func DecodeMeta(b []byte) (Meta, error) {
	var m Meta
	if len(b) > MaxMetaSize {
		return m, fmt.Errorf("%w: %d bytes exceeds %d", ErrInvalidMeta, len(b), MaxMetaSize)
	}
	if len(b) < 3 {
		return m, fmt.Errorf("%w: %d bytes is too short", ErrInvalidMeta, len(b))
	}
	if b[0] != MetaVersion {
		return m, fmt.Errorf("%w: unsupported version %d (want %d)", ErrInvalidMeta, b[0], MetaVersion)
	}
	m.Role = Role(b[1])
	if !m.Role.valid() {
		return m, fmt.Errorf("%w: %s", ErrInvalidMeta, m.Role)
	}
	m.Leaving = b[2]&flagLeaving != 0 // unknown flag bits are ignored
	rest := b[3:]
	inc, n := binary.Uvarint(rest)
	if n <= 0 {
		return m, fmt.Errorf("%w: bad incarnation", ErrInvalidMeta)
	}
	m.Incarnation = inc
	rest = rest[n:]
	var err error
	if m.Name, rest, err = readString(rest, "name"); err != nil {
		return m, err
	}
	if m.Name == "" {
		return m, fmt.Errorf("%w: empty node name", ErrInvalidMeta)
	}
	if m.RaftAddr, _, err = readString(rest, "raft address"); err != nil {
		return m, err
	}
	return m, nil
}

func readString(b []byte, field string) (string, []byte, error) {
	l, n := binary.Uvarint(b)
	if n <= 0 {
		return "", nil, fmt.Errorf("%w: bad %s length", ErrInvalidMeta, field)
	}
	b = b[n:]
	if l > maxMetaString || l > uint64(len(b)) {
		return "", nil, fmt.Errorf("%w: %s length %d out of range", ErrInvalidMeta, field, l)
	}
	return string(b[:l]), b[l:], nil
}
