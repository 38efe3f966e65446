// Command provider-sim runs the payment provider simulator: an in-memory
// ledger of charges and refunds keyed by idempotency key, with fault
// injection (declines, server errors, latency, lost responses) that can be
// changed at run time through PUT /v1/faults.
//
//	POST /v1/charges  {"idempotency_key","amount":{"amount","currency"}}  → 201 charge (same key: same charge; other amount: 422)
//	GET  /v1/charges?idempotency_key=K                                   → 200 charge, or 404
//	POST /v1/refunds  {"idempotency_key","charge_id"}                     → 201 refund (once per charge)
//	GET  /v1/ledger                                                      → every charge and refund
//	GET|PUT /v1/faults {"decline_rate","error_rate","latency_ms","lost_response_rate"}  (PUT: omitted knobs keep their value; bad → 400)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ordo-platform/ordo/pkg/config"
	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/payment/internal/providersim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "provider-sim:", err)
		os.Exit(1)
	}
}

// settings is the simulator's one config struct.
type settings struct {
	HTTPAddr string
	Seed     int
	Faults   providersim.Faults
	MaxHang  time.Duration
	LogLevel string
}

func load(args []string, getenv func(string) string, out io.Writer) (settings, *config.Loader, error) {
	var s settings
	l := config.New("provider-sim", "ORDO_PROVIDER_SIM_", getenv)
	l.SetOutput(out)
	l.String(&s.HTTPAddr, "http-addr", "127.0.0.1:8090", "address to serve HTTP on")
	l.Int(&s.Seed, "seed", 0, "seed of the fault dice (0: a random seed, logged)")
	l.Float(&s.Faults.DeclineRate, "decline-rate", 0, "share of new charges declined (0..1)")
	l.Float(&s.Faults.ErrorRate, "error-rate", 0, "share of requests answered 500/503 without acting (0..1)")
	l.Int(&s.Faults.LatencyMS, "latency-ms", 0, "delay of every provider answer, in milliseconds")
	l.Float(&s.Faults.LostResponseRate, "lost-response-rate", 0, "share of charges/refunds made whose answer is lost (0..1)")
	l.Duration(&s.MaxHang, "max-hang", 30*time.Second, "longest a lost answer keeps its connection hanging")
	l.String(&s.LogLevel, "log-level", "info", "debug, info, warn or error")
	if err := l.Parse(args); err != nil {
		return s, l, err
	}
	if err := s.Faults.Validate(); err != nil {
		return s, l, err
	}
	return s, l, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, l, err := load(args, getenv, stdout)
	if err != nil {
		return err
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("log-level %q: %w", cfg.LogLevel, err)
	}
	log := slog.New(tracing.LogHandler(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: lv})))
	seed := uint64(cfg.Seed) //nolint:gosec // any int is a valid seed: a negative one maps one-to-one onto the upper half of uint64
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	log.Info("config", "settings", l, "seed", seed)
	stopTracing, err := tracing.Setup(ctx, "provider-sim")
	if err != nil {
		return err
	}
	defer func() {
		if err := stopTracing(context.WithoutCancel(ctx)); err != nil {
			log.Warn("traces not flushed", "err", err)
		}
	}()
	sim, err := providersim.New(providersim.Options{Seed: seed, Faults: cfg.Faults, MaxHang: cfg.MaxHang})
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); sim.Close() }() // release hanging answers so shutdown is prompt
	err = web.Serve(ctx, sim.Handler(log), cfg.HTTPAddr, func(a net.Addr) { log.Info("listening", "addr", a.String()) })
	log.Info("stopped")
	return err
}
