package ipvs

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vip/netnslab"
)

// rsServer is an HTTP real server listening inside a namespace.
type rsServer struct {
	mu  sync.Mutex
	srv *http.Server
	wg  sync.WaitGroup
}

func (s *rsServer) start(t *testing.T, lab *netnslab.Lab, addr string) {
	t.Helper()
	var ln net.Listener
	err := vip.InNetns(lab.B, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	}), ReadHeaderTimeout: time.Second}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = srv.Serve(ln)
	}()
}

func (s *rsServer) stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	s.wg.Wait()
}

func waitDests(t *testing.T, f *Fake, k Key, want map[string]int, what string) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for {
		ds, _ := f.Destinations(k)
		got := map[string]int{}
		for _, d := range ds {
			got[AddrPort(d.Addr, d.Port)] = d.Weight
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: destinations %v, want %v", what, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNetnsHealthCheck runs HTTP_GET checks from namespace A against real
// servers in namespace B: a dead server is taken out, a revived one put
// back; with every server dead the sorry server is installed.
func TestNetnsHealthCheck(t *testing.T) {
	lab := netnslab.New(t, "lvschk", "10.99.20.1/24", "10.99.20.2/24")
	if _, err := netnslab.Run(lab.NameB, "ip", "addr", "add", "10.99.20.3/24", "dev", "vb"); err != nil {
		t.Fatal(err)
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := vip.InNetns(lab.A, func() error {
			var d net.Dialer
			var err error
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	var rs1, rs2 rsServer
	rs1.start(t, lab, "10.99.20.2:8080")
	rs2.start(t, lab, "10.99.20.3:8080")
	defer rs1.stop()
	defer rs2.stop()

	f := NewFake()
	a := New(Deps{Open: func() (IPVS, error) { return f, nil }, Dial: dial})
	if err := a.Validate(map[string]string{
		"vip": "10.99.20.100", "port": "80", "forward": "nat", "check": "http", "check_url": "/health",
		"delay_loop": "1", "connect_timeout": "1", "retry": "0",
		"real_servers": "10.99.20.2:8080 weight=2; 10.99.20.3:8080", "sorry_server": "10.99.20.1:8080",
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	k := a.Config().Service.Key
	all := map[string]int{"10.99.20.2:8080": 2, "10.99.20.3:8080": 1}
	waitDests(t, f, k, all, "start")

	start := time.Now()
	rs1.stop()
	waitDests(t, f, k, map[string]int{"10.99.20.3:8080": 1}, "rs1 dead")
	t.Logf("dead real server removed after %v", time.Since(start).Round(10*time.Millisecond))

	start = time.Now()
	rs1.start(t, lab, "10.99.20.2:8080")
	waitDests(t, f, k, all, "rs1 back")
	t.Logf("revived real server restored after %v", time.Since(start).Round(10*time.Millisecond))

	rs1.stop()
	rs2.stop()
	waitDests(t, f, k, map[string]int{"10.99.20.1:8080": 1}, "all dead -> sorry server")
	rs2.start(t, lab, "10.99.20.3:8080")
	waitDests(t, f, k, map[string]int{"10.99.20.3:8080": 1}, "quorum back -> sorry server out")

	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if svcs, _ := f.Services(); len(svcs) != 0 {
		t.Fatalf("after stop: %v", svcs)
	}
}
