package keepalived

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors; every *Error wraps exactly one of them, so callers can
// classify failures with errors.Is.
var (
	// ErrSyntax: unbalanced braces, unterminated quotes, misplaced blocks.
	ErrSyntax = errors.New("syntax error")
	// ErrValue: a value that does not parse (number, timer, address, enum).
	ErrValue = errors.New("invalid value")
	// ErrRange: a value that parses but is outside the allowed range.
	ErrRange = errors.New("value out of range")
	// ErrMissing: a required argument or field is absent.
	ErrMissing = errors.New("missing required value")
	// ErrInclude: the main file or an include could not be read (I/O error,
	// cycle, depth, path outside the file system).
	ErrInclude = errors.New("include failed")
	// ErrLimit: the input exceeds a safety limit (size, nesting, expansion).
	ErrLimit = errors.New("input too large")
	// ErrReference: a name refers to something that is not defined.
	ErrReference = errors.New("undefined reference")
	// ErrDuplicate: a name or VRID is defined twice.
	ErrDuplicate = errors.New("duplicate definition")
	// ErrConflict: settings that contradict each other.
	ErrConflict = errors.New("conflicting settings")
)

// Pos is a position in a configuration file. Line is 1-based; the zero Pos
// means "not from the file" (a default value).
type Pos struct {
	File string
	Line int
}

// IsValid reports whether p refers to a real file position.
func (p Pos) IsValid() bool { return p.Line > 0 }

func (p Pos) String() string {
	if !p.IsValid() {
		return "-"
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// Error is one problem found in a configuration. Field names the keyword
// (with its enclosing block, e.g. "vrrp_instance VI_1: priority").
type Error struct {
	Pos   Pos
	Field string
	Msg   string
	Err   error // one of the sentinel errors
}

func (e *Error) Error() string {
	var b strings.Builder
	writePrefix(&b, e.Pos, e.Field)
	b.WriteString(e.Err.Error())
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorList is the error returned by Parse, ParseFile and Validate when
// there is at least one problem. It unwraps to each *Error, so errors.Is
// and errors.As see every entry.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d errors:", len(l))
	for _, e := range l {
		b.WriteString("\n\t")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes the individual errors to errors.Is / errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Warning is a non-fatal remark: an unknown keyword, a keepalived feature
// gocrm does not import, a deprecated spelling, or a value keepalived would
// silently adjust.
type Warning struct {
	Pos   Pos
	Field string
	Msg   string
}

func (w Warning) String() string {
	var b strings.Builder
	writePrefix(&b, w.Pos, w.Field)
	b.WriteString(w.Msg)
	return b.String()
}

// writePrefix writes the "file:line: field: " prefix shared by errors and
// warnings, leaving out the parts that are absent.
func writePrefix(b *strings.Builder, p Pos, field string) {
	if p.IsValid() {
		b.WriteString(p.String())
		b.WriteString(": ")
	}
	if field != "" {
		b.WriteString(field)
		b.WriteString(": ")
	}
}

// diag collects errors and warnings while parsing.
type diag struct {
	errs  ErrorList
	warns []Warning
}

// maxErrors bounds the error list so hostile input cannot make it huge.
const maxErrors = 200

func (d *diag) errorf(p Pos, field string, sentinel error, format string, args ...any) {
	if len(d.errs) >= maxErrors {
		return
	}
	d.errs = append(d.errs, &Error{Pos: p, Field: field, Err: sentinel, Msg: fmt.Sprintf(format, args...)})
}

func (d *diag) warnf(p Pos, field, format string, args ...any) {
	if len(d.warns) >= 10*maxErrors {
		return
	}
	d.warns = append(d.warns, Warning{Pos: p, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (d *diag) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	return d.errs
}
