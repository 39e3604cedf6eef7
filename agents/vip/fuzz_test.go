package vip

import (
	"errors"
	"testing"

	"github.com/gocrm/gocrm/agents/vip/ocf"
)

func FuzzParseParams(f *testing.F) {
	f.Add("10.0.0.1", "24", "eth0", "vip", "+", "5", "forever", "30")
	f.Add("fd00::1", "64", "", "", "", "0", "0", "forever")
	f.Add("1.2.3.4", "255.255.0.0", "x", "eth0:x", "none", "-1", "abc", "")
	f.Fuzz(func(t *testing.T, ip, mask, nic, label, brd, count, pref, valid string) {
		c, err := ParseParams(map[string]string{"ip": ip, "cidr_netmask": mask, "nic": nic, "label": label,
			"broadcast": brd, "arp_count": count, "preferred_lft": pref, "valid_lft": valid})
		if err != nil {
			var pe *ocf.ParamError
			if !errors.As(err, &pe) || ocf.ExitCode(err) != ocf.RCErrArgs {
				t.Fatalf("error %v is not a parameter error", err)
			}
			return
		}
		if c.ValidLft != Forever && c.PreferredLft > c.ValidLft {
			t.Fatalf("preferred %d > valid %d", c.PreferredLft, c.ValidLft)
		}
		if c.Nic != "" && len(c.Label()) > 15 {
			t.Fatalf("label %q too long", c.Label())
		}
	})
}
