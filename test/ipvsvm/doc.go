// Package ipvsvm holds real-kernel IPVS tests for agents/ipvs. The host
// kernel usually has no IP_VS, so run.sh builds this package's test binary
// statically and runs it inside a throwaway QEMU VM with the IPVS modules
// (../shared/tools/ipvs-vm-test.sh). Without /proc/net/ip_vs every test
// skips, so a plain `go test` on the host is harmless.
package ipvsvm
