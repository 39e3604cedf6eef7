//go:build linux

package main

import (
	"os"
	"syscall"
)

// mapMinBytes is the smallest file mapFileReadOnly maps; smaller ones are
// read, which is as fast.
const mapMinBytes = 1 << 20

// mapFileReadOnly returns the contents of a regular file, mapped read-only
// into memory when it is large: the pages come straight from the page
// cache (MAP_POPULATE maps them all at once) instead of being copied into
// freshly zeroed heap pages, which for a 40 MB CIB is most of the cost of
// reading it. release unmaps the data; it must not be used afterwards.
// If the file shrinks while mapped, reading past its new end faults: the
// caller reads the data with debug.SetPanicOnFault (see parseCIBData).
func mapFileReadOnly(name string) (data []byte, release func(), err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if size := st.Size(); st.Mode().IsRegular() && size >= mapMinBytes && int64(int(size)) == size {
		data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_POPULATE)
		if err == nil {
			return data, func() { _ = syscall.Munmap(data) }, nil
		}
	}
	data, err = os.ReadFile(name)
	return data, func() {}, err
}
