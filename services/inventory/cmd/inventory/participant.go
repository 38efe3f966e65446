package main

import (
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/inventory/internal/app"
	"github.com/ordo-platform/ordo/services/inventory/internal/participant"
)

// startParticipant runs inventory's part of the fulfilment saga in the
// background, restarting it from its checkpoint after a failure. The
// returned func stops it and waits; the check reports whether it runs.
func startParticipant(store es.Store, rdb *redis.Client, svc *app.Service, lot *park.Lot, cfg Config, log *slog.Logger) (web.Check, func()) {
	p := participant.New(store, svc, participant.Options{
		Checkpoints: platform.Checkpoints(store, rdb, cfg.RedisPrefix), TTL: cfg.ReservationTTL, Log: log,
		Park: lot, Reject: skus(cfg.RejectSKUs),
	})
	check, stop := platform.Supervise("saga-participant", "saga participant", p.Run, log)
	return check, stop
}

// skus splits a comma-separated list, dropping blanks.
func skus(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
