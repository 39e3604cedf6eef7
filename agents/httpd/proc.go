package httpd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procStat is the part of /proc/PID/stat the agent uses.
type procStat struct {
	pid   int
	state byte   // R, S, D, Z, T, X, ...
	pgrp  int    // process group
	start uint64 // start time in clock ticks since boot (identifies the process)
}

func (s procStat) live() bool { return s.state != 'Z' && s.state != 'X' }

var errBadStat = errors.New("malformed /proc stat line")

// parseStat parses a /proc/PID/stat line. The command name (field 2) may
// contain blanks and parentheses, so fields are counted after the last ')'.
func parseStat(line string) (procStat, error) {
	open := strings.IndexByte(line, '(')
	closing := strings.LastIndexByte(line, ')')
	if open < 1 || closing < open {
		return procStat{}, errBadStat
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return procStat{}, fmt.Errorf("%w: pid: %w", errBadStat, err)
	}
	f := strings.Fields(line[closing+1:])
	// f[0] is field 3 (state); field N is f[N-3].
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, errBadStat
	}
	pgrp, err := strconv.Atoi(f[2])
	if err != nil {
		return procStat{}, fmt.Errorf("%w: pgrp: %w", errBadStat, err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("%w: starttime: %w", errBadStat, err)
	}
	return procStat{pid: pid, state: f[0][0], pgrp: pgrp, start: start}, nil
}

// readStat reads /proc/PID/stat under procRoot.
func readStat(procRoot string, pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// groupMembers lists the live (non-zombie) processes of group pgid.
func groupMembers(procRoot string, pgid int) ([]int, error) {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", procRoot, err)
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(procRoot, pid)
		if err != nil {
			continue // exited meanwhile
		}
		if st.pgrp == pgid && st.live() {
			out = append(out, pid)
		}
	}
	return out, nil
}

// tracked identifies a managed process: pid plus start time, so a
// recycled pid is never mistaken for the service.
type tracked struct {
	pid   int
	start uint64
}

func (t tracked) String() string { return fmt.Sprintf("%d %d\n", t.pid, t.start) }

func parseTracked(s string) (tracked, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return tracked{}, fmt.Errorf("state file: want \"PID STARTTIME\", got %q", strings.TrimSpace(s))
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 {
		return tracked{}, fmt.Errorf("state file: malformed %q", strings.TrimSpace(s))
	}
	return tracked{pid: pid, start: start}, nil
}

// readPidfile reads a daemon's pid file (first word, a positive integer).
func readPidfile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, fmt.Errorf("pid file %s is empty", path)
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: bad pid %q", path, f[0])
	}
	return pid, nil
}
