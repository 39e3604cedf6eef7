package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/crm/status"
)

func init() {
	register(&command{
		name:    "stonith",
		summary: "fence devices and fencing history (stonith_admin --list-registered / --history / --query)",
		run:     runStonith,
	})
}

const stonithUsage = `usage: crm stonith COMMAND [--output-as=text|xml] [--socket PATH]
  list              fence devices of the CIB whose parameters are valid
                    (stonith_admin --list-registered)
  history [NODE]    fencing operations, all targets or NODE's, pending first, then
                    newest first (stonith_admin --history NODE --verbose)
  status [DEVICE]   run the monitor action of every device (or DEVICE) on the node
                    crm talks to and show where the device runs; exit status 1 when
                    one is misconfigured or fails (stonith_admin --query)
  The node that fences (the DC) keeps every record; finished ones are also stored
  in the CIB (a failure repeated within 15 s only once), so every node shows them.
`

// errFenceDevice: a device failed its configuration check or monitor.
var errFenceDevice = errors.New("fence device check failed")

func runStonith(e *env, args []string) int {
	co, args, err := takeConnFlags(args)
	if err != nil {
		return fail(e, "stonith", err)
	}
	format := "text"
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help" || a == "help":
			fmt.Fprint(e.stdout, stonithUsage)
			return exitOK
		case strings.HasPrefix(a, "--output-as="):
			format = strings.TrimPrefix(a, "--output-as=")
		case a == "--output-as" && i+1 < len(args):
			format = args[i+1]
			i++
		case strings.HasPrefix(a, "-") && a != "-":
			fmt.Fprintf(e.stderr, "crm stonith: unknown option %q\n%s", a, stonithUsage)
			return exitUsage
		default:
			pos = append(pos, a)
		}
	}
	if format != "text" && format != "xml" {
		fmt.Fprintf(e.stderr, "crm stonith: --output-as must be text or xml, not %q\n", format)
		return exitUsage
	}
	if len(pos) == 0 {
		fmt.Fprint(e.stderr, stonithUsage)
		return exitUsage
	}
	sub, rest := pos[0], pos[1:]
	var req api.Request
	switch sub {
	case "list":
		if len(rest) != 0 {
			fmt.Fprintf(e.stderr, "crm stonith list: takes no argument\n%s", stonithUsage)
			return exitUsage
		}
		req.Op = api.OpFenceDevices
	case "history":
		req.Op = api.OpFenceHistory
	case "status":
		req.Op = api.OpFenceStatus
	default:
		fmt.Fprintf(e.stderr, "crm stonith: unknown command %q\n%s", sub, stonithUsage)
		return exitUsage
	}
	if sub != "list" {
		if len(rest) > 1 {
			fmt.Fprintf(e.stderr, "crm stonith %s: takes at most one argument\n%s", sub, stonithUsage)
			return exitUsage
		}
		if len(rest) == 1 {
			req.Node = rest[0]
		}
	}
	b, err := openBackend(e, co)
	if err != nil {
		return fail(e, "stonith "+sub, err)
	}
	defer b.Close()
	if b.Offline() {
		return fail(e, "stonith "+sub, fmt.Errorf("a CIB file has no fencer to ask: %w", errOffline))
	}
	resp, err := b.Request(e.ctx, req)
	if err != nil {
		return fail(e, "stonith "+sub, err)
	}
	if resp.Fencing == nil {
		return fail(e, "stonith "+sub, errors.New("crmd sent no fencing data"))
	}
	request := strings.TrimSpace("crm stonith " + strings.Join(args, " "))
	switch sub {
	case "list":
		err = writeFenceList(e, resp.Fencing, format, request)
	case "history":
		err = writeFenceHistory(e.stdout, resp.Fencing, format, request, time.Local)
		if err == nil && !resp.Fencing.IsDC && format == "text" {
			fmt.Fprintf(e.stderr, "note: answered by %s, not the DC: repeated failures may be thinned out (the DC lists them all)\n", resp.Fencing.Node)
		}
	default:
		err = writeFenceStatus(e.stdout, resp.Fencing, format, request)
	}
	if err != nil {
		return fail(e, "stonith "+sub, err)
	}
	return exitOK
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func xmlResult(request string, children ...*cib.Element) *cib.Element {
	root := &cib.Element{Name: "pacemaker-result"}
	root.Set("api-version", "2.25")
	root.Set("request", request)
	root.Children = append(root.Children, children...)
	st := &cib.Element{Name: "status"}
	st.Set("code", "0")
	st.Set("message", "OK")
	root.Children = append(root.Children, st)
	return root
}

// writeFenceList prints the usable devices like stonith_admin
// --list-registered; devices whose parameters are invalid are reported on
// stderr.
func writeFenceList(e *env, f *api.Fencing, format, request string) error {
	var ids []string
	for _, d := range f.Devices {
		if d.Error != "" {
			fmt.Fprintf(e.stderr, "crm stonith list: %s (stonith:%s) is not usable: %s\n", d.ID, d.Type, d.Error)
			continue
		}
		ids = append(ids, d.ID)
	}
	if format == "xml" {
		l := &cib.Element{Name: "list"}
		l.Set("name", "registered fence devices")
		l.Set("count", strconv.Itoa(len(ids)))
		for _, id := range ids {
			it := &cib.Element{Name: "item", Text: id}
			it.Set("name", "device")
			l.Children = append(l.Children, it)
		}
		return xmlResult(request, l).WriteXML(e.stdout)
	}
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(id + "\n")
	}
	b.WriteString(pluralWord(len(ids), "fence device", "fence devices") + " found\n")
	_, err := io.WriteString(e.stdout, b.String())
	return err
}

// writeFenceHistory prints the history like stonith_admin --history NODE
// --verbose: every operation, technical form, pending first, then newest
// first.
func writeFenceHistory(w io.Writer, f *api.Fencing, format, request string, loc *time.Location) error {
	if format == "xml" {
		l := &cib.Element{Name: "list"}
		l.Set("name", "fencing history")
		l.Set("count", strconv.Itoa(len(f.History)))
		for _, r := range status.SortFenceHistory(f.History) {
			l.Children = append(l.Children, status.FenceEventElement(r, loc))
		}
		return xmlResult(request, l).WriteXML(w)
	}
	var b strings.Builder
	for _, l := range status.FenceDetailLines(f.History, loc) {
		b.WriteString(l + "\n")
	}
	b.WriteString(pluralWord(len(f.History), "event", "events") + " found\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFenceStatus prints one line per device: where it runs and the
// result of its configuration check and monitor. It returns
// errFenceDevice (after printing) when a device is not healthy.
func writeFenceStatus(w io.Writer, f *api.Fencing, format, request string) error {
	bad := 0
	if format == "xml" {
		l := &cib.Element{Name: "devices"}
		for _, d := range f.Devices {
			de := &cib.Element{Name: "device"}
			de.Set("id", d.ID)
			de.Set("agent", "stonith:"+d.Type)
			de.Set("running_on", strings.Join(d.RunningOn, " "))
			ok := d.Error == "" && d.Monitor == "OK"
			de.Set("healthy", strconv.FormatBool(ok))
			if d.Error != "" {
				de.Set("configuration_error", d.Error)
			}
			if d.Monitor != "" && d.Monitor != "OK" {
				de.Set("monitor_error", d.Monitor)
			}
			if !ok {
				bad++
			}
			l.Children = append(l.Children, de)
		}
		if err := xmlResult(request, l).WriteXML(w); err != nil {
			return err
		}
	} else {
		var b strings.Builder
		for _, d := range f.Devices {
			where := "not running"
			if len(d.RunningOn) > 0 {
				where = "running on " + strings.Join(d.RunningOn, " ")
			}
			fmt.Fprintf(&b, "%s (stonith:%s): %s; ", d.ID, d.Type, where)
			switch {
			case d.Error != "":
				bad++
				b.WriteString("configuration error: " + d.Error)
			case d.Monitor == "OK":
				b.WriteString("monitor OK")
			default:
				bad++
				b.WriteString("monitor failed: " + d.Monitor)
			}
			b.WriteString("\n")
		}
		b.WriteString(pluralWord(len(f.Devices), "fence device", "fence devices") + " checked\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d devices: %w", bad, len(f.Devices), errFenceDevice)
	}
	return nil
}
