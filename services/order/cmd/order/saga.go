package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/order/internal/saga"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// startSaga runs the order-fulfilment saga in the background, restarting
// it (from its checkpoint, re-arming its deadlines) after a failure. The
// returned func stops it and waits; the check reports whether it runs.
func startSaga(store es.Store, rdb *redis.Client, orders saga.Orders, lot *park.Lot, cfg Config, log *slog.Logger) (*saga.Runner, web.Check, func()) {
	runner := saga.New(store, orders, saga.Options{
		Checkpoints: platform.Checkpoints(store, rdb, cfg.RedisPrefix),
		Policy:      flow.Policy{ReservationTimeout: cfg.ReserveTimeout, PaymentTimeout: cfg.PaymentTimeout},
		Log:         log,
		Park:        lot,
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
