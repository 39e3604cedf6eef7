package keepalived

import (
	"errors"
	"strings"
	"testing"
)

func TestErrorFormatting(t *testing.T) {
	e := &Error{Pos: Pos{File: "/etc/k.conf", Line: 7}, Field: "vrrp_instance A: priority", Err: ErrRange, Msg: "0 not in 1..255"}
	if got := e.Error(); got != "/etc/k.conf:7: vrrp_instance A: priority: value out of range: 0 not in 1..255" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&Error{Err: ErrInclude}).Error(); got != "include failed" {
		t.Errorf("bare Error() = %q", got)
	}
	if (Pos{}).String() != "-" || (Pos{}).IsValid() {
		t.Errorf("zero Pos")
	}
	l := ErrorList{e, {Pos: Pos{File: "x", Line: 1}, Err: ErrSyntax}}
	if !errors.Is(l, ErrRange) || !errors.Is(l, ErrSyntax) || errors.Is(l, ErrValue) {
		t.Errorf("errors.Is through ErrorList")
	}
	var got *Error
	if !errors.As(l, &got) || got != e {
		t.Errorf("errors.As")
	}
	if s := l.Error(); !strings.HasPrefix(s, "2 errors:\n\t/etc/k.conf:7:") || !strings.HasSuffix(s, "\n\tx:1: syntax error") {
		t.Errorf("list = %q", s)
	}
	if (ErrorList{}).Error() != "no errors" || ErrorList(l[:1]).Error() != e.Error() {
		t.Errorf("short lists")
	}
	w := Warning{Pos: Pos{File: "f", Line: 2}, Field: "k", Msg: "m"}
	if w.String() != "f:2: k: m" || (Warning{Msg: "m"}).String() != "m" {
		t.Errorf("warning = %q", w.String())
	}
}

func TestErrorCap(t *testing.T) {
	src := "global_defs {\n" + strings.Repeat("vrrp_version 9\n", 2*maxErrors) + "}\n"
	_, err := parseSrc(t, src)
	var l ErrorList
	if !errors.As(err, &l) || len(l) != maxErrors {
		t.Fatalf("errors = %d", len(l))
	}
}

func TestSecretRedaction(t *testing.T) {
	s := Secret("hunter22")
	if s.String() != "<redacted>" || s.GoString() != `"<redacted>"` || s.Reveal() != "hunter22" || Secret("").String() != "" {
		t.Errorf("secret formatting")
	}
}

func TestParseReturnsPartialConfig(t *testing.T) {
	cfg, err := parseSrc(t, instSrc("priority 900\nfrob")+"global_defs { router_id r }\n")
	if err == nil || cfg == nil || cfg.Instance("VI_1") == nil || cfg.Global.RouterID.V != "r" || len(cfg.Warnings) != 1 {
		t.Fatalf("partial config: err %v cfg %+v", err, cfg)
	}
}
