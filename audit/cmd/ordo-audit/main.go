// Command ordo-audit checks the platform's invariants once it is quiet:
// every order confirmed or cancelled, stock never negative and settled as
// its orders were, money in the provider's ledger matching the confirmed
// orders, at most one email per order outcome, and every stream intact.
// It prints a report (or JSON with --json) and exits 1 when any invariant
// is broken, 2 when it could not audit, 0 when all hold.
package main

import (
	"context"
	"encoding/json"
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
	"github.com/ordo-platform/ordo/pkg/devinfra"
	"github.com/ordo-platform/ordo/pkg/platform"

	"github.com/ordo-platform/ordo/audit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if code := exitCode(err); code != 0 {
		if !errors.Is(err, errViolations) {
			fmt.Fprintln(os.Stderr, "ordo-audit:", err)
		}
		os.Exit(code)
	}
}

// errViolations means the audit ran and found broken invariants.
var errViolations = errors.New("invariants violated")

// exitCode: 0 all hold (or --help), 1 violations, 2 the audit could not run.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errViolations):
		return 1
	}
	return 2
}

// Config is every setting of the binary.
type Config struct {
	DatabaseURL  string
	ProviderURL  string
	MailpitURL   string
	Quiet        time.Duration
	QuietTimeout time.Duration
	Timeout      time.Duration
	JSON         bool
}

// loadConfig reads flags and ORDO_AUDIT_* variables.
func loadConfig(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	var cfg Config
	l := config.New("ordo-audit", "ORDO_AUDIT_", getenv)
	l.SetOutput(out)
	l.String(&cfg.DatabaseURL, "database-url", platform.DefaultDatabaseURL, "event store URL (postgres://, or esdb:// / kurrentdb://)")
	l.String(&cfg.ProviderURL, "provider-url", "http://127.0.0.1:8090", "payment provider (simulator) base URL serving GET /v1/ledger; empty: audit money from the payment events alone")
	l.String(&cfg.MailpitURL, "mailpit-url", devinfra.DefaultMailpitAPI, "Mailpit API base URL; empty: do not audit emails")
	l.Duration(&cfg.Quiet, "quiet", 5*time.Second, "how long the store head must stay unmoved before auditing; 0 skips the quiet check")
	l.Duration(&cfg.QuietTimeout, "quiet-timeout", 60*time.Second, "how long to wait for a quiet period before reporting \"not quiet\"")
	l.Duration(&cfg.Timeout, "timeout", 2*time.Minute, "bound on reading the store, ledger and mailbox")
	l.Bool(&cfg.JSON, "json", false, "print the report as JSON")
	return cfg, l.Parse(args)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	store, closeStore, err := platform.OpenStore(ctx, cfg.DatabaseURL, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer closeStore()
	src := audit.Sources{Store: store}
	if cfg.ProviderURL != "" {
		src.Ledger = audit.HTTPLedger{BaseURL: cfg.ProviderURL}
	}
	if cfg.MailpitURL != "" {
		src.Mailbox = audit.Mailpit{BaseURL: cfg.MailpitURL}
	}
	var notQuiet *audit.Violation
	if cfg.Quiet > 0 {
		if notQuiet, err = audit.Quiet(ctx, store, cfg.Quiet, cfg.QuietTimeout, 0); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	rep, err := audit.Run(ctx, src)
	if err != nil {
		return err
	}
	if notQuiet != nil {
		rep.Violations = append([]audit.Violation{*notQuiet}, rep.Violations...)
	}
	if err := write(stdout, rep, cfg.JSON); err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("%w: %d", errViolations, len(rep.Violations))
	}
	return nil
}

func write(w io.Writer, rep audit.Report, asJSON bool) error {
	if !asJSON {
		return rep.WriteText(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		OK bool `json:"ok"`
		audit.Report
	}{rep.OK(), rep})
}
