// Command notify serves the ordo notify service: it follows order and
// payment outcomes in the event store, sends each customer exactly one
// email per order outcome over SMTP (behind a circuit breaker, retried
// while the mail server is away), and serves the notification feed, until
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
		fmt.Fprintln(os.Stderr, "notify:", err)
		os.Exit(1)
	}
}

// Config is every setting of the binary.
type Config struct {
	HTTPAddr        string
	DatabaseURL     string
	RedisURL        string
	RedisPrefix     string
	IdentitySecret  string
	LogLevel        string
	LogFormat       string
	SMTPAddr        string
	SMTPTimeout     time.Duration
	MailpitAPI      string
	MailDomain      string
	MailFrom        string
	BreakerFailures int
	BreakerCooldown time.Duration
	RetryInterval   time.Duration
	MaxBackoff      time.Duration
}

// loadConfig reads flags and ORDO_NOTIFY_* variables. It returns
// flag.ErrHelp after printing usage for --help.
func loadConfig(args []string, getenv func(string) string, out io.Writer) (Config, *config.Loader, error) {
	var cfg Config
	l := config.New("notify", "ORDO_NOTIFY_", getenv)
	l.SetOutput(out)
	l.String(&cfg.HTTPAddr, "http-addr", "127.0.0.1:8084", "address the HTTP API listens on")
	l.String(&cfg.DatabaseURL, "database-url", platform.DefaultDatabaseURL, "event store URL (postgres://, or esdb:// / kurrentdb://); a password in it is masked in logs")
	l.String(&cfg.RedisURL, "redis-url", platform.DefaultRedisURL, "Redis URL for the read model and delivery leases")
	l.String(&cfg.RedisPrefix, "redis-prefix", "ordo:notify:", "prefix of every Redis key this service writes")
	l.Secret(&cfg.IdentitySecret, "identity-secret", "ordo-dev-identity-secret", "HMAC secret the gateway signs Ordo-Identity with")
	l.String(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	l.String(&cfg.LogFormat, "log-format", "json", "json or text")
	l.String(&cfg.SMTPAddr, "smtp-addr", "127.0.0.1:1025", "host:port of the SMTP server (Mailpit in development)")
	l.Duration(&cfg.SMTPTimeout, "smtp-timeout", 10*time.Second, "bound on one SMTP send, dial to QUIT")
	l.String(&cfg.MailpitAPI, "mailpit-api", "http://127.0.0.1:8025", "Mailpit API used to recognise an email already accepted before a crash; none: no check (a crash between acceptance and recording may then resend)")
	l.String(&cfg.MailDomain, "mail-domain", "shop.ordo.test", "customers' addresses are <customer>@<mail-domain>")
	l.String(&cfg.MailFrom, "mail-from", "", "sender address (default: ordo shop <no-reply@<mail-domain>>)")
	l.Int(&cfg.BreakerFailures, "breaker-failures", 3, "consecutive SMTP failures that open the breaker")
	l.Duration(&cfg.BreakerCooldown, "breaker-cooldown", 10*time.Second, "how long the breaker stays open before a trial send")
	l.Duration(&cfg.RetryInterval, "retry-interval", time.Second, "how often unsent notifications are retried (first backoff step)")
	l.Duration(&cfg.MaxBackoff, "max-backoff", time.Minute, "longest wait between attempts of one notification")
	if err := l.Parse(args); err != nil {
		return cfg, l, err
	}
	if cfg.BreakerFailures < 1 {
		return cfg, l, fmt.Errorf("breaker-failures %d: want at least 1", cfg.BreakerFailures)
	}
	return cfg, l, nil
}

func newLogger(cfg Config, out io.Writer) (*slog.Logger, error) {
	log, err := config.NewLogger(out, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return nil, err
	}
	return log.With("service", "notify"), nil
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
	stopTracing, err := tracing.Setup(ctx, "notify")
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
