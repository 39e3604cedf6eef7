// Command ctshttpd is the web server of the CTS fault campaign (package
// test/cts): run by ocf:gocrm:httpd in command mode on the node holding
// the web group, it answers every request with the node's own address so
// that the observer can tell which node answered on the VIP.
//
//	ctshttpd -listen :8080 -vip 10.99.0.100
//
// It exits on SIGTERM/SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gocrm/gocrm/test/cts"
)

func main() {
	listen := flag.String("listen", ":8080", "listen address")
	vip := flag.String("vip", "", "the VIP (not reported as the node's address)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := cts.ServeWeb(ctx, *listen, *vip); err != nil {
		fmt.Fprintln(os.Stderr, "ctshttpd:", err)
		os.Exit(1)
	}
}
