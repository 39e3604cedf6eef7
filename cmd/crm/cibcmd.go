package main

import (
	"fmt"
	"strings"

	"github.com/gocrm/gocrm/cib/store"
)

func init() {
	register(&command{
		name:    "cib",
		summary: "export the whole CIB as XML, or print an empty one",
		run:     runCIB,
	})
}

const cibUsage = `usage: crm cib export [--socket PATH]   print the whole CIB (configuration and status) as XML
       crm cib empty                    print an empty CIB (crm cib empty > FILE; CIB_file=FILE crm ...)
       crm cib new|use|list|diff|commit|delete|reset [NAME]   shadow CIBs (in $CIB_shadow_dir or ~/.cib)
`

func runCIB(e *env, args []string) int {
	co, args, err := takeConnFlags(args)
	if err != nil {
		return fail(e, "cib", err)
	}
	if len(args) != 1 {
		fmt.Fprint(e.stderr, cibUsage)
		return exitUsage
	}
	switch args[0] {
	case "empty":
		printDoc(e, store.Empty().Marshal())
		return exitOK
	case "export":
		b, err := openBackend(e, co)
		if err != nil {
			return fail(e, "cib export", err)
		}
		defer b.Close()
		c, err := b.Read(e.ctx)
		if err != nil {
			return fail(e, "cib export", err)
		}
		printDoc(e, c.Marshal())
		return exitOK
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, cibUsage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "crm cib: unknown command %q\n%s", args[0], cibUsage)
	return exitUsage
}

// printDoc writes an XML document, newline-terminated.
func printDoc(e *env, doc []byte) {
	s := string(doc)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	fmt.Fprint(e.stdout, s)
}
