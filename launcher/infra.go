package launcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/devinfra"
)

// infra is what the platform runs on: PostgreSQL, Redis and Mailpit, found
// or started by devinfra. Stop ends only what was started here.
type infra struct {
	env  *devinfra.Env
	mail *devinfra.Mailpit
}

// ensureInfra finds or starts the servers, creates the database (devinfra
// does that for a URL that names one) and, with cfg.Reset, empties the
// platform's database and Redis keys first.
func ensureInfra(ctx context.Context, cfg Config, log *slog.Logger) (*infra, error) {
	env, err := devinfra.Ensure(ctx, devinfra.Config{
		DatabaseURL: cfg.DatabaseURL, RedisURL: cfg.RedisURL, StateDir: cfg.StateDir, Log: log, Output: cfg.Output,
	})
	if err != nil {
		return nil, err
	}
	in := &infra{env: env}
	if cfg.Reset {
		if err := reset(ctx, cfg, log); err != nil {
			return nil, errors.Join(err, in.stop(context.WithoutCancel(ctx)))
		}
	}
	in.mail, err = devinfra.EnsureMailpit(ctx, devinfra.MailpitConfig{
		SMTPAddr: cfg.MailpitSMTP, APIURL: cfg.MailpitAPI, StateDir: cfg.StateDir, Log: log, Output: cfg.Output,
	})
	if err != nil {
		return nil, errors.Join(err, in.stop(context.WithoutCancel(ctx)))
	}
	return in, nil
}

// stop ends the private servers started for this run, Mailpit first.
func (in *infra) stop(ctx context.Context) error {
	var errs []error
	if in.mail != nil {
		errs = append(errs, in.mail.Stop(ctx))
	}
	return errors.Join(append(errs, in.env.Stop(ctx))...)
}

// reset drops and re-creates the platform's database and deletes every
// Redis key under each child's prefix, so the next start is a fresh shop.
func reset(ctx context.Context, cfg Config, log *slog.Logger) error {
	name, err := dropDatabase(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	log.Info("reset: dropped and re-created database " + name)
	// Only the prefixes handed to children: "ordo:t:<hex>:" keys of tests
	// running meanwhile share the "ordo:" start and must survive.
	for _, s := range children {
		prefix := cfg.RedisPrefix + s.name + ":"
		n, err := deleteKeys(ctx, cfg.RedisURL, prefix)
		if err != nil {
			return err
		}
		if n > 0 {
			log.Info(fmt.Sprintf("reset: deleted %d Redis keys under %q", n, prefix))
		}
	}
	return nil
}

// dropDatabase drops the URL's database, ending its sessions, and creates
// it empty again. validate has made sure it is not "postgres".
func dropDatabase(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("reset: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return "", fmt.Errorf("reset: connect to %s: %w", u.Redacted(), err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("reset: drop database %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", fmt.Errorf("reset: create database %s: %w", name, err)
	}
	return name, nil
}

// deleteKeys removes every key under prefix with SCAN, never KEYS, so a
// big Redis is not blocked.
func deleteKeys(ctx context.Context, raw, prefix string) (int, error) {
	opts, err := redis.ParseURL(raw)
	if err != nil {
		return 0, fmt.Errorf("reset: redis URL: %w", err)
	}
	rdb := redis.NewClient(opts)
	defer func() { _ = rdb.Close() }()
	n := 0
	iter := rdb.Scan(ctx, 0, escapeGlob(prefix)+"*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
				return n, fmt.Errorf("reset: unlink: %w", err)
			}
			n, batch = n+len(batch), batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return n, fmt.Errorf("reset: scan %s*: %w", prefix, err)
	}
	if len(batch) > 0 {
		if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
			return n, fmt.Errorf("reset: unlink: %w", err)
		}
	}
	return n + len(batch), nil
}

// escapeGlob quotes the characters SCAN MATCH treats specially.
func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}
