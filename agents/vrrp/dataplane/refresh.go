package dataplane

import (
	"sync"

	"github.com/gocrm/gocrm/agents/vip"
)

// refresher renews the kernel lifetime of masters' installed VIPs off the
// loop goroutine.
//
// An address change takes the kernel's rtnl lock, which other work on the
// host can hold for seconds (network namespaces being torn down, many
// interfaces created or deleted). Were the loop to wait for it after every
// advert, a master's next adverts would be late by as long, and a stall
// longer than the master down interval would let its backups take over
// from a healthy master. The failover lab showed it: a 3.4 s gap in a v2
// master's adverts while namespaces were being deleted on the host. So the
// loop only records what to refresh and carries on; the worker does the
// netlink calls and reports the device indexes back.
//
// Installs at a takeover and removals stay on the loop goroutine: what
// follows them (gratuitous ARPs, the backup state) must come after.
//
// Concurrency: request, results and forget are called by the loop
// goroutine; request and results never wait for the kernel. run is the
// worker, started and ended by the loop (start, stop). io is held by the
// worker across its netlink calls and by forget around a removal, so a
// refresh never re-adds an address the loop has just removed.
type refresher struct {
	addrs vip.AddrLinker

	io sync.Mutex // see above

	mu      sync.Mutex // guards pending and done
	pending map[string]refreshJob
	done    map[string]refreshResult
	wake    chan struct{} // the worker: a job is pending (cap 1)
	ready   chan struct{} // the loop: a result is waiting (cap 1)

	stopc chan struct{}
	wg    sync.WaitGroup
}

// refreshJob is one instance's addresses with the lifetime to renew.
type refreshJob struct {
	gen   uint64 // the instance's mastership generation (see instState.gen)
	devs  []string
	addrs []vip.Addr
}

// refreshResult reports a job: the device index each address was renewed
// on (0: failed, see errs).
type refreshResult struct {
	gen  uint64
	idx  []int
	errs []error
}

func newRefresher(addrs vip.AddrLinker) *refresher {
	return &refresher{
		addrs:   addrs,
		pending: map[string]refreshJob{}, done: map[string]refreshResult{},
		wake: make(chan struct{}, 1), ready: make(chan struct{}, 1),
		stopc: make(chan struct{}),
	}
}

func (r *refresher) start() {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.run()
	}()
}

// stop ends the worker after its current job, dropping pending ones.
func (r *refresher) stop() {
	close(r.stopc)
	r.wg.Wait()
}

// request replaces the instance's pending job (a refresh not yet started
// is superseded by the newer one).
func (r *refresher) request(inst string, j refreshJob) {
	r.mu.Lock()
	r.pending[inst] = j
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// results takes the reports of the jobs done since the last call.
func (r *refresher) results() map[string]refreshResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.done) == 0 {
		return nil
	}
	out := r.done
	r.done = map[string]refreshResult{}
	return out
}

// forget drops the instance's pending job and report and waits for a
// refresh under way to finish; until the returned function is called no
// refresh starts, so the caller can remove the addresses safely.
func (r *refresher) forget(inst string) (release func()) {
	r.io.Lock()
	r.mu.Lock()
	delete(r.pending, inst)
	delete(r.done, inst)
	r.mu.Unlock()
	return r.io.Unlock
}

func (r *refresher) run() {
	for {
		select {
		case <-r.stopc:
			return
		case <-r.wake:
		}
		r.io.Lock()
		r.mu.Lock()
		jobs := r.pending
		r.pending = map[string]refreshJob{}
		r.mu.Unlock()
		for inst, j := range jobs {
			res := r.refresh(j)
			r.mu.Lock()
			r.done[inst] = res
			r.mu.Unlock()
		}
		r.io.Unlock()
		select {
		case r.ready <- struct{}{}:
		default:
		}
	}
}

// refresh renews one job's addresses, looking each device up afresh (it
// may have been recreated since the install).
func (r *refresher) refresh(j refreshJob) refreshResult {
	res := refreshResult{gen: j.gen, idx: make([]int, len(j.addrs)), errs: make([]error, len(j.addrs))}
	for i, a := range j.addrs {
		lk, err := r.addrs.LinkByName(j.devs[i])
		if err == nil {
			err = r.addrs.AddrReplace(lk, a)
		}
		if err != nil {
			res.errs[i] = err
			continue
		}
		res.idx[i] = lk.Index
	}
	return res
}
