package cib

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file holds the hand-written XML reader behind ParseElement. It makes a
// single pass over the input bytes and builds the Element tree directly:
//
//   - no reflection and no token objects: start tags, attributes and text are
//     decoded straight into Elements;
//   - Elements, attribute lists and child lists are carved out of slabs
//     (each slice is capped at its length, so an append by a caller copies
//     instead of overwriting a neighbour);
//   - element and attribute names are interned per parse, and the attribute
//     names of an element are predicted from the previous element of the same
//     name, so the common case costs one byte comparison instead of a hash;
//   - a value equal to the previous value of the same attribute name is
//     shared (operation="monitor", on_node, op-digest, ... repeat in runs);
//     other strings are copied into 64 KiB string chunks (strings.Builder
//     buffers that are only ever appended to) rather than allocated one by
//     one, so the input slice is never retained.
//
// The reader is strict: mismatched or unclosed tags, malformed attributes,
// duplicate attributes, unknown entities, characters outside the XML Char
// production, invalid UTF-8, non-whitespace text outside the root element
// and unsupported <?xml?> declarations are errors wrapping ErrSyntax with the
// line number. Namespace prefixes are kept verbatim ("p:y" stays "p:y").
// Document type declarations are skipped (their entities are not expanded).

const (
	maxXMLDepth    = 1024     // deeper nesting is rejected
	elemSlabSize   = 1024     // Elements per slab
	attrSlabSize   = 8192     // Attrs per slab
	kidSlabSize    = 4096     // child pointers per slab
	strChunkSize   = 64 << 10 // bytes per string chunk
	strChunkMaxOne = 4 << 10  // longer strings are allocated on their own
	bomUTF8        = "\xef\xbb\xbf"
)

// Byte classes for the scanner.
const (
	ccName      = 1 << iota // may appear in a name (ASCII part; >= 0x80 also)
	ccNameStart             // may start a name
	ccSpace                 // XML white space
	ccValPlain              // copied as is inside an attribute value
	ccTextPlain             // copied as is inside character data
)

var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', b == '_', b == ':':
			t[c] |= ccName | ccNameStart
		case '0' <= b && b <= '9', b == '.', b == '-':
			t[c] |= ccName
		case b >= 0x80:
			t[c] |= ccName | ccNameStart
		}
		switch b {
		case ' ', '\t', '\n', '\r':
			t[c] |= ccSpace
		}
		if (b >= 0x20 && b < 0x80) || b == '\t' {
			if b != '"' && b != '\'' && b != '&' && b != '<' {
				t[c] |= ccValPlain
			}
			if b != '&' && b != '<' && b != '>' {
				t[c] |= ccTextPlain
			}
		}
	}
	return t
}()

// xname is an interned name. For element names, attrs remembers the
// attribute names of the last element with this name, in order; for
// attribute names, last is the last literal value seen.
type xname struct {
	s     string
	last  string
	seen  int // serial of the element that last used this attribute name
	attrs []*xname
}

type openElem struct {
	el         *Element
	name       *xname
	childStart int // this element's children are children[childStart:]
	textStart  int // its text so far is textAcc[textStart:]
}

type xmlParser struct {
	data  []byte
	pos   int
	line  int
	names map[string]*xname

	serial int // current element, for duplicate attribute detection

	stack    []openElem
	children []*Element // children of every open element, concatenated
	textAcc  []byte     // trimmed text of every open element, concatenated
	buf      []byte     // decoding scratch

	elems []Element
	attrs []Attr
	kids  []*Element
	chunk strings.Builder

	// depthBase is the nesting depth of the fragment being parsed (see
	// xmltree_split.go); split, when set, parses the status section's
	// children in parallel.
	depthBase int
	split     *statusSplit
	// With recycle, element slabs are kept in elemSlabs (slabNext of them
	// in use) so that recycleElements can hand them out again.
	recycle   bool
	elemSlabs [][]Element
	slabNext  int
}

// parseElementFast is ParseElement's implementation.
func parseElementFast(data []byte) (*Element, error) {
	if root, _, err := parseElementSplit(data, false); err == nil || !errors.Is(err, errSplitFailed) {
		return root, err
	}
	return parseElementSeq(data)
}

// parseElementSeq parses data in one pass, without the status split.
func parseElementSeq(data []byte) (*Element, error) {
	p := &xmlParser{data: data, line: 1, names: make(map[string]*xname, 64)}
	return p.document()
}

func (p *xmlParser) errf(format string, args ...any) error {
	return fmt.Errorf("line %d: %w: %s", p.line, ErrSyntax, fmt.Sprintf(format, args...))
}

func (p *xmlParser) errEOF(where string) error {
	return p.errf("unexpected end of document %s", where)
}

// document parses prolog, root element and epilogue.
func (p *xmlParser) document() (*Element, error) {
	if bytes.HasPrefix(p.data, []byte(bomUTF8)) {
		p.pos = len(bomUTF8)
	}
	var root *Element
	data := p.data
	for {
		p.skipSpace()
		if p.pos >= len(data) {
			break
		}
		if data[p.pos] != '<' {
			return nil, p.errf("text outside the root element")
		}
		if p.pos+1 >= len(data) {
			return nil, p.errEOF("after <")
		}
		switch c := data[p.pos+1]; {
		case c == '?':
			if err := p.procInst(); err != nil {
				return nil, err
			}
		case c == '!':
			if bytes.HasPrefix(data[p.pos:], []byte("<!--")) {
				if err := p.comment(); err != nil {
					return nil, err
				}
			} else if root == nil && bytes.HasPrefix(data[p.pos:], []byte("<!DOCTYPE")) {
				if err := p.doctype(); err != nil {
					return nil, err
				}
			} else {
				return nil, p.errf("unexpected <! sequence outside the root element")
			}
		case c == '/':
			return nil, p.errf("unexpected end tag outside the root element")
		default:
			if root != nil {
				return nil, p.errf("more than one root element")
			}
			el, err := p.content()
			if err != nil {
				return nil, err
			}
			root = el
		}
	}
	if root == nil {
		return nil, p.errf("no root element")
	}
	return root, nil
}

// content parses the root element and everything inside it. p.pos is at
// the root's '<'.
func (p *xmlParser) content() (*Element, error) {
	data := p.data
	root, err := p.startTag()
	if err != nil {
		return nil, err
	}
	for len(p.stack) > 0 {
		// Character data up to the next '<'. The common case is
		// indentation only.
		start := p.pos
		for p.pos < len(data) {
			c := data[p.pos]
			if c == '\n' {
				p.line++
			} else if charClass[c]&ccSpace == 0 {
				break
			}
			p.pos++
		}
		if p.pos >= len(data) {
			top := p.stack[len(p.stack)-1]
			return nil, p.errEOF(fmt.Sprintf("in <%s> (line %d): element not closed", top.el.Name, top.el.Line))
		}
		if data[p.pos] != '<' {
			if err := p.text(start); err != nil {
				return nil, err
			}
			if p.pos >= len(data) {
				top := p.stack[len(p.stack)-1]
				return nil, p.errEOF(fmt.Sprintf("in <%s> (line %d): element not closed", top.el.Name, top.el.Line))
			}
		}
		// Markup at p.pos.
		if p.pos+1 >= len(data) {
			return nil, p.errEOF("after <")
		}
		switch data[p.pos+1] {
		case '/':
			if err := p.endTag(); err != nil {
				return nil, err
			}
		case '!':
			rest := data[p.pos:]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				err = p.comment()
			case bytes.HasPrefix(rest, []byte("<![CDATA[")):
				err = p.cdata()
			case len(rest) < 9 && (bytes.HasPrefix([]byte("<!--"), rest) || bytes.HasPrefix([]byte("<![CDATA["), rest)):
				err = p.errEOF("in markup")
			default:
				err = p.errf("unexpected <! sequence inside an element")
			}
			if err != nil {
				return nil, err
			}
		case '?':
			if err := p.procInst(); err != nil {
				return nil, err
			}
		default:
			if _, err := p.startTag(); err != nil {
				return nil, err
			}
		}
	}
	return root, nil
}

func (p *xmlParser) skipSpace() bool {
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '\n' {
			p.line++
		} else if charClass[c]&ccSpace == 0 {
			break
		}
		p.pos++
	}
	return p.pos > start
}

// name reads a name at p.pos and returns its bytes. Element and attribute
// names (qname) may hold at most one colon.
func (p *xmlParser) name(what string, qname bool) ([]byte, error) {
	data := p.data
	start := p.pos
	if p.pos >= len(data) {
		return nil, p.errEOF("where " + what + " was expected")
	}
	if charClass[data[p.pos]]&ccNameStart == 0 {
		return nil, p.errf("expected %s, found %q", what, data[p.pos])
	}
	ascii, colons := true, 0
	for p.pos < len(data) && charClass[data[p.pos]]&ccName != 0 {
		switch c := data[p.pos]; {
		case c >= utf8.RuneSelf:
			ascii = false
		case c == ':':
			colons++
		}
		p.pos++
	}
	raw := data[start:p.pos]
	if !ascii && !validName(raw) {
		return nil, p.errf("invalid character in %s %q", what, raw)
	}
	if qname && colons > 1 {
		return nil, p.errf("more than one colon in %s %q", what, raw)
	}
	return raw, nil
}

// IsXMLName reports whether s can be written as an element or attribute
// name that ParseElement reads back (at most one colon). Code building
// elements from untrusted names (API and raft commands) checks with it.
func IsXMLName(s string) bool {
	if s == "" || charClass[s[0]]&ccNameStart == 0 {
		return false
	}
	colons := 0
	for i := 0; i < len(s); i++ {
		if charClass[s[i]]&ccName == 0 {
			return false
		}
		if s[i] == ':' {
			colons++
		}
	}
	return colons <= 1 && validName([]byte(s))
}

// validName checks a name with non-ASCII bytes against the NameStartChar
// and NameChar productions of XML 1.0 (fifth edition).
func validName(raw []byte) bool {
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if r >= utf8.RuneSelf && !isNameStartRune(r) && (i == 0 || !isNameExtraRune(r)) {
			return false
		}
		i += size
	}
	return true
}

func isNameStartRune(r rune) bool {
	switch {
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x2FF,
		r >= 0x370 && r <= 0x37D, r >= 0x37F && r <= 0x1FFF, r >= 0x200C && r <= 0x200D,
		r >= 0x2070 && r <= 0x218F, r >= 0x2C00 && r <= 0x2FEF, r >= 0x3001 && r <= 0xD7FF,
		r >= 0xF900 && r <= 0xFDCF, r >= 0xFDF0 && r <= 0xFFFD, r >= 0x10000 && r <= 0xEFFFF:
		return true
	}
	return false
}

// isNameExtraRune: non-ASCII runes allowed in a name after its first rune.
func isNameExtraRune(r rune) bool {
	return r == 0xB7 || r >= 0x300 && r <= 0x36F || r >= 0x203F && r <= 0x2040
}

func (p *xmlParser) intern(raw []byte) *xname {
	if n, ok := p.names[string(raw)]; ok {
		return n
	}
	n := &xname{s: string(raw)}
	p.names[n.s] = n
	return n
}

// attrName reads an attribute name, trying the name predicted from the
// previous element with the same name first.
func (p *xmlParser) attrName(el *xname, k int) (*xname, error) {
	data := p.data
	if k < len(el.attrs) {
		n := el.attrs[k]
		if end := p.pos + len(n.s); end < len(data) && string(data[p.pos:end]) == n.s {
			if charClass[data[end]]&ccName == 0 {
				p.pos = end
				return n, nil
			}
		}
	}
	raw, err := p.name("attribute name", true)
	if err != nil {
		return nil, err
	}
	n := p.intern(raw)
	if k < len(el.attrs) {
		el.attrs[k] = n
	} else if k == len(el.attrs) && k < 64 {
		el.attrs = append(el.attrs, n)
	}
	return n, nil
}

// startTag parses "<name attrs>" or "<name attrs/>" at p.pos, links the
// element to its parent and, if not empty, opens it.
func (p *xmlParser) startTag() (*Element, error) {
	data := p.data
	line := p.line
	p.pos++ // '<'
	raw, err := p.name("element name", true)
	if err != nil {
		return nil, err
	}
	en := p.intern(raw)
	p.serial++
	base := len(p.attrs) // this element's attributes are p.attrs[base:]
	empty := false
	for k := 0; ; k++ {
		sp := p.skipSpace()
		if p.pos >= len(data) {
			return nil, p.errEOF(fmt.Sprintf("in start tag <%s>", en.s))
		}
		c := data[p.pos]
		if c == '>' {
			p.pos++
			break
		}
		if c == '/' {
			if p.pos+1 < len(data) && data[p.pos+1] == '>' {
				p.pos += 2
				empty = true
				break
			}
			return nil, p.errf("expected /> in <%s>", en.s)
		}
		if !sp {
			return nil, p.errf("missing white space before attribute in <%s>", en.s)
		}
		an, err := p.attrName(en, k)
		if err != nil {
			return nil, err
		}
		if an.seen == p.serial {
			return nil, p.errf("duplicate attribute %q in <%s>", an.s, en.s)
		}
		an.seen = p.serial
		p.skipSpace()
		if p.pos >= len(data) {
			return nil, p.errEOF(fmt.Sprintf("in start tag <%s>", en.s))
		}
		if data[p.pos] != '=' {
			return nil, p.errf("attribute %q without = in <%s>", an.s, en.s)
		}
		p.pos++
		p.skipSpace()
		v, err := p.attrValue(an)
		if err != nil {
			return nil, err
		}
		if len(p.attrs) == cap(p.attrs) {
			// Slab full: move this element's attributes to a new one.
			slab := make([]Attr, 0, max(attrSlabSize, 2*(len(p.attrs)-base)))
			p.attrs = append(slab, p.attrs[base:]...)
			base = 0
		}
		p.attrs = append(p.attrs, Attr{Name: an.s, Value: v})
	}
	el := p.newElement()
	el.Name = en.s
	el.Line = line
	if n := len(p.attrs); n > base {
		el.Attrs = p.attrs[base:n:n]
	}
	if len(p.stack) > 0 {
		p.children = append(p.children, el)
	}
	if !empty {
		if len(p.stack)+p.depthBase >= maxXMLDepth {
			return nil, p.errf("elements nested deeper than %d", maxXMLDepth)
		}
		p.stack = append(p.stack, openElem{el: el, name: en, childStart: len(p.children), textStart: len(p.textAcc)})
		if p.split != nil && !p.split.seen && len(p.stack) == 2 && en.s == "status" {
			p.split.seen = true
			if err := p.splitStatus(); err != nil {
				return nil, err
			}
		}
	}
	return el, nil
}

// endTag parses "</name>" at p.pos and closes the innermost open element.
func (p *xmlParser) endTag() error {
	data := p.data
	top := &p.stack[len(p.stack)-1]
	p.pos += 2
	name := top.name.s
	if end := p.pos + len(name); end <= len(data) && string(data[p.pos:end]) == name && (end == len(data) || charClass[data[end]]&ccName == 0) {
		p.pos += len(name)
	} else {
		raw, err := p.name("element name after </", true)
		if err != nil {
			return err
		}
		return p.errf("element <%s> (line %d) closed by </%s>", name, top.el.Line, raw)
	}
	p.skipSpace()
	if p.pos >= len(data) {
		return p.errEOF("in end tag </" + name + ">")
	}
	if data[p.pos] != '>' {
		return p.errf("unexpected %q in end tag </%s>", data[p.pos], name)
	}
	p.pos++
	if n := len(p.children) - top.childStart; n > 0 {
		top.el.Children = p.allocKids(p.children[top.childStart:])
		clear(p.children[top.childStart:])
		p.children = p.children[:top.childStart]
	}
	if len(p.textAcc) > top.textStart {
		top.el.Text = p.str(p.textAcc[top.textStart:])
		p.textAcc = p.textAcc[:top.textStart]
	}
	p.stack = p.stack[:len(p.stack)-1]
	return nil
}

// attrValue reads a quoted attribute value at p.pos.
func (p *xmlParser) attrValue(an *xname) (string, error) {
	data := p.data
	if p.pos >= len(data) {
		return "", p.errEOF("in attribute value")
	}
	q := data[p.pos]
	if q != '"' && q != '\'' {
		return "", p.errf("unquoted or missing value for attribute %q", an.s)
	}
	p.pos++
	start := p.pos
	for p.pos < len(data) && charClass[data[p.pos]]&ccValPlain != 0 {
		p.pos++
	}
	if p.pos < len(data) && data[p.pos] == q {
		raw := data[start:p.pos]
		p.pos++
		if string(raw) == an.last {
			return an.last, nil
		}
		s := p.str(raw)
		if len(raw) <= 64 {
			an.last = s
		}
		return s, nil
	}
	p.pos = start
	if err := p.decode(q); err != nil {
		return "", err
	}
	p.pos++ // closing quote
	return p.str(p.buf), nil
}

// text reads character data from start up to the next '<' (or the end)
// and appends it, trimmed, to the innermost open element.
func (p *xmlParser) text(start int) error {
	// decode counts the lines itself: undo the count made while skipping
	// the leading white space.
	p.line -= bytes.Count(p.data[start:p.pos], []byte{'\n'})
	p.pos = start
	if err := p.decode('<'); err != nil {
		return err
	}
	p.addText(p.buf)
	return nil
}

// addText appends the trimmed segment b to the text of the innermost open
// element (set on its Element when it closes).
func (p *xmlParser) addText(b []byte) {
	p.textAcc = append(p.textAcc, bytes.TrimSpace(b)...)
}

// decode decodes character data or an attribute value from p.pos into
// p.buf, stopping at term (a quote, or '<' for character data, which is
// then left at p.pos). It expands references, rewrites \r\n and \r to \n,
// counts lines and rejects characters outside the XML Char production.
func (p *xmlParser) decode(term byte) error {
	data := p.data
	buf := p.buf[:0]
	first := p.pos
	attr := term != '<'
	plain := uint8(ccTextPlain)
	if attr {
		plain = ccValPlain
	}
	for {
		start := p.pos
		for p.pos < len(data) && charClass[data[p.pos]]&plain != 0 {
			p.pos++
		}
		buf = append(buf, data[start:p.pos]...)
		if p.pos >= len(data) {
			p.buf = buf
			if attr {
				return p.errEOF("in attribute value")
			}
			return nil
		}
		c := data[p.pos]
		switch {
		case c == term:
			p.buf = buf
			return nil
		case c == '<':
			return p.errf("unescaped < inside attribute value")
		case c == '&':
			var err error
			if buf, err = p.reference(buf); err != nil {
				return err
			}
			continue
		case c == '>':
			if p.pos-2 >= first && data[p.pos-1] == ']' && data[p.pos-2] == ']' {
				return p.errf("unescaped ]]> outside a CDATA section")
			}
			buf = append(buf, c)
		case c == '\n':
			p.line++
			buf = append(buf, c)
		case c == '\r':
			buf = append(buf, '\n')
			if p.pos+1 < len(data) && data[p.pos+1] == '\n' {
				p.pos++
				p.line++
			}
		case c == '"' || c == '\'':
			buf = append(buf, c)
		case c < 0x20 && c != '\t':
			return p.errf("illegal character code %U", rune(c))
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return p.errf("invalid UTF-8")
			}
			if !isXMLChar(r) {
				return p.errf("illegal character code %U", r)
			}
			buf = append(buf, data[p.pos:p.pos+size]...)
			p.pos += size
			continue
		default:
			buf = append(buf, c)
		}
		p.pos++
	}
}

// reference expands the entity or character reference at p.pos.
func (p *xmlParser) reference(buf []byte) ([]byte, error) {
	data := p.data
	end := bytes.IndexByte(data[p.pos:min(len(data), p.pos+32)], ';')
	if end < 0 {
		return nil, p.errf("invalid character entity %s (no semicolon)", clip(data[p.pos:], 12))
	}
	ref := data[p.pos+1 : p.pos+end]
	bad := func() ([]byte, error) {
		return nil, p.errf("invalid character entity &%s;", ref)
	}
	switch string(ref) {
	case "lt":
		buf = append(buf, '<')
	case "gt":
		buf = append(buf, '>')
	case "amp":
		buf = append(buf, '&')
	case "quot":
		buf = append(buf, '"')
	case "apos":
		buf = append(buf, '\'')
	default:
		if len(ref) < 2 || ref[0] != '#' {
			return bad()
		}
		digits, base := ref[1:], rune(10)
		if digits[0] == 'x' {
			digits, base = digits[1:], 16
		}
		if len(digits) == 0 {
			return bad()
		}
		var r rune
		for _, d := range digits {
			var v rune
			switch {
			case '0' <= d && d <= '9':
				v = rune(d - '0')
			case base == 16 && 'a' <= d && d <= 'f':
				v = rune(d-'a') + 10
			case base == 16 && 'A' <= d && d <= 'F':
				v = rune(d-'A') + 10
			default:
				return bad()
			}
			r = r*base + v
			if r > utf8.MaxRune {
				return bad()
			}
		}
		if !isXMLChar(r) {
			return nil, p.errf("illegal character code %U in &%s;", r, ref)
		}
		buf = utf8.AppendRune(buf, r)
	}
	p.pos += end + 1
	return buf, nil
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// isXMLChar reports whether r is in the XML 1.0 Char production.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// checkChars validates raw (undecoded) bytes of a CDATA section, comment
// or processing instruction and counts its lines.
func (p *xmlParser) checkChars(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\n':
			p.line++
		case c < 0x20 && c != '\t' && c != '\r':
			return p.errf("illegal character code %U", rune(c))
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return p.errf("invalid UTF-8")
			}
			if !isXMLChar(r) {
				return p.errf("illegal character code %U", r)
			}
			i += size
			continue
		}
		i++
	}
	return nil
}

// cdata reads "<![CDATA[ ... ]]>" at p.pos as one text segment.
func (p *xmlParser) cdata() error {
	body := p.data[p.pos+len("<![CDATA["):]
	end := bytes.Index(body, []byte("]]>"))
	if end < 0 {
		p.line += bytes.Count(body, []byte{'\n'})
		return p.errEOF("in CDATA section")
	}
	body = body[:end]
	if err := p.checkChars(body); err != nil {
		return err
	}
	p.pos += len("<![CDATA[") + end + len("]]>")
	if bytes.IndexByte(body, '\r') >= 0 {
		buf := p.buf[:0]
		for i := 0; i < len(body); i++ {
			if body[i] == '\r' {
				buf = append(buf, '\n')
				if i+1 < len(body) && body[i+1] == '\n' {
					i++
				}
				continue
			}
			buf = append(buf, body[i])
		}
		p.buf = buf
		body = buf
	}
	p.addText(body)
	return nil
}

// comment skips "<!-- ... -->" at p.pos; "--" may not occur inside.
func (p *xmlParser) comment() error {
	body := p.data[p.pos+len("<!--"):]
	end := bytes.Index(body, []byte("--"))
	if end < 0 {
		p.line += bytes.Count(body, []byte{'\n'})
		return p.errEOF("in comment")
	}
	if err := p.checkChars(body[:end]); err != nil {
		return err
	}
	if end+2 >= len(body) {
		return p.errEOF("in comment")
	}
	if body[end+2] != '>' {
		return p.errf(`"--" inside a comment`)
	}
	p.pos += len("<!--") + end + len("-->")
	return nil
}

// procInst skips "<?target ...?>" at p.pos and checks an XML declaration.
func (p *xmlParser) procInst() error {
	p.pos += 2
	target, err := p.name("processing instruction target", false)
	if err != nil {
		return err
	}
	rest := p.data[p.pos:]
	end := bytes.Index(rest, []byte("?>"))
	if end < 0 {
		p.line += bytes.Count(rest, []byte{'\n'})
		return p.errEOF("in processing instruction")
	}
	body := rest[:end]
	if len(body) > 0 && charClass[body[0]]&ccSpace == 0 {
		return p.errf("expected white space after <?%s", target)
	}
	if err := p.checkChars(body); err != nil {
		return err
	}
	p.pos += end + 2
	if string(target) == "xml" {
		if v, ok := pseudoAttr(body, "version"); ok && v != "1.0" {
			return p.errf("unsupported XML version %q", v)
		}
		if v, ok := pseudoAttr(body, "encoding"); ok && !strings.EqualFold(v, "utf-8") {
			return p.errf("unsupported encoding %q (only UTF-8)", v)
		}
	}
	return nil
}

// pseudoAttr finds name="value" or name='value' in an XML declaration.
func pseudoAttr(body []byte, name string) (string, bool) {
	for i := 0; ; {
		k := bytes.Index(body[i:], []byte(name))
		if k < 0 {
			return "", false
		}
		j := i + k + len(name)
		i = j
		for j < len(body) && charClass[body[j]]&ccSpace != 0 {
			j++
		}
		if j >= len(body) || body[j] != '=' {
			continue
		}
		j++
		for j < len(body) && charClass[body[j]]&ccSpace != 0 {
			j++
		}
		if j >= len(body) || (body[j] != '"' && body[j] != '\'') {
			continue
		}
		q := body[j]
		e := bytes.IndexByte(body[j+1:], q)
		if e < 0 {
			return "", false
		}
		return string(body[j+1 : j+1+e]), true
	}
}

// doctype skips "<!DOCTYPE ...>" at p.pos, including an internal subset
// with quoted strings and comments.
func (p *xmlParser) doctype() error {
	data := p.data
	p.pos += len("<!DOCTYPE")
	depth := 0
	for p.pos < len(data) {
		c := data[p.pos]
		switch c {
		case '\n':
			p.line++
		case '"', '\'':
			e := bytes.IndexByte(data[p.pos+1:], c)
			if e < 0 {
				p.pos = len(data)
				return p.errEOF("in DOCTYPE")
			}
			p.line += bytes.Count(data[p.pos+1:p.pos+1+e], []byte{'\n'})
			p.pos += e + 1
		case '<':
			if bytes.HasPrefix(data[p.pos:], []byte("<!--")) {
				if err := p.comment(); err != nil {
					return err
				}
				continue
			}
			depth++
		case '>':
			if depth == 0 {
				p.pos++
				return nil
			}
			depth--
		}
		p.pos++
	}
	return p.errEOF("in DOCTYPE")
}

// Allocation helpers.

func (p *xmlParser) newElement() *Element {
	if len(p.elems) == cap(p.elems) {
		switch {
		case !p.recycle:
			p.elems = make([]Element, 0, elemSlabSize)
		case p.slabNext < len(p.elemSlabs):
			p.elems = p.elemSlabs[p.slabNext][:0]
			p.slabNext++
		default:
			p.elems = make([]Element, 0, elemSlabSize)
			p.elemSlabs = append(p.elemSlabs, p.elems)
			p.slabNext++
		}
	}
	p.elems = p.elems[:len(p.elems)+1]
	return &p.elems[len(p.elems)-1]
}

// recycleElements lets the next trees reuse the Elements of the trees
// parsed so far (only with p.recycle set). The caller must no longer use
// those trees; their attribute lists and strings are not reused.
func (p *xmlParser) recycleElements() {
	for _, slab := range p.elemSlabs[:p.slabNext] {
		clear(slab[:cap(slab)])
	}
	p.slabNext = 0
	p.elems = nil
}

func (p *xmlParser) allocKids(src []*Element) []*Element {
	n := len(src)
	if n > kidSlabSize/8 {
		return append([]*Element(nil), src...)
	}
	if cap(p.kids)-len(p.kids) < n {
		p.kids = make([]*Element, 0, kidSlabSize)
	}
	start := len(p.kids)
	p.kids = append(p.kids, src...)
	return p.kids[start : start+n : start+n]
}

// str returns b as a string stored in the current string chunk. Chunks are
// strings.Builder buffers that are only appended to, so strings already
// handed out never change.
func (p *xmlParser) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > strChunkMaxOne {
		return string(b)
	}
	if p.chunk.Cap()-p.chunk.Len() < len(b) {
		p.chunk.Reset()
		p.chunk.Grow(strChunkSize)
	}
	start := p.chunk.Len()
	p.chunk.Write(b)
	return p.chunk.String()[start:]
}
