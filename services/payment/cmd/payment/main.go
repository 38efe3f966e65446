// Command payment runs the payment service: capture, refund and reconcile
// payments against the payment provider, and the payments read model.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ordo-platform/ordo/pkg/config"
	"github.com/ordo-platform/ordo/pkg/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "payment:", err)
		os.Exit(1)
	}
}

// settings is the service's one config struct.
type settings struct {
	HTTPAddr        string
	DatabaseURL     string
	RedisURL        string
	RedisPrefix     string
	IdentitySecret  string
	ProviderURL     string
	ProviderTimeout time.Duration
	ProviderTries   int
	BreakerFailures int
	BreakerOpenFor  time.Duration
	ReconcileEvery  time.Duration
	LogLevel        string
	LogFormat       string
}

func load(args []string, getenv func(string) string, out io.Writer) (settings, *config.Loader, error) {
	var s settings
	l := config.New("payment", "ORDO_PAYMENT_", getenv)
	l.SetOutput(out)
	l.String(&s.HTTPAddr, "http-addr", "127.0.0.1:8083", "address to serve HTTP on")
	l.Secret(&s.DatabaseURL, "database-url", platform.DefaultDatabaseURL, "event store URL (postgres:// or esdb://)")
	l.Secret(&s.RedisURL, "redis-url", platform.DefaultRedisURL, "Redis URL for read models")
	l.String(&s.RedisPrefix, "redis-prefix", "ordo:payment:", "prefix of every Redis key")
	l.Secret(&s.IdentitySecret, "identity-secret", "ordo-dev-identity-secret", "secret the gateway signs identities with")
	l.String(&s.ProviderURL, "provider-url", "http://127.0.0.1:8090", "payment provider base URL")
	l.Duration(&s.ProviderTimeout, "provider-timeout", 2*time.Second, "timeout of one provider call")
	l.Int(&s.ProviderTries, "provider-attempts", 3, "provider calls per operation at most (retries on errors and timeouts)")
	l.Int(&s.BreakerFailures, "breaker-failures", 5, "failed provider calls in a row that open the breaker")
	l.Duration(&s.BreakerOpenFor, "breaker-open-for", 10*time.Second, "how long the breaker stays open before a trial call")
	l.Duration(&s.ReconcileEvery, "reconcile-every", 10*time.Second, "how often unknown outcomes and due refunds are reconciled")
	l.String(&s.LogLevel, "log-level", "info", "debug, info, warn or error")
	l.String(&s.LogFormat, "log-format", "json", "json or text")
	if err := l.Parse(args); err != nil {
		return s, l, err
	}
	switch {
	case s.ProviderTries < 1:
		return s, l, fmt.Errorf("provider-attempts is %d; it must be at least 1", s.ProviderTries)
	case s.BreakerFailures < 1:
		return s, l, fmt.Errorf("breaker-failures is %d; it must be at least 1", s.BreakerFailures)
	case s.ReconcileEvery <= 0 || s.ProviderTimeout <= 0 || s.BreakerOpenFor <= 0:
		return s, l, errors.New("provider-timeout, breaker-open-for and reconcile-every must be positive")
	}
	return s, l, nil
}
