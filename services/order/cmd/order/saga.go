package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/order/internal/saga"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// startSaga runs the order-fulfilment saga in the background, restarting
// it (from its checkpoint, re-arming its deadlines) after a failure. The
// returned func stops it and waits; the check reports whether it runs.
func startSaga(store es.Store, rdb *redis.Client, orders saga.Orders, cfg Config, log *slog.Logger) (*saga.Runner, web.Check, func()) {
	runner := saga.New(store, orders, saga.Options{
		Checkpoints: checkpoints(store, rdb, cfg.RedisPrefix),
		Policy:      flow.Policy{ReservationTimeout: cfg.ReserveTimeout, PaymentTimeout: cfg.PaymentTimeout},
		Log:         log,
	})
	var running atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			running.Store(true)
			err := runner.Run(ctx)
			running.Store(false)
			if ctx.Err() != nil {
				return
			}
			log.Error("saga stopped; restarting from its checkpoint", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	})
	check := web.Check{Name: "saga", Run: func(context.Context) error {
		if !running.Load() {
			return errors.New("saga is not running; restarting after an error")
		}
		return nil
	}}
	return runner, check, func() { cancel(); wg.Wait() }
}

// checkpoints keeps the saga's checkpoint in the event store's database,
// or in Redis for a store without a checkpoint table (KurrentDB).
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
