//go:build !linux

package main

import "os"

// mapFileReadOnly reads a file (only Linux maps large ones, see
// mapfile_linux.go); release does nothing.
func mapFileReadOnly(name string) (data []byte, release func(), err error) {
	data, err = os.ReadFile(name)
	return data, func() {}, err
}
