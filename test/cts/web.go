package cts

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// The campaign's web server (ocf:gocrm:httpd in command mode, binary
// test/cts/cmd/ctshttpd) answers every request with the address of the
// node it runs on, so that the observer can tell which node answered a
// request sent to the VIP.

const (
	webPort   = "8080"
	webPrefix = "gocrm-cts node-ip="
)

// nodeAddr returns the first IPv4 address of this network namespace that
// is neither loopback nor vip.
func nodeAddr(vip string) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.To4() == nil || ipn.IP.IsLoopback() || ipn.IP.String() == vip {
			continue
		}
		return ipn.IP.String()
	}
	return ""
}

// WebHandler answers "gocrm-cts node-ip=ADDR" (ADDR: see nodeAddr).
func WebHandler(vip string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s%s\n", webPrefix, nodeAddr(vip))
	})
}

// ServeWeb serves WebHandler on listen until ctx ends.
func ServeWeb(ctx context.Context, listen, vip string) error {
	srv := &http.Server{Addr: listen, Handler: WebHandler(vip), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("web server on %s: %w", listen, err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-errc
		return nil
	}
}

// errNoWebAnswer is returned when the VIP does not answer HTTP.
var errNoWebAnswer = errors.New("no HTTP answer on the VIP")

// WebAnswer sends an HTTP request to the VIP from the hub bridge and
// returns the node whose web server answered.
func (l *Lab) WebAnswer(timeout time.Duration) (string, error) {
	if !l.netns {
		return "", errNoHub
	}
	var conn net.Conn
	err := inNetns("/run/netns/"+l.hub, func() error {
		var err error
		conn, err = net.DialTimeout("tcp", net.JoinHostPort(vipAddr, webPort), timeout)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("%w: %w", errNoWebAnswer, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, "GET / HTTP/1.0\r\nHost: "+vipAddr+"\r\n\r\n"); err != nil {
		return "", fmt.Errorf("%w: %w", errNoWebAnswer, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errNoWebAnswer, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: status %d, %v", errNoWebAnswer, resp.StatusCode, err)
	}
	ip := strings.TrimSpace(strings.TrimPrefix(string(body), webPrefix))
	for _, n := range l.nodes {
		if n.ip == ip {
			return n.name, nil
		}
	}
	return "", fmt.Errorf("%w: unexpected answer %q", errNoWebAnswer, strings.TrimSpace(string(body)))
}
