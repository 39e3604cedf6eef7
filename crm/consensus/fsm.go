package consensus

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
)

// FSM is the replicated state machine plugged into a Node (package cib
// provides the CIB one).
//
// Concurrency contract: raft calls Apply, Snapshot and Restore from a single
// goroutine, never concurrently with each other. Apply must be deterministic:
// every node applies the same entries in the same order and must reach the
// same state. Snapshot must be quick (it blocks Apply): return an encoding of
// the current state, ideally of an immutable value captured by pointer;
// Restore must discard all current state and rebuild it from b.
type FSM interface {
	// Apply applies one committed command at log index. The return value is
	// the command's response: nil, an error (the command was rejected; the
	// caller gets a *CommandError), []byte, string, an
	// encoding.BinaryMarshaler, or any other value, which is JSON-encoded.
	// Responses are normalised so that local and forwarded Apply calls
	// return the same Result.
	Apply(index uint64, cmd []byte) any
	// Snapshot returns the full state.
	Snapshot() ([]byte, error)
	// Restore replaces the full state with a snapshot.
	Restore(b []byte) error
}

// ErrCommandRejected is wrapped by *CommandError.
var ErrCommandRejected = errors.New("command rejected by state machine")

// CommandError reports that the FSM returned an error for a command. The
// entry is still committed at Index (the rejection is itself replicated
// state). Only the message crosses the forwarding RPC, so match with
// errors.Is(err, ErrCommandRejected), not with FSM-specific sentinels.
type CommandError struct {
	Index uint64
	Msg   string
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("%s at index %d: %s", ErrCommandRejected, e.Index, e.Msg)
}

// Unwrap makes errors.Is(err, ErrCommandRejected) true.
func (e *CommandError) Unwrap() error { return ErrCommandRejected }

// normalize converts an FSM response into bytes or a *CommandError.
func normalize(index uint64, resp any) ([]byte, error) {
	switch v := resp.(type) {
	case nil:
		return nil, nil
	case error:
		return nil, &CommandError{Index: index, Msg: v.Error()}
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	case encoding.BinaryMarshaler:
		b, err := v.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("encode FSM response at index %d: %w", index, err)
		}
		return b, nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode FSM response %T at index %d: %w", v, index, err)
		}
		return b, nil
	}
}

// fsmAdapter adapts FSM to raft.FSM.
type fsmAdapter struct{ fsm FSM }

// Apply sees only LogCommand entries (raft handles configuration entries).
func (a fsmAdapter) Apply(l *raft.Log) any { return a.fsm.Apply(l.Index, l.Data) }

func (a fsmAdapter) Snapshot() (raft.FSMSnapshot, error) {
	b, err := a.fsm.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("FSM snapshot: %w", err)
	}
	return byteSnapshot(b), nil
}

func (a fsmAdapter) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	if err := a.fsm.Restore(b); err != nil {
		return fmt.Errorf("FSM restore: %w", err)
	}
	return nil
}

// byteSnapshot is immutable, so Persist may run concurrently with Apply.
type byteSnapshot []byte

func (s byteSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("write snapshot %s: %w", sink.ID(), err)
	}
	return sink.Close()
}

func (s byteSnapshot) Release() {}
