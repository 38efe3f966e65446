// Command inventory serves the ordo inventory service: the product catalog
// and stock per SKU. On start it seeds the demo catalog (once, however many
// instances start), then runs the catalog projection and the HTTP API until
// SIGINT or SIGTERM.
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
	"github.com/ordo-platform/ordo/pkg/tracing"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "inventory:", err)
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
	LogLevel       string
	LogFormat      string
	BodyLimit      string
	Retries        int
	SeedTimeout    time.Duration
	ReservationTTL time.Duration
	RejectSKUs     string
}

// loadConfig reads flags and ORDO_INVENTORY_* variables. It returns
// flag.ErrHelp after printing usage for --help.
func loadConfig(args []string, getenv func(string) string, out io.Writer) (Config, *config.Loader, error) {
	var cfg Config
	l := config.New("inventory", "ORDO_INVENTORY_", getenv)
	l.SetOutput(out)
	l.String(&cfg.HTTPAddr, "http-addr", "127.0.0.1:8082", "address the HTTP API listens on")
	l.String(&cfg.DatabaseURL, "database-url", platform.DefaultDatabaseURL, "event store URL (postgres://, or esdb:// / kurrentdb://); a password in it is masked in logs")
	l.String(&cfg.RedisURL, "redis-url", platform.DefaultRedisURL, "Redis URL for the read models")
	l.String(&cfg.RedisPrefix, "redis-prefix", "ordo:inventory:", "prefix of every Redis key this service writes")
	l.Secret(&cfg.IdentitySecret, "identity-secret", "ordo-dev-identity-secret", "HMAC secret the gateway signs Ordo-Identity with")
	l.String(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	l.String(&cfg.LogFormat, "log-format", "json", "json or text")
	l.String(&cfg.BodyLimit, "body-limit", "16K", "largest request body accepted (413 above)")
	l.Int(&cfg.Retries, "retries", 10, "how often a command is retried after a concurrency conflict")
	l.Duration(&cfg.SeedTimeout, "seed-timeout", 30*time.Second, "how long seeding the catalog may take at start")
	l.Duration(&cfg.ReservationTTL, "reservation-ttl", 2*time.Minute, "how long a saga's reservation is held before it lapses (stock.reservation_expired)")
	l.String(&cfg.RejectSKUs, "reject-skus", "", "comma-separated SKUs whose saga requests the participant refuses as unprocessable, so they are parked (a fault to inject in tests; empty: none)")
	if err := l.Parse(args); err != nil {
		return cfg, l, err
	}
	return cfg, l, nil
}

func newLogger(cfg Config, out io.Writer) (*slog.Logger, error) {
	log, err := config.NewLogger(out, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return nil, err
	}
	return log.With("service", "inventory"), nil
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	cfg, l, err := loadConfig(args, getenv, out)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, out)
	if err != nil {
		return err
	}
	log.Info("config", "config", l)
	stopTracing, err := tracing.Setup(ctx, "inventory")
	if err != nil {
		return err
	}
	defer func() {
		if err := stopTracing(context.WithoutCancel(ctx)); err != nil {
			log.Warn("traces not flushed", "err", err)
		}
	}()
	return serve(ctx, cfg, log)
}
