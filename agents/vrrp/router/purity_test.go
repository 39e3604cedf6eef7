package router

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPurePackages enforces that the codec, the state machine and the
// router stay pure: no sockets, syscalls, processes, files or wall clock
// sources beyond the time package's types.
func TestPurePackages(t *testing.T) {
	forbidden := []string{"net", "syscall", "os", "os/exec", "os/signal", "io/fs", "golang.org/x/sys",
		"golang.org/x/net", "github.com/vishvananda/netlink", "github.com/mdlayher"}
	for _, dir := range []string{"../packet", "../fsm", "."} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			n++
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbidden {
					if path != "net/netip" && (path == bad || strings.HasPrefix(path, bad+"/")) { // netip: pure address values
						t.Errorf("%s imports %s", f, path)
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no source files found", dir)
		}
	}
}
