package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"sync/atomic"
	"testing"
)

// FuzzServeConn feeds arbitrary bytes to the request loop as an
// unprivileged, read-only peer. Every newline-terminated line gets exactly
// one well-formed JSON response; a write operation never reaches the
// handler; nothing panics or hangs.
func FuzzServeConn(f *testing.F) {
	f.Add([]byte(`{"op":"status"}` + "\n"))
	f.Add([]byte(`{"op":"cib.get"}` + "\n" + `{"op":"node.fence","node":"n1"}` + "\n"))
	f.Add([]byte(`{"op":"cib.apply","command":{"v":1,"op":"node-state","node":"n1"}}` + "\n"))
	f.Add([]byte("{\n}\n\n" + `{"op":"cluster.wait","timeout_ms":-1}` + "\n"))
	f.Add([]byte(`{"op":"status"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var writes atomic.Int32
		s := &Server{
			Handler: HandlerFunc(func(_ context.Context, req Request) Response {
				if IsWrite(req.Op) {
					writes.Add(1)
				}
				return Response{OK: true}
			}),
			Auth:   GroupAuthorizer{Group: 4242, ReadOnlyForAll: true},
			PeerOf: func(net.Conn) (Peer, error) { return Peer{UID: 1000, GID: 1000}, nil },
		}
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.serveConn(context.Background(), server)
		}()
		go func() {
			_, _ = client.Write(data)
			// half-close is not available on a pipe: the reader below
			// closes the client once it has every expected response
		}()
		want := bytes.Count(data, []byte{'\n'})
		r := bufio.NewReader(client)
		for i := 0; i < want; i++ {
			line, err := r.ReadBytes('\n')
			if err != nil {
				t.Fatalf("response %d of %d: %v", i+1, want, err)
			}
			var resp Response
			if err := json.Unmarshal(line, &resp); err != nil {
				t.Fatalf("response %d is not JSON: %v: %q", i+1, err, line)
			}
			if !resp.OK && resp.Code == "" {
				t.Fatalf("failed response %d without a code: %q", i+1, line)
			}
		}
		_ = client.Close()
		<-done
		if n := writes.Load(); n != 0 {
			t.Fatalf("%d write requests reached the handler for an unprivileged peer", n)
		}
	})
}
