package crmsyntax

import (
	"strings"
)

// token is one word of a statement after quote removal.
type token struct {
	Text   string
	Line   int // 1-based line of the token's first character
	Col    int // 1-based column (in bytes) of the token's first character
	Quoted bool
}

// statement is one logical line (backslash continuations joined).
type statement struct {
	Toks []token
	Line int
	Text string // the logical line as written (continuations joined with a blank)
	// LexErr is set when the statement could not be tokenised.
	LexErr *lexError
	// Comments are the comment lines written just before the statement.
	Comments []string
}

// lexError is a tokenisation problem (unterminated quote).
type lexError struct {
	Line, Col int
	Msg       string
}

// splitStatements turns configure-level text into statements. Comment lines
// (first non-blank character '#') are dropped; a trailing backslash joins the
// next physical line. It never fails: an unterminated quote is reported in
// the statement's LexErr.
func splitStatements(src string) []statement {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	lines := strings.Split(src, "\n")
	var out []statement
	var comments []string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			continue
		}
		if strings.HasPrefix(trimmed, "#") {
			comments = append(comments, trimmed)
			continue
		}
		type seg struct {
			text string
			line int
		}
		segs := []seg{{line, i + 1}}
		for strings.HasSuffix(strings.TrimRight(segs[len(segs)-1].text, " \t"), "\\") && i+1 < len(lines) {
			last := strings.TrimRight(segs[len(segs)-1].text, " \t")
			segs[len(segs)-1].text = last[:len(last)-1]
			i++
			segs = append(segs, seg{lines[i], i + 1})
		}
		if last := strings.TrimRight(segs[len(segs)-1].text, " \t"); strings.HasSuffix(last, "\\") {
			segs[len(segs)-1].text = last[:len(last)-1]
		}
		st := statement{Line: segs[0].line, Comments: comments}
		comments = nil
		var texts []string
		var cur *token
		var buf strings.Builder
		quote := byte(0)
		flush := func() {
			if cur != nil {
				cur.Text = buf.String()
				st.Toks = append(st.Toks, *cur)
				cur = nil
				buf.Reset()
			}
		}
		var qline, qcol int
		for _, sg := range segs {
			texts = append(texts, strings.TrimSpace(sg.text))
			s := sg.text
			for j := 0; j < len(s); j++ {
				c := s[j]
				if quote != 0 {
					if c == quote {
						quote = 0
						continue
					}
					if quote == '"' && c == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\') {
						j++
						buf.WriteByte(s[j])
						continue
					}
					buf.WriteByte(c)
					continue
				}
				switch c {
				case ' ', '\t':
					flush()
				case '"', '\'':
					if cur == nil {
						cur = &token{Line: sg.line, Col: j + 1}
					}
					cur.Quoted = true
					quote = c
					qline, qcol = sg.line, j+1
				default:
					if cur == nil {
						cur = &token{Line: sg.line, Col: j + 1}
					}
					buf.WriteByte(c)
				}
			}
			if quote != 0 {
				// a quoted string continues across a joined line with a blank
				buf.WriteByte(' ')
			} else {
				flush()
			}
		}
		if quote != 0 {
			cur = nil
			buf.Reset()
			st.LexErr = &lexError{Line: qline, Col: qcol, Msg: "unterminated quoted string"}
		}
		flush()
		st.Text = strings.Join(texts, " ")
		if len(st.Toks) > 0 || st.LexErr != nil {
			out = append(out, st)
		}
	}
	return out
}
