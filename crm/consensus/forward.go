package consensus

// Write forwarding protocol.
//
// Followers cannot append to the raft log, so Node.Apply on a follower sends
// the command to the leader over the node's ForwardLayer. With the TCP
// transport this shares the raft port: a forwarding connection starts with
// the byte 'F' (raft's own connections start with an RPC type 0-4).
//
// After that byte the connection carries request/response frames:
//
//	frame    = length uint32 big-endian (≤ maxFrame) | body
//	request  = op byte | payload
//	  opApply: timeout_ms uint32 | command bytes
//	  opStats: (empty)
//	response = status byte | payload
//	  stOK (apply):  uvarint index | response bytes
//	  stOK (stats):  encoded Stats (see encodeStats)
//	  stRejected:    uvarint index | FSM error message
//	  stError:       error code byte | message
//
// The client opens one connection per call, writes one request and reads one
// response; the whole exchange is bounded by the caller's context deadline
// (or Config.ForwardTimeout). The server handles requests sequentially until
// the peer closes the connection or stays idle for forwardIdle.
//
// Retries: the client retries (until its deadline) only when the request
// certainly was not applied: the dial failed, or the server answered
// ErrNotLeader. Any failure after the request was sent is returned to the
// caller; the command may or may not have been committed (errors.Is(err,
// raft.ErrLeadershipLost) or ErrForward), exactly as with a local raft Apply
// that loses leadership.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// ErrForward is wrapped by errors from the forwarding RPC itself (transport
// failures, protocol violations, remote errors without a known sentinel).
var ErrForward = errors.New("forward to leader failed")

// ErrNoLeader is returned when no leader became known before the deadline.
var ErrNoLeader = errors.New("no raft leader")

const (
	maxFrame    = 16 << 20
	forwardIdle = 30 * time.Second

	opApply byte = 1
	opStats byte = 2

	stOK       byte = 0
	stRejected byte = 1
	stError    byte = 2
)

// Error codes carried by stError, mapped back to sentinels on the client.
const (
	codeOther byte = iota
	codeNotLeader
	codeLeadershipLost
	codeShutdown
	codeEnqueueTimeout
	codeBadRequest
)

var codeErrors = map[byte]error{
	codeNotLeader:      raft.ErrNotLeader,
	codeLeadershipLost: raft.ErrLeadershipLost,
	codeShutdown:       raft.ErrRaftShutdown,
	codeEnqueueTimeout: raft.ErrEnqueueTimeout,
}

func errorCode(err error) byte {
	for c, e := range codeErrors {
		if errors.Is(err, e) {
			return c
		}
	}
	return codeOther
}

// remoteError is an stError reply.
type remoteError struct {
	code byte
	msg  string
}

func (e *remoteError) Error() string { return "leader: " + e.msg }

func (e *remoteError) Unwrap() []error {
	if s, ok := codeErrors[e.code]; ok {
		return []error{s, ErrForward}
	}
	return []error{ErrForward}
}

func writeFrame(w io.Writer, body []byte) error {
	if len(body) > maxFrame {
		return fmt.Errorf("%w: frame of %d bytes exceeds %d", ErrForward, len(body), maxFrame)
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
	if _, err := w.Write(append(hdr[:], body...)); err != nil {
		return err
	}
	return nil
}

func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("%w: frame of %d bytes exceeds %d", ErrForward, n, maxFrame)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// Stats is a point-in-time view of a node's raft state.
type Stats struct {
	State        raft.RaftState
	Term         uint64
	LastIndex    uint64
	CommitIndex  uint64
	AppliedIndex uint64
	// Servers is the number of servers in the latest configuration (0 on a
	// node that was never bootstrapped nor added).
	Servers int
}

func encodeStats(s Stats) []byte {
	b := []byte{byte(s.State)}
	for _, v := range []uint64{s.Term, s.LastIndex, s.CommitIndex, s.AppliedIndex, uint64(s.Servers)} {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

func decodeStats(b []byte) (Stats, error) {
	var s Stats
	if len(b) < 1 {
		return s, fmt.Errorf("%w: empty stats", ErrForward)
	}
	s.State = raft.RaftState(b[0])
	b = b[1:]
	vals := make([]uint64, 5)
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return s, fmt.Errorf("%w: truncated stats", ErrForward)
		}
		vals[i], b = v, b[n:]
	}
	if vals[4] > math.MaxInt32 {
		return s, fmt.Errorf("%w: bad server count", ErrForward)
	}
	s.Term, s.LastIndex, s.CommitIndex, s.AppliedIndex, s.Servers = vals[0], vals[1], vals[2], vals[3], int(vals[4])
	return s, nil
}

// serveForward accepts forwarding connections until the layer closes.
func (n *Node) serveForward() {
	defer n.wg.Done()
	for {
		c, err := n.trans.forward.Accept()
		if err != nil {
			return // closed by Shutdown
		}
		if !n.trackConn(c) {
			return
		}
		n.wg.Add(1)
		go n.handleForwardConn(c)
	}
}

func (n *Node) handleForwardConn(c net.Conn) {
	defer n.wg.Done()
	defer n.untrackConn(c)
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(forwardIdle))
		req, err := readFrame(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				n.log.Debug("forward connection closed", "remote", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		resp := n.handleForwardRequest(req)
		_ = c.SetWriteDeadline(time.Now().Add(n.cfg.ForwardTimeout))
		if err := writeFrame(c, resp); err != nil {
			n.log.Debug("forward reply failed", "remote", c.RemoteAddr().String(), "err", err)
			return
		}
	}
}

func errorReply(err error) []byte {
	return append([]byte{stError, errorCode(err)}, err.Error()...)
}

func (n *Node) handleForwardRequest(req []byte) []byte {
	if len(req) == 0 {
		return append([]byte{stError, codeBadRequest}, "empty request"...)
	}
	switch req[0] {
	case opStats:
		s, err := n.localStats()
		if err != nil {
			return errorReply(err)
		}
		return append([]byte{stOK}, encodeStats(s)...)
	case opApply:
		if len(req) < 5 {
			return append([]byte{stError, codeBadRequest}, "short apply request"...)
		}
		timeout := time.Duration(binary.BigEndian.Uint32(req[1:5])) * time.Millisecond
		timeout = min(max(timeout, time.Millisecond), n.cfg.ForwardTimeout)
		idx, data, err := n.applyLocal(req[5:], timeout)
		var ce *CommandError
		switch {
		case errors.As(err, &ce):
			b := binary.AppendUvarint([]byte{stRejected}, ce.Index)
			return append(b, ce.Msg...)
		case err != nil:
			return errorReply(err)
		}
		b := binary.AppendUvarint([]byte{stOK}, idx)
		return append(b, data...)
	default:
		return append([]byte{stError, codeBadRequest}, fmt.Sprintf("unknown op %d", req[0])...)
	}
}

// callRemote performs one request/response exchange with addr. sent reports
// whether the request may have reached the server.
func (n *Node) callRemote(ctx context.Context, addr raft.ServerAddress, req []byte) (resp []byte, sent bool, err error) {
	c, err := n.trans.forward.DialContext(ctx, addr)
	if err != nil {
		return nil, false, fmt.Errorf("%w: dial %s: %w", ErrForward, addr, err)
	}
	defer c.Close()
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(n.cfg.ForwardTimeout)
	}
	_ = c.SetDeadline(dl)
	// Abort the exchange promptly if ctx is cancelled.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	if err := writeFrame(c, req); err != nil {
		return nil, true, fmt.Errorf("%w: send to %s: %w", ErrForward, addr, err)
	}
	resp, err = readFrame(bufio.NewReader(c))
	if err != nil {
		return nil, true, fmt.Errorf("%w: read reply from %s: %w", ErrForward, addr, err)
	}
	if len(resp) == 0 {
		return nil, true, fmt.Errorf("%w: empty reply from %s", ErrForward, addr)
	}
	if resp[0] == stError {
		if len(resp) < 2 {
			return nil, true, fmt.Errorf("%w: short error reply from %s", ErrForward, addr)
		}
		return nil, true, &remoteError{code: resp[1], msg: string(resp[2:])}
	}
	return resp, true, nil
}

// forwardApply sends cmd to the current leader, retrying while that is safe.
func (n *Node) forwardApply(ctx context.Context, cmd []byte) (Result, error) {
	if len(cmd)+5 > maxFrame {
		return Result{}, fmt.Errorf("%w: command of %d bytes is too large to forward", ErrForward, len(cmd))
	}
	backoff := 10 * time.Millisecond
	for {
		addr, id := n.r().LeaderWithID()
		switch {
		case addr == "" && !n.guard.healthy():
			// A node whose storage fails may not learn the new leader
			// (its raft can wait on a term it cannot save): ask the
			// peers; only the leader accepts (see applyViaPeers).
			if res, done, err := n.applyViaPeers(ctx, cmd); done {
				return res, err
			}
		case addr == "":
		case id == raft.ServerID(n.cfg.NodeID):
			// Became leader meanwhile.
			idx, data, err := n.applyLocal(cmd, timeoutFrom(ctx, n.cfg.ForwardTimeout))
			if !errors.Is(err, raft.ErrNotLeader) {
				return Result{Index: idx, Data: data}, err
			}
		default:
			ms := uint32(min(timeoutFrom(ctx, n.cfg.ForwardTimeout)/time.Millisecond, math.MaxUint32))
			req := binary.BigEndian.AppendUint32([]byte{opApply}, ms)
			req = append(req, cmd...)
			resp, sent, err := n.callRemote(ctx, addr, req)
			switch {
			case err == nil:
				return decodeApplyReply(resp)
			case sent && !errors.Is(err, raft.ErrNotLeader):
				return Result{}, fmt.Errorf("forward apply to %s (%s): %w", id, addr, err)
			}
			n.log.Debug("forward apply: retrying", "leader", string(id), "err", err)
		}
		select {
		case <-ctx.Done():
			if addr == "" {
				return Result{}, fmt.Errorf("apply: %w: %w", ErrNoLeader, ctx.Err())
			}
			return Result{}, fmt.Errorf("forward apply to %s: %w", addr, ctx.Err())
		case <-n.stop:
			return Result{}, raft.ErrRaftShutdown
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// applyViaPeers offers cmd to every other server of the configuration in
// turn. A server that is not the leader answers ErrNotLeader without
// applying, so trying the next one is safe; done is false when none was the
// leader (or none answered).
func (n *Node) applyViaPeers(ctx context.Context, cmd []byte) (res Result, done bool, err error) {
	servers, err := n.Servers()
	if err != nil {
		return Result{}, false, nil
	}
	ms := uint32(min(timeoutFrom(ctx, n.cfg.ForwardTimeout)/time.Millisecond, math.MaxUint32))
	req := binary.BigEndian.AppendUint32([]byte{opApply}, ms)
	req = append(req, cmd...)
	for _, s := range servers {
		if s.ID == n.cfg.NodeID {
			continue
		}
		resp, sent, err := n.callRemote(ctx, raft.ServerAddress(s.Address), req)
		switch {
		case err == nil:
			res, err := decodeApplyReply(resp)
			return res, true, err
		case sent && !errors.Is(err, raft.ErrNotLeader):
			return Result{}, true, fmt.Errorf("forward apply via %s (%s): %w", s.ID, s.Address, err)
		}
	}
	return Result{}, false, nil
}

func decodeApplyReply(resp []byte) (Result, error) {
	status := resp[0]
	idx, k := binary.Uvarint(resp[1:])
	if k <= 0 {
		return Result{}, fmt.Errorf("%w: bad apply reply", ErrForward)
	}
	payload := resp[1+k:]
	switch status {
	case stOK:
		if len(payload) == 0 {
			payload = nil
		}
		return Result{Index: idx, Data: payload}, nil
	case stRejected:
		return Result{Index: idx}, &CommandError{Index: idx, Msg: string(payload)}
	}
	return Result{}, fmt.Errorf("%w: unknown reply status %d", ErrForward, status)
}

// RemoteStats asks the node at addr for its Stats over the forwarding RPC.
func (n *Node) RemoteStats(ctx context.Context, addr string) (Stats, error) {
	resp, _, err := n.callRemote(ctx, raft.ServerAddress(addr), []byte{opStats})
	if err != nil {
		return Stats{}, fmt.Errorf("stats from %s: %w", addr, err)
	}
	if resp[0] != stOK {
		return Stats{}, fmt.Errorf("%w: unexpected stats status %d", ErrForward, resp[0])
	}
	return decodeStats(resp[1:])
}

func timeoutFrom(ctx context.Context, def time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 {
			return d
		}
		return time.Millisecond
	}
	return def
}
