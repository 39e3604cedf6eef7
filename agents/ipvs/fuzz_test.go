package ipvs

import (
	"errors"
	"testing"

	"github.com/gocrm/gocrm/agents/vip/ocf"
)

func FuzzParseParams(f *testing.F) {
	f.Add("10.0.0.1", "80", "tcp", "wlc", "10.0.0.2:80 weight=3; 10.0.0.3", "300", "24")
	f.Add("fd00::1", "443", "udp", "sh", "[fd00::2]:443 forward=dr", "0", "")
	f.Add("", "", "sctp", "mh", "[::1", "x", "255.255.255.0")
	f.Fuzz(func(t *testing.T, vip, port, proto, sched, rs, persist, gran string) {
		c, err := ParseParams(map[string]string{"vip": vip, "port": port, "protocol": proto, "scheduler": sched,
			"real_servers": rs, "persistent": persist, "persistence_granularity": gran})
		if err != nil {
			var pe *ocf.ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a parameter error", err)
			}
			return
		}
		if !KnownScheduler(c.Service.Scheduler) {
			t.Fatalf("scheduler %q accepted", c.Service.Scheduler)
		}
		for _, r := range c.RealServers {
			if r.Addr.Is4() != (c.Service.Family == 4) {
				t.Fatalf("family mismatch %v", r)
			}
		}
	})
}
