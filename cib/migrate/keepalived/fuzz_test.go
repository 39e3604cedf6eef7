package keepalived

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// seedConfigs are this package's own test configurations, used as the fuzz
// seed corpus (testdata/fuzz/FuzzParse is generated from them, see
// TestWriteFuzzCorpus).
func seedConfigs() map[string]string {
	seeds := map[string]string{
		"full-vrrp":   fullVRRP,
		"full-lvs":    fullLVS,
		"failover-n1": failoverConf("n1", 100, "MASTER", 3, "0.1", "yes", "vrrp_higher_prio_send_advert true", ""),
		"failover-n2": failoverConf("n2", 90, "BACKUP", 2, "1", "delay:2", "", "garp_master_refresh 10"),
		"params":      "$IF=eth1\n$INST=vrrp_instance VI_$N { \\\n interface $IF \\\n virtual_router_id $N \\\n}\n$N=7\n$INST\n",
		"conditional": "@high $P=170\n@^high $P=85\nvrrp_instance V {\n@low state MASTER\n priority $P\n}\n",
		"include":     "include inc.conf\ninclude *.conf\nglobal_defs { router_id x }\n",
		"braces":      "vrrp_instance V\n{\n virtual_ipaddress { 10.0.0.1 }\n}\n}\n{\n",
		"quotes":      "vrrp_script s {\n script \"/bin/x 'a b' # c\" ! d\n}\n\"unterminated\n",
		"groups":      "virtual_server_group G {\n 10.0.0.1-9 80\n ::1-ff 80\n fwmark 3 inet6\n}\nvirtual_server group G {\n real_server 10.0.0.2 80 { TCP_CHECK { } }\n}\n",
	}
	for name, body := range vectorBodies {
		seeds["vector-"+name] = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n" + body + "\n}\n"
	}
	return seeds
}

var allSentinels = []error{ErrSyntax, ErrValue, ErrRange, ErrMissing, ErrInclude, ErrLimit, ErrReference, ErrDuplicate, ErrConflict}

func FuzzParse(f *testing.F) {
	for _, s := range seedConfigs() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"etc/keepalived/keepalived.conf": &fstest.MapFile{Data: data},
			"etc/keepalived/inc.conf":        &fstest.MapFile{Data: []byte("global_defs { router_id inc }\n")},
		}
		cfg, err := ParseFile(fsys, "etc/keepalived/keepalived.conf", Options{Root: "/", ConfigID: "high"})
		if cfg == nil {
			t.Fatal("nil config")
		}
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %v", err)
			}
			for _, e := range list {
				known := false
				for _, s := range allSentinels {
					known = known || errors.Is(e, s)
				}
				if !known || !e.Pos.IsValid() {
					t.Fatalf("error without sentinel or position: %v", e)
				}
			}
			return
		}
		for _, v := range cfg.Instances {
			if v.VirtualRouterID.V < 1 || v.VirtualRouterID.V > 255 || v.Priority.V < 1 || v.Priority.V > 255 {
				t.Fatalf("accepted out-of-range instance %s: vrid %d prio %d", v.Name, v.VirtualRouterID.V, v.Priority.V)
			}
			for _, a := range v.VirtualIPAddresses {
				if !a.Prefix.IsValid() {
					t.Fatalf("accepted invalid VIP %+v", a)
				}
			}
		}
		for _, w := range cfg.Warnings {
			_ = w.String()
		}
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzParse from
// seedConfigs when KEEPALIVED_WRITE_CORPUS=1; otherwise it checks that
// the committed corpus is up to date.
func TestWriteFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	write := os.Getenv("KEEPALIVED_WRITE_CORPUS") == "1"
	for name, body := range seedConfigs() {
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", body)
		path := filepath.Join(dir, "seed-"+name)
		if write {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s missing or stale; run KEEPALIVED_WRITE_CORPUS=1 go test -run TestWriteFuzzCorpus", path)
		}
	}
}

func BenchmarkParseFull(b *testing.B) {
	src := []byte(fullVRRP + fullLVS)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		cfg, err := Parse("keepalived.conf", src, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLimit measures the worst case the limits allow: a
// parameter expanding to the maximum number of tokens.
func BenchmarkParseLimit(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("$A=")
	for sb.Len() < maxLineLen-4 {
		sb.WriteString("x ")
	}
	sb.WriteString("\n")
	for i := 0; i < 300; i++ {
		sb.WriteString("$A\n")
	}
	src := []byte(sb.String())
	for b.Loop() {
		if _, err := Parse("keepalived.conf", src, Options{}); !errors.Is(err, ErrLimit) {
			b.Fatalf("err = %v", err)
		}
	}
}
