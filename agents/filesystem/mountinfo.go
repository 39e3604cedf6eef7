package filesystem

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MountInfo is one line of /proc/PID/mountinfo (see proc(5)).
type MountInfo struct {
	ID, Parent   int
	Major, Minor int    // st_dev of files on this mount
	Root         string // root of the mount within the filesystem
	MountPoint   string // mount point relative to the process's root
	Options      string // per-mount options
	Optional     []string
	FSType       string
	Source       string // "none" style values kept as written
	SuperOptions string
}

// ErrBadMountinfo is wrapped by ParseMountinfo errors.
var ErrBadMountinfo = errors.New("malformed mountinfo")

// unescapeOctal decodes the \NNN escapes the kernel uses for blanks,
// tabs, newlines and backslashes in paths (\040, \011, \012, \134).
func unescapeOctal(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+4 > len(s) {
			return "", fmt.Errorf("truncated escape in %q", s)
		}
		n, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
		if err != nil {
			return "", fmt.Errorf("bad escape %q in %q", s[i:i+4], s)
		}
		b.WriteByte(byte(n))
		i += 3
	}
	return b.String(), nil
}

// ParseMountinfo parses mountinfo text. Errors wrap ErrBadMountinfo and
// give the line number.
func ParseMountinfo(r io.Reader) ([]MountInfo, error) {
	var out []MountInfo
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := parseMountinfoLine(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrBadMountinfo, n, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return out, nil
}

func parseMountinfoLine(line string) (MountInfo, error) {
	f := strings.Split(line, " ")
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 10 || sep < 0 || len(f) < sep+4 {
		return MountInfo{}, fmt.Errorf("want at least 10 fields with a \"-\" separator, got %q", line)
	}
	var m MountInfo
	var err error
	if m.ID, err = strconv.Atoi(f[0]); err != nil {
		return m, fmt.Errorf("mount id %q", f[0])
	}
	if m.Parent, err = strconv.Atoi(f[1]); err != nil {
		return m, fmt.Errorf("parent id %q", f[1])
	}
	maj, min, ok := strings.Cut(f[2], ":")
	if !ok {
		return m, fmt.Errorf("major:minor %q", f[2])
	}
	if m.Major, err = strconv.Atoi(maj); err != nil {
		return m, fmt.Errorf("major %q", maj)
	}
	if m.Minor, err = strconv.Atoi(min); err != nil {
		return m, fmt.Errorf("minor %q", min)
	}
	if m.Root, err = unescapeOctal(f[3]); err != nil {
		return m, err
	}
	if m.MountPoint, err = unescapeOctal(f[4]); err != nil {
		return m, err
	}
	m.Options = f[5]
	if sep > 6 {
		m.Optional = append([]string(nil), f[6:sep]...)
	}
	m.FSType = f[sep+1]
	if m.Source, err = unescapeOctal(f[sep+2]); err != nil {
		return m, err
	}
	m.SuperOptions = strings.Join(f[sep+3:], " ")
	return m, nil
}
