package cts

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/gocrm/gocrm/internal/logfmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/test/cts/invariant"
)

// logTail reads the new complete lines of every node's crmd log and turns
// the resource operations into timeline events. Not safe for concurrent use.
type logTail struct {
	files   map[string]string // node -> log path
	offsets map[string]int64
}

func newLogTail(files map[string]string) *logTail {
	return &logTail{files: files, offsets: map[string]int64{}}
}

// read returns the events of the lines appended since the last call.
func (t *logTail) read() ([]invariant.Event, error) {
	var out []invariant.Event
	for node, path := range t.files {
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if _, err := f.Seek(t.offsets[node], io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		r := bufio.NewReaderSize(f, 1<<16)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				break // a partial last line is read next time
			}
			t.offsets[node] += int64(len(line))
			if ev, ok := parseEvent(node, strings.TrimRight(line, "\n")); ok {
				out = append(out, ev)
			}
		}
		f.Close()
	}
	return out, nil
}

// parseEvent maps one log line to a timeline event: successful starts,
// stops and probes, monitors that found the resource stopped, and
// confirmed fencing (returned as NodeDown of the target: the DC logs it
// once the target's crmd is gone, which can be before the harness's
// reaper notices the death).
func parseEvent(node, line string) (invariant.Event, bool) {
	if !strings.Contains(line, "operation complete") && !strings.Contains(line, "node fenced") {
		return invariant.Event{}, false
	}
	f := parseLogfmt(line)
	at, err := time.Parse(time.RFC3339Nano, f["time"])
	if err != nil {
		return invariant.Event{}, false
	}
	switch f["msg"] {
	case "node fenced":
		return invariant.Event{At: at, Kind: invariant.NodeDown, Node: f["target"], Why: "fenced by " + node}, true
	case "operation complete":
	default:
		return invariant.Event{}, false
	}
	rsc, key, rc := f["rsc"], f["op"], f["rc"]
	if rsc == "" || f["status"] != "complete" || !strings.HasPrefix(key, rsc+"_") {
		return invariant.Event{}, false
	}
	task, ival, ok := strings.Cut(strings.TrimPrefix(key, rsc+"_"), "_")
	if !ok {
		return invariant.Event{}, false
	}
	interval, _ := strconv.ParseInt(ival, 10, 64)
	ev := invariant.Event{At: at, Node: node, Rsc: rsc, Why: fmt.Sprintf("%s rc=%s on %s", key, rc, node)}
	switch {
	case task == "start" && rc == "0":
		ev.Kind = invariant.Started
	case task == "stop" && rc == "0":
		ev.Kind = invariant.Stopped
	case task == "monitor" && interval == 0 && rc == "0":
		ev.Kind = invariant.Found
	case task == "monitor" && rc == "7":
		ev.Kind = invariant.Stopped
	default:
		return invariant.Event{}, false
	}
	return ev, true
}

// parseLogfmt splits a crmd log line into its key=value pairs (see
// logfmt.Parse).
var parseLogfmt = logfmt.Parse
