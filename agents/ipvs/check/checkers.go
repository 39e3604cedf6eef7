// Package check implements keepalived-style real-server health checks for
// the IPVS agent: HTTP_GET and SSL_GET (status code ranges, optional MD5
// digest of the body), TCP_CHECK (connect) and MISC_CHECK (script exit code,
// optionally a dynamic weight of exit code - 2), plus the Manager that runs
// one checker loop per real server on an injected clock, applies retry /
// delay_before_retry, quorum with hysteresis and a sorry server, and pushes
// the resulting destination set to an Applier (the IPVS agent).
//
// The checks are I/O; the state machine (Compute) is pure.
package check

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Result is the outcome of one check.
type Result struct {
	OK bool
	// Weight is the dynamic weight reported by the check (MISC_CHECK with
	// misc_dynamic); valid only when HasWeight.
	Weight    int
	HasWeight bool
	Err       error // why the check failed (nil when OK)
}

// Checker probes one real server. Implementations must honour ctx and be
// safe for use by one goroutine at a time.
type Checker interface {
	Check(ctx context.Context) Result
	// Kind names the check for logs ("HTTP_GET", "TCP_CHECK", ...).
	Kind() string
}

// DialFunc opens a connection; tests inject one that dials inside a
// network namespace.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func dialer(d DialFunc) DialFunc {
	if d != nil {
		return d
	}
	var nd net.Dialer
	return nd.DialContext
}

// TCPCheck is keepalived's TCP_CHECK: success = the TCP connect completes
// within Timeout.
type TCPCheck struct {
	Addr    string // host:port
	Timeout time.Duration
	Dial    DialFunc
}

// Kind implements Checker.
func (c *TCPCheck) Kind() string { return "TCP_CHECK" }

// Check implements Checker.
func (c *TCPCheck) Check(ctx context.Context) Result {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	conn, err := dialer(c.Dial)(ctx, "tcp", c.Addr)
	if err != nil {
		return Result{Err: fmt.Errorf("TCP_CHECK %s: %w", c.Addr, err)}
	}
	conn.Close()
	return Result{OK: true}
}

// StatusRange is an inclusive HTTP status code range.
type StatusRange struct{ Lo, Hi int }

// ParseStatusRanges parses keepalived's status_code syntax:
// "200-299 400-499 503" (also comma separated). Empty means 200-299.
func ParseStatusRanges(s string) ([]StatusRange, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	if len(f) == 0 {
		return []StatusRange{{200, 299}}, nil
	}
	var out []StatusRange
	for _, x := range f {
		lo, hi, isRange := strings.Cut(x, "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || l < 100 || h > 599 || l > h {
			return nil, fmt.Errorf("status code %q: want NNN or NNN-NNN within 100-599", x)
		}
		out = append(out, StatusRange{l, h})
	}
	return out, nil
}

// HTTPCheck is keepalived's HTTP_GET (TLS false) or SSL_GET (TLS true).
// The certificate is not verified (keepalived's default). The body is read
// up to MaxBody bytes; with Digest set its MD5 must match.
type HTTPCheck struct {
	Addr        string // host:port to connect to
	TLS         bool
	Path        string // e.g. "/health"
	VirtualHost string // Host header (and SNI); "" = Addr
	Status      []StatusRange
	Digest      string // lower-case hex MD5 of the body, "" = not checked
	Timeout     time.Duration
	MaxBody     int64 // default 1 MiB
	Dial        DialFunc
}

// Kind implements Checker.
func (c *HTTPCheck) Kind() string {
	if c.TLS {
		return "SSL_GET"
	}
	return "HTTP_GET"
}

// Check implements Checker.
func (c *HTTPCheck) Check(ctx context.Context) Result {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	scheme := "http"
	if c.TLS {
		scheme = "https"
	}
	path := c.Path
	if path == "" {
		path = "/"
	}
	tr := &http.Transport{
		DialContext:       dialer(c.Dial),
		DisableKeepAlives: true,
		Proxy:             nil,
		// Real servers are checked for liveness, not authenticated.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: hostOnly(c.VirtualHost)}, //nolint:gosec
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+c.Addr+path, nil)
	if err != nil {
		return Result{Err: fmt.Errorf("%s %s: %w", c.Kind(), c.Addr, err)}
	}
	if c.VirtualHost != "" {
		req.Host = c.VirtualHost
	}
	req.Header.Set("User-Agent", "gocrm-check")
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return Result{Err: fmt.Errorf("%s %s%s: %w", c.Kind(), c.Addr, path, err)}
	}
	defer resp.Body.Close()
	ranges := c.Status
	if len(ranges) == 0 {
		ranges = []StatusRange{{200, 299}}
	}
	ok := false
	for _, r := range ranges {
		if resp.StatusCode >= r.Lo && resp.StatusCode <= r.Hi {
			ok = true
		}
	}
	if !ok {
		return Result{Err: fmt.Errorf("%s %s%s: status %d not accepted", c.Kind(), c.Addr, path, resp.StatusCode)}
	}
	max := c.MaxBody
	if max <= 0 {
		max = 1 << 20
	}
	h := md5.New()
	if _, err := io.Copy(h, io.LimitReader(resp.Body, max)); err != nil {
		return Result{Err: fmt.Errorf("%s %s%s: read body: %w", c.Kind(), c.Addr, path, err)}
	}
	if c.Digest != "" {
		if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(c.Digest) {
			return Result{Err: fmt.Errorf("%s %s%s: body digest %s, want %s", c.Kind(), c.Addr, path, got, c.Digest)}
		}
	}
	return Result{OK: true}
}

func hostOnly(hp string) string {
	if h, _, err := net.SplitHostPort(hp); err == nil {
		return h
	}
	return hp
}

// MiscCheck is keepalived's MISC_CHECK: run a command; exit 0 = up. With
// Dynamic, exit 1 = down and exit 2..255 = up with weight code-2; without
// it any non-zero exit is down. A timeout is a failure.
type MiscCheck struct {
	Command []string // program and arguments
	Timeout time.Duration
	Dynamic bool
}

// Kind implements Checker.
func (c *MiscCheck) Kind() string { return "MISC_CHECK" }

// Check implements Checker.
func (c *MiscCheck) Check(ctx context.Context) Result {
	if len(c.Command) == 0 {
		return Result{Err: errors.New("MISC_CHECK: empty command")}
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Command[0], c.Command[1:]...)
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err == nil {
		return Result{OK: true}
	}
	if ctx.Err() != nil {
		return Result{Err: fmt.Errorf("MISC_CHECK %s: timed out after %v", c.Command[0], c.Timeout)}
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() < 0 {
		return Result{Err: fmt.Errorf("MISC_CHECK %s: %w", c.Command[0], err)}
	}
	code := ee.ExitCode()
	if c.Dynamic && code >= 2 {
		return Result{OK: true, Weight: code - 2, HasWeight: true}
	}
	return Result{Err: fmt.Errorf("MISC_CHECK %s: exit status %d", c.Command[0], code)}
}
