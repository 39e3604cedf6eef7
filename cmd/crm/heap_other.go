//go:build !linux

package main

// heapReserve is empty where pages cannot be populated ahead of use (see
// heap_linux.go).
type heapReserve struct{}

// prepareHeap sets nothing aside.
func prepareHeap(n int) heapReserve { return heapReserve{} }

// populate does nothing.
func (heapReserve) populate(stop <-chan struct{}) {}
