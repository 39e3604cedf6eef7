// Package ra discovers resource agents and reads their meta-data, for the
// shell's `crm ra classes|list|info|meta` commands and for parameter
// validation in `crm configure`.
//
// It lists built-in Go agents (from an agent.Registry) and installed ones:
// OCF agents under $OCF_ROOT/resource.d/PROVIDER/, LSB init scripts in
// /etc/init.d, systemd units found by scanning the unit directories (no
// D-Bus) and fence agents (fence_* in /usr/sbin). It fetches meta-data (by
// running `AGENT meta-data` without a shell under a timeout, or from a
// built-in agent's MetaData), parses OCF meta-data XML into Metadata,
// validates resource parameters against it, and renders `crm ra info` text.
//
// Parse, Validate and Render are pure functions. A Catalog is safe for
// concurrent use.
package ra

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// Metadata is an agent's parsed OCF meta-data.
type Metadata struct {
	Name       string // resource-agent name attribute
	Version    string // agent version (the <version> element, else the version attribute)
	ShortDesc  string
	LongDesc   string
	Parameters []Parameter
	Actions    []Action
}

// Parameter is one <parameter> of the meta-data.
type Parameter struct {
	Name        string
	Required    bool
	Unique      bool
	UniqueGroup string
	Reloadable  bool
	Deprecated  bool
	Obsoletes   string // name of the parameter this one replaces
	Type        string // content type: string, integer, boolean, select, ...
	Default     string
	HasDefault  bool     // a default attribute was present (possibly empty)
	Options     []string // allowed values of a select type
	ShortDesc   string
	LongDesc    string
}

// Action is one <action> of the meta-data. Attrs keeps every attribute in
// document order (the renderer prints them that way, as crmsh does).
type Action struct {
	Name     string
	Timeout  string
	Interval string
	Depth    string
	Role     string
	Attrs    []xml.Attr
}

// ErrBadMetadata is wrapped by Parse errors.
var ErrBadMetadata = errors.New("invalid resource agent meta-data")

type xDesc struct {
	Lang string `xml:"lang,attr"`
	Text string `xml:",chardata"`
}

type xOption struct {
	Value string `xml:"value,attr"`
}

type xContent struct {
	Type    string    `xml:"type,attr"`
	Default *string   `xml:"default,attr"`
	Options []xOption `xml:"option"`
}

type xParam struct {
	Name        string    `xml:"name,attr"`
	Required    string    `xml:"required,attr"`
	Unique      string    `xml:"unique,attr"`
	UniqueGroup string    `xml:"unique-group,attr"`
	Reloadable  string    `xml:"reloadable,attr"`
	Deprecated  *struct{} `xml:"deprecated"`
	DeprecatedA string    `xml:"deprecated,attr"`
	Obsoletes   string    `xml:"obsoletes,attr"`
	LongDesc    []xDesc   `xml:"longdesc"`
	ShortDesc   []xDesc   `xml:"shortdesc"`
	Content     *xContent `xml:"content"`
}

type xAction struct {
	Attrs []xml.Attr `xml:",any,attr"`
}

type xAgent struct {
	XMLName    xml.Name  `xml:"resource-agent"`
	Name       string    `xml:"name,attr"`
	VersionA   string    `xml:"version,attr"`
	ShortDescA string    `xml:"shortdesc,attr"` // fence agents use an attribute
	Version    string    `xml:"version"`
	LongDesc   []xDesc   `xml:"longdesc"`
	ShortDesc  []xDesc   `xml:"shortdesc"`
	Params     []xParam  `xml:"parameters>parameter"`
	Actions    []xAction `xml:"actions>action"`
}

// pickDesc returns the English (or language-less, else first) description.
func pickDesc(ds []xDesc) string {
	for _, d := range ds {
		if d.Lang == "" || d.Lang == "en" || strings.HasPrefix(d.Lang, "en_") {
			return trimDesc(d.Text)
		}
	}
	if len(ds) > 0 {
		return trimDesc(ds[0].Text)
	}
	return ""
}

// trimDesc drops leading and trailing blank lines but keeps the layout of
// the lines in between (agents format their long descriptions by hand).
func trimDesc(s string) string {
	s = strings.Trim(s, "\n\r")
	lines := strings.Split(s, "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// isTrue interprets an OCF boolean attribute ("1", "true", "yes", "on").
func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on", "y":
		return true
	}
	return false
}

// Parse parses OCF meta-data XML (also accepting the fence-agent dialect,
// whose short description is an attribute of <resource-agent>). Errors wrap
// ErrBadMetadata and name the offending parameter or action.
func Parse(data []byte) (*Metadata, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrBadMetadata)
	}
	var x xAgent
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMetadata, err)
	}
	m := &Metadata{
		Name:      x.Name,
		Version:   strings.TrimSpace(x.Version),
		ShortDesc: pickDesc(x.ShortDesc),
		LongDesc:  pickDesc(x.LongDesc),
	}
	if m.Version == "" {
		m.Version = x.VersionA
	}
	if m.ShortDesc == "" {
		m.ShortDesc = strings.TrimSpace(x.ShortDescA)
	}
	seen := make(map[string]bool, len(x.Params))
	for i, xp := range x.Params {
		name := strings.TrimSpace(xp.Name)
		if name == "" {
			return nil, fmt.Errorf("%w: parameter #%d has no name", ErrBadMetadata, i+1)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: parameter %q defined twice", ErrBadMetadata, name)
		}
		seen[name] = true
		p := Parameter{
			Name:        name,
			Required:    isTrue(xp.Required),
			Unique:      isTrue(xp.Unique),
			UniqueGroup: xp.UniqueGroup,
			Reloadable:  isTrue(xp.Reloadable),
			Deprecated:  xp.Deprecated != nil || isTrue(xp.DeprecatedA),
			Obsoletes:   xp.Obsoletes,
			ShortDesc:   pickDesc(xp.ShortDesc),
			LongDesc:    pickDesc(xp.LongDesc),
			Type:        "string",
		}
		if c := xp.Content; c != nil {
			if c.Type != "" {
				p.Type = c.Type
			}
			if c.Default != nil {
				p.Default, p.HasDefault = *c.Default, true
			}
			for _, o := range c.Options {
				p.Options = append(p.Options, o.Value)
			}
		}
		m.Parameters = append(m.Parameters, p)
	}
	for i, xa := range x.Actions {
		a := Action{Attrs: xa.Attrs}
		for _, at := range xa.Attrs {
			switch at.Name.Local {
			case "name":
				a.Name = strings.TrimSpace(at.Value)
			case "timeout":
				a.Timeout = at.Value
			case "interval":
				a.Interval = at.Value
			case "depth":
				a.Depth = at.Value
			case "role":
				a.Role = at.Value
			}
		}
		if a.Name == "" {
			return nil, fmt.Errorf("%w: action #%d has no name", ErrBadMetadata, i+1)
		}
		m.Actions = append(m.Actions, a)
	}
	return m, nil
}

// Param returns the named parameter.
func (m *Metadata) Param(name string) (Parameter, bool) {
	for _, p := range m.Parameters {
		if p.Name == name {
			return p, true
		}
	}
	return Parameter{}, false
}

// ActionsNamed returns the actions called name (monitor may appear once per
// role).
func (m *Metadata) ActionsNamed(name string) []Action {
	var out []Action
	for _, a := range m.Actions {
		if a.Name == name {
			out = append(out, a)
		}
	}
	return out
}
