package cib

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
)

// Attr is one XML attribute, kept in document order.
type Attr struct {
	Name  string
	Value string
}

// Element is a generic XML element with its source line. The CIB reader first
// builds a tree of Elements, then turns it into typed values; elements the typed
// model does not cover (acls, alerts, tickets) are kept as Elements so that a
// read/write round trip loses nothing.
type Element struct {
	Name     string
	Attrs    []Attr
	Children []*Element
	Text     string
	Line     int // line of the start tag's '<' (1-based), 0 if built in memory
}

// Get returns the value of attribute name, or "".
func (e *Element) Get(name string) string {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

// Has reports whether the attribute is present.
func (e *Element) Has(name string) bool {
	for _, a := range e.Attrs {
		if a.Name == name {
			return true
		}
	}
	return false
}

// Set sets (or appends) an attribute.
func (e *Element) Set(name, value string) {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name {
			e.Attrs[i].Value = value
			return
		}
	}
	e.Attrs = append(e.Attrs, Attr{name, value})
}

// SetNonEmpty sets an attribute only when value is not empty.
func (e *Element) SetNonEmpty(name, value string) {
	if value != "" {
		e.Set(name, value)
	}
}

// Child returns the first child element named name, or nil.
func (e *Element) Child(name string) *Element {
	for _, c := range e.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// FindID returns the first element below e (depth first, document order)
// whose id attribute is id, or nil.
func (e *Element) FindID(id string) *Element {
	for _, c := range e.Children {
		if c.Get("id") == id {
			return c
		}
		if f := c.FindID(id); f != nil {
			return f
		}
	}
	return nil
}

// Clone returns a deep copy.
func (e *Element) Clone() *Element {
	if e == nil {
		return nil
	}
	n := &Element{Name: e.Name, Text: e.Text, Line: e.Line}
	n.Attrs = append([]Attr(nil), e.Attrs...)
	for _, c := range e.Children {
		n.Children = append(n.Children, c.Clone())
	}
	return n
}

// ErrSyntax is returned (wrapped) for malformed XML.
var ErrSyntax = errors.New("malformed XML")

// ParseElement parses an XML document into an Element tree. Errors wrap
// ErrSyntax and name the line. Comments, processing instructions, the
// document type declaration and whitespace-only text are dropped; the text
// of an element is the concatenation of its trimmed character data segments.
// Each Element's Line is the line of its start tag's '<'. Namespace prefixes
// are kept as written. The returned tree shares no memory with data.
// ParseElement is safe for concurrent use. A large status section is parsed
// by up to GOMAXPROCS goroutines (see xmltree_split.go), all finished before
// it returns, with the same result as a sequential parse.
func ParseElement(data []byte) (*Element, error) {
	return parseElementFast(data)
}

// WriteXML serialises the element with two-space indentation.
func (e *Element) WriteXML(w io.Writer) error {
	var b bytes.Buffer
	e.write(&b, 0)
	_, err := w.Write(b.Bytes())
	return err
}

// String returns the indented XML text of the element.
func (e *Element) String() string {
	var b bytes.Buffer
	e.write(&b, 0)
	return b.String()
}

func (e *Element) write(b *bytes.Buffer, depth int) {
	for i := 0; i < depth; i++ {
		b.WriteString("  ")
	}
	b.WriteByte('<')
	b.WriteString(e.Name)
	for _, a := range e.Attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name)
		b.WriteString(`="`)
		escapeAttr(b, a.Value)
		b.WriteByte('"')
	}
	if len(e.Children) == 0 && e.Text == "" {
		b.WriteString("/>\n")
		return
	}
	b.WriteByte('>')
	if e.Text != "" {
		xml.EscapeText(b, []byte(e.Text))
		if len(e.Children) == 0 {
			b.WriteString("</" + e.Name + ">\n")
			return
		}
	}
	b.WriteByte('\n')
	for _, c := range e.Children {
		c.write(b, depth+1)
	}
	for i := 0; i < depth; i++ {
		b.WriteString("  ")
	}
	b.WriteString("</" + e.Name + ">\n")
}

func escapeAttr(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\n':
			b.WriteString("&#10;")
		case '\t':
			b.WriteString("&#9;")
		case '\r':
			b.WriteString("&#13;")
		default:
			b.WriteRune(r)
		}
	}
}
