package shell

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/crmsyntax"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/internal/textdiff"
)

// Shadow CIB errors.
var (
	// ErrNoShadow: the named shadow CIB does not exist.
	ErrNoShadow = errors.New("no such shadow CIB")
	// ErrShadowExists: "cib new" on an existing shadow without force.
	ErrShadowExists = errors.New("shadow CIB already exists")
	// ErrBadShadowName: empty, "live", or containing a path separator.
	ErrBadShadowName = errors.New("bad shadow CIB name")
	// ErrNoShadowDir: no directory is configured for shadow CIBs.
	ErrNoShadowDir = errors.New("no shadow CIB directory")
)

// DefaultShadowDir returns $CIB_shadow_dir, else ~/.cib.
func DefaultShadowDir() string {
	if d := os.Getenv("CIB_shadow_dir"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return filepath.Join(os.TempDir(), "cib")
	}
	return filepath.Join(home, ".cib")
}

// Shadows manages shadow CIBs: whole-CIB XML files "shadow.NAME" in Dir
// (crm_shadow's naming). Methods are safe for concurrent use as far as the
// file system is (each write is an atomic rename).
type Shadows struct{ Dir string }

// CheckShadowName validates a shadow name.
func CheckShadowName(name string) error {
	if name == "" || name == "live" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
		return fmt.Errorf("%w: %q", ErrBadShadowName, name)
	}
	return nil
}

// Path returns the file of shadow name.
func (d *Shadows) Path(name string) string { return filepath.Join(d.Dir, "shadow."+name) }

// Exists reports whether shadow name exists.
func (d *Shadows) Exists(name string) bool {
	_, err := os.Stat(d.Path(name))
	return err == nil
}

// New creates shadow name holding c (nil: an empty CIB). An existing shadow
// is only replaced with force.
func (d *Shadows) New(name string, c *cib.CIB, force bool) error {
	if err := CheckShadowName(name); err != nil {
		return err
	}
	if d.Exists(name) && !force {
		return fmt.Errorf("%w: %s (use force)", ErrShadowExists, name)
	}
	if c == nil {
		c = store.Empty()
	}
	if err := os.MkdirAll(d.Dir, 0o750); err != nil {
		return fmt.Errorf("shadow dir: %w", err)
	}
	return WriteFileAtomic(d.Path(name), c.Marshal())
}

// List returns the shadow names, sorted.
func (d *Shadows) List() ([]string, error) {
	ents, err := os.ReadDir(d.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list shadows: %w", err)
	}
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), "shadow."); ok && n != "" && !e.IsDir() && !strings.Contains(n, ".tmp") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Delete removes shadow name.
func (d *Shadows) Delete(name string) error {
	if err := CheckShadowName(name); err != nil {
		return err
	}
	err := os.Remove(d.Path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNoShadow, name)
	}
	if err != nil {
		return fmt.Errorf("delete shadow %s: %w", name, err)
	}
	return nil
}

// Store returns shadow name as a Store.
func (d *Shadows) Store(name string) *FileStore { return &FileStore{Path: d.Path(name), name: name} }

// FileStore is a CIB kept in an XML file (CIB_file, shadow CIBs). Commits
// check the epoch, bump it and replace the file atomically. Not safe for
// concurrent use by several processes beyond what the epoch check catches.
type FileStore struct {
	Path string
	name string // shadow name for messages
}

// Read parses the file.
func (f *FileStore) Read(_ context.Context) (*cib.CIB, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) && f.name != "" {
		return nil, fmt.Errorf("%w: %s", ErrNoShadow, f.name)
	}
	if err != nil {
		return nil, fmt.Errorf("read CIB: %w", err)
	}
	c, err := cib.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return c, nil
}

// ReplaceConfiguration replaces the configuration if the file is still at
// base's epoch.
func (f *FileStore) ReplaceConfiguration(ctx context.Context, base *cib.CIB, cfg *cib.Element) error {
	cur, err := f.Read(ctx)
	if err != nil {
		return err
	}
	next, err := store.ApplyTo(cur, store.Command{V: store.Version, Op: store.OpReplaceConfiguration,
		ExpectEpoch: store.EpochString(base), XML: cfg.String()})
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	return WriteFileAtomic(f.Path, next.Marshal())
}

// cibCommand runs the shadow commands of the cib level.
func (s *Shell) cibCommand(ctx context.Context, words []string, src Source) error {
	if s.sh == nil {
		return s.fail(src, ErrNoShadowDir)
	}
	cmd, args := words[0], words[1:]
	flags := map[string]bool{}
	var names []string
	for _, a := range args {
		switch a {
		case "empty", "force", "--force", "withstatus":
			flags[strings.TrimPrefix(a, "--")] = true
		default:
			names = append(names, a)
		}
	}
	name := ""
	if len(names) > 0 {
		name = names[0]
	}
	if len(names) > 1 {
		return s.fail(src, fmt.Errorf("%w: cib %s: too many arguments", ErrUsage, cmd))
	}
	switch cmd {
	case "list":
		list, err := s.sh.List()
		if err != nil {
			return s.fail(src, err)
		}
		for _, n := range list {
			mark := ""
			if n == s.shadow {
				mark = " (in use)"
			}
			fmt.Fprintf(s.o.Stdout, "%s%s\n", n, mark)
		}
		return nil
	case "new":
		if name == "" {
			return s.fail(src, fmt.Errorf("%w: cib new NAME [empty] [force]", ErrUsage))
		}
		var from *cib.CIB
		if !flags["empty"] {
			live, err := s.o.Live.Read(ctx)
			if err != nil {
				return s.fail(src, fmt.Errorf("cib new: %w", err))
			}
			from = live
		}
		if err := s.sh.New(name, from, s.o.Force || flags["force"]); err != nil {
			return s.fail(src, fmt.Errorf("cib new: %w", err))
		}
		fmt.Fprintf(s.o.Stderr, "INFO: %scib.new: %s shadow CIB created (%s)\n", src.prefix(), name, s.sh.Path(name))
		return nil
	case "reset":
		if name == "" {
			name = s.shadow
		}
		if name == "" {
			return s.fail(src, fmt.Errorf("%w: cib reset NAME", ErrUsage))
		}
		if !s.sh.Exists(name) {
			return s.fail(src, fmt.Errorf("cib reset: %w: %s", ErrNoShadow, name))
		}
		live, err := s.o.Live.Read(ctx)
		if err != nil {
			return s.fail(src, fmt.Errorf("cib reset: %w", err))
		}
		if err := s.sh.New(name, live, true); err != nil {
			return s.fail(src, fmt.Errorf("cib reset: %w", err))
		}
		fmt.Fprintf(s.o.Stderr, "INFO: %scib.reset: copied live CIB to %s\n", src.prefix(), name)
		return s.dropSessionFor(ctx, name)
	case "use":
		return s.useShadow(ctx, name, src)
	case "delete":
		if name == "" {
			return s.fail(src, fmt.Errorf("%w: cib delete NAME", ErrUsage))
		}
		if name == s.shadow {
			return s.fail(src, fmt.Errorf("%w: cib.delete: %s shadow CIB is in use (cib use live first)", ErrUsage, name))
		}
		if err := s.sh.Delete(name); err != nil {
			return s.fail(src, fmt.Errorf("cib.delete: %w", err))
		}
		fmt.Fprintf(s.o.Stderr, "INFO: %scib.delete: %s shadow CIB deleted\n", src.prefix(), name)
		return nil
	case "diff":
		if name == "" {
			name = s.shadow
		}
		if name == "" {
			return s.fail(src, fmt.Errorf("%w: cib diff NAME (no shadow in use)", ErrUsage))
		}
		live, err := s.o.Live.Read(ctx)
		if err != nil {
			return s.fail(src, fmt.Errorf("cib diff: %w", err))
		}
		sh, err := s.sh.Store(name).Read(ctx)
		if err != nil {
			return s.fail(src, fmt.Errorf("cib diff: %w", err))
		}
		a := crmsyntax.ShowWith(&live.Config, crmsyntax.ShowOptions{NoObscure: true})
		b := crmsyntax.ShowWith(&sh.Config, crmsyntax.ShowOptions{NoObscure: true})
		fmt.Fprint(s.o.Stdout, UnifiedDiff("live", "shadow."+name, a, b))
		return nil
	case "commit":
		if name == "" {
			name = s.shadow
		}
		if name == "" {
			return s.fail(src, fmt.Errorf("%w: cib commit NAME (no shadow in use)", ErrUsage))
		}
		if s.cfg != nil && s.shadow == name && s.cfg.pending() {
			return s.fail(src, fmt.Errorf("cib commit: %w in the configure session: commit them first", ErrPending))
		}
		sh, err := s.sh.Store(name).Read(ctx)
		if err != nil {
			return s.fail(src, fmt.Errorf("cib commit: %w", err))
		}
		live, err := s.o.Live.Read(ctx)
		if err != nil {
			return s.fail(src, fmt.Errorf("cib commit: %w", err))
		}
		if err := s.o.Live.ReplaceConfiguration(ctx, live, sh.Config.Element()); err != nil {
			return s.fail(src, fmt.Errorf("cib commit %s: %w", name, err))
		}
		fmt.Fprintf(s.o.Stderr, "INFO: %scib.commit: committed '%s' shadow CIB to the cluster\n", src.prefix(), name)
		if s.shadow == "" {
			return s.dropSessionFor(ctx, "")
		}
		return nil
	}
	return s.fail(src, fmt.Errorf("%w: cib %q", ErrUnknownCommand, cmd))
}

// dropSessionFor re-reads the configure session if it works on shadow
// name ("" = live) and has no pending changes.
func (s *Shell) dropSessionFor(ctx context.Context, name string) error {
	if s.cfg == nil || s.shadow != name {
		return nil
	}
	if s.cfg.pending() {
		fmt.Fprintf(s.o.Stderr, "WARNING: the CIB changed under the configure session; commit will fail: use refresh\n")
		return nil
	}
	s.cfg = nil
	if s.cur() == "configure" {
		return s.openConfigure(ctx)
	}
	return nil
}

// useShadow switches the working CIB ("" or "live" = live).
func (s *Shell) useShadow(ctx context.Context, name string, src Source) error {
	if name == "live" {
		name = ""
	}
	if name != "" && !s.sh.Exists(name) {
		return s.fail(src, fmt.Errorf("cib use: %w: %s", ErrNoShadow, name))
	}
	if s.cfg != nil && s.cfg.pending() {
		return s.fail(src, fmt.Errorf("cib use: %w: commit or refresh first", ErrPending))
	}
	s.shadow = name
	if s.o.StateFile != "" {
		if err := SaveShadowState(s.o.StateFile, name); err != nil {
			return s.fail(src, err)
		}
	}
	s.cfg = nil
	if s.cur() == "configure" {
		if err := s.openConfigure(ctx); err != nil {
			return s.fail(src, err)
		}
	}
	return nil
}

// LoadShadowState returns the shadow recorded by "cib use" in file ("" if
// none).
func LoadShadowState(file string) (string, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read shadow state: %w", err)
	}
	name := strings.TrimSpace(string(data))
	if name == "" {
		return "", nil
	}
	if err := CheckShadowName(name); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	return name, nil
}

// SaveShadowState records name ("" removes the record).
func SaveShadowState(file, name string) error {
	if name == "" {
		if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("clear shadow state: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return fmt.Errorf("shadow state: %w", err)
	}
	return WriteFileAtomic(file, []byte(name+"\n"))
}

// UnifiedDiff returns a unified diff (3 lines of context) from a to b, ""
// when equal. Lines are compared exactly (see internal/textdiff).
func UnifiedDiff(nameA, nameB, a, b string) string {
	return textdiff.Unified(nameA, nameB, textdiff.Lines(a), textdiff.Lines(b))
}
