// Command ordo-run is `make run`: it builds the ordo binaries, finds or
// starts PostgreSQL, Redis and Mailpit, runs the provider simulator, the
// four services and the gateway on loopback with their logs prefixed, and
// prints the shop's address. Ctrl-C stops everything in reverse order.
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

	"github.com/ordo-platform/ordo/launcher"
	"github.com/ordo-platform/ordo/pkg/config"
	"github.com/ordo-platform/ordo/pkg/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ordo-run:", err)
		os.Exit(1)
	}
}

// settings are the flags; environment variables ORDO_<FLAG> supply their
// defaults, so ORDO_DATABASE_URL and ORDO_REDIS_URL mean what they mean to
// ordo-infra.
type settings struct {
	Ports        string
	DatabaseURL  string
	RedisURL     string
	StateDir     string
	LogLevel     string
	Reset        bool
	Restart      bool
	NoBuild      bool
	SkipBroken   bool
	ReadyTimeout time.Duration
	StopTimeout  time.Duration
}

func load(args []string, getenv func(string) string, out io.Writer) (settings, error) {
	var s settings
	l := config.New("ordo-run", "ORDO_", getenv)
	l.SetOutput(out)
	l.String(&s.Ports, "ports", "default", "default (gateway 8080, order 8081, inventory 8082, payment 8083, notify 8084, provider 8090, Mailpit 1025/8025), free, or a base port")
	l.String(&s.DatabaseURL, "database-url", platform.DefaultDatabaseURL, "PostgreSQL URL naming the platform's database (created when missing, kept between runs)")
	l.String(&s.RedisURL, "redis-url", platform.DefaultRedisURL, "Redis URL; every service's keys start with ordo:<service>:")
	l.String(&s.StateDir, "state-dir", "", "data of private servers (default .ordo/ in the repository root)")
	l.String(&s.LogLevel, "log-level", "info", "log level of every child: debug, info, warn or error")
	l.Bool(&s.Reset, "reset", false, "drop the database and delete each service's ordo:<service>: Redis keys before starting (a fresh shop)")
	l.Bool(&s.Restart, "restart", false, "restart a child that exits unexpectedly instead of stopping everything")
	l.Bool(&s.NoBuild, "no-build", false, "run the binaries already in bin/")
	l.Bool(&s.SkipBroken, "skip-broken", false, "skip a binary that does not compile instead of failing")
	l.Duration(&s.ReadyTimeout, "ready-timeout", 90*time.Second, "how long the children may take to answer /readyz")
	l.Duration(&s.StopTimeout, "stop-timeout", 10*time.Second, "how long a child may take to exit after SIGTERM before SIGKILL")
	return s, l.Parse(args)
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	s, err := load(args, getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ports, err := launcher.ParsePorts(s.Ports)
	if err != nil {
		return err
	}
	p, err := launcher.Start(ctx, launcher.Config{
		Ports: ports, DatabaseURL: s.DatabaseURL, RedisURL: s.RedisURL, StateDir: s.StateDir,
		LogLevel: s.LogLevel, Reset: s.Reset, Restart: s.Restart, NoBuild: s.NoBuild, SkipBroken: s.SkipBroken,
		ReadyTimeout: s.ReadyTimeout, StopTimeout: s.StopTimeout,
		Output: os.Stdout, Color: launcher.IsTerminal(os.Stdout, getenv),
	})
	if err != nil {
		return err
	}
	banner(os.Stdout, p)
	return waitAndStop(ctx, p)
}

// waitAndStop runs until Ctrl-C or a child's unexpected exit, then stops
// everything; the exit is the error that makes the process exit non-zero.
func waitAndStop(ctx context.Context, p *launcher.Platform) error {
	var failure error
	select {
	case <-ctx.Done():
		fmt.Println("\nordo-run: stopping (Ctrl-C again does not hurry it; it ends each child within the stop timeout)")
	case ex := <-p.Failed():
		failure = ex
		fmt.Fprintf(os.Stderr, "\nordo-run: %s exited unexpectedly (%s); stopping the rest\n", ex.Name, ex.How)
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	return errors.Join(failure, p.Stop(stopCtx))
}

func banner(w io.Writer, p *launcher.Platform) {
	_, _ = fmt.Fprintf(w, `
ordo is running
  shop      %s/
  mailpit   %s/  (the mail the shop sends)
  logins    alice/demo and bob/demo (customers), admin/demo (admin)
`, p.GatewayURL, p.MailpitAPI)
	for name, why := range p.Skipped {
		_, _ = fmt.Fprintf(w, "  missing   %s: %s\n", name, why)
	}
	_, _ = fmt.Fprintln(w, "Ctrl-C stops everything. `make run ARGS=-reset` starts a fresh shop.")
}
