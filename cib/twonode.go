package cib

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// TwoNodeModeOption is the crm_config property enabling gocrm's two-node
// mode (two raft voters; on peer loss a fence race decides which node forces
// a single-voter configuration and recovers). See crm/daemon's twonode.go.
const TwoNodeModeOption = "two-node-mode"

// ErrTwoNodeMode is wrapped by every reason two-node-mode is refused.
var ErrTwoNodeMode = errors.New("two-node-mode refused")

// crmOption returns the first value of a crm_config property (sets with
// rules are skipped) and whether it is set.
func crmOption(cfg *Configuration, name string) (string, bool) {
	for _, s := range cfg.CRMConfig {
		if len(s.Rules) > 0 {
			continue
		}
		for _, p := range s.Pairs {
			if p.Name == name {
				return p.Value, true
			}
		}
	}
	return "", false
}

// parseBool accepts Pacemaker's boolean spellings.
func parseBool(v string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "y", "on", "1":
		return true, true
	case "false", "no", "n", "off", "0":
		return false, true
	}
	return false, false
}

// TwoNodeMode reports whether the configuration enables two-node-mode (an
// unparsable value counts as disabled; CheckTwoNodeMode reports it).
func TwoNodeMode(cfg *Configuration) bool {
	v, ok := crmOption(cfg, TwoNodeModeOption)
	if !ok {
		return false
	}
	b, _ := parseBool(v)
	return b
}

// TwoNodeNodes returns the configured cluster nodes that count for
// two-node-mode: every <node> that is not a remote or ping node, by uname.
func TwoNodeNodes(cfg *Configuration) []string {
	var out []string
	for _, n := range cfg.Nodes {
		if n.Type == "remote" || n.Type == "ping" {
			continue
		}
		name := n.Uname
		if name == "" {
			name = n.ID
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// CheckTwoNodeMode returns nil unless two-node-mode is set and refused. It
// is refused when its value is not a boolean, or, when true, unless fencing
// is enabled, the configuration has exactly two cluster nodes and each of
// them is covered by a fencing device (a stonith primitive whose
// pcmk_host_check, pcmk_host_list or pcmk_host_map includes the node; a
// dynamic-list or status device counts, since only the device itself can
// answer at run time). Errors wrap ErrTwoNodeMode.
func CheckTwoNodeMode(cfg *Configuration) error {
	v, ok := crmOption(cfg, TwoNodeModeOption)
	if !ok {
		return nil
	}
	on, valid := parseBool(v)
	if !valid {
		return fmt.Errorf("%w: crm_config %s=%q is not a boolean", ErrTwoNodeMode, TwoNodeModeOption, v)
	}
	if !on {
		return nil
	}
	if se, set := crmOption(cfg, "stonith-enabled"); set {
		if b, ok := parseBool(se); ok && !b {
			return fmt.Errorf("%w: it needs fencing but stonith-enabled is false", ErrTwoNodeMode)
		}
	}
	nodes := TwoNodeNodes(cfg)
	if len(nodes) != 2 {
		return fmt.Errorf("%w: it needs exactly two cluster nodes in <nodes>, found %d %v", ErrTwoNodeMode, len(nodes), nodes)
	}
	var devices []*Resource
	var walk func(rs []*Resource)
	walk = func(rs []*Resource) {
		for _, r := range rs {
			if r.Kind == KindPrimitive && r.Class == "stonith" {
				devices = append(devices, r)
			}
			walk(r.Children)
		}
	}
	walk(cfg.Resources)
	var missing []string
	for _, n := range nodes {
		if !slices.ContainsFunc(devices, func(r *Resource) bool { return DeviceCovers(r, n) }) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no fencing device (stonith primitive) can fence %s", ErrTwoNodeMode, strings.Join(missing, " and "))
	}
	return nil
}

// DeviceCovers reports whether stonith primitive r may fence node according
// to its pcmk_host_check, pcmk_host_list and pcmk_host_map (first
// instance_attributes value wins). With no list or map the check defaults to
// dynamic-list: the device is asked at run time, so it counts.
func DeviceCovers(r *Resource, node string) bool {
	params := map[string]string{}
	for _, s := range r.Instance {
		if len(s.Rules) > 0 {
			continue
		}
		for _, p := range s.Pairs {
			if _, ok := params[p.Name]; !ok {
				params[p.Name] = p.Value
			}
		}
	}
	list := strings.FieldsFunc(params["pcmk_host_list"], func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' })
	var mapped []string
	for _, e := range strings.FieldsFunc(params["pcmk_host_map"], func(c rune) bool { return c == ';' || c == ' ' || c == '\t' || c == '\n' }) {
		if i := strings.IndexAny(e, ":="); i > 0 {
			mapped = append(mapped, e[:i])
		}
	}
	check := strings.TrimSpace(params["pcmk_host_check"])
	if check == "" {
		check = "dynamic-list"
		if len(list) > 0 || len(mapped) > 0 {
			check = "static-list"
		}
	}
	switch check {
	case "none", "dynamic-list", "status":
		return true
	case "static-list":
		return slices.Contains(list, node) || slices.Contains(mapped, node)
	}
	return false
}
