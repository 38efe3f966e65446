package platform

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
)

// Checkpoints returns where a service's subscribers keep their checkpoints:
// the event store's own checkpoint table when the store is PostgreSQL, else
// Redis under prefix+"checkpoint:"+name (KurrentDB has no table for them).
func Checkpoints(store es.Store, rdb *redis.Client, prefix string) es.Checkpoints {
	if ps, ok := store.(*postgres.Store); ok {
		return ps.Checkpoints()
	}
	return RedisCheckpoints{RDB: rdb, Prefix: prefix}
}

// RedisCheckpoints keeps checkpoints in Redis, one string key each.
type RedisCheckpoints struct {
	RDB    *redis.Client
	Prefix string
}

var _ es.Checkpoints = RedisCheckpoints{}

// Load implements es.Checkpoints.
func (c RedisCheckpoints) Load(ctx context.Context, name string) (es.Position, error) {
	s, err := c.RDB.Get(ctx, c.Prefix+"checkpoint:"+name).Result()
	if errors.Is(err, redis.Nil) {
		return es.Start, nil
	}
	if err != nil {
		return es.Start, fmt.Errorf("load checkpoint %s: %w", name, err)
	}
	return es.ParsePosition(s)
}

// Save implements es.Checkpoints.
func (c RedisCheckpoints) Save(ctx context.Context, name string, p es.Position) error {
	if err := c.RDB.Set(ctx, c.Prefix+"checkpoint:"+name, p.String(), 0).Err(); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", name, err)
	}
	return nil
}
