package devinfra

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// probeTimeout bounds one attempt to reach a server.
const probeTimeout = 2 * time.Second

// errNoAnswer means nothing accepts TCP connections at an address.
var errNoAnswer = errors.New("nothing answers")

// ensurePostgres uses the server at cfg.DatabaseURL or starts a private one.
// It returns the started instance, or nil when the server was found running.
func ensurePostgres(ctx context.Context, cfg Config, inst *installer) (instance, error) {
	ep, err := parsePostgresURL(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	err = probePostgres(ctx, cfg.DatabaseURL, ep)
	switch {
	case err == nil:
		cfg.Log.Info("postgres: found at " + ep.addr())
		return nil, ensureDatabase(ctx, cfg, ep)
	case !errors.Is(err, errNoAnswer):
		return nil, err
	case !ep.loopback():
		return nil, remoteError("ORDO_DATABASE_URL", cfg.DatabaseURL, err)
	}
	p, err := startPostgres(ctx, cfg, ep, inst)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// probePostgres returns nil when the server answers and knows the database,
// wraps errNoAnswer when nothing listens, and otherwise says why the server
// that listens cannot be used.
func probePostgres(ctx context.Context, rawURL string, ep endpoint) error {
	if err := dialable(ctx, ep); err != nil {
		return err
	}
	conn, err := connectPostgres(ctx, rawURL)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" {
			return nil // the server answers; ensureDatabase creates the database
		}
		return fmt.Errorf("a server listens at %s but connecting to %s failed: %w", ep.addr(), redact(rawURL), err)
	}
	return conn.Close(ctx)
}

// dialable wraps errNoAnswer when no TCP listener accepts at the endpoint.
func dialable(ctx context.Context, ep endpoint) error {
	d := net.Dialer{Timeout: probeTimeout}
	c, err := d.DialContext(ctx, "tcp", ep.addr())
	if err != nil {
		return fmt.Errorf("%w at %s: %w", errNoAnswer, ep.addr(), err)
	}
	return c.Close()
}

func connectPostgres(ctx context.Context, rawURL string) (*pgx.Conn, error) {
	cc, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", redact(rawURL), err)
	}
	cc.ConnectTimeout = probeTimeout
	ctx, cancel := context.WithTimeout(ctx, 2*probeTimeout)
	defer cancel()
	return pgx.ConnectConfig(ctx, cc)
}

// ensureDatabase creates the URL's database when it does not exist yet.
func ensureDatabase(ctx context.Context, cfg Config, ep endpoint) error {
	if ep.database == "postgres" {
		return nil
	}
	admin, err := withDatabase(cfg.DatabaseURL, "postgres")
	if err != nil {
		return err
	}
	conn, err := connectPostgres(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to create database %s: %w", ep.database, err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	created, err := createDatabase(ctx, conn, ep.database)
	if err != nil {
		return err
	}
	if created {
		cfg.Log.Info("postgres: created database " + ep.database)
	}
	return nil
}

// createDatabase creates name unless it exists; a concurrent creator wins
// quietly.
func createDatabase(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	var exists bool
	err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil || exists {
		return false, wrapIf(err, "look up database "+name)
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" {
		return false, nil
	}
	return err == nil, wrapIf(err, "create database "+name)
}

func wrapIf(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// remoteError explains that devinfra never starts a server on another host.
func remoteError(envVar, rawURL string, err error) error {
	return fmt.Errorf("%w (%s); ordo starts private servers only on loopback addresses, so start that server or point %s at one that runs",
		err, redact(rawURL), envVar)
}
