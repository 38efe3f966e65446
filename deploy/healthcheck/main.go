// Command healthcheck is the container health probe for ordo's distroless
// images, which have no shell and no curl: it GETs one URL and exits 0 when
// the answer is 2xx, 1 otherwise. docker compose runs it as
//
//	healthcheck: {test: ["CMD", "/healthcheck", "http://127.0.0.1:8081/readyz"]}
//
// Kubernetes does not need it: its probes make the HTTP call themselves.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if err := check(os.Args[1:], 3*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

// check GETs the one URL in args within timeout and wants a 2xx answer.
func check(args []string, timeout time.Duration) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: healthcheck <url>")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil) //nolint:gosec // G704: the URL is the probe target docker compose passes on the command line, the container's own readiness endpoint
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req) //nolint:gosec // G704: requests only the operator-configured readiness URL from args, never user input
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s: %s", args[0], resp.Status)
	}
	return nil
}
