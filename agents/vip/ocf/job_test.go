package ocf

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestJob(t *testing.T) {
	var nilJob *Job
	nilJob.Stop() // no-op

	started := make(chan struct{})
	var ended atomic.Bool
	j := Go(func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		ended.Store(true)
	})
	<-started
	if ended.Load() {
		t.Fatal("job ended before Stop")
	}
	j.Stop()
	if !ended.Load() {
		t.Fatal("Stop returned before the job's function did")
	}
	j.Stop() // second Stop is harmless

	// A job that ends by itself can still be stopped.
	j = Go(func(context.Context) {})
	j.Stop()
}
