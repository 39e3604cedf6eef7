package ra

import (
	"fmt"
	"strings"
)

// hiddenActions are not listed under "Operations' defaults" (they are not
// resource operations a user configures).
var hiddenActions = map[string]bool{"meta-data": true, "validate-all": true, "usage": true}

// Render formats meta-data as `crm ra info` does: a header
// "SHORTDESC (KEY)" (or just KEY without a short description), the long
// description, "Parameters (*: required, []: default):" with one entry per
// parameter ("name* (type, [default]): shortdesc" followed by the long
// description indented four spaces; the short description is left out when
// it repeats the long one or the parameter name; the header likewise
// drops a short description equal to the long one), and "Operations' defaults (advisory minimum):"
// with each action's attributes in document order.
func Render(key string, m *Metadata) string {
	var b strings.Builder
	long := strings.TrimSpace(m.LongDesc)
	if short := strings.TrimSpace(m.ShortDesc); short != "" && short != long {
		fmt.Fprintf(&b, "%s (%s)\n", short, key)
	} else {
		b.WriteString(key + "\n")
	}
	if long != "" {
		b.WriteString("\n" + long + "\n")
	}
	if len(m.Parameters) > 0 {
		blankLine(&b)
		b.WriteString("Parameters (*: required, []: default):\n\n")
		for _, p := range m.Parameters {
			renderParam(&b, p)
		}
	}
	var ops []Action
	for _, a := range m.Actions {
		if !hiddenActions[a.Name] {
			ops = append(ops, a)
		}
	}
	if len(ops) > 0 {
		blankLine(&b)
		b.WriteString("Operations' defaults (advisory minimum):\n\n")
		for _, a := range ops {
			var attrs []string
			for _, at := range a.Attrs {
				if at.Name.Local == "name" {
					continue
				}
				attrs = append(attrs, at.Name.Local+"="+at.Value)
			}
			fmt.Fprintf(&b, "    %-13s %s\n", a.Name, strings.Join(attrs, " "))
		}
	}
	return b.String()
}

func renderParam(b *strings.Builder, p Parameter) {
	name := p.Name
	if p.Required {
		name += "*"
	}
	typ := p.Type
	if p.Default != "" {
		typ += ", [" + p.Default + "]"
	}
	short, long := strings.TrimSpace(p.ShortDesc), strings.TrimSpace(p.LongDesc)
	if short == long || short == p.Name {
		short = ""
	}
	fmt.Fprintf(b, "%s (%s): %s\n", name, typ, short)
	if long == "" {
		return
	}
	for _, line := range strings.Split(long, "\n") {
		b.WriteString("    " + line + "\n")
	}
	b.WriteString("\n")
}

// blankLine ends the text so far with exactly one empty line.
func blankLine(b *strings.Builder) {
	if !strings.HasSuffix(b.String(), "\n\n") {
		b.WriteString("\n")
	}
}

// DefaultWidth is the terminal width crmsh assumes for lists.
const DefaultWidth = 80

// Columns lays names out the way `crm ra list` does for a terminal of
// width columns: as many columns as fit entries of the longest name plus
// three blanks, each column width/ncols wide, filled row by row. Entries
// are padded except in the last column.
func Columns(names []string, width int) string {
	if len(names) == 0 {
		return ""
	}
	if width <= 0 {
		width = DefaultWidth
	}
	maxLen := 0
	for _, n := range names {
		maxLen = max(maxLen, len(n))
	}
	ncols := max(1, width/(maxLen+3))
	colw := width / ncols
	var b strings.Builder
	for i, n := range names {
		if (i+1)%ncols == 0 {
			b.WriteString(n + "\n")
			continue
		}
		b.WriteString(n + strings.Repeat(" ", max(1, colw-len(n))))
	}
	if len(names)%ncols != 0 {
		b.WriteString("\n")
	}
	return b.String()
}
