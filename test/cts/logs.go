package cts

import (
	"bufio"
	"errors"
	"fmt"
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

// parseLogfmt splits slog text lines into key=value pairs; values may be
// double-quoted with backslash escapes. The first occurrence of a key wins
// (the logging node's "node" comes before the message's attributes).
func parseLogfmt(line string) map[string]string {
	m := map[string]string{}
	i := 0
	for i < len(line) {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		eq := strings.IndexByte(line[i:], '=')
		if eq < 0 {
			break
		}
		key := line[i : i+eq]
		i += eq + 1
		var val string
		if i < len(line) && line[i] == '"' {
			var b strings.Builder
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				b.WriteByte(line[j])
			}
			val, i = b.String(), j+1
		} else {
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			val, i = line[i:i+j], i+j
		}
		if _, dup := m[key]; !dup {
			m[key] = val
		}
	}
	return m
}
