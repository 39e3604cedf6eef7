package ocf

import (
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
)

// paramErr checks that err is a ParamError for param with the given text
// and exit code.
func paramErr(t *testing.T, err error, param, text string, rc int) {
	t.Helper()
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Param != param || err.Error() != text || ExitCode(err) != rc {
		t.Errorf("got %v (rc %d), want %q naming %q with rc %d", err, ExitCode(err), text, param, rc)
	}
}

func TestBool(t *testing.T) {
	for v, want := range map[string]bool{"": true, " ": true, "1": true, "TRUE": true, " yes ": true, "on": true, "y": true,
		"0": false, "False": false, "no": false, "OFF": false, "n": false} {
		if got, err := Bool("b", v, true); err != nil || got != want {
			t.Errorf("Bool(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	if got, err := Bool("b", "", false); err != nil || got {
		t.Errorf("default false: %v %v", got, err)
	}
	_, err := Bool("arp_bg", " maybe", true)
	paramErr(t, err, "arp_bg", `parameter "arp_bg": " maybe": not a boolean (use true or false)`, RCErrArgs)
}

func TestInt(t *testing.T) {
	for v, want := range map[string]int{"": 5, "  ": 5, "0": 0, " 7 ": 7, "10": 10} {
		if got, err := Int("n", v, 5, 0, 10); err != nil || got != want {
			t.Errorf("Int(%q) = %d, %v; want %d", v, got, err, want)
		}
	}
	for _, v := range []string{"11", "-1", "x", "1.5", " 0x3"} {
		_, err := Int("n", v, 5, 0, 10)
		paramErr(t, err, "n", `parameter "n": "`+v+`": must be an integer between 0 and 10`, RCErrArgs)
	}
}

func TestUnicastIP(t *testing.T) {
	for v, want := range map[string]string{"10.0.0.1": "10.0.0.1", "::ffff:10.1.2.3": "10.1.2.3", "fd00::1": "fd00::1"} {
		if got, err := UnicastIP("ip", v); err != nil || got != netip.MustParseAddr(want) {
			t.Errorf("UnicastIP(%q) = %v, %v", v, got, err)
		}
	}
	_, err := UnicastIP("ip", "")
	paramErr(t, err, "ip", `parameter "ip": required parameter is missing`, RCErrArgs)
	for _, v := range []string{"300.1.1.1", "fe80::1%eth0", "host"} {
		_, err := UnicastIP("ip", v)
		paramErr(t, err, "ip", `parameter "ip": "`+v+`": not a valid IPv4 or IPv6 address`, RCErrArgs)
	}
	for _, v := range []string{"0.0.0.0", "::", "224.0.0.1", "ff02::1", "127.0.0.1", "::1", "::ffff:127.0.0.1"} {
		_, err := UnicastIP("vip", v)
		paramErr(t, err, "vip", `parameter "vip": "`+v+`": not a usable unicast address`, RCErrArgs)
	}
}

func TestConfigured(t *testing.T) {
	var none *int
	got, err := Configured(none, "IPaddr2")
	if got != nil || !errors.Is(err, ErrNotConfigured) || ExitCode(err) != RCErrConfigured ||
		err.Error() != "IPaddr2: not configured: Validate has not succeeded" {
		t.Fatalf("nil config: %v %v", got, err)
	}
	n := 3
	if got, err := Configured(&n, "x"); got != &n || err != nil {
		t.Fatalf("config: %v %v", got, err)
	}
}

func TestAgentMeta(t *testing.T) {
	params := []ParamSpec{{Name: "ip", Required: true}}
	want := Meta{Name: "x", Version: "1.0", Short: "s", Long: "l", Params: params,
		Actions: StandardActions("20s", "10s")}.Render()
	if got := AgentMeta("x", "s", "l", params); got != want {
		t.Fatalf("AgentMeta:\n%s\nwant\n%s", got, want)
	}
}

func TestAgentLogger(t *testing.T) {
	AgentLogger(nil, "x").Info("dropped") // must not panic
	var b strings.Builder
	AgentLogger(slog.New(slog.NewTextHandler(&b, nil)), "IPaddr2").Info("hello")
	if !strings.Contains(b.String(), "msg=hello agent=IPaddr2") {
		t.Fatalf("log line %q", b.String())
	}
}
