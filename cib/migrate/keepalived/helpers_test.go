package keepalived

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// parseSrc parses src as "keepalived.conf" with no file system.
func parseSrc(t *testing.T, src string, opts ...Options) (*Config, error) {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return Parse("keepalived.conf", []byte(src), o)
}

// mustParse parses and validates src, failing on any error.
func mustParse(t *testing.T, src string, opts ...Options) *Config {
	t.Helper()
	cfg, err := parseSrc(t, src, opts...)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return cfg
}

// wantErr checks that parsing (and then validating) src fails with
// sentinel and that the message contains every substring.
func wantErr(t *testing.T, src string, sentinel error, subs ...string) {
	t.Helper()
	cfg, err := parseSrc(t, src)
	if err == nil {
		err = cfg.Validate()
	}
	if err == nil {
		t.Fatalf("no error; want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %q is not %v", err, sentinel)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error is not a non-empty ErrorList: %T", err)
	}
}

// wantWarn checks that src parses and validates, with a warning containing
// every substring.
func wantWarn(t *testing.T, src string, subs ...string) *Config {
	t.Helper()
	cfg := mustParse(t, src)
	var all []string
	for _, w := range cfg.Warnings {
		all = append(all, w.String())
	}
	joined := strings.Join(all, "\n")
	for _, s := range subs {
		if !strings.Contains(joined, s) {
			t.Errorf("warnings %q lack %q", joined, s)
		}
	}
	return cfg
}

func noWarnings(t *testing.T, cfg *Config) {
	t.Helper()
	for _, w := range cfg.Warnings {
		t.Errorf("unexpected warning: %s", w)
	}
}

// check is one expected value of a decoded configuration; got and want are
// compared as printed by fmt.Sprint.
type check struct {
	name      string
	got, want any
}

// runChecks reports every check whose got and want differ.
func runChecks(t *testing.T, checks []check) {
	t.Helper()
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// errCase is a configuration fragment that must fail with sentinel and an
// error message containing sub.
type errCase struct {
	body     string
	sentinel error
	sub      string
}

// minimal instance body reused by many tests.
const inst = `
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.99.0.50/24
    }
%s
}
`

func instSrc(body string) string { return strings.Replace(inst, "%s", body, 1) }

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}
