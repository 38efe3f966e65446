// Command ordo-infra finds or starts the PostgreSQL, Redis and Mailpit that
// ordo needs on this machine, runs a command against them, and stops what it
// started.
//
//	ordo-infra ensure                 start what is missing, print export lines
//	ordo-infra exec -- go test work   ensure, run the command, stop what was started
//	ordo-infra stop                   stop the private instances in the state dir
//	ordo-infra reset                  stop them and delete their data
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	var exit exitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "ordo-infra:", err)
		os.Exit(1)
	}
}
