package ocf

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// ParamSpec describes one agent parameter for validation and meta-data.
type ParamSpec struct {
	Name     string
	Aliases  []string // accepted alternative names (not shown in meta-data)
	Type     string   // "string", "integer" or "boolean"
	Default  string
	Required bool
	Unique   bool
	Short    string
	Long     string
}

// ActionSpec describes one supported action in meta-data.
type ActionSpec struct {
	Name     string
	Timeout  string // e.g. "20s"
	Interval string // e.g. "10s" (monitor only)
	Depth    string
}

// Meta is the data rendered as OCF meta-data.
type Meta struct {
	Name    string
	Version string
	Short   string
	Long    string
	Params  []ParamSpec
	Actions []ActionSpec
}

type xmlDesc struct {
	Lang string `xml:"lang,attr"`
	Text string `xml:",chardata"`
}

type xmlContent struct {
	Type    string `xml:"type,attr"`
	Default string `xml:"default,attr"`
}

type xmlParam struct {
	Name     string     `xml:"name,attr"`
	Unique   int        `xml:"unique,attr"`
	Required int        `xml:"required,attr"`
	Long     xmlDesc    `xml:"longdesc"`
	Short    xmlDesc    `xml:"shortdesc"`
	Content  xmlContent `xml:"content"`
}

type xmlAction struct {
	Name     string `xml:"name,attr"`
	Timeout  string `xml:"timeout,attr,omitempty"`
	Interval string `xml:"interval,attr,omitempty"`
	Depth    string `xml:"depth,attr,omitempty"`
}

type xmlAgent struct {
	XMLName xml.Name    `xml:"resource-agent"`
	Name    string      `xml:"name,attr"`
	Version string      `xml:"version,attr"`
	Ver     string      `xml:"version"`
	Long    xmlDesc     `xml:"longdesc"`
	Short   xmlDesc     `xml:"shortdesc"`
	Params  []xmlParam  `xml:"parameters>parameter"`
	Actions []xmlAction `xml:"actions>action"`
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Render returns the OCF meta-data document (resource-agent API 1.0 layout).
func (m Meta) Render() string {
	a := xmlAgent{
		Name: m.Name, Version: m.Version, Ver: "1.0",
		Long:  xmlDesc{"en", m.Long},
		Short: xmlDesc{"en", m.Short},
	}
	for _, p := range m.Params {
		typ := p.Type
		if typ == "" {
			typ = "string"
		}
		a.Params = append(a.Params, xmlParam{
			Name: p.Name, Unique: b2i(p.Unique), Required: b2i(p.Required),
			Long: xmlDesc{"en", p.Long}, Short: xmlDesc{"en", p.Short},
			Content: xmlContent{Type: typ, Default: p.Default},
		})
	}
	for _, act := range m.Actions {
		a.Actions = append(a.Actions, xmlAction(act))
	}
	out, err := xml.MarshalIndent(a, "", "  ")
	if err != nil {
		// Only plain strings are marshalled; this cannot fail.
		panic(fmt.Sprintf("ocf: marshal meta-data: %v", err))
	}
	var sb strings.Builder
	sb.WriteString("<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n")
	sb.Write(out)
	sb.WriteString("\n")
	return sb.String()
}

// AgentMeta renders the meta-data of a built-in network agent: version
// 1.0 with the standard actions (20 s timeouts, monitor every 10 s).
func AgentMeta(name, short, long string, params []ParamSpec) string {
	return Meta{
		Name: name, Version: "1.0", Short: short, Long: long,
		Params: params, Actions: StandardActions("20s", "10s"),
	}.Render()
}

// StandardActions returns the usual action list with the given start/stop
// timeout and monitor interval.
func StandardActions(timeout, monitorInterval string) []ActionSpec {
	return []ActionSpec{
		{Name: "start", Timeout: timeout},
		{Name: "stop", Timeout: timeout},
		{Name: "monitor", Timeout: timeout, Interval: monitorInterval, Depth: "0"},
		{Name: "meta-data", Timeout: "5s"},
		{Name: "validate-all", Timeout: timeout},
	}
}
