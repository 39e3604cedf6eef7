package fsm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// State is the state of a fencing operation in the history.
type State string

// Fencing history states.
const (
	StatePending State = "pending"
	StateDone    State = "done"
	StateFailed  State = "failed"
)

// Record is one fencing-history entry, the equivalent of a line of
// `stonith_admin --history`. It is a plain value; its JSON form (Marshal)
// is stable: fixed field order, UTC timestamps with nanoseconds, empty
// optional fields omitted, so equal records serialise to equal bytes.
type Record struct {
	ID     string `json:"id"`
	Target string `json:"target"`
	Action Action `json:"action"`
	// Origin is the node that requested the fencing.
	Origin string `json:"origin"`
	Client string `json:"client,omitempty"`
	// Delegate is the node that executed the last device action (the one
	// that completed the fence when State is done).
	Delegate string `json:"delegate,omitempty"`
	// Devices are the devices whose actions completed the fence.
	Devices   []string  `json:"devices,omitempty"`
	State     State     `json:"state"`
	Attempts  int       `json:"attempts,omitempty"`
	Created   time.Time `json:"created"`
	Completed time.Time `json:"completed,omitzero"`
	// Error describes the failure (already free of secrets).
	Error string `json:"error,omitempty"`
}

// String renders the record for humans and logs.
func (r Record) String() string {
	s := fmt.Sprintf("%s of %s by %s for %s@%s: %s", r.Action, r.Target, orDash(r.Delegate), orDash(r.Client), orDash(r.Origin), r.State)
	if r.Error != "" {
		s += " (" + r.Error + ")"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Marshal returns the stable JSON serialisation of r.
func (r Record) Marshal() ([]byte, error) {
	r.Created = r.Created.UTC()
	if !r.Completed.IsZero() {
		r.Completed = r.Completed.UTC()
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("marshal fencing record %s: %w", r.ID, err)
	}
	return b, nil
}

// UnmarshalRecord parses and validates a record produced by Marshal.
func UnmarshalRecord(b []byte) (Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("parse fencing record: %w", err)
	}
	if err := r.validate(); err != nil {
		return Record{}, fmt.Errorf("parse fencing record %s: %w", r.ID, err)
	}
	return r, nil
}

func (r Record) validate() error {
	switch {
	case r.ID == "":
		return &ParamError{Param: "id", Msg: "empty"}
	case r.Target == "":
		return &ParamError{Param: "target", Msg: "empty"}
	case !r.Action.IsFence():
		return &ParamError{Param: "action", Msg: fmt.Sprintf("%q is not reboot, off or on", r.Action)}
	}
	switch r.State {
	case StatePending, StateDone, StateFailed:
	default:
		return &ParamError{Param: "state", Msg: fmt.Sprintf("%q is not pending, done or failed", r.State)}
	}
	return nil
}

// MarshalHistory serialises records as a JSON array ordered by creation
// time, then id, so the same set always gives the same bytes.
func MarshalHistory(recs []Record) ([]byte, error) {
	s := make([]Record, len(recs))
	copy(s, recs)
	sort.SliceStable(s, func(i, j int) bool {
		if !s[i].Created.Equal(s[j].Created) {
			return s[i].Created.Before(s[j].Created)
		}
		return s[i].ID < s[j].ID
	})
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, r := range s {
		b, err := r.Marshal()
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// UnmarshalHistory parses the output of MarshalHistory.
func UnmarshalHistory(b []byte) ([]Record, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, fmt.Errorf("parse fencing history: %w", err)
	}
	out := make([]Record, 0, len(raws))
	for i, raw := range raws {
		r, err := UnmarshalRecord(raw)
		if err != nil {
			return nil, fmt.Errorf("fencing history entry %d: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}
