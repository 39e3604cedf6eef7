package keepalived

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Options controls how a configuration is read.
type Options struct {
	// FS resolves the main file (ParseFile) and every `include`. Paths are
	// fs.FS paths (slash separated, no leading slash). May be nil for Parse
	// when the source has no include.
	FS fs.FS
	// Root is the directory FS is rooted at, e.g. "/" for os.DirFS("/").
	// It maps absolute include paths onto FS and is prefixed to file names
	// in positions. Empty means "/" for absolute includes and bare FS paths
	// in positions.
	Root string
	// ConfigID selects conditional lines, like keepalived's -i option: a
	// line "@ID rest" is used only when ConfigID == ID, "@^ID rest" only
	// when ConfigID != ID. keepalived defaults the id to the host name; the
	// caller supplies it (the package does not look up the host name).
	ConfigID string
}

// Safety limits; exceeding any of them is an ErrLimit error.
const (
	maxFileSize     = 8 << 20  // bytes per file
	maxTotalBytes   = 64 << 20 // bytes over all files and includes
	maxIncludeDepth = 16
	maxParamLen     = 64 << 10 // bytes per $NAME value
	maxLineLen      = 64 << 10 // bytes of one line after substitution
	maxExpanded     = 16 << 20 // bytes of all lines after substitution
	maxTokens       = 512 << 10
	maxBlockDepth   = 32
)

type tokKind uint8

const (
	tWord tokKind = iota
	tLBrace
	tRBrace
	tEOL
)

type token struct {
	kind   tokKind
	text   string
	quoted bool
	pos    Pos
}

// lexer turns files into a flat token stream, resolving comments,
// conditional lines, parameters and includes on the way.
type lexer struct {
	opts     Options
	d        *diag
	params   map[string]string
	toks     []token
	stack    []string // fs names of files being read (include cycle check)
	total    int64    // bytes read
	expanded int64    // bytes of lines after substitution
	stopped  bool
	files    []string
}

func newLexer(opts Options, d *diag) *lexer {
	return &lexer{opts: opts, d: d, params: map[string]string{}}
}

// display returns the name used in positions for an fs path.
func (lx *lexer) display(fsName string) string {
	if lx.opts.Root == "" {
		return fsName
	}
	return path.Join(lx.opts.Root, fsName)
}

func (lx *lexer) stop(p Pos, field, format string, args ...any) {
	lx.d.errorf(p, field, ErrLimit, format, args...)
	lx.stopped = true
}

// lexFile tokenizes one file's content. fsName is its FS path (used to
// resolve relative includes).
func (lx *lexer) lexFile(fsName string, data []byte) {
	lx.total += int64(len(data))
	disp := lx.display(fsName)
	if lx.total > maxTotalBytes {
		lx.stop(Pos{File: disp, Line: 1}, "", "more than %d bytes of configuration in all", maxTotalBytes)
		return
	}
	lx.files = append(lx.files, disp)
	lx.stack = append(lx.stack, fsName)
	defer func() { lx.stack = lx.stack[:len(lx.stack)-1] }()

	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines) && !lx.stopped; i++ {
		pos := Pos{File: disp, Line: i + 1}
		line := stripComment(lines[i])
		if line == "" {
			continue
		}
		if line[0] == '@' {
			id, rest := line, ""
			if j := strings.IndexAny(line, " \t"); j >= 0 {
				id, rest = line[:j], line[j+1:]
			}
			neg := strings.HasPrefix(id, "@^")
			if id = id[1:]; neg {
				id = id[1:]
			}
			if id == "" {
				lx.d.warnf(pos, "", "conditional prefix without a config id; line ignored")
				continue
			}
			if (lx.opts.ConfigID == id) == neg {
				continue
			}
			line = strings.TrimSpace(rest)
			if line == "" {
				continue
			}
		}
		if line[0] == '$' {
			if name, val, ok := parseParamDef(line); ok {
				for strings.HasSuffix(val, `\`) && i+1 < len(lines) {
					i++
					val = strings.TrimSpace(val[:len(val)-1]) + "\n" + stripComment(lines[i])
					if len(val) > maxParamLen {
						break
					}
				}
				val = strings.TrimSuffix(val, `\`)
				val = lx.substitute(val)
				if len(val) > maxParamLen {
					lx.stop(pos, "$"+name, "parameter value longer than %d bytes", maxParamLen)
					return
				}
				lx.params[name] = val
				continue
			}
		}
		if strings.HasPrefix(line, "~SEQ") || strings.HasPrefix(line, "~LST") {
			lx.d.warnf(pos, line[:4], "keepalived sequence/list expansion is not supported; line ignored")
			continue
		}
		// Substitute until nothing changes, so a parameter's value may use
		// parameters defined after it; bounded against self-reference.
		for pass := 0; pass < 16 && strings.IndexByte(line, '$') >= 0; pass++ {
			next := lx.substitute(line)
			if next == line || len(next) > maxLineLen {
				line = next
				break
			}
			line = next
		}
		if len(line) > maxLineLen {
			lx.stop(pos, "", "line longer than %d bytes after parameter substitution", maxLineLen)
			return
		}
		if lx.expanded += int64(len(line)); lx.expanded > maxExpanded {
			lx.stop(pos, "", "more than %d bytes of configuration after parameter substitution", maxExpanded)
			return
		}
		for _, sub := range strings.Split(line, "\n") {
			lx.lexLine(fsName, strings.TrimSpace(sub), pos)
			if lx.stopped {
				return
			}
		}
	}
}

// stripComment removes a '#' or '!' comment (outside double quotes) and
// surrounding white space.
func stripComment(line string) string {
	in := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			in = !in
		case '#', '!':
			if !in {
				return strings.TrimSpace(line[:i])
			}
		}
	}
	return strings.TrimSpace(line)
}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

// parseParamDef recognises "$NAME=value" (spaces around '=' allowed).
func parseParamDef(line string) (name, val string, ok bool) {
	i := 1
	for i < len(line) && isIdentByte(line[i], i == 1) {
		i++
	}
	if i == 1 {
		return "", "", false
	}
	name = line[1:i]
	rest := strings.TrimLeft(line[i:], " \t")
	if !strings.HasPrefix(rest, "=") {
		return "", "", false
	}
	return name, strings.TrimSpace(rest[1:]), true
}

// substitute replaces $NAME and ${NAME} by defined parameter values.
// Undefined names are left as they are (shell variables in scripts).
func (lx *lexer) substitute(s string) string {
	if len(lx.params) == 0 || strings.IndexByte(s, '$') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' || b.Len() > maxLineLen {
			b.WriteByte(s[i])
			i++
			continue
		}
		var name string
		end := i + 1
		if end < len(s) && s[end] == '{' {
			j := strings.IndexByte(s[end:], '}')
			if j > 1 {
				name = s[end+1 : end+j]
				end += j + 1
			}
		} else {
			for end < len(s) && isIdentByte(s[end], end == i+1) {
				end++
			}
			name = s[i+1 : end]
		}
		if v, ok := lx.params[name]; ok && name != "" {
			b.WriteString(v)
			i = end
			continue
		}
		b.WriteByte('$')
		i++
	}
	return b.String()
}

// lexLine splits one logical line into tokens, or processes an include.
func (lx *lexer) lexLine(fsName, line string, pos Pos) {
	if line == "" {
		return
	}
	start := len(lx.toks)
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
			i++
			continue
		case c == '{':
			lx.toks = append(lx.toks, token{kind: tLBrace, text: "{", pos: pos})
			i++
			continue
		case c == '}':
			lx.toks = append(lx.toks, token{kind: tRBrace, text: "}", pos: pos})
			i++
			continue
		}
		var b strings.Builder
		quoted := false
		for i < len(line) {
			c := line[i]
			if c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '{' || c == '}' {
				break
			}
			if c == '"' {
				j := strings.IndexByte(line[i+1:], '"')
				if j < 0 {
					lx.d.errorf(pos, "", ErrSyntax, "unterminated quoted string")
					b.WriteString(line[i+1:])
					i = len(line)
					quoted = true
					break
				}
				b.WriteString(line[i+1 : i+1+j])
				i += j + 2
				quoted = true
				continue
			}
			b.WriteByte(c)
			i++
		}
		lx.toks = append(lx.toks, token{kind: tWord, text: b.String(), quoted: quoted, pos: pos})
	}
	if t := lx.toks[start]; t.kind == tWord && !t.quoted && t.text == "include" {
		args := lx.toks[start+1:]
		lx.toks = lx.toks[:start]
		if len(args) != 1 || args[0].kind != tWord {
			lx.d.errorf(pos, "include", ErrSyntax, "expected exactly one file name or pattern")
			return
		}
		lx.include(fsName, args[0].text, pos)
		return
	}
	lx.toks = append(lx.toks, token{kind: tEOL, pos: pos})
	if len(lx.toks) > maxTokens {
		lx.stop(pos, "", "more than %d tokens", maxTokens)
	}
}

// include resolves pattern relative to the including file and lexes every
// match in glob order.
func (lx *lexer) include(fromFS, pattern string, pos Pos) {
	const field = "include"
	if lx.opts.FS == nil {
		lx.d.errorf(pos, field, ErrInclude, "%q: no file system to read includes from", pattern)
		return
	}
	var p string
	if strings.HasPrefix(pattern, "/") {
		root := lx.opts.Root
		if root == "" {
			root = "/"
		}
		root = path.Clean(root)
		clean := path.Clean(pattern)
		switch {
		case root == "/":
			p = strings.TrimPrefix(clean, "/")
		case clean == root:
			p = "."
		case strings.HasPrefix(clean, root+"/"):
			p = clean[len(root)+1:]
		default:
			lx.d.errorf(pos, field, ErrInclude, "%q is outside the configuration root %q", pattern, root)
			return
		}
	} else {
		p = path.Join(path.Dir(fromFS), pattern)
	}
	if p == "" || !fs.ValidPath(p) {
		lx.d.errorf(pos, field, ErrInclude, "%q resolves outside the configuration file system", pattern)
		return
	}
	matches, err := fs.Glob(lx.opts.FS, p)
	if err != nil {
		lx.d.errorf(pos, field, ErrInclude, "pattern %q: %v", pattern, err)
		return
	}
	if len(matches) == 0 {
		lx.d.warnf(pos, field, "no file matches %q", pattern)
		return
	}
	if len(lx.stack) >= maxIncludeDepth {
		lx.d.errorf(pos, field, ErrInclude, "includes nested more than %d deep", maxIncludeDepth)
		return
	}
	for _, m := range matches {
		if lx.stopped {
			return
		}
		cycle := false
		for _, s := range lx.stack {
			if s == m {
				cycle = true
			}
		}
		if cycle {
			lx.d.errorf(pos, field, ErrInclude, "%s includes itself", lx.display(m))
			continue
		}
		data, err := readLimited(lx.opts.FS, m)
		if err != nil {
			lx.d.errorf(pos, field, ErrInclude, "%s: %v", lx.display(m), err)
			continue
		}
		lx.lexFile(m, data)
	}
}

var errTooBig = errors.New("file larger than 8 MiB")

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, errors.New("is a directory")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, errTooBig
	}
	return data, nil
}
