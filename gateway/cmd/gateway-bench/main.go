// Command gateway-bench measures what the gateway costs on the read path:
// GET /products straight from the inventory service against GET
// /api/v1/products through the gateway, the gateway against a minimal
// proxy (a standard-library forward to the same inventory service in a
// process of its own, with nothing else: the cost of the extra HTTP hop
// alone), the gateway with its rate limits and circuit breakers on against
// off, and (when it started the platform itself) against a bare echo
// handler, in the bench's own process, doing the same Redis read with no
// middleware. It starts the platform with the launcher on free ports (or
// takes the three URLs; the minimal proxy it always starts itself), drives
// a closed loop of GETs at a fixed concurrency for a fixed time per
// target, once with many workers (throughput) and once with one (the
// latency added without queueing), and prints Markdown tables with the
// command, the machine and the date, judged against the gateway's targets.
//
// Run a short smoke test with `go run ./gateway/cmd/gateway-bench
// -duration 2s`; take real numbers on a quiet machine only.
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
	if child, err := childMain(); child {
		if err != nil {
			fmt.Fprintln(os.Stderr, "gateway-bench:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "gateway-bench:", err)
		os.Exit(1)
	}
}
