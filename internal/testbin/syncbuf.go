package testbin

import (
	"bytes"
	"sync"
)

// SyncBuffer is a bytes.Buffer for output that one goroutine writes while
// another reads it: a child process's stdout and stderr (copied by exec's
// goroutine) or a logger's sink, read by the test. The zero value is an
// empty buffer ready to use.
//
// Concurrency: Write, String and Len may be called from any goroutines.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns a copy of everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Len returns the number of bytes written so far.
func (s *SyncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}
