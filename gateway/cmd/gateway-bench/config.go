package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/ordo-platform/ordo/pkg/config"
)

type settings struct {
	Concurrency, LatencyConcurrency, Rounds int
	Duration, Warmup, Timeout               time.Duration
	// Given all three, the platform is not started: the URLs are measured
	// as they are, beside the minimal proxy in front of InventoryURL.
	InventoryURL, GatewayOnURL, GatewayOffURL string
	DatabaseURL, RedisURL, BinDir, LogFile    string
}

func load(args []string, getenv func(string) string, out io.Writer) (settings, error) {
	var s settings
	l := config.New("gateway-bench", "ORDO_GATEWAY_BENCH_", getenv)
	l.SetOutput(out)
	l.Int(&s.Concurrency, "concurrency", 16, "requests in flight at once (closed loop: each worker sends its next GET when the last answered)")
	l.Int(&s.LatencyConcurrency, "latency-concurrency", 1, "after the throughput phase, every target again at this concurrency, for the latency "+
		"the gateway adds without queueing (0: no second phase)")
	l.Duration(&s.Duration, "duration", 10*time.Second, "measured time per target in each phase")
	l.Int(&s.Rounds, "rounds", 5, "the duration is measured in this many round-robin slices over the targets, so that drift of the machine falls on all alike")
	l.Duration(&s.Warmup, "warmup", time.Second, "unmeasured time per target before it (connections, caches)")
	l.Duration(&s.Timeout, "timeout", 5*time.Second, "deadline of one request (a timeout counts as an error)")
	l.String(&s.InventoryURL, "inventory-url", "", "inventory service base URL; with gateway-on-url and gateway-off-url, the platform is not started (only the minimal proxy, in front of this URL)")
	l.String(&s.GatewayOnURL, "gateway-on-url", "", "gateway with rate limits and breakers on (limits high enough never to reject)")
	l.String(&s.GatewayOffURL, "gateway-off-url", "", "gateway started with --rate-limits=false --breakers=false")
	l.String(&s.DatabaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/ordo_bench?sslmode=disable",
		"database of the platform the bench starts; dropped and made afresh (never name the ordo database)")
	l.String(&s.RedisURL, "redis-url", "redis://127.0.0.1:6379/0", "Redis of the platform the bench starts (keys under a fresh prefix, removed first)")
	l.String(&s.BinDir, "bin-dir", "", "where the platform's binaries are built (a temporary directory when empty)")
	l.String(&s.LogFile, "log-file", "", "the platform's log lines (a temporary file when empty; its path is printed)")
	if err := l.Parse(args); err != nil {
		return s, err
	}
	return s, s.check()
}

func (s settings) check() error {
	var errs []error
	if s.Concurrency < 1 || s.Concurrency > 1024 {
		errs = append(errs, fmt.Errorf("concurrency %d: want 1..1024", s.Concurrency))
	}
	if s.LatencyConcurrency < 0 || s.LatencyConcurrency > 1024 {
		errs = append(errs, fmt.Errorf("latency-concurrency %d: want 0..1024", s.LatencyConcurrency))
	}
	if s.Rounds < 1 || s.Rounds > 1000 {
		errs = append(errs, fmt.Errorf("rounds %d: want 1..1000", s.Rounds))
	} else if s.Duration > 0 && s.Duration/time.Duration(s.Rounds) < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("duration %v in %d rounds: want slices of at least 10ms", s.Duration, s.Rounds))
	}
	if s.Duration <= 0 || s.Warmup < 0 || s.Timeout <= 0 {
		errs = append(errs, errors.New("duration and timeout must be positive, warmup not negative"))
	}
	given := 0
	for _, u := range []string{s.InventoryURL, s.GatewayOnURL, s.GatewayOffURL} {
		if u != "" {
			given++
		}
	}
	// The launcher resets the database it is given: never the one `make run` uses.
	if u, err := url.Parse(s.DatabaseURL); err != nil || strings.Trim(u.Path, "/") == "ordo" {
		errs = append(errs, fmt.Errorf("database-url %q: the bench drops and recreates it; name a database of its own", s.DatabaseURL))
	}
	if given != 0 && given != 3 {
		errs = append(errs, errors.New("give all of inventory-url, gateway-on-url and gateway-off-url, or none (then the bench starts the platform)"))
	}
	return errors.Join(errs...)
}

// external reports whether the URLs were given.
func (s settings) external() bool { return s.InventoryURL != "" }

// phases are the concurrencies measured: the throughput phase's, then the
// latency phase's when it is asked for and differs.
func (s settings) phases() []int {
	if s.LatencyConcurrency == 0 || s.LatencyConcurrency == s.Concurrency {
		return []int{s.Concurrency}
	}
	return []int{s.Concurrency, s.LatencyConcurrency}
}
