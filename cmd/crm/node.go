package main

import (
	"fmt"
	"strings"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
)

func init() {
	register(&command{
		name:    "node",
		summary: "standby/online, node attributes, fencing",
		run:     runNode,
	})
}

const nodeUsage = `usage: crm node COMMAND ... [--socket PATH]
  standby [NODE] | online [NODE]          set the standby attribute on / off (default: local node)
  maintenance [NODE] | ready [NODE]       set the maintenance attribute on / off
  attribute NODE set NAME VALUE | delete NAME | show NAME       permanent node attribute
  status-attr NODE set NAME VALUE | delete NAME | show NAME     transient (status) attribute
  fence NODE                              ask the DC to fence NODE
  fence-confirm NODE                      confirm that NODE was powered off by hand
  takeover [all|foreign|local|failback] [--node NODE] [--lifetime P]
                                          heartbeat's hb_takeover: move resources to NODE
                                          (default: the local node) with expiring preferences;
                                          all = every resource, foreign/local = those whose
                                          location preference is another node / NODE
                                          (failback = local)
`

func runNode(e *env, args []string) int {
	co, args, err := takeConnFlags(args)
	if err != nil {
		return fail(e, "node", err)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(e.stdout, nodeUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, rest := args[0], args[1:]
	usageErr := func(msg string) int {
		fmt.Fprintf(e.stderr, "crm node %s: %s\n%s", sub, msg, nodeUsage)
		return exitUsage
	}
	switch sub {
	case "standby", "online", "maintenance", "ready":
		if len(rest) > 1 {
			return usageErr("takes at most one node")
		}
	case "attribute", "status-attr":
		if len(rest) < 3 || (rest[1] == "set" && len(rest) != 4) || (rest[1] != "set" && len(rest) != 3) ||
			(rest[1] != "set" && rest[1] != "delete" && rest[1] != "show") {
			return usageErr("usage: " + sub + " NODE set NAME VALUE | delete NAME | show NAME")
		}
	case "fence", "fence-confirm":
		if len(rest) != 1 {
			return usageErr("needs exactly one node")
		}
	case "takeover":
	default:
		return usageErr("unknown command")
	}
	b, err := openBackend(e, co)
	if err != nil {
		return fail(e, "node", err)
	}
	defer b.Close()
	name := "node " + sub
	if sub == "takeover" {
		if err := takeover(e, b, rest); err != nil {
			return fail(e, name, err)
		}
		return exitOK
	}
	switch sub {
	case "standby", "online", "maintenance", "ready":
		node := ""
		if len(rest) == 1 {
			node = rest[0]
		} else if node, err = localNode(e, b); err != nil {
			return fail(e, name, err)
		}
		attr, value := "standby", "on"
		switch sub {
		case "online":
			value = "off"
		case "maintenance":
			attr = "maintenance"
		case "ready":
			attr, value = "maintenance", "off"
		}
		if err := setNodeAttr(e, b, node, attr, value, false, false); err != nil {
			return fail(e, name, err)
		}
		return exitOK
	case "attribute", "status-attr":
		node, op, attr := rest[0], rest[1], rest[2]
		transient := sub == "status-attr"
		switch op {
		case "show":
			return showNodeAttr(e, b, node, attr, transient)
		case "set":
			err = setNodeAttr(e, b, node, attr, rest[3], false, transient)
		default:
			err = setNodeAttr(e, b, node, attr, "", true, transient)
		}
		if err != nil {
			return fail(e, name, err)
		}
		return exitOK
	}
	op := api.OpFence
	if sub == "fence-confirm" {
		op = api.OpFenceConfirm
	}
	if _, err := b.Request(e.ctx, api.Request{Op: op, Node: rest[0]}); err != nil {
		return fail(e, name, err)
	}
	if sub == "fence" {
		fmt.Fprintf(e.stdout, "INFO: fencing of %s requested\n", rest[0])
	} else {
		fmt.Fprintf(e.stdout, "INFO: %s confirmed down\n", rest[0])
	}
	return exitOK
}

// localNode asks crmd which node it runs on.
func localNode(e *env, b backend) (string, error) {
	resp, err := b.Request(e.ctx, api.Request{Op: api.OpStatus})
	if err != nil {
		return "", fmt.Errorf("no node given and the local node is unknown: %w", err)
	}
	if resp.Status == nil || resp.Status.Node == "" {
		return "", fmt.Errorf("no node given and crmd did not report its node name")
	}
	return resp.Status.Node, nil
}

func setNodeAttr(e *env, b backend, node, name, value string, del, transient bool) error {
	c, err := b.Read(e.ctx)
	if err != nil {
		return err
	}
	id := ""
	for _, n := range c.Config.Nodes {
		if n.Uname == node {
			id = n.ID
		}
	}
	if id == "" && !transient {
		return fmt.Errorf("node %s: %w", node, errNotFound)
	}
	op := store.OpSetNodeAttr
	if del {
		op = store.OpDeleteNodeAttr
	}
	return b.Apply(e.ctx, store.Command{V: store.Version, Op: op, Node: node, NodeID: id, Name: name, Value: value, Transient: transient})
}

func showNodeAttr(e *env, b backend, node, name string, transient bool) int {
	c, err := b.Read(e.ctx)
	if err != nil {
		return fail(e, "node", err)
	}
	var sets []*cib.NVSet
	scope := "nodes"
	if transient {
		scope = "status"
		for _, ns := range c.Status.Nodes {
			if ns.Uname == node {
				sets = ns.Transient
			}
		}
	} else {
		found := false
		for _, n := range c.Config.Nodes {
			if n.Uname == node {
				sets, found = n.Instance, true
			}
		}
		if !found {
			return fail(e, "node", fmt.Errorf("node %s: %w", node, errNotFound))
		}
	}
	for _, s := range sets {
		for _, p := range s.Pairs {
			if p.Name == name {
				fmt.Fprintf(e.stdout, "scope=%s  name=%s value=%s\n", scope, name, p.Value)
				return exitOK
			}
		}
	}
	fmt.Fprintf(e.stdout, "scope=%s  name=%s value=(null)\n", scope, name)
	return exitError
}

// takeover implements hb_takeover's modes on top of expiring
// cli-prefer constraints (crm resource move), so the resources come to
// the node without putting any node in standby.
func takeover(e *env, b backend, args []string) error {
	mode, node, lifetime := "all", "", ""
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "all" || a == "foreign" || a == "local" || a == "failback":
			mode = a
		case a == "--node" && i+1 < len(args):
			node = args[i+1]
			i++
		case strings.HasPrefix(a, "--node="):
			node = strings.TrimPrefix(a, "--node=")
		case (a == "--lifetime" || a == "-u") && i+1 < len(args):
			lifetime = args[i+1]
			i++
		case strings.HasPrefix(a, "--lifetime="):
			lifetime = strings.TrimPrefix(a, "--lifetime=")
		default:
			return fmt.Errorf("%w: unexpected argument %q", errUsage, a)
		}
	}
	if mode == "failback" {
		mode = "local"
	}
	var err error
	if node == "" {
		if node, err = localNode(e, b); err != nil {
			return err
		}
	}
	c, err := b.Read(e.ctx)
	if err != nil {
		return err
	}
	if err := checkNode(c, node); err != nil {
		return err
	}
	// Each top-level resource's preferred node: its highest positive
	// plain location score.
	preferred := map[string]string{}
	best := map[string]int{}
	for _, con := range c.Config.Constraints {
		l, ok := con.(*cib.Location)
		if !ok || l.Rsc == "" || l.Node == "" || strings.HasPrefix(l.ID, "cli-") {
			continue
		}
		if v, err := cib.ParseScore(l.Score); err == nil && v > 0 && v > best[l.Rsc] {
			best[l.Rsc], preferred[l.Rsc] = v, l.Node
		}
	}
	moved := 0
	for _, r := range c.Config.Resources {
		if r.Kind == cib.KindTemplate || r.Class == "stonith" {
			continue
		}
		if r.Kind == cib.KindClone || r.Kind == cib.KindMaster {
			continue // clones run everywhere already
		}
		switch mode {
		case "local":
			if preferred[r.ID] != node {
				continue
			}
		case "foreign":
			if p := preferred[r.ID]; p == "" || p == node {
				continue
			}
		}
		args := []string{r.ID, node}
		if lifetime != "" {
			args = append(args, "--lifetime", lifetime)
		}
		if err := moveResource(e, b, args); err != nil {
			return fmt.Errorf("%s: %w", r.ID, err)
		}
		moved++
	}
	fmt.Fprintf(e.stdout, "INFO: takeover %s: %d resource(s) moved to %s (expiring preferences; crm resource clear RSC to drop one)\n", mode, moved, node)
	return nil
}
