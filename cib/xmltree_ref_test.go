package cib

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// parseElementStd is the former encoding/xml-based ParseElement, kept as
// the reference for the fuzz comparison and the parser benchmarks.
func parseElementStd(data []byte) (*Element, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var stack []*Element
	var root *Element
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			return nil, fmt.Errorf("line %d: %w: %v", line, ErrSyntax, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := dec.InputPos()
			el := &Element{Name: t.Name.Local, Line: line}
			if t.Name.Space != "" {
				el.Name = t.Name.Space + ":" + t.Name.Local
			}
			for _, a := range t.Attr {
				name := a.Name.Local
				if a.Name.Space != "" {
					name = a.Name.Space + ":" + name
				}
				el.Attrs = append(el.Attrs, Attr{name, a.Value})
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("line %d: %w: more than one root element", line, ErrSyntax)
				}
				root = el
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, el)
			}
			stack = append(stack, el)
		case xml.EndElement:
			name := t.Name.Local
			if t.Name.Space != "" {
				name = t.Name.Space + ":" + name
			}
			if len(stack) == 0 || stack[len(stack)-1].Name != name {
				line, _ := dec.InputPos()
				return nil, fmt.Errorf("line %d: %w: unexpected end tag </%s>", line, ErrSyntax, name)
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				s := strings.TrimSpace(string(t))
				if s != "" {
					stack[len(stack)-1].Text += s
				}
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrSyntax)
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("%w: unexpected end of document", ErrSyntax)
	}
	return root, nil
}
