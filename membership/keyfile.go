package membership

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/hashicorp/memberlist"
)

// ErrKeyFile is returned (wrapped) for any problem with the gossip key file:
// unsafe permissions, wrong owner, unreadable or malformed content.
var ErrKeyFile = errors.New("gossip key file rejected")

// OwnerCheck decides whether the owner of a key file is acceptable. It gets
// the path (for messages) and the file's Lstat information.
type OwnerCheck func(path string, fi fs.FileInfo) error

// RequireRootOwner is the default OwnerCheck: the file must belong to uid 0.
func RequireRootOwner(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%w: %s: cannot determine owner", ErrKeyFile, path)
	}
	if st.Uid != 0 {
		return fmt.Errorf("%w: %s is owned by uid %d, must be owned by root (uid 0)", ErrKeyFile, path, st.Uid)
	}
	return nil
}

// LoadKeyFile reads gossip keys from path. The file must be a regular file
// (not a symlink) with no group or other permission bits (0600 or 0400) and
// must pass check (RequireRootOwner when check is nil).
//
// Format: one base64-encoded key per line (16, 24 or 32 bytes: AES-128/192/
// 256-GCM); blank lines and lines starting with '#' are ignored. The first key
// is the primary (used to encrypt); the others are accepted for decryption
// only, which allows rolling key rotation. Key material never appears in
// errors or logs.
func LoadKeyFile(path string, check OwnerCheck) ([][]byte, error) {
	if check == nil {
		check = RequireRootOwner
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file (mode %s)", ErrKeyFile, path, fi.Mode())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o, must be 0600 (no group/other access)", ErrKeyFile, path, perm)
	}
	if err := check(path, fi); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	keys, err := parseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKeyFile, path, err)
	}
	return keys, nil
}

func parseKeys(data []byte) ([][]byte, error) {
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("line %d: not valid base64", line)
		}
		if err := memberlist.ValidateKey(k); err != nil {
			return nil, fmt.Errorf("line %d: key is %d bytes, want 16, 24 or 32", line, len(k))
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("no keys found")
	}
	return keys, nil
}

// EncodeKey returns the key file line for key (base64), for tooling that
// generates key files.
func EncodeKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }
