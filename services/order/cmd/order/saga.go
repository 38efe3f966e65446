package main

import (
	"log/slog"

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
// returned func stops it and waits; the checks report whether it runs.
// With cfg.Saga off the runner only serves its views (they read the
// store), nothing runs and there is no check: orders placed here stay
// pending until a process with the saga on picks them up.
func startSaga(store es.Store, rdb *redis.Client, orders saga.Orders, lot *park.Lot, cfg Config, log *slog.Logger) (*saga.Runner, []web.Check, func()) {
	runner := saga.New(store, orders, saga.Options{
		Checkpoints: platform.Checkpoints(store, rdb, cfg.RedisPrefix),
		Policy:      flow.Policy{ReservationTimeout: cfg.ReserveTimeout, PaymentTimeout: cfg.PaymentTimeout},
		Log:         log,
		Park:        lot,
	})
	if !cfg.Saga {
		log.Warn("the fulfilment saga is off in this process (--saga=false): placed orders wait for a process that runs it")
		return runner, nil, func() {}
	}
	check, stop := platform.Supervise("saga", "saga", runner.Run, log)
	return runner, []web.Check{check}, stop
}
