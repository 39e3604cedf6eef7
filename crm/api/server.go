package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"sync"
)

// Peer identifies the process on the other end of a connection.
type Peer struct {
	UID, GID uint32
	PID      int32
	// Groups are the supplementary group ids of the peer (when known).
	Groups []uint32
}

// Authorizer decides what a peer may do. Write is required for every
// operation except reads (cib.get, status, cluster.wait, stonith.history,
// stonith.devices).
type Authorizer interface {
	Allow(p Peer, write bool) bool
}

// Handler executes requests for the server. Implementations must be safe
// for concurrent use (one goroutine per connection).
type Handler interface {
	Handle(ctx context.Context, req Request) Response
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req Request) Response

// Handle implements Handler.
func (f HandlerFunc) Handle(ctx context.Context, req Request) Response { return f(ctx, req) }

// Server serves the API on a listener.
type Server struct {
	Handler Handler
	Auth    Authorizer
	// PeerOf extracts peer credentials from a connection (SO_PEERCRED on
	// Linux, see PeerCred); nil trusts nobody.
	PeerOf func(net.Conn) (Peer, error)
	Logger *slog.Logger
}

// IsWrite reports whether an operation changes state.
func IsWrite(op string) bool {
	switch op {
	case OpGetCIB, OpStatus, OpWait, OpFenceHistory, OpFenceDevices:
		return false
	}
	return true
}

// Serve accepts connections until ctx ends or the listener fails. It
// returns after every connection goroutine has exited.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		wg.Wait()
	}()
	go func() {
		<-ctx.Done()
		_ = l.Close()
	}()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, conn)
		}()
	}
}

func (s *Server) serveConn(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	var peer Peer
	havePeer := false
	if s.PeerOf != nil {
		if p, err := s.PeerOf(conn); err == nil {
			peer, havePeer = p, true
		} else if s.Logger != nil {
			s.Logger.Warn("api: cannot read peer credentials", "err", err)
		}
	}
	r := bufio.NewReaderSize(conn, 1<<20)
	enc := json.NewEncoder(conn)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		var req Request
		var resp Response
		if err := json.Unmarshal(line, &req); err != nil {
			resp = Response{Code: CodeBadReq, Error: "malformed request: " + err.Error()}
		} else if !havePeer || s.Auth == nil || !s.Auth.Allow(peer, IsWrite(req.Op)) {
			resp = Response{Code: CodeDenied, Error: "permission denied for " + req.Op}
			if s.Logger != nil {
				s.Logger.Warn("api: request denied", "op", req.Op, "uid", peer.UID, "gid", peer.GID)
			}
		} else {
			resp = s.Handler.Handle(ctx, req)
		}
		if err := enc.Encode(resp); err != nil {
			return
		}
	}
}

// GroupAuthorizer allows root and members of Group to write, and everyone
// else to read when ReadOnlyForAll is set.
type GroupAuthorizer struct {
	Group          uint32
	ReadOnlyForAll bool
}

// Allow implements Authorizer.
func (g GroupAuthorizer) Allow(p Peer, write bool) bool {
	if p.UID == 0 {
		return true
	}
	member := p.GID == g.Group
	for _, gid := range p.Groups {
		if gid == g.Group {
			member = true
		}
	}
	if member {
		return true
	}
	return !write && g.ReadOnlyForAll
}
