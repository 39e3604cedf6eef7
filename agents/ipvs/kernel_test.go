package ipvs

import (
	"errors"
	"os"
	"testing"

	"github.com/gocrm/gocrm/agents/vip/ocf"
)

// TestOpenWithoutIPVS checks the probe on a kernel without IP_VS, where
// moby/ipvs alone would report success for every call (network-agents.md
// §3.2 gotcha 1). On kernels with IPVS see test/ipvsvm.
func TestOpenWithoutIPVS(t *testing.T) {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		t.Skip("this kernel has IPVS; the missing-IPVS path is not testable here")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (moby/ipvs runs modprobe)")
	}
	k, err := Open("")
	if err == nil {
		k.Close()
		t.Fatal("Open succeeded on a kernel without IPVS")
	}
	if !errors.Is(err, ocf.ErrNotInstalled) || ocf.ExitCode(err) != ocf.RCErrInstalled {
		t.Fatalf("error %v does not map to rc 5", err)
	}
	a := New(Deps{Open: KernelOpener()})
	if err := a.Validate(map[string]string{"vip": "10.99.0.50", "port": "80"}); err != nil {
		t.Fatal(err)
	}
	if rc, err := a.Monitor(t.Context()); rc != ocf.RCErrInstalled {
		t.Fatalf("monitor rc %d (%v), want 5", rc, err)
	}
}
