package testbin

import (
	"testing"
	"time"
)

// Poll calls cond until it returns true, sleeping interval between calls,
// and returns the time elapsed since Poll was called and true; or, once
// cond is still false at a call made after timeout has passed, the
// elapsed time and false. cond is called at least once, and runs on the
// calling goroutine.
func Poll(timeout, interval time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(interval)
	}
}

// WaitFor polls cond like Poll and returns how long it took to hold; when
// it does not hold within timeout, it fails t with "timed out after
// TIMEOUT waiting for WHAT". Call it from the test's goroutine (it may
// call t.Fatalf).
func WaitFor(t testing.TB, timeout, interval time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	took, ok := Poll(timeout, interval, cond)
	if !ok {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
	return took
}
