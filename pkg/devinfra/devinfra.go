// Package devinfra finds, or starts, the PostgreSQL and Redis servers that ordo
// needs on a developer's machine or in CI.
//
// A server that already answers at the configured URL is used as it is. When
// nothing answers and the URL points at a loopback address, devinfra starts a
// private instance on that port from locally installed binaries (installing
// them with apt-get when running as root on Debian or Ubuntu), keeps its data
// under a state directory between runs, and stops only what it started.
// Servers on other hosts are never started or touched.
package devinfra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
)

// Defaults used when Config leaves a URL empty; they match the ports the
// distributions' packages listen on.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
)

// defaultStartTimeout bounds how long a freshly started server may take to
// accept connections.
const defaultStartTimeout = 60 * time.Second

// Config says where the servers are expected and where private instances keep
// their data.
type Config struct {
	DatabaseURL string        // PostgreSQL URL; DefaultDatabaseURL when empty
	RedisURL    string        // Redis URL; DefaultRedisURL when empty
	StateDir    string        // data of private instances; DefaultStateDir() when empty
	Log         *slog.Logger  // progress lines; discarded when nil
	Output      io.Writer     // output of package installs; os.Stderr when nil
	Timeout     time.Duration // how long a started server may take to get ready; 60s when zero
}

// Env is the outcome of Ensure: URLs that answer, and the private instances
// that Ensure started for them.
type Env struct {
	DatabaseURL string
	RedisURL    string

	log     *slog.Logger
	started []instance
}

// instance is a private server that Ensure started and Stop ends.
type instance interface {
	name() string
	stop(ctx context.Context) error
}

// Ensure makes PostgreSQL and Redis reachable at the configured URLs. If the
// second server cannot be provided, the first is stopped again if Ensure
// started it.
func Ensure(ctx context.Context, cfg Config) (*Env, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	env := &Env{DatabaseURL: cfg.DatabaseURL, RedisURL: cfg.RedisURL, log: cfg.Log}
	inst := &installer{log: cfg.Log, out: cfg.Output}
	pg, err := ensurePostgres(ctx, cfg, inst)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	env.add(pg)
	rd, err := ensureRedis(ctx, cfg, inst)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("redis: %w", err), env.Stop(context.WithoutCancel(ctx)))
	}
	env.add(rd)
	return env, nil
}

// Stop ends the private instances that Ensure started, in reverse order.
// Servers that were found running are left alone.
func (e *Env) Stop(ctx context.Context) error {
	var errs []error
	for i := len(e.started) - 1; i >= 0; i-- {
		in := e.started[i]
		e.log.Info(in.name() + ": stopping private instance")
		if err := in.stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", in.name(), err))
		}
	}
	e.started = nil
	return errors.Join(errs...)
}

// Started reports whether Ensure started any private instance.
func (e *Env) Started() bool { return len(e.started) > 0 }

func (e *Env) add(in instance) {
	if in != nil {
		e.started = append(e.started, in)
	}
}

func (c Config) withDefaults() (Config, error) {
	if c.DatabaseURL == "" {
		c.DatabaseURL = DefaultDatabaseURL
	}
	if c.RedisURL == "" {
		c.RedisURL = DefaultRedisURL
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Output == nil {
		c.Output = os.Stderr
	}
	if c.Timeout == 0 {
		c.Timeout = defaultStartTimeout
	}
	if c.StateDir == "" {
		dir, err := DefaultStateDir()
		if err != nil {
			return c, err
		}
		c.StateDir = dir
	}
	return c, nil
}
