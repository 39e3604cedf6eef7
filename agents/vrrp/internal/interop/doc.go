// Package interop holds the live interoperability tests between this
// VRRP implementation (packet, router) and a real keepalived 2.2.7 running
// in throwaway network namespaces. It has no non-test code; the tests skip
// unless run as root with keepalived, tcpdump, ip and python3 installed,
// and in -short mode.
package interop
