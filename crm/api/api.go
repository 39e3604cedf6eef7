// Package api is the local control interface of crmd: a Unix socket
// speaking newline-delimited JSON, one request and one response per line.
// The `crm` shell is its main client.
//
// The protocol is deliberately small and generic: clients read the CIB,
// compute changes with the pure packages (cib, cib/crmsyntax) and submit
// typed CIB commands (cib/store.Command), which crmd commits through raft
// atomically or not at all; a few operations need the daemon itself
// (status of the cluster runtime, fencing, running an agent locally).
//
// Authorization: the server checks the peer's credentials (SO_PEERCRED):
// root or a member of the configured group (haclient) may change the
// cluster; other local users get read-only access when allowed, or are
// refused.
//
// Concurrency: a Client is not safe for concurrent use; open one per
// goroutine. Server.Serve handles each connection on its own goroutine,
// all owned by Serve and stopped when its context ends.
package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gocrm/gocrm/cib/store"
	"github.com/gocrm/gocrm/stonith/fsm"
)

// Operations.
const (
	// OpGetCIB returns the whole CIB as XML (Response.CIB).
	OpGetCIB = "cib.get"
	// OpApply commits Request.Command (a cib/store command).
	OpApply = "cib.apply"
	// OpStatus returns the runtime view (Response.Status).
	OpStatus = "status"
	// OpFence asks the DC to fence Request.Node.
	OpFence = "node.fence"
	// OpFenceConfirm confirms a manual (meatware) fence of Request.Node.
	OpFenceConfirm = "node.fence-confirm"
	// OpWait blocks until the cluster is idle (no transition in progress)
	// or Request.TimeoutMS passes.
	OpWait = "cluster.wait"
	// OpFenceHistory returns the fencing history (Response.Fencing.History),
	// for target Request.Node only when set: the records this node keeps
	// in memory (every operation it ran as DC, pending ones included)
	// merged with the finished records stored in the CIB by every node.
	// Response.Fencing.Node names the node that answered.
	OpFenceHistory = "stonith.history"
	// OpFenceDevices lists the fence devices configured in the CIB, with
	// their configuration check and where they run
	// (Response.Fencing.Devices).
	OpFenceDevices = "stonith.devices"
	// OpFenceStatus runs the monitor action of the fence devices (only
	// Request.Node, a device id, when set) on this node and returns the
	// devices with their Monitor result. It runs device actions, so it
	// needs write permission.
	OpFenceStatus = "stonith.status"
)

// Fencing answers the stonith.* operations.
type Fencing struct {
	// Node is the node that answered; IsDC says whether it is the DC.
	Node    string        `json:"node"`
	IsDC    bool          `json:"is_dc"`
	History []fsm.Record  `json:"history,omitempty"`
	Devices []FenceDevice `json:"devices,omitempty"`
}

// FenceDevice is one stonith primitive of the CIB as the daemon sees it.
type FenceDevice struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// RunningOn lists the nodes where the device's resource is active.
	RunningOn []string `json:"running_on,omitempty"`
	// Error is the configuration error ("" when the parameters are
	// valid); secrets are masked.
	Error string `json:"error,omitempty"`
	// Monitor is the monitor result of stonith.status: "OK" or the error.
	Monitor string `json:"monitor,omitempty"`
}

// Request is one client request.
type Request struct {
	Op        string         `json:"op"`
	Command   *store.Command `json:"command,omitempty"`
	Node      string         `json:"node,omitempty"`
	TimeoutMS int64          `json:"timeout_ms,omitempty"`
}

// Status is the daemon's runtime view.
type Status struct {
	Node     string   `json:"node"`
	DC       string   `json:"dc"`
	IsDC     bool     `json:"is_dc"`
	Term     uint64   `json:"term"`
	Members  []Member `json:"members"`
	Quorate  bool     `json:"quorate"`
	Idle     bool     `json:"idle"`
	Version  string   `json:"version"`
	ReadOnly bool     `json:"read_only"`
}

// Member is a gossip member as crmd sees it.
type Member struct {
	Name  string `json:"name"`
	Addr  string `json:"addr"`
	State string `json:"state"` // alive, suspect, failed, left
	Role  string `json:"role"`  // voter, arbiter
}

// Response is the answer to one request.
type Response struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error,omitempty"`
	Code   string  `json:"code,omitempty"` // machine-readable error class
	CIB    string  `json:"cib,omitempty"`
	Status *Status `json:"status,omitempty"`
	// Fencing answers the stonith.* operations.
	Fencing *Fencing `json:"fencing,omitempty"`
}

// Error codes.
const (
	CodeDenied   = "denied"
	CodeRejected = "rejected" // the command was rejected (invalid, stale epoch)
	CodeNoLeader = "no-leader"
	CodeBadReq   = "bad-request"
	CodeInternal = "internal"
)

// Sentinel errors returned by the client.
var (
	ErrDenied   = errors.New("permission denied")
	ErrRejected = errors.New("change rejected")
	ErrNoLeader = errors.New("no cluster leader")
)

// RemoteError is an error reported by the daemon.
type RemoteError struct {
	Code string
	Msg  string
}

func (e *RemoteError) Error() string { return e.Msg }

// Unwrap maps codes to sentinels.
func (e *RemoteError) Unwrap() error {
	switch e.Code {
	case CodeDenied:
		return ErrDenied
	case CodeRejected:
		return ErrRejected
	case CodeNoLeader:
		return ErrNoLeader
	}
	return nil
}

// Client talks to one crmd.
type Client struct {
	conn net.Conn
	r    *bufio.Reader
}

// Dial connects to the daemon socket.
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to crmd at %s: %w", path, err)
	}
	return &Client{conn: conn, r: bufio.NewReaderSize(conn, 1<<20)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Do sends a request and waits for its response (honouring ctx's deadline).
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.conn.SetDeadline(dl)
	} else {
		_ = c.conn.SetDeadline(time.Time{})
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("send %s: %w", req.Op, err)
	}
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("read %s response: %w", req.Op, err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, fmt.Errorf("decode %s response: %w", req.Op, err)
	}
	if !resp.OK {
		return &resp, &RemoteError{Code: resp.Code, Msg: resp.Error}
	}
	return &resp, nil
}

// GetCIB returns the CIB XML.
func (c *Client) GetCIB(ctx context.Context) (string, error) {
	resp, err := c.Do(ctx, Request{Op: OpGetCIB})
	if err != nil {
		return "", err
	}
	return resp.CIB, nil
}

// Apply commits a CIB command.
func (c *Client) Apply(ctx context.Context, cmd store.Command) error {
	_, err := c.Do(ctx, Request{Op: OpApply, Command: &cmd})
	return err
}
