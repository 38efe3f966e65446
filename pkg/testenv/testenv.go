// Package testenv gives each test its own PostgreSQL database and its own
// Redis key prefix on the servers that `make test` (or `ordo-infra ensure`)
// provides, and removes them when the test ends.
//
// A test that needs a server fails, never skips, when the server is missing:
// a green run must mean the database code really ran.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/devinfra"
)

// timeout bounds each administrative step (connect, create, drop, scan).
const timeout = 30 * time.Second

// howToStart is appended to every "server unreachable" failure.
const howToStart = "run the tests with `make test`, or start the servers with `go run ./pkg/cmd/ordo-infra ensure` and export the variables it prints"

// Database creates a fresh, empty database on the server at
// ORDO_DATABASE_URL and returns a URL to it. The database is dropped when the
// test and its subtests have finished.
func Database(t testing.TB) string {
	t.Helper()
	base := envOr("ORDO_DATABASE_URL", devinfra.DefaultDatabaseURL)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL at %s is not reachable: %v\n%s", redact(base), err, howToStart)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	name := "ordo_t_" + randomHex(t)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, base, name) })
	u, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return u
}

// dropDatabase removes a test database, ending any connection the test left
// open.
func dropDatabase(t testing.TB, base, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Errorf("testenv: drop database %s: %v", name, err)
		return
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("testenv: drop database %s: %v", name, err)
	}
}

// Redis returns a client for the server at ORDO_REDIS_URL and a key prefix
// ("ordo:t:<hex>:") that no other test uses. Keys under the prefix are
// deleted and the client is closed when the test and its subtests have
// finished.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	raw := envOr("ORDO_REDIS_URL", devinfra.DefaultRedisURL)
	opts, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatalf("testenv: ORDO_REDIS_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := redis.NewClient(opts)
	if err := ping(ctx, c, opts.Network, opts.Addr); err != nil {
		_ = c.Close()
		t.Fatalf("testenv: Redis at %s is not reachable: %v\n%s", redact(raw), err, howToStart)
	}
	prefix := "ordo:t:" + randomHex(t) + ":"
	t.Cleanup(func() {
		deleteKeys(t, c, prefix)
		_ = c.Close()
	})
	return c, prefix
}

// ping fails fast when nothing listens, before the client's retries and
// their log lines.
func ping(ctx context.Context, c *redis.Client, network, addr string) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return err
	}
	_ = conn.Close()
	return c.Ping(ctx).Err()
}

// deleteKeys unlinks every key that starts with prefix. The prefix holds
// only hex digits and colons, so it needs no glob escaping.
func deleteKeys(t testing.TB, c *redis.Client, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			unlink(ctx, t, c, batch)
			batch = batch[:0]
		}
	}
	unlink(ctx, t, c, batch)
	if err := iter.Err(); err != nil {
		t.Errorf("testenv: scan keys %s*: %v", prefix, err)
	}
}

func unlink(ctx context.Context, t testing.TB, c *redis.Client, keys []string) {
	t.Helper()
	if len(keys) == 0 {
		return
	}
	if err := c.Unlink(ctx, keys...).Err(); err != nil {
		t.Errorf("testenv: unlink %d keys: %v", len(keys), err)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// randomHex is 16 hex digits: enough that parallel tests and runs never meet.
func randomHex(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testenv: random name: %v", err)
	}
	return hex.EncodeToString(b)
}

// withDatabase returns raw with its path replaced by the database name.
func withDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parse ORDO_DATABASE_URL: %w", err)
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String(), nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}
