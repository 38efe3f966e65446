// Command order runs the order service: the price projection (catalog
// prices from the inventory service's events), the order projection and
// the HTTP API on 127.0.0.1:8081 by default. Flags override ORDO_ORDER_*
// environment variables; --help lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
		fmt.Fprintln(os.Stderr, "order:", err)
		os.Exit(1)
	}
}

// Config is every setting of the binary.
type Config struct {
	HTTPAddr       string
	DatabaseURL    string
	RedisURL       string
	RedisPrefix    string
	IdentitySecret string
	BodyLimit      string
	PriceSettle    time.Duration
	PaymentTimeout time.Duration
	ReserveTimeout time.Duration
	Saga           bool
	LogLevel       string
	LogFormat      string
}

func loadConfig(args []string, getenv func(string) string, out io.Writer) (Config, *config.Loader, error) {
	var cfg Config
	l := config.New("order", "ORDO_ORDER_", getenv)
	l.SetOutput(out)
	l.String(&cfg.HTTPAddr, "http-addr", "127.0.0.1:8081", "HTTP listen address (:0 picks a free port)")
	l.String(&cfg.DatabaseURL, "database-url", platform.DefaultDatabaseURL, "event store URL (postgres:// or kurrentdb://)")
	l.String(&cfg.RedisURL, "redis-url", platform.DefaultRedisURL, "Redis URL for the read models")
	l.String(&cfg.RedisPrefix, "redis-prefix", "ordo:order:", "prefix of every Redis key this service writes")
	l.Secret(&cfg.IdentitySecret, "identity-secret", "ordo-dev-identity-secret", "HMAC secret the gateway signs Ordo-Identity with")
	l.String(&cfg.BodyLimit, "body-limit", "64K", "largest request body accepted (413 above)")
	l.Duration(&cfg.PriceSettle, "price-settle", time.Second, "how long placing waits for the price catalog to catch up before calling a SKU unknown")
	l.Duration(&cfg.ReserveTimeout, "saga-reservation-timeout", 30*time.Second, "how long the fulfilment saga waits for every line to be reserved before cancelling the order (out_of_stock)")
	l.Bool(&cfg.Saga, "saga", true, "run the order-fulfilment saga in this process; false serves the API and read models only (replicas scaled beside one saga runner)")
	l.Duration(&cfg.PaymentTimeout, "saga-payment-timeout", 30*time.Second, "how long the fulfilment saga waits for a payment's capture before cancelling the order (payment_timeout)")
	l.String(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	l.String(&cfg.LogFormat, "log-format", "json", "json or text")
	if err := l.Parse(args); err != nil {
		return cfg, nil, err
	}
	if cfg.IdentitySecret == "" {
		return cfg, nil, errors.New("config: identity-secret must not be empty")
	}
	return cfg, l, nil
}

func newLogger(cfg Config, out io.Writer) (*slog.Logger, error) {
	return config.NewLogger(out, cfg.LogLevel, cfg.LogFormat)
}
