// Package golden loads the keepalived golden VRRP vectors
// (../shared/vrrp/vrrp-keepalived.pcap and its .index, vrrp.md §7) for
// tests, skipping the calling test when the shared directory is absent.
// Functions are safe for concurrent use.
package golden

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/agents/vrrp/internal/pcapfile"
)

// Packet is one golden frame with its index label.
type Packet struct {
	Num   int    // 1-based position in the capture
	Name  string // e.g. "v2-none advert"
	Frame []byte // Ethernet frame
}

// PcapPath returns the path of the golden capture: ../shared/vrrp relative
// to the repository root (the directory holding go.mod above the working
// directory).
func PcapPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("golden: working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "vrrp", "vrrp-keepalived.pcap"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("golden: no go.mod above the working directory")
		}
		dir = parent
	}
}

// ErrAbsent reports that ../shared (or the capture in it) is not there.
var ErrAbsent = errors.New("golden vectors absent")

// Load returns every packet listed in the .index, skipping tb if the
// capture is absent and failing it if the files are inconsistent.
func Load(tb testing.TB) []Packet {
	tb.Helper()
	ps, err := Read()
	if errors.Is(err, ErrAbsent) {
		tb.Skipf("golden vectors unavailable (needs ../shared next to the repository): %v", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return ps
}

// Read is Load without a testing.TB (for fuzz seed corpora).
func Read() ([]Packet, error) {
	path, err := PcapPath()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAbsent, err)
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrAbsent, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read golden capture: %w", err)
	}
	idx, err := os.ReadFile(path + ".index")
	if err != nil {
		return nil, fmt.Errorf("read golden index: %w", err)
	}
	f, err := pcapfile.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if f.LinkType != pcapfile.LinkTypeEthernet {
		return nil, fmt.Errorf("%s: link type %d, want Ethernet", path, f.LinkType)
	}
	var out []Packet
	sc := bufio.NewScanner(bytes.NewReader(idx))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		num, name, ok := strings.Cut(text, " ")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 1 || n > len(f.Records) {
			return nil, fmt.Errorf("%s.index:%d: bad entry %q (capture has %d packets)", path, line, text, len(f.Records))
		}
		out = append(out, Packet{Num: n, Name: name, Frame: f.Records[n-1].Data})
	}
	if len(out) != len(f.Records) {
		return nil, fmt.Errorf("%s.index lists %d packets, capture has %d", path, len(out), len(f.Records))
	}
	return out, nil
}
