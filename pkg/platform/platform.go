// Package platform opens what every ordo service stands on: the event store
// chosen by its URL (PostgreSQL by default, KurrentDB for esdb:// and
// kurrentdb:// URLs) and Redis.
package platform

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/kurrent"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/metrics"
)

// Defaults that work on a developer machine.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/ordo?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
)

// OpenStore opens the event store at url and returns it with its closer.
// A PostgreSQL store is migrated on open. Its appends are recorded on the
// process's metrics registry.
func OpenStore(ctx context.Context, url string, log *slog.Logger) (es.Store, func(), error) {
	if kurrent.IsURL(url) {
		s, err := kurrent.Open(ctx, url, kurrent.Options{Logger: log})
		if err != nil {
			return nil, nil, fmt.Errorf("open KurrentDB event store: %w", err)
		}
		return observed{Store: s, observe: metrics.ObserveAppend}, func() { _ = s.Close() }, nil
	}
	s, err := postgres.Open(ctx, url, postgres.Options{Log: log, OnAppend: metrics.ObserveAppend})
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}

// observed reports the appends of a store that has no observer of its own.
type observed struct {
	es.Store
	observe func(events int, took time.Duration, err error)
}

func (o observed) Append(ctx context.Context, stream string, expected es.ExpectedVersion, events ...es.EventData) (es.AppendResult, error) {
	start := time.Now()
	res, err := o.Store.Append(ctx, stream, expected, events...)
	o.observe(len(events), time.Since(start), err)
	return res, err
}

// OpenRedis connects to Redis at url and checks that it answers.
func OpenRedis(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	rdb := redis.NewClient(opts)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("connect redis at %s: %w", opts.Addr, err)
	}
	return rdb, nil
}

// WithPoolSize returns a PostgreSQL url whose connection pool holds up to n
// connections, unless url already says (pool_max_conns); any other url,
// a KurrentDB one for instance, comes back as it was. The pool is pgx's
// default size (the CPU count, at least 4) otherwise: a service whose
// handlers mostly wait for commits gains from a few more, but every
// process and replica holds them against the server's max_connections.
func WithPoolSize(url string, n int) string {
	if kurrent.IsURL(url) || strings.Contains(url, "pool_max_conns") {
		return url
	}
	param := "pool_max_conns=" + strconv.Itoa(n)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		if strings.Contains(url, "?") {
			return url + "&" + param
		}
		return url + "?" + param
	case strings.Contains(url, "="): // key=value form
		return url + " " + param
	}
	return url
}
