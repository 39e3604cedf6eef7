package keepalived_test

import (
	"errors"
	"fmt"
	"testing/fstest"

	"github.com/gocrm/gocrm/cib/migrate/keepalived"
)

func Example() {
	fsys := fstest.MapFS{
		"etc/keepalived/keepalived.conf": &fstest.MapFile{Data: []byte(`
global_defs {
    router_id lb1
}
include conf.d/*.conf
`)},
		"etc/keepalived/conf.d/web.conf": &fstest.MapFile{Data: []byte(`
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        10.99.0.50/24 dev eth0 label eth0:web
    }
    snmp_magic on
}
`)},
	}
	cfg, err := keepalived.Load(fsys, "etc/keepalived/keepalived.conf", keepalived.Options{Root: "/"})
	if err != nil {
		fmt.Println(err)
		return
	}
	v := cfg.Instance("VI_1")
	fmt.Println(v.Name, v.State.V, v.VirtualRouterID.V, v.Priority.V, v.AdvertInt.V, v.Version.V)
	fmt.Println(v.VirtualIPAddresses[0].Prefix, v.VirtualIPAddresses[0].Label, "at", v.VirtualIPAddresses[0].Pos)
	fmt.Println("password:", v.Authentication.Pass.V)
	for _, w := range cfg.Warnings {
		fmt.Println("warning:", w)
	}
	// Output:
	// VI_1 MASTER 51 100 1s 2
	// 10.99.0.50/24 eth0:web at /etc/keepalived/conf.d/web.conf:13
	// password: <redacted>
	// warning: /etc/keepalived/conf.d/web.conf:15: vrrp_instance VI_1: snmp_magic: unknown keyword, ignored
}

func ExampleParse_errors() {
	_, err := keepalived.Parse("keepalived.conf", []byte(`
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 300
    virtual_ipaddress {
        10.0.0.256
    }
`), keepalived.Options{})
	fmt.Println(errors.Is(err, keepalived.ErrRange), errors.Is(err, keepalived.ErrSyntax))
	fmt.Println(err)
	// Output:
	// true true
	// 3 errors:
	// 	keepalived.conf:2: syntax error: unbalanced '{': block opened here is never closed
	// 	keepalived.conf:4: vrrp_instance VI_1: virtual_router_id: value out of range: 300 not in 1..255
	// 	keepalived.conf:6: vrrp_instance VI_1: virtual_ipaddress: 10.0.0.256: invalid value: "10.0.0.256" is not an IP address or prefix
}
