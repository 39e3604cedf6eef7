package filesystem

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gocrm/gocrm/agents/agent"
)

// config is a validated parameter set.
type config struct {
	device    string // as given
	directory string // cleaned absolute path
	fstype    string
	flags     uintptr // mount flags from options
	data      string  // options passed to the filesystem
	bind      bool
	readonly  bool
	statusChk bool
}

// flagOptions maps mount(8) options to mount(2) flags: set (true) or
// cleared (false).
var flagOptions = map[string]struct {
	flag uintptr
	set  bool
}{
	"ro": {unix.MS_RDONLY, true}, "rw": {unix.MS_RDONLY, false},
	"nosuid": {unix.MS_NOSUID, true}, "suid": {unix.MS_NOSUID, false},
	"nodev": {unix.MS_NODEV, true}, "dev": {unix.MS_NODEV, false},
	"noexec": {unix.MS_NOEXEC, true}, "exec": {unix.MS_NOEXEC, false},
	"sync": {unix.MS_SYNCHRONOUS, true}, "async": {unix.MS_SYNCHRONOUS, false},
	"dirsync": {unix.MS_DIRSYNC, true},
	"noatime": {unix.MS_NOATIME, true}, "atime": {unix.MS_NOATIME, false},
	"nodiratime": {unix.MS_NODIRATIME, true}, "diratime": {unix.MS_NODIRATIME, false},
	"relatime": {unix.MS_RELATIME, true}, "norelatime": {unix.MS_RELATIME, false},
	"strictatime": {unix.MS_STRICTATIME, true},
	"lazytime":    {unix.MS_LAZYTIME, true}, "nolazytime": {unix.MS_LAZYTIME, false},
	"mand": {unix.MS_MANDLOCK, true}, "nomand": {unix.MS_MANDLOCK, false},
	"silent": {unix.MS_SILENT, true}, "loud": {unix.MS_SILENT, false},
	"bind": {unix.MS_BIND, true}, "rbind": {unix.MS_BIND | unix.MS_REC, true},
}

// userspaceOptions are handled by mount(8) or fstab, not the kernel; they
// are dropped.
var userspaceOptions = map[string]bool{"defaults": true, "auto": true, "noauto": true, "user": true, "nouser": true, "users": true, "owner": true, "group": true, "nofail": true, "_netdev": true}

func paramErr(name, value string, sentinel error, format string, args ...any) error {
	return fmt.Errorf("parameter %s=%q: %w: %s", name, value, sentinel, fmt.Sprintf(format, args...))
}

// parseOptions splits an options string into flags and filesystem data.
func parseOptions(s string) (flags uintptr, data string, bind, ro bool, err error) {
	var rest []string
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimSpace(o)
		if o == "" || userspaceOptions[o] || strings.HasPrefix(o, "x-") || strings.HasPrefix(o, "comment=") {
			continue
		}
		if o == "loop" || strings.HasPrefix(o, "loop=") {
			return 0, "", false, false, fmt.Errorf("option %q needs mount(8); attach the image with losetup and give the loop device", o)
		}
		if fo, ok := flagOptions[o]; ok {
			if fo.set {
				flags |= fo.flag
			} else {
				flags &^= fo.flag
			}
			continue
		}
		rest = append(rest, o)
	}
	return flags, strings.Join(rest, ","), flags&unix.MS_BIND != 0, flags&unix.MS_RDONLY != 0, nil
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on", "y":
		return true
	}
	return false
}

// parseParams checks parameter syntax (no system access).
func parseParams(p map[string]string) (*config, error) {
	c := &config{device: strings.TrimSpace(p["device"]), fstype: strings.TrimSpace(p["fstype"])}
	if c.device == "" {
		return nil, paramErr("device", "", agent.ErrNotConfigured, "missing")
	}
	dir := strings.TrimSpace(p["directory"])
	switch {
	case dir == "":
		return nil, paramErr("directory", "", agent.ErrNotConfigured, "missing")
	case !filepath.IsAbs(dir):
		return nil, paramErr("directory", dir, agent.ErrNotConfigured, "must be an absolute path")
	case filepath.Clean(dir) == "/":
		return nil, paramErr("directory", dir, agent.ErrNotConfigured, "cannot manage /")
	}
	c.directory = filepath.Clean(dir)
	if c.fstype == "" {
		return nil, paramErr("fstype", "", agent.ErrNotConfigured, "missing")
	}
	var err error
	c.flags, c.data, c.bind, c.readonly, err = parseOptions(p["options"])
	if err != nil {
		return nil, paramErr("options", p["options"], agent.ErrNotConfigured, "%v", err)
	}
	if c.bind && c.fstype != "none" {
		return nil, paramErr("fstype", c.fstype, agent.ErrNotConfigured, `bind mounts need fstype "none"`)
	}
	if !c.bind && c.fstype == "none" {
		return nil, paramErr("fstype", c.fstype, agent.ErrNotConfigured, `"none" is only valid with options=bind`)
	}
	if v := p["statusfile_check"]; v != "" {
		c.statusChk = isTrue(v)
	}
	return c, nil
}

// resolveDevice maps UUID=/LABEL= (and -U/-L) to /dev/disk/by-* links.
func resolveDevice(dev string) string {
	for _, pre := range []struct{ p, dir string }{
		{"UUID=", "by-uuid"}, {"LABEL=", "by-label"}, {"-U ", "by-uuid"}, {"-L ", "by-label"},
		{"PARTUUID=", "by-partuuid"}, {"PARTLABEL=", "by-partlabel"},
	} {
		if v, ok := strings.CutPrefix(dev, pre.p); ok {
			return filepath.Join("/dev/disk", pre.dir, strings.Trim(strings.TrimSpace(v), `"`))
		}
	}
	return dev
}
