//go:build linux

package main

import (
	"runtime"
	"runtime/metrics"
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14; not in package
// syscall).
const madvPopulateWrite = 23

// heapReserve is heap address space set aside by prepareHeap: base and
// size of the range, and the bytes allocated when it was set aside.
type heapReserve struct {
	base, size uintptr
	allocs0    uint64
}

// allocsMetric reads the bytes allocated so far (no stop-the-world).
var allocsMetric = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

func heapAllocs() uint64 {
	metrics.Read(allocsMetric)
	if allocsMetric[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return allocsMetric[0].Value.Uint64()
}

// prepareHeap sets about n bytes of heap address space aside for a
// one-shot computation that runs with the collector off (see oneShotGC):
// one large allocation maps the range without touching it, and a
// collection frees it again at once, while the heap is still tiny. The
// allocator then hands these pages out in address order, so the range
// fills from its start as the computation allocates. Below 32 MiB it sets
// nothing aside. It is called by the goroutine running the command.
func prepareHeap(n int) heapReserve {
	if n < 32<<20 {
		return heapReserve{}
	}
	b := make([]byte, n)
	r := heapReserve{base: uintptr(unsafe.Pointer(unsafe.SliceData(b))), size: uintptr(n)}
	b = nil
	runtime.GC()
	r.allocs0 = heapAllocs()
	return r
}

// populate faults the part of the range not yet allocated from into
// memory, 1 MiB at a time, until it is done or stop is closed. It runs on
// its own goroutine while the computation, on another core, allocates
// from the same range: each 4 KiB page the computation first writes
// otherwise costs it a page fault (for a 42 MB CIB the scheduler takes
// about 15,000 after parsing). MADV_POPULATE_WRITE only maps pages that
// are not mapped yet (as zero pages, as a first write would); it never
// changes memory contents, so racing with the allocator is harmless.
// Before Linux 5.14 the first call fails and populate returns.
func (r heapReserve) populate(stop <-chan struct{}) {
	if r.size == 0 {
		return
	}
	const step = 1 << 20
	// Start a little above what has been allocated from the range so far
	// (allocations are not perfectly dense).
	used := uintptr(heapAllocs()-r.allocs0) + 4<<20
	for off := used &^ (step - 1); off < r.size; off += step {
		select {
		case <-stop:
			return
		default:
		}
		n := min(step, r.size-off)
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, r.base+off, n, madvPopulateWrite); errno != 0 {
			return
		}
	}
}
