package heartbeat

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// HAResources is a parsed haresources file.
type HAResources struct {
	File     string
	Groups   []Group
	Warnings []Warning
}

// Group is one logical haresources line: a resource group with a preferred
// node.
type Group struct {
	// Line is the ordinal of the resource line (1 for the first group), the
	// number the reference translation uses in group_<Line>.
	Line int
	// SourceLine is the physical line the group starts on.
	SourceLine int
	// Node is the preferred node, lower-cased like heartbeat does.
	Node string
	// Key is the first resource token, the group's unique key.
	Key       string
	Resources []Resource
}

// Resource is one resource token of a group with its heartbeat meaning and
// its OCF/LSB mapping.
type Resource struct {
	Raw      string   // the token as written
	Script   string   // resource.d or init.d script heartbeat runs
	Args     []string // "::" arguments passed before start|stop|status
	Class    string   // "ocf", "lsb" or "drbd" (drbddisk)
	Provider string   // "heartbeat" for ocf, else empty
	Type     string   // agent type / init script name
	Params   []Param  // OCF parameters in wrapper order
	// Problem, when set, is something that needs a human; the translation
	// writes it as a "# raw: problem" line before the primitive.
	Problem string
	// Notes are softer findings (quirks copied, defaults filled in).
	Notes []string
}

// Param is one name=value OCF parameter.
type Param struct {
	Name, Value string
}

// Param returns the value of the named parameter and whether it is set.
func (r *Resource) Param(name string) (string, bool) {
	for _, p := range r.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// ParseHAResources parses a haresources file following heartbeat 3.0.6's
// ResourceManager: "#" starts a comment (also after resources), a line ending
// in "\" continues on the next one, blanks and tabs separate fields, blank
// lines are ignored, the first field is the preferred node (lower-cased), the
// first resource is the group key and must be unique. name is used in error
// messages. Resource-level findings that do not stop heartbeat from reading
// the file are reported in Resource.Problem / Notes and in Warnings.
func ParseHAResources(name string, data []byte) (*HAResources, error) {
	hr := &HAResources{File: name}
	lines := strings.Split(string(data), "\n")
	keys := map[string]int{} // key -> source line
	seenRaw := map[string]int{}
	var (
		fields  []string
		start   int
		pending bool
		glue    bool // previous line ended in a non-blank followed by "\"
	)
	flush := func() error {
		if len(fields) == 0 {
			return nil
		}
		f := fields
		fields = nil
		g, err := parseGroupLine(name, start, len(hr.Groups)+1, f)
		if err != nil {
			return err
		}
		if prev, dup := keys[g.Key]; dup {
			return lineErr(ErrInvalid, name, start, "group key %q already used by the group at line %d (the first resource of a line must be unique)", g.Key, prev)
		}
		keys[g.Key] = start
		for _, r := range g.Resources {
			if prev, ok := seenRaw[r.Raw]; ok {
				hr.Warnings = append(hr.Warnings, Warning{name, start, fmt.Sprintf("resource %q is also listed at line %d: two groups control the same resource", r.Raw, prev)})
			} else {
				seenRaw[r.Raw] = start
			}
			for _, n := range r.Notes {
				hr.Warnings = append(hr.Warnings, Warning{name, start, r.Raw + ": " + n})
			}
		}
		hr.Groups = append(hr.Groups, g)
		return nil
	}
	for i, raw := range lines {
		lineNo := i + 1
		text := strings.TrimSuffix(raw, "\r")
		if j := strings.IndexByte(text, '#'); j >= 0 {
			text = text[:j]
		}
		if !utf8.ValidString(text) {
			return nil, lineErr(ErrSyntax, name, lineNo, "not valid UTF-8 text")
		}
		if strings.IndexFunc(text, isControl) >= 0 {
			return nil, lineErr(ErrSyntax, name, lineNo, "control character in line")
		}
		if glue && text != "" && !isBlank(rune(text[0])) {
			hr.Warnings = append(hr.Warnings, Warning{name, lineNo, "continuation without a blank before the backslash or at the start of this line: read as two fields, check that no token was split"})
		}
		text = strings.TrimRight(text, " \t")
		cont := strings.HasSuffix(text, "\\")
		glue = false
		if cont {
			text = strings.TrimSuffix(text, "\\")
			glue = text != "" && !isBlank(rune(text[len(text)-1]))
		}
		if !pending {
			start = lineNo
		}
		fields = append(fields, strings.FieldsFunc(text, isBlank)...)
		pending = cont
		if !cont {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if pending {
		hr.Warnings = append(hr.Warnings, Warning{name, len(lines), "file ends with a continuation backslash"})
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return hr, nil
}

func isBlank(r rune) bool { return r == ' ' || r == '\t' }

// isControl reports characters that have no place in a configuration line
// (tabs are separators).
func isControl(r rune) bool { return r != '\t' && (r < 0x20 || r == 0x7f) }

func parseGroupLine(file string, line, ordinal int, fields []string) (Group, error) {
	node := strings.ToLower(fields[0])
	if !validNodeName(node) {
		return Group{}, lineErr(ErrSyntax, file, line, "invalid node name %q", fields[0])
	}
	if len(fields) < 2 {
		return Group{}, lineErr(ErrSyntax, file, line, "node %q has no resources", node)
	}
	g := Group{Line: ordinal, SourceLine: line, Node: node, Key: fields[1]}
	for _, tok := range fields[1:] {
		r, err := parseResource(tok)
		if err != nil {
			return Group{}, lineErr(ErrSyntax, file, line, "resource %q: %v", tok, err)
		}
		g.Resources = append(g.Resources, r)
	}
	return g, nil
}

// validNodeName accepts host names (uname -n): letters, digits, '.', '-', '_'.
func validNodeName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validScriptName accepts names that can be a file in resource.d or init.d
// and an agent type in crm syntax.
func validScriptName(s string) bool {
	if s == "" || len(s) > 255 || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '+' || c == '@') {
			return false
		}
	}
	return true
}

// isIPToken reports whether tok matches the shell glob
// [0-9]*.[0-9]*.[0-9]*.[0-9]* that ResourceManager uses for bare addresses.
func isIPToken(tok string) bool {
	return globDigitDots(tok, 4)
}

// globDigitDots matches n repetitions of "[0-9]*" separated by "." (each
// "*" matching any string, including dots), anchored at both ends.
func globDigitDots(s string, n int) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	if n == 1 {
		return true // the trailing "*" matches the rest
	}
	// the "*" after the digit may swallow anything; try every "." followed by
	// the remaining pattern.
	for i := 1; i < len(s); i++ {
		if s[i] == '.' && globDigitDots(s[i+1:], n-1) {
			return true
		}
	}
	return false
}

// parseResource interprets one resource token.
func parseResource(tok string) (Resource, error) {
	r := Resource{Raw: tok, Args: []string{}}
	spec := tok
	if isIPToken(tok) {
		spec = "IPaddr::" + tok
	}
	script, rest, hasArgs := strings.Cut(spec, "::")
	r.Script = script
	if hasArgs {
		// the shell turns every "::" into a blank and word-splits: empty
		// arguments disappear.
		for _, a := range strings.Split(rest, "::") {
			if a == "" {
				r.Notes = append(r.Notes, "empty \"::\" argument dropped (heartbeat's word splitting)")
				continue
			}
			r.Args = append(r.Args, a)
		}
	}
	if !validScriptName(script) {
		return r, fmt.Errorf("invalid script name %q", script)
	}
	if script == "drbddisk" {
		mapDRBD(&r)
		return r, nil
	}
	w, ok := wrappers[script]
	if !ok {
		r.Class, r.Type = "lsb", script
		if len(r.Args) > 0 {
			r.Problem = problemPlainArgs
		}
		return r, nil
	}
	r.Class, r.Provider, r.Type = "ocf", "heartbeat", w.agent
	mapWrapper(&r, w)
	if r.Problem == "" {
		var missing []string
		for _, name := range w.required {
			if _, ok := r.Param(name); !ok {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			r.Problem = fmt.Sprintf("no %s: ocf:heartbeat:%s requires it (the v1 wrapper did not); add it by hand", strings.Join(missing, ", "), w.agent)
		}
	}
	return r, nil
}

func mapDRBD(r *Resource) {
	r.Class, r.Type = "drbd", "drbd"
	res := "all"
	if len(r.Args) > 0 {
		res = r.Args[0]
	} else {
		r.Notes = append(r.Notes, "drbddisk without a resource name acts on all DRBD resources; ocf:linbit:drbd needs one clone per DRBD resource")
	}
	if len(r.Args) > 1 {
		r.Notes = append(r.Notes, "drbddisk uses only its first argument; the others are ignored")
	}
	r.Params = []Param{{"drbd_resource", res}}
	r.Problem = problemDRBD
}

func mapWrapper(r *Resource, w wrapper) {
	n := len(r.Args)
	if w.note != "" {
		r.Notes = append(r.Notes, w.note)
	}
	switch w.split {
	case splitIPv4, splitIPv6, splitSlash:
		if n == 0 {
			r.Problem = r.Script + " needs an address argument; the wrapper fails (usage)"
			return
		}
		if n > 1 {
			if w.split == splitIPv6 {
				r.Problem = fmt.Sprintf("\"::\" inside the IPv6 address split it into %d arguments; the wrapper fails (usage)", n)
			} else {
				r.Problem = fmt.Sprintf("%d arguments given, the %s wrapper takes one; the wrapper fails (usage)", n, r.Script)
			}
		}
		splitAddress(r, w)
	case splitJoinAll:
		if n > 0 {
			r.Params = []Param{{w.params[0], strings.Join(r.Args, " ")}}
		}
	case splitOCF:
		if n >= 1 {
			if !validScriptName(r.Args[0]) {
				r.Problem = fmt.Sprintf("invalid OCF agent type %q", r.Args[0])
				r.Type = "unknown"
				return
			}
			r.Type = r.Args[0]
		}
		if n != 2 {
			r.Problem = "OCF takes ::type::instance; the wrapper fails (usage)"
			if n == 0 {
				r.Type = "unknown"
			}
			return
		}
		r.Problem = fmt.Sprintf("parameters live in /etc/ha.d/conf/OCF/%s/%s on the nodes; copy them by hand", r.Args[0], r.Args[1])
	case splitIDS:
		if n != 0 && n != 3 {
			r.Problem = fmt.Sprintf("ids takes 0 or 3 arguments, got %d; the wrapper fails (usage)", n)
		}
		positional(r, w)
	default:
		switch {
		case n < w.minArgs:
			r.Problem = fmt.Sprintf("%s needs at least %d argument(s) (%s), got %d; the wrapper fails (usage)", r.Script, w.minArgs, strings.Join(w.params[:w.minArgs], ", "), n)
		case w.maxArgs >= 0 && n > w.maxArgs:
			r.Problem = fmt.Sprintf("%s takes at most %d argument(s) (%s), got %d; the extra ones are not mapped", r.Script, w.maxArgs, strings.Join(w.params, ", "), n)
		}
		positional(r, w)
		if r.Script == "Delay" && n == 0 {
			r.Params = append(r.Params, Param{"startdelay", delayDefaultStart})
			r.Notes = append(r.Notes, "Delay without arguments: the wrapper's default startdelay="+delayDefaultStart+" written out")
		}
	}
}

func positional(r *Resource, w wrapper) {
	for i, a := range r.Args {
		if i >= len(w.params) {
			break
		}
		r.Params = append(r.Params, Param{w.params[i], a})
	}
}

// splitAddress applies the IPaddr/IPaddr2/IPv6addr/SendArp splitting of the
// first argument: fields separated by "/", runs of "/" skipped (the shell's
// word splitting), for IPv4 a third field starting with a digit is the
// broadcast address (no nic).
func splitAddress(r *Resource, w wrapper) {
	spec := r.Args[0]
	var f []string
	empty := false
	for _, p := range strings.Split(spec, "/") {
		if p == "" {
			empty = true
			continue
		}
		f = append(f, p)
	}
	if len(f) == 0 {
		r.Problem = "empty address in " + strconv.Quote(spec) + "; the wrapper fails"
		return
	}
	add := func(name, v string) { r.Params = append(r.Params, Param{name, v}) }
	switch w.split {
	case splitIPv4:
		add("ip", f[0])
		if len(f) > 1 {
			add("cidr_netmask", f[1])
		}
		used := 2
		if len(f) > 2 {
			if c := f[2][0]; c >= '0' && c <= '9' {
				add("broadcast", f[2])
				used = 3
			} else {
				add("nic", f[2])
				used = 3
				if len(f) > 3 {
					add("broadcast", f[3])
					used = 4
				}
			}
		}
		if len(f) > used {
			r.Notes = append(r.Notes, fmt.Sprintf("fields after %q ignored by the wrapper", strings.Join(f[:used], "/")))
		}
		if m, ok := r.Param("cidr_netmask"); ok && !plausibleNetmask(m) {
			r.Notes = append(r.Notes, fmt.Sprintf("cidr_netmask=%q is not a netmask (the agent will fail)", m))
		}
	case splitIPv6:
		add("ipv6addr", f[0])
		if len(f) > 1 {
			add("cidr_netmask", f[1])
		}
		if len(f) > 2 {
			add("nic", f[2])
		}
		if len(f) > 3 {
			r.Notes = append(r.Notes, "fields after ipv6/bits/nic ignored by the wrapper")
		}
	case splitSlash:
		for i, p := range f {
			if i >= len(w.params) {
				r.Notes = append(r.Notes, "fields after ip/nic ignored by the wrapper")
				break
			}
			add(w.params[i], p)
		}
	}
	if empty {
		r.Notes = append(r.Notes, fmt.Sprintf("empty field in %q skipped like the wrapper does; fields shift left (heartbeat quirk copied)", spec))
	}
}

func plausibleNetmask(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n >= 0 && n <= 128
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 255 {
			return false
		}
	}
	return true
}
