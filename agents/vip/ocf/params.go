package ocf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Bool parses the boolean parameter name with value v: empty (after
// trimming) is def; 1/true/yes/on/y and 0/false/no/off/n are accepted in
// any case; anything else is an Invalid error naming the parameter.
func Bool(name, v string, def bool) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return def, nil
	case "1", "true", "yes", "on", "y":
		return true, nil
	case "0", "false", "no", "off", "n":
		return false, nil
	}
	return false, Invalid(name, v, "not a boolean (use true or false)")
}

// Int parses the integer parameter name with value v: empty (after
// trimming) is def; otherwise v must be a decimal integer in [lo, hi], or
// the result is an Invalid error naming the parameter and the range.
func Int(name, v string, def, lo, hi int) (int, error) {
	if strings.TrimSpace(v) == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, Invalid(name, v, "must be an integer between %d and %d", lo, hi)
	}
	return n, nil
}

// UnicastIP parses the required address parameter name with the (already
// trimmed) value v: it must be an IPv4 or IPv6 address without a zone,
// and, once an IPv4-mapped IPv6 address is unmapped, neither unspecified,
// multicast nor loopback. Errors are Invalid errors naming the parameter.
func UnicastIP(name, v string) (netip.Addr, error) {
	if v == "" {
		return netip.Addr{}, Invalid(name, "", "required parameter is missing")
	}
	ip, err := netip.ParseAddr(v)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, Invalid(name, v, "not a valid IPv4 or IPv6 address")
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() || ip.IsMulticast() || ip.IsLoopback() {
		return netip.Addr{}, Invalid(name, v, "not a usable unicast address")
	}
	return ip, nil
}

// Configured returns cfg, the configuration an agent's Validate recorded,
// or, when cfg is nil because Validate has not succeeded, an error naming
// agent that wraps ErrNotConfigured (rc 6).
func Configured[C any](cfg *C, agent string) (*C, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%s: %w: Validate has not succeeded", agent, ErrNotConfigured)
	}
	return cfg, nil
}
