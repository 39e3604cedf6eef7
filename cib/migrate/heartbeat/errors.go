package heartbeat

import (
	"errors"
	"fmt"
)

// Sentinel errors; every error returned by this package wraps one of them so
// callers can use errors.Is.
var (
	// ErrSyntax marks a malformed line in haresources, ha.cf or authkeys.
	ErrSyntax = errors.New("syntax error")
	// ErrInvalid marks a well-formed but semantically invalid configuration
	// (duplicate group key, missing medium, bad timer relation, ...).
	ErrInvalid = errors.New("invalid configuration")
	// ErrUnknownDirective marks an ha.cf directive heartbeat does not know.
	ErrUnknownDirective = errors.New("unknown ha.cf directive")
	// ErrAuthkeys marks an authkeys problem (permissions, auth line, keys).
	ErrAuthkeys = errors.New("authkeys problem")
	// ErrCRMEnabled reports that ha.cf enables the CRM (crm/pacemaker
	// yes|on|respawn): heartbeat ignores haresources in that mode, the
	// resources live in a CIB and must be migrated from there.
	ErrCRMEnabled = errors.New("ha.cf enables the CRM: haresources is ignored by heartbeat")
	// ErrNoSecret reports that the active authkeys method (crc) has no secret
	// to derive a cluster key from.
	ErrNoSecret = errors.New("active authkeys key has no secret")
)

// LineError is an error located in an input file. Line is 1-based; 0 means
// the problem concerns the whole file.
type LineError struct {
	File string
	Line int
	Msg  string
	Err  error // sentinel (ErrSyntax, ErrInvalid, ...)
}

func (e *LineError) Error() string {
	return locate(e.File, e.Line) + e.Msg
}

// Unwrap returns the sentinel.
func (e *LineError) Unwrap() error { return e.Err }

func lineErr(sentinel error, file string, line int, format string, args ...any) *LineError {
	return &LineError{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

func locate(file string, line int) string {
	switch {
	case file == "" && line == 0:
		return ""
	case line == 0:
		return file + ": "
	default:
		return fmt.Sprintf("%s:%d: ", file, line)
	}
}

// Warning is a non-fatal finding: something the migration kept, changed or
// dropped that a human should know about.
type Warning struct {
	File string
	Line int // 0: whole file / not tied to a line
	Msg  string
}

func (w Warning) String() string { return locate(w.File, w.Line) + w.Msg }
