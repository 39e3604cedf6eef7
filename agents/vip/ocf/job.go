package ocf

import "context"

// Job is a goroutine owned by an agent (background announcements, a
// health-check loop): Go starts it and Stop ends it. The owner calls Stop
// before dropping the Job, so the goroutine never outlives the agent's
// control. A Job's methods may be called from any goroutine.
type Job struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// Go runs f in a new goroutine with a context that Stop cancels. f must
// return promptly once its context is done.
func Go(f func(ctx context.Context)) *Job {
	ctx, cancel := context.WithCancel(context.Background())
	j := &Job{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(j.done)
		f(ctx)
	}()
	return j
}

// Stop cancels the job's context and waits until f has returned. It may
// be called more than once, and on a nil Job (which does nothing).
func (j *Job) Stop() {
	if j == nil {
		return
	}
	j.cancel()
	<-j.done
}
