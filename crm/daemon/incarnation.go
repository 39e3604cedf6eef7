package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/internal/atomicfile"
)

// IncarnationFile, below the data directory, keeps the membership
// incarnation the last start used.
const IncarnationFile = "incarnation"

// nextIncarnation returns the membership incarnation for this start: the
// wall clock in nanoseconds, but always above the value the previous start
// on the same data directory used, which it then records. Two-node mode
// hides a peer whose incarnation is not above the one it fenced
// (visibleMembers), so without the record a node whose clock was set back
// between two starts (a bad RTC before NTP) would stay hidden after its
// restart. A record that cannot be parsed is reported and replaced (the
// clock alone is then used); a record that cannot be read or written is an
// error, since the guarantee would silently be lost.
func nextIncarnation(dir string, now time.Time, log *slog.Logger) (uint64, error) {
	p := filepath.Join(dir, IncarnationFile)
	inc := uint64(now.UnixNano())
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return 0, fmt.Errorf("incarnation: %w", err)
	default:
		prev, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if perr != nil {
			log.Warn("incarnation record unreadable, using the clock alone", "file", p, "err", perr)
		} else if prev >= inc {
			log.Warn("clock is behind the previous start's incarnation; counting on from it",
				"file", p, "previous", prev, "clock", inc)
			inc = prev + 1
		}
	}
	if err := atomicfile.Write(p, []byte(strconv.FormatUint(inc, 10)+"\n"), 0o600); err != nil {
		return 0, fmt.Errorf("incarnation: %w", err)
	}
	return inc, nil
}
