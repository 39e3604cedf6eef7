// Package test holds cluster-level tests and repository-wide checks, such as
// the forbidden-import rules for the pure core packages.
package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/gocrm/gocrm"

// purePackages must stay deterministic: no sockets, exec, netlink or wall
// clock. A trailing "/..." also covers every subpackage.
var purePackages = []string{
	"cib/...",
	"crm/scheduler",
	"crm/simulate",
	"crm/transition",
	"agents/vrrp/packet",
	"agents/vrrp/fsm",
	"stonith/fsm",
}

// forbiddenImports may not be imported by a pure package or by any non-std
// package it depends on. A trailing "/" matches every package below.
var forbiddenImports = []string{
	"net",
	"net/http",
	"os/exec",
	"syscall",
	"golang.org/x/sys/",
	"github.com/vishvananda/",
	"github.com/moby/",
	"github.com/mdlayher/",
}

// forbiddenCalls are package-level functions of "time" that read the wall
// clock; pure packages take an injected clock or "now" instead.
var forbiddenCalls = map[string]bool{"Now": true, "Since": true, "Until": true}

// listedPackage is the part of `go list -json` output the checks use.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	GoFiles    []string
	CgoFiles   []string
	Imports    []string
	Error      *struct{ Err string }
}

func forbidden(path string) bool {
	for _, f := range forbiddenImports {
		if strings.HasSuffix(f, "/") {
			if strings.HasPrefix(path, f) {
				return true
			}
		} else if path == f {
			return true
		}
	}
	return false
}

// isPure reports whether an import path is covered by purePackages.
func isPure(path string) bool {
	rel, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return false
	}
	for _, p := range purePackages {
		if base, ok := strings.CutSuffix(p, "/..."); ok {
			if rel == base || strings.HasPrefix(rel, base+"/") {
				return true
			}
		} else if rel == p {
			return true
		}
	}
	return false
}

// importViolations walks the non-std dependency closure of every pure
// package in pkgs and reports each forbidden direct import, with the chain
// of imports leading to it.
func importViolations(pkgs map[string]*listedPackage) []string {
	var out []string
	var roots []string
	for path := range pkgs {
		if isPure(path) {
			roots = append(roots, path)
		}
	}
	sort.Strings(roots)
	for _, root := range roots {
		seen := map[string]bool{root: true}
		queue := [][]string{{root}}
		for len(queue) > 0 {
			chain := queue[0]
			queue = queue[1:]
			p := pkgs[chain[len(chain)-1]]
			if p == nil {
				continue
			}
			for _, imp := range p.Imports {
				if forbidden(imp) {
					out = append(out, fmt.Sprintf("%s imports %s (via %s)", root, imp, strings.Join(append(chain, imp), " -> ")))
					continue
				}
				dep := pkgs[imp]
				if seen[imp] || imp == "C" || (dep != nil && dep.Standard) || (dep == nil && !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")) {
					continue
				}
				seen[imp] = true
				queue = append(queue, append(append([]string(nil), chain...), imp))
			}
		}
	}
	return out
}

// wallClockCalls reports uses of time.Now/Since/Until (calls or function
// values) in one Go source file, honouring renamed imports of "time".
func wallClockCalls(fset *token.FileSet, f *ast.File) []string {
	names := map[string]bool{}
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "time" {
			switch {
			case imp.Name == nil:
				names["time"] = true
			case imp.Name.Name == ".":
				names["."] = true
			case imp.Name.Name != "_":
				names[imp.Name.Name] = true
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && names[id.Name] && id.Obj == nil && forbiddenCalls[x.Sel.Name] {
				out = append(out, fmt.Sprintf("%s: time.%s", fset.Position(x.Pos()), x.Sel.Name))
			}
		case *ast.Ident:
			if names["."] && x.Obj == nil && forbiddenCalls[x.Name] {
				out = append(out, fmt.Sprintf("%s: time.%s (dot import)", fset.Position(x.Pos()), x.Name))
			}
		}
		return true
	})
	return out
}

// goTool finds the go command: on PATH, or next to the running toolchain
// (GOROOT is set by `go test`).
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	t.Skip("skipping: go tool not found on PATH or in $GOROOT/bin")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// listModule runs `go list -e -json ./...` at the module root.
func listModule(t *testing.T) map[string]*listedPackage {
	t.Helper()
	cmd := exec.Command(goTool(t), "list", "-e", "-json", "-tags", "hashicorpmetrics", "./...")
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]*listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs[p.ImportPath] = &p
	}
	return pkgs
}

// TestPurePackageImports enforces the pure-core rule of CONTRIBUTING.md: the
// packages in purePackages, and every non-std package they depend on, must
// not import networking, exec, syscall or netlink packages.
func TestPurePackageImports(t *testing.T) {
	pkgs := listModule(t)
	// go list ./... lists only this module; add third-party dependencies of
	// pure packages so the walk can follow them.
	var third []string
	for _, p := range pkgs {
		if !isPure(p.ImportPath) {
			continue
		}
		for _, imp := range p.Imports {
			if _, ok := pkgs[imp]; !ok && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				third = append(third, imp)
			}
		}
	}
	if len(third) > 0 {
		cmd := exec.Command(goTool(t), append([]string{"list", "-e", "-json", "-deps", "-tags", "hashicorpmetrics"}, third...)...)
		cmd.Dir = ".."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", third, err)
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		for dec.More() {
			var p listedPackage
			if err := dec.Decode(&p); err != nil {
				t.Fatalf("decode go list output: %v", err)
			}
			if _, ok := pkgs[p.ImportPath]; !ok {
				pkgs[p.ImportPath] = &p
			}
		}
	}
	found := 0
	for path, p := range pkgs {
		if isPure(path) {
			found++
			if p.Error != nil {
				t.Logf("note: %s does not load cleanly: %s", path, p.Error.Err)
			}
		}
	}
	if found == 0 {
		t.Fatalf("none of the pure packages %v exist; the check would be vacuous", purePackages)
	}
	for _, v := range importViolations(pkgs) {
		t.Error(v)
	}
}

// TestPurePackagesNoWallClock checks the non-test files of every pure package
// and of every package of this module they import for time.Now, time.Since
// and time.Until.
func TestPurePackagesNoWallClock(t *testing.T) {
	pkgs := listModule(t)
	check := map[string]bool{}
	var walk func(string)
	walk = func(path string) {
		p := pkgs[path]
		if p == nil || check[path] {
			return
		}
		check[path] = true
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/") {
				walk(imp)
			}
		}
	}
	for path := range pkgs {
		if isPure(path) {
			walk(path)
		}
	}
	if len(check) == 0 {
		t.Fatal("no pure packages found")
	}
	fset := token.NewFileSet()
	files := 0
	for path := range check {
		p := pkgs[path]
		for _, name := range append(append([]string(nil), p.GoFiles...), p.CgoFiles...) {
			fn := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(fset, fn, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Errorf("%s: %v", fn, err)
				continue
			}
			files++
			for _, v := range wallClockCalls(fset, f) {
				t.Errorf("%s (package %s must take an injected clock)", v, path)
			}
		}
	}
	t.Logf("checked %d files in %d packages", files, len(check))
}

// TestImportCheckerCatchesViolations makes sure the checks above can fail.
func TestImportCheckerCatchesViolations(t *testing.T) {
	pkgs := map[string]*listedPackage{
		module + "/cib":            {ImportPath: module + "/cib", Imports: []string{"fmt", module + "/cib/internal/x"}},
		module + "/cib/internal/x": {ImportPath: module + "/cib/internal/x", Imports: []string{"example.com/lib"}},
		"example.com/lib":          {ImportPath: "example.com/lib", Imports: []string{"golang.org/x/sys/unix", "os"}},
		"fmt":                      {ImportPath: "fmt", Standard: true, Imports: []string{"os"}},
		"os":                       {ImportPath: "os", Standard: true, Imports: []string{"syscall"}},
		module + "/crm/scheduler":  {ImportPath: module + "/crm/scheduler", Imports: []string{"net", "time"}},
		module + "/lrm":            {ImportPath: module + "/lrm", Imports: []string{"os/exec", "syscall"}},
		module + "/crm/simulate":   {ImportPath: module + "/crm/simulate", Imports: []string{"strings", module + "/lrm"}},
	}
	got := importViolations(pkgs)
	sort.Strings(got)
	want := []string{
		module + "/cib imports golang.org/x/sys/unix (via " + module + "/cib -> " + module + "/cib/internal/x -> example.com/lib -> golang.org/x/sys/unix)",
		module + "/cib/internal/x imports golang.org/x/sys/unix (via " + module + "/cib/internal/x -> example.com/lib -> golang.org/x/sys/unix)",
		module + "/crm/scheduler imports net (via " + module + "/crm/scheduler -> net)",
		module + "/crm/simulate imports os/exec (via " + module + "/crm/simulate -> " + module + "/lrm -> os/exec)",
		module + "/crm/simulate imports syscall (via " + module + "/crm/simulate -> " + module + "/lrm -> syscall)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for path, want := range map[string]bool{module + "/cib": true, module + "/cib/migrate/heartbeat": true, module + "/cibx": false,
		module + "/crm/scheduler": true, module + "/crm/scheduler/x": false, module + "/lrm": false, "cib": false} {
		if isPure(path) != want {
			t.Errorf("isPure(%s) = %v", path, !want)
		}
	}

	src := `package p
import (
	"time"
	clk "time"
)
type c struct{ Now func() time.Time }
func f(x c) {
	_ = time.Now()
	_ = clk.Since(time.Time{})
	g := time.Until
	_ = g
	_ = x.Now()
	_ = time.Unix(0, 0)
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	calls := wallClockCalls(fset, f)
	if len(calls) != 3 || !strings.Contains(calls[0], "p.go:8:") || !strings.Contains(calls[1], "Since") || !strings.Contains(calls[2], "Until") {
		t.Errorf("wallClockCalls = %q, want Now, Since, Until", calls)
	}
	f, err = parser.ParseFile(fset, "q.go", "package q\nimport . \"time\"\nvar _ = Now()\n", parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	if calls := wallClockCalls(fset, f); len(calls) != 1 {
		t.Errorf("dot import: %q", calls)
	}
}
