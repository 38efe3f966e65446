package launcher

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// pollEvery is how often /readyz is asked while waiting.
const pollEvery = 100 * time.Millisecond

// waitReady waits until every child answers GET /readyz with 200. It fails
// at once when a child exits, and at the timeout naming each child that is
// not ready with its last answer and the tail of its log.
func waitReady(ctx context.Context, kids []*child, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	last := map[string]string{}
	pending := append([]*child(nil), kids...)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		var still []*child
		for _, c := range pending {
			if !c.running() {
				return fmt.Errorf("%s exited while starting (%s); its last lines:\n%s", c.name, describeExit(c.exitErrNow()), c.log.Tail())
			}
			if last[c.name] = probeReady(ctx, client, c.url); last[c.name] != "" {
				still = append(still, c)
			}
		}
		if pending = still; len(pending) == 0 {
			return nil
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return notReadyError(pending, last, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// probeReady returns "" when url/readyz answers 200, else what it answered.
func probeReady(ctx context.Context, client *http.Client, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
	if err != nil {
		return err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusOK {
		return ""
	}
	return "GET /readyz: " + resp.Status
}

func notReadyError(pending []*child, last map[string]string, timeout time.Duration) error {
	names := make([]string, len(pending))
	var b strings.Builder
	for i, c := range pending {
		names[i] = c.name
		fmt.Fprintf(&b, "\n%s (%s): last answer %q; its last lines:\n%s", c.name, c.url, last[c.name], c.log.Tail())
	}
	return fmt.Errorf("not ready within %v: %s%s", timeout, strings.Join(names, ", "), b.String())
}

// exitErrNow is how the current process exited (nil while running).
func (c *child) exitErrNow() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitErr
}
