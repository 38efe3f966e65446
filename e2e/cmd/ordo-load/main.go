// Command ordo-load is ordo's load generator: it sends a workload of shop
// traffic (browse-heavy, checkout-heavy or mixed) to the gateway at a fixed
// rate, in the open model, and writes what the platform sustained as a
// Markdown summary and a self-contained HTML report with plots.
//
// Without -gateway-url it starts the platform itself through the launcher
// on free ports (a fresh ordo_load database), with one account per
// shopper and the gateway's rate limits lifted, and stops it afterwards.
// `make bench` runs it that way; `ordo-load -help` explains every flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "ordo-load:", err)
		os.Exit(1)
	}
}
