package heartbeat

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Authkeys is a parsed /etc/ha.d/authkeys file.
//
//	file := "auth" <n> { <n> <method> [<secret>] }     n := 1..15, unique
//	method := crc | md5 | sha1                          (md5/sha1 need a secret)
//
// Lines whose first non-blank character is "#" are comments; a "#" inside a
// secret is part of the secret.
type Authkeys struct {
	File string
	// Auth is the index named by the auth line, as written ("" when the file
	// has no auth line); AuthLine is its line.
	Auth     string
	AuthLine int
	// Keys maps the key index to its method and secret (the last valid line
	// for an index wins).
	Keys map[int]AuthKey
	// Problems lists everything heartbeat would reject, in file order with
	// whole-file problems (mode) first and the auth checks last.
	Problems []Problem
}

// AuthKey is one key line.
type AuthKey struct {
	Line   int
	Method string // crc, md5 or sha1
	Secret Secret
}

// Problem is one authkeys validation finding.
type Problem struct {
	Line int // 0: whole file
	Msg  string
}

// Secret is key material. Its String and GoString methods redact it so that
// it never reaches logs or status output by accident; use string(s) to get
// the value.
type Secret string

// String redacts the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the secret.
func (s Secret) GoString() string { return s.String() }

// ParseAuthkeys parses and validates authkeys. mode is the file's mode as
// found on disk (heartbeat refuses files readable by group or other; 0600 is
// expected). The returned Authkeys is always non-nil; when it has problems the
// error joins one *LineError (wrapping ErrAuthkeys) per problem, each naming
// file:line.
func ParseAuthkeys(name string, data []byte, mode fs.FileMode) (*Authkeys, error) {
	a := &Authkeys{File: name, Keys: map[int]AuthKey{}}
	add := func(line int, format string, args ...any) {
		a.Problems = append(a.Problems, Problem{line, fmt.Sprintf(format, args...)})
	}
	if perm := mode.Perm(); perm&0o077 != 0 {
		if perm&0o044 != 0 {
			add(0, "mode %03o: must not be readable by group/other (600)", perm)
		} else {
			add(0, "mode %03o: must not be accessible by group/other (600)", perm)
		}
	}
	seen := map[int]int{}
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		text := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if text == "" || text[0] == '#' {
			continue
		}
		f := strings.Fields(text)
		if f[0] == "auth" {
			if a.AuthLine != 0 {
				add(line, "duplicate auth line (first at line %d)", a.AuthLine)
				continue
			}
			if len(f) != 2 {
				add(line, "auth line needs exactly one key index")
				if len(f) < 2 {
					continue
				}
			}
			a.Auth, a.AuthLine = f[1], line
			if _, ok := keyIndex(f[1]); !ok {
				add(line, "bad auth index '%s'", printable(f[1]))
			}
			continue
		}
		idx, ok := keyIndex(f[0])
		if !ok {
			add(line, "bad key index '%s'", printable(f[0]))
			continue
		}
		if _, dup := seen[idx]; dup {
			add(line, "duplicate key index %d", idx)
		}
		seen[idx] = line
		if len(f) < 2 {
			add(line, "key %d has no method", idx)
			continue
		}
		method := f[1]
		switch method {
		case "crc", "md5", "sha1":
		default:
			add(line, "unknown method '%s'", printable(method))
			continue
		}
		k := AuthKey{Line: line, Method: method}
		if len(f) > 2 {
			k.Secret = Secret(f[2])
		}
		if len(f) > 3 {
			add(line, "key %d: unexpected text after the secret (secrets cannot contain blanks)", idx)
		}
		switch {
		case method != "crc" && k.Secret == "":
			add(line, "method %s needs a secret", method)
		case method == "crc" && k.Secret != "":
			add(line, "method crc takes no secret")
		}
		a.Keys[idx] = k
	}
	if a.AuthLine == 0 {
		add(0, "no auth line")
	} else if idx, ok := keyIndex(a.Auth); ok {
		if _, found := a.Keys[idx]; !found {
			add(a.AuthLine, "auth %d names no key line", idx)
		}
	}
	return a, a.Err()
}

// Err joins the problems as errors (nil when there are none).
func (a *Authkeys) Err() error {
	var errs []error
	for _, p := range a.Problems {
		errs = append(errs, &LineError{File: a.File, Line: p.Line, Msg: p.Msg, Err: ErrAuthkeys})
	}
	return errors.Join(errs...)
}

// Active returns the key named by the auth line.
func (a *Authkeys) Active() (AuthKey, bool) {
	idx, ok := keyIndex(a.Auth)
	if !ok {
		return AuthKey{}, false
	}
	k, ok := a.Keys[idx]
	return k, ok
}

func keyIndex(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 15 || strings.HasPrefix(s, "+") {
		return 0, false
	}
	return n, true
}

// printable quotes odd bytes so problem texts stay on one line.
func printable(s string) string {
	q := strconv.Quote(s)
	if q[1:len(q)-1] == s {
		return s
	}
	return q
}

// ClusterKeyContext is the fixed context string mixed into the cluster key
// derivation. Changing it changes every derived key.
const ClusterKeyContext = "gocrm/migrate/heartbeat authkeys cluster-key v1"

// ClusterKey is a 32-byte key (AES-256 for memberlist gossip encryption)
// derived from the active authkeys secret. String and GoString print only a
// fingerprint.
type ClusterKey [32]byte

// Bytes returns a copy of the key.
func (k ClusterKey) Bytes() []byte { return append([]byte(nil), k[:]...) }

// Fingerprint is the first 8 bytes of SHA-256(key), hex encoded: safe to show
// and equal on every node that derived the same key.
func (k ClusterKey) Fingerprint() string {
	h := sha256.Sum256(k[:])
	return hex.EncodeToString(h[:8])
}

// String prints the fingerprint only.
func (k ClusterKey) String() string { return "cluster-key:" + k.Fingerprint() }

// GoString prints the fingerprint only.
func (k ClusterKey) GoString() string { return k.String() }

// DeriveClusterKey derives the cluster key from the key the auth line selects:
//
//	key = SHA-256( ClusterKeyContext || 0x00 || secret )
//
// The method (md5/sha1) is not part of the input, so switching the method
// with the same secret keeps the key; every node with the same authkeys
// derives the same key. A file with problems, or an active crc key (no
// secret), is an error: generate a fresh random key instead.
func DeriveClusterKey(a *Authkeys) (ClusterKey, error) {
	if a == nil {
		return ClusterKey{}, fmt.Errorf("derive cluster key: no authkeys: %w", ErrAuthkeys)
	}
	if err := a.Err(); err != nil {
		return ClusterKey{}, fmt.Errorf("derive cluster key: %w", err)
	}
	k, ok := a.Active()
	if !ok {
		return ClusterKey{}, fmt.Errorf("derive cluster key: %s: auth names no key: %w", a.File, ErrAuthkeys)
	}
	if k.Secret == "" {
		return ClusterKey{}, fmt.Errorf("derive cluster key: %s:%d: method %s: %w; generate a new key", a.File, k.Line, k.Method, ErrNoSecret)
	}
	h := sha256.New()
	h.Write([]byte(ClusterKeyContext))
	h.Write([]byte{0})
	h.Write([]byte(k.Secret))
	var out ClusterKey
	copy(out[:], h.Sum(nil))
	return out, nil
}
