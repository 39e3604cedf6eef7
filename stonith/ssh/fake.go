package ssh

import (
	"context"
	"slices"
	"sync"
)

// FakeRunner records argument vectors and answers from a function; it
// never runs anything. It is safe for concurrent use.
type FakeRunner struct {
	mu    sync.Mutex
	calls [][]string
	// Answer decides the result of each call (exit 0 if nil).
	Answer func(argv []string) (int, string, error)
}

// Run implements Runner.
func (f *FakeRunner) Run(ctx context.Context, argv []string) (int, string, error) {
	if err := ctx.Err(); err != nil {
		return 0, "", err
	}
	f.mu.Lock()
	f.calls = append(f.calls, slices.Clone(argv))
	answer := f.Answer
	f.mu.Unlock()
	if answer == nil {
		return 0, "", nil
	}
	return answer(argv)
}

// Calls returns the recorded argument vectors.
func (f *FakeRunner) Calls() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([][]string, len(f.calls))
	for i, c := range f.calls {
		out[i] = slices.Clone(c)
	}
	return out
}
