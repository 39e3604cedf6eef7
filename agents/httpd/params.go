package httpd

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/agents/agent"
	"github.com/gocrm/gocrm/internal/sdunit"
)

// Defaults.
const (
	DefaultMonitorTimeout = 5 * time.Second
	DefaultStopTimeout    = 20 * time.Second
)

// config is a validated parameter set.
type config struct {
	unit           string // systemd mode when non-empty
	binary         string
	args           []string
	pidfile        string
	user           *user.User
	statusURL      *url.URL
	monitorTimeout time.Duration
	stopTimeout    time.Duration // 0: derived from the call's timeout
}

// paramErr names the parameter in an error wrapping sentinel.
func paramErr(name, value string, sentinel error, format string, args ...any) error {
	return fmt.Errorf("parameter %s=%q: %w: %s", name, value, sentinel, fmt.Sprintf(format, args...))
}

// knownParams lists the parameters the agent accepts.
var knownParams = map[string]bool{
	"unit": true, "binary": true, "args": true, "pidfile": true, "user": true,
	"statusurl": true, "monitor_timeout": true, "stop_timeout": true,
}

// parseParams validates a call's parameters without touching the system
// beyond read-only look-ups (binary, user). Errors name the parameter and
// wrap agent.ErrNotConfigured (bad value, rc 6), agent.ErrNotInstalled
// (binary missing, rc 5) or agent.ErrInvalidParam (rc 2).
func parseParams(p map[string]string) (*config, error) {
	for name := range p {
		if !knownParams[name] {
			return nil, paramErr(name, p[name], agent.ErrNotConfigured, "unknown parameter")
		}
	}
	c := &config{monitorTimeout: DefaultMonitorTimeout}
	unit, bin := strings.TrimSpace(p["unit"]), p["binary"]
	switch {
	case unit != "" && bin != "":
		return nil, paramErr("binary", bin, agent.ErrNotConfigured, "give either unit or binary, not both")
	case unit == "" && bin == "":
		return nil, paramErr("binary", "", agent.ErrNotConfigured, "missing: give binary (absolute path) or unit")
	}
	if unit != "" {
		if strings.ContainsAny(unit, "/\x00 \t\n") {
			return nil, paramErr("unit", unit, agent.ErrNotConfigured, "not a unit name")
		}
		for _, n := range []string{"args", "pidfile", "user"} {
			if p[n] != "" {
				return nil, paramErr(n, p[n], agent.ErrNotConfigured, "only valid with binary, not with unit")
			}
		}
		c.unit = sdunit.UnitName(unit)
	} else {
		if !filepath.IsAbs(bin) {
			return nil, paramErr("binary", bin, agent.ErrNotConfigured, "must be an absolute path")
		}
		fi, err := os.Stat(bin)
		switch {
		case err != nil:
			return nil, paramErr("binary", bin, agent.ErrNotInstalled, "%v", err)
		case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
			return nil, paramErr("binary", bin, agent.ErrNotInstalled, "not an executable file")
		}
		c.binary = filepath.Clean(bin)
		args, err := splitArgs(p["args"])
		if err != nil {
			return nil, paramErr("args", p["args"], agent.ErrNotConfigured, "%v", err)
		}
		c.args = args
		if pf := p["pidfile"]; pf != "" {
			if !filepath.IsAbs(pf) {
				return nil, paramErr("pidfile", pf, agent.ErrNotConfigured, "must be an absolute path")
			}
			c.pidfile = filepath.Clean(pf)
		}
		if un := p["user"]; un != "" {
			u, err := user.Lookup(un)
			if err != nil {
				return nil, paramErr("user", un, agent.ErrInvalidParam, "no such user on this node: %v", err)
			}
			if os.Geteuid() != 0 && u.Uid != strconv.Itoa(os.Geteuid()) {
				return nil, paramErr("user", un, agent.ErrPermission, "switching user needs root")
			}
			c.user = u
		}
	}
	if s := p["statusurl"]; s != "" {
		u, err := parseStatusURL(s)
		if err != nil {
			return nil, paramErr("statusurl", s, agent.ErrNotConfigured, "%v", err)
		}
		c.statusURL = u
	}
	var err error
	if c.monitorTimeout, err = seconds(p, "monitor_timeout", DefaultMonitorTimeout); err != nil {
		return nil, err
	}
	if c.stopTimeout, err = seconds(p, "stop_timeout", 0); err != nil {
		return nil, err
	}
	return c, nil
}

func seconds(p map[string]string, name string, def time.Duration) (time.Duration, error) {
	s := strings.TrimSpace(p[name])
	if s == "" {
		return def, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, paramErr(name, s, agent.ErrNotConfigured, "want a positive number of seconds")
	}
	return time.Duration(n) * time.Second, nil
}

// parseStatusURL accepts absolute http(s) URLs with a host. The agent only
// ever requests this URL, which the operator wrote, and never follows
// redirects, so it cannot be steered to other addresses.
func parseStatusURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("scheme must be http or https")
	}
	if u.Hostname() == "" {
		return nil, errors.New("no host")
	}
	if u.User != nil {
		return nil, errors.New("credentials in the URL are not allowed (they would show in the CIB)")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, errors.New("bad port")
		}
	}
	return u, nil
}

// IsLoopback reports whether u's host is a loopback address or "localhost".
func IsLoopback(u *url.URL) bool {
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// splitArgs splits s into words like a POSIX shell would split a simple
// command line, without any expansion: blanks separate words, single
// quotes keep everything literal, double quotes keep blanks and allow \"
// and \\, and a backslash outside quotes escapes the next character.
func splitArgs(s string) ([]string, error) {
	var (
		out     []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch r {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped, inWord = true, true
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if escaped {
		return nil, errors.New("trailing backslash")
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
