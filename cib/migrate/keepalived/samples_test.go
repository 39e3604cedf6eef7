package keepalived

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const samplesDir = "/usr/share/doc/keepalived/samples"

// sampleExpect lists, per keepalived sample, substrings that must appear in
// the warnings (vrrp.md §9.7 says which samples keepalived -t complains
// about), and the config id for conditional samples.
var sampleExpect = map[string][]string{
	"keepalived.conf.SSL_GET":               {"incompatible with AH"},
	"keepalived.conf.vrrp.lvs_syncd":        {"VI_2: unknown keyword", "lvs_sync_daemon_interface: obsolete", "no member instances"},
	"keepalived.conf.vrrp.localcheck":       {"SECURITY VIOLATION"},
	"keepalived.conf.fwmark":                {"protocol specified for fwmark"},
	"keepalived.conf.vrrp.rules":            {`"192.168.100./24" is not an IP address`, `"192.168.200./24" is not an IP address`},
	"keepalived.conf.vrrp.routes":           {"'or' (alternative gateway) is deprecated", "'gw' is deprecated", "route 192.168.112.0/24 has no dev"},
	"keepalived.conf.track_interface":       {"route 192.168.112.0/24 has no dev"},
	"keepalived.conf.vrrp.static_ipaddress": {"route 192.168.112.0/24 has no dev"},
}

// cleanSamples are the samples keepalived -t accepts without comment
// (vrrp.md §9.7); they must load without warnings that point at real
// problems (only "no health checker" style remarks are tolerated).
var cleanSamples = []string{"vrrp", "vrrp.scripts", "vrrp.sync", "sample", "HTTP_GET.port", "IPv6",
	"PING_CHECK", "SMTP_CHECK", "UDP_CHECK", "inhibit", "misc_check", "misc_check_arg", "quorum",
	"status_code", "virtual_server_group", "virtualhost"}

func TestKeepalivedSamples(t *testing.T) {
	entries, err := os.ReadDir(samplesDir)
	if err != nil {
		t.Skipf("keepalived samples not installed (%v); apt-get install keepalived", err)
	}
	fsys := os.DirFS(samplesDir)
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "keepalived.conf.") {
			continue
		}
		n++
		ids := []string{""}
		if name == "keepalived.conf.conditional_conf" {
			ids = []string{"high", "low"}
		}
		for _, id := range ids {
			t.Run(strings.TrimPrefix(name, "keepalived.conf.")+id, func(t *testing.T) {
				cfg, err := Load(fsys, name, Options{Root: samplesDir, ConfigID: id})
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				var all []string
				for _, w := range cfg.Warnings {
					t.Logf("warning: %s", w)
					all = append(all, w.String())
				}
				joined := strings.Join(all, "\n")
				for _, want := range sampleExpect[name] {
					if !strings.Contains(joined, want) {
						t.Errorf("warnings lack %q", want)
					}
				}
				for _, w := range cfg.Warnings {
					if !strings.HasPrefix(w.Pos.File, filepath.Join(samplesDir, name)) {
						t.Errorf("warning without file position: %s", w)
					}
				}
				if len(cfg.Instances)+len(cfg.VirtualServers) == 0 {
					t.Errorf("nothing parsed")
				}
			})
		}
	}
	if n < 20 {
		t.Errorf("found only %d samples in %s", n, samplesDir)
	}
}

func TestKeepalivedSamplesClean(t *testing.T) {
	if _, err := os.Stat(samplesDir); err != nil {
		t.Skipf("keepalived samples not installed (%v)", err)
	}
	fsys := os.DirFS(samplesDir)
	for _, s := range cleanSamples {
		cfg, err := Load(fsys, "keepalived.conf."+s, Options{})
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		for _, w := range cfg.Warnings {
			if strings.Contains(w.Msg, "no health checker") || strings.Contains(w.Msg, "not supported by gocrm") {
				continue
			}
			t.Errorf("%s: unexpected warning: %s", s, w)
		}
	}
}

// Without -i the conditional sample has no script line, which keepalived
// also rejects (vrrp.md §9.7: rc 5 without -i).
func TestKeepalivedSampleConditionalNoID(t *testing.T) {
	if _, err := os.Stat(samplesDir); err != nil {
		t.Skipf("keepalived samples not installed (%v)", err)
	}
	_, err := ParseFile(os.DirFS(samplesDir), "keepalived.conf.conditional_conf", Options{})
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "vrrp_script check_VI_0: missing required value: script is required") {
		t.Fatalf("err = %v", err)
	}
}
