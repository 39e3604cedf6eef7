package cib

import (
	"bytes"
	"errors"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// This file parses the status section of a large CIB on several cores.
// The status section (one <node_state> per node with its whole resource
// history) is nearly all of a large CIB, and its node_state elements are
// independent, so:
//
//   - when the sequential parser opens the first <status> child of the
//     root, a fast search (no tokenising) guesses the byte ranges of its
//     children from the occurrences of "<node_state" and the following
//     "</status>", and counts the lines up to each range;
//   - up to GOMAXPROCS goroutines (the caller's among them) parse the
//     ranges with their own parsers and, for Parse, convert them into
//     NodeStates; the results are put back in document order;
//   - the sequential parser resumes at "</status>".
//
// Each range must hold exactly one element surrounded by white space, and
// the text before the first range white space only. The search can be
// fooled (a "<node_state" in a comment or CDATA section, another element
// between node_states), but then a range is not one element and the guess
// is rejected. Any error after a split (in a range or later) makes the
// whole document be parsed again sequentially, so results and errors are
// those of the sequential parser.

// splitMinBytes is the smallest status section worth splitting; a
// variable so that tests can split small documents.
var splitMinBytes = 1 << 20

// errSplitFailed reports that a split parse has to be redone sequentially.
var errSplitFailed = errors.New("split status parse failed")

// statusSplit is the state of a split parse of one document.
type statusSplit struct {
	convert bool // also convert node_state children into NodeStates
	seen    bool // the first <status> child of the root was opened
	used    bool // its children were parsed in parallel

	status *Element
	// states holds, when convert, the NodeState of each child of status
	// (nil for children that are not node_state elements). The children
	// of status are then only stand-ins for their elements (name,
	// attributes and line, no children).
	states []*NodeState
}

// splitChunk is one range of the status section and its parse.
type splitChunk struct {
	start, end int // byte range in the document
	line       int // line at start
	el         *Element
	ns         *NodeState
	err        error
}

// parseElementSplit parses data like parseElementSeq, parsing a large
// status section in parallel. With convert, node_state children are also
// converted (sharing the tree's attribute lists). It returns
// errSplitFailed, for any error after a split, when the sequential parse
// has to be used instead.
func parseElementSplit(data []byte, convert bool) (*Element, *statusSplit, error) {
	sp := &statusSplit{convert: convert}
	p := &xmlParser{data: data, line: 1, names: make(map[string]*xname, 64), split: sp}
	if runtime.GOMAXPROCS(0) < 2 || len(data) < splitMinBytes {
		p.split = nil
	}
	root, err := p.document()
	if err != nil {
		if sp.used {
			return nil, nil, errSplitFailed
		}
		return nil, nil, err
	}
	if !sp.used {
		sp = nil
	}
	return root, sp, nil
}

// isNameEnd reports whether c cannot continue a name.
func isNameEnd(c byte) bool { return charClass[c]&ccName == 0 }

// splitStatus is called by startTag right after the <status> start tag
// (p.pos is past its '>'). If the section is large and the guess holds,
// it parses the children in parallel, adds them to status and moves p.pos
// to "</status>"; otherwise it leaves everything to the sequential parse.
func (p *xmlParser) splitStatus() error {
	data := p.data
	from := p.pos
	const open, close = "<node_state", "</status>"
	var starts []int
	for at := from; ; {
		k := bytes.Index(data[at:], []byte(open))
		if k < 0 {
			break
		}
		at += k
		if end := at + len(open); end < len(data) && isNameEnd(data[end]) {
			starts = append(starts, at)
		}
		at += len(open)
	}
	if len(starts) < 2 {
		return nil
	}
	last := starts[len(starts)-1]
	k := bytes.Index(data[last:], []byte(close))
	if k < 0 {
		return nil
	}
	end := last + k
	if end-from < splitMinBytes {
		return nil
	}
	for _, c := range data[from:starts[0]] {
		if charClass[c]&ccSpace == 0 {
			return nil
		}
	}
	chunks := make([]splitChunk, len(starts))
	line := p.line + bytes.Count(data[from:starts[0]], []byte{'\n'})
	for i, s := range starts {
		e := end
		if i+1 < len(starts) {
			e = starts[i+1]
		}
		chunks[i] = splitChunk{start: s, end: e, line: line}
		line += bytes.Count(data[s:e], []byte{'\n'})
	}

	sp := p.split
	sp.used = true
	var next atomic.Int64
	var failed atomic.Bool
	// Workers fault like the caller's goroutine (a caller reading a mapped
	// file asks for panics instead of crashes). A panic in a worker fails
	// the split: the sequential parse then meets it again on the caller's
	// goroutine, where the caller can recover it.
	faultPanics := debug.SetPanicOnFault(false)
	debug.SetPanicOnFault(faultPanics)
	work := func() {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(faultPanics))
		defer func() {
			if r := recover(); r != nil {
				next.Store(int64(len(chunks)))
				failed.Store(true)
			}
		}()
		// When converting, a chunk's tree is dropped once converted and
		// its Elements serve the next chunk.
		w := &xmlParser{names: make(map[string]*xname, 64), depthBase: len(p.stack), recycle: sp.convert}
		sc := &statusConv{share: true}
		for {
			i := int(next.Add(1) - 1)
			if i >= len(chunks) {
				return
			}
			c := &chunks[i]
			c.el, c.err = w.fragment(data[:c.end], c.start, c.line)
			if c.err == nil && sp.convert {
				if c.el.Name == "node_state" {
					c.ns, c.err = sc.nodeState(c.el)
				}
				// The NodeState keeps no Element; the status element keeps
				// a childless copy of the chunk's root.
				c.el = &Element{Name: c.el.Name, Attrs: c.el.Attrs, Line: c.el.Line}
				w.recycleElements()
			}
			if c.err != nil {
				// Stop early: the document is parsed again anyway.
				next.Store(int64(len(chunks)))
				return
			}
		}
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(chunks)) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()

	if failed.Load() {
		return errSplitFailed
	}
	if sp.convert {
		sp.states = make([]*NodeState, len(chunks))
	}
	for i := range chunks {
		c := &chunks[i]
		if c.err != nil || c.el == nil {
			return errSplitFailed
		}
		p.children = append(p.children, c.el)
		if sp.convert {
			sp.states[i] = c.ns
		}
	}
	sp.status = p.stack[len(p.stack)-1].el
	p.pos = end
	p.line = line
	return nil
}

// fragment parses data[start:] (data ending where the fragment ends) as
// one element surrounded by white space, starting at the given line. The
// parser keeps its interned names and slabs from one fragment to the next.
func (p *xmlParser) fragment(data []byte, start, line int) (*Element, error) {
	p.data, p.pos, p.line = data, start, line
	p.stack, p.children, p.textAcc = p.stack[:0], p.children[:0], p.textAcc[:0]
	p.skipSpace()
	if p.pos+1 >= len(data) || data[p.pos] != '<' || charClass[data[p.pos+1]]&ccNameStart == 0 {
		return nil, errSplitFailed
	}
	el, err := p.content()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(data) {
		return nil, errSplitFailed
	}
	return el, nil
}
