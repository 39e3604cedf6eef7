package keepalived

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// goldenFile holds, for every input of goldenInputs, a digest of what the
// decoder made of it: the model (as JSON), the parse and validate errors
// and the warnings. It pins the decoder's observable behaviour so that
// refactoring cannot change it unnoticed.
const goldenFile = "testdata/decode.golden"

// goldenContexts are the configurations the keyword matrix puts
// statements in, at %s.
func goldenContexts() []string {
	const (
		inst  = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress { 10.0.0.1/24 }\n"
		inst6 = "vrrp_instance V6 {\n interface eth0\n virtual_router_id 5\n virtual_ipaddress { fe80::1/64 }\n"
		rs    = "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n"
	)
	out := []string{
		"%s\n",
		"global_defs {\n%s\n}\n" + inst + "}\n",
		"global_defs {\n%s\n}\n" + inst6 + "}\n",
		"global_defs {\n notification_email {\n%s\n}\n}\n",
		inst + "%s\n}\n",
		inst6 + "%s\n}\n",
		inst + "}\nvrrp_sync_group G {\n group { VI_1 }\n%s\n}\n",
		inst + "}\nvrrp_sync_group G {\n group {\n%s\n}\n}\n",
		"vrrp_script chk {\n script /bin/true\n%s\n}\n",
		"track_file tf {\n file /tmp/x\n%s\n}\n",
		"virtual_server 10.0.0.1 80 {\n%s\n real_server 10.0.0.2 80 { TCP_CHECK { } }\n}\n",
		"virtual_server fwmark 3 {\n%s\n real_server 10.0.0.2 80 { lb_kind DR\n MISC_CHECK { misc_path /bin/true } }\n}\n",
		"virtual_server 10.0.0.1 80 {\n lb_kind DR\n delay_loop 7\n retry 4\n real_server 10.0.0.2 81 {\n%s\n}\n}\n",
		"virtual_server_group G {\n%s\n}\nvirtual_server group G { real_server 10.0.0.2 80 { } }\n",
		rs + "MISC_CHECK {\n misc_path /bin/true\n%s\n}\n}\n}\n",
		rs + "SMTP_CHECK {\n retry 2\n host {\n%s\n}\n}\n}\n}\n",
		"track_file tf { file /x }\n" + rs + "FILE_CHECK {\n track_file tf\n%s\n}\n}\n}\n",
		rs + "HTTP_GET {\n url {\n path /\n%s\n}\n}\n}\n}\n",
	}
	for _, b := range []string{"authentication", "unicast_peer", "virtual_ipaddress", "virtual_routes",
		"virtual_rules", "track_interface", "track_script", "track_file"} {
		out = append(out, inst+b+" {\n%s\n}\n}\nvrrp_script chk { script /bin/true }\n")
	}
	for _, c := range []string{"HTTP_GET", "SSL_GET", "TCP_CHECK", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK", "BFD_CHECK"} {
		out = append(out, rs+c+" {\n%s\n}\n}\n}\n")
	}
	for _, s := range []string{"static_ipaddress", "static_routes", "static_rules"} {
		out = append(out, s+" {\n%s\n}\n")
	}
	return out
}

// goldenArgs are the arguments each keyword of the matrix is tried with.
var goldenArgs = []string{"", "1", "0", "-1", "2", "3", "255", "256", "65536", "4294967296", "-300", "x", "1.5",
	"0.001", "0.0000001", "100.25", "yes", "off", "10.0.0.1", "ff02::12", "224.0.0.18", "eth0", "1 2", "1 reverse",
	"-5 reverse", "7 foo", "5 weight", "MASTER", "BACKUP", "PASS", "AH", "{ }", `""`, "reverse", "NAT", "TUN a b",
	"DR x", "A", "1.1", "00ff", "zz", "overwrite 3", "3 overwrite", "root", "root wheel", `"/bin/x a" root wheel`,
	"tcp 5 udp 6", "tcp", "VS", "allow_if_changes", "200-299 404", "255.255.255.0", "24", "1.0C",
	"10.0.0.1 weight 2", "eth1 weight -3 reverse", "weight", "dev eth0", "inet 10.0.0.1",
	"via 10.0.0.1 dev eth0 metric 5", "1 2 3 4"}

// goldenKeywords are the words the matrix uses as keywords: every
// identifier-like string literal of the decoder's sources, plus first words
// of list entries (addresses, names).
func goldenKeywords(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("decode*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("decoder sources: %v %v", files, err)
	}
	ident := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	seen := map[string]bool{}
	fset := gotoken.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == gotoken.STRING {
				if s, err := strconv.Unquote(bl.Value); err == nil && ident.MatchString(s) {
					seen[s] = true
				}
			}
			return true
		})
	}
	for _, w := range []string{"10.0.0.1", "10.0.0.1/24", "10.0.0.1-9", "fe80::1", "fe80::1/64", "::1-ff", "eth0", "VI_1"} {
		seen[w] = true
	}
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

// goldenInputs returns the named inputs: for each keyword, one
// configuration per context with the keyword tried with every argument;
// and every file of the fuzz corpus.
func goldenInputs(t *testing.T) map[string][][]byte {
	t.Helper()
	in := map[string][][]byte{}
	contexts := goldenContexts()
	for _, kw := range goldenKeywords(t) {
		lines := make([]string, len(goldenArgs))
		for i, a := range goldenArgs {
			lines[i] = strings.TrimSpace(kw + " " + a)
		}
		stmts := strings.Join(lines, "\n")
		for _, c := range contexts {
			in["keyword "+kw] = append(in["keyword "+kw], []byte(strings.Replace(c, "%s", stmts, 1)))
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, lit, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
		body, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lit, "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		in["corpus "+filepath.Base(f)] = [][]byte{[]byte(body)}
	}
	return in
}

// goldenDigest decodes and validates every input and digests everything
// observable: the model, both errors with their sentinels, the warnings.
func goldenDigest(t *testing.T, inputs [][]byte) string {
	t.Helper()
	h := sha256.New()
	for _, data := range inputs {
		fsys := fstest.MapFS{
			"etc/keepalived/keepalived.conf": &fstest.MapFile{Data: data},
			"etc/keepalived/inc.conf":        &fstest.MapFile{Data: []byte("global_defs { router_id inc }\n")},
		}
		cfg, perr := ParseFile(fsys, "etc/keepalived/keepalived.conf", Options{Root: "/", ConfigID: "high"})
		verr := cfg.Validate()
		model, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("encoding the model: %v", err)
		}
		fmt.Fprintf(h, "%s\nparse: %v\nvalidate: %v\n", model, perr, verr)
		for _, s := range allSentinels {
			fmt.Fprintf(h, "%t/%t ", errors.Is(perr, s), errors.Is(verr, s))
		}
		for _, w := range cfg.Warnings {
			fmt.Fprintf(h, "\n%s", w)
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// TestDecodeGolden checks the decoder against testdata/decode.golden, or
// rewrites that file when KEEPALIVED_WRITE_GOLDEN=1. Inputs without a
// golden entry (new keywords or corpus files) are only counted.
func TestDecodeGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes about 17000 configurations; skipped with -short")
	}
	inputs := goldenInputs(t)
	names := make([]string, 0, len(inputs))
	for n := range inputs {
		names = append(names, n)
	}
	slices.Sort(names)
	if os.Getenv("KEEPALIVED_WRITE_GOLDEN") == "1" {
		var b strings.Builder
		b.WriteString("# name, then a digest of what the decoder makes of it; see golden_test.go\n")
		for _, n := range names {
			fmt.Fprintf(&b, "%s\t%s\n", n, goldenDigest(t, inputs[n]))
		}
		if err := os.WriteFile(goldenFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatalf("%v (regenerate with KEEPALIVED_WRITE_GOLDEN=1 go test -run TestDecodeGolden)", err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, digest, ok := strings.Cut(sc.Text(), "\t"); ok && !strings.HasPrefix(name, "#") {
			want[name] = digest
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	checked, fresh := 0, 0
	for _, n := range names {
		w, ok := want[n]
		if !ok {
			fresh++
			continue
		}
		checked++
		if got := goldenDigest(t, inputs[n]); got != w {
			t.Errorf("%s: the decoder's output changed (digest %s, golden %s); if that is intended, regenerate with KEEPALIVED_WRITE_GOLDEN=1 go test -run TestDecodeGolden", n, got, w)
		}
	}
	if checked < len(want)/2 {
		t.Errorf("only %d of %d golden entries have an input", checked, len(want))
	}
	t.Logf("%d inputs checked, %d without a golden entry", checked, fresh)
}
