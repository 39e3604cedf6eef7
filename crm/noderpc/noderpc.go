// Package noderpc carries actions from the DC to the node that must run them
// (Pacemaker's controld-to-controld "lrm_invoke" messages) and their results
// back.
//
// Transport: connections to the node's gossip port + 2, one action at a
// time each; the client keeps idle connections (IdleTimeout) for the next
// action to the same node, so a transition pays the (TLS) handshake once
// (gossip = P, raft = P+1, noderpc = P+2). In a TLS cluster the listener
// given to Server.Serve and Client.Dial are the mutual-TLS ones of package
// consensus (consensus.MTLS: per-node certificates, peer authorised against
// the cluster members); without them the connection is plain TCP. Each
// message is a frame:
//
//	uint32 big-endian length | HMAC-SHA256 (32 bytes) | JSON body
//
// The MAC key is derived from the cluster's primary gossip key
// (SHA-256("gocrm-noderpc\x00" || key)), so only holders of the gossip key
// file can send actions; a frame with a bad MAC is dropped without an answer.
// Requests carry the sender's wall-clock time and are refused outside a
// ±MaxSkew window, which limits replays; the DC's raft term inside the
// request is checked by the node's LRM, which refuses actions from a deposed
// DC (ErrStaleTerm).
//
// The server answers when the action has a result (and the node has recorded
// it in the CIB), so a call lasts as long as the action; the client's context
// bounds it.
//
// Concurrency: Client is safe for concurrent use; concurrent calls to one
// node use separate connections. Server.Serve runs one goroutine per
// connection, all owned by Serve and finished before it returns; a
// connection serves requests one after the other until the client closes
// it or it idles for ServerIdleTimeout.
package noderpc

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// PortOffset is added to a node's gossip port to get its noderpc port.
const PortOffset = 2

// MaxFrame bounds a frame (requests carry resource parameters only).
const MaxFrame = 1 << 20

// IdleTimeout is how long a client keeps an idle connection for reuse.
const IdleTimeout = 30 * time.Second

// ServerIdleTimeout is how long a server waits for the next request on a
// connection. It exceeds IdleTimeout, so the server never closes a
// connection the client may still reuse (only a restart does, and a request
// that finds its reused connection dead before any answer is sent again on
// a new one).
const ServerIdleTimeout = 3 * IdleTimeout

// MaxSkew is the accepted difference between the request's timestamp and
// the receiver's clock.
const MaxSkew = 5 * time.Minute

// Sentinel errors.
var (
	// ErrStaleTerm: the node has seen a newer DC term (the sender was deposed).
	ErrStaleTerm = errors.New("stale DC term")
	// ErrAuth: the frame's MAC did not verify (wrong key or tampering), or
	// the request is outside the time window.
	ErrAuth = errors.New("noderpc authentication failed")
	// ErrProtocol: malformed frame or body.
	ErrProtocol = errors.New("noderpc protocol error")
	// ErrRemote wraps other errors reported by the node.
	ErrRemote = errors.New("remote action error")
	// ErrConfig: missing key or handler.
	ErrConfig = errors.New("invalid noderpc config")
)

const (
	codeStale  = "stale-term"
	codeError  = "error"
	codeWindow = "time-window"
)

// ActionRequest asks a node to run one action of a transition.
type ActionRequest struct {
	// Term is the DC's raft term; the node refuses older terms.
	Term uint64 `json:"term"`
	// TransitionKey is "ACTION:TRANSITION:TARGET_RC:UUID".
	TransitionKey string `json:"transition_key"`
	// Rsc is the resource id (clone instances with ":N"); Class, Provider
	// and Type name its agent.
	Rsc      string `json:"rsc,omitempty"`
	Class    string `json:"class,omitempty"`
	Provider string `json:"provider,omitempty"`
	Type     string `json:"type,omitempty"`
	// Params are the instance attributes; Meta the meta attributes as
	// agents receive them (without "CRM_meta_"; timeout and interval in ms).
	Params map[string]string `json:"params,omitempty"`
	Meta   map[string]string `json:"meta,omitempty"`
	// Task is start, stop, monitor (interval 0 = probe), promote, demote,
	// reload-agent, cancel (of the recurring CancelTask/Interval), or the
	// node task do_shutdown.
	Task       string `json:"task"`
	CancelTask string `json:"cancel_task,omitempty"`
	IntervalMS int64  `json:"interval_ms,omitempty"`
	TimeoutMS  int64  `json:"timeout_ms,omitempty"`
	// TargetRC is the expected result (7 for probes, 0 otherwise, 8 for
	// promoted monitors).
	TargetRC int `json:"target_rc"`
	// OpDigest is recorded with the result (op-digest of the definition).
	OpDigest string `json:"op_digest,omitempty"`
	// PendingKey is set when the DC re-issues an operation that the CIB it
	// planned on showed in flight on the node (recorded pending, op-status
	// -1): the transition key of that pending record. If that execution
	// has finished meanwhile, the node answers with its result instead of
	// running the operation again.
	PendingKey string `json:"pending_key,omitempty"`
	// SentUnixMS is the sender's clock (replay window).
	SentUnixMS int64 `json:"sent_unix_ms"`
}

// ActionResult is the outcome of an action.
type ActionResult struct {
	CallID   int64  `json:"call_id"`
	RC       int    `json:"rc"`
	OpStatus int    `json:"op_status"`
	Reason   string `json:"reason,omitempty"`
	ExecMS   int64  `json:"exec_ms"`
}

// Succeeded reports whether the result is the expected one.
func (r ActionResult) Succeeded(targetRC int) bool { return r.OpStatus == 0 && r.RC == targetRC }

type response struct {
	OK     bool          `json:"ok"`
	Code   string        `json:"code,omitempty"`
	Error  string        `json:"error,omitempty"`
	Result *ActionResult `json:"result,omitempty"`
}

// Handler runs actions on the local node. It must record the result in the
// CIB before returning (the DC treats the answer as a confirmation) and
// return an error wrapping ErrStaleTerm for stale terms. It must be safe
// for concurrent use and return once ctx ends.
type Handler interface {
	HandleAction(ctx context.Context, req ActionRequest) (ActionResult, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req ActionRequest) (ActionResult, error)

// HandleAction implements Handler.
func (f HandlerFunc) HandleAction(ctx context.Context, req ActionRequest) (ActionResult, error) {
	return f(ctx, req)
}

// DeriveKey turns the cluster's primary gossip key into the MAC key.
func DeriveKey(gossipKey []byte) []byte {
	h := sha256.New()
	h.Write([]byte("gocrm-noderpc\x00"))
	h.Write(gossipKey)
	return h.Sum(nil)
}

func writeFrame(w io.Writer, key []byte, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	buf := make([]byte, 4, 4+32+len(body))
	binary.BigEndian.PutUint32(buf, uint32(32+len(body)))
	buf = append(buf, mac.Sum(nil)...)
	buf = append(buf, body...)
	_, err = w.Write(buf)
	return err
}

func readFrame(r io.Reader, key []byte, v any) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 32 || n > MaxFrame {
		return fmt.Errorf("%w: frame length %d", ErrProtocol, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return fmt.Errorf("%w: short frame: %v", ErrProtocol, err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(buf[32:])
	if !hmac.Equal(mac.Sum(nil), buf[:32]) {
		return ErrAuth
	}
	dec := json.NewDecoder(bytes.NewReader(buf[32:]))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return nil
}

// Server answers action requests.
type Server struct {
	Handler Handler
	// Key is the MAC key (DeriveKey).
	Key    []byte
	Logger *slog.Logger
	// Now is the clock for the replay window (time.Now if nil).
	Now func() time.Time
}

// Serve accepts connections on l until ctx ends or l fails; it closes l
// and returns after every connection goroutine exited.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if s.Handler == nil || len(s.Key) == 0 {
		l.Close()
		return fmt.Errorf("%w: handler and key are required", ErrConfig)
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	var err error
	for {
		c, aerr := l.Accept()
		if aerr != nil {
			if ctx.Err() == nil {
				err = fmt.Errorf("noderpc accept: %w", aerr)
			}
			break
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
			s.serveConn(ctx, c, log)
		}()
	}
	cancel()
	wg.Wait()
	return err
}

func (s *Server) serveConn(ctx context.Context, c net.Conn, log *slog.Logger) {
	for served := 0; ctx.Err() == nil; served++ {
		_ = c.SetReadDeadline(time.Now().Add(ServerIdleTimeout))
		var req ActionRequest
		if err := readFrame(c, s.Key, &req); err != nil {
			if served == 0 || !(errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded)) {
				log.Warn("noderpc: dropping request", "remote", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		_ = c.SetReadDeadline(time.Time{})
		if !s.serveRequest(ctx, c, req, log) {
			return
		}
	}
}

// serveRequest runs one request and answers it; false when the answer
// could not be written (the connection is done).
func (s *Server) serveRequest(ctx context.Context, c net.Conn, req ActionRequest, log *slog.Logger) bool {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var resp response
	if skew := now().Sub(time.UnixMilli(req.SentUnixMS)); skew > MaxSkew || skew < -MaxSkew {
		resp = response{Code: codeWindow, Error: "request outside the time window (clock skew or replay)"}
	} else {
		// The connection closing (the DC gave up) does not cancel the
		// action: its result is still recorded in the CIB.
		res, err := s.Handler.HandleAction(ctx, req)
		switch {
		case err == nil:
			resp = response{OK: true, Result: &res}
		case errors.Is(err, ErrStaleTerm):
			resp = response{Code: codeStale, Error: err.Error()}
		default:
			resp = response{Code: codeError, Error: err.Error()}
		}
	}
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := writeFrame(c, s.Key, resp); err != nil {
		log.Debug("noderpc: answer not delivered", "err", err)
		return false
	}
	_ = c.SetWriteDeadline(time.Time{})
	return true
}

// Client sends actions to nodes.
type Client struct {
	// Key is the MAC key (DeriveKey).
	Key []byte
	// DialTimeout bounds connection setup (default 2 s).
	DialTimeout time.Duration
	// Dial opens the connection to a node's noderpc address (default:
	// plain TCP). The mTLS dialer verifies and authorises the node there.
	// It must be safe for concurrent use and honour ctx.
	Dial func(ctx context.Context, addr string) (net.Conn, error)

	mu     sync.Mutex
	idle   map[string][]idleConn
	closed bool
}

type idleConn struct {
	c     net.Conn
	since time.Time
}

// Close closes the idle connections; calls after Close still work but
// keep nothing.
func (c *Client) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, l := range idle {
		for _, ic := range l {
			ic.c.Close()
		}
	}
	return nil
}

// take returns an idle connection to addr that is still fresh, or nil.
func (c *Client) take(addr string) net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.idle[addr]
	for len(l) > 0 {
		ic := l[len(l)-1]
		l = l[:len(l)-1]
		if time.Since(ic.since) < IdleTimeout {
			c.idle[addr] = l
			return ic.c
		}
		ic.c.Close()
	}
	delete(c.idle, addr)
	return nil
}

// keep stores a connection whose last exchange completed.
func (c *Client) keep(addr string, conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return
	}
	if c.idle == nil {
		c.idle = map[string][]idleConn{}
	}
	c.idle[addr] = append(c.idle[addr], idleConn{conn, time.Now()})
}

func (c *Client) dial(ctx context.Context, addr string) (net.Conn, error) {
	dt := c.DialTimeout
	if dt <= 0 {
		dt = 2 * time.Second
	}
	dctx, dcancel := context.WithTimeout(ctx, dt)
	defer dcancel()
	if c.Dial != nil {
		return c.Dial(dctx, addr)
	}
	var d net.Dialer
	return d.DialContext(dctx, "tcp", addr)
}

// Call sends req to the node whose noderpc address is addr and waits for
// the result until ctx ends.
func (c *Client) Call(ctx context.Context, addr string, req ActionRequest) (ActionResult, error) {
	if len(c.Key) == 0 {
		return ActionResult{}, fmt.Errorf("%w: no key", ErrConfig)
	}
	if req.SentUnixMS == 0 {
		req.SentUnixMS = time.Now().UnixMilli()
	}
	for {
		conn := c.take(addr)
		reused := conn != nil
		if conn == nil {
			var err error
			if conn, err = c.dial(ctx, addr); err != nil {
				return ActionResult{}, fmt.Errorf("noderpc dial %s: %w", addr, err)
			}
		}
		resp, sent, alive, err := c.exchange(ctx, conn, req)
		if err != nil {
			conn.Close()
			if reused && !sent && ctx.Err() == nil {
				// The idle connection was dead (the node restarted) and
				// the node never got the request: send it on a new one.
				continue
			}
			if ctx.Err() != nil {
				return ActionResult{}, fmt.Errorf("noderpc %s: %w", addr, ctx.Err())
			}
			return ActionResult{}, fmt.Errorf("noderpc %s: %w", addr, err)
		}
		if alive {
			c.keep(addr, conn)
		} else {
			conn.Close()
		}
		switch {
		case resp.OK && resp.Result != nil:
			return *resp.Result, nil
		case resp.Code == codeStale:
			return ActionResult{}, fmt.Errorf("%w: %s", ErrStaleTerm, resp.Error)
		case resp.Code == codeWindow:
			return ActionResult{}, fmt.Errorf("%w: %s", ErrAuth, resp.Error)
		}
		return ActionResult{}, fmt.Errorf("%w from %s: %s", ErrRemote, addr, resp.Error)
	}
}

// exchange sends req on conn and reads the answer. sent is false when the
// request certainly did not reach a live server: writing failed, or the
// connection ended (EOF or reset) before any byte of an answer. alive is
// false when ctx ended during the exchange (which closes conn).
func (c *Client) exchange(ctx context.Context, conn net.Conn, req ActionRequest) (resp response, sent, alive bool, err error) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer func() { alive = stop() }()
	if err := writeFrame(conn, c.Key, req); err != nil {
		return resp, false, false, fmt.Errorf("send: %w", err)
	}
	if err := readFrame(conn, c.Key, &resp); err != nil {
		dead := errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
		return resp, !dead, false, fmt.Errorf("read: %w", err)
	}
	return resp, true, true, nil
}

// AddrFor returns the noderpc address of a node from its gossip address.
func AddrFor(gossip string) (string, error) {
	host, port, err := net.SplitHostPort(gossip)
	if err != nil {
		return "", fmt.Errorf("gossip address %q: %w", gossip, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p+PortOffset > 65535 {
		return "", fmt.Errorf("gossip address %q: bad port", gossip)
	}
	return net.JoinHostPort(host, strconv.Itoa(p+PortOffset)), nil
}
