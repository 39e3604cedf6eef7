// Command gocrm-keepalived is a test harness for the keepalived drop-in
// (agents/vrrp/dropin); in production `crmd keepalived` calls the same
// dropin.Main.
package main

import (
	"context"
	"os"

	"github.com/gocrm/gocrm/agents/vrrp/dropin"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == dropin.GuardCommand {
		os.Exit(dropin.GuardMain(os.Args[2:], os.Stderr))
	}
	os.Exit(dropin.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
