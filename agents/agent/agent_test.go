package agent

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestParseKey(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Key
		ok   bool
	}{
		{"ocf:gocrm:Dummy", Key{"ocf", "gocrm", "Dummy"}, true},
		{"lsb:nginx", Key{"lsb", "", "nginx"}, true},
		{"systemd:getty@tty1.service", Key{"systemd", "", "getty@tty1.service"}, true},
		{"ocf:Dummy", Key{}, false},
		{"Dummy", Key{}, false},
		{"ocf::Dummy", Key{}, false},
		{":x", Key{}, false},
		{"a:b:c:d", Key{}, false},
	} {
		got, err := ParseKey(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseKey(%q) = %v, %v", c.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrBadKey) {
			t.Errorf("ParseKey(%q) error %v is not ErrBadKey", c.in, err)
		}
		if c.ok && got.String() != c.in {
			t.Errorf("String() = %q, want %q", got.String(), c.in)
		}
	}
}

type nopAgent struct{ Unsupported }

func (nopAgent) Start(context.Context, Call) Result    { return Result{} }
func (nopAgent) Stop(context.Context, Call) Result     { return Result{} }
func (nopAgent) Monitor(context.Context, Call) Result  { return Result{RC: NotRunning} }
func (nopAgent) MetaData(context.Context) Result       { return Result{} }
func (nopAgent) Validate(context.Context, Call) Result { return Result{} }

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	f := func(Env) (Agent, error) { return nopAgent{}, nil }
	b := Key{"ocf", "gocrm", "B"}
	a := Key{"ocf", "gocrm", "A"}
	if err := r.Register(b, f); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(a, f); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(a, f); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := r.Register(Key{Class: "ocf"}, f); !errors.Is(err, ErrBadKey) {
		t.Fatalf("empty type: %v", err)
	}
	if keys := r.Keys(); len(keys) != 2 || keys[0] != a || keys[1] != b {
		t.Fatalf("keys %v", keys)
	}
	got, ok := r.Lookup(a)
	if !ok {
		t.Fatal("lookup failed")
	}
	ag, _ := got(Env{})
	if rc := ag.Promote(context.Background(), Call{}).RC; rc != Unimplemented {
		t.Fatalf("Unsupported.Promote rc %v", rc)
	}
	if _, ok := r.Lookup(Key{"ocf", "gocrm", "C"}); ok {
		t.Fatal("lookup of unknown key succeeded")
	}
}

func TestFromError(t *testing.T) {
	for _, c := range []struct {
		err  error
		want RC
	}{
		{nil, OK},
		{fmt.Errorf("binary ip: %w", ErrNotInstalled), NotInstalled},
		{fmt.Errorf("cidr: %w", ErrNotConfigured), NotConfigured},
		{fmt.Errorf("vip: %w", ErrNotRunning), NotRunning},
		{fmt.Errorf("nic: %w", ErrInvalidParam), ErrArgs},
		{fmt.Errorf("raw socket: %w", ErrPermission), ErrPerm},
		{ErrUnimplemented, Unimplemented},
		{errors.New("boom"), ErrGeneric},
	} {
		r := FromError(c.err)
		if r.RC != c.want {
			t.Errorf("FromError(%v) = %v, want %v", c.err, r.RC, c.want)
		}
		if c.err != nil && r.Reason != c.err.Error() {
			t.Errorf("reason %q", r.Reason)
		}
	}
	if s := RunningPromoted.String(); s != "promoted" {
		t.Errorf("String %q", s)
	}
	if s := RC(77).String(); s != "rc 77" {
		t.Errorf("String %q", s)
	}
	c := Call{Params: map[string]string{"a": "1", "e": ""}}
	if c.Param("a", "x") != "1" || c.Param("e", "d") != "d" || c.Param("z", "d") != "d" {
		t.Error("Call.Param defaults")
	}
}
