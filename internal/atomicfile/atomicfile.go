// Package atomicfile replaces small files so that a reader (or a crash) sees
// either the old content or the new, never a torn write: the data goes to
// a temporary file in the same directory, is synced, renamed over the
// target, and the directory is synced. Used for the shell's shadow CIBs,
// agents' generated configuration, the daemon's incarnation counter, the
// sandbox state and the CTS lab's clock offsets.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data. An existing file keeps its permission
// bits; a new one gets perm. Concurrent Writes to the same path are safe
// (each uses its own temporary file; the last rename wins). Errors name
// the path.
func Write(path string, data []byte, perm os.FileMode) error {
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(name, perm)
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		_ = os.Remove(name)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	// Make the rename itself durable; a directory that cannot be opened
	// or synced (some filesystems refuse) does not undo the write.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
