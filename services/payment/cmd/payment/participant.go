package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/services/payment/internal/app"
	"github.com/ordo-platform/ordo/services/payment/internal/participant"
)

// sagaParticipant returns payment's part of the fulfilment saga as a
// background task (restarted by background from its checkpoint).
func sagaParticipant(store es.Store, rdb *redis.Client, svc *app.Service, cfg settings, log *slog.Logger) func(context.Context) error {
	p := participant.New(store, svc, participant.Options{
		Checkpoints: checkpoints(store, rdb, cfg.RedisPrefix), ReconcileEvery: cfg.ReconcileEvery, Log: log,
	})
	return p.Run
}

// checkpoints keeps the participant's checkpoint in the event store's
// database, or in Redis for a store without a checkpoint table (KurrentDB).
func checkpoints(store es.Store, rdb *redis.Client, prefix string) es.Checkpoints {
	if ps, ok := store.(*postgres.Store); ok {
		return ps.Checkpoints()
	}
	return redisCheckpoints{rdb: rdb, prefix: prefix}
}

type redisCheckpoints struct {
	rdb    *redis.Client
	prefix string
}

func (c redisCheckpoints) Load(ctx context.Context, name string) (es.Position, error) {
	s, err := c.rdb.Get(ctx, c.prefix+"checkpoint:"+name).Result()
	if errors.Is(err, redis.Nil) {
		return es.Start, nil
	}
	if err != nil {
		return es.Start, fmt.Errorf("load checkpoint %s: %w", name, err)
	}
	return es.ParsePosition(s)
}

func (c redisCheckpoints) Save(ctx context.Context, name string, p es.Position) error {
	if err := c.rdb.Set(ctx, c.prefix+"checkpoint:"+name, p.String(), 0).Err(); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", name, err)
	}
	return nil
}
