package check

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHTTPCheck(t *testing.T) {
	var gotHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost = r.Host
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte("healthy\n"))
		case "/503":
			w.WriteHeader(503)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	sum := md5.Sum([]byte("healthy\n"))
	digest := hex.EncodeToString(sum[:])
	ctx := context.Background()
	cases := []struct {
		c  HTTPCheck
		ok bool
	}{
		{HTTPCheck{Path: "/ok"}, true},
		{HTTPCheck{Path: "/ok", Digest: digest}, true},
		{HTTPCheck{Path: "/ok", Digest: strings.Repeat("0", 32)}, false},
		{HTTPCheck{Path: "/missing"}, false},
		{HTTPCheck{Path: "/missing", Status: []StatusRange{{400, 499}}}, true},
		{HTTPCheck{Path: "/503"}, false},
		{HTTPCheck{Path: "/503", Status: []StatusRange{{200, 299}, {503, 503}}}, true},
	}
	for _, tc := range cases {
		c := tc.c
		c.Addr, c.Timeout = addr, 2*time.Second
		r := c.Check(ctx)
		if r.OK != tc.ok {
			t.Errorf("%+v: ok=%v err=%v", tc.c, r.OK, r.Err)
		}
	}
	c := HTTPCheck{Addr: addr, Path: "/ok", VirtualHost: "www.example.test", Timeout: time.Second}
	if r := c.Check(ctx); !r.OK || gotHost != "www.example.test" {
		t.Fatalf("virtualhost: %v host %q", r.Err, gotHost)
	}
	// Dead server.
	srv.Close()
	if r := (&HTTPCheck{Addr: addr, Path: "/ok", Timeout: time.Second}).Check(ctx); r.OK || r.Err == nil {
		t.Fatal("closed server passed")
	}
}

func TestSSLCheck(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("x")) }))
	defer srv.Close()
	c := &HTTPCheck{Addr: strings.TrimPrefix(srv.URL, "https://"), TLS: true, Path: "/", Timeout: 2 * time.Second}
	if r := c.Check(context.Background()); !r.OK {
		t.Fatal(r.Err)
	}
	if c.Kind() != "SSL_GET" {
		t.Fatal(c.Kind())
	}
}

func TestTCPCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	c := &TCPCheck{Addr: ln.Addr().String(), Timeout: time.Second}
	if r := c.Check(context.Background()); !r.OK {
		t.Fatal(r.Err)
	}
	ln.Close()
	if r := c.Check(context.Background()); r.OK {
		t.Fatal("closed port passed")
	}
}

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "check.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMiscCheck(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh")
	}
	ctx := context.Background()
	cases := []struct {
		body    string
		dynamic bool
		ok      bool
		weight  int
		hasW    bool
	}{
		{"exit 0", false, true, 0, false},
		{"exit 1", false, false, 0, false},
		{"exit 5", false, false, 0, false},
		{"exit 1", true, false, 0, false},
		{"exit 2", true, true, 0, true},
		{"exit 12", true, true, 10, true},
		{"exit 0", true, true, 0, false},
	}
	for _, tc := range cases {
		c := &MiscCheck{Command: []string{script(t, tc.body), "arg"}, Timeout: 5 * time.Second, Dynamic: tc.dynamic}
		r := c.Check(ctx)
		if r.OK != tc.ok || r.HasWeight != tc.hasW || r.Weight != tc.weight {
			t.Errorf("%q dynamic=%v: %+v", tc.body, tc.dynamic, r)
		}
	}
	c := &MiscCheck{Command: []string{script(t, "sleep 10")}, Timeout: 200 * time.Millisecond}
	start := time.Now()
	if r := c.Check(ctx); r.OK || !strings.Contains(r.Err.Error(), "timed out") {
		t.Fatalf("timeout: %+v", r)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatal("timeout not enforced")
	}
}

func TestParseStatusRanges(t *testing.T) {
	r, err := ParseStatusRanges("200-299 400-499, 503 505")
	if err != nil || len(r) != 4 || r[2] != (StatusRange{503, 503}) {
		t.Fatalf("%v %v", r, err)
	}
	for _, bad := range []string{"abc", "299-200", "99", "200-600", "-"} {
		if _, err := ParseStatusRanges(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseStatusRanges(f *testing.F) {
	for _, s := range []string{"200-299", "503", "200-299 400-499", "", "1-2-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseStatusRanges(s)
		if err != nil {
			return
		}
		for _, x := range r {
			if x.Lo < 100 || x.Hi > 599 || x.Lo > x.Hi {
				t.Fatalf("%q -> %v", s, r)
			}
		}
	})
}
