package heartbeat

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestAuthkeysProblems(t *testing.T) {
	cases := []struct {
		text string
		mode uint32
		want []string // "line:msg"
	}{
		{"auth 1\n1 sha1 s\n", 0o600, nil},
		{"auth 1\n1 sha1 s\n", 0o400, nil},
		{"auth 1\n1 sha1 s\n", 0o620, []string{"0:mode 620: must not be accessible by group/other (600)"}},
		{"auth 1\n1 sha1 s\n", 0o604, []string{"0:mode 604: must not be readable by group/other (600)"}},
		{"auth 1\nauth 2\n1 crc\n", 0o600, []string{"2:duplicate auth line (first at line 1)"}},
		{"auth\n1 crc\n", 0o600, []string{"1:auth line needs exactly one key index", "0:no auth line"}},
		{"auth 1 2\n1 crc\n", 0o600, []string{"1:auth line needs exactly one key index"}},
		{"auth 0\n1 crc\n", 0o600, []string{"1:bad auth index '0'"}},
		{"auth x\n1 crc\n", 0o600, []string{"1:bad auth index 'x'"}},
		{"auth 1\n1 crc secret\n", 0o600, []string{"2:method crc takes no secret"}},
		{"auth 1\n1\n", 0o600, []string{"2:key 1 has no method", "1:auth 1 names no key line"}},
		{"auth 1\n1 md5\n", 0o600, []string{"2:method md5 needs a secret"}},
		{"auth 1\n1 sha1 two words\n", 0o600, []string{"2:key 1: unexpected text after the secret (secrets cannot contain blanks)"}},
		{"auth 1\n0 sha1 a\n+1 sha1 b\n1 SHA1 c\n", 0o600, []string{"2:bad key index '0'", "3:bad key index '+1'", "4:unknown method 'SHA1'", "1:auth 1 names no key line"}},
		{"  # comment\n\tauth 15\r\n15 sha1 a#b\n", 0o600, nil},
		{"auth 1\n1 sha1 \x01\n", 0o600, nil},
		{"", 0o600, []string{"0:no auth line"}},
		{"auth 1\n1 md5 a\n\x7fx sha1 b\n", 0o600, []string{`3:bad key index '"\x7fx"'`}},
	}
	for _, c := range cases {
		a, err := ParseAuthkeys("authkeys", []byte(c.text), fsMode(c.mode))
		var got []string
		for _, p := range a.Problems {
			got = append(got, fmt.Sprintf("%d:%s", p.Line, p.Msg))
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q mode %o:\n got  %q\n want %q", c.text, c.mode, got, c.want)
		}
		if (err == nil) != (len(c.want) == 0) || (err != nil && !errors.Is(err, ErrAuthkeys)) {
			t.Errorf("%q: error %v", c.text, err)
		}
	}
}

func TestAuthkeysSecretsRedacted(t *testing.T) {
	a, err := ParseAuthkeys("authkeys", []byte("auth 2\n1 md5 oldsecret\n2 sha1 newsecret\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, a); strings.Contains(s, "secret") && (strings.Contains(s, "oldsecret") || strings.Contains(s, "newsecret")) {
			t.Errorf("format %s leaks the secret: %s", f, s)
		}
	}
	k, _ := a.Active()
	if string(k.Secret) != "newsecret" || k.Method != "sha1" {
		t.Errorf("active key %v", k)
	}
	key, err := DeriveClusterKey(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, key); !strings.HasPrefix(s, "cluster-key:") || len(s) != len("cluster-key:")+16 {
			t.Errorf("format %s prints %q, want only the fingerprint", f, s)
		}
	}
}

func TestDeriveClusterKey(t *testing.T) {
	parse := func(text string) *Authkeys {
		a, _ := ParseAuthkeys("authkeys", []byte(text), 0o600)
		return a
	}
	k1, err := DeriveClusterKey(parse("auth 1\n1 sha1 3d2f8b9c1e0a4f6e\n"))
	if err != nil {
		t.Fatal(err)
	}
	// independent computation of the documented formula
	want := sha256.Sum256([]byte("gocrm/migrate/heartbeat authkeys cluster-key v1\x003d2f8b9c1e0a4f6e"))
	if [32]byte(k1) != want || len(k1.Bytes()) != 32 {
		t.Errorf("key %x, want %x", k1.Bytes(), want)
	}
	// same secret, other method and index: same key; other secret: other key
	k2, _ := DeriveClusterKey(parse("# x\nauth 7\n7 md5 3d2f8b9c1e0a4f6e\n"))
	k3, _ := DeriveClusterKey(parse("auth 1\n1 sha1 3d2f8b9c1e0a4f6f\n"))
	if k1 != k2 || k1 == k3 || k1.Fingerprint() == k3.Fingerprint() {
		t.Errorf("derivation not a function of the secret only: %v %v %v", k1, k2, k3)
	}
	// rotation: the auth key is used, not the first one
	kr, _ := DeriveClusterKey(parse("auth 2\n1 md5 oldsecret\n2 sha1 newsecret\n"))
	kn, _ := DeriveClusterKey(parse("auth 1\n1 sha1 newsecret\n"))
	if kr != kn {
		t.Error("rotation: the key named by auth must be used")
	}
	if _, err := DeriveClusterKey(parse("auth 1\n1 crc\n")); !errors.Is(err, ErrNoSecret) {
		t.Errorf("crc: %v, want ErrNoSecret", err)
	}
	if _, err := DeriveClusterKey(parse("auth 4\n1 sha1 abc\n")); !errors.Is(err, ErrAuthkeys) {
		t.Errorf("bad file: %v, want ErrAuthkeys", err)
	}
	if _, err := DeriveClusterKey(nil); !errors.Is(err, ErrAuthkeys) {
		t.Errorf("nil: %v", err)
	}
}

func fsMode(m uint32) fs.FileMode { return fs.FileMode(m) }
