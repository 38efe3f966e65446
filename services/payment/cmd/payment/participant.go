package main

import (
	"context"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/services/payment/internal/app"
	"github.com/ordo-platform/ordo/services/payment/internal/participant"
)

// sagaParticipant returns payment's part of the fulfilment saga as a
// background task (restarted by platform.Supervise from its checkpoint).
func sagaParticipant(store es.Store, rdb *redis.Client, svc *app.Service, lot *park.Lot, cfg settings, log *slog.Logger) func(context.Context) error {
	p := participant.New(store, svc, participant.Options{
		Checkpoints: platform.Checkpoints(store, rdb, cfg.RedisPrefix), ReconcileEvery: cfg.ReconcileEvery, Log: log,
		Park: lot,
	})
	return p.Run
}
