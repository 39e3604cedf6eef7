package heartbeat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// sharedCases returns ../shared/heartbeat-cases relative to the repository
// root (the directory holding go.mod), skipping the test when it is absent.
func sharedCases(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root (go.mod) not found; cannot locate ../shared/heartbeat-cases")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "heartbeat-cases")
	if _, err := os.Stat(filepath.Join(p, "cases")); err != nil {
		t.Skipf("heartbeat conformance cases not available at %s: %v", p, err)
	}
	return p
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type refParsed struct {
	Groups []struct {
		Line      int    `json:"line"`
		Node      string `json:"node"`
		Key       string `json:"key"`
		Resources []struct {
			Raw      string            `json:"raw"`
			Script   string            `json:"script"`
			Args     []string          `json:"args"`
			Cls      string            `json:"cls"`
			Provider string            `json:"provider"`
			Type     string            `json:"type"`
			Params   map[string]string `json:"params"`
			Problem  string            `json:"problem"`
		} `json:"resources"`
	} `json:"groups"`
}

func caseDirs(t *testing.T) []string {
	dirs, err := filepath.Glob(filepath.Join(sharedCases(t), "cases", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases found: %v", err)
	}
	sort.Strings(dirs)
	return dirs
}

func TestCasesParsed(t *testing.T) {
	for _, dir := range caseDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var want refParsed
			if err := json.Unmarshal(readFile(t, filepath.Join(dir, "parsed.json")), &want); err != nil {
				t.Fatal(err)
			}
			hr, err := ParseHAResources("haresources", readFile(t, filepath.Join(dir, "haresources")))
			if err != nil {
				t.Fatal(err)
			}
			if len(hr.Groups) != len(want.Groups) {
				t.Fatalf("groups: got %d want %d", len(hr.Groups), len(want.Groups))
			}
			for i, wg := range want.Groups {
				g := hr.Groups[i]
				if g.Line != wg.Line || g.Node != wg.Node || g.Key != wg.Key {
					t.Errorf("group %d: got line=%d node=%q key=%q want line=%d node=%q key=%q", i, g.Line, g.Node, g.Key, wg.Line, wg.Node, wg.Key)
				}
				if len(g.Resources) != len(wg.Resources) {
					t.Fatalf("group %d: %d resources, want %d", i, len(g.Resources), len(wg.Resources))
				}
				for j, wr := range wg.Resources {
					r := g.Resources[j]
					params := map[string]string{}
					for _, p := range r.Params {
						params[p.Name] = p.Value
					}
					if wr.Params == nil {
						wr.Params = map[string]string{}
					}
					if wr.Args == nil {
						wr.Args = []string{}
					}
					got := []any{r.Raw, r.Script, r.Args, r.Class, r.Provider, r.Type, params, r.Problem}
					exp := []any{wr.Raw, wr.Script, wr.Args, wr.Cls, wr.Provider, wr.Type, wr.Params, wr.Problem}
					if !reflect.DeepEqual(got, exp) {
						t.Errorf("group %d resource %d:\n got  %#v\n want %#v", i, j, got, exp)
					}
				}
			}
		})
	}
}

// normalise collapses runs of blanks and drops empty lines.
func normalise(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			out = append(out, strings.Join(f, " "))
		}
	}
	return out
}

// TestCasesExpectedCRM compares the translation with expected.crm line by
// line after whitespace normalisation: the statement order of expected.crm
// (nodes; per haresources line its primitives, clones, group, colocation,
// order, location; then rsc_defaults and property) is reproduced
// deterministically, so no set comparison is needed.
func TestCasesExpectedCRM(t *testing.T) {
	for _, dir := range caseDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, err := Migrate(Inputs{
				HAResources: readFile(t, filepath.Join(dir, "haresources")), HAResourcesName: "haresources",
				HACF: readFile(t, filepath.Join(dir, "ha.cf")), HACFName: "ha.cf",
			})
			if err != nil {
				t.Fatal(err)
			}
			got, want := normalise(res.CRM), normalise(string(readFile(t, filepath.Join(dir, "expected.crm"))))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("crm text differs\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if res.Explanation == "" || res.Timing.ProbeInterval != 2e9 {
				t.Errorf("timing not mapped: %+v", res.Timing)
			}
		})
	}
}

type refHACF struct {
	Directives []struct {
		Line      int      `json:"line"`
		Directive string   `json:"directive"`
		Args      []string `json:"args"`
	} `json:"directives"`
}

func TestHACFParsed(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedCases(t), "hacf", "*.cf"))
	if len(files) == 0 {
		t.Fatal("no hacf samples")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var want refHACF
			if err := json.Unmarshal(readFile(t, strings.TrimSuffix(f, ".cf")+".parsed.json"), &want); err != nil {
				t.Fatal(err)
			}
			cf, err := ParseHACF(filepath.Base(f), readFile(t, f))
			if err != nil {
				t.Fatal(err)
			}
			if len(cf.Directives) != len(want.Directives) {
				t.Fatalf("got %d directives, want %d", len(cf.Directives), len(want.Directives))
			}
			for i, w := range want.Directives {
				d := cf.Directives[i]
				if d.Line != w.Line || d.Name != w.Directive || !reflect.DeepEqual(d.Args, w.Args) {
					t.Errorf("directive %d: got %+v want %+v", i, d, w)
				}
			}
		})
	}
}

// TestHACFSamplesInterpretation checks the meaning of the samples beyond the
// raw directives.
func TestHACFSamplesInterpretation(t *testing.T) {
	dir := filepath.Join(sharedCases(t), "hacf")
	load := func(name string) *HACF {
		cf, err := ParseHACF(name, readFile(t, filepath.Join(dir, name)))
		if err != nil {
			t.Fatal(err)
		}
		return cf
	}
	cf := load("06-order-matters.cf")
	var ports []int
	for _, m := range cf.Media {
		ports = append(ports, m.Port)
	}
	if !reflect.DeepEqual(ports, []int{694, 1694, 1695}) {
		t.Errorf("06 ports: got %v want [694 1694 1695]", ports)
	}
	if cf.AutoFailback != "off" || !reflect.DeepEqual(cf.Nodes, []string{"n1", "n2"}) {
		t.Errorf("06: auto_failback %q nodes %v", cf.AutoFailback, cf.Nodes)
	}

	cf = load("02-ucast-ipfail.cf")
	if cf.Keepalive != 500e6 || cf.DeadTime != 15e9 || cf.WarnTime != 5e9 || cf.InitDead != 60e9 || cf.DeadPing != 20e9 {
		t.Errorf("02 timers: %v %v %v %v %v", cf.Keepalive, cf.DeadTime, cf.WarnTime, cf.InitDead, cf.DeadPing)
	}
	if len(cf.Media) != 3 || cf.Media[0].Kind != "serial" || cf.Media[0].Baud != 19200 || cf.Media[1].Addr != "192.168.10.2" {
		t.Errorf("02 media: %+v", cf.Media)
	}
	if cf.Watchdog != "/dev/watchdog" || len(cf.Ping) != 1 || len(cf.Respawn) != 1 || len(cf.APIAuth) != 1 {
		t.Errorf("02: watchdog %q ping %v respawn %v", cf.Watchdog, cf.Ping, cf.Respawn)
	}

	for _, name := range []string{"03-mcast-crm-respawn.cf", "04-manpage-example.cf"} {
		cf = load(name)
		if !cf.CRMEnabled {
			t.Errorf("%s: CRM mode not detected", name)
		}
		_, err := Migrate(Inputs{HACF: readFile(t, filepath.Join(dir, name)), HACFName: name, HAResources: []byte("alice 10.0.0.1\n")})
		if !errors.Is(err, ErrCRMEnabled) || !strings.Contains(err.Error(), name+":") {
			t.Errorf("%s: Migrate error %v, want ErrCRMEnabled with file:line", name, err)
		}
	}

	cf = load("05-stonith-ping-group.cf")
	if len(cf.Stonith) != 3 || cf.AutoFailback != "legacy" || len(cf.Media) != 2 || cf.Autojoin != "none" {
		t.Errorf("05: stonith %d af %q media %d", len(cf.Stonith), cf.AutoFailback, len(cf.Media))
	}
	crm, _, err := Translate(&HAResources{}, cf)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(crm, "stonith-enabled=false") || strings.Contains(crm, "mysecretpassword") {
		t.Errorf("05: stonith handling wrong or password leaked:\n%s", crm)
	}
	if !strings.Contains(crm, "# 05-stonith-ping-group.cf:8: stonith_host * baytech:") || !strings.Contains(crm, "ping_group uplinks 10.10.10.254 10.10.10.253") {
		t.Errorf("05: flags missing:\n%s", crm)
	}
}

type refAuthkeys struct {
	Auth *string `json:"auth"`
	Keys map[string]struct {
		Method string `json:"method"`
		Secret string `json:"secret"`
	} `json:"keys"`
	Problems []string `json:"problems"`
}

func TestAuthkeysParsed(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedCases(t), "authkeys", "*.keys"))
	if len(files) == 0 {
		t.Fatal("no authkeys samples")
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			var want refAuthkeys
			if err := json.Unmarshal(readFile(t, strings.TrimSuffix(f, ".keys")+".parsed.json"), &want); err != nil {
				t.Fatal(err)
			}
			// git keeps only the executable bit: the mode is an input.
			mode := os.FileMode(0o600)
			if strings.Contains(name, "mode-644") {
				mode = 0o644
			}
			a, err := ParseAuthkeys(name, readFile(t, f), mode)
			wantAuth := ""
			if want.Auth != nil {
				wantAuth = *want.Auth
			}
			if a.Auth != wantAuth {
				t.Errorf("auth: got %q want %q", a.Auth, wantAuth)
			}
			gotKeys := map[string][2]string{}
			for i, k := range a.Keys {
				gotKeys[strconv.Itoa(i)] = [2]string{k.Method, string(k.Secret)}
			}
			wantKeys := map[string][2]string{}
			for i, k := range want.Keys {
				wantKeys[i] = [2]string{k.Method, k.Secret}
			}
			if !reflect.DeepEqual(gotKeys, wantKeys) {
				t.Errorf("keys: got %v want %v", gotKeys, wantKeys)
			}
			var gotProblems []string
			for _, p := range a.Problems {
				gotProblems = append(gotProblems, p.Msg)
			}
			if len(gotProblems) != len(want.Problems) || (len(want.Problems) > 0 && !reflect.DeepEqual(gotProblems, want.Problems)) {
				t.Errorf("problems: got %q want %q", gotProblems, want.Problems)
			}
			if (err != nil) != (len(want.Problems) > 0) {
				t.Fatalf("error %v with problems %q", err, want.Problems)
			}
			if err != nil {
				if !errors.Is(err, ErrAuthkeys) || !strings.Contains(err.Error(), name+":") {
					t.Errorf("error %q must wrap ErrAuthkeys and name the file", err)
				}
				for _, p := range a.Problems {
					if p.Line > 0 && !strings.Contains(err.Error(), name+":"+strconv.Itoa(p.Line)+": "+p.Msg) {
						t.Errorf("error %q lacks %s:%d: %s", err, name, p.Line, p.Msg)
					}
				}
			}
		})
	}
}
