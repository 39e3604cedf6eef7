package api

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gocrm/gocrm/cib/store"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func serve(t *testing.T, auth Authorizer) (string, func()) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "crmd.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(nil)
	srv := &Server{Auth: auth, PeerOf: PeerCred, Handler: HandlerFunc(func(ctx context.Context, req Request) Response {
		switch req.Op {
		case OpGetCIB:
			return Response{OK: true, CIB: string(st.Current().Marshal())}
		case OpApply:
			if err, _ := st.Apply(0, req.Command.Encode()).(error); err != nil {
				return Response{Code: CodeRejected, Error: err.Error()}
			}
			return Response{OK: true}
		}
		return Response{Code: CodeBadReq, Error: "unknown op"}
	})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx, l)
	}()
	return path, func() { cancel(); <-done }
}

func TestRoundTripAndRejection(t *testing.T) {
	path, stop := serve(t, GroupAuthorizer{Group: uint32(os.Getgid())})
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	x, err := c.GetCIB(ctx)
	if err != nil || len(x) == 0 {
		t.Fatalf("get: %v", err)
	}
	err = c.Apply(ctx, store.Command{Op: store.OpReplaceConfiguration, XML: "<configuration><constraints><rsc_order id=\"o\" first=\"a\" then=\"b\"/></constraints></configuration>"})
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("got %v", err)
	}
}

func TestDenied(t *testing.T) {
	// Nobody is root or in group 4242 here unless the test runs as root.
	if os.Getuid() == 0 {
		t.Skip("running as root: every request is allowed")
	}
	path, stop := serve(t, GroupAuthorizer{Group: 4242, ReadOnlyForAll: true})
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.GetCIB(ctx); err != nil {
		t.Fatalf("read-only access refused: %v", err)
	}
	if err := c.Apply(ctx, store.Command{Op: store.OpSetCIBAttr, Name: "have-quorum", Value: "1"}); !errors.Is(err, ErrDenied) {
		t.Fatalf("write allowed: %v", err)
	}
}

func TestGroupAuthorizer(t *testing.T) {
	g := GroupAuthorizer{Group: 90}
	for _, c := range []struct {
		p     Peer
		write bool
		want  bool
	}{
		{Peer{UID: 0}, true, true},
		{Peer{UID: 1000, GID: 90}, true, true},
		{Peer{UID: 1000, GID: 100, Groups: []uint32{90}}, true, true},
		{Peer{UID: 1000, GID: 100}, false, false},
	} {
		if got := g.Allow(c.p, c.write); got != c.want {
			t.Errorf("%+v write=%v: got %v", c.p, c.write, got)
		}
	}
	if !(GroupAuthorizer{Group: 90, ReadOnlyForAll: true}).Allow(Peer{UID: 1000}, false) {
		t.Error("read-only role refused a read")
	}
}
