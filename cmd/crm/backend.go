package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/crm/api"
	"github.com/gocrm/gocrm/crm/shell"
)

// defaultSocket is crmd's control socket when neither --socket nor
// CRM_SOCKET says otherwise.
const defaultSocket = "/run/gocrm/crmd.sock"

// errOffline marks requests that need a running crmd while the command
// works on a CIB file (CIB_file).
var errOffline = errors.New("needs a running cluster (CIB_file is set)")

// backend is where a command reads and changes the CIB: a running crmd
// (through crm/api) or a CIB file (CIB_file). Not safe for concurrent use.
type backend interface {
	// Read returns the current CIB.
	Read(ctx context.Context) (*cib.CIB, error)
	// Apply commits one CIB command atomically.
	Apply(ctx context.Context, cmd store.Command) error
	// Request performs a daemon-only request (status, fencing, wait).
	Request(ctx context.Context, req api.Request) (*api.Response, error)
	// Offline reports whether this is a CIB file.
	Offline() bool
	Close() error
}

// fileBackend works on a CIB file: read, change, write back atomically
// (temp file + rename in the same directory).
type fileBackend struct{ path string }

func (f *fileBackend) Offline() bool { return true }
func (f *fileBackend) Close() error  { return nil }

func (f *fileBackend) Read(_ context.Context) (*cib.CIB, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("read CIB file: %w", err)
	}
	c, err := cib.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.path, err)
	}
	return c, nil
}

func (f *fileBackend) Apply(ctx context.Context, cmd store.Command) error {
	cur, err := f.Read(ctx)
	if err != nil {
		return err
	}
	next, err := store.ApplyTo(cur, cmd)
	if err != nil {
		return err
	}
	return writeFileAtomic(f.path, next.Marshal())
}

func (f *fileBackend) Request(_ context.Context, req api.Request) (*api.Response, error) {
	return nil, fmt.Errorf("%s: %w", req.Op, errOffline)
}

// writeFileAtomic replaces path with data atomically, keeping its mode.
func writeFileAtomic(path string, data []byte) error { return shell.WriteFileAtomic(path, data) }

// liveBackend talks to crmd.
type liveBackend struct{ c *api.Client }

func (l *liveBackend) Offline() bool { return false }
func (l *liveBackend) Close() error  { return l.c.Close() }

func (l *liveBackend) Read(ctx context.Context) (*cib.CIB, error) {
	x, err := l.c.GetCIB(ctx)
	if err != nil {
		return nil, fmt.Errorf("get CIB: %w", err)
	}
	c, err := cib.Parse([]byte(x))
	if err != nil {
		return nil, fmt.Errorf("CIB from crmd: %w", err)
	}
	return c, nil
}

func (l *liveBackend) Apply(ctx context.Context, cmd store.Command) error {
	if err := l.c.Apply(ctx, cmd); err != nil {
		return fmt.Errorf("commit %s: %w", cmd.Op, err)
	}
	return nil
}

func (l *liveBackend) Request(ctx context.Context, req api.Request) (*api.Response, error) {
	resp, err := l.c.Do(ctx, req)
	if err != nil {
		return resp, fmt.Errorf("%s: %w", req.Op, err)
	}
	return resp, nil
}

// connOpts are the connection options every cluster command accepts.
type connOpts struct {
	socket string
}

// takeConnFlags removes --socket PATH / --socket=PATH from args.
func takeConnFlags(args []string) (connOpts, []string, error) {
	var o connOpts
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--socket":
			if i+1 >= len(args) {
				return o, nil, fmt.Errorf("%w: --socket needs a path", errUsage)
			}
			o.socket = args[i+1]
			i++
		case strings.HasPrefix(a, "--socket="):
			o.socket = strings.TrimPrefix(a, "--socket=")
		default:
			rest = append(rest, a)
		}
	}
	return o, rest, nil
}

// openBackend returns the CIB file backend when CIB_file is set, else a
// connection to crmd (--socket, CRM_SOCKET, default socket).
func openBackend(e *env, o connOpts) (backend, error) {
	if p := os.Getenv("CIB_file"); p != "" {
		return &fileBackend{path: p}, nil
	}
	sock := o.socket
	if sock == "" {
		sock = os.Getenv("CRM_SOCKET")
	}
	if sock == "" {
		sock = defaultSocket
	}
	c, err := api.Dial(e.ctx, sock)
	if err != nil {
		return nil, err
	}
	return &liveBackend{c: c}, nil
}

// isStale reports a configuration change refused because the CIB moved on.
func isStale(err error) bool {
	if errors.Is(err, store.ErrStaleEpoch) {
		return true
	}
	return errors.Is(err, api.ErrRejected) && strings.Contains(err.Error(), store.ErrStaleEpoch.Error())
}

// maxCommitAttempts bounds the read-modify-write retries on stale epochs.
const maxCommitAttempts = 5

// updateConfig runs a read-modify-write of the configuration: edit gets a
// private copy of the current CIB and returns the new <configuration>
// element (nil: nothing to change). The change commits as one
// replace-configuration carrying the epoch it was computed from, retried
// from scratch when another change got in first.
func updateConfig(ctx context.Context, b backend, edit func(c *cib.CIB) (*cib.Element, error)) error {
	for attempt := 1; ; attempt++ {
		cur, err := b.Read(ctx)
		if err != nil {
			return err
		}
		priv, err := cib.Parse(cur.Marshal())
		if err != nil {
			return fmt.Errorf("copy CIB: %w", err)
		}
		el, err := edit(priv)
		if err != nil {
			return err
		}
		if el == nil {
			return nil
		}
		cmd := store.Command{V: store.Version, Op: store.OpReplaceConfiguration, ExpectEpoch: store.EpochString(cur), XML: el.String()}
		err = b.Apply(ctx, cmd)
		if err == nil {
			return nil
		}
		if !isStale(err) || attempt >= maxCommitAttempts {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// fail prints a command error and returns the matching exit code.
func fail(e *env, cmd string, err error) int {
	fmt.Fprintf(e.stderr, "crm %s: %v\n", cmd, err)
	if errors.Is(err, errUsage) {
		return exitUsage
	}
	return exitError
}
