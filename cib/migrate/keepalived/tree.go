package keepalived

// stmt is one configuration statement: a keyword with its arguments and,
// for block statements, the nested statements between { and }.
type stmt struct {
	Pos      Pos
	Words    []word // Words[0] is the keyword
	HasBlock bool
	Block    []*stmt
}

// word is one word of a statement; Quoted reports that it was (at least
// partly) written in double quotes.
type word struct {
	Text   string
	Quoted bool
	Pos    Pos
}

// Keyword returns the statement's first word.
func (s *stmt) Keyword() string {
	if len(s.Words) == 0 {
		return ""
	}
	return s.Words[0].Text
}

// Args returns the statement's words after the keyword, as text.
func (s *stmt) Args() []string {
	if len(s.Words) < 2 {
		return nil
	}
	return s.Texts()[1:]
}

// Texts returns all the statement's words, keyword first, as text.
func (s *stmt) Texts() []string {
	out := make([]string, len(s.Words))
	for i, w := range s.Words {
		out[i] = w.Text
	}
	return out
}

// treeBuilder groups tokens into statements and blocks.
type treeBuilder struct {
	toks []token
	i    int
	d    *diag
}

func buildTree(toks []token, d *diag) []*stmt {
	b := &treeBuilder{toks: toks, d: d}
	return b.block(0, Pos{})
}

func (b *treeBuilder) block(depth int, open Pos) []*stmt {
	var out []*stmt
	var cur *stmt
	var lastLine *stmt // last statement ended by a newline, for "{" on its own line
	for b.i < len(b.toks) {
		t := b.toks[b.i]
		b.i++
		switch t.kind {
		case tWord:
			if cur == nil {
				cur = &stmt{Pos: t.pos}
			}
			cur.Words = append(cur.Words, word{Text: t.text, Quoted: t.quoted, Pos: t.pos})
		case tEOL:
			if cur != nil {
				out = append(out, cur)
				lastLine = cur
				cur = nil
			}
		case tLBrace:
			target := cur
			if target != nil {
				out = append(out, cur)
			} else if lastLine != nil && !lastLine.HasBlock && len(out) > 0 && out[len(out)-1] == lastLine {
				target = lastLine // keyword line followed by "{" on the next line
			} else {
				b.d.errorf(t.pos, "", ErrSyntax, "'{' without a keyword")
				target = &stmt{Pos: t.pos} // parsed to keep braces balanced, then dropped
			}
			cur, lastLine = nil, nil
			if depth+1 > maxBlockDepth {
				b.d.errorf(t.pos, "", ErrLimit, "blocks nested more than %d deep", maxBlockDepth)
				b.i = len(b.toks)
				return out
			}
			target.HasBlock = true
			target.Block = b.block(depth+1, t.pos)
		case tRBrace:
			if cur != nil {
				out = append(out, cur)
				cur = nil
			}
			lastLine = nil
			if depth == 0 {
				b.d.errorf(t.pos, "", ErrSyntax, "unbalanced '}' (no block is open)")
				continue
			}
			return out
		}
	}
	if cur != nil {
		out = append(out, cur)
	}
	if depth > 0 {
		b.d.errorf(open, "", ErrSyntax, "unbalanced '{': block opened here is never closed")
	}
	return out
}
